"""The helpers of ``examples/ttbar_srgn_oracle.py`` (does reweighting on x_G carry m_t to
the detector level? docs/fits.md tt̄ SRGN item 10): weighted means with their errors (the
closure script's), the χ² and the per-feature closure. Exact inputs, so each value is
known in closed form."""

from __future__ import annotations

import numpy as np
import pytest
from example_modules import example_module


@pytest.fixture(scope="module")
def oracle():
    return example_module("ttbar_srgn_oracle")


def test_weighted_means_is_the_ratio_estimator(oracle):
    x = np.array([[1.0], [3.0]])
    # unit weights: the mean and σ/√n with the population σ (1) → 1/√2
    mean, error = oracle.weighted_means(x, np.ones(2))
    assert mean == pytest.approx([2.0]) and error == pytest.approx([1 / np.sqrt(2)])
    # weights 1 and 3: mean 2.5; sqrt(1·1.5² + 9·0.5²) / 4 = sqrt(4.5) / 4
    mean, error = oracle.weighted_means(x, np.array([1.0, 3.0]))
    assert mean == pytest.approx([2.5]) and error == pytest.approx([np.sqrt(4.5) / 4])


def test_closure_row_measures_how_far_the_weights_move_each_mean(oracle):
    simulation = np.array([[0.0, 0.0], [2.0, 4.0]])
    nominal = oracle.weighted_means(simulation, np.ones(2))  # means (1, 2)
    target = (np.array([1.5, 3.0]), np.array([0.0, 0.0]))  # shifts (0.5, 1)
    # weights 1 and 3 move the means to (1.5, 3): closure 1 in both, χ² 0
    chi2, cells, neff = oracle.closure_row(simulation, np.array([1.0, 3.0]), nominal, target)
    assert chi2 == pytest.approx(0.0) and [c.split(" ±")[0] for c in cells] == ["1.00", "1.00"]
    assert neff == pytest.approx(16 / 10 / 2)  # (Σw)² / Σw² / N
    # no reweighting: closure 0, χ² = Σ (shift / error)², errors σ/√2 = (1, 2)/√2
    chi2, cells, neff = oracle.closure_row(simulation, np.ones(2), nominal, target)
    errors = np.array([1.0, 2.0]) / np.sqrt(2)
    assert chi2 == pytest.approx(((np.array([0.5, 1.0]) / errors) ** 2).sum())
    assert [c.split(" ±")[0] for c in cells] == ["0.00", "0.00"] and neff == 1.0
