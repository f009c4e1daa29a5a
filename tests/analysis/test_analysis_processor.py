"""AnalysisProcessor: the DIS description against DISProcessor, PFNano, missing fields."""

from __future__ import annotations

import math
import pickle

import awkward as ak
import numpy as np
import pytest
import uproot
from coffea.nanoevents import NanoEventsFactory
from hist_checks import assert_same_hists
from shared_data import shared_data_file

from hepnnlr.analysis import AnalysisDescription, get
from hepnnlr.errors import ConfigError, MissingBranchError, NonFiniteInputError
from hepnnlr.processors import AnalysisProcessor, DISProcessor
from hepnnlr.processors.analysis import run_analysis
from hepnnlr.processors.chunks import collect_columns, collect_cutflow, collect_hists
from hepnnlr.schema import SCHEMAS, run_processor


@pytest.fixture(scope="module")
def dis_outputs(dis_sim_file):
    fileset = {"sim": [str(dis_sim_file)]}
    chunksize = math.ceil(1500 / 3)  # three chunks: the merge is exercised
    generic = run_processor(AnalysisProcessor(get("dis")), fileset, chunksize=chunksize,
                            progress=False)  # fmt: skip
    dedicated = run_processor(DISProcessor(), fileset, chunksize=chunksize, progress=False)
    return generic, dedicated


def test_dis_description_gives_the_histograms_of_dis_processor(dis_outputs) -> None:
    generic, dedicated = (collect_hists(out) for out in dis_outputs)
    assert generic.keys() == dedicated.keys() == {"gen", "reco"}
    # the same values filled in the same order: equal to the last bit
    assert_same_hists(generic, dedicated)
    for level, hists in generic.items():
        for name, got in hists.items():
            assert got.sum(flow=True).value > 0, (level, name)


def test_dis_description_gives_the_cut_flow_of_dis_processor(dis_outputs) -> None:
    generic, dedicated = (collect_cutflow(out) for out in dis_outputs)
    for key in ("events", "pass_gen", "pass_reco", "pass_both"):
        assert generic[key] == dedicated[key], key
    # the description counts the events with an electron, fiducial particles and jets in
    # turn; DISProcessor counts those that fail
    for level in ("gen", "reco"):
        for step in ("electron", "particles", "jets"):
            without = dedicated[f"{level}_no_{step}"]
            assert generic[f"{level}_{step}"] == dedicated["events"] - without, (level, step)
        assert generic[f"{level}_pass_{level}"] == dedicated[f"pass_{level}"]
    assert 0 < dedicated["gen_no_jets"] < dedicated["events"]  # the counts are not trivial


def test_dis_description_columns_hold_the_network_inputs(dis_outputs) -> None:
    generic, dedicated = (collect_columns(out) for out in dis_outputs)
    assert ak.array_equal(generic.event, dedicated.event)
    assert np.array_equal(ak.to_numpy(generic.entry), np.arange(len(dedicated)))
    for key in ("weight", "pass_gen", "pass_reco"):
        assert ak.array_equal(generic[key], dedicated[key]), key
    for level in ("gen", "reco"):
        for field in ("log_Q2", "y", "eta_e"):
            assert ak.array_equal(generic[level][field], dedicated[level][field])
        for field in ("log_pt", "deta", "dphi", "charge"):
            assert ak.array_equal(
                generic[level].particles[field], dedicated[level].particles[field]
            )


def test_pfnano_description_on_a_real_file() -> None:
    path = shared_data_file("pfnano.root")
    # one chunk built directly: run_processor would read the metadata of the file's 5,400
    # branches three times (input check, coffea's preprocessing, the chunk), ~1.5 s each
    events = NanoEventsFactory.from_root(
        {str(path): "Events"},
        schemaclass=SCHEMAS[get("pfnano_particles").schema],
        mode="virtual",
        metadata={"dataset": "qcd", "filename": str(path)},
    ).events()
    out = AnalysisProcessor(get("pfnano_particles")).process(events)
    # by hand from the same events (a second uproot.open would read the metadata again)
    branches = {
        "run": events.run,
        "event": events.event,
        "genWeight": events.genWeight,
        "nPFCands": ak.num(events.PFCands.pt, axis=1),
        "PFCands_pt": events.PFCands.pt,
        "PFCands_puppiWeight": events.PFCands.puppiWeight,
        "nGenCands": ak.num(events.GenCands.pt, axis=1),
    }
    branches = ak.zip(branches, depth_limit=1)
    weight = ak.to_numpy(branches.genWeight).astype(np.float64)
    assert collect_cutflow(out) == {
        "events": 10,
        "gen_particles": int(np.sum(branches.nGenCands > 0)),
        "pass_gen": int(np.sum(branches.nGenCands > 0)),
        "reco_particles": int(np.sum(branches.nPFCands > 0)),
        "pass_reco": int(np.sum(branches.nPFCands > 0)),
        "pass_both": 10,
    }
    hists = collect_hists(out)
    # every candidate is one entry with its event's weight (flow bins included)
    counts = ak.to_numpy(branches.nPFCands)
    assert hists["reco"]["particle_pt"].sum(flow=True).value == pytest.approx(
        float(np.sum(weight * counts)), rel=1e-12
    )
    puppi_sum = ak.to_numpy(ak.sum(branches.PFCands_pt * branches.PFCands_puppiWeight, axis=1))
    expected = np.histogram(puppi_sum, bins=30, range=(0.0, 6000.0), weights=weight)[0]
    np.testing.assert_allclose(hists["reco"]["sum_pt"].values(), expected, rtol=1e-12)
    columns = collect_columns(out)
    assert columns.run.tolist() == branches.run.tolist()
    assert columns.event.tolist() == branches.event.tolist()
    np.testing.assert_allclose(
        ak.to_numpy(ak.flatten(columns.reco.particles.log_pt)),
        np.log10(ak.to_numpy(ak.flatten(branches.PFCands_pt))),
        rtol=1e-6,  # float32 branches, log10 in float32
    )
    assert columns.reco.particles.weight.tolist() == branches.PFCands_puppiWeight.tolist()
    assert columns.gen.n_particles.tolist() == branches.nGenCands.tolist()


def test_a_field_the_file_lacks_names_dataset_file_and_fields(dis_sim_file) -> None:
    description = AnalysisDescription.from_mapping(
        {
            "name": "t",
            "gen": {"observables": {"e": {"expr": "GenElectron.ptt + 1", "bins": [0, 1]}}},
        }  # fmt: skip
    )
    with pytest.raises(MissingBranchError) as caught:
        run_analysis(description, {"sim": [str(dis_sim_file)]}, progress=False)
    message = str(caught.value)
    assert "analysis.gen.observables.e.expr" in message
    assert "'GenElectron.ptt'" in message and "dataset 'sim'" in message
    assert str(dis_sim_file) in message and "['E', 'eta', 'phi', 'pt']" in message


def test_bad_values_and_arguments_are_refused(dis_sim_file) -> None:
    description = AnalysisDescription.from_mapping(
        {"name": "t", "weight": "weight",
         "gen": {"observables": {"l": {"expr": "log(GenPart.pt - 1)", "bins": [0, 1]}}}}
    )  # fmt: skip
    with pytest.raises(NonFiniteInputError, match=r"gen.observables.l.expr.*NaN or infinite"):
        run_analysis(description, {"sim": [str(dis_sim_file)]}, progress=False, maxchunks=1,
                     chunksize=200)  # fmt: skip
    with pytest.raises(ConfigError, match="needs an AnalysisDescription"):
        AnalysisProcessor("dis")
    with pytest.raises(ConfigError, match="names no datasets"):
        get("dis").fileset()
    assert pickle.loads(pickle.dumps(AnalysisProcessor(get("dis")))).description == get("dis")


def test_observables_of_every_layout_equal_filling_by_hand(dis_sim_file) -> None:
    """Options, slices, filters and None inside lists (awkward's path, not the buffers')."""
    bins = {"n": 20, "start": 0.0, "stop": 10.0}
    observables = {
        "lead": "GenPart.pt[:, 0]",
        "two": "GenPart.pt[:, :2]",
        "charged": "mask(GenPart.pt, GenPart.charge != 0)",
        "last_of_two": "GenPart.pt[:, :2][:, -1]",
        "hardest": "max(GenPart.pt)",
    }
    description = AnalysisDescription.from_mapping(
        {"name": "layouts", "weight": "weight * 2",
         "gen": {"selection": {"gen": "pass_gen"},
                 "observables": {k: {"expr": v, "bins": bins} for k, v in observables.items()}}}
    )  # fmt: skip
    out = run_analysis(description, {"sim": [str(dis_sim_file)]}, chunksize=700, progress=False)
    hists = collect_hists(out)["gen"]
    with uproot.open(dis_sim_file) as file:
        events = file["events"].arrays(["weight", "pass_gen", "GenPart_pt", "GenPart_charge"])
    events = events[events.pass_gen]
    pt = events.GenPart_pt
    by_hand = {
        "lead": ak.firsts(pt),
        "two": pt[:, :2],
        "charged": pt[events.GenPart_charge != 0],
        "last_of_two": ak.firsts(pt[:, :2][:, -1:]),
        "hardest": ak.max(pt, axis=1),
    }
    for name, values in by_hand.items():
        weights, values = ak.broadcast_arrays(events.weight * 2, values)
        present = ~ak.is_none(values, axis=values.ndim - 1)
        flat = ak.to_numpy(ak.flatten(values[present], axis=None))
        flat_weights = ak.to_numpy(ak.flatten(weights[present], axis=None))
        expected = hists[name].copy().reset()
        expected.fill(flat, weight=flat_weights)
        # the same entries in the same order: equal to the last bit
        np.testing.assert_array_equal(hists[name].values(flow=True), expected.values(flow=True))
        assert hists[name].sum(flow=True).value > 0
