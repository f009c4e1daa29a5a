"""The shared reading of a cut's/region's value and of a histogram's entries."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.observables.entries import event_flags, selected_entries

NAMES = {"key": "a.yaml.gen.selection.q", "text": "Q2 > 1", "what": "cut", "example": "Q2 > 150"}


def test_event_flags_reads_booleans_none_and_one_value_for_all() -> None:
    assert event_flags(True, 3, **NAMES).tolist() == [True, True, True]
    flags = np.array([True, False])
    assert event_flags(flags, 2, **NAMES) is flags  # no copy of a plain boolean array
    assert event_flags(ak.Array([True, None, False]), 3, **NAMES).tolist() == [True, False, False]


def test_event_flags_refuses_lists_lengths_and_numbers_naming_the_definition() -> None:
    with pytest.raises(
        ShapeMismatchError, match=r"^a.yaml.gen.selection.q: the cut 'Q2 > 1' .* in f;"
    ):
        event_flags(ak.Array([[True], []]), 2, where="f", **NAMES)
    with pytest.raises(ShapeMismatchError, match="one true/false per event"):
        event_flags(np.array([True, False]), 3, **NAMES)
    with pytest.raises(ConfigError, match=r"int64 values, not true/false.*e.g. Q2 > 150"):
        event_flags(np.array([1, 0]), 2, **NAMES)


def test_selected_entries_flatten_objects_with_their_event_weights() -> None:
    value = ak.Array([[1.0, None, 2.0], [3.0], [4.0, 5.0]])
    values, weights = selected_entries(value, np.array([True, False, True]), np.array([1, 2, 3.0]))
    assert ak.to_list(values) == [1.0, 2.0, 4.0, 5.0]  # None dropped, event 1 not selected
    assert weights.tolist() == [1.0, 1.0, 3.0, 3.0]
    nested = ak.Array([[[1.0], [2.0, 3.0]], [[4.0]]])
    values, weights = selected_entries(nested, np.array([True, True]), np.array([1.0, 2.0]))
    assert ak.to_list(values) == [1.0, 2.0, 3.0, 4.0]
    assert weights.tolist() == [1.0, 1.0, 1.0, 2.0]
