"""The flat test of a DCTR fit with the covariance of its scan (issue 15): the loss of
Eq. 3 at neighbouring θ is computed on the same events, so its values are correlated, and
a curvature (a second difference) has a far smaller error than independent points give."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import ShapeMismatchError
from hepnnlr.methods.bootstrap import poisson_weights
from hepnnlr.methods.dctr_fits import dctr_scan, loss_covariance
from hepnnlr.methods.fit_quality import flat_reason, local_window, quadratic_curvature


def test_curvature_with_correlated_errors_and_the_window_around_the_minimum():
    # 11 nodes whose values share 99 % of their variance (errors 1e-3 each): 400 draws
    # give the generalized least-squares curvature's spread to 1/sqrt(800) = 3.5 %; its
    # quoted error must match to 20 % (5.7 of those) and its mean the truth to 4 errors
    # of the mean. Treated as independent, the same errors hide the curvature.
    x = np.arange(170.0, 181.0)[:, None]
    truth = 1.35 + 5e-5 * (x[:, 0] - 176.0) ** 2  # curvature 1e-4
    V = 1e-6 * (0.99 + 0.01 * np.eye(11))
    draws = np.random.default_rng(3).multivariate_normal(truth, V, 400)
    fits = [quadratic_curvature(x, v, covariance=V) for v in draws]
    c = np.array([f[0][0] for f in fits])
    error = fits[0][1][0]
    assert c.std(ddof=1) == pytest.approx(error, rel=0.2)
    assert abs(c.mean() - 1e-4) < 4 * error / np.sqrt(400)
    independent = quadratic_curvature(x, draws[0], np.full(11, 1e-3))[1][0]
    assert independent > 5 * error  # measured 10x
    assert flat_reason(["m"], x, draws[0], None, covariance=V) is None
    assert "not significantly curved" in flat_reason(["m"], x, draws[0], np.full(11, 1e-3))
    with pytest.raises(ShapeMismatchError, match="covariance"):
        quadratic_curvature(x, draws[0], covariance=V[:5, :5])


def test_local_window_takes_two_nodes_each_side_of_the_lowest():
    x = np.arange(11.0)[:, None]
    assert local_window(x, (x[:, 0] - 6) ** 2).tolist() == [4, 5, 6, 7, 8]
    assert local_window(x, (x[:, 0] - 10) ** 2).tolist() == [6, 7, 8, 9, 10]  # shifted in
    u, v = (a.ravel() for a in np.meshgrid(np.arange(7.0), np.arange(3.0), indexing="ij"))
    window = local_window(np.c_[u, v], (u - 1) ** 2 + (v - 1) ** 2)
    assert len(window) == 5 * 3 and set(u[window]) == {0, 1, 2, 3, 4}


def _bce(logits: np.ndarray, label: int) -> np.ndarray:
    """Per-event binary cross entropy of sigmoid(logit) (Eq. 3's terms)."""
    z = -logits if label == 1 else logits
    return np.logaddexp(0.0, z)


def test_the_scan_covariance_is_the_spread_of_replicas_of_both_samples(
    gaussian_reweighter, gaussian_events
):
    # Target N(0.5, 1) and nominal N(0, 1), 2,000 events each; the loss at 5 nodes
    # around the truth. The covariance's diagonal is the scan's error squared, and the
    # error of the second difference L(0.3) - 2 L(0.5) + L(0.7) it implies is the spread
    # of that difference over 400 replicas of both samples (Poisson(1) weights on the
    # per-event terms, one network call per node): known to 1/sqrt(800) = 3.5 %, so 15 %
    # is 4 of those. The difference's error is far below what independent nodes would
    # give, and the loss counts as curved there.
    rng = np.random.default_rng(9)
    data = gaussian_events(rng.normal(0.5, 1.0, 2000))
    nominal = gaussian_events(rng.normal(0.0, 1.0, 2000))
    nodes = np.array([0.3, 0.4, 0.5, 0.6, 0.7])
    C = loss_covariance(gaussian_reweighter, data, nominal, nodes[:, None])
    scan = dctr_scan(gaussian_reweighter, data, nominal, {"mu": nodes})
    np.testing.assert_allclose(np.sqrt(np.diag(C)), scan.errors, rtol=1e-6)
    terms = [
        (
            _bce(gaussian_reweighter.logits(data, [m]), 1),
            _bce(gaussian_reweighter.logits(nominal, [m]), 0),
        )
        for m in nodes
    ]
    np.testing.assert_allclose([t.mean() + u.mean() for t, u in terms], scan.values, rtol=1e-5)
    w = np.stack([poisson_weights(2000, b, 1) for b in range(400)])
    v = np.stack([poisson_weights(2000, b, 1, stream=2) for b in range(400)])
    losses = np.array(
        [(w @ t) / w.sum(axis=1) + (v @ u) / v.sum(axis=1) for t, u in terms]
    )  # (nodes, replicas)
    a = np.array([1.0, 0.0, -2.0, 0.0, 1.0])
    assert np.std(a @ losses, ddof=1) == pytest.approx(np.sqrt(a @ C @ a), rel=0.15)
    assert np.sqrt(a @ C @ a) < 0.2 * np.sqrt(a**2 @ np.diag(C))
    assert flat_reason(["mu"], scan.points, scan.flat_values, None, covariance=C) is None
