"""``hepnnlr unfold`` of data without generator collections (real data, issue 16): the
data file is processed at the reco level alone, the unfolding is the one of the same
events with their truth, bit for bit, and nothing claims a truth that is not there."""

from __future__ import annotations

import json

import awkward as ak
import numpy as np
import pytest
from hist_checks import assert_same_hists
from reco_only import reco_only_copy
from tiny_unfolding import TINY, shared_tiny_unfolding

from hepnnlr.analysis import get
from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.observables.dataset_histos import select_dataset
from hepnnlr.processors.analysis import DATA_KEY, run_analysis
from hepnnlr.processors.chunks import collect_columns, collect_hists
from hepnnlr.results import read_weights
from hepnnlr.workflows import load_unfolding_job, run_dis_unfolding
from hepnnlr.workflows.unfold_dis import DISUnfoldingJob
from hepnnlr.workflows.unfold_truth import check_data_weight, gen_fields, resolve_data_truth


def _job(data, sim, out, **kwargs):
    return DISUnfoldingJob(data, sim, out, executor="iterative", omnifold=TINY,
                           particle_features=(), progress=False, plots=False,
                           **kwargs)  # fmt: skip


@pytest.fixture(scope="module")
def reco_only_data(dis_data_file, tmp_path_factory):
    return reco_only_copy(dis_data_file, tmp_path_factory.mktemp("real") / "data.root")


def test_data_without_truth_unfold_as_with_it_and_say_so(
    dis_data_file, dis_sim_file, reco_only_data, tmp_path_factory, tmp_path
):
    """OmniFold reads only the data's reco level, so the weights and every histogram but
    the data truth are those of the same events with their truth, bit for bit; the
    reco-only data (found by data_truth: auto) give no data-truth group, row, χ² or
    'Pseudo-data' label."""
    with_truth = shared_tiny_unfolding(dis_data_file, dis_sim_file, tmp_path_factory)
    job = _job(reco_only_data, dis_sim_file, tmp_path)
    assert gen_fields(job.description.levels["gen"]) == ["GenElectron", "pass_gen"]
    assert resolve_data_truth(job) is False
    real = run_dis_unfolding(job)

    assert "data_truth" in with_truth.histograms and "data_truth" not in real.histograms
    assert_same_hists(real.histograms, {g: with_truth.histograms[g] for g in real.histograms})
    ours, theirs = (
        read_weights(real.weights_file).table,
        read_weights(with_truth.weights_file).table,
    )
    for column in ("pass_gen", "pass_reco", "in_region", "weight_mc", "weight_unfolded"):
        np.testing.assert_array_equal(ak.to_numpy(ours[column]), ak.to_numpy(theirs[column]))
    # histograms.root: the gen regions hold the prior and the unfolded, no data row
    assert list(real.regions["gen_Q2"].axes["dataset"]) == ["sim", "unfolded"]
    assert list(real.regions["reco_Q2"].axes["dataset"]) == ["data", "sim"]

    summary = json.loads(real.summary_file.read_text())
    assert real.chi2 == {} and summary["chi2_normalized_shapes"] == {}
    assert with_truth.chi2  # the same events with their truth do have a chi2
    compared = summary["comparison"]
    assert compared["data_truth"] is False and compared["chi2"] is None
    assert compared["reference"] == "sim_truth" and compared["label"] == "Internal"
    assert "no particle-level truth" in compared["note"]
    before = json.loads(with_truth.summary_file.read_text())["comparison"]
    assert before == {"data_truth": True, "reference": "data_truth", "chi2": "data_truth",
                      "label": "Pseudo-data"}  # fmt: skip


def test_data_said_to_have_truth_without_its_collections_names_them_and_the_fix(
    dis_sim_file, reco_only_data, tmp_path
):
    """data_truth: true on a file without the gen collections fails before any work,
    naming the dataset, the file, the missing fields and the fix."""
    with pytest.raises(MissingBranchError) as error:
        resolve_data_truth(_job(reco_only_data, dis_sim_file, tmp_path, data_truth=True))
    message = str(error.value)
    for part in ("dataset 'data'", str(reco_only_data), "['GenElectron', 'pass_gen']",
                 "'RecoPart'", "data_truth: false"):  # fmt: skip
        assert part in message, part
    # false never looks at the file; a typo is refused with the choices
    assert (
        resolve_data_truth(_job(reco_only_data, dis_sim_file, tmp_path, data_truth=False)) is False
    )
    job_file = tmp_path / "job.yaml"
    job_file.write_text(
        f"data_file: {reco_only_data}\nsim_file: {dis_sim_file}\ndata_truth: maybe\n"
    )
    with pytest.raises(ConfigError, match="data_truth"):
        load_unfolding_job(job_file)


def test_real_data_without_the_event_weight_field_are_named_with_the_fix(
    dis_data_file, dis_sim_file, tmp_path
):
    """Real data have no generator weight: data lacking the field of the analysis's event
    weight fail before any work with the fix (data_weight: 1), which a job file takes."""
    unweighted = reco_only_copy(dis_data_file, tmp_path / "data.root", drop=("weight",))
    with pytest.raises(MissingBranchError) as error:
        check_data_weight(_job(unweighted, dis_sim_file, tmp_path))
    for part in ("'weight'", "['weight']", "dataset 'data'", str(unweighted), "data_weight: 1"):
        assert part in str(error.value), part
    job_file = tmp_path / "job.yaml"
    job_file.write_text(f"data_file: {unweighted}\nsim_file: {dis_sim_file}\ndata_weight: 1\n")
    job = load_unfolding_job(job_file)
    assert job.data_weight == 1 and job.data_truth == "auto"
    check_data_weight(job)  # the job's own weight: nothing to refuse
    with pytest.raises(ConfigError, match="data_weight"):
        _job(unweighted, dis_sim_file, tmp_path, data_weight="eval(weight)")


def test_gen_fields_are_the_events_fields_a_level_names():
    """What ``auto`` looks for in a data file: the collections and branches the gen level
    names, not its own definitions, features or functions."""
    assert gen_fields(get("pfnano_particles").levels["gen"]) == ["GenCands"]
    assert gen_fields(get("dis_nanoaod").levels["gen"]) == ["GenDressedLepton", "passGen"]
    assert gen_fields(get("ttbar").levels["gen"]) == []  # functions alone: nothing to check


def test_a_dataset_marked_is_data_is_processed_at_the_reco_level_alone(
    dis_data_file, reco_only_data
):
    """AnalysisProcessor builds the reco level alone for a dataset whose fileset metadata
    says is_data: true (a file without the gen branches then runs), and the reco level is
    that of the same events read with both levels, bit for bit (collect_hists gives that
    dataset its reco group alone); a non-boolean is_data is refused naming the dataset."""
    fileset = {
        "real": {"files": [str(reco_only_data)], "metadata": {DATA_KEY: True}},
        "pseudo": [str(dis_data_file)],
    }
    out = run_analysis(get("dis"), fileset, chunksize=100, maxchunks=1, progress=False)
    real, pseudo = collect_columns(out, "real"), collect_columns(out, "pseudo")
    assert "gen" not in ak.fields(real) and "pass_gen" not in ak.fields(real)
    assert {"gen", "pass_gen"} <= set(ak.fields(pseudo))
    assert ak.array_equal(real.reco, pseudo.reco) and ak.array_equal(real.weight, pseudo.weight)
    assert not any(cut.startswith(("gen_", "pass_gen")) for cut in out["cutflow"]["real"])
    assert "pass_both" not in out["cutflow"]["real"] and "pass_both" in out["cutflow"]["pseudo"]
    assert list(out["hists"]["gen"]["Q2"].axes["dataset"]) == ["pseudo"]
    reco = out["hists"]["reco"]
    assert_same_hists(select_dataset(reco, "real"), select_dataset(reco, "pseudo"))
    # collect_hists gives the levels a dataset was processed at: the reco level alone
    real_hists, pseudo_hists = collect_hists(out, "real"), collect_hists(out, "pseudo")
    assert sorted(real_hists) == ["reco"] and sorted(pseudo_hists) == ["gen", "reco"]
    assert_same_hists(real_hists["reco"], pseudo_hists["reco"])
    with pytest.raises(ConfigError, match="dataset 'real'.*is_data='yes'"):
        fileset = {"real": {"files": [str(reco_only_data)], "metadata": {DATA_KEY: "yes"}}}
        run_analysis(get("dis"), fileset, chunksize=100, maxchunks=1, progress=False)
