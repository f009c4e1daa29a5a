"""processors/chunks.py: flat_collection, the flat buffers every processor starts from."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepnnlr.processors.chunks import flat_collection

FIELDS = ("pt", "charge")


def _expected(collection: ak.Array) -> tuple[list, dict]:
    """What awkward itself gives: counts (None events empty) and flattened fields."""
    filled = ak.fill_none(collection, [], axis=0)
    counts = ak.to_list(ak.num(filled, axis=1))
    return counts, {f: ak.to_numpy(ak.flatten(filled[f], axis=1)) for f in FIELDS}


def _events() -> ak.Array:
    pt = ak.Array([[1.5, 2.5], [], [3.5, 4.5, 5.5], [6.5]])
    charge = ak.values_astype(ak.Array([[1, -1], [], [0, 1, -1], [1]]), np.int8)
    return ak.zip({"pt": ak.values_astype(pt, np.float32), "charge": charge})


@pytest.mark.parametrize(
    "make",
    [
        lambda: _events(),  # the NanoEvents layout: list offsets over plain records
        lambda: _events()[1:],  # offsets not starting at 0: the buffers are sliced
        lambda: ak.Array([None, *_events().to_list()]),  # None events: awkward's path
        lambda: _events()[[3, 0, 2]],  # indexed (ListArray): awkward's path
    ],
    ids=["packed", "sliced", "option", "indexed"],
)
def test_flat_collection_is_awkwards_flatten(make, request) -> None:
    collection = make()
    counts, offsets, flat = flat_collection(collection, FIELDS)
    if request.node.callspec.id in ("packed", "sliced"):
        # the fast path: views of the collection's own buffers, no copy
        assert np.shares_memory(flat["pt"], collection.layout.content.content("pt").data)
    expected_counts, expected = _expected(collection)
    assert counts.tolist() == expected_counts
    assert offsets.tolist() == np.concatenate([[0], np.cumsum(expected_counts)]).tolist()
    for field in FIELDS:
        assert flat[field].dtype == expected[field].dtype
        assert np.array_equal(flat[field], expected[field])


def test_flat_collection_names_a_missing_field() -> None:
    with pytest.raises(Exception, match="nope"):
        flat_collection(_events(), ("pt", "nope"))


def test_cutflow_counts_are_coffeas_cutflow() -> None:
    """cutflow_counts counts with PackedSelection.all; the numbers must be those of
    coffea's own PackedSelection.cutflow(...).result().nevcutflow, for any order of cuts
    (exact integers: both count the same boolean masks)."""
    from coffea.analysis_tools import PackedSelection

    from hepnnlr.processors.chunks import cutflow_counts

    rng = np.random.default_rng(3)
    selection = PackedSelection()
    for i in range(4):
        selection.add(f"cut{i}", rng.uniform(size=500) > 0.3)
    for names in (("cut0",), ("cut1", "cut2"), ("cut3", "cut2", "cut0"), ("cut2", "cut1")):
        expected = selection.cutflow(*names).result().nevcutflow
        assert cutflow_counts(selection, *names) == [int(n) for n in expected]
