"""Histograms with dataset and variation axes, written as {region}/{dataset}_{variation}."""

from __future__ import annotations

import hist
import numpy as np
import pytest
import uproot

from hepnnlr.errors import ConfigError
from hepnnlr.results.hist_layout import (
    cell,
    read_region_histograms,
    stack_variations,
    variation_histograms,
    write_region_histograms,
)

AXIS = hist.axis.Regular(6, 150.0, 5000.0, transform=hist.axis.transform.log, name="Q2")


def _filled(seed: int) -> hist.Hist:
    rng = np.random.default_rng(seed)
    h = hist.Hist(AXIS, storage=hist.storage.Weight())
    # values outside the axis too: the flow bins travel with the rest
    h.fill(rng.uniform(100.0, 6000.0, 400), weight=rng.uniform(0.5, 1.5, 400))
    return h


def test_stack_write_and_read_back_bit_for_bit(tmp_path):
    data, sim, unfolded = _filled(1), _filled(2), _filled(3)
    stat, method = np.linspace(1.0, 2.0, 6), np.full(6, 0.5)
    shifted = variation_histograms(unfolded, {"stat": stat, "method": method})
    np.testing.assert_array_equal(shifted["stat_down"].values(), unfolded.values() - stat)
    np.testing.assert_array_equal(shifted["method_up"].variances(), unfolded.variances())
    stacked = stack_variations(
        {"data": data, "sim": sim, "unfolded": unfolded}, {"unfolded": shifted}
    )
    assert stacked.axes.name == ("dataset", "variation", "Q2")
    assert list(stacked.axes["variation"]) == [
        "nominal", "stat_up", "stat_down", "method_up", "method_down",
    ]  # fmt: skip
    np.testing.assert_array_equal(
        cell(stacked, "unfolded", "stat_up").values(flow=True),
        shifted["stat_up"].values(flow=True),
    )
    # a dataset without the variation holds its nominal there
    np.testing.assert_array_equal(
        cell(stacked, "sim", "method_down").variances(flow=True), sim.variances(flow=True)
    )
    path = write_region_histograms(tmp_path / "h.root", {"gen_Q2": stacked})
    with uproot.open(path) as f:
        keys = {k for k in f.keys(cycle=False, recursive=True) if "/" in k}
    assert keys == {"gen_Q2/data_nominal", "gen_Q2/sim_nominal", "gen_Q2/unfolded_nominal"} | {
        f"gen_Q2/unfolded_{p}_{s}" for p in ("stat", "method") for s in ("up", "down")
    }
    back = read_region_histograms(path)["gen_Q2"]
    assert list(back.axes["dataset"]) == ["data", "sim", "unfolded"]
    np.testing.assert_array_equal(back.axes[2].edges, AXIS.edges)
    np.testing.assert_array_equal(back.view(flow=True).value, stacked.view(flow=True).value)
    np.testing.assert_array_equal(back.view(flow=True).variance, stacked.view(flow=True).variance)


def test_bad_stacks_name_the_problem():
    h = _filled(1)
    other = hist.Hist(hist.axis.Regular(3, 0.0, 1.0, name="y"), storage=hist.storage.Weight())
    with pytest.raises(ConfigError, match="does not have the axes of the others"):
        stack_variations({"data": h, "sim": other})
    with pytest.raises(ConfigError, match=r"variations of \['prior'\]"):
        stack_variations({"data": h}, {"prior": {"stat_up": h}})
    with pytest.raises(ConfigError, match=r"errors\['stat'\] has shape \(5,\)"):
        variation_histograms(h, {"stat": np.ones(5)})
    with pytest.raises(ConfigError, match=r"variation 'up' is not in the histogram"):
        cell(stack_variations({"data": h}), "data", "up")
