"""Regression networks ν(x), ensembles and the two routes to the spread."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from hepnnlr.errors import ConfigError, HepnnlrWarning, NonFiniteInputError, ShapeMismatchError
from hepnnlr.training import TrainingConfig
from hepnnlr.training.losses import LossSpec
from hepnnlr.training.regression import (
    MomentSpread,
    QuantileSpread,
    TrainedRegressor,
    robust_scale,
    train_moment_spread,
    train_quantile_spread,
    train_regressor,
    train_regressor_ensemble,
)

N = 20_000
N_TRAIN = 16_000  # 20% validation
FAST = TrainingConfig(epochs=8, batch_size=512, learning_rate=3e-3, patience=3, seed=4)
GAMMA = stats.gamma(2.0)


@pytest.fixture(scope="module")
def independent_gamma():
    """Two features x ~ U(0, 1)² and a target y ~ Gamma(2, 1) independent of them."""
    rng = np.random.default_rng(5)
    return rng.random((N, 2)), rng.gamma(2.0, 1.0, N)


X_EVAL = np.random.default_rng(9).random((200, 2))


@pytest.mark.parametrize(
    ("spec", "truth", "se"),
    [
        # Standard errors with N_TRAIN examples: mean sqrt(2/n); median
        # sqrt(q(1-q)/n) / p(y_q) with q = 0.5, p(1.678) = 0.313. (Quantiles: see the
        # spread test.)
        pytest.param(LossSpec("mse"), 2.0, math.sqrt(2 / N_TRAIN), marks=pytest.mark.slow),
        (LossSpec("mae"), GAMMA.median(), 0.5 / 0.313 / math.sqrt(N_TRAIN)),
    ],
)
def test_regressor_learns_the_statistic_of_an_independent_target(independent_gamma, spec, truth,
                                                                 se):
    x, y = independent_gamma
    reg = train_regressor(x, y, spec, FAST)
    pred = reg.predict(X_EVAL)
    # Averaged over x, a network free to vary with x learns the constant up to the
    # statistical error of the statistic: 5 standard errors. (Pointwise it also fits
    # noise and the last steps' jitter, a few standard errors more.)
    assert pred.mean() == pytest.approx(truth, abs=5 * se)
    assert reg.history["val_loss"], "validation loss recorded"


@pytest.mark.slow
def test_regressor_follows_a_conditional_quantity():
    # y = 3 x1 - x2 + N(0, 0.3²): the median network recovers the linear function. With
    # n = 16,000 the local median error is ~0.3 * 1.25 / sqrt(n_local); a PReLU net of 50 nodes
    # approximates a plane closely. Tolerance 0.1 = a third of the noise width.
    rng = np.random.default_rng(2)
    x = rng.random((N, 2))
    y = 3 * x[:, 0] - x[:, 1] + 0.3 * rng.standard_normal(N)
    reg = train_regressor(x, y, LossSpec("mae"), FAST)
    grid = np.random.default_rng(3).uniform(0.1, 0.9, (200, 2))
    np.testing.assert_allclose(reg.predict(grid), 3 * grid[:, 0] - grid[:, 1], atol=0.1)


def test_quantile_route_gives_sigma(independent_gamma):
    # y ~ N(0, 1): the half 16-84 range is 0.9945 sigma; QuantileSpread.sigma divides by
    # that factor. Each quantile's se: sqrt(q(1-q)/n)/phi(0.9945) = 0.012; 5 se.
    x, _ = independent_gamma
    y = np.random.default_rng(8).standard_normal(N)
    spread = train_quantile_spread(x, y, FAST)
    assert isinstance(spread, QuantileSpread)
    se = math.sqrt(0.84 * 0.16 / N_TRAIN) / stats.norm.pdf(0.9945)
    assert spread.sigma(X_EVAL).mean() == pytest.approx(1.0, abs=5 * se)
    assert spread.half_range(X_EVAL).mean() == pytest.approx(0.9945, abs=5 * se)


@pytest.mark.slow
def test_moment_route_on_a_centred_normal(independent_gamma):
    x, _ = independent_gamma
    y = np.random.default_rng(8).standard_normal(N)
    moments = train_moment_spread(x, y, FAST)
    # E[y²] = 1 with se sqrt(2/n) = 0.011, E[y] = 0 with se 0.008: sigma within 5 se.
    assert np.nanmean(moments.sigma(X_EVAL)) == pytest.approx(1.0, abs=5 * 0.011)
    # A pair whose "second moment" is inconsistent with the first (E[y²]/2 < E[y]² for
    # y ~ N(10, 1)) gives negative variances: NaN sigma and a warning, never a silent 0.
    shifted = MomentSpread(moments.first, moments.first)  # E[y]=0 twice: var = -E[y]^2 <= 0
    with pytest.warns(HepnnlrWarning, match="negative variance"):
        sigma = shifted.sigma(X_EVAL)
    assert np.isnan(sigma).any()


def test_ensemble_averages_distinct_members(independent_gamma, tmp_path):
    x, y = independent_gamma
    config = TrainingConfig(epochs=1, batch_size=512, seed=1)
    spec = LossSpec("lgk", bandwidth=0.3, leakiness=1e-3)
    ens = train_regressor_ensemble(x[:4000], y[:4000], spec, config, members=2, hidden=(8,))
    members = ens.predict_members(X_EVAL)
    assert members.shape == (2, len(X_EVAL))
    assert not np.allclose(members[0], members[1])  # distinct seeds
    np.testing.assert_allclose(ens.predict(X_EVAL), members.mean(axis=0))
    # save and reload: identical outputs, loss spec (with h, α) recovered from the model
    path = ens.members[0].save(tmp_path / "m.keras")
    loaded = TrainedRegressor.load(path)
    np.testing.assert_array_equal(loaded.predict(X_EVAL), members[0])
    assert loaded.loss == spec


def test_robust_scale_ignores_heavy_tails():
    # Half the 16-84 range of a Cauchy sample is tan(0.34 pi) = 1.84, finite although the
    # variance is not; the sample quantile's se at n = 1e5 is ~0.01.
    v = np.random.default_rng(0).standard_cauchy((100_000, 1))
    offset, scale = robust_scale(v, "cauchy")
    assert scale[0] == pytest.approx(math.tan(0.34135 * math.pi), abs=0.05)
    assert offset[0] == pytest.approx(0.0, abs=0.05)


def test_bad_inputs_raise(independent_gamma):
    x, y = independent_gamma
    with pytest.raises(ConfigError, match="negative weight"):
        train_regressor(x, y, LossSpec(), weights=-np.ones(N))
    with pytest.raises(ConfigError, match="constant"):
        train_regressor(np.column_stack([x[:, 0], np.ones(N)]), y, LossSpec())
    with pytest.raises(NonFiniteInputError):
        train_regressor(x, np.where(np.arange(N) == 3, np.nan, y), LossSpec())
    with pytest.raises(ShapeMismatchError):
        train_regressor(x, y[:-1], LossSpec())
    with pytest.raises(ConfigError, match="LossSpec"):
        train_regressor(x, y, "mse")
    with pytest.raises(ConfigError, match="increasing"):
        train_quantile_spread(x, y, quantiles=(0.84, 0.16))
