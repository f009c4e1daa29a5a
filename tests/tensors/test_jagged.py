from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepnnlr.errors import MissingBranchError, NonFiniteInputError, ShapeMismatchError
from hepnnlr.tensors import EventTensors, Standardizer, from_awkward
from hepnnlr.tensors.jagged import JaggedEventTensors, from_awkward_jagged


def _level(counts, seed=0):
    rng = np.random.default_rng(seed)
    counts = np.asarray(counts)
    total = int(counts.sum())
    particles = ak.unflatten(
        ak.zip({"a": rng.normal(size=total), "b": rng.normal(size=total)}), counts
    )
    return ak.zip({"particles": particles, "g": rng.normal(size=len(counts))}, depth_limit=1)


def test_jagged_inputs_pad_to_the_padded_inputs():
    counts = np.random.default_rng(1).integers(0, 12, 200)
    level = _level(counts)
    padded = from_awkward(level, particle_features=("a", "b"), global_features=("g",))
    jagged = from_awkward_jagged(level, particle_features=("a", "b"), global_features=("g",))
    # Storage is flat: one row per real particle, no padded slot anywhere.
    assert jagged.values.shape == (counts.sum(), 2)
    np.testing.assert_array_equal(jagged.counts, counts)
    back = jagged.to_padded()
    np.testing.assert_array_equal(back.particles, padded.particles)
    np.testing.assert_array_equal(back.mask, padded.mask)
    np.testing.assert_array_equal(back.globals, padded.globals)
    flat = JaggedEventTensors.from_padded(padded)
    np.testing.assert_array_equal(flat.values, jagged.values)
    np.testing.assert_array_equal(flat.offsets, jagged.offsets)


def test_subset_and_concatenate_follow_the_padded_ones():
    counts = np.random.default_rng(2).integers(0, 9, 120)
    level = _level(counts, seed=3)
    padded = from_awkward(level, particle_features=("a", "b"), global_features=("g",))
    jagged = from_awkward_jagged(level, particle_features=("a", "b"), global_features=("g",))
    index = np.random.default_rng(4).permutation(120)[:50]
    for selection in (index, counts > 4, slice(10, 30)):
        got = jagged.subset(selection).to_padded(padded.particles.shape[1])
        np.testing.assert_array_equal(got.particles, padded.subset(selection).particles)
        np.testing.assert_array_equal(got.globals, padded.subset(selection).globals)
    both = JaggedEventTensors.concatenate([jagged.subset(slice(0, 60)), padded.subset(
        slice(60, 120))])
    np.testing.assert_array_equal(both.values, jagged.values)
    np.testing.assert_array_equal(both.offsets, jagged.offsets)


def test_standardizer_on_jagged_equals_padded():
    counts = np.random.default_rng(5).integers(0, 15, 300)
    level = _level(counts, seed=6)
    padded = from_awkward(level, particle_features=("a", "b"), global_features=("g",))
    jagged = from_awkward_jagged(level, particle_features=("a", "b"), global_features=("g",))
    weights = np.random.default_rng(7).random(300)
    scaler = Standardizer.fit(padded, weights)
    assert Standardizer.fit(jagged, weights) == scaler
    out = scaler.transform(jagged)
    assert isinstance(out, JaggedEventTensors)
    np.testing.assert_array_equal(out.to_padded().particles, scaler.transform(padded).particles)


def test_bad_jagged_inputs_are_named():
    with pytest.raises(ShapeMismatchError, match="end at len\\(values\\)=3"):
        JaggedEventTensors(np.zeros((3, 1), np.float32), np.array([0, 2, 4]), None, ("a",))
    with pytest.raises(ShapeMismatchError, match="globals must be \\(2, 1\\)"):
        JaggedEventTensors(np.zeros((3, 1), np.float32), np.array([0, 1, 3]),
                           np.zeros((3, 1), np.float32), ("a",), ("g",))
    level = _level([2, 1])
    with pytest.raises(MissingBranchError, match="'c' is not a field"):
        from_awkward_jagged(level, particle_features=("a", "c"))
    bad = ak.zip({"particles": ak.unflatten(ak.zip({"a": [0.0, np.nan, 1.0]}), [1, 2])},
                 depth_limit=1)
    with pytest.raises(NonFiniteInputError, match="particle feature a.*event 1"):
        from_awkward_jagged(bad, particle_features=("a",))
    shuffled = EventTensors(np.zeros((1, 3, 1), np.float32), np.array([[False, True, True]]),
                            None, ("a",))
    with pytest.raises(ShapeMismatchError, match="real particles after padded slots"):
        JaggedEventTensors.from_padded(shuffled)
