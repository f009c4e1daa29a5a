"""``tf.data`` pipelines over :class:`EventTensors`, with bucketing by multiplicity.

Padding every event to the largest multiplicity of a sample wastes most of the compute of a
set network: DIS events have ~15 particles in the fiducial region but up to ~60. The
pipeline here shuffles the events, sorts them by multiplicity inside windows of
``bucket_window`` batches, cuts each window into batches and trims every batch to the
slots its busiest event needs (rounded up to a multiple of ``slot_quantum`` so only a few
distinct shapes reach the compiled training step), then shuffles the batch order. Every
event is seen exactly once per epoch; trimming removes only padded slots, so the networks'
outputs are unchanged (they are padding invariant).

Batches stream from compact storage: the particles are kept flat (the real particles back
to back plus offsets, as :class:`~hepnnlr.tensors.jagged.JaggedEventTensors` holds them)
and each batch is gathered and padded inside the ``tf.data`` graph, so the padded sample
is never held in memory and no Python runs per batch.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import tensorflow as tf

from hepnnlr.errors import ConfigError
from hepnnlr.tensors.checks import check_same_length
from hepnnlr.tensors.events import EventTensors
from hepnnlr.tensors.jagged import JaggedEventTensors

__all__ = ["batches", "make_dataset"]


def batches(
    inputs: EventTensors | JaggedEventTensors,
    batch_size: int,
    *,
    rng: np.random.Generator | None = None,
    bucket_window: int = 16,
    slot_quantum: int = 8,
) -> Iterator[np.ndarray]:
    """Yield index arrays of the batches of one epoch (bucketed when there are particles).

    :func:`make_dataset` draws the order of particle batches with it, once per epoch.

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
    has_particles = isinstance(inputs, JaggedEventTensors) or inputs.mask is not None
    if has_particles and rng is not None and bucket_window > 1:
        counts = _counts(inputs)
        window = batch_size * bucket_window
        for start in range(0, n, window):
            chunk = order[start : start + window]
            order[start : start + window] = chunk[np.argsort(counts[chunk], kind="stable")]
    out = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    if rng is not None:
        out = [out[i] for i in rng.permutation(len(out))]
    yield from out


def _counts(inputs: EventTensors | JaggedEventTensors) -> np.ndarray:
    if isinstance(inputs, JaggedEventTensors):
        return inputs.counts
    return inputs.mask.sum(axis=1)


def _width(inputs: EventTensors | JaggedEventTensors) -> int:
    if isinstance(inputs, JaggedEventTensors):
        return inputs.max_particles
    return inputs.mask.shape[1]


def _prefix_mask(mask: np.ndarray) -> bool:
    """Whether every event's real particles come first (the layout ``pad_particles`` makes)."""
    counts = mask.sum(axis=1)
    return bool(np.array_equal(mask, np.arange(mask.shape[1])[None, :] < counts[:, None]))


class _ParticleStorage:
    """What a particle pipeline keeps on the host, and how it pads one batch.

    Jagged inputs, and padded inputs whose masks list the real particles first (every
    mask ``from_awkward`` and ``pad_particles`` build), are stored flat: ``values``
    ``(total particles, features)`` and ``row_splits`` ``(events + 1,)``; each batch is
    gathered and padded to its own slot count in the graph, so the padded sample is never
    held. Other padded inputs keep their padded arrays and each batch is sliced from them.

    Attributes:
        flat: True when the particles are stored flat.
        values, row_splits: The flat storage (``None`` otherwise).
        particles, mask: The padded storage (``None`` when flat).
        counts: Particles per event; ``width``: the padded width of the sample.
    """

    def __init__(self, inputs: EventTensors | JaggedEventTensors, slot_quantum: int) -> None:
        self.slot_quantum = slot_quantum
        self.width = _width(inputs)
        self.n_features = len(inputs.particle_features)
        self.values = self.row_splits = self.particles = self.mask = None
        if isinstance(inputs, EventTensors) and _prefix_mask(inputs.mask):
            inputs = JaggedEventTensors.from_padded(inputs)
        self.flat = isinstance(inputs, JaggedEventTensors)
        self.counts = tf.constant(_counts(inputs).astype(np.int32))
        if self.flat:
            self.values = tf.constant(inputs.values, tf.float32)
            self.row_splits = tf.constant(inputs.offsets, tf.int64)
        else:
            self.particles = tf.constant(inputs.particles, tf.float32)
            self.mask = tf.constant(inputs.mask, tf.float32)

    def pad(self, index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """``(particles, mask)`` of the events ``index``, padded to the batch's slots."""
        counts = tf.gather(self.counts, index)
        quantum = self.slot_quantum
        busiest = tf.reduce_max(counts)
        slots = tf.minimum(tf.maximum(quantum, (busiest + quantum - 1) // quantum * quantum),
                           self.width)
        if not self.flat:
            return (tf.gather(self.particles, index)[:, :slots],
                    tf.gather(self.mask, index)[:, :slots])
        starts = tf.gather(self.row_splits, index)
        rows = tf.ragged.range(starts, starts + tf.cast(counts, tf.int64))
        ragged = tf.RaggedTensor.from_row_splits(tf.gather(self.values, rows.flat_values),
                                                 rows.row_splits, validate=False)
        shape = tf.stack([tf.shape(index, tf.int64)[0], tf.cast(slots, tf.int64),
                          tf.constant(self.n_features, tf.int64)])
        particles = ragged.to_tensor(0.0, shape=shape)
        return particles, tf.sequence_mask(counts, slots, dtype=tf.float32)


def _index_batches(
    inputs: EventTensors | JaggedEventTensors,
    batch_size: int,
    *,
    seed: int | None,
    bucket_window: int,
    slot_quantum: int,
    repeat: bool,
) -> tf.data.Dataset:
    """Index vectors of the batches, in the orders hepnnlr has always drawn.

    Particle inputs: :func:`batches` with one seeded NumPy generator, one Python call per
    epoch (the whole epoch's order at once), never per batch. Event-level inputs: the
    ``tf.data`` shuffle of the event indices with ``seed`` (the order of the former
    element-wise pipeline), then consecutive batches: no Python at all.
    """
    n = len(inputs)
    if not isinstance(inputs, JaggedEventTensors) and inputs.particles is None:
        events = tf.data.Dataset.range(n)
        if seed is not None:
            events = events.shuffle(n, seed=seed, reshuffle_each_iteration=True)
        events = events.batch(batch_size)
        return events.repeat() if repeat else events
    rng = None if seed is None else np.random.default_rng(seed)

    def epochs():
        while True:
            index = list(batches(inputs, batch_size, rng=rng, bucket_window=bucket_window,
                                 slot_quantum=slot_quantum))
            splits = np.zeros(len(index) + 1, np.int64)
            np.cumsum([len(i) for i in index], out=splits[1:])
            yield (np.concatenate(index).astype(np.int64) if index else np.zeros(0, np.int64),
                   splits)
            if not repeat:
                return

    def cut(order, splits):
        return tf.data.Dataset.range(tf.size(splits, tf.int64) - 1).map(
            lambda b: order[splits[b] : splits[b + 1]]
        )

    signature = (tf.TensorSpec((None,), tf.int64), tf.TensorSpec((None,), tf.int64))
    return tf.data.Dataset.from_generator(epochs, output_signature=signature).flat_map(cut)


def make_dataset(
    inputs: EventTensors | JaggedEventTensors,
    labels: np.ndarray,
    weights: np.ndarray,
    *,
    batch_size: int,
    seed: int | None = None,
    bucket_window: int = 16,
    slot_quantum: int = 8,
    prefetch: int = 2,
    repeat: bool = False,
) -> tf.data.Dataset:
    """A dataset of ``(inputs_dict, label, weight)`` batches for ``keras.Model.fit``.

    With a ``seed`` every pass over the dataset (every epoch) draws a new shuffle (for
    particles bucketed by multiplicity, :func:`batches`) from one seeded generator, so a
    training is reproducible; without one the order is fixed and nothing is sorted. The
    orders are those hepnnlr drew before batches streamed, so trainings give the same
    weights as before.

    Batches stream from compact storage: the particles are kept flat (values and offsets,
    see :class:`_ParticleStorage`) and each batch is gathered and padded, in the graph, to
    the slots its busiest event needs; per-event features, labels, weights and parameters
    θ are gathered with it. Nothing runs in Python per batch (for particles one call per
    epoch draws the epoch's order; for event-level inputs none at all). Jagged inputs
    (:class:`JaggedEventTensors`) and the padded inputs of the same events give identical
    batches.

    Args:
        inputs: The events, padded or jagged.
        labels, weights: One per event.
        batch_size: Events per batch.
        seed: Shuffle seed (``None``: input order, no bucketing).
        bucket_window, slot_quantum: Bucketing by multiplicity (see :func:`batches`).
        prefetch: Batches prepared ahead of the training step.
        repeat: Run epoch after epoch without end (each epoch shuffled anew), for
            ``fit(steps_per_epoch=...)``: one iterator serves the whole training, so no
            pipeline is rebuilt per epoch. Off: one epoch per iteration of the dataset.
    """
    check_same_length({"inputs": inputs, "labels": labels, "weights": weights})
    if batch_size < 1 or bucket_window < 1 or slot_quantum < 1 or prefetch < 0:
        raise ConfigError(
            f"make_dataset: batch_size={batch_size}, bucket_window={bucket_window} and "
            f"slot_quantum={slot_quantum} must be >= 1 and prefetch={prefetch} >= 0."
        )
    labels = np.asarray(labels, np.float32).reshape(-1, 1)
    weights = np.asarray(weights, np.float32)
    jagged = isinstance(inputs, JaggedEventTensors)
    storage = None
    if jagged or inputs.particles is not None:
        storage = _ParticleStorage(inputs, slot_quantum)
    event_level = {"labels": tf.constant(labels), "weights": tf.constant(weights)}
    if inputs.globals is not None:
        event_level["globals"] = tf.constant(inputs.globals, tf.float32)
    if inputs.theta is not None:
        event_level["theta"] = tf.constant(inputs.theta, tf.float32)

    def batch(index):
        features = {}
        if storage is not None:
            features["particles"], features["mask"] = storage.pad(index)
        for name in ("globals", "theta"):
            if name in event_level:
                features[name] = tf.gather(event_level[name], index)
        return (features, tf.gather(event_level["labels"], index),
                tf.gather(event_level["weights"], index))

    dataset = _index_batches(inputs, batch_size, seed=seed, bucket_window=bucket_window,
                             slot_quantum=slot_quantum, repeat=repeat).map(batch)
    n_batches = -(-len(inputs) // batch_size)
    # Tell Keras the epoch length up front (flat_map hides it).
    cardinality = tf.data.INFINITE_CARDINALITY if repeat else n_batches
    return dataset.apply(tf.data.experimental.assert_cardinality(cardinality)).prefetch(prefetch)
