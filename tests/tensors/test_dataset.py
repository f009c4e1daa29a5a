from __future__ import annotations

import numpy as np

from hepnnlr.tensors import EventTensors, batches, make_dataset


def _events(counts, slots=40):
    rng = np.random.default_rng(0)
    mask = np.arange(slots)[None, :] < np.asarray(counts)[:, None]
    particles = rng.normal(size=(len(counts), slots, 2)).astype(np.float32) * mask[..., None]
    return EventTensors(particles, mask, rng.normal(size=(len(counts), 1)).astype(np.float32),
                        ("a", "b"), ("g",))


def test_every_event_once_per_epoch_with_bucketing():
    counts = np.random.default_rng(1).integers(0, 40, 1000)
    inputs = _events(counts)
    rng = np.random.default_rng(2)
    for _ in range(2):  # two epochs, two different shuffles
        seen = np.concatenate(list(batches(inputs, 64, rng=rng, bucket_window=4)))
        np.testing.assert_array_equal(np.sort(seen), np.arange(1000))


def test_batches_are_trimmed_only_of_padding():
    counts = np.random.default_rng(3).integers(0, 40, 500)
    inputs = _events(counts)
    labels = np.zeros(500)
    weights = np.arange(500, dtype=np.float32)
    seen_weight = 0.0
    for features, _, w in make_dataset(inputs, labels, weights, batch_size=50, seed=4):
        particles, mask = features["particles"].numpy(), features["mask"].numpy()
        slots = particles.shape[1]
        assert slots % 8 == 0 or slots == 40
        # Trimmed slots held only padding: the kept mask has as many particles as the events.
        index = np.searchsorted(np.arange(500, dtype=np.float32), w.numpy())
        np.testing.assert_array_equal(mask.sum(axis=1), counts[index])
        seen_weight += w.numpy().sum()
    assert seen_weight == weights.sum()


def test_same_seed_same_order():
    inputs = _events(np.random.default_rng(5).integers(0, 40, 300))
    a = [b.tolist() for b in batches(inputs, 32, rng=np.random.default_rng(9))]
    b = [b.tolist() for b in batches(inputs, 32, rng=np.random.default_rng(9))]
    assert a == b
