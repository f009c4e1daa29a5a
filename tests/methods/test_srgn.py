"""SRGN (SRGN paper, Eqs. 4, 5) on the 1-D Gaussian example with detector smearing."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import MissingBranchError, ShapeMismatchError
from hepnnlr.methods.srgn import (
    SRGNConfig,
    SRGNObjective,
    remove_outliers,
    srgn_scan,
    summarize,
)
from hepnnlr.training import TrainingConfig

EPSILON = 0.5  # detector smearing of the paper's Gaussian example


def test_auc_is_lowest_near_the_truth_and_rises_on_both_sides(gaussian_reweighter, gaussian_events):
    rng = np.random.default_rng(7)
    n = 10_000
    x_gen = rng.normal(0.0, 1.0, n)
    x_sim = x_gen + rng.normal(0.0, EPSILON, n)
    data = rng.normal(1.0, 1.0, n) + rng.normal(0.0, EPSILON, n)
    config = SRGNConfig(training=TrainingConfig(epochs=10, batch_size=1000, patience=3))
    objective = SRGNObjective(
        gaussian_reweighter, gaussian_events(x_gen), gaussian_events(x_sim),
        gaussian_events(data), config,
    )
    scan = srgn_scan(objective, {"mu": [0.25, 1.0, 1.75]})
    # At mu' = 1 +- 0.75 the weighted simulation is N(1 -+ 0.75, 1.25): AUC ~ 0.68, while
    # the truth gives 0.5 up to the AUC's statistical error (~0.006 for 5,000 + 5,000
    # held-out events); the rise must exceed 10 of those errors on each side.
    low, mid, high = scan.auc
    assert scan.best == {"mu": 1.0}
    assert mid == pytest.approx(0.5, abs=0.03)
    assert low > mid + 0.06 and high > mid + 0.06


def test_bad_inputs_name_the_problem(gaussian_reweighter, gaussian_events):
    x = gaussian_events(np.zeros(100))
    with pytest.raises(ShapeMismatchError, match="100 events but the simulation-level sample 80"):
        SRGNObjective(gaussian_reweighter, x, gaussian_events(np.zeros(80)), x)
    with pytest.raises(MissingBranchError, match=r"the target data .* \(missing \['x'\]\)"):
        SRGNObjective(gaussian_reweighter, x, x, gaussian_events(np.zeros(100), name="pt"))
    with pytest.raises(MissingBranchError, match="generator-level sample"):
        SRGNObjective(gaussian_reweighter, gaussian_events(np.zeros(100), "y"), x, x)


def test_outlier_rule_drops_bound_hits_and_two_sigma_runs():
    values = {"mu": np.array([1.0, 1.01, 0.99, 1.02, 0.98, 1.0, 1.3, 1.95])}
    keep = remove_outliers(values, {"mu": (-2.0, 2.0)})
    # 1.95 lies within 5% of the range (0.2) of the bound; 1.3 is beyond 2 sigma.
    assert keep.tolist() == [True] * 6 + [False, False]
    (mean, std), = summarize(values, keep).values()
    assert mean == pytest.approx(1.0) and std == pytest.approx(np.std(values["mu"][:6], ddof=1))
