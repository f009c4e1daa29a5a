"""Maximum-likelihood training of a conditional flow ``p(x | z)`` and batched evaluation.

Features and z are standardized before the flow sees them; :meth:`TrainedFlow.log_prob`
returns the density of the *original* features (the Jacobian ``-Σ log σ_x`` is added back).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import keras
import numpy as np

from hepnnlr.errors import ConfigError, EmptySelectionError, NonFiniteInputError
from hepnnlr.models.flows import ConditionalMAF, FlowSpec
from hepnnlr.tensors.checks import check_finite
from hepnnlr.training.conditional import (
    CONDITIONAL_TRAINING,
    Standardization,
    check_z_in_range,
    conditional_config,
    fit_conditional,
    standardize,
)
from hepnnlr.training.config import TrainingConfig

__all__ = ["DEFAULT_TRAINING", "TrainedFlow", "train_flow"]


DEFAULT_TRAINING = CONDITIONAL_TRAINING
""":data:`hepnnlr.training.conditional.CONDITIONAL_TRAINING`: cosine decay, no early
stopping (the same default as the parameterized classifier's)."""


def _negative_log_likelihood(y_true, y_pred):
    """Loss: the flow's output is ``log p``; Keras averages ``-log p`` over the batch."""
    return -y_pred


@dataclass(eq=False)
class TrainedFlow:
    """A trained conditional flow: ``log p(x | z)`` of the original features.

    Satisfies :class:`hepnnlr.methods.signal_strength.ConditionalLogDensity`.

    Attributes:
        model: The Keras flow (on standardized inputs).
        features: Feature names, in column order.
        z_range: Range of z in the training sample; :meth:`log_prob` refuses z outside it.
        x_loc, x_scale, z_loc, z_scale: Input standardization.
        history: Per-epoch ``loss`` and ``val_loss`` (mean NLL of standardized features).
        name: Label in messages.
    """

    model: ConditionalMAF
    features: tuple[str, ...]
    z_range: tuple[float, float]
    x_loc: np.ndarray
    x_scale: np.ndarray
    z_loc: float
    z_scale: float
    history: dict[str, list[float]] = field(default_factory=dict)
    name: str = "flow"

    def log_prob(self, x: np.ndarray, z: np.ndarray, batch_size: int = 65_536) -> np.ndarray:
        """``log p(x | z)`` per event, evaluated ``batch_size`` events at a time.

        Raises:
            ConfigError: z outside :attr:`z_range`.
            NonFiniteInputError: the flow returns NaN (broken weights or a diverged fit).
        """
        x = np.asarray(x, dtype=np.float64)
        z = np.broadcast_to(np.asarray(z, dtype=np.float64), (len(x),))
        check_z_in_range(z, self.z_range, self.name, "flow")
        xs, zs = standardize(self, x, z)
        out = np.empty(len(x))
        for start in range(0, len(x), int(batch_size)):
            stop = start + int(batch_size)
            values = self.model({"x": xs[start:stop], "context": zs[start:stop]})
            out[start:stop] = keras.ops.convert_to_numpy(values)
        if np.isnan(out).any():
            k = int(np.argmax(np.isnan(out)))
            raise NonFiniteInputError(
                f"{self.name}: the flow's log-density is NaN for event {k} (z={z[k]:g}), so "
                "the NLL is NaN; its weights are broken (a diverged training?). Retrain with a "
                "lower learning rate or a smaller log_scale_bound."
            )
        return out - float(np.log(self.x_scale).sum())

    def nll(self, x: np.ndarray, z: np.ndarray, batch_size: int = 65_536) -> float:
        """Mean ``-log p(x | z)`` over the events."""
        return float(-np.mean(self.log_prob(x, z, batch_size)))


def train_flow(
    x: np.ndarray,
    z: np.ndarray,
    *,
    features: Sequence[str],
    spec: FlowSpec | None = None,
    config: TrainingConfig | None = None,
    seed_shift: int = 0,
    name: str = "flow",
) -> TrainedFlow:
    """Fit a conditional MAF to events ``x`` made at nuisance values ``z`` (max. likelihood).

    A random ``config.validation_fraction`` is held out; training stops after
    ``config.patience`` epochs without a lower held-out NLL and keeps the best weights.

    Raises:
        NonFiniteInputError: inputs with NaN, or a training loss that became NaN.
    """
    spec = spec or FlowSpec()
    config = conditional_config(config, seed_shift)
    x = np.asarray(x, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64).reshape(-1)
    if x.ndim != 2 or x.shape[1] != len(features):
        raise ConfigError(f"{name}: x must be (events, {len(features)}); got {x.shape}.")
    if len(x) != len(z):
        raise ConfigError(f"{name}: {len(x)} events but {len(z)} z values.")
    if len(x) < 10:
        raise EmptySelectionError(f"{name}: {len(x)} events are too few to train a flow.")
    check_finite(f"{name} features", x)
    check_finite(f"{name} z", z)
    scales = Standardization.of(features, x, z, name)
    xs, zs = standardize(scales, x, z)

    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(x))
    n_val = max(1, int(round(config.validation_fraction * len(x))))
    val, train = order[:n_val], order[n_val:]
    model, history = fit_conditional(
        lambda: spec.build(x.shape[1], 1),
        _negative_log_likelihood,
        {"x": xs[train], "context": zs[train]},
        np.zeros(len(train), np.float32),
        config=config,
        steps_per_epoch=-(-len(train) // config.batch_size),
        name=name,
        fix=f" or the log_scale_bound ({spec.log_scale_bound:g})",
        validation_data=({"x": xs[val], "context": zs[val]}, np.zeros(len(val), np.float32)),
        batch_size=config.batch_size,
        shuffle=True,
    )
    return TrainedFlow(
        model,
        tuple(features),
        (float(z.min()), float(z.max())),
        scales.x_loc,
        scales.x_scale,
        scales.z_loc,
        scales.z_scale,
        history,
        name,
    )
