from __future__ import annotations

import pytest

from hepnnlr.cli import main
from hepnnlr.errors import ConfigError
from hepnnlr.results import read_weights
from hepnnlr.workflows import load_unfolding_job

JOB = """
data_file: data.root
sim_file: /abs/sim.root
output_dir: out
executor: iterative
particle_features: [log_pt, deta]
omnifold:
  iterations: 4
  ensemble: 2
  step1_model: {kind: pet, units: 32, hidden: [16]}
  training: {epochs: 7, learning_rate: 0.002}
region: {q2_min: 200}
"""


def test_nested_yaml_fills_the_frozen_dataclasses(tmp_path):
    path = tmp_path / "job.yaml"
    path.write_text(JOB)
    job = load_unfolding_job(path)
    assert job.data_file == tmp_path / "data.root"  # relative to the YAML file
    assert str(job.sim_file) == "/abs/sim.root"
    assert job.particle_features == ("log_pt", "deta")
    assert job.omnifold.iterations == 4 and job.omnifold.ensemble == 2
    assert job.omnifold.step1_model.kind == "pet" and job.omnifold.step1_model.hidden == (16,)
    assert job.omnifold.training.epochs == 7 and job.omnifold.training.learning_rate == 0.002
    assert job.region.q2_min == 200 and job.region.y_max == 0.7


def test_unknown_keys_and_bad_values_are_named(tmp_path):
    path = tmp_path / "job.yaml"
    path.write_text(JOB.replace("ensemble: 2", "ensembles: 2"))
    with pytest.raises(ConfigError, match=r"omnifold: unknown key\(s\) \['ensembles'\]"):
        load_unfolding_job(path)
    path.write_text(JOB.replace("kind: pet", "kind: cnn"))
    with pytest.raises(ConfigError, match="kind='cnn'"):
        load_unfolding_job(path)


def test_cli_unfold_needs_a_job_or_both_files(capsys):
    assert main(["unfold", "--data", "x.root"]) == 2
    assert "needs a YAML job file, or both" in capsys.readouterr().err


def test_cli_unfold_runs_a_yaml_job(tmp_path, dis_sim_file, dis_data_file):
    """The options given override the job file (issue 17: -o, --executor and --no-progress
    were ignored), those left out keep its values."""
    path = tmp_path / "job.yaml"
    path.write_text(f"""
data_file: {dis_data_file}
sim_file: {dis_sim_file}
output_dir: {tmp_path / "out"}
executor: dask
progress: true
omnifold:
  iterations: 1
  step1_model: {{kind: mlp, hidden: [8]}}
  step2_model: {{kind: mlp, hidden: [8]}}
  training: {{epochs: 5}}
particle_features: []
""")
    out = tmp_path / "cli_out"
    argv = [
        "unfold",
        str(path),
        "-o",
        str(out),
        "--executor",
        "iterative",
        "--no-progress",
        "--no-plots",
    ]
    assert main([*argv, "--epochs", "2"]) == 0
    assert (out / "histograms.root").exists() and not (tmp_path / "out").exists()
    job = read_weights(out / "weights.parquet").metadata["job"]  # the job that ran
    assert job["executor"] == "iterative" and job["progress"] is False
    assert job["omnifold"]["training"]["epochs"] == 2 and job["omnifold"]["iterations"] == 1
