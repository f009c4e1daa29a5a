"""DCTR reweighter and fit against the analytic Gaussian ratio (SRGN paper, Eqs. 3, 10)."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.methods.dctr import DCTRReweighter, dctr_fit
from hepnnlr.tensors import EventTensors


def test_reweighter_matches_analytic_gaussian_weights_over_the_bulk(
    gaussian_reweighter, gaussian_events
):
    rng = np.random.default_rng(3)
    # The network learned the ratio from 20,000 events per class (conftest GAUSS_EVENTS), so
    # its precision is at best that of a sample of that size: compare on samples that size.
    n = 20_000
    target = 1.5
    x0 = rng.normal(0.0, 1.0, n)
    w = gaussian_reweighter.weights(gaussian_events(x0), target)
    # Nominal events reweighted by w vs an independent sample drawn at mu = 1.5, in bins
    # over the bulk: the central 90% of the target (mu -+ 1.645), cut at 2.5 where the
    # nominal sample runs out (1% of its events lie above 2.33). Tolerance from the sample:
    # the per-bin difference must lie within 4 sigma of the combined statistical error,
    # sqrt(sum w^2) of the weighted bin plus the Poisson error of the direct one.
    x1 = rng.normal(target, 1.0, n)
    edges = np.linspace(target - 1.645, 2.5, 12)
    reweighted, _ = np.histogram(x0, edges, weights=w)
    sumw2, _ = np.histogram(x0, edges, weights=w**2)
    direct, _ = np.histogram(x1, edges)
    pull = (reweighted - direct) / np.sqrt(sumw2 + direct)
    assert np.all(np.abs(pull) < 4), pull
    # The analytic ratio of Eq. 10 on the same events, within the same bins.
    analytic, _ = np.histogram(x0, edges, weights=np.exp(target * x0 - target**2 / 2))
    assert np.all(np.abs(reweighted - analytic) < 4 * np.sqrt(sumw2)), reweighted - analytic


def test_dctr_fit_recovers_mu_within_the_statistical_error(gaussian_reweighter, gaussian_events):
    rng = np.random.default_rng(5)
    n = 10_000
    data = gaussian_events(rng.normal(1.0, 1.0, n))
    nominal = gaussian_events(rng.normal(0.0, 1.0, n))
    result = dctr_fit(gaussian_reweighter, data, nominal)
    # The fit compares two samples of n events: the mean of a unit Gaussian is known to
    # sqrt(1/n + 1/n) from them; allow 4 of these standard errors.
    assert result.theta["mu"] == pytest.approx(1.0, abs=4 * np.sqrt(2 / n))


def test_theta_outside_the_training_range_needs_extrapolate(gaussian_reweighter, gaussian_events):
    x = gaussian_events(np.linspace(-1, 1, 10))
    with pytest.raises(ConfigError, match="mu=2.5 lies outside the range"):
        gaussian_reweighter.weights(x, 2.5)
    w = gaussian_reweighter.weights(x, 2.5, extrapolate=True)
    assert np.all(np.isfinite(w)) and np.all(w > 0)


def test_bad_inputs_name_the_problem(gaussian_reweighter, gaussian_events):
    with pytest.raises(MissingBranchError, match=r"missing \['x'\]"):
        gaussian_reweighter.weights(gaussian_events(np.zeros(5), name="pt"), 0.5)
    with pytest.raises(ConfigError, match="has 2 value"):
        gaussian_reweighter.weights(gaussian_events(np.zeros(5)), [0.5, 1.0])
    x = gaussian_events(np.zeros(20))
    with pytest.raises(ConfigError, match="varied sample has no parameters"):
        DCTRReweighter.train(x, x)
    with pytest.raises(ConfigError, match="narrow the bounds"):
        dctr_fit(gaussian_reweighter, x, x, bounds={"mu": (-3.0, 1.0)})
    with_theta = EventTensors(None, None, x.globals, (), ("x",),
                              theta=np.zeros((20, 1), np.float32), theta_names=("mu",))
    with pytest.raises(ConfigError, match="nominal sample already carries parameters"):
        DCTRReweighter.train(with_theta, with_theta)
