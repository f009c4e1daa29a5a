"""``tf.data`` pipelines over :class:`EventTensors`, with bucketing by multiplicity.

Padding every event to the largest multiplicity of a sample wastes most of the compute of a
set network: DIS events have ~15 particles in the fiducial region but up to ~60. The
pipeline here shuffles the events, sorts them by multiplicity inside windows of
``bucket_window`` batches, cuts each window into batches and trims every batch to the
slots its busiest event needs (rounded up to a multiple of ``slot_quantum`` so only a few
distinct shapes reach the compiled training step), then shuffles the batch order. Every
event is seen exactly once per epoch; trimming removes only padded slots, so the networks'
outputs are unchanged (they are padding invariant).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import tensorflow as tf

from hepnnlr.errors import ConfigError
from hepnnlr.tensors.checks import check_same_length
from hepnnlr.tensors.events import EventTensors

__all__ = ["batches", "make_dataset"]


def batches(
    inputs: EventTensors,
    batch_size: int,
    *,
    rng: np.random.Generator | None = None,
    bucket_window: int = 16,
    slot_quantum: int = 8,
) -> Iterator[np.ndarray]:
    """Yield index arrays of the batches of one epoch (bucketed when there are particles).

    Args:
        inputs: The events.
        batch_size: Events per batch (the last batch of a window may be smaller).
        rng: Shuffles events and batches; ``None`` keeps the input order and sorts nothing.
        bucket_window: Batches per sorting window (1: no bucketing).
        slot_quantum: Granularity of the trimmed slot count.
    """
    if batch_size < 1 or bucket_window < 1 or slot_quantum < 1:
        raise ConfigError(
            f"batch_size={batch_size}, bucket_window={bucket_window} and "
            f"slot_quantum={slot_quantum} must all be >= 1."
        )
    n = len(inputs)
    order = np.arange(n) if rng is None else rng.permutation(n)
    if inputs.mask is not None and rng is not None and bucket_window > 1:
        counts = inputs.mask.sum(axis=1)
        window = batch_size * bucket_window
        for start in range(0, n, window):
            chunk = order[start : start + window]
            order[start : start + window] = chunk[np.argsort(counts[chunk], kind="stable")]
    out = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    if rng is not None:
        out = [out[i] for i in rng.permutation(len(out))]
    yield from out


def _slots(inputs: EventTensors, index: np.ndarray, slot_quantum: int) -> int:
    busiest = int(inputs.mask[index].sum(axis=1).max()) if len(index) else 0
    slots = max(slot_quantum, -(-busiest // slot_quantum) * slot_quantum)
    return min(slots, inputs.mask.shape[1])


def _tensor_dataset(inputs, labels, weights, batch_size, seed) -> tf.data.Dataset:
    features = {"globals": inputs.globals}
    if inputs.theta is not None:
        features["theta"] = inputs.theta
    dataset = tf.data.Dataset.from_tensor_slices((features, labels, weights))
    if seed is not None:
        dataset = dataset.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(2)


def make_dataset(
    inputs: EventTensors,
    labels: np.ndarray,
    weights: np.ndarray,
    *,
    batch_size: int,
    seed: int | None = None,
    bucket_window: int = 16,
    slot_quantum: int = 8,
) -> tf.data.Dataset:
    """A dataset of ``(inputs_dict, label, weight)`` batches for ``keras.Model.fit``.

    With a ``seed`` every pass over the dataset (every epoch) draws a new shuffle from one
    seeded generator, so a training is reproducible; without one the order is fixed.
    """
    check_same_length({"inputs": inputs, "labels": labels, "weights": weights})
    labels = np.asarray(labels, np.float32).reshape(-1, 1)
    weights = np.asarray(weights, np.float32)
    if inputs.particles is None:
        # Event-level inputs only: nothing to bucket, and a tensor pipeline has far less
        # per-step overhead than a Python generator.
        return _tensor_dataset(inputs, labels, weights, batch_size, seed)
    rng = None if seed is None else np.random.default_rng(seed)

    def generate():
        for index in batches(inputs, batch_size, rng=rng, bucket_window=bucket_window,
                             slot_quantum=slot_quantum):
            features = {}
            if inputs.particles is not None:
                slots = _slots(inputs, index, slot_quantum)
                features["particles"] = inputs.particles[index, :slots]
                features["mask"] = inputs.mask[index, :slots].astype(np.float32)
            if inputs.globals is not None:
                features["globals"] = inputs.globals[index]
            if inputs.theta is not None:
                features["theta"] = inputs.theta[index]
            yield features, labels[index], weights[index]

    spec = {}
    if inputs.particles is not None:
        n_features = inputs.particles.shape[2]
        spec["particles"] = tf.TensorSpec((None, None, n_features), tf.float32)
        spec["mask"] = tf.TensorSpec((None, None), tf.float32)
    if inputs.globals is not None:
        spec["globals"] = tf.TensorSpec((None, inputs.globals.shape[1]), tf.float32)
    if inputs.theta is not None:
        spec["theta"] = tf.TensorSpec((None, inputs.theta.shape[1]), tf.float32)
    signature = (spec, tf.TensorSpec((None, 1), tf.float32), tf.TensorSpec((None,), tf.float32))
    n_batches = -(-len(inputs) // batch_size)
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    # Tell Keras the epoch length up front (a generator has no known cardinality).
    return dataset.apply(tf.data.experimental.assert_cardinality(n_batches)).prefetch(2)
