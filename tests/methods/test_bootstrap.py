"""Bootstrap replicas of the target (hepnnlr.methods.bootstrap): Poisson(1) weights, DCTR refits."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.methods.bootstrap import dctr_replicas, poisson_weights, replica_weights
from hepnnlr.methods.dctr_fits import dctr_fit, dctr_loss


def test_replica_weights_are_poisson_one_and_block_seeded():
    n = 200_000
    w = poisson_weights(n, 3, 11)
    assert w.dtype == np.float64 and np.all(w == np.round(w)) and w.min() == 0
    # Poisson(1): mean 1 and variance 1, known to 1/sqrt(n) = 0.0022 and sqrt(3/n) = 0.0039
    # (the fourth central moment is 1 + 3); P(0) = 1/e to sqrt(p(1 - p)/n) = 0.0011.
    # Five of those errors each.
    assert w.mean() == pytest.approx(1.0, abs=0.011)
    assert w.var() == pytest.approx(1.0, abs=0.02)
    assert np.mean(w == 0) == pytest.approx(np.exp(-1), abs=0.0055)
    assert np.mean(w == 2) == pytest.approx(np.exp(-1) / 2, abs=0.0055)
    # Replica b is the same however many replicas are drawn, and from where.
    many = replica_weights(1000, 5, 11)
    np.testing.assert_array_equal(many[3], poisson_weights(1000, 3, 11))
    np.testing.assert_array_equal(replica_weights(1000, 2, 11, first=3), many[3:5])
    assert not np.array_equal(many[0], many[1])
    assert not np.array_equal(poisson_weights(1000, 0, 12), many[0])
    # the simulation's replicas draw from their own streams (seed, b, 1), (seed, b, 2)
    assert not np.array_equal(poisson_weights(1000, 3, 11, stream=1), many[3])
    assert not np.array_equal(
        poisson_weights(1000, 3, 11, stream=1), poisson_weights(1000, 3, 11, stream=2)
    )
    with pytest.raises(ConfigError, match="seed=-1 must be an integer >= 0"):
        poisson_weights(10, 0, -1)
    with pytest.raises(ConfigError, match="replicas=0 must be >= 1"):
        replica_weights(10, 0, 1)


def test_weighted_dctr_loss_equals_the_loss_of_repeated_events(
    gaussian_reweighter, gaussian_events
):
    # Weight 2 on an event counts it twice, weight 0 drops it: the replica's loss is the
    # loss of the resampled data set (to float32 rounding: the network runs in float32).
    rng = np.random.default_rng(8)
    x = rng.normal(0.5, 1.0, 300)
    nominal = gaussian_events(rng.normal(0.0, 1.0, 300))
    w = poisson_weights(300, 0, 5)
    resampled = gaussian_events(np.repeat(x, w.astype(int)))
    assert dctr_loss(gaussian_reweighter, gaussian_events(x), nominal, 0.4, data_weights=w) == (
        pytest.approx(dctr_loss(gaussian_reweighter, resampled, nominal, 0.4), rel=1e-7)
    )
    # the same for the nominal events (a replica of the simulation)
    v = poisson_weights(300, 1, 5)
    repeated = gaussian_events(np.repeat(nominal.globals[:, 0], v.astype(int)))
    assert dctr_loss(gaussian_reweighter, resampled, nominal, 0.4, nominal_weights=v) == (
        pytest.approx(dctr_loss(gaussian_reweighter, resampled, repeated, 0.4), rel=1e-7)
    )
    with pytest.raises(ShapeMismatchError, match="299 weights for 300 events"):
        dctr_loss(gaussian_reweighter, gaussian_events(x), nominal, 0.4, data_weights=w[1:])


def test_dctr_replicas_agree_with_exact_refits_of_the_replicas(
    gaussian_reweighter, gaussian_events
):
    rng = np.random.default_rng(6)
    n = 3000
    data = gaussian_events(rng.normal(0.5, 1.0, n))
    nominal = gaussian_events(rng.normal(0.0, 1.0, n))
    bounds = gaussian_reweighter.theta_range  # mu ~ U[-2, 2] as drawn
    central = dctr_fit(gaussian_reweighter, data, nominal, bounds=bounds, xtol=1e-6)
    weights = replica_weights(n, 40, 3)
    replicas = dctr_replicas(
        gaussian_reweighter, data, nominal, weights, center=central.theta, bounds=bounds
    )
    sigma = replicas.linearized[0]
    # The window's pilot error: the sandwich error of Eq. 3 from the target alone, about
    # 1/sqrt(n) = 0.018 for a target this close to the nominal (docs/fits.md).
    assert 0.012 < sigma < 0.026
    # The same estimator on the unweighted target is the fit itself (interpolation error).
    assert replicas.central[0] == pytest.approx(central.theta["mu"], abs=0.05 * sigma)
    # Each replica's shift equals an exact refit's (Brent on the network) to a few percent
    # of sigma: the cubic interpolation between the 17 nodes (spacing 0.6 sigma).
    for b in range(2):
        exact = dctr_fit(
            gaussian_reweighter, data, nominal, bounds=bounds, xtol=1e-6, data_weights=weights[b]
        )
        assert replicas.shifts[b, 0] == pytest.approx(
            exact.theta["mu"] - central.theta["mu"], abs=0.05 * sigma
        )
    # 40 replicas: their spread estimates sigma to 1/sqrt(80) = 11%; allow 3.5 of those.
    assert replicas.shifts[:, 0].std(ddof=1) == pytest.approx(sigma, rel=0.4)
    assert not replicas.refit.any()
    lo, hi = replicas.window["mu"]
    assert lo < central.theta["mu"] < hi and hi - lo == pytest.approx(10 * sigma, rel=1e-6)
