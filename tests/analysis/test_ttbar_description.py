"""The tt̄ description against TTbarProcessor on the same file."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
from hist_checks import assert_same_hists

from hepnnlr.analysis import get
from hepnnlr.observables.top import TOP_MASS_FIELDS
from hepnnlr.processors import AnalysisProcessor, TTbarProcessor
from hepnnlr.processors.chunks import collect_columns, collect_cutflow, collect_hists
from hepnnlr.samples import make_ttbar_sample
from hepnnlr.schema import run_processor

_COLUMNS = ("reason", "nu_real", "nu_pz", *TOP_MASS_FIELDS)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    # 30 events without MPI (~0.1 s of Pythia): about a quarter pass a level's selection,
    # and both failing reasons come up (checked below)
    path = make_ttbar_sample(
        tmp_path_factory.mktemp("ttbar_analysis") / "tt.root", n_events=30, seed=5,
        progress=False,
    )  # fmt: skip
    fileset = {"tt": [str(path)]}
    # two chunks: the merged columns and histograms of both
    return tuple(
        run_processor(processor, fileset, chunksize=15, progress=False)
        for processor in (AnalysisProcessor(get("ttbar")), TTbarProcessor())
    )


def test_ttbar_description_gives_the_columns_of_ttbar_processor(outputs) -> None:
    generic, dedicated = (collect_columns(out, "tt") for out in outputs)
    for level in ("gen", "reco"):
        reason = ak.to_numpy(dedicated[level].reason)
        # the comparison sees selected and failing events at this size
        assert (reason == 0).any() and (reason != 0).any(), (level, reason)
        assert ak.fields(generic[level]) == list(_COLUMNS)
        for field in _COLUMNS:
            got, expected = generic[level][field], dedicated[level][field]
            # bit for bit: the same None entries and the same float64 values
            assert ak.is_none(got).tolist() == ak.is_none(expected).tolist(), (level, field)
            np.testing.assert_array_equal(
                ak.to_numpy(ak.drop_none(got)), ak.to_numpy(ak.drop_none(expected))
            )
        passed = ak.to_numpy(generic[f"pass_{level}"])
        np.testing.assert_array_equal(passed, reason == 0)
    np.testing.assert_array_equal(ak.to_numpy(generic.weight), ak.to_numpy(dedicated.weight))


def test_ttbar_description_gives_the_histograms_and_cut_flow_of_ttbar_processor(outputs) -> None:
    generic, dedicated = (collect_hists(out) for out in outputs)
    # every weight is 1.0: the sums are exact whatever the order of filling
    assert_same_hists(generic, dedicated)
    generic, dedicated = (collect_cutflow(out) for out in outputs)
    assert generic["events"] == dedicated["events"] == 30
    for level in ("gen", "reco"):
        for mine, theirs in (("muon", "muon"), ("two_b", "2b"), ("two_light", "2light")):
            assert generic[f"{level}_{mine}"] == dedicated[f"{level}_{theirs}"], (level, mine)
        assert generic[f"pass_{level}"] == dedicated[f"{level}_pass"]
        assert generic[f"{level}_nu_real"] == dedicated[f"{level}_nu_real"]


def test_the_top_mass_is_the_parameter_of_the_description() -> None:
    (parameter,) = get("ttbar").parameters.values()
    assert (parameter.name, parameter.nominal) == ("top_mass", 172.5)
