"""A classifier compiled once and retrained many times (the SRGN inner loop).

Reference: Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural
Networks in the Presence of Detector Effects", arXiv:2010.03569.

An SRGN fit (Eq. 5 of arXiv:2010.03569) trains a fresh detector-level classifier ``g`` at every
parameter point the optimizer visits: the Powell fits of arXiv:2010.03569 took 74-103 of them. With
:func:`hepnnlr.training.train_classifier` every one of these trainings builds a new Keras
model, compiles it and traces its training, validation and prediction functions, which on
a CPU costs about as much as training a small network on 10^4 events itself.

:class:`Refitter` pays that cost once. It builds the network of a :class:`ModelSpec`, saves
its initial weights and the initial optimizer state, and traces one training epoch, one
validation pass and one prediction as ``tf.function`` s with shape-polymorphic (``None``)
event dimensions. Every :meth:`Refitter.fit` restores the saved initial state (the same
state a fresh ``train_classifier`` with the same seed starts from), runs fixed-shape
batches (the last batch is padded with zero-weight events) through the traced epoch, and
stops early on the validation loss, restoring the best epoch's weights. The graphs are
never traced again as long as the inputs keep their features (and particle slots).

The training is the same as :func:`train_classifier`'s: weighted binary cross entropy on
logits, the classes balanced to equal totals, a stratified validation split of
``config.validation_fraction`` drawn with ``config.seed``, Adam or Lion with a constant or
cosine learning rate, early stopping with ``config.patience``. Not supported here (use
:func:`train_classifier`): EMA weights, mixed precision and distribution strategies.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.models.spec import ModelSpec
from hepnnlr.tensors.checks import check_finite
from hepnnlr.tensors.events import EventTensors
from hepnnlr.training.classes import prepared_classes
from hepnnlr.training.classifier import TrainedClassifier
from hepnnlr.training.config import TrainingConfig
from hepnnlr.training.setup import build_optimizer

__all__ = ["Refitter"]

_EVAL_CHUNK = 8192
"""Events per validation/prediction call (bounds memory for set networks)."""


@dataclass(frozen=True)
class _Layout:
    """What fixes the traced graphs: feature names, parameter names, particle slots."""

    particle_features: tuple[str, ...]
    global_features: tuple[str, ...]
    theta_names: tuple[str, ...]
    slots: int | None

    @classmethod
    def of(cls, inputs: EventTensors) -> _Layout:
        slots = None if inputs.particles is None else int(inputs.particles.shape[1])
        return cls(inputs.particle_features, inputs.global_features, inputs.theta_names, slots)


def _widened(inputs: EventTensors, slots: int | None) -> EventTensors:
    """``inputs`` padded to ``slots`` particle slots (no change for event-level inputs)."""
    if slots is None or inputs.particles is None or inputs.particles.shape[1] == slots:
        return inputs
    missing = slots - inputs.particles.shape[1]
    return EventTensors(
        np.pad(inputs.particles, [(0, 0), (0, missing), (0, 0)]),
        np.pad(inputs.mask, [(0, 0), (0, missing)]),
        inputs.globals,
        inputs.particle_features,
        inputs.global_features,
        inputs.theta,
        inputs.theta_names,
    )


class Refitter:
    """Retrain one compiled classifier from the same initial state on new weights or events.

    Args:
        model: The network to build (once, at the first :meth:`fit`).
        config: Training settings; ``ema``, ``mixed_precision`` and ``distribute`` must be
            off.
        name: Used in messages.

    Attributes:
        n_traces: How many times the training epoch has been traced (1 after any number
            of fits on inputs of one layout).
        n_fits: Completed :meth:`fit` calls.

    Example::

        refit = Refitter(ModelSpec("mlp", hidden=(128, 128)), TrainingConfig(epochs=30))
        for w in candidate_weights:                   # e.g. w(x_G, θ′) per θ′
            g = refit.fit(data, np.ones(len(data)), sim, w)
            auc = weighted_auc(refit.logits(test), labels, test_weights)
    """

    def __init__(
        self,
        model: ModelSpec,
        config: TrainingConfig = TrainingConfig(),
        *,
        name: str = "refitted classifier",
    ) -> None:
        if not isinstance(model, ModelSpec):
            raise ConfigError(f"Refitter: model must be a ModelSpec, got {type(model)}.")
        if not isinstance(config, TrainingConfig):
            raise ConfigError(f"Refitter: config must be a TrainingConfig, got {type(config)}.")
        unsupported = [f for f in ("ema", "mixed_precision", "distribute") if getattr(config, f)]
        if unsupported:
            raise ConfigError(
                f"Refitter does not support TrainingConfig {unsupported} = True; switch them "
                "off or train each classifier with hepnnlr.training.train_classifier."
            )
        self.spec = model
        self.config = config
        self.name = name
        self.n_traces = 0
        self.n_fits = 0
        self._layout: _Layout | None = None
        self._steps: int | None = None
        self._model: keras.Model | None = None

    # -- building --------------------------------------------------------------------------

    def _build(self, layout: _Layout, steps_per_epoch: int) -> None:
        """Build the network, its optimizer and the traced functions for ``layout``."""
        config = self.config
        keras.utils.set_random_seed(config.seed)  # the init of train_classifier's fresh model
        model = self.spec.build(
            len(layout.particle_features), len(layout.global_features), len(layout.theta_names)
        )
        optimizer = build_optimizer(config, steps_per_epoch)
        optimizer.build(model.trainable_variables)
        self._initial = [v.numpy() for v in model.weights]
        self._initial_optimizer = [v.numpy() for v in optimizer.variables]
        signature = self._signature(layout)
        batch = config.batch_size

        def bce(logits, labels):
            # Binary cross entropy on logits, elementwise (stable form).
            return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)

        def epoch(inputs, labels, weights, order, keep):
            self.n_traces += 1  # runs at trace time only
            total = tf.constant(0.0, tf.float32)
            n_batches = tf.shape(order)[0]
            for i in tf.range(n_batches):
                index = order[i]
                x = {k: tf.gather(v, index) for k, v in inputs.items()}
                y = tf.gather(labels, index)
                w = tf.gather(weights, index) * keep[i]
                with tf.GradientTape() as tape:
                    logits = tf.reshape(model(x, training=True), [-1])
                    # Keras' sum-over-batch reduction of weighted BCE, fixed batch size.
                    loss = tf.reduce_sum(w * bce(logits, y)) / batch
                grads = tape.gradient(loss, model.trainable_variables)
                optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
                total += loss
            return total / tf.cast(n_batches, tf.float32)

        def weighted_loss(inputs, labels, weights):
            logits = tf.reshape(model(inputs, training=False), [-1])
            return tf.reduce_sum(weights * bce(logits, labels))

        def predict(inputs):
            return tf.reshape(model(inputs, training=False), [-1])

        vector = tf.TensorSpec([None], tf.float32)
        self._epoch = tf.function(
            epoch,
            input_signature=[
                signature,
                vector,
                vector,
                tf.TensorSpec([None, batch], tf.int32),
                tf.TensorSpec([None, batch], tf.float32),
            ],
        )
        self._loss = tf.function(weighted_loss, input_signature=[signature, vector, vector])
        self._predict = tf.function(predict, input_signature=[signature])
        self._model, self._optimizer = model, optimizer
        self._layout, self._steps = layout, steps_per_epoch

    @staticmethod
    def _signature(layout: _Layout) -> dict[str, tf.TensorSpec]:
        spec = {}
        if layout.slots is not None:
            n = len(layout.particle_features)
            spec["particles"] = tf.TensorSpec([None, layout.slots, n], tf.float32)
            spec["mask"] = tf.TensorSpec([None, layout.slots], tf.float32)
        if layout.global_features:
            spec["globals"] = tf.TensorSpec([None, len(layout.global_features)], tf.float32)
        if layout.theta_names:
            spec["theta"] = tf.TensorSpec([None, len(layout.theta_names)], tf.float32)
        return spec

    def _inputs(self, inputs: EventTensors, what: str) -> dict[str, tf.Tensor]:
        layout = self._layout
        got = _Layout.of(inputs)
        same = (got.particle_features, got.global_features, got.theta_names) == (
            layout.particle_features,
            layout.global_features,
            layout.theta_names,
        )
        if not same or (got.slots is not None and got.slots > layout.slots):
            raise ShapeMismatchError(
                f"{self.name}: {what} has particle features {got.particle_features}, event "
                f"features {got.global_features}, parameters {got.theta_names} and "
                f"{got.slots} particle slots, but the classifier was built for "
                f"{layout.particle_features}, {layout.global_features}, "
                f"{layout.theta_names} and at most {layout.slots} slots; build a new "
                "Refitter for other inputs."
            )
        arrays = _widened(inputs, layout.slots).as_inputs()
        return {k: tf.constant(np.asarray(v, np.float32)) for k, v in arrays.items()}

    # -- training --------------------------------------------------------------------------

    def fit(
        self,
        numerator: EventTensors,
        numerator_weights: np.ndarray,
        denominator: EventTensors,
        denominator_weights: np.ndarray,
        *,
        reset: bool = True,
    ) -> TrainedClassifier:
        """Train so that ``exp(logit) = p_numerator(x) / p_denominator(x)``.

        Args:
            numerator, numerator_weights: Label-1 events and their weights.
            denominator, denominator_weights: Label-0 events and their weights.
            reset: Start from the saved initial weights and optimizer state (every fit
                then equals a fresh training with ``config.seed``); ``False`` continues
                from the current weights.

        Returns:
            A :class:`TrainedClassifier` whose ``model`` is this refitter's network: it
            holds this fit's weights until the next :meth:`fit` changes them.
        """
        name = self.name
        config = self.config
        # The same events in both classes: one split (see train_classifier).
        classes = prepared_classes(
            numerator,
            numerator_weights,
            denominator,
            denominator_weights,
            config,
            name,
            paired=numerator is denominator,
        )
        rng, train_idx, val_idx = classes.rng, classes.train_idx, classes.val_idx
        labels, weights = classes.labels, classes.weights
        events = EventTensors.concatenate([numerator, denominator])

        steps = -(-len(train_idx) // config.batch_size)
        layout = _Layout.of(events)
        if self._model is None or (config.schedule == "cosine" and steps != self._steps):
            # First fit, or a cosine schedule whose length (a part of the optimizer) changed.
            self._build(layout if self._layout is None else self._layout, steps)
        if reset:
            for variable, value in zip(self._model.weights, self._initial, strict=True):
                variable.assign(value)
            for variable, value in zip(
                self._optimizer.variables, self._initial_optimizer, strict=True
            ):
                variable.assign(value)

        train = self._inputs(events.subset(train_idx), "the training sample")
        val = self._inputs(events.subset(val_idx), "the validation sample")
        y_train = tf.constant(labels[train_idx], tf.float32)
        w_train = tf.constant(weights[train_idx], tf.float32)
        y_val, w_val = labels[val_idx].astype(np.float32), weights[val_idx].astype(np.float32)
        n_train, batch = len(train_idx), config.batch_size
        keep = np.ones(steps * batch, np.float32)
        keep[n_train:] = 0.0  # zero-weight padding of the last batch
        keep_t = tf.constant(keep.reshape(steps, batch))

        history: dict[str, list[float]] = {"loss": [], "val_loss": []}
        best, best_weights, waited = np.inf, None, 0
        for _ in range(config.epochs):
            order = np.zeros(steps * batch, np.int32)
            order[:n_train] = rng.permutation(n_train)
            loss = float(
                self._epoch(
                    train, y_train, w_train, tf.constant(order.reshape(steps, batch)), keep_t
                )
            )
            val_loss = self._weighted_loss(val, y_val, w_val)
            history["loss"].append(loss)
            history["val_loss"].append(val_loss)
            check_finite(f"{name} training loss", np.asarray([loss, val_loss]))
            if val_loss < best:
                best, waited = val_loss, 0
                best_weights = [v.numpy() for v in self._model.weights]
            else:
                waited += 1
                if waited >= config.patience:
                    break
        for variable, value in zip(self._model.weights, best_weights, strict=True):
            variable.assign(value)
        self.n_fits += 1
        theta_range = {}
        if events.theta is not None:
            theta_range = {
                t: (float(events.theta[:, k].min()), float(events.theta[:, k].max()))
                for k, t in enumerate(events.theta_names)
            }
        total_ratio = float(numerator_weights.sum() / denominator_weights.sum())
        return TrainedClassifier(self._model, history, name, total_ratio, theta_range)

    def _weighted_loss(self, inputs: dict, labels: np.ndarray, weights: np.ndarray) -> float:
        total, n = 0.0, len(labels)
        for start in range(0, n, _EVAL_CHUNK):
            part = slice(start, start + _EVAL_CHUNK)
            total += float(
                self._loss(
                    {k: v[part] for k, v in inputs.items()},
                    tf.constant(labels[part]),
                    tf.constant(weights[part]),
                )
            )
        return total / n

    def logits(self, inputs: EventTensors) -> np.ndarray:
        """Logits of the current network (the last fit's best epoch) for ``inputs``."""
        if self._model is None:
            raise ConfigError(f"{self.name}: call fit before logits; nothing is trained yet.")
        arrays = self._inputs(inputs, "the events to evaluate")
        out = [
            self._predict({k: v[start : start + _EVAL_CHUNK] for k, v in arrays.items()}).numpy()
            for start in range(0, len(inputs), _EVAL_CHUNK)
        ]
        return np.concatenate(out).astype(np.float64) if out else np.zeros(0)
