"""What every Keras training of this package is set up with, from its :class:`TrainingConfig`.

The classifier (:mod:`hepnnlr.training.classifier`), the parameterized DCTR training
(:mod:`hepnnlr.training.parameterized`), the warm-started refits
(:mod:`hepnnlr.training.refit`), the regressions (:mod:`hepnnlr.training.regression`) and
the conditional flows (:mod:`hepnnlr.training.flows`) build their optimizer, distribution
scope, dtype policy and early stopping here, so one ``TrainingConfig`` means the same in
all of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import keras
import tensorflow as tf

from hepnnlr.training.config import TrainingConfig
from hepnnlr.training.progress import progress_callbacks

__all__ = [
    "build_optimizer",
    "dtype_policy",
    "early_stopping",
    "fit_history",
    "stop_on_nan_or_plateau",
    "strategy_scope",
]


def build_optimizer(config: TrainingConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """The optimizer of ``config`` (Adam or Lion, EMA), with its learning-rate schedule.

    Args:
        config: ``optimizer``, ``learning_rate``, ``schedule`` (``"cosine"``: decay over
            ``epochs * steps_per_epoch`` steps after ``warmup_epochs`` of linear warm-up),
            ``ema``, ``ema_momentum``.
        steps_per_epoch: Optimizer steps per epoch (sets the schedule's length).
    """
    rate: float | keras.optimizers.schedules.LearningRateSchedule = config.learning_rate
    if config.schedule == "cosine":
        warmup = int(round(config.warmup_epochs * steps_per_epoch))
        rate = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=0.0 if warmup else config.learning_rate,
            decay_steps=max(1, config.epochs * steps_per_epoch - warmup),
            warmup_target=config.learning_rate if warmup else None,
            warmup_steps=warmup,
        )
    kind = {"adam": keras.optimizers.Adam, "lion": keras.optimizers.Lion}[config.optimizer]
    return kind(learning_rate=rate, use_ema=config.ema, ema_momentum=config.ema_momentum)


@contextmanager
def strategy_scope(config: TrainingConfig) -> Iterator[None]:
    """Build under a ``MirroredStrategy`` (every visible GPU) when ``config.distribute``."""
    if not config.distribute:
        yield
        return
    with tf.distribute.MirroredStrategy().scope():
        yield


@contextmanager
def dtype_policy(config: TrainingConfig) -> Iterator[None]:
    """Build the model under ``mixed_float16`` only, then restore the user's policy."""
    if not config.mixed_precision:
        yield
        return
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def early_stopping(config: TrainingConfig) -> list[keras.callbacks.Callback]:
    """Stop after ``config.patience`` epochs without a lower ``val_loss``; keep the best.

    With ``config.ema`` the averaged weights are validated and kept: the swap callback
    comes first.
    """
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=config.patience, restore_best_weights=True
    )
    if not config.ema:
        return [stop]
    return [keras.callbacks.SwapEMAWeights(swap_on_epoch=True), stop]


def stop_on_nan_or_plateau(config: TrainingConfig) -> list[keras.callbacks.Callback]:
    """Stop at a NaN loss, or after ``config.patience`` epochs without a lower
    ``val_loss`` (the best weights kept); the stop of the flows and the parameterized ratio.

    Unlike :func:`early_stopping` it validates the raw weights even with ``config.ema``
    (those two trainings always have; switching them would change their results).
    """
    return [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=config.patience, restore_best_weights=True
        ),
    ]


def fit_history(
    model: keras.Model,
    *args: Any,
    config: TrainingConfig,
    name: str,
    stop: Sequence[keras.callbacks.Callback],
    **kwargs: Any,
) -> dict[str, list[float]]:
    """``model.fit(*args, **kwargs)`` for ``config.epochs`` with hepnnlr's progress bar.

    The callbacks are ``stop`` (e.g. :func:`early_stopping`), then the progress bar of
    :func:`~hepnnlr.training.progress.progress_callbacks`; Keras' own per-epoch lines are
    off (``verbose=0``), so every training reports alike.

    Returns:
        The history, each metric as a list of Python floats (one per epoch run).
    """
    fit = model.fit(
        *args,
        epochs=config.epochs,
        callbacks=[*stop, *progress_callbacks(config, name)],
        verbose=0,
        **kwargs,
    )
    return {k: [float(v) for v in vals] for k, vals in fit.history.items()}
