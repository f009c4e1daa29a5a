"""What the trainings of a model conditioned on a nuisance z share: the conditional flow
(:mod:`hepnnlr.training.flows`) and the parameterized classifier ratio
(:mod:`hepnnlr.training.parameterized`).

Both standardize the features and z alike, refuse z outside the trained range alike, and
are set up and fitted alike (seeded build, optimizer of the :class:`TrainingConfig`, a stop
at a NaN loss or a plateau, a clear error when the loss is non-finite): one copy here, so
one ``TrainingConfig`` trains both routes the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import keras
import numpy as np

from hepnnlr.errors import ConfigError, NonFiniteInputError
from hepnnlr.training.config import TrainingConfig
from hepnnlr.training.setup import build_optimizer, fit_history, stop_on_nan_or_plateau

__all__ = [
    "CONDITIONAL_TRAINING",
    "Standardization",
    "check_z_in_range",
    "conditional_config",
    "fit_conditional",
    "standardize",
]

CONDITIONAL_TRAINING = TrainingConfig(epochs=20, batch_size=512, schedule="cosine", patience=20)
"""Cosine decay over all epochs and no early stopping: the validation loss is flat to ~1e-3
while the z dependence is still being learned, so a short patience stops training with z
biased towards z0 (seen on the Gaussian toy, docs/fragments/issue8.md)."""


@dataclass(frozen=True)
class Standardization:
    """Location and scale of the features and of z in a training sample.

    Attributes:
        features: Feature names, in column order.
        x_loc, x_scale: ``(d,)`` mean and standard deviation of the features.
        z_loc, z_scale: Mean and standard deviation of z.
    """

    features: tuple[str, ...]
    x_loc: np.ndarray
    x_scale: np.ndarray
    z_loc: float
    z_scale: float

    @classmethod
    def of(
        cls, features: Sequence[str], x: np.ndarray, z: np.ndarray, name: str
    ) -> Standardization:
        """The standardization of ``x`` ``(n, d)`` and ``z`` ``(m,)``.

        Raises:
            ConfigError: a feature or z is constant (nothing to learn from it).
        """
        x_scale = x.std(axis=0)
        z_scale = float(z.std())
        if not (x_scale > 0).all():
            constant = [f for f, s in zip(features, x_scale, strict=True) if not s > 0]
            raise ConfigError(
                f"{name}: feature(s) {constant} are constant in the training sample; they "
                "carry no information: drop them from `features`."
            )
        if not z_scale > 0:
            raise ConfigError(
                f"{name}: the training events all have the same z; a model conditioned on z "
                "needs events over a range of z (draw z from a prior p_z)."
            )
        return cls(tuple(features), x.mean(axis=0), x_scale, float(z.mean()), z_scale)


def standardize(scales: Any, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x - x_loc) / x_scale`` and ``(z - z_loc) / z_scale`` as float32, z as ``(n, 1)``.

    ``scales`` is anything with those four attributes: a :class:`Standardization`, or the
    trained models that keep theirs (``TrainedFlow``, ``ParameterizedRatio``).
    """
    xs = ((x - scales.x_loc) / scales.x_scale).astype(np.float32)
    zs = ((z - scales.z_loc) / scales.z_scale).astype(np.float32).reshape(-1, 1)
    return xs, zs


def check_z_in_range(z: np.ndarray, z_range: tuple[float, float], name: str, model: str) -> None:
    """Refuse z outside the range the ``model`` (``"flow"``, ``"classifier"``) was trained on.

    Raises:
        ConfigError: naming the first z outside ``z_range``.
    """
    low, high = z_range
    outside = (z < low) | (z > high)
    if outside.any():
        raise ConfigError(
            f"{name}: z={z[outside][0]:g} lies outside [{low:g}, {high:g}], the range of z "
            f"the {model} was trained on; it does not extrapolate. Scan inside the range or "
            "retrain over a wider one."
        )


def conditional_config(config: TrainingConfig | None, seed_shift: int) -> TrainingConfig:
    """``config`` (default :data:`CONDITIONAL_TRAINING`) with ``seed_shift`` added to its seed."""
    config = config or CONDITIONAL_TRAINING
    return replace(config, seed=config.seed + int(seed_shift))


def fit_conditional(
    build: Callable[[], keras.Model],
    loss: Any,
    *fit_args: Any,
    config: TrainingConfig,
    steps_per_epoch: int,
    name: str,
    fix: str = "",
    **fit_kwargs: Any,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Seed Keras, ``build()`` the model, compile and fit it; stop at a NaN loss or plateau.

    The other positional arguments (the data, or a ``PyDataset``) and keyword arguments
    (``validation_data``, ``batch_size`` ...) go to ``model.fit``.

    Args:
        build: Makes the network (called after ``keras.utils.set_random_seed(config.seed)``,
            so the initial weights follow the seed).
        loss: The Keras loss.
        config: Training settings (optimizer, schedule, epochs, patience).
        steps_per_epoch: Optimizer steps per epoch (the schedule's length).
        name: Label in messages and on the progress bar.
        fix: What else to lower when the loss diverges, appended to the message.

    Returns:
        The trained model (best weights kept) and its per-epoch history.

    Raises:
        NonFiniteInputError: the training loss became NaN or infinite.
    """
    keras.utils.set_random_seed(config.seed)
    model = build()
    model.compile(optimizer=build_optimizer(config, steps_per_epoch), loss=loss)
    history = fit_history(
        model,
        *fit_args,
        config=config,
        name=name,
        stop=stop_on_nan_or_plateau(config),
        **fit_kwargs,
    )
    losses = np.asarray(history["loss"])
    if not np.isfinite(losses).all():
        raise NonFiniteInputError(
            f"{name}: the training loss became {losses[~np.isfinite(losses)][0]} at epoch "
            f"{int(np.argmax(~np.isfinite(losses))) + 1}; lower the learning rate "
            f"({config.learning_rate:g}){fix}."
        )
    return model, history
