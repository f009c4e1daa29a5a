from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepnnlr.errors import ConfigError, MissingBranchError, NonFiniteInputError
from hepnnlr.tensors import pad_particles

PARTICLES = ak.Array(
    [
        [{"a": 1.0, "b": 10.0}, {"a": 2.0, "b": 20.0}],
        [],
        [{"a": 3.0, "b": 30.0}],
    ]
)


def test_padding_keeps_every_particle_in_order_and_masks_the_rest():
    values, mask = pad_particles(PARTICLES, ["b", "a"])
    assert values.shape == (3, 2, 2)
    np.testing.assert_array_equal(mask, [[True, True], [False, False], [True, False]])
    np.testing.assert_array_equal(values[..., 0], [[10, 20], [0, 0], [30, 0]])
    np.testing.assert_array_equal(values[..., 1], [[1, 2], [0, 0], [3, 0]])


def test_explicit_slots_pad_wider():
    values, mask = pad_particles(PARTICLES, ["a"], max_particles=4)
    assert values.shape == (3, 4, 1)
    assert mask.sum() == 3


def test_too_few_slots_is_an_error_not_a_silent_truncation():
    with pytest.raises(ConfigError, match="max_particles=1 but an event.*has 2 particles"):
        pad_particles(PARTICLES, ["a"], max_particles=1)


def test_unknown_field_is_named():
    with pytest.raises(MissingBranchError, match="'c' is not a field"):
        pad_particles(PARTICLES, ["c"], where="sim")


def test_nan_names_the_feature_and_the_event():
    bad = ak.Array([[{"a": 1.0}], [{"a": 2.0}, {"a": np.nan}]])
    with pytest.raises(NonFiniteInputError, match="particle feature a.*NaN first at event 1"):
        pad_particles(bad, ["a"])
