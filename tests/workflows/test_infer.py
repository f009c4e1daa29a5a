"""``hepnnlr infer CONFIG``: YAML -> scan, intervals, plots and a coverage study."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hepnnlr.cli.main import main
from hepnnlr.errors import ConfigError
from hepnnlr.workflows.infer import load_inference_job, run_inference

CONFIG = """
output_dir: out
toy: {radius: 2.0, n_train: 1000}
routes: [exact]
grid: {mu: [0.0, 0.5, 41], z: [0.1, 0.4, 31]}
dataset: {mu: 0.2, z: 0.25, n_events: 3000, seed: 3}
coverage:
  mu: [0.2]
  z: [0.25]
  n_events: 2000
  bootstrap_sets: 20
  bootstrap_size: 500
  independent_toys: 10
"""


def test_yaml_job_runs_and_writes_scan_intervals_and_plots(tmp_path):
    path = tmp_path / "infer.yaml"
    path.write_text(CONFIG)
    job = load_inference_job(path)
    assert job.output_dir == tmp_path / "out"
    outputs = run_inference(job)
    summary = json.loads(outputs.summary_file.read_text())
    true = summary["dataset"]["exact"]
    mu68, mu95 = true["mu"]
    assert mu68["level"] == pytest.approx(0.6827, abs=1e-4)
    assert mu95["low"] < mu68["low"] < mu68["best"] < mu68["high"] < mu95["high"]
    # grid and iminuit agree on the minimum to a small fraction of the interval width
    assert true["minuit"]["mu"] == pytest.approx(mu68["best"],
                                                 abs=0.02 * (mu68["high"] - mu68["low"]))
    scan = np.load(tmp_path / "out" / "scan_dataset_exact.npz")
    assert scan["nll"].shape == (41, 31)
    assert {p.name for p in outputs.plots} >= {"contours_dataset.png", "profiles_dataset.png",
                                                "contours_coverage.png"}
    cov = summary["coverage"]
    assert cov["k"] == 4.0
    assert 0.0 <= cov["mean"]["exact"]["mu_coverage"] <= 1.0
    assert cov["exact_independent_toys"]["mu"]["n"] == 10


def test_cli_infer_runs_and_reports_bad_configs_in_one_line(tmp_path, capsys):
    path = tmp_path / "infer.yaml"
    path.write_text(CONFIG.replace("coverage:", "unused:") .split("unused:")[0])
    assert main(["infer", str(path), "-o", str(tmp_path / "cli")]) == 0
    assert (tmp_path / "cli" / "summary.json").is_file()
    assert "exact" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("output_dir: x\ngrid: {mu: [0.0, 0.5, 41], zz: [0.1, 0.4, 31]}\n")
    assert main(["infer", str(bad)]) == 2
    assert "unknown key(s) ['zz']" in capsys.readouterr().err


def test_job_validation_names_the_field(tmp_path):
    path = tmp_path / "job.yaml"
    path.write_text("output_dir: o\nroutes: [exact, nn]\n")
    with pytest.raises(ConfigError, match=r"routes=\['exact', 'nn'\]"):
        load_inference_job(path)
    path.write_text("output_dir: o\ngrid: {mu: [0.5, 0.0, 41]}\n")
    with pytest.raises(ConfigError, match="grid.mu"):
        load_inference_job(path)
    path.write_text("output_dir: o\nroutes: [flow]\ncoverage: {mu: [0.1]}\n")
    with pytest.raises(ConfigError, match="add 'exact' to routes"):
        load_inference_job(path)
