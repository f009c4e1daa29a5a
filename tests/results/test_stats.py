from __future__ import annotations

import hist
import numpy as np
import pytest

from hepnnlr.errors import ShapeMismatchError
from hepnnlr.results.stats import chi2_test, relative_mse, relative_std


def test_relative_metrics_of_the_paper():
    truth = np.array([10.0, 20.0, 0.0])
    passes = np.array([[12.0, 20.0, 1.0], [8.0, 22.0, 1.0]])
    # Eq. 4: ((2^2 + 2^2) / 2) / 10 = 0.4 ; ((0 + 4) / 2) / 20 = 0.1 ; undefined without truth.
    np.testing.assert_allclose(relative_mse(truth, passes)[:2], [0.4, 0.1])
    assert np.isnan(relative_mse(truth, passes)[2])
    # Eq. 5: std 2 / mean 10 ; std 1 / mean 21 ; std 0 / mean 1.
    np.testing.assert_allclose(relative_std(passes), [0.2, 1 / 21, 0.0])
    with pytest.raises(ShapeMismatchError):
        relative_mse(truth[:2], passes)


def test_chi2_of_a_histogram_with_itself_and_with_a_shift():
    rng = np.random.default_rng(0)
    a = hist.Hist(hist.axis.Regular(20, -3, 3), storage=hist.storage.Weight())
    b = a.copy()
    a.fill(rng.normal(0, 1, 20_000))
    b.fill(rng.normal(0, 1, 20_000))
    same = chi2_test(a, b, min_entries=5)
    assert same.pvalue > 1e-3  # two samples of one distribution
    c = a.copy()
    c.reset()
    c.fill(rng.normal(0.2, 1, 20_000))
    assert chi2_test(a, c, min_entries=5).pvalue < 1e-6
