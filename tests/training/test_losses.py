"""Each response loss is minimized by its statistic (Sec. 3 of the detector-response paper).

The "true mean loss" of Eq. 3.2, E[ℓ(Y, ν)] = ∫ ℓ(y, ν) p(y) dy, is evaluated with the
Keras loss itself: a fine grid of y values with sample weights p(y) Δy (midpoint rule).
The loss is computed in float64, so a smooth expected loss is minimized to ~1e-6 (the
grid's quadrature error is O(Δy²) relative). For MAE and GAE the expected loss on the grid
is piecewise linear with kinks at the grid points, so their minimizer is only known to a
cell, Δy = 2e-3: that is their tolerance. A second group of tests trains a
one-parameter Keras model with Adam on samples, where the tolerances are statistical.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy import optimize, stats

from hepnnlr.errors import ConfigError
from hepnnlr.training.losses import (
    LOSS_KINDS,
    GaussianKernel,
    GeneralizedAbsoluteError,
    LeakyGaussianKernel,
    LossSpec,
)

GAMMA = stats.gamma(2.0)  # k = 2, θ = 1: mode 1, median 1.678..., mean 2
DY = 2e-3


def _grid(dist, lo, hi):
    y = np.arange(lo + DY / 2, hi, DY)
    return y, dist.pdf(y) * DY


GAMMA_GRID = _grid(GAMMA, 0.0, 30.0)  # mass beyond 30: 31 e^-30 ~ 3e-12
NORMAL_GRID = _grid(stats.norm(), -12.0, 12.0)


def _mean_loss(loss, nu: float, grid) -> float:
    y, w = grid
    value = loss(y[:, None], np.full((len(y), 1), nu), sample_weight=w)
    return float(value) * len(y)  # Keras divides the weighted sum by the batch size


def _argmin(loss, grid, lo: float, hi: float) -> float:
    scan = np.linspace(lo, hi, 17)
    values = [_mean_loss(loss, v, grid) for v in scan]
    k = int(np.argmin(values))
    assert 0 < k < len(scan) - 1, "minimum on the edge of the scan"
    result = optimize.minimize_scalar(
        lambda v: _mean_loss(loss, v, grid),
        bounds=(scan[k - 1], scan[k + 1]),
        method="bounded",
        options={"xatol": 1e-7},
    )
    return float(result.x)


def test_mse_mae_minimized_by_mean_and_median_of_gamma():
    assert _argmin(LossSpec("mse").build("float64"), GAMMA_GRID, 0.5, 3.5) == pytest.approx(
        2.0, abs=1e-5
    )
    assert _argmin(LossSpec("mae").build("float64"), GAMMA_GRID, 0.5, 3.5) == pytest.approx(
        GAMMA.median(), abs=DY
    )
    assert GAMMA.median() == pytest.approx(1.678, abs=5e-4)


@pytest.mark.parametrize("h", [0.05, 0.2])
def test_gaussian_kernel_minimized_at_the_smoothed_mode(h):
    # The GK minimizer is the mode of p convolved with N(0, h²). For p(y) = y e^-y the
    # expansion p' + (h²/2) p''' = 0 at y = 1 + δ gives δ = h² (p''(1) = -1/e,
    # p'''(1) = 2/e); the next order is O(h⁴), i.e. < 5% of h² for h <= 0.2.
    nu = _argmin(LossSpec("gk", bandwidth=h).build("float64"), GAMMA_GRID, 0.5, 1.6)
    assert nu - 1.0 == pytest.approx(h * h, rel=0.05)


def test_leaky_kernel_bias_shrinks_as_alpha_goes_to_zero():
    # Fig. 2: with h = 0.1 the LGK minimizer moves from the (smoothed) mode 1 + h² towards
    # the median 1.678 as α grows. Small-α slope: δν ≈ α (1 - 2F(1)) / p_h''(1) =
    # α (4/e - 1) e ≈ 1.28 α, so α = 1e-3 shifts by ~1.3e-3.
    h = 0.1
    alphas = [0.0, 1e-3, 1e-2, 1e-1, 1.0, 30.0]
    minima = [
        _argmin(LossSpec("lgk", bandwidth=h, leakiness=a).build("float64"), GAMMA_GRID, 0.5, 2.5)
        for a in alphas
    ]
    assert minima[0] == pytest.approx(1.0 + h * h, rel=0.002)
    assert np.all(np.diff(minima) > 0)  # bias grows monotonically with α
    assert minima[1] - minima[0] == pytest.approx(1.28e-3, rel=0.1)
    assert minima[-1] == pytest.approx(GAMMA.median(), abs=0.02)  # α → ∞: the median


@pytest.mark.parametrize("q", [0.16, 0.5, 0.84])
def test_gae_minimized_at_normal_quantiles(q):
    nu = _argmin(LossSpec("gae", quantile=q).build("float64"), NORMAL_GRID, -2.0, 2.0)
    assert nu == pytest.approx(stats.norm.ppf(q), abs=DY)  # -0.9945, 0, +0.9945


def test_huber_minimizer_solves_the_clipped_residual_equation():
    # Huber's M-estimate solves E[clip(Y - ν, -δ, δ)] = 0; δ = 1 on Gamma(2, 1) lies
    # between the median and the mean.
    delta = 1.0
    y, w = GAMMA_GRID
    root = optimize.brentq(lambda v: np.sum(w * np.clip(y - v, -delta, delta)), 1.0, 3.0)
    nu = _argmin(LossSpec("huber", delta=delta).build("float64"), GAMMA_GRID, 0.5, 3.5)
    assert nu == pytest.approx(root, abs=1e-5)
    assert GAMMA.median() < nu < 2.0


def test_sample_weights_change_the_minimizer():
    # Weighted values {0: w=3, 1: w=1}: weighted median 0, weighted mean 0.25.
    y = np.array([[0.0], [1.0]])
    w = np.array([3.0, 1.0])
    grid = (y[:, 0], w)
    assert _argmin(LossSpec("mse").build("float64"), grid, -0.5, 1.2) == pytest.approx(
        0.25, abs=1e-5
    )
    assert _argmin(LossSpec("gae", quantile=0.5).build("float64"), grid, -0.5, 1.2) == (
        pytest.approx(0.0, abs=1e-5)
    )


@pytest.mark.parametrize(
    ("spec", "target", "tolerance"),
    [
        # n = 40,000 Gamma(2, 1) samples. Standard errors: mean sqrt(2/n) = 0.0071; median
        # 1/(2 p(m) sqrt(n)) = 0.008 (p(1.678) = 0.313); kernel mode (h = 0.2) by the KDE
        # mode formula sqrt(p(1) R(K') / (n h³)) / |p''(1)| = 0.018, plus the known shift
        # h² = 0.04 added to the target. Tolerances: 4 standard errors.
        (LossSpec("mse"), 2.0, 4 * 0.0071),
        (LossSpec("mae"), 1.6783, 4 * 0.008),
        (LossSpec("lgk", bandwidth=0.2, leakiness=1e-4), 1.04, 4 * 0.018),
    ],
)
def test_adam_on_a_constant_model_finds_the_statistic(spec, target, tolerance):
    # One trainable bias, full-batch Adam with a decaying rate: a direct optimization of
    # ν through the loss's gradients, as a network's last layer sees them.
    y = np.random.default_rng(7).gamma(2.0, 1.0, 40_000).astype("float32")[:, None]
    keras.utils.set_random_seed(0)
    nu = keras.Variable(np.array([[1.5]], dtype="float32"))
    loss = spec.build()
    opt = keras.optimizers.Adam(
        keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=60, decay_rate=0.3)
    )
    import tensorflow as tf

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            value = loss(y, tf.broadcast_to(nu, y.shape))
        opt.apply_gradients([(tape.gradient(value, nu), nu)])

    for _ in range(300):
        step()
    assert float(nu.numpy()[0, 0]) == pytest.approx(target, abs=tolerance)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "gae", "quantile": 1.0}, "quantile=1.0"),
        ({"kind": "gae", "quantile": -0.2}, "quantile=-0.2"),
        ({"kind": "gk", "bandwidth": 0.0}, "bandwidth=0.0"),
        ({"kind": "lgk", "bandwidth": -1.0}, "bandwidth=-1.0"),
        ({"kind": "lgk", "leakiness": -1e-3}, "leakiness=-0.001"),
        ({"kind": "huber", "delta": 0}, "delta=0"),
        ({"kind": "mode"}, "kind='mode'"),
    ],
)
def test_bad_loss_parameters_raise_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        LossSpec(**kwargs)


def test_loss_classes_validate_too():
    with pytest.raises(ConfigError, match="bandwidth"):
        GaussianKernel(bandwidth=-0.1)
    with pytest.raises(ConfigError, match="quantile"):
        GeneralizedAbsoluteError(quantile=0.0)


@pytest.mark.parametrize("kind", LOSS_KINDS)
def test_loss_config_round_trip(kind):
    loss = LossSpec(kind, bandwidth=0.3, leakiness=0.01, quantile=0.84, delta=2.0).build()
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(restored) is type(loss)
    assert restored.get_config() == loss.get_config()
    y = np.array([[0.0], [1.0], [5.0]], dtype="float32")
    p = np.array([[0.5], [0.5], [0.5]], dtype="float32")
    assert float(restored(y, p)) == pytest.approx(float(loss(y, p)), rel=1e-7)


def test_compiled_model_with_leaky_kernel_saves_and_reloads(tmp_path):
    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="adam", loss=LeakyGaussianKernel(bandwidth=0.7, leakiness=0.01))
    model.optimizer.build(model.trainable_variables)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.loss, LeakyGaussianKernel)
    assert loaded.loss.bandwidth == 0.7 and loaded.loss.leakiness == 0.01
    x = np.linspace(-1, 1, 5, dtype="float32")[:, None]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
