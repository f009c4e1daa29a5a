"""Checkpoints of ``hepnnlr fit ... --calibrate`` (issue 17 item 3): a resumed calibration
loads the units an earlier run completed (the repeats' reweighters, each target's fits)
and writes the uninterrupted run's ``calibration.json``; another job's checkpoint is
refused, naming the keys that differ."""

from __future__ import annotations

import json
import shutil
import signal
import textwrap
from pathlib import Path

import pytest

from hepnnlr.cli import main
from hepnnlr.methods.fit_quality import FitFlags
from hepnnlr.methods.job_checkpoint import JobCheckpoint, job_record
from hepnnlr.outputs import CHECKPOINT_NAME
from hepnnlr.workflows.fit import load_fit_job
from hepnnlr.workflows.fit_calibration import run_calibration
from hepnnlr.workflows.fit_checkpoint import FitUnits

# Two reweighters of 6 epochs on 1,000 + 1,000 events, three targets of 400 events, each
# fitted on a 3-point grid by both repeats, no replicas and no plot (the repeats' spread
# is each target's error): ~3 s of CPU for both runs (whole, then resumed).
TINY = textwrap.dedent("""
    output_dir: OUT
    samples:
      generator: gaussian
      parameters: {mu: [-2.0, 2.0]}
      target: {mu: 0.5}
      events: 1000
      varied_events: 1000
    training:
      reweighter: {epochs: 6, batch_size: 250, patience: 2}
    fit: {method: grid, grid_points: 3}
    uncertainty: {repeats: 2, bootstrap: 0, keep_flagged: true}
    plots: false
    calibration: {points: [-0.5, 0.0, 0.5], target_events: 400}
""")


def _job(tmp_path, out, text=TINY):
    path = tmp_path / f"{out}.yaml"
    path.write_text(text.replace("OUT", str(tmp_path / out)))
    return path, load_fit_job(path, "dctr")


def _record(outputs):
    record = json.loads(outputs.file.read_text())
    record.pop("seconds")
    return record


def test_each_target_keeps_its_own_units(tmp_path):
    ck = JobCheckpoint(tmp_path / "ck", {"a": 1})
    units = FitUnits(ck)
    assert units.within("calibration_01").rows("replicas-0", lambda: []) == []
    assert ck.units() == ["calibration_01-replicas-0"]
    again = units.within("calibration_01").rows("replicas-0", lambda: pytest.fail("recomputed"))
    assert again == []
    # another target's unit of the same name is its own: computed, not the first's
    row = (0, {"mu": 0.1}, {"mu": 0.0}, FitFlags({}))
    assert units.within("calibration_02").rows("replicas-0", lambda: [row]) == [row]
    assert ck.units() == ["calibration_01-replicas-0", "calibration_02-replicas-0"]


def test_a_resumed_calibration_writes_the_uninterrupted_calibration_json(tmp_path):
    """The calibration runs whole with a checkpoint (the reference); a copy of its
    checkpoint cut after the reweighters and the first target's fits is resumed: the
    reweighters are loaded, not trained, and the other targets fitted with them. The
    calibration.json equals the reference's, every number bit for bit (timings aside)."""
    _, job = _job(tmp_path, "whole")
    names = []
    ck = JobCheckpoint(tmp_path / "ck", job_record(job), after_unit=names.append)
    reference = _record(run_calibration(job, checkpoint=ck))
    first = ["reweighter-0", "reweighter-1", "calibration_00-repeat-0", "calibration_00-repeat-1"]
    assert names == first + [f"calibration_0{k}-repeat-{m}" for k in (1, 2) for m in (0, 1)]
    killed = tmp_path / "killed"
    killed.mkdir()
    shutil.copy(ck.folder / "job.json", killed / "job.json")
    for unit in first:
        shutil.copytree(ck.folder / unit, killed / unit)
    _, moved = _job(tmp_path, "resumed")
    resumed_names = []
    resumed = run_calibration(
        moved,
        checkpoint=JobCheckpoint(
            killed, job_record(moved), resume=True, after_unit=resumed_names.append
        ),
    )
    assert resumed_names == names[len(first) :]  # the loaded units are not computed again
    assert _record(resumed) == reference


def test_calibrate_resume_of_another_job_is_a_named_error_before_any_work(tmp_path, capsys):
    _, job = _job(tmp_path, "out")
    store = tmp_path / "out" / CHECKPOINT_NAME
    JobCheckpoint(store / "calibration", job_record(job)).save("reweighter-0", {})
    changed, _ = _job(tmp_path, "out", TINY.replace("[-0.5, 0.0, 0.5]", "[-0.5, 0.0, 0.6]"))
    code = main(["fit", "dctr", str(changed), "--calibrate", "--resume"])
    err = capsys.readouterr().err
    assert code == 2 and "calibration.points: [-0.5, 0.0, 0.5] in the checkpoint" in err, err
    assert "[-0.5, 0.0, 0.6] now" in err and "--overwrite" in err
    # refused before any work: the checkpoint is kept, nothing written beside it
    assert (store / "calibration" / "reweighter-0" / "state.json").is_file()
    assert not (tmp_path / "out" / "calibration.json").exists()


@pytest.mark.slow
def test_a_killed_calibrate_command_resumes_to_the_uninterrupted_calibration(tmp_path, monkeypatch):
    """The fault-injection cases of examples/fault_injection_fit.py: hepnnlr fit
    --calibrate SIGKILLed right after its 7th unit (no calibration.json left), a resume
    of another job refused naming the key, and --resume writing the uninterrupted
    calibration.json (~5 min on 2 cores)."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "examples"))
    from fault_injection_fit import calibrate_cases

    rows = calibrate_cases(tmp_path)
    for row in rows:
        assert row["ok"], row
    assert [row["exit_code"] for row in rows] == [-signal.SIGKILL, 2, 0]
