"""YAML fit jobs (``hepnnlr.workflows.fit``): strict validation, and a Pythia job (slow)."""

from __future__ import annotations

import json
import textwrap

import pytest

from hepnnlr.errors import ConfigError, InputFileError
from hepnnlr.workflows.fit import FitJob, load_fit_job, run_fit

GAUSSIAN = """
samples:
  generator: gaussian
  parameters: {mu: [-1.0, 2.0]}
  target: {mu: 0.7}
  events: 400
"""


def _write(tmp_path, text: str, name: str = "job.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_valid_job_loads_with_its_defaults_and_paths_relative_to_the_file(tmp_path):
    job = load_fit_job(_write(tmp_path, GAUSSIAN + "output_dir: out\n"), "srgn")
    assert job.method == "srgn"
    assert job.output_dir == tmp_path / "out"
    assert job.samples.parameters == {"mu": (-1.0, 2.0)}
    assert job.bounds == {"mu": (-1.0, 2.0)}
    assert job.generator_features == ("x",) and job.fit.strategy == "refit"
    assert job.network.reweighter.hidden == (50, 50, 50)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (GAUSSIAN + "samplez: {}\n", r"unknown key\(s\) \['samplez'\] for FitJob; valid keys "
                                     r"are \['features', 'fit',"),
        (GAUSSIAN + "fit: {metod: grid}\n", r"\.fit: unknown key\(s\) \['metod'\] for "
                                            r"FitSettings; valid keys are \["),
        (GAUSSIAN + "network: {reweighter: {kind: mlp, hiden: [3]}}\n",
         r"network\.reweighter: unknown key\(s\) \['hiden'\] for ModelSpec"),
        (GAUSSIAN.replace("gaussian", "herwig"), r"samples\.generator='herwig'; choose one of"),
        (GAUSSIAN.replace("mu: 0.7", "mu: 2.5"), r"samples\.target\.mu = 2\.5 lies outside "
                                                 r"samples\.parameters\.mu = \[-1\.0, 2\.0\]"),
        (GAUSSIAN.replace("{mu: 0.7}", "{alphaS: 0.12}"),
         r"samples\.target: unknown parameter\(s\) \['alphaS'\] for generator 'gaussian'"),
        (GAUSSIAN + "fit: {bounds: {mu: [-3, 1]}}\n",
         r"fit\.bounds\.mu = \[-3\.0, 1\.0\] reaches outside .* set fit\.extrapolate: true"),
        (GAUSSIAN + "fit: {bounds: {sigma: [0.5, 1]}}\n", r"\['sigma'\] are not fitted"),
        (GAUSSIAN + "fit: {method: simplex}\n", r"fit\.method='simplex'; choose 'powell' or"),
        (GAUSSIAN + "features: {generator: [y]}\n", r"single feature 'x'"),
        (GAUSSIAN + "method: dctr\n", r"says method: dctr but the command is 'hepnnlr fit "
                                      r"srgn'"),
        (GAUSSIAN.replace("events: 400", "events: many"), r"samples\.events='many' must be"),
    ],
)
def test_bad_jobs_name_the_key_and_the_fix(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        load_fit_job(_write(tmp_path, text), "srgn")


def test_extrapolation_and_missing_files(tmp_path):
    job = load_fit_job(_write(tmp_path, GAUSSIAN + "fit: {bounds: {mu: [-3, 1]}, "
                                                   "extrapolate: true}\n"), "dctr")
    assert job.bounds == {"mu": (-3.0, 1.0)}
    with pytest.raises(InputFileError, match="does not exist"):
        load_fit_job(tmp_path / "nowhere.yaml", "srgn")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_fit_job(_write(tmp_path, "samples: [", "bad.yaml"), "srgn")
    with pytest.raises(ConfigError, match="method='mle'"):
        FitJob(method="mle")


@pytest.mark.slow
def test_zjets_dctr_job_runs_through_the_processor(tmp_path):
    # ~4 minutes on one core: 6 small Pythia files, the coffea ZJetsProcessor, a DCTR fit.
    path = _write(tmp_path, """
        output_dir: out
        samples:
          generator: zjets
          parameters: {alphaS: [0.10, 0.17]}
          target: {alphaS: 0.16}
          events: 3000
          target_events: 1500
          varied_events: 3000
          runs: 4
          seed: 5
        features:
          generator: [jet1.multiplicity, jet2.multiplicity]
          simulation: [jet1.multiplicity, jet2.multiplicity]
        training:
          reweighter: {epochs: 20, batch_size: 250, patience: 4}
        fit: {method: grid, grid_points: 8}
    """)
    outputs = run_fit(load_fit_job(path, "dctr"))
    result = json.loads(outputs.fit_file.read_text())
    assert result["events"]["varied"]["generated"] == 3000
    assert (tmp_path / "out" / "samples" / "varied_003.root").is_file()
    # alpha_s moves the jet multiplicity strongly (the paper's most precise parameter);
    # with 1,500 target events the multiplicity-only fit is good to ~0.01, the grid step
    # is 0.01: the fit must land within 2 steps of the target.
    assert result["fitted"]["alphaS"][0] == pytest.approx(0.16, abs=0.02)
    assert outputs.histograms_file.is_file() and len(outputs.plots) >= 3


@pytest.mark.parametrize("name", ["gaussian_srgn", "gaussian_2d_dctr", "zjets_dctr",
                                  "ttbar_srgn"])
def test_shipped_example_configs_load(name):
    from pathlib import Path

    path = Path(__file__).parents[2] / "examples" / "configs" / f"{name}.yaml"
    method = name.rsplit("_", 1)[1]
    job = load_fit_job(path, method)
    assert job.method == method and job.output_dir.name == name
    assert set(job.samples.target) <= set(job.samples.parameters)
