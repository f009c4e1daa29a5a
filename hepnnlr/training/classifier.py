"""Weighted binary-cross-entropy training of a likelihood-ratio classifier."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from hepnnlr.errors import ConfigError
from hepnnlr.models.spec import ModelSpec
from hepnnlr.tensors.checks import check_finite
from hepnnlr.tensors.dataset import make_dataset
from hepnnlr.tensors.events import EventTensors
from hepnnlr.tensors.jagged import JaggedEventTensors
from hepnnlr.training.classes import _held_out, prepared_classes
from hepnnlr.training.config import TrainingConfig
from hepnnlr.training.inference import forward_pass, predict_batches
from hepnnlr.training.setup import (
    build_optimizer,
    dtype_policy,
    early_stopping,
    fit_history,
    strategy_scope,
)

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
        held_out: Indices into the numerator and into the denominator sample of the
            events held out for validation (sorted); the same indices for a paired
            training (:func:`train_classifier`). ``None`` where not recorded.
    """

    model: keras.Model
    history: dict[str, list[float]] = field(default_factory=dict)
    name: str = "classifier"
    total_ratio: float = 1.0
    theta_range: dict[str, tuple[float, float]] = field(default_factory=dict)
    held_out: tuple[np.ndarray, np.ndarray] | None = None

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
    """Evaluate ``model`` on ``inputs`` and return one float64 logit per event.

    Batches of ``batch_size`` events go through one traced forward pass per model
    (``model(x, training=False)``, the computation of ``model.predict``, without its
    per-call set-up); jagged inputs are padded batch by batch, in input order.
    """
    if len(inputs) == 0:
        return np.zeros(0)
    if batch_size < 1:
        raise ConfigError(f"predict_logits: batch_size={batch_size} must be >= 1.")
    forward = forward_pass(model)
    # Sample sizes and padded widths vary from call to call, which TensorFlow reports as
    # "retracing"; that is expected here, so only for this call the TensorFlow logger
    # shows errors alone.
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        if isinstance(inputs, JaggedEventTensors):
            # Padded batch by batch, in input order: the sample is never padded whole.
            n = len(inputs)
            batches = make_dataset(inputs, np.zeros(n), np.ones(n), batch_size=batch_size)
            out = [forward(features).numpy() for features, _, _ in batches]
        else:
            out = [predict_batches(model, inputs.as_inputs(), batch_size)]
    finally:
        logger.setLevel(level)
    return np.concatenate([np.asarray(o, dtype=np.float64).reshape(-1) for o in out])


class _IndexedEvents:
    """Event-level inputs held as tensors and batched by index, the order drawn in NumPy.

    Each epoch draws one permutation of the events from a generator seeded with ``seed``
    (``None``: the input order every epoch) and cuts it into consecutive batches of
    ``batch_size`` (the last one smaller); a batch is gathered from the tensors inside the
    graph (the ``tf.data`` pipeline of :meth:`dataset`, or the training step of
    :class:`_WholeEpochs`). For 41 batches of 256 events of 3 features an element-wise
    ``shuffle``/``batch`` pipeline cost 20 ms of CPU per epoch, the gather by index ~1 ms
    (docs/changelog.md, issue 4).
    """

    def __init__(
        self,
        inputs: EventTensors,
        labels: np.ndarray,
        weights: np.ndarray,
        batch_size: int,
        *,
        seed: int | None = None,
    ) -> None:
        self.n = len(inputs)
        self.batch_size = batch_size
        self.steps = -(-self.n // batch_size)
        self._seed = seed
        self._tensors = {
            "labels": tf.constant(labels.reshape(-1, 1), tf.float32),
            "weights": tf.constant(weights, tf.float32),
        }
        if inputs.globals is not None:
            self._tensors["globals"] = tf.constant(inputs.globals, tf.float32)
        if inputs.theta is not None:
            self._tensors["theta"] = tf.constant(inputs.theta, tf.float32)

    def orders(self) -> Iterator[np.ndarray]:
        """Endless per-epoch event orders (int64), reproducible from the seed."""
        if self._seed is None:
            while True:
                yield np.arange(self.n, dtype=np.int64)
        # Its own stream: the generator of the validation split uses the bare seed.
        rng = np.random.default_rng([self._seed, 1])
        while True:
            yield rng.permutation(self.n).astype(np.int64)

    def batch(self, order: tf.Tensor, b: tf.Tensor) -> tuple[dict[str, tf.Tensor], ...]:
        """Batch ``b`` of the epoch with event order ``order``: (inputs, labels, weights)."""
        index = order[b * self.batch_size : (b + 1) * self.batch_size]
        t = self._tensors
        features = {k: tf.gather(t[k], index) for k in ("globals", "theta") if k in t}
        return features, tf.gather(t["labels"], index), tf.gather(t["weights"], index)

    def dataset(self, *, repeat: bool) -> tf.data.Dataset:
        """The batches as a pipeline: one epoch per iteration, or endless."""
        orders = self.orders()
        epochs = (lambda: orders) if repeat else (lambda: iter([next(orders)]))
        steps = tf.constant(self.steps, tf.int64)
        dataset = tf.data.Dataset.from_generator(
            epochs, output_signature=tf.TensorSpec([self.n], tf.int64)
        ).flat_map(lambda order: tf.data.Dataset.range(steps).map(lambda b: self.batch(order, b)))
        cardinality = tf.data.INFINITE_CARDINALITY if repeat else self.steps
        return dataset.apply(tf.data.experimental.assert_cardinality(cardinality)).prefetch(2)

    def epochs(self) -> tf.data.Dataset:
        """Endless pipeline of one element per epoch: that epoch's event order."""
        orders = self.orders()
        return tf.data.Dataset.from_generator(
            lambda: orders, output_signature=tf.TensorSpec([self.n], tf.int64)
        ).prefetch(1)

    def run(self, step: Callable, order: tf.Tensor) -> None:
        """``step`` on every batch of the epoch with event order ``order``, in a loop in
        the graph."""

        def body(b: tf.Tensor) -> tf.Tensor:
            step(self.batch(order, tf.cast(b, tf.int64)))
            return b + 1

        tf.while_loop(lambda b: b < self.steps, body, [tf.constant(0)])


class _WholeEpochs(keras.Model):
    """Trains ``network`` on event-level inputs a whole epoch per ``fit`` step.

    A ``train_step`` override (Keras' public way to customize ``fit``): each element of
    the training pipeline is one epoch's event order, and the step runs Keras' own
    ``train_step`` on every batch of it in a graph loop, the batches gathered from the
    event tensors there; ``test_step`` does the same over the validation events. Keras'
    ``fit`` runs the epochs, the callbacks and the metrics as usual, with one step per
    epoch. The batches, their order and the updates are those of a plain ``fit`` on the
    same batches (the same weights, tested); what goes is Keras' per-epoch work around
    its multi-step loop and a validation iterator per epoch, which for a small network
    cost about as much as the epoch's arithmetic (benchmarks/bench_fit_loop.py).
    """

    def __init__(self, network: keras.Model, train: _IndexedEvents, val: _IndexedEvents):
        super().__init__(name=f"{network.name}_whole_epochs")
        self.network = network
        self.train_events = train
        self.val_events = val

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    def train_step(self, data):
        self.train_events.run(super().train_step, data)
        return self.get_metrics_result()

    def test_step(self, data):
        self.val_events.run(super().test_step, data)
        return self.get_metrics_result()


def train_classifier(
    model: ModelSpec | ModelFactory | keras.Model,
    numerator: EventTensors,
    numerator_weights: np.ndarray,
    denominator: EventTensors,
    denominator_weights: np.ndarray,
    config: TrainingConfig = TrainingConfig(),
    *,
    name: str = "classifier",
    paired: bool | None = None,
) -> TrainedClassifier:
    """Train ``f`` so that ``exp(logit) = p_numerator(x) / p_denominator(x)``.

    The numerator sample gets label 1, the denominator label 0. Each class's weights are
    scaled to the same total (half the number of events each), so the learned ratio is that
    of the normalized densities; negative event weights are allowed. A random stratified
    ``config.validation_fraction`` of each class is held out for early stopping, and the
    weights of the epoch with the lowest weighted validation loss are kept.

    When both classes are the same events under two weightings (OmniFold's step 2: the
    simulation weighted by the pulled and by the prior weights), the same events are held
    out of both: with independent splits an event validated in one class is trained on in
    the other, and early stopping watches a loss that partly measures memorization.

    Training is Keras' ``fit`` with the early stopping (and EMA) of
    :func:`~hepnnlr.training.setup.early_stopping` as callbacks. By default
    (``config.steps_per_execution == 0``) a whole epoch runs per call of the compiled
    training function; event-level inputs are batched from a seeded NumPy order per epoch
    and gathered inside the ``tf.data`` graph, particle inputs by
    :func:`~hepnnlr.tensors.make_dataset` (bucketed). Every ``steps_per_execution`` gives
    the same weights.

    Args:
        model: A :class:`ModelSpec`, a callable ``(n_particle_features, n_global_features
            [, n_theta]) -> keras.Model`` building a fresh model (``n_theta`` is passed only
            for parameterized inputs), or a model to continue training.
        numerator, numerator_weights: Label-1 events and their weights.
        denominator, denominator_weights: Label-0 events and their weights.
        config: Training settings.
        name: Used in error messages and progress output.
        paired: Whether the classes are the same events (row ``i`` of ``numerator`` is
            row ``i`` of ``denominator``): one train/validation split then serves both.
            ``None`` (default): paired when ``numerator is denominator``; pass ``True``
            for equal copies. Unpaired trainings split each class independently.
    """
    if paired is None:
        paired = numerator is denominator
    classes = prepared_classes(
        numerator, numerator_weights, denominator, denominator_weights, config, name, paired=paired
    )
    numerator_weights, denominator_weights = classes.numerator_weights, classes.denominator_weights
    rng, val_idx = classes.rng, classes.val_idx
    train_idx = rng.permutation(classes.train_idx)

    if isinstance(numerator, JaggedEventTensors) or isinstance(denominator, JaggedEventTensors):
        inputs = JaggedEventTensors.concatenate([numerator, denominator])
    else:
        inputs = EventTensors.concatenate([numerator, denominator])
    labels = classes.labels.astype(np.float32)
    weights = classes.weights.astype(np.float32)
    n_particle = len(inputs.particle_features)
    n_global = len(inputs.global_features)
    n_theta = len(inputs.theta_names)

    keras.utils.set_random_seed(config.seed)
    steps_per_epoch = -(-len(train_idx) // config.batch_size)
    val_batch = max(config.batch_size, 4096)
    # Event-level inputs (no particles) are batched by index from tensors: one NumPy draw
    # per epoch orders the events, and the batches are cut and gathered in the graph.
    # By default (0 steps per execution, one device, no XLA) they train a whole epoch per
    # step of _WholeEpochs; particle inputs and the other settings train with Keras'
    # steps_per_execution (0: a whole epoch per call). The same weights either way.
    event_level = not isinstance(inputs, JaggedEventTensors) and inputs.particles is None
    whole_epochs = event_level and not (
        config.steps_per_execution or config.distribute or config.jit_compile
    )
    per_execution = 1 if whole_epochs else config.steps_per_execution or steps_per_epoch
    if event_level:
        train_events = _IndexedEvents(
            inputs.subset(train_idx),
            labels[train_idx],
            weights[train_idx],
            config.batch_size,
            seed=config.seed,
        )
        val_events = _IndexedEvents(
            inputs.subset(val_idx), labels[val_idx], weights[val_idx], val_batch
        )
    with strategy_scope(config), dtype_policy(config):
        if isinstance(model, keras.Model):
            network = model
        elif isinstance(model, ModelSpec):
            network = model.build(n_particle, n_global, n_theta)
        elif n_theta:
            network = model(n_particle, n_global, n_theta)
        else:
            network = model(n_particle, n_global)
        trained = _WholeEpochs(network, train_events, val_events) if whole_epochs else network
        trained.compile(
            optimizer=build_optimizer(config, steps_per_epoch),
            loss=keras.losses.BinaryCrossentropy(from_logits=True),
            steps_per_execution=per_execution,
            jit_compile=config.jit_compile,
        )
        # Create the optimizer's variables now: created while the training function is
        # first traced, they make TensorFlow trace it a second time (variables are
        # initialized; nothing else changes).
        trained.optimizer.build(trained.trainable_variables)
    # When the executions divide the epoch, one endless training pipeline (one iterator)
    # serves every epoch; otherwise an execution could run past the end of an epoch, so
    # each epoch gets a finite pass. (Not under a distribution strategy: Keras then draws
    # one batch of the training data to build the model, which from an endless pipeline
    # would shift every epoch.) The validation pass is finite: an execution of several
    # steps reads until the pipeline ends, which an endless one never does.
    endless = steps_per_epoch % per_execution == 0 and not config.distribute
    validation_steps = None
    if whole_epochs:
        # One element per epoch; one iterator of each pipeline serves the whole training.
        train = train_events.epochs()
        val = tf.data.Dataset.from_tensors(tf.range(val_events.n, dtype=tf.int64)).repeat()
        steps_per_epoch = validation_steps = 1
    elif event_level:
        train = train_events.dataset(repeat=endless)
        val = val_events.dataset(repeat=False)
    else:
        train = make_dataset(
            inputs.subset(train_idx),
            labels[train_idx],
            weights[train_idx],
            batch_size=config.batch_size,
            seed=config.seed,
            repeat=endless,
        )
        val = make_dataset(
            inputs.subset(val_idx),
            labels[val_idx],
            weights[val_idx],
            batch_size=val_batch,
            seed=None,
        )
    history = fit_history(
        trained,
        train,
        config=config,
        name=name,
        stop=early_stopping(config),
        validation_data=val,
        steps_per_epoch=steps_per_epoch if endless else None,
        validation_steps=validation_steps,
        shuffle=False,  # the pipeline shuffles itself, seeded
    )
    # The network alone, compiled for one step per call, for everything after training:
    # Keras' prediction with several steps per call unrolls them into one graph, and a
    # saved model keeps the compile settings. The same optimizer (and its state) is kept.
    with network.distribute_strategy.scope():
        network.compile(
            optimizer=trained.optimizer, loss=trained.loss, jit_compile=config.jit_compile
        )
    check_finite(f"{name} training loss", np.asarray(history["loss"]))
    total_ratio = float(numerator_weights.sum() / denominator_weights.sum())
    theta_range = {}
    if inputs.theta is not None:
        theta_range = {
            t: (float(inputs.theta[:, k].min()), float(inputs.theta[:, k].max()))
            for k, t in enumerate(inputs.theta_names)
        }
    held_out = _held_out(val_idx, len(numerator))
    return TrainedClassifier(network, history, name, total_ratio, theta_range, held_out)
