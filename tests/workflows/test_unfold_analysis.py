"""``hepnnlr unfold`` on analysis descriptions: the description route gives the
DISProcessor route's network inputs and histograms, the DIS description unfolds hepnnlr's
format and the NanoAOD format of the same events to the same histograms, and the example
job files run at tiny size."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest
from hist_checks import assert_same_hists
from tiny_unfolding import shared_tiny_unfolding

from hepnnlr.observables.dis import KinematicRegion
from hepnnlr.observables.histos import book_dis_histograms, fill_dis_histograms
from hepnnlr.processors.dis import DISProcessor, collect_columns
from hepnnlr.results import read_weights
from hepnnlr.schema import run_processor
from hepnnlr.tensors import Standardizer, from_awkward
from hepnnlr.workflows import load_unfolding_job, run_dis_unfolding
from hepnnlr.workflows.unfold_dis import GLOBAL_FEATURES, PARTICLE_FEATURES, DISUnfoldingJob
from hepnnlr.workflows.unfold_inputs import prepare_inputs, truth_histograms

CONFIGS = Path(__file__).resolve().parents[2] / "examples" / "configs"

# tests/tiny_unfolding.py's TINY as job-file keys (TrainingConfig's patience, 3, where
# the job's default is 5)
TINY_KEYS = {
    "executor": "iterative",
    "progress": False,
    "plots": False,  # drawing costs ~1 CPU s per figure; test_unfold_dis checks the plots
    "particle_features": [],
    "omnifold": {
        "iterations": 1,
        "step1_model": {"kind": "mlp", "hidden": [16]},
        "step2_model": {"kind": "mlp", "hidden": [16]},
        "training": {"epochs": 2, "batch_size": 256, "seed": 5, "patience": 3},
    },
}


def test_description_route_gives_the_dis_processor_inputs_and_histograms(
    dis_data_file, dis_sim_file, tmp_path
):
    """The network inputs, selections and weights of the `dis` description equal those the
    DISProcessor route built (OmniFold is a function of them and its seeds, so its weights
    are too: the demo gives the same chi2, docs/analysis.md), and the truth histograms of
    any weights equal fill_dis_histograms inside KinematicRegion(), bit for bit."""
    job = DISUnfoldingJob(dis_data_file, dis_sim_file, tmp_path, executor="iterative",
                          progress=False)  # fmt: skip
    inputs = prepare_inputs(job)
    old = run_processor(DISProcessor(), {"data": [str(dis_data_file)], "sim": [str(dis_sim_file)]},
                        progress=False)  # fmt: skip
    data, sim = collect_columns(old, "data"), collect_columns(old, "sim")
    data_pass = ak.to_numpy(data.pass_reco)
    np.testing.assert_array_equal(inputs.pass_reco, ak.to_numpy(sim.pass_reco))
    np.testing.assert_array_equal(inputs.pass_gen, ak.to_numpy(sim.pass_gen))
    np.testing.assert_array_equal(inputs.sim_weights, ak.to_numpy(sim.weight).astype(np.float64))
    np.testing.assert_array_equal(inputs.data_weights, ak.to_numpy(data.weight)[data_pass])

    def tensors(columns, level, select):
        return from_awkward(columns[level], particle_features=PARTICLE_FEATURES,
                            global_features=GLOBAL_FEATURES, select=select)  # fmt: skip

    sim_reco = tensors(sim, "reco", inputs.pass_reco)
    sim_gen = tensors(sim, "gen", inputs.pass_gen)
    reco_scaler = Standardizer.fit(sim_reco.subset(inputs.pass_reco))
    gen_scaler = Standardizer.fit(sim_gen.subset(inputs.pass_gen))
    expected = {
        "data_reco": reco_scaler.transform(tensors(data, "reco", data_pass).subset(data_pass)),
        "sim_reco": reco_scaler.transform(sim_reco),
        "sim_gen": gen_scaler.transform(sim_gen),
    }
    for name, want in expected.items():
        got = getattr(inputs, name)
        assert got.particle_features == PARTICLE_FEATURES, name
        assert got.global_features == GLOBAL_FEATURES, name
        for part in ("particles", "mask", "globals"):
            np.testing.assert_array_equal(getattr(got, part), getattr(want, part), err_msg=name)

    weights = np.random.default_rng(3).uniform(0.5, 2.0, len(sim))
    shown = inputs.pass_gen & KinematicRegion().mask(sim.gen)
    old_hists = book_dis_histograms("gen")
    fill_dis_histograms(old_hists, sim.gen[shown], weights[shown])
    new_hists = truth_histograms(inputs.sim, weights, job.description, job.truth_region)
    assert_same_hists(new_hists, old_hists)


@pytest.fixture(scope="module")
def nanoaod_files(dis_data_file, dis_sim_file, tmp_path_factory):
    """The session's DIS files rewritten in the NanoAOD format (the same events)."""
    from hepnnlr.samples.nanoaod import convert_to_nanoaod

    folder = tmp_path_factory.mktemp("nanoaod")
    return {
        name: convert_to_nanoaod(path, folder / f"{path.stem}.nano.root")
        for name, path in (("data", dis_data_file), ("sim", dis_sim_file))
    }


def test_dis_unfolds_hepnnlr_and_nanoaod_files_of_the_same_events_alike(
    nanoaod_files, dis_data_file, dis_sim_file, tmp_path_factory, tmp_path
):
    """examples/configs/unfold_pfnano.yaml (the dis_nanoaod description) at tiny size on
    the NanoAOD files gives the histograms and weights of the dis description on hepnnlr's
    files, bit for bit: the same network inputs (pt, eta, phi and the float64 electrons
    are stored as they are; the particles' energy, rebuilt from the float32 mass, enters
    only the jets' clustering, where it moves tau21 by ~1e-7 and no entry across a bin
    edge in these files)."""
    hepnnlr_format = shared_tiny_unfolding(dis_data_file, dis_sim_file, tmp_path_factory)
    files = {"data_file": str(nanoaod_files["data"]), "sim_file": str(nanoaod_files["sim"])}
    job = load_unfolding_job(CONFIGS / "unfold_pfnano.yaml", **TINY_KEYS, **files,
                             output_dir=str(tmp_path))  # fmt: skip
    assert job.analysis == "dis_nanoaod" and job.description.schema == "pfnano"
    nanoaod = run_dis_unfolding(job)
    assert_same_hists(nanoaod.histograms, hepnnlr_format.histograms)
    assert nanoaod.chi2 == hepnnlr_format.chi2
    weights = read_weights(nanoaod.weights_file)
    before = read_weights(hepnnlr_format.weights_file)
    assert weights.keys == ["run", "luminosityBlock", "event"]
    for column in ("pass_gen", "pass_reco", "in_region", "weight_mc", "weight_unfolded"):
        np.testing.assert_array_equal(ak.to_numpy(weights.table[column]),
                                      ak.to_numpy(before.table[column]))  # fmt: skip
    assert weights.metadata["analysis"]["name"] == "dis_nanoaod"
    assert weights.metadata["regions"]["truth_region"] == "Q2 > 150 and 0.08 < y < 0.7"


def test_unfold_dis_example_job_is_the_tiny_unfolding_at_tiny_size(
    dis_data_file, dis_sim_file, tmp_path_factory, tmp_path
):
    """examples/configs/unfold_dis.yaml with the tiny settings is the job that
    tests/tiny_unfolding.py runs (the README and outputs tests read its outputs), and a
    region in the job file replaces the description's."""
    from dataclasses import replace

    from tiny_unfolding import TINY

    files = {"data_file": str(dis_data_file), "sim_file": str(dis_sim_file)}
    job = load_unfolding_job(CONFIGS / "unfold_dis.yaml", **TINY_KEYS, **files,
                             output_dir=str(tmp_path))  # fmt: skip
    tiny = DISUnfoldingJob(dis_data_file, dis_sim_file, tmp_path, executor="iterative",
                           omnifold=TINY, particle_features=(), progress=False,
                           plots=False)  # fmt: skip
    assert job == tiny and job.analysis == "dis"
    ran = shared_tiny_unfolding(dis_data_file, dis_sim_file, tmp_path_factory)
    assert ran.models and set(ran.histograms["unfolded"]) == set(
        job.description.levels["gen"].observables
    )
    narrower = load_unfolding_job(CONFIGS / "unfold_dis.yaml", **files,
                                  region="Q2 > 300 and 0.1 < y < 0.6")  # fmt: skip
    assert narrower.truth_region.to_text() == "Q2 > 300 and 0.1 < y < 0.6"
    assert replace(narrower, region=None).truth_region.to_text() == "Q2 > 150 and 0.08 < y < 0.7"
