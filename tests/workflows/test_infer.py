"""``hepnnlr infer CONFIG``: YAML -> scan, intervals, plots and a coverage study."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hepnnlr.cli.main import main
from hepnnlr.errors import ConfigError, InputFileError
from hepnnlr.workflows.infer import load_inference_job, run_inference
from hepnnlr.workflows.infer_samples import data_truth

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
    assert true["minuit"]["mu"] == pytest.approx(
        mu68["best"], abs=0.02 * (mu68["high"] - mu68["low"])
    )
    scan = np.load(tmp_path / "out" / "scan_dataset_exact.npz")
    assert scan["nll"].shape == (41, 31)
    assert {p.name for p in outputs.plots} >= {
        "contours_dataset.png",
        "profiles_dataset.png",
        "contours_coverage.png",
    }
    cov = summary["coverage"]
    assert cov["k"] == 4.0
    assert 0.0 <= cov["mean"]["exact"]["mu_coverage"] <= 1.0
    assert cov["exact_independent_toys"]["mu"]["n"] == 10


def test_cli_infer_runs_and_reports_bad_configs_in_one_line(tmp_path, capsys):
    path = tmp_path / "infer.yaml"
    path.write_text(CONFIG.replace("coverage:", "unused:").split("unused:")[0])
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


# --- the samples section: H -> tau tau vs Z -> tau tau with the tau_h energy scale z -------

TAUTAU_FILES = """
samples:
  analysis: tautau
  features: [m_vis, pt_ratio]
  relative_to: output_dir
  signal_train: [files/signal_train.root]
  background_train: [files/background_train.root]
  signal_reference: [files/signal_reference.root]
  background_reference: [files/background_reference.root]
  signal_test: {1.0: [files/signal_test_1.0.root]}
  background_test: {1.0: [files/background_test_1.0.root]}
"""

# Tiny: ~10 s of Pythia (Z -> tau tau ~10 ms/event), ~300 selected training rows per
# process from 8 detector passes; enough to train and scan, not to measure anything.
TAUTAU_GENERATE = """
  generate:
    train_events: {signal: 100, background: 150}
    reference_events: {signal: 100, background: 150}
    test_events: {signal: 100, background: 300}
    train_passes: 12
    reference_passes: 12
    z_range: [0.9, 1.1]
routes: [classifier, flow]
classifier: {kind: mlp, hidden: [8, 8]}
flow: {layers: 1, hidden: [8]}
training: {epochs: 1, batch_size: 32, learning_rate: 0.002, seed: 1}
grid: {mu: [0.0, 2.0, 11], z: [0.92, 1.08, 5]}
dataset: {mu: 1.0, z: 1.0, n_events: 24, seed: 3}
coverage: {mu: [1.0], z: [1.0], n_events: 24, bootstrap_sets: 3, bootstrap_size: 12}
"""


def test_tautau_samples_job_generates_processes_trains_and_fits(tmp_path):
    path = tmp_path / "tautau.yaml"
    path.write_text(
        "output_dir: out\n"
        + TAUTAU_FILES
        + TAUTAU_GENERATE
        + "uncertainty: {repeats: 2, bootstrap: 2}\n"
        # PNG only: each PDF costs as much CPU again (the PDF default is checked by
        # tests/workflows/test_unfold_dis.py)
        + "plots: {formats: [png]}\n"
    )
    job = load_inference_job(path)
    assert job.routes == ("classifier", "flow")
    assert job.grid.z_in_pi is False and job.grid.z_unit == 1.0
    outputs = run_inference(job)
    out = tmp_path / "out"
    summary = json.loads(outputs.summary_file.read_text())
    assert summary["fitted"] == "dataset" and summary["z_unit"] == 1.0
    assert "energy scale" in summary["z_label"]
    assert len(summary["samples"]["generated"]) == 6
    assert all(
        (out / "files" / f"{p}_{r}.root").is_file()
        for p in ("signal", "background")
        for r in ("train", "reference", "test_1.0")
    )
    counts = summary["samples"]["selected_events"]
    assert min(counts.values()) > 0
    # every event of the test set comes from the held-out pools at z = 1.0
    assert summary["n_events"] == 24
    for route in ("classifier", "flow"):
        result = summary["dataset"][route]
        assert (out / f"scan_dataset_{route}.npz").is_file()
        for parameter, (low, high) in (("mu", (0.0, 2.0)), ("z", (0.92, 1.08))):
            interval = result[parameter][0]
            assert np.isfinite([interval["best"], interval["low"], interval["high"]]).all()
            assert low <= interval["low"] <= interval["best"] <= interval["high"] <= high
            assert np.isfinite(result["minuit"][parameter])
        cov = summary["coverage"]["mean"][route]
        assert 0.0 <= cov["mu_coverage"] <= 1.0 and cov["z_width"] > 0.0
        # repeats retrain the route on the same rows; replicas rescan the fitted events
        errors = summary["uncertainties"][route]
        assert errors["mu"]["repeats"] == 2 and errors["mu"]["replicas"] == 2
        assert all(np.isfinite(errors[k]["total"]) for k in ("mu", "z"))
    assert {p.name for p in outputs.plots} == {
        f"{stem}.{suffix}"
        for stem in ("contours_dataset", "profiles_dataset", "uncertainties_dataset")
        + ("contours_coverage",)
        for suffix in ("png",)
    }
    assert all(p.stat().st_size > 0 for p in outputs.plots)


def _tautau_job(tmp_path, text):
    path = tmp_path / "tautau.yaml"
    path.write_text("output_dir: out\n" + text)
    return path


def test_tautau_missing_file_is_named_with_its_key(tmp_path, capsys):
    text = TAUTAU_FILES.replace("relative_to: output_dir", "relative_to: config") + (
        "dataset: {mu: 0.5, z: 1.0, n_events: 100}\ngrid: {mu: [0, 2, 11], z: [0.9, 1.1, 5]}\n"
    )
    path = _tautau_job(tmp_path, text)
    missing = tmp_path / "files" / "signal_train.root"
    with pytest.raises(
        InputFileError,
        match=rf"samples\.signal_train: file {missing} does not "
        r"exist; fix the path or add a samples\.generate",
    ):
        run_inference(load_inference_job(path))
    assert main(["infer", str(path)]) == 2
    assert "samples.signal_train" in capsys.readouterr().err


def test_tautau_config_errors_name_the_key(tmp_path):
    ok = TAUTAU_FILES + "dataset: {mu: 0.5, z: 1.0, n_events: 100}\n"
    with pytest.raises(
        ConfigError,
        match=r"samples\.features: unknown feature\(s\) \['m_jj'\] "
        r"for analysis 'tautau'; available: \['reason', 'collinear_ok', 'm_vis', "
        r"'pt_ratio', 'dphi', 'm_col',",
    ):
        load_inference_job(_tautau_job(tmp_path, ok.replace("pt_ratio]", "m_jj]")))
    with pytest.raises(ConfigError, match=r"no analysis is named 'nope'; known: \[.*'tautau'"):
        load_inference_job(_tautau_job(tmp_path, ok.replace("analysis: tautau", "analysis: nope")))
    # processor: the older name of analysis, the same registry
    old = load_inference_job(_tautau_job(tmp_path, ok.replace("analysis:", "processor:")))
    assert old.samples.analysis == "tautau" and old.samples.nuisance == "z"
    with pytest.raises(ConfigError, match="processor is the older name of analysis"):
        load_inference_job(
            _tautau_job(
                tmp_path, ok.replace("analysis: tautau", "analysis: tautau\n  processor: tautau")
            )
        )
    # the nuisance is the description's one parameter with an expr
    zjets = "  analysis: zjets\n  level: gen\n  features: [n_jets]\n"
    with pytest.raises(ConfigError, match=r"it has \['alphaS', 'aLund', 'probStoUD'\]"):
        load_inference_job(
            _tautau_job(
                tmp_path, ok.replace("  analysis: tautau\n  features: [m_vis, pt_ratio]\n", zjets)
            )
        )
    with pytest.raises(ConfigError, match=r"z value\(s\) \[0\.9\] .* hold z \[1\.0\]"):
        load_inference_job(_tautau_job(tmp_path, ok.replace("z: 1.0,", "z: 0.9,")))
    with pytest.raises(ConfigError, match="'exact' is the Gaussian toy's"):
        load_inference_job(_tautau_job(tmp_path, ok + "routes: [exact, flow]\n"))
    with pytest.raises(ConfigError, match="both a toy and a samples section"):
        load_inference_job(_tautau_job(tmp_path, ok + "toy: {radius: 2.0}\n"))
    with pytest.raises(ConfigError, match="grid.z_in_pi: true"):
        load_inference_job(_tautau_job(tmp_path, ok + "grid: {z_in_pi: true}\n"))
    with pytest.raises(ConfigError, match="give one"):
        load_inference_job(_tautau_job(tmp_path, TAUTAU_FILES))
    with pytest.raises(ConfigError, match="independent_toys"):
        load_inference_job(
            _tautau_job(tmp_path, ok + "coverage: {mu: [0.5], z: [1.0], independent_toys: 5}\n")
        )
    with pytest.raises(ConfigError, match=r"samples\.generate: unknown key\(s\) \['events'\]"):
        load_inference_job(_tautau_job(tmp_path, TAUTAU_FILES + "  generate: {events: 5}\n"))
    with pytest.raises(ConfigError, match=r"samples\.generate\.train_events=\{'signal': 5\}"):
        load_inference_job(
            _tautau_job(tmp_path, TAUTAU_FILES + "  generate: {train_events: {signal: 5}}\n")
        )
    with pytest.raises(ConfigError, match=r"samples\.signal_test has z values \[0\.9\]"):
        load_inference_job(
            _tautau_job(tmp_path, ok.replace("signal_test: {1.0:", "signal_test: {0.9:"))
        )


def test_data_truth_from_simulated_labels():
    table = {"is_signal": np.array([True, False, False, True, False]), "z": np.full(5, 1.05)}
    assert data_truth(table) == {"mu": pytest.approx(2 / 3), "z": 1.05}
    assert data_truth({**table, "z": np.array([1.0, 1.1, 1.0, 1.0, 1.0])}) is None
    assert data_truth({**table, "is_signal": np.ones(5, bool)}) is None


def test_minos_failure_keeps_migrad_and_reports_the_error(tmp_path, monkeypatch):
    """A trained model refusing MINOS's z = NaN step: the fit keeps MIGRAD's minimum and the
    summary carries the error instead of the job stopping."""
    import hepnnlr.workflows.infer as infer
    from hepnnlr.errors import NonFiniteInputError

    real = infer.minimize_nll

    def minos_fails(likelihood, data, *, start=None, minos=True):
        if minos:
            raise NonFiniteInputError("flow p_sig: the flow's log-density is NaN (z=nan)")
        return real(likelihood, data, start=start, minos=False)

    monkeypatch.setattr(infer, "minimize_nll", minos_fails)
    path = tmp_path / "infer.yaml"
    path.write_text(CONFIG.split("coverage:")[0])
    summary = run_inference(load_inference_job(path)).summary
    fit = summary["dataset"]["exact"]["minuit"]
    assert fit["minos_error"].startswith("NonFiniteInputError: flow p_sig")
    assert np.isnan(fit["mu_interval"]).all()
    mu68 = summary["dataset"]["exact"]["mu"][0]
    # MIGRAD alone still finds the grid minimum to a small fraction of the interval width
    assert fit["mu"] == pytest.approx(mu68["best"], abs=0.02 * (mu68["high"] - mu68["low"]))
