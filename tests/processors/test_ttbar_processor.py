"""Tests of hepnnlr.processors.ttbar.TTbarProcessor."""

from __future__ import annotations

import math
import pickle

import awkward as ak
import numpy as np
import pytest
import uproot

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.observables.top import TOP_MASS_FIELDS
from hepnnlr.processors.ttbar import (
    TTbarProcessor,
    collect_columns,
    collect_cutflow,
    collect_hists,
)
from hepnnlr.samples.ttbar_reco import make_ttbar_sample, write_ttbar_events
from hepnnlr.schema import run_processor

N_EVENTS = 300
# sums of weights merged in another order (futures, dask) differ by rounding only
SUMMATION_RTOL = 1e-12


@pytest.fixture(scope="module")
def ttbar_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("ttbar_proc") / "tt.root"
    make_ttbar_sample(path, n_events=N_EVENTS, seed=21, progress=False, block_size=150)
    return str(path)


@pytest.fixture(scope="module")
def outputs(ttbar_file, run_every_executor) -> dict[str, dict]:
    # three chunks: merging is exercised
    return run_every_executor(
        TTbarProcessor(), {"tt": [ttbar_file]}, chunksize=math.ceil(N_EVENTS / 3)
    )


def test_identical_under_every_executor(outputs) -> None:
    reference = outputs["iterative"]
    ref_columns = collect_columns(reference)
    assert len(ref_columns) == N_EVENTS
    assert np.all(ak.to_numpy(ref_columns.event) == np.arange(N_EVENTS))
    for executor in ("futures", "dask"):
        out = outputs[executor]
        assert out["cutflow"] == reference["cutflow"], executor
        for level in ("gen", "reco"):
            for name in TOP_MASS_FIELDS:
                h, ref = out["hists"][level][name], reference["hists"][level][name]
                np.testing.assert_allclose(
                    h.values(flow=True), ref.values(flow=True), rtol=SUMMATION_RTOL
                )
                np.testing.assert_allclose(
                    h.variances(flow=True), ref.variances(flow=True), rtol=SUMMATION_RTOL
                )
        assert ak.to_list(collect_columns(out)) == ak.to_list(ref_columns), executor


def test_cutflow_and_columns_agree(outputs) -> None:
    out = outputs["iterative"]
    cutflow, columns = collect_cutflow(out), collect_columns(out)
    assert list(out["cutflow"]) == ["tt"]
    assert cutflow["events"] == N_EVENTS
    for level in ("gen", "reco"):
        c = columns[level]
        reason = ak.to_numpy(c.reason)
        assert cutflow[f"{level}_pass"] == int(np.sum(reason == 0))
        assert cutflow[f"{level}_muon"] >= cutflow[f"{level}_2b"] >= cutflow[f"{level}_2light"]
        assert (
            cutflow[f"{level}_nu_real"] + cutflow[f"{level}_nu_no_real"] == cutflow[f"{level}_pass"]
        )
        for name in TOP_MASS_FIELDS:
            assert ak.all(ak.is_none(c[name]) == (reason != 0))
            h = out["hists"][level][name]
            assert h.axes[0].name == "dataset" and list(h.axes[0]) == ["tt"]
            assert h.sum(flow=True).value == cutflow[f"{level}_pass"]
    # gen level uses the true neutrino (paper): every selected event has a solution
    assert cutflow["gen_nu_no_real"] == 0 and cutflow["gen_muon"] == N_EVENTS
    assert cutflow["reco_nu_no_real"] > 0  # MET resolution pushes m_T above m_W
    assert np.all(ak.to_numpy(columns.top_mass) == 172.5)
    # footnote 5 of the paper: no real solution -> m(b mu nu) = 0
    no_real = ak.fill_none(~columns.reco.nu_real, False)
    assert ak.all(columns.reco.m_b1munu[no_real] == 0.0)


def _edge_event(jets, muons, met=(30.0, -20.0)):
    jet_fields = ("pt", "eta", "phi", "mass", "btag")
    return {
        "event": 0,
        "weight": 1.0,
        "top_mass": 172.5,
        "MET_pt": float(np.hypot(*met)),
        "MET_phi": float(np.arctan2(met[1], met[0])),
        "GenMET_pt": float(np.hypot(*met)),
        "GenMET_phi": float(np.arctan2(met[1], met[0])),
        "GenPart": [],
        "GenB": [],
        "GenMuon": muons,
        "GenNeutrino": [{"pt": 36.0, "eta": 0.1, "phi": -0.59, "E": 36.2}],
        "GenJet": [dict(zip(jet_fields, j, strict=True)) for j in jets],
        "RecoJet": [dict(zip(jet_fields, j, strict=True)) for j in jets],
        "RecoMuon": muons,
    }


MUON = [{"pt": 45.0, "eta": 0.3, "phi": 0.2, "E": 47.0, "charge": 1}]
GOOD_JETS = [  # (pt, eta, phi, mass, btag): two b jets and two light jets that pass
    (80.0, -0.5, -2.5, 10.0, True),
    (60.0, 0.9, 1.0, 7.0, True),
    (50.0, -1.2, 2.9, 6.0, False),
    (40.0, 0.0, -1.0, 4.0, False),
]


def _write_edge_file(path, rows: list[dict]):
    """A tt̄ file of the hand-made ``rows`` (``_edge_event``), without particles or b hadrons."""
    events = ak.Array(rows)
    events = ak.with_field(events, np.arange(len(rows), dtype=np.uint64), "event")
    for name, fields in (
        ("GenPart", ("pt", "eta", "phi", "E", "pdgId", "charge")),
        ("GenB", ("pt", "eta", "phi", "pdgId")),
    ):
        empty = ak.zip({f: np.zeros(0) for f in fields})
        events = ak.with_field(events, ak.unflatten(empty, np.zeros(len(rows), int)), name)
    return write_ttbar_events(path, events)


def test_edge_cases_masked_and_counted(tmp_path) -> None:
    muon, good = MUON, GOOD_JETS
    rows = [
        _edge_event(good, muon),  # passes
        _edge_event(good, []),  # no muon
        _edge_event([good[0], *good[2:]], muon),  # one b jet
        _edge_event(good, muon, met=(-150.0 * np.cos(0.2), -150.0 * np.sin(0.2))),  # no root
    ]
    path = _write_edge_file(tmp_path / "edge.root", rows)
    out = run_processor(TTbarProcessor(), {"edge": [path]}, progress=False)
    cutflow = collect_cutflow(out)
    assert cutflow["reco_muon"] == 3 and cutflow["reco_2b"] == 2
    assert cutflow["reco_pass"] == 2
    assert cutflow["reco_nu_real"] == 1 and cutflow["reco_nu_no_real"] == 1
    columns = collect_columns(out)
    assert columns.reco.reason.tolist() == [0, 1, 2, 0]
    assert columns.reco.m_b1munu.tolist()[1:3] == [None, None]
    assert columns.reco.m_b1munu[3] == 0.0 and columns.reco.m_b1jj[3] > 0.0
    # generator level with gen_neutrino="met" solves on GenMET like the detector level
    met_out = run_processor(TTbarProcessor(gen_neutrino="met"), {"edge": [path]}, progress=False)
    assert met_out["cutflow"]["edge"]["gen_nu_no_real"] == 1


def test_processor_config_and_pickling(ttbar_file) -> None:
    processor = TTbarProcessor()
    clone = pickle.loads(pickle.dumps(processor))
    assert clone.required_branches == processor.required_branches
    assert "GenNeutrino_pt" in processor.required_branches
    assert "GenMET_pt" in TTbarProcessor(gen_neutrino="met").required_branches
    with pytest.raises(ConfigError, match="gen_neutrino"):
        TTbarProcessor(gen_neutrino="parton")
    with pytest.raises(ConfigError, match="TopSelectionConfig"):
        TTbarProcessor(selection={"jet_pt_min": 20})
    # a file without the tt̄ branches fails before any work, naming the branch
    with uproot.recreate(ttbar_file + ".bad.root") as file:
        file.mktree("events", {"event": np.uint64, "weight": np.float64})
        file["events"].extend({"event": np.arange(3, dtype=np.uint64), "weight": np.ones(3)})
    with pytest.raises(MissingBranchError, match="top_mass"):
        run_processor(TTbarProcessor(), {"bad": [ttbar_file + ".bad.root"]}, progress=False)


def test_events_without_jets_are_masked_and_counted(tmp_path) -> None:
    """Events with no jets at all (with and without a muon) next to one that passes."""
    muon, good = MUON, GOOD_JETS
    rows = [_edge_event([], []), _edge_event([], muon), _edge_event(good, muon)]
    path = _write_edge_file(tmp_path / "nojets.root", rows)
    out = run_processor(TTbarProcessor(), {"nojets": [path]}, progress=False)
    cutflow = collect_cutflow(out)
    assert cutflow["events"] == 3
    assert cutflow["reco_muon"] == 2 and cutflow["reco_2b"] == 1 and cutflow["reco_pass"] == 1
    columns = collect_columns(out)
    # reason 1: no muon, 2: fewer than two b jets (here: no jet at all), 0: selected
    assert columns.reco.reason.tolist() == [1, 2, 0]
    for name in TOP_MASS_FIELDS:
        assert ak.is_none(columns.reco[name]).tolist() == [True, True, False]
        assert collect_hists(out)["reco"][name].sum(flow=True).value == 1.0


def test_two_datasets_never_mix(ttbar_file, tmp_path, assert_datasets_apart) -> None:
    """The Pythia sample and the hand-made edge cases in one run: each dataset's cut-flow
    and histograms equal, bit for bit, those of the run over its file alone."""
    muon, good = MUON, GOOD_JETS
    edge = _write_edge_file(
        tmp_path / "edge.root", [_edge_event(good, muon), _edge_event(good, [])]
    )
    out = assert_datasets_apart(
        TTbarProcessor, {"sim": [ttbar_file], "edge": [str(edge)]}, chunksize=N_EVENTS // 2
    )
    assert out["cutflow"]["edge"]["events"] == 2 and out["cutflow"]["sim"]["events"] == N_EVENTS


# --- the ttbar analysis description: the same numbers through AnalysisProcessor ---------

_DESCRIPTION_COLUMNS = ("reason", "nu_real", "nu_pz", *TOP_MASS_FIELDS)


@pytest.fixture(scope="module")
def description_output(ttbar_file) -> dict:
    from hepnnlr.analysis import get
    from hepnnlr.processors import AnalysisProcessor

    # one chunk (the merging of chunks is TTbarProcessor's test's, above)
    return run_processor(
        AnalysisProcessor(get("ttbar")), {"tt": [ttbar_file]}, chunksize=N_EVENTS,
        progress=False,
    )  # fmt: skip


def test_ttbar_description_gives_the_columns_of_ttbar_processor(
    outputs, description_output
) -> None:
    generic, dedicated = collect_columns(description_output), collect_columns(outputs["iterative"])
    for level in ("gen", "reco"):
        reason = ak.to_numpy(dedicated[level].reason)
        # selected events and failing ones come up in 300 events
        assert (reason == 0).any() and (reason != 0).any(), level
        assert ak.fields(generic[level]) == list(_DESCRIPTION_COLUMNS)
        for field in _DESCRIPTION_COLUMNS:
            got, expected = generic[level][field], dedicated[level][field]
            # bit for bit: the same None entries and the same float64 values
            assert ak.is_none(got).tolist() == ak.is_none(expected).tolist(), (level, field)
            np.testing.assert_array_equal(
                ak.to_numpy(ak.drop_none(got)), ak.to_numpy(ak.drop_none(expected))
            )
        np.testing.assert_array_equal(ak.to_numpy(generic[f"pass_{level}"]), reason == 0)
    np.testing.assert_array_equal(ak.to_numpy(generic.weight), ak.to_numpy(dedicated.weight))


def test_ttbar_description_gives_the_histograms_and_cut_flow_of_ttbar_processor(
    outputs, description_output
) -> None:
    from hist_checks import assert_same_hists

    # every weight is 1.0: the sums are exact whatever the order of filling
    assert_same_hists(collect_hists(description_output), collect_hists(outputs["iterative"]))
    generic, dedicated = collect_cutflow(description_output), collect_cutflow(outputs["iterative"])
    assert generic["events"] == dedicated["events"] == N_EVENTS
    for level in ("gen", "reco"):
        for mine, theirs in (("muon", "muon"), ("two_b", "2b"), ("two_light", "2light")):
            assert generic[f"{level}_{mine}"] == dedicated[f"{level}_{theirs}"], (level, mine)
        assert generic[f"pass_{level}"] == dedicated[f"{level}_pass"]
        assert generic[f"{level}_nu_real"] == dedicated[f"{level}_nu_real"]
