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


def _jagged_and_padded(counts, seed=0):
    from hepnnlr.tensors.jagged import JaggedEventTensors

    rng = np.random.default_rng(seed)
    counts = np.asarray(counts)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    n = len(counts)
    jagged = JaggedEventTensors(
        rng.normal(size=(offsets[-1], 2)).astype(np.float32), offsets,
        rng.normal(size=(n, 1)).astype(np.float32), ("a", "b"), ("g",),
        rng.uniform(-1, 1, (n, 1)).astype(np.float32), ("mu",),
    )
    return jagged, jagged.to_padded()


def _arrays(dataset, epochs=2):
    out = []
    for _ in range(epochs):
        for features, labels, weights in dataset:
            out.append({**{k: v.numpy() for k, v in features.items()},
                        "labels": labels.numpy(), "weights": weights.numpy()})
    return out


def test_streamed_batches_equal_the_padded_pipeline():
    counts = np.random.default_rng(6).integers(0, 30, 700)
    jagged, padded = _jagged_and_padded(counts)
    labels = np.arange(700) % 2
    weights = np.arange(700, dtype=np.float32)  # identifies each event
    streamed = _arrays(make_dataset(jagged, labels, weights, batch_size=64, seed=8))
    reference = _arrays(make_dataset(padded, labels, weights, batch_size=64, seed=8))
    assert len(streamed) == len(reference) == 2 * 11
    for got, want in zip(streamed, reference, strict=True):
        assert got.keys() == want.keys() == {"particles", "mask", "globals", "theta",
                                             "labels", "weights"}
        for key in want:
            np.testing.assert_array_equal(got[key], want[key], err_msg=key)
        # Same events, padded to the batch's own busiest event (rounded up to 8 slots).
        index = got["weights"].astype(int)
        busiest = counts[index].max()
        assert got["particles"].shape[1] == min(max(8, -(-busiest // 8) * 8), counts.max())
        np.testing.assert_array_equal(got["mask"].sum(axis=1), counts[index])
        np.testing.assert_array_equal(got["theta"], padded.theta[index])
        np.testing.assert_array_equal(got["particles"],
                                      padded.particles[index, : got["particles"].shape[1]])
    # Each epoch holds every event once, and the two epochs are shuffled differently.
    for epoch in (streamed[:11], streamed[11:]):
        np.testing.assert_array_equal(np.sort(np.concatenate([b["weights"] for b in epoch])),
                                      weights)
    assert not all(np.array_equal(a["weights"], b["weights"])
                   for a, b in zip(streamed[:11], streamed[11:], strict=True))


def test_endless_pipeline_repeats_the_same_epochs():
    jagged, _ = _jagged_and_padded(np.random.default_rng(9).integers(0, 20, 300))
    event_level = EventTensors(None, None, jagged.globals, (), ("g",))
    labels, weights = np.zeros(300), np.arange(300, dtype=np.float32)
    for inputs in (jagged, event_level):
        once = make_dataset(inputs, labels, weights, batch_size=50, seed=2)
        finite = [w.numpy().tolist() for _ in range(3) for _, _, w in once]  # 3 epochs
        endless = make_dataset(inputs, labels, weights, batch_size=50, seed=2, repeat=True)
        again = [w.numpy().tolist() for _, _, w in endless.take(18)]
        assert again == finite
        assert finite[:6] != finite[6:12]  # each epoch shuffled anew


def test_pipeline_keeps_only_the_flat_particles():
    import tracemalloc

    from hepnnlr.tensors.dataset import _ParticleStorage

    # 20,000 events of 1-3 particles and one of 4,000: padded, the sample would need
    # 20,000 x 4,000 x 2 float32 = 640 MB; flat it is 40,000 particles (0.3 MB).
    counts = np.random.default_rng(10).integers(1, 4, 20_000)
    counts[123] = 4_000
    from hepnnlr.tensors.jagged import JaggedEventTensors

    offsets = np.concatenate([[0], np.cumsum(counts)])
    jagged = JaggedEventTensors(np.ones((offsets[-1], 2), np.float32), offsets, None, ("a", "b"))
    storage = _ParticleStorage(jagged, 8)
    assert storage.flat and storage.particles is None
    assert tuple(storage.values.shape) == (offsets[-1], 2)
    padded_bytes = len(counts) * counts.max() * 2 * 4
    tracemalloc.start()
    slots = []
    for features, _, _ in make_dataset(jagged, np.zeros(20_000), np.ones(20_000),
                                       batch_size=256, seed=1):
        slots.append(features["particles"].shape[1])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # Only the batch holding the busy event is 4,000 slots wide (256 x 4,000 x 2 x 4 B =
    # 8 MB); every other batch needs 8. Host allocations stay far below the padded sample.
    assert sorted(slots)[-1] == 4_000 and sorted(slots)[-2] == 8
    assert peak < padded_bytes / 20
