"""Regression ν(x) of a summary statistic of the response p(y|x), and its ensembles.

Sec. 3 of Cheong, Cukierman, Nachman, Safdari, Schwartzman, "Parametrizing the Detector Response
with Neural Networks", arXiv:1910.03773: a network trained with the loss
of a :class:`~hepnnlr.training.losses.LossSpec` learns the mean, median, mode or a quantile
of ``y`` given a multi-dimensional ``x``. Sec. 4 averages 25 networks per statistic
(:func:`train_regressor_ensemble`). Two routes to the spread of the response are offered,
so that they can be compared as in Sec. 3.4–3.5 and Fig. 5:

* :func:`train_moment_spread` — two MSE networks for E[y|x] and E[y²|x],
  σ = √(E[y²] − E[y]²): a fine cancellation of two large, separately learned numbers, and
  undefined for heavy tails whose variance diverges;
* :func:`train_quantile_spread` — two GAE networks for the 16 % and 84 % quantiles; half
  their difference is the width of the Gaussian core, insensitive to tails.

The network (:func:`build_regressor`): robust input standardization (median and half the
16–84 % range of each feature, a ``Normalization`` layer), dense layers (biases initialized
uniformly in [−1.5, 1.5], so the hinges are spread over the data) with PReLU activations
by default (arXiv:1910.03773: one hidden layer of 50 PReLU nodes), one linear output
mapped back to target units by a ``Rescaling`` layer (median and half 16–84 % range of the
targets), so the saved model takes raw features and returns the statistic in target units.
Robust scales are used because the targets may have tails without a finite variance.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
from scipy.special import ndtri

import hepnnlr.models.serializables  # noqa: F401  (the classes load_model looks up)
from hepnnlr.errors import ConfigError, EmptySelectionError, HepnnlrWarning
from hepnnlr.outputs import atomic_write
from hepnnlr.tensors.checks import check_finite, check_same_length
from hepnnlr.training.config import TrainingConfig
from hepnnlr.training.ensemble import ensemble_configs
from hepnnlr.training.inference import predict_batches
from hepnnlr.training.losses import LossSpec
from hepnnlr.training.setup import (
    build_optimizer,
    dtype_policy,
    early_stopping,
    fit_history,
    strategy_scope,
)

__all__ = [
    "MomentSpread",
    "QuantileSpread",
    "RegressorEnsemble",
    "TrainedRegressor",
    "build_regressor",
    "robust_scale",
    "train_moment_spread",
    "train_quantile_spread",
    "train_regressor",
    "train_regressor_ensemble",
]


def robust_scale(values: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Median and half the 16–84 % range of each column of ``values`` (n, d).

    Raises:
        ConfigError: if a column has no spread (a constant feature cannot be standardized).
    """
    low, median, high = np.percentile(values, [15.865525, 50.0, 84.134475], axis=0)
    scale = 0.5 * (high - low)
    flat = scale <= 0
    if np.any(flat):
        scale = np.where(flat, np.std(values, axis=0), scale)
    if np.any(scale <= 0):
        k = int(np.flatnonzero(scale <= 0)[0])
        raise ConfigError(
            f"{name} column {k} is constant (value {median[k]:g}); a constant input carries "
            "no information and cannot be standardized. Drop it."
        )
    return median, scale


def _as_features(features: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(features, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] < 1:
        raise ConfigError(
            f"{name}: features must have shape (n_events, n_features) (or (n_events,) for "
            f"one feature), got {np.shape(features)}."
        )
    return x


def build_regressor(
    n_features: int,
    *,
    feature_offset: Sequence[float],
    feature_scale: Sequence[float],
    target_offset: float,
    target_scale: float,
    hidden: Sequence[int] = (50,),
    activation: str = "prelu",
    name: str = "regressor",
) -> keras.Model:
    """A fresh MLP ``x (n, n_features) -> ν (n, 1)`` with built-in standardization.

    Args:
        n_features: Number of input features.
        feature_offset, feature_scale: Inputs enter as ``(x - offset) / scale``.
        target_offset, target_scale: The linear output ``o`` becomes ``offset + scale * o``.
        hidden: Hidden layer sizes.
        activation: ``"prelu"`` (a learned slope per node, the choice of arXiv:1910.03773) or any
            Keras activation name.
        name: Model name (characters Keras does not allow become ``_``).
    """
    if not hidden or any(int(s) <= 0 for s in hidden):
        raise ConfigError(f"hidden={tuple(hidden)}: give at least one positive layer size.")
    offset = np.asarray(feature_offset, dtype=np.float64).reshape(-1)
    scale = np.asarray(feature_scale, dtype=np.float64).reshape(-1)
    if offset.shape != (n_features,) or scale.shape != (n_features,):
        raise ConfigError(
            f"feature_offset and feature_scale need {n_features} values each, got "
            f"{offset.shape[0]} and {scale.shape[0]}."
        )
    inputs = keras.Input((n_features,), name="features")
    x = keras.layers.Normalization(mean=offset, variance=scale**2, name="standardize")(inputs)
    for k, size in enumerate(hidden):
        # Biases spread over the standardized data range: with zero biases every PReLU
        # hinge starts at the median of the inputs, and weak-gradient losses (the kernel
        # losses) leave a kink there.
        x = keras.layers.Dense(
            int(size),
            bias_initializer=keras.initializers.RandomUniform(-1.5, 1.5),
            name=f"hidden_{k}",
        )(x)
        if activation == "prelu":
            x = keras.layers.PReLU(name=f"prelu_{k}")(x)
        else:
            x = keras.layers.Activation(activation, name=f"{activation}_{k}")(x)
    out = keras.layers.Dense(1, name="output", dtype="float32")(x)
    out = keras.layers.Rescaling(
        float(target_scale), offset=float(target_offset), name="to_target_units", dtype="float32"
    )(out)
    return keras.Model(inputs, out, name=re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "regressor")


@dataclass
class TrainedRegressor:
    """One trained ν(x).

    Attributes:
        model: Keras model, raw features in, statistic in target units out.
        loss: The loss it was trained with (what it learned).
        history: Per-epoch ``loss`` and ``val_loss``.
        name: Used in messages.
    """

    model: keras.Model
    loss: LossSpec
    history: dict[str, list[float]] = field(default_factory=dict)
    name: str = "regressor"

    def predict(self, features: np.ndarray, batch_size: int = 65_536) -> np.ndarray:
        """ν(x) for each row of ``features``, float64, shape (n,)."""
        x = _as_features(features, self.name)
        if x.shape[1] != self.model.input_shape[-1]:
            raise ConfigError(
                f"{self.name} was trained on {self.model.input_shape[-1]} features, got "
                f"{x.shape[1]}."
            )
        if len(x) == 0:
            return np.zeros(0)
        out = predict_batches(self.model, x.astype(np.float32), batch_size)
        return np.asarray(out, dtype=np.float64).reshape(-1)

    def save(self, path: str | Path) -> Path:
        """Write the model (with its compiled loss) to ``path`` (``.keras``)."""
        path = Path(path)
        if path.suffix != ".keras":
            raise ConfigError(f"save path {str(path)!r} must end in '.keras'.")
        with atomic_write(path) as tmp:  # renamed into place when complete
            self.model.save(tmp)
        return path

    @classmethod
    def load(cls, path: str | Path, name: str = "regressor") -> TrainedRegressor:
        """Read a model written by :meth:`save`; the loss spec is read from its config."""
        import hepnnlr.training.losses as losses

        model = keras.models.load_model(path)
        cfg = model.loss.get_config()
        kind = {
            losses.SquaredError: "mse",
            losses.AbsoluteError: "mae",
            losses.GaussianKernel: "gk",
            losses.LeakyGaussianKernel: "lgk",
            losses.GeneralizedAbsoluteError: "gae",
            losses.HuberError: "huber",
        }[type(model.loss)]
        params = {k: cfg[k] for k in ("bandwidth", "leakiness", "quantile", "delta") if k in cfg}
        return cls(model, LossSpec(kind, **params), {}, name)


def _check_inputs(features, targets, weights, name):
    x = _as_features(features, name)
    y = np.asarray(targets, dtype=np.float64).reshape(-1)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    check_same_length({f"{name} features": x, f"{name} targets": y, f"{name} weights": w})
    check_finite(f"{name} features", x)
    check_finite(f"{name} targets", y)
    check_finite(f"{name} weights", w)
    if np.any(w < 0):
        raise ConfigError(
            f"{name}: {int(np.sum(w < 0))} negative weight(s); a regression loss with "
            "negative weights is unbounded below. Pass non-negative weights."
        )
    if not w.sum() > 0:
        raise EmptySelectionError(f"{name}: the weights sum to {w.sum():g}; nothing to fit.")
    return x, y, w


def train_regressor(
    features: np.ndarray,
    targets: np.ndarray,
    loss: LossSpec,
    config: TrainingConfig = TrainingConfig(),
    *,
    weights: np.ndarray | None = None,
    hidden: Sequence[int] = (50,),
    activation: str = "prelu",
    name: str = "regressor",
) -> TrainedRegressor:
    """Train ν(x) so that it learns the statistic of ``loss`` (Eq. 2.1).

    A random ``config.validation_fraction`` of the examples is held out for early stopping
    (the best validation epoch is kept); the weights are rescaled to mean 1.

    Args:
        features: ``(n, d)`` inputs x (or ``(n,)`` for one feature).
        targets: ``(n,)`` responses y.
        loss: What to learn (mean, median, mode, quantile, Huber).
        config: Optimizer, schedule, epochs, early stopping and seed.
        weights: Optional non-negative per-example weights.
        hidden, activation: Network shape (:func:`build_regressor`).
        name: Used in messages.
    """
    if not isinstance(loss, LossSpec):
        raise ConfigError(f"{name}: loss must be a LossSpec, got {type(loss).__name__}.")
    x, y, w = _check_inputs(features, targets, weights, name)
    n = len(y)
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(n)
    n_val = int(round(config.validation_fraction * n))
    if n_val < 1 or n_val >= n:
        raise EmptySelectionError(
            f"{name}: {n} example(s) cannot be split into training and validation sets "
            f"with validation_fraction={config.validation_fraction}; provide more examples."
        )
    val, train = order[:n_val], order[n_val:]
    w = w / w.mean()
    x_offset, x_scale = robust_scale(x[train], f"{name} features")
    y_offset, y_scale = robust_scale(y[train, None], f"{name} targets")

    keras.utils.set_random_seed(config.seed)
    steps_per_epoch = -(-len(train) // config.batch_size)
    with strategy_scope(config), dtype_policy(config):
        model = build_regressor(
            x.shape[1],
            feature_offset=x_offset,
            feature_scale=x_scale,
            target_offset=float(y_offset[0]),
            target_scale=float(y_scale[0]),
            hidden=hidden,
            activation=activation,
            name=name,
        )
        model.compile(optimizer=build_optimizer(config, steps_per_epoch), loss=loss.build())
    f32 = np.float32
    history = fit_history(
        model,
        x[train].astype(f32),
        y[train, None].astype(f32),
        config=config,
        name=name,
        stop=early_stopping(config),
        sample_weight=w[train].astype(f32),
        validation_data=(x[val].astype(f32), y[val, None].astype(f32), w[val].astype(f32)),
        batch_size=config.batch_size,
        shuffle=True,
    )
    check_finite(f"{name} training loss", np.asarray(history["loss"]))
    return TrainedRegressor(model, loss, history, name)


@dataclass
class RegressorEnsemble:
    """Members trained alike with distinct seeds; ν is their mean (Sec. 4.1, Fig. 4b).

    Attributes:
        members: The trained regressors.
    """

    members: list[TrainedRegressor]

    @property
    def loss(self) -> LossSpec:
        """The loss shared by the members."""
        return self.members[0].loss

    def predict_members(self, features: np.ndarray) -> np.ndarray:
        """``(n_members, n)``: every member's ν(x)."""
        return np.stack([m.predict(features) for m in self.members])

    def predict(self, features: np.ndarray) -> np.ndarray:
        """The ensemble mean of ν(x), shape (n,)."""
        return self.predict_members(features).mean(axis=0)


def train_regressor_ensemble(
    features: np.ndarray,
    targets: np.ndarray,
    loss: LossSpec,
    config: TrainingConfig = TrainingConfig(),
    *,
    members: int = 1,
    weights: np.ndarray | None = None,
    hidden: Sequence[int] = (50,),
    activation: str = "prelu",
    name: str = "regressor",
) -> RegressorEnsemble:
    """Train ``members`` regressors with seeds ``config.seed + 1000 k`` (initialization,
    validation split and batches differ); arXiv:1910.03773 averages 25 (Sec. 4.1)."""
    return RegressorEnsemble(
        [
            train_regressor(
                features,
                targets,
                loss,
                member_config,
                weights=weights,
                hidden=hidden,
                activation=activation,
                name=f"{name}[{k}]",
            )
            for k, member_config in enumerate(ensemble_configs(config, members))
        ]
    )


@dataclass
class MomentSpread:
    """The second-moment route to the spread (Sec. 3.4): σ² = E[y²|x] − E[y|x]².

    Attributes:
        first: Ensemble learning E[y|x] (MSE on y).
        second: Ensemble learning E[y²|x] (MSE on y²).
    """

    first: RegressorEnsemble
    second: RegressorEnsemble

    def variance(self, features: np.ndarray) -> np.ndarray:
        """E[y²|x] − E[y|x]², as learned: may come out negative where the cancellation fails."""
        return self.second.predict(features) - self.first.predict(features) ** 2

    def sigma(self, features: np.ndarray) -> np.ndarray:
        """√variance; NaN where the learned variance is negative, with a warning saying where."""
        var = self.variance(features)
        negative = var < 0
        if np.any(negative):
            warnings.warn(
                f"the second-moment route gave a negative variance for {int(negative.sum())} "
                f"of {len(var)} inputs (smallest {var.min():.3g}); their sigma is NaN. This "
                "is the cancellation of E[y^2] and E[y]^2 arXiv:1910.03773 warns about (Sec. 3.4): "
                "use QuantileSpread.",
                HepnnlrWarning,
                stacklevel=2,
            )
        return np.sqrt(np.where(negative, np.nan, var))


@dataclass
class QuantileSpread:
    """The quantile route to the spread (Sec. 3.5, Fig. 5).

    Attributes:
        low, high: Ensembles learning the ``quantiles[0]`` and ``quantiles[1]`` quantiles.
        quantiles: The two quantile levels (default 0.16 and 0.84).
    """

    low: RegressorEnsemble
    high: RegressorEnsemble
    quantiles: tuple[float, float] = (0.16, 0.84)

    def half_range(self, features: np.ndarray) -> np.ndarray:
        """½ (ν_high − ν_low): the estimate of the core width of
        arXiv:1910.03773 (Fig. 5)."""
        return 0.5 * (self.high.predict(features) - self.low.predict(features))

    def sigma(self, features: np.ndarray) -> np.ndarray:
        """The half range divided by the half range of a unit normal at the same levels.

        For 0.16/0.84 that factor is 0.9945, so this differs from :meth:`half_range` by
        0.55 %; it is exactly σ for a Gaussian response.
        """
        lo, hi = self.quantiles
        return (self.high.predict(features) - self.low.predict(features)) / float(
            ndtri(hi) - ndtri(lo)
        )


def train_moment_spread(
    features: np.ndarray,
    targets: np.ndarray,
    config: TrainingConfig = TrainingConfig(),
    *,
    members: int = 1,
    weights: np.ndarray | None = None,
    hidden: Sequence[int] = (50,),
    activation: str = "prelu",
    name: str = "moments",
) -> MomentSpread:
    """Two MSE ensembles, on y and on y² (Sec. 3.4)."""
    y = np.asarray(targets, dtype=np.float64)
    common = dict(members=members, weights=weights, hidden=hidden, activation=activation)
    first = train_regressor_ensemble(
        features, y, LossSpec("mse"), config, name=f"{name} E[y]", **common
    )
    second = train_regressor_ensemble(
        features, y**2, LossSpec("mse"), config, name=f"{name} E[y^2]", **common
    )
    return MomentSpread(first, second)


def train_quantile_spread(
    features: np.ndarray,
    targets: np.ndarray,
    config: TrainingConfig = TrainingConfig(),
    *,
    quantiles: tuple[float, float] = (0.16, 0.84),
    members: int = 1,
    weights: np.ndarray | None = None,
    hidden: Sequence[int] = (50,),
    activation: str = "prelu",
    name: str = "quantiles",
) -> QuantileSpread:
    """Two GAE ensembles at ``quantiles`` (Sec. 3.5; arXiv:1910.03773: 0.16 and
    0.84)."""
    lo, hi = quantiles
    if not lo < hi:
        raise ConfigError(f"{name}: quantiles={quantiles} must be increasing (low, high).")
    common = dict(members=members, weights=weights, hidden=hidden, activation=activation)
    low = train_regressor_ensemble(
        features, targets, LossSpec("gae", quantile=lo), config, name=f"{name} q={lo}", **common
    )
    high = train_regressor_ensemble(
        features, targets, LossSpec("gae", quantile=hi), config, name=f"{name} q={hi}", **common
    )
    return QuantileSpread(low, high, (float(lo), float(hi)))
