"""The dataset axis of processor histograms: booking, filling, selecting one dataset."""

from __future__ import annotations

import hist
import numpy as np
import pytest

from hepnnlr.errors import ConfigError
from hepnnlr.observables.dataset_histos import (
    book_histogram,
    datasets_of,
    fill_histogram,
    observable_axis,
    select_dataset,
)


def _axis() -> hist.axis.Regular:
    return hist.axis.Regular(5, 0.0, 1.0, name="x", label="x")


def test_booked_category_exists_before_any_entry() -> None:
    """A dataset whose chunks fill nothing still has its (empty) row after merging."""
    empty = book_histogram(_axis(), dataset="data")
    filled = book_histogram(_axis(), dataset="sim", label="reco")
    fill_histogram(filled, [0.1, 0.5, 2.0], [1.0, 2.0, 3.0], dataset="sim")
    fill_histogram(empty, np.array([]), np.array([]), dataset="data")
    merged = filled + empty
    assert sorted(merged.axes["dataset"]) == ["data", "sim"]
    assert select_dataset(merged, "data").sum(flow=True).value == 0.0
    sim = select_dataset(merged, "sim")
    assert sim.label == "reco" and observable_axis(sim) == _axis()
    np.testing.assert_array_equal(sim.values(flow=True), [0, 1, 0, 2, 0, 0, 3])
    np.testing.assert_array_equal(sim.variances(flow=True), [0, 1, 0, 4, 0, 0, 9])


def test_select_dataset_keeps_nesting_and_names_the_datasets() -> None:
    tree = {"gen": {"x": book_histogram(_axis(), dataset="sim")}}
    fill_histogram(tree["gen"]["x"], [0.3], [2.0], dataset="data")
    assert datasets_of(tree) == ["data", "sim"]
    picked = select_dataset(tree, "data")
    assert picked["gen"]["x"].sum().value == 2.0 and len(picked["gen"]["x"].axes) == 1
    with pytest.raises(ConfigError, match=r"datasets present: \['data', 'sim'\]"):
        select_dataset(tree, "mc")
    with pytest.raises(ConfigError, match="has no dataset axis"):
        select_dataset(book_histogram(_axis(), dataset=None), "sim")
    assert datasets_of({"x": book_histogram(_axis(), dataset=None)}) == []
