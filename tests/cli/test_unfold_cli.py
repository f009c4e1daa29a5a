"""``hepnnlr unfold --repeats M --bootstrap B``: stat and method errors on tiny DIS files."""

from __future__ import annotations

import json

import pytest
import uproot

from hepnnlr.cli import main
from hepnnlr.cli.main import build_parser
from hepnnlr.cli.unfold import unfold_job
from hepnnlr.workflows import load_unfolding_job
from hepnnlr.workflows.unfold_dis import UnfoldUncertainty


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
        assert {"unfolded/Q2_stat", "unfolded/Q2_method"} <= set(f.keys(cycle=False))


def test_flags_override_a_yaml_job_and_the_old_names_warn(tmp_path):
    path = tmp_path / "job.yaml"
    path.write_text(
        "data_file: d.root\nsim_file: s.root\noutput_dir: o\nruns: 3\nseeds: {data: 4}\n"
    )
    with pytest.warns(FutureWarning, match="runs is deprecated: it is uncertainty.repeats"):
        job = load_unfolding_job(path)
    assert job.uncertainty == UnfoldUncertainty(repeats=3)
    args = build_parser().parse_args(["unfold", str(path), "--bootstrap", "5"])
    with pytest.warns(FutureWarning):
        job = unfold_job(args)
    assert job.uncertainty == UnfoldUncertainty(repeats=3, bootstrap=5)
    assert job.seed_of("data") == 4
    assert main(["unfold", str(path), "--bootstrap", "1"]) == 2  # a spread needs 2
