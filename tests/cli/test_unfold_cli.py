"""``hepnnlr unfold --repeats M --bootstrap B``: stat and method errors on tiny DIS files."""

from __future__ import annotations

import json

import pytest
import uproot

from hepnnlr.cli import main
from hepnnlr.cli.main import build_parser
from hepnnlr.cli.unfold import unfold_job
from hepnnlr.workflows import load_unfolding_job
from hepnnlr.workflows.unfold_dis import UnfoldUncertaintyConfig


def test_unfold_flags_report_stat_method_and_total(tmp_path, dis_sim_file, dis_data_file, capsys):
    out = tmp_path / "out"
    argv = [
        "unfold",
        "--data",
        str(dis_data_file),
        "--sim",
        str(dis_sim_file),
        "-o",
        str(out),
        "--executor",
        "iterative",
        "--model",
        "mlp",
        "--iterations",
        "1",
        "--epochs",
        "1",
        "--no-progress",
        "--no-plots",  # drawing costs ~1 CPU s per figure; test_unfold_dis checks the plots
        "--repeats",
        "2",
        "--bootstrap",
        "2",
        "--data-seed",
        "9",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert (
        "median relative error over filled bins (2 bootstrap replicas of the data, 2 runs)"
        in printed
    )
    # the last line starting with Q2 (the first is its chi2)
    q2_line = [line for line in printed.splitlines() if line.strip().startswith("Q2 ")][-1]
    assert q2_line.count("%") == 3  # stat, method and total
    summary = json.loads((out / "summary.json").read_text())
    assert summary["uncertainty"] == {
        "repeats": 2,
        "bootstrap": 2,
        "training_seed": 1,
        "seeds": {"data": 9},
    }
    q2 = summary["uncertainties"]["Q2"]
    assert len(q2["edges"]) == len(q2["value"]) + 1 == len(q2["stat"]) + 1
    assert q2["replicas"] == 2 and q2["repeats"] == 2
    assert all(
        t >= max(s, m) for t, s, m in zip(q2["total"], q2["stat"], q2["method"], strict=True)
    )
    with uproot.open(out / "histograms.root") as f:
        assert {
            f"gen_Q2/unfolded_{p}_{s}" for p in ("stat", "method") for s in ("up", "down")
        } <= set(f.keys(cycle=False))


def test_flags_override_a_yaml_job_and_the_old_names_warn(tmp_path):
    path = tmp_path / "job.yaml"
    path.write_text(
        "data_file: d.root\nsim_file: s.root\noutput_dir: o\nruns: 3\nseeds: {data: 4}\n"
    )
    with pytest.warns(FutureWarning, match="runs is deprecated: it is uncertainty.repeats"):
        job = load_unfolding_job(path)
    assert job.uncertainty == UnfoldUncertaintyConfig(repeats=3)
    args = build_parser().parse_args(["unfold", str(path), "--bootstrap", "5"])
    with pytest.warns(FutureWarning):
        job = unfold_job(args)
    assert job.uncertainty == UnfoldUncertaintyConfig(repeats=3, bootstrap=5)
    assert job.seed_of("data") == 4
    assert main(["unfold", str(path), "--bootstrap", "1"]) == 2  # a spread needs 2


def test_pfnano_unfold_then_reweight_end_to_end(tmp_path, monkeypatch):
    """A job on the real PFNano file (pfnano_particles: GenCands gen, PUPPI-weighted
    PFCands reco; ten events as data and simulation) unfolds with a tiny MLP and saves its
    networks; ``hepnnlr reweight`` applies the saved step-2 network to the same file and
    gives back the unfolding's particle-level weights. Ten events test the pipeline, not
    the statistics: OmniFold's minimum of 50 passing events per class is lowered here."""
    import awkward as ak
    import numpy as np
    import yaml
    from shared_data import shared_data_file

    from hepnnlr.methods import minimum_events
    from hepnnlr.outputs import check_complete
    from hepnnlr.results import read_weights

    monkeypatch.setitem(minimum_events.MINIMUM_EVENTS, "omnifold", 5)
    path = shared_data_file("pfnano.root")
    # event features (n_particles, log_sum_pt): an untrained PFN summing the ~2,500 PF
    # candidates of an event saturates its sigmoid, which OmniFold refuses as infinite logits
    mlp = {"kind": "mlp", "hidden": [8]}
    job = tmp_path / "unfold.yaml"
    job.write_text(yaml.safe_dump({
        "analysis": "pfnano_particles", "data_file": str(path), "sim_file": str(path),
        "output_dir": "unfolded", "executor": "iterative", "progress": False, "plots": False,
        "particle_features": [],
        "omnifold": {"iterations": 1, "step1_model": mlp, "step2_model": mlp,
                     "training": {"epochs": 1, "batch_size": 4, "seed": 3}},
    }))  # fmt: skip
    assert main(["unfold", str(job), "--save-models", "final"]) == 0
    unfolded = tmp_path / "unfolded"
    assert check_complete(unfolded) == []
    weights = read_weights(unfolded / "weights.parquet")
    assert weights.keys == ["run", "luminosityBlock", "event"] and len(weights.table) == 10
    assert weights.metadata["analysis"]["name"] == "pfnano_particles"
    # no gen.region in the description: every pass_gen event is in the truth histograms
    np.testing.assert_array_equal(ak.to_numpy(weights.table.in_region),
                                  ak.to_numpy(weights.table.pass_gen))  # fmt: skip

    out = tmp_path / "reweighted"
    argv = ["reweight", str(unfolded / "models" / "step2"), str(path), "--analysis",
            "pfnano_particles", "-o", str(out), "--executor", "iterative"]  # fmt: skip
    assert main(argv) == 0
    assert check_complete(out) == []
    applied = read_weights(out / "weights_pfnano.parquet").table
    assert applied.event.tolist() == weights.table.event.tolist()
    passed = ak.to_numpy(weights.table.pass_gen)
    table = weights.table
    expected = ak.to_numpy(table.weight_unfolded / table.weight_mc)[passed]
    # the same float32 network on the same event features: equal to float32 rounding of
    # exp(logit) (eps 1.2e-7, a few roundings)
    np.testing.assert_allclose(ak.to_numpy(applied.weight)[passed], expected, rtol=1e-5)
