"""Coverage of the target bootstrap on the Gaussian DCTR toy (issue 15): independent
samples of one truth, fitted with one frozen reweighter, have pulls of unit width when
divided by their bootstrap errors. Slow: ``python -m pytest -m slow
tests/methods/test_bootstrap_coverage.py``."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hepnnlr.methods.bootstrap import dctr_replicas, poisson_weights
from hepnnlr.methods.dctr_fits import dctr_fit

PARTS = 20
PART_EVENTS = 1000
REPLICAS = 20


@pytest.mark.slow  # ~20 network calls on 24,000 events (and refits): ~15 s of CPU
def test_pulls_of_independent_gaussian_targets_have_unit_width(
    gaussian_reweighter, gaussian_events
):
    # 20 disjoint targets of 1,000 events at mu = 0.5 (one sample cut in parts: each
    # part is the data with weight 1 on its events, 0 elsewhere), each fitted with the
    # same frozen reweighter and nominal sample and bootstrapped with 20 Poisson(1)
    # replicas. The parts share the reweighter's bias, so their fits scatter about their
    # weighted mean by the statistical error alone: chi2 = sum (mu_q - mean)^2 / sigma_q^2
    # follows chi2_19 if the bootstrap error is right. The two-sided 99.8 % range of
    # chi2_19 is [5.4, 43.8]: a bootstrap error off by a factor 1.9 either way fails it.
    # sigma_q's own error (20 replicas: 16 %) widens the law a little; the range keeps
    # that inside. The exact (sandwich) error of a part, 1.054/sqrt(1000) = 0.033 at
    # mu = 0.5 (docs/fits.md), must match the replicas' mean error within 20 %.
    rng = np.random.default_rng(21)
    n = PARTS * PART_EVENTS
    data = gaussian_events(rng.normal(0.5, 1.0, n))
    nominal = gaussian_events(rng.normal(0.0, 1.0, 4000))
    bounds = gaussian_reweighter.theta_range
    center = dctr_fit(gaussian_reweighter, data, nominal, bounds=bounds, xtol=1e-6).theta
    part = np.repeat(np.eye(PARTS), PART_EVENTS, axis=1)  # (parts, events)
    boot = np.stack(
        [part[q] * poisson_weights(n, b, 5) for q in range(PARTS) for b in range(REPLICAS)]
    )
    # a part's error is sqrt(20) times the whole sample's: a window of 25 of the latter
    fits = dctr_replicas(
        gaussian_reweighter,
        data,
        nominal,
        np.vstack([part, boot]),
        center=center,
        bounds=bounds,
        width=25.0,
    )
    mu = fits.theta[:PARTS, 0]
    sigma = fits.theta[PARTS:, 0].reshape(PARTS, REPLICAS).std(axis=1, ddof=1)
    w = 1 / sigma**2
    chi2 = float((w * (mu - (w * mu).sum() / w.sum()) ** 2).sum())
    low, high = stats.chi2.ppf([0.001, 0.999], PARTS - 1)
    assert low < chi2 < high, (chi2, mu.round(3).tolist(), sigma.round(3).tolist())
    assert np.sqrt(np.mean(sigma**2)) == pytest.approx(1.054 / np.sqrt(PART_EVENTS), rel=0.2)
