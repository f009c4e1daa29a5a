"""Weighted binary-cross-entropy training of a likelihood-ratio classifier."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from hepnnlr.errors import ConfigError, EmptySelectionError
from hepnnlr.models.spec import ModelSpec
from hepnnlr.tensors.checks import check_finite, check_same_length
from hepnnlr.tensors.dataset import make_dataset
from hepnnlr.tensors.events import EventTensors
from hepnnlr.tensors.jagged import JaggedEventTensors
from hepnnlr.training.config import TrainingConfig

__all__ = ["TrainedClassifier", "predict_logits", "train_classifier"]

ModelFactory = Callable[[int, int], keras.Model]


@dataclass
class TrainedClassifier:
    """A trained classifier and its training record.

    Attributes:
        model: The Keras model (best-validation-loss weights restored).
        history: Per-epoch ``loss`` and ``val_loss``.
        name: Label used in messages.
        total_ratio: Total numerator weight over total denominator weight. Training
            balances the classes, so ``exp(logit)`` is the ratio of *normalized* densities;
            ``exp(logit) * total_ratio`` is the ratio of the weighted event densities.
        theta_range: For parameterized inputs, the range of each parameter seen in
            training; :meth:`logits` refuses parameters outside it unless asked to
            extrapolate explicitly (``allow_extrapolation=True``).
    """

    model: keras.Model
    history: dict[str, list[float]] = field(default_factory=dict)
    name: str = "classifier"
    total_ratio: float = 1.0
    theta_range: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def best_val_loss(self) -> float:
        """Lowest validation loss reached."""
        return float(min(self.history["val_loss"]))

    def logits(
        self,
        inputs: EventTensors,
        batch_size: int = 4096,
        *,
        allow_extrapolation: bool = False,
    ) -> np.ndarray:
        """Logits for ``inputs`` (see :func:`predict_logits`).

        Args:
            inputs: Events (with ``theta`` for a parameterized classifier).
            batch_size: Events per prediction batch.
            allow_extrapolation: Evaluate parameters outside :attr:`theta_range` as they
                are (nothing is clipped). Off by default: outside its training range a
                parameterized classifier is unconstrained, so a caller must opt in.
        """
        if inputs.theta is not None and not allow_extrapolation:
            for k, name in enumerate(inputs.theta_names):
                low, high = self.theta_range.get(name, (-np.inf, np.inf))
                values = inputs.theta[:, k]
                outside = (values < low) | (values > high)
                if outside.any():
                    raise ConfigError(
                        f"{self.name}: parameter {name}={values[outside][0]:g} lies outside "
                        f"the range [{low:g}, {high:g}] the model was trained on; a "
                        "parameterized classifier does not extrapolate. Retrain with a "
                        f"range that covers {name}={values[outside][0]:g}."
                    )
        return predict_logits(self.model, inputs, batch_size=batch_size)


def predict_logits(
    model: keras.Model, inputs: EventTensors | JaggedEventTensors, batch_size: int = 4096
) -> np.ndarray:
    """Evaluate ``model`` on ``inputs`` and return one float64 logit per event."""
    if len(inputs) == 0:
        return np.zeros(0)
    # Each new model traces its own predict function, which TensorFlow reports as
    # "retracing" after a few models; that is expected here, so only for this call the
    # TensorFlow logger shows errors alone.
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        if isinstance(inputs, JaggedEventTensors):
            # Padded batch by batch, in input order: the sample is never padded whole.
            n = len(inputs)
            batches = make_dataset(inputs, np.zeros(n), np.ones(n), batch_size=batch_size)
            out = model.predict(batches, verbose=0)
        else:
            out = model.predict(inputs.as_inputs(), batch_size=batch_size, verbose=0)
    finally:
        logger.setLevel(level)
    return np.asarray(out, dtype=np.float64).reshape(-1)


def _optimizer(config: TrainingConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
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
def _strategy_scope(config: TrainingConfig) -> Iterator[None]:
    if not config.distribute:
        yield
        return
    with tf.distribute.MirroredStrategy().scope():
        yield


@contextmanager
def _dtype_policy(config: TrainingConfig) -> Iterator[None]:
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


def _callbacks(config: TrainingConfig) -> list[keras.callbacks.Callback]:
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=config.patience, restore_best_weights=True
    )
    if not config.ema:
        return [stop]
    # With EMA, validate and keep the averaged weights: the swap callback must come first.
    return [keras.callbacks.SwapEMAWeights(swap_on_epoch=True), stop]


def _balanced(weights: np.ndarray, target: float, label: str, name: str) -> np.ndarray:
    total = weights.sum()
    if not total > 0:
        raise EmptySelectionError(
            f"the {label} class of {name} has a total weight of {total:g}; the likelihood "
            "ratio needs a positive total weight in both classes. Check the selection and "
            "the event weights."
        )
    return weights * (target / total)


def _class_split(
    sizes: tuple[int, ...], validation_fraction: float, rng: np.random.Generator, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation indices into the concatenated classes of ``sizes``.

    Each class gives a random ``validation_fraction`` (at least one event) to validation;
    the indices come class after class, in ``rng``'s order within each class.
    """
    train_idx, val_idx = [], []
    offset = 0
    for n in sizes:
        order = rng.permutation(n) + offset
        n_val = max(1, int(round(validation_fraction * n)))
        if n_val >= n:
            raise EmptySelectionError(
                f"{name}: a class with {n} event(s) cannot be split into training and "
                "validation sets; provide more events."
            )
        val_idx.append(order[:n_val])
        train_idx.append(order[n_val:])
        offset += n
    return np.concatenate(train_idx), np.concatenate(val_idx)


def train_classifier(
    model: ModelSpec | ModelFactory | keras.Model,
    numerator: EventTensors,
    numerator_weights: np.ndarray,
    denominator: EventTensors,
    denominator_weights: np.ndarray,
    config: TrainingConfig = TrainingConfig(),
    *,
    name: str = "classifier",
) -> TrainedClassifier:
    """Train ``f`` so that ``exp(logit) = p_numerator(x) / p_denominator(x)``.

    The numerator sample gets label 1, the denominator label 0. Each class's weights are
    scaled to the same total (half the number of events each), so the learned ratio is that
    of the normalized densities; negative event weights are allowed. A random stratified
    ``config.validation_fraction`` of each class is held out for early stopping, and the
    weights of the epoch with the lowest weighted validation loss are kept.

    Args:
        model: A :class:`ModelSpec`, a callable ``(n_particle_features, n_global_features
            [, n_theta]) -> keras.Model`` building a fresh model (``n_theta`` is passed only
            for parameterized inputs), or a model to continue training.
        numerator, numerator_weights: Label-1 events and their weights.
        denominator, denominator_weights: Label-0 events and their weights.
        config: Training settings.
        name: Used in error messages and progress output.
    """
    numerator_weights = np.asarray(numerator_weights, dtype=np.float64)
    denominator_weights = np.asarray(denominator_weights, dtype=np.float64)
    check_same_length({f"{name} numerator inputs": numerator,
                       f"{name} numerator weights": numerator_weights})
    check_same_length({f"{name} denominator inputs": denominator,
                       f"{name} denominator weights": denominator_weights})
    for label, inputs in (("numerator", numerator), ("denominator", denominator)):
        if len(inputs) == 0:
            raise EmptySelectionError(
                f"the {label} sample of {name} is empty: no events passed the selection. "
                "Check the input files and the selection cuts."
            )
    numerator.check_finite(where=f"the numerator sample of {name}")
    denominator.check_finite(where=f"the denominator sample of {name}")
    check_finite(f"{name} numerator weights", numerator_weights)
    check_finite(f"{name} denominator weights", denominator_weights)

    n_total = len(numerator) + len(denominator)
    w1 = _balanced(numerator_weights, n_total / 2, "numerator", name)
    w0 = _balanced(denominator_weights, n_total / 2, "denominator", name)

    rng = np.random.default_rng(config.seed)
    train_idx, val_idx = _class_split(
        (len(numerator), len(denominator)), config.validation_fraction, rng, name
    )
    train_idx = rng.permutation(train_idx)

    if isinstance(numerator, JaggedEventTensors) or isinstance(denominator, JaggedEventTensors):
        inputs = JaggedEventTensors.concatenate([numerator, denominator])
    else:
        inputs = EventTensors.concatenate([numerator, denominator])
    labels = np.concatenate([np.ones(len(numerator)), np.zeros(len(denominator))]).astype(
        np.float32
    )
    weights = np.concatenate([w1, w0]).astype(np.float32)
    n_particle = len(inputs.particle_features)
    n_global = len(inputs.global_features)
    n_theta = len(inputs.theta_names)

    keras.utils.set_random_seed(config.seed)
    steps_per_epoch = -(-len(train_idx) // config.batch_size)
    with _strategy_scope(config), _dtype_policy(config):
        if isinstance(model, keras.Model):
            network = model
        elif isinstance(model, ModelSpec):
            network = model.build(n_particle, n_global, n_theta)
        elif n_theta:
            network = model(n_particle, n_global, n_theta)
        else:
            network = model(n_particle, n_global)
        network.compile(
            optimizer=_optimizer(config, steps_per_epoch),
            loss=keras.losses.BinaryCrossentropy(from_logits=True),
            steps_per_execution=config.steps_per_execution or steps_per_epoch,
            jit_compile=config.jit_compile,
        )
    # With a whole epoch per compiled call, one endless training pipeline serves every
    # epoch (no pipeline rebuilt per epoch); otherwise an execution could run past the end
    # of an epoch, so each epoch gets a finite pass.
    # (Not under a distribution strategy: Keras then draws one batch of the training data
    # to build the model, which from an endless pipeline would shift every epoch.)
    per_execution = config.steps_per_execution or steps_per_epoch
    endless = steps_per_epoch % per_execution == 0 and not config.distribute
    train = make_dataset(
        inputs.subset(train_idx), labels[train_idx], weights[train_idx],
        batch_size=config.batch_size, seed=config.seed, repeat=endless,
    )
    val = make_dataset(
        inputs.subset(val_idx), labels[val_idx], weights[val_idx],
        batch_size=max(config.batch_size, 4096), seed=None,
    )
    fit = network.fit(
        train,
        validation_data=val,
        epochs=config.epochs,
        steps_per_epoch=steps_per_epoch if endless else None,
        shuffle=False,  # the dataset shuffles itself, seeded
        callbacks=_callbacks(config),
        # A bar per epoch on a terminal, one line per epoch in logs, nothing when off.
        verbose=(1 if sys.stdout.isatty() else 2) if config.progress else 0,
    )
    # Back to one step per call for everything after training: Keras' prediction with
    # several steps per call unrolls them into one graph, and a saved model keeps the
    # compile settings. The same optimizer (and its state) is kept.
    with network.distribute_strategy.scope():
        network.compile(optimizer=network.optimizer, loss=network.loss,
                        jit_compile=config.jit_compile)
    history = {k: [float(v) for v in vals] for k, vals in fit.history.items()}
    check_finite(f"{name} training loss", np.asarray(history["loss"]))
    total_ratio = float(numerator_weights.sum() / denominator_weights.sum())
    theta_range = {}
    if inputs.theta is not None:
        theta_range = {
            t: (float(inputs.theta[:, k].min()), float(inputs.theta[:, k].max()))
            for k, t in enumerate(inputs.theta_names)
        }
    return TrainedClassifier(network, history, name, total_ratio, theta_range)
