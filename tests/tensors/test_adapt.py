"""hepnnlr.tensors.as_events: plain arrays become the tensors a hand-built EventTensors holds."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepnnlr.errors import ConfigError, NonFiniteInputError, ShapeMismatchError
from hepnnlr.tensors import EventTensors, as_columns, as_events, from_awkward


def _same(a: EventTensors, b: EventTensors) -> None:
    """Bit for bit the same inputs (exact: the adapter only casts and pads)."""
    assert (a.particle_features, a.global_features, a.theta_names) == (
        b.particle_features,
        b.global_features,
        b.theta_names,
    )
    for x, y in ((a.particles, b.particles), (a.mask, b.mask), (a.globals, b.globals)):
        assert (x is None) == (y is None)
        if x is not None:
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)
    if b.theta is not None:
        np.testing.assert_array_equal(a.theta, b.theta)


def test_columns_arrays_mappings_and_records_give_the_hand_built_globals():
    values = np.random.default_rng(1).normal(size=(5, 2))
    hand = EventTensors(None, None, values.astype(np.float32), (), ("a", "b"))
    _same(as_events(values, features=("a", "b")), hand)
    _same(as_events({"a": values[:, 0], "b": values[:, 1]}), hand)
    _same(as_events(ak.zip({"a": values[:, 0], "b": values[:, 1]})), hand)
    records = np.rec.fromarrays([values[:, 0], values[:, 1]], names="a,b")
    _same(as_events(records), hand)
    # unnamed columns are x0, x1, ...; a 1-D array is one column
    assert as_events(values).global_features == ("x0", "x1")
    _same(as_events(values[:, 0]), EventTensors(None, None, hand.globals[:, :1], (), ("x0",)))
    # a mapping's features pick and order its columns
    _same(
        as_events({"b": values[:, 1], "a": values[:, 0], "c": values[:, 0]}, features=["a", "b"]),
        hand,
    )


def test_jagged_particles_are_padded_with_a_mask_as_from_awkward_pads_them():
    particles = ak.Array([[{"pt": 1.0, "eta": 0.5}], [], [{"pt": 2.0, "eta": -1.0}] * 3])
    hand = from_awkward(
        ak.zip({"particles": particles}, depth_limit=1), particle_features=("pt", "eta")
    )
    _same(as_events(particles), hand)
    wide = as_events(particles, max_particles=5)
    assert wide.particles.shape == (3, 5, 2) and wide.mask.sum() == 4
    # lists of numbers are one particle feature
    lists = as_events(ak.Array([[1.0, 2.0], [], [3.0]]), features=["pt"])
    np.testing.assert_array_equal(lists.mask, [[True, True], [False, False], [True, False]])
    assert lists.particle_features == ("pt",)


def test_zero_padded_numpy_particles_get_a_mask_and_a_given_mask_zeroes_the_padding():
    values = np.zeros((3, 4, 2), np.float32)
    values[0, :2] = 1.0
    values[2, 0, 1] = -2.0  # a particle with one zero feature is still a particle
    events = as_events(values)
    np.testing.assert_array_equal(events.mask.sum(axis=1), [2, 0, 1])
    assert events.particle_features == ("x0", "x1")
    mask = np.zeros((3, 4), bool)
    mask[0, 0] = True
    masked = as_events(values, mask=mask)
    assert masked.particles[0, 1].sum() == 0 and masked.particles[0, 0].sum() == 2


def test_theta_is_attached_with_its_names():
    x = np.arange(4.0)
    named = as_events(x, theta={"mu": x / 2})
    assert named.theta_names == ("mu",)
    np.testing.assert_array_equal(named.theta[:, 0], x / 2)
    assert as_events(x, theta=np.ones((4, 2))).theta_names == ("theta0", "theta1")
    hand = EventTensors(None, None, x.reshape(-1, 1).astype(np.float32), (), ("x0",))
    _same(as_events(hand, theta={"mu": x / 2}), named)
    assert as_events(hand) is hand  # tensors pass through untouched


@pytest.mark.parametrize(
    ("bad", "kwargs", "error", "match"),
    [
        (np.ones((2, 2, 2, 2)), {}, ShapeMismatchError, r"sim_reco: .*shape \(2, 2, 2, 2\)"),
        ([[1.0, 2.0], [3.0]], {}, ShapeMismatchError, r"sim_reco: .*ak\.Array"),
        ({"a": [1, 2], "b": [1]}, {}, ShapeMismatchError, r"sim_reco: column 'b'"),
        ({"a": [1, 2]}, {"features": ["c"]}, ShapeMismatchError, r"no column 'c'"),
        (np.ones((3, 2)), {"features": ["a"]}, ShapeMismatchError, r"1 name.* 2 column"),
        (np.ones((3, 2, 1)), {"mask": np.ones((3, 3))}, ShapeMismatchError, r"mask must be"),
        (np.ones((3, 2)), {"mask": np.ones((3, 2))}, ConfigError, r"mask goes with"),
        (ak.Array([[1.0], []]), {"mask": np.ones((2, 1))}, ConfigError, r"mask goes with"),
        (np.ones(3), {"theta": np.ones(2)}, ShapeMismatchError, r"theta has 2 rows for 3"),
        (np.array([1.0, np.nan]), {}, NonFiniteInputError, r"x0.* sim_reco"),
        (ak.Array([{"n": 1.0, "p": [1.0]}]), {}, ShapeMismatchError, r"from_awkward"),
    ],
)
def test_bad_input_names_the_argument_and_the_shape(bad, kwargs, error, match):
    with pytest.raises(error, match=match):
        as_events(bad, argument="sim_reco", **kwargs)


def test_tensors_with_array_options_are_refused():
    hand = EventTensors(None, None, np.ones((2, 1), np.float32), (), ("x",))
    with pytest.raises(ConfigError, match="carry their own"):
        as_events(hand, features=["y"])


def test_as_columns_keeps_float64_for_the_numpy_methods():
    values, names = as_columns({"c": np.array([0.1, 0.2])})
    assert values.dtype == np.float64 and values.shape == (2, 1) and names == ("c",)
    assert values[0, 0] == 0.1
