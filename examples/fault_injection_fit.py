"""The ``hepnnlr fit`` cases of ``examples/fault_injection.py`` (issue 17): a fit killed
(SIGKILL) at several moments, or interrupted (SIGINT), then resumed.

The job is a Gaussian DCTR fit small enough to run in about a minute (:data:`FIT_JOB`):
two repeats, three replicas of the target, two of the simulation, so its checkpoint holds
up to ten units (``OUTPUT/.hepnnlr-checkpoint/fit``,
:mod:`hepnnlr.workflows.fit_checkpoint`). Each kill must leave no output that looks
complete (no ``summary.json``), and ``--resume`` must give the uninterrupted run's
numbers: ``summary.json``, ``fit.json`` and ``curves.json`` equal but for the timings, the
run's command and times, and the output folder's name.

``hepnnlr fit --calibrate`` (:data:`CALIBRATE_JOB`: a job like the fit's, three targets)
is killed in the middle of its first target (after its 7th unit, in
``OUTPUT/.hepnnlr-checkpoint/calibration``), resumed with another job (refused, naming
the key) and with the same one: its ``calibration.json`` must equal the uninterrupted
calibration's, timings aside.

Run through ``python examples/fault_injection.py`` (which writes the table); the slow
tests ``tests/workflows/test_fault_injection.py`` and
``tests/workflows/test_calibration_resume.py`` run them too.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from fault_injection import _first_error_line, _hepnnlr, _row, interrupt_when, refused

FIT_JOB = """\
samples:
  generator: gaussian
  parameters: {mu: [-2.0, 2.0]}
  target: {mu: 0.5}
  events: 2000
  varied_events: 2000
training:
  reweighter: {epochs: 3, batch_size: 500, patience: 2}
fit: {method: powell, grid_points: 5}
uncertainty: {repeats: 2, bootstrap: 3, simulation_bootstrap: 2}
"""
"""The fit of every case (DCTR on the Gaussian toy, 2,000 + 2,000 simulated events)."""

CALIBRATE_JOB = """\
samples:
  generator: gaussian
  parameters: {mu: [-2.0, 2.0]}
  target: {mu: 0.5}
  events: 2000
  varied_events: 2000
training:
  reweighter: {epochs: 8, batch_size: 500, patience: 3}
fit: {method: grid, grid_points: 7}
uncertainty: {repeats: 2, bootstrap: 2, simulation_bootstrap: 2, keep_flagged: true}
calibration: {points: [-0.4, 0.0, 0.4], target_events: 1000}
"""
"""The calibration of every calibrate case: the fit's samples, three targets of 1,000
events, two replicas of each (units: 2 reweighters, 2 of the simulation, then per target
2 fits, 2 replica groups and 2 simulation fits: 22 in all); a grid fit and flagged repeats
kept, so that it runs in about a minute and every target has an error."""
CALIBRATE_KILL = 7
"""The calibrate case is killed right after this unit (target 0's first replicas)."""

#: moment -> (what it is, the units it must leave on disk: None for all of them); the
#: driver of fault_injection.py kills the process there
FIT_MOMENTS = {
    "unit-1": ("right after its 1st checkpointed unit (repeat 0's reweighter)", 1),
    "training-2": ("as repeat 1's reweighter starts training", 1),
    "unit-5": ("right after its 5th unit (the first replicas of the target)", 5),
    "outputs": ("while writing its outputs", None),
}
_SKIP = ("run", "files", "seconds", "timings_s")


def _fit_args(job: Path, out: Path) -> list[str]:
    return ["fit", "dctr", str(job), "-o", str(out), "--no-progress"]


def _json(path: Path, out: Path) -> Any:
    """A JSON output with its folder's name made neutral and its timings left out."""
    if not path.is_file():
        return None
    document = json.loads(path.read_text().replace(str(out), "OUT"))
    if isinstance(document, dict):
        for key in _SKIP:
            document.pop(key, None)
    return document


def same_fit(out: Path, reference: Path) -> tuple[bool, str]:
    """Whether ``out`` is a complete run with ``reference``'s numbers (module docstring)."""
    from hepnnlr.outputs import CHECKPOINT_NAME, SUMMARY_NAME, check_complete

    if check_complete(out):
        return False, "folder NOT complete"
    names = ("summary.json", "fit.json", "curves.json")
    equal = [_json(out / n, out) == _json(reference / n, reference) for n in names]
    files = [set(json.loads((f / SUMMARY_NAME).read_text())["files"]) for f in (out, reference)]
    what = ", ".join(
        f"{n} {'equal' if e else 'DIFFERENT'}" for n, e in zip(names, equal, strict=True)
    )
    what += f", files {'the same' if files[0] == files[1] else 'DIFFERENT'}"
    return all(equal) and files[0] == files[1] and not (out / CHECKPOINT_NAME).exists(), what


def fit_reference(folder: Path) -> tuple[Path, Path]:
    """The job file and an uninterrupted ``hepnnlr fit dctr`` of it."""
    folder.mkdir(parents=True, exist_ok=True)
    job = folder / "fit.yaml"
    job.write_text(FIT_JOB)
    out = folder / "fit_uninterrupted"
    run = _hepnnlr(_fit_args(job, out))
    if run.returncode != 0:
        raise RuntimeError(f"the uninterrupted fit failed:\n{run.stderr[-2000:]}")
    return job, out


def _units_of_reference(reference: Path) -> list[str]:
    """The units an uninterrupted run completes (its checkpoint is gone: from fit.json's
    repeats and replicas, as :func:`hepnnlr.workflows.fit.run_fit` names them)."""
    record = json.loads((reference / "fit.json").read_text())
    repeats = len(record["repeats"])
    groups = {row["repeat"] for row in record["replicas"]}
    simulation = len(record.get("simulation_replicas", []))
    return (
        [f"reweighter-{m}" for m in range(repeats)]
        + [f"repeat-{m}" for m in range(repeats)]
        + [f"replicas-{m}" for m in sorted(groups)]
        + [f"simulation-{kind}-{b}" for b in range(simulation) for kind in ("reweighter", "fit")]
    )


def _units(out: Path, kind: str = "fit") -> list[str]:
    from hepnnlr.outputs import CHECKPOINT_NAME

    return sorted(p.parent.name for p in (out / CHECKPOINT_NAME / kind).glob("*/state.json"))


def resumed_row(
    command: list[str],
    label: str,
    compare: Callable[[], tuple[bool, str]],
    what: str,
    *,
    timed: bool = True,
) -> dict:
    """Run ``command`` (a resume) and the row that says whether its outputs equal the
    uninterrupted run's (``compare()`` gives ``(same, outcome)``); with ``timed`` the row
    also gives the seconds the resume took."""
    started = time.monotonic()
    resumed = _hepnnlr(command)
    same, outcome = compare()
    seconds = f" ({time.monotonic() - started:.0f} s)" if timed else ""
    return _row(
        label,
        f"{outcome} vs the uninterrupted {what}{seconds}",
        resumed.returncode,
        _first_error_line(resumed.stderr) if resumed.returncode else "",
        resumed.returncode == 0 and same,
    )


def kill_fit_and_resume(folder: Path, job: Path, reference: Path) -> list[dict]:
    """``hepnnlr fit`` SIGKILLed at each moment of :data:`FIT_MOMENTS`, then resumed; the
    first killed folder is also rerun without ``--resume`` and with another job."""
    rows = []
    every = len(_units_of_reference(reference))
    for k, (moment, (when, expected)) in enumerate(FIT_MOMENTS.items()):
        out = folder / f"fit_killed_{moment}"
        args = _fit_args(job, out)
        killed = _hepnnlr(args, moment=moment)
        left = _units(out)
        complete = (out / "summary.json").exists()
        rows.append(
            _row(
                f"fit killed {when}",
                f"{len(left)} units on disk; "
                + ("a summary.json" if complete else "no summary.json"),
                killed.returncode,
                "killed by SIGKILL",
                killed.returncode == -signal.SIGKILL
                and not complete
                and len(left) == (every if expected is None else expected),
            )
        )
        if k == 0:
            rows.append(
                refused(
                    "rerun into the killed fit's folder without --resume",
                    args,
                    expect="pass --resume to continue it, --overwrite to start over",
                )
            )
            rows.append(
                refused(
                    "--resume with another job (--repeats 3)",
                    [*args, "--repeats", "3", "--resume"],
                    expect="uncertainty.repeats: 2 in the checkpoint, 3 now",
                )
            )
        rows.append(
            resumed_row(
                [*args, "--resume"],
                f"fit rerun with --resume ({len(left)} units loaded)",
                partial(same_fit, out, reference),
                "fit",
            )
        )
    return rows


def interrupt_fit(folder: Path, job: Path, reference: Path) -> list[dict]:
    """``hepnnlr fit`` sent SIGINT (Ctrl-C) once its first unit is on disk, then resumed
    with the command it printed (seconds to the printed line and to the exit, as for
    unfold)."""
    out = folder / "fit_interrupted"
    run = interrupt_when(_fit_args(job, out), lambda: bool(_units(out)))
    rows = [
        _row(
            "fit sent SIGINT (Ctrl-C) after its first unit",
            f"stopped (the line printed) {run.stopped:.1f} s after the signal, exited after "
            f"{run.exited:.1f} s; {len(_units(out))} units on disk; "
            + ("a traceback" if run.traceback else "no traceback"),
            run.returncode,
            run.last.replace(str(folder), "…"),
            run.returncode == 130
            and run.resume is not None
            and not run.traceback
            and run.stopped < 5.0,
        )
    ]
    if run.resume is not None:
        rows.append(
            resumed_row(
                run.resume,
                "the printed fit resume command",
                partial(same_fit, out, reference),
                "fit",
                timed=False,
            )
        )
    return rows


def fit_cases(folder: Path) -> list[dict]:
    """Every fit case: the reference, the kills and their resumes, the interrupt."""
    job, reference = fit_reference(folder)
    return kill_fit_and_resume(folder, job, reference) + interrupt_fit(folder, job, reference)


def _calibrate_args(job: Path, out: Path) -> list[str]:
    return [*_fit_args(job, out), "--calibrate"]


def same_calibration(out: Path, reference: Path) -> tuple[bool, str]:
    """Whether ``out`` is a complete calibration with ``reference``'s calibration.json
    (every number; its ``seconds`` aside) and files, its checkpoint removed."""
    from hepnnlr.outputs import CHECKPOINT_NAME, SUMMARY_NAME, check_complete

    if check_complete(out):
        return False, "folder NOT complete"
    records = [_json(f / "calibration.json", f) for f in (out, reference)]
    for record in records:
        record.pop("seconds", None)
    files = [set(json.loads((f / SUMMARY_NAME).read_text())["files"]) for f in (out, reference)]
    same = records[0] == records[1] and files[0] == files[1]
    what = (
        f"calibration.json {'equal' if records[0] == records[1] else 'DIFFERENT'}, files "
        f"{'the same' if files[0] == files[1] else 'DIFFERENT'}"
    )
    return same and not (out / CHECKPOINT_NAME).exists(), what


def calibrate_cases(folder: Path) -> list[dict]:
    """``hepnnlr fit --calibrate`` SIGKILLed right after its :data:`CALIBRATE_KILL`-th
    unit, resumed with another job (refused) and with the same one (module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    job = folder / "calibrate.yaml"
    job.write_text(CALIBRATE_JOB)
    reference = folder / "calibrate_uninterrupted"
    run = _hepnnlr(_calibrate_args(job, reference))
    if run.returncode != 0:
        raise RuntimeError(f"the uninterrupted calibration failed:\n{run.stderr[-2000:]}")
    out = folder / "calibrate_killed"
    args = _calibrate_args(job, out)
    killed = _hepnnlr(args, moment=f"unit-{CALIBRATE_KILL}")
    left = _units(out, "calibration")
    written = [n for n in ("calibration.json", "summary.json") if (out / n).exists()]
    rows = [
        _row(
            f"fit --calibrate killed right after its {CALIBRATE_KILL}th checkpointed unit "
            "(target 0's first replicas)",
            f"{len(left)} units on disk; " + (", ".join(written) or "no calibration.json"),
            killed.returncode,
            "killed by SIGKILL",
            killed.returncode == -signal.SIGKILL and not written and len(left) == CALIBRATE_KILL,
        ),
        refused(
            "fit --calibrate --resume with another job (--repeats 3)",
            [*args, "--repeats", "3", "--resume"],
            expect="uncertainty.repeats: 2 in the checkpoint, 3 now",
        ),
    ]
    rows.append(
        resumed_row(
            [*args, "--resume"],
            f"fit --calibrate rerun with --resume ({len(left)} units loaded)",
            partial(same_calibration, out, reference),
            "calibration",
        )
    )
    return rows
