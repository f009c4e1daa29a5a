"""``hepnnlr fit … --calibrate`` (``hepnnlr.workflows.fit_calibration``): the calibration
section of a job, and a small end-to-end calibration on the Gaussian DCTR job."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from hepnnlr.cli.main import main
from hepnnlr.errors import ConfigError
from hepnnlr.results.calibration import fit_line
from hepnnlr.workflows import fit_calibration
from hepnnlr.workflows.fit import load_fit_job

GAUSSIAN = """
output_dir: out
samples:
  generator: gaussian
  parameters: {mu: [-2.0, 2.0]}
  target: {mu: 0.5}
  events: 3000
  varied_events: 8000
  seed: 3
training:
  reweighter: {epochs: 8, batch_size: 500, patience: 3}
fit: {method: powell, grid_points: 7}
uncertainty: {repeats: 2, bootstrap: 20}
"""


def _write(tmp_path, text: str, name: str = "job.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize(
    ("section", "match"),
    [
        ("calibration: {points: 2}", "at least 3 points"),
        ("calibration: {points: [0.1, 0.1, 0.2]}", "3 distinct"),
        ("calibration: {points: [0.1, 0.2, 'a']}", r"points = \[0.1, 0.2, 'a'\] \(list\)"),
        ("calibration: {target_seed: -1}", "target_seed"),
        ("calibration: {target_events: 1}", "target_events"),
        ("calibration: {spread: 3}", "unknown key"),
    ],
)
def test_bad_calibration_sections_name_the_key_and_the_fix(tmp_path, section, match):
    with pytest.raises(ConfigError, match=match):
        load_fit_job(_write(tmp_path, GAUSSIAN + section + "\n"), "dctr")


def test_calibration_points_are_checked_against_the_fitted_parameters(tmp_path):
    job = load_fit_job(_write(tmp_path, GAUSSIAN + "calibration: {points: [-3, 0, 1]}\n"))
    with pytest.raises(ConfigError, match=r"outside samples.parameters.mu"):
        job.calibration.resolve(job.samples)
    two = GAUSSIAN.replace("{mu: [-2.0, 2.0]}", "{mu: [-2.0, 2.0], sigma: [0.5, 2.0]}")
    job = load_fit_job(_write(tmp_path, two, "two.yaml"))
    with pytest.raises(ConfigError, match="calibration.parameter is needed"):
        job.calibration.resolve(job.samples)
    # 4 points: the centres of 4 equal parts of the range; seeds seed + 1000 + k
    job = load_fit_job(_write(tmp_path, two + "calibration: {points: 4, parameter: sigma}\n"))
    assert job.calibration.resolve(job.samples) == ("sigma", (0.6875, 1.0625, 1.4375, 1.8125))
    assert [job.calibration.seed(job.samples, k) for k in range(2)] == [1003, 1004]


def test_calibrate_fits_independent_targets_with_one_reweighter_per_repeat(
    tmp_path, monkeypatch, capsys
):
    # ~15 s: 2 small reweighters, 3 targets of 3,000 events at mu = -0.8, 0, 0.8.
    trained = []
    original = fit_calibration.train_reweighter

    def counting(*args, **kwargs):
        trained.append(args[3])  # the training seed
        return original(*args, **kwargs)

    monkeypatch.setattr(fit_calibration, "train_reweighter", counting)
    section = "calibration: {points: [-0.8, 0.0, 0.8], target_events: 3000, target_seed: 40}\n"
    path = _write(tmp_path, GAUSSIAN + section)
    assert main(["fit", "dctr", str(path), "--calibrate"]) == 0
    printed = capsys.readouterr().out
    assert "slope" in printed and "pulls: mean" in printed
    # the reweighters see the simulation only: one per repeat for all targets
    assert trained == [3, 4]
    record = json.loads((tmp_path / "out" / "calibration.json").read_text())
    points = record["points"]
    assert [p["true"] for p in points] == [-0.8, 0.0, 0.8]
    assert [p["seed"] for p in points] == [40, 41, 42] and points[0]["events"] == 3000
    assert all(p["replicas_used"] >= 2 and p["repeats_kept"] >= 1 for p in points)
    true = np.array([p["true"] for p in points])
    fitted = np.array([p["value"] for p in points])
    sigma = np.array([p["sigma"] for p in points])
    # each target's own error is stat (+) the training noise of its mean of M' repeats
    for p in points:
        of_mean = (p["method"] or 0.0) / np.sqrt(p["repeats_kept"])
        assert p["sigma"] == pytest.approx(np.hypot(p["stat"], of_mean))
    # the noise the repeats share between targets enters as a covariance, off the
    # diagonal (the diagonal is in sigma), with the simulation's if replicas ran
    correlated = np.array(record["training_covariance"])
    assert np.diag(correlated) == pytest.approx(np.zeros(3))
    if record["simulation_covariance"] is not None:
        correlated = correlated + np.array(record["simulation_covariance"])
    line = fit_line(true, fitted, sigma, None, correlated)
    assert record["line"]["slope"] == pytest.approx(line.slope)
    whole = np.sqrt(sigma**2 + np.diag(correlated))
    assert record["pulls"]["values"] == pytest.approx(list((fitted - true) / whole))
    # The targets are fitted in order and none sits at the job's own target (0.5). The
    # slope measures the reweighter: 8 epochs on 1,500 nominal and 8,000 varied events
    # leave it too flat in mu, and the fit compresses towards the nominal point (slope
    # 0.82 +- 0.05 measured on this job, the kind of bias a calibration exists to show).
    # 0.6 fails a calibration that does not vary the targets (slope
    # 0) or reuses one target; 1.3 one that fits the truth plus noise the wrong way.
    assert np.all(np.diff(fitted) > 0)
    assert 0.6 < line.slope < 1.3
    assert (tmp_path / "out" / "calibration_mu.png").stat().st_size > 0


def test_samples_handed_to_run_calibration_must_hold_every_target(tmp_path):
    # a caller's kept samples (calibration_curves.py --cache) without a target are refused
    # before any training
    section = "calibration: {points: [-0.8, 0.0, 0.8]}\n"
    job = load_fit_job(_write(tmp_path, GAUSSIAN + section), "dctr")
    with pytest.raises(ValueError, match=r"samples lacks \['calibration_00', 'calibration_01'"):
        fit_calibration.run_calibration(job, {"nominal": None, "varied": None})
