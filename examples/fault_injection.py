"""Faults injected into ``hepnnlr`` runs, and what each leaves behind (issue 17).

Each case runs the real command (``hepnnlr generate`` / ``hepnnlr unfold`` as a
subprocess, or :func:`hepnnlr.cli.main` in this process where nothing is killed) and
reports its outcome: what is at the output path afterwards, the exit code, and the first
line of the error. The cases:

* ``generate`` killed (SIGKILL) while generating, after the first basket is written, and
  just before the final rename, each with no earlier file and with an earlier good file
  at the path (``--overwrite``); and at fixed wall-clock moments of a longer run. A kill
  must leave no file at the path, or the earlier file bit for bit (sha256).
* ``generate`` into an existing file without ``--overwrite``, and into an unwritable
  ``-o``: refused before any event is made.
* two ``hepnnlr unfold`` runs into one folder at once: the second is refused (exit 2) and
  names the first's process; ``unfold`` into an unwritable ``-o``: refused before any work.
* ``unfold`` (2 iterations) SIGKILLed right after its 3rd checkpoint (iteration 2's pull
  phase), rerun without ``--resume`` (refused, naming it) and with ``--resume``: the weights
  file's sha256 and the summary (timings and the run's command aside) equal an
  uninterrupted run's. ``unfold`` sent SIGINT (Ctrl-C) once its first checkpoint is on
  disk: exit code 130 within seconds, one ``hepnnlr: interrupted; resume with: ...`` line,
  no traceback; resumed as printed, the same weights again.
* a dask ``LocalCluster`` worker process killed (SIGKILL) while it processes a chunk of
  ``run_processor(..., executor="dask")``: the chunk is run again on a restarted worker
  and the histograms equal an undisturbed run's.
* ``fit`` (a Gaussian DCTR job, ``examples/fault_injection_fit.py``) SIGKILLed right after
  its 1st and 5th checkpointed units, as its 2nd reweighter starts training and while it
  writes its outputs: no ``summary.json`` left; rerun without ``--resume`` (refused), with
  ``--resume`` and another job (refused, naming the key) and with ``--resume``: the
  summary, ``fit.json`` and ``curves.json`` of an uninterrupted fit. ``fit`` sent SIGINT
  after its first unit: exit 130 with the resume line; resumed as printed, the same.
  ``fit --calibrate`` (three targets) SIGKILLed in its first target, resumed with another
  job (refused, naming the key) and with ``--resume``: the uninterrupted
  ``calibration.json``.
* inputs: a truncated ROOT file (cut to half its size), a file with fewer entries than it
  was written for, data with too few passing events for OmniFold: each a named error
  (exit 2) before training.

The default test run (``tests/workflows/test_fault_injection.py``) runs the cheap cases
through these same functions; this script runs them all and writes
``docs/results/fault_injection.json`` (rendered into ``docs/results.md``).

Usage::

    nice -n 10 python examples/fault_injection.py          # ~19 min on 2 cores at load 8
    python examples/fault_injection.py --json /tmp/faults.json --work /tmp/faults
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coffea import processor as coffea_processor

ROOT = Path(__file__).resolve().parents[1]

# Run as `python -c DRIVER MOMENT ARGS...`: the hepnnlr command line, killed by SIGKILL at
# MOMENT (a kill from outside lands at a random moment; these land at the named ones).
_DRIVER = r"""
import os, signal, sys
moment, argv = sys.argv[1], sys.argv[2:]

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if moment == "generating":  # the events are being made: nothing written yet
    import hepnnlr.samples.production as production
    production.simulate_detector = die
elif moment == "writing":  # the first basket of the tree is in the file
    from uproot.writing.writable import WritableTree
    extend = WritableTree.extend
    def extend_then_die(self, data):
        extend(self, data)
        die()
    WritableTree.extend = extend_then_die
elif moment == "renaming":  # the whole file is written, the rename not yet done
    os.replace = die
elif moment.startswith("checkpoint-"):  # unfold: right after its N-th checkpointed phase
    from hepnnlr.methods.checkpoint import OmniFoldCheckpoint
    save, saved = OmniFoldCheckpoint.save, []
    def save_then_die(self, *args, **kwargs):
        save(self, *args, **kwargs)
        saved.append(args[:2])
        if len(saved) == int(moment.split("-")[1]):
            die()
    OmniFoldCheckpoint.save = save_then_die
elif moment.startswith("unit-"):  # fit, infer: right after their N-th checkpointed unit
    from hepnnlr.methods.job_checkpoint import JobCheckpoint
    save, saved = JobCheckpoint.save, []
    def save_unit_then_die(self, *args, **kwargs):
        save(self, *args, **kwargs)
        saved.append(args[0])
        if len(saved) == int(moment.split("-")[1]):
            die()
    JobCheckpoint.save = save_unit_then_die
elif moment.startswith("training-"):  # fit: as its N-th reweighter starts training
    import hepnnlr.workflows.fit_steps as steps
    train, calls = steps.train_reweighter, []
    def train_or_die(*args, **kwargs):
        calls.append(1)
        if len(calls) == int(moment.split("-")[1]):
            die()
        return train(*args, **kwargs)
    steps.train_reweighter = train_or_die
elif moment == "outputs":  # fit: every unit done, its histograms being written
    import hepnnlr.results.io as results_io
    results_io.write_histograms = die
from hepnnlr.cli.main import main
sys.exit(main(argv))
"""
MOMENTS = ("generating", "writing", "renaming")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _first_error_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.startswith("hepnnlr: error:")]
    return lines[0] if lines else (text.strip().splitlines() or [""])[-1]


def _row(case: str, outcome: str, code: int | None, message: str, ok: bool) -> dict[str, Any]:
    return {"case": case, "outcome": outcome, "exit_code": code, "message": message, "ok": ok}


def _state(path: Path, old_sha: str | None) -> tuple[str, bool]:
    """What is at ``path`` after a kill, and whether that is what must be there."""
    if not path.exists():
        return "no file at the path", old_sha is None
    if old_sha is not None and _sha256(path) == old_sha:
        return "the earlier file, sha256 unchanged", True
    return "a file that is not the earlier one", False


def _generate_args(path: Path, events: int, seed: int, overwrite: bool) -> list[str]:
    args = ["generate", "dis", "--setup", "sim", "--events", str(events), "--seed", str(seed)]
    return [*args, "-o", str(path), "--no-progress", *(["--overwrite"] if overwrite else [])]


def _environment() -> dict[str, str]:
    # hepnnlr importable from any folder, TensorFlow's start-up notes silenced
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "TF_CPP_MIN_LOG_LEVEL": "3"}


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(args: list[str], *, stderr: int = subprocess.PIPE) -> subprocess.Popen:
    """``hepnnlr ARGS`` started in the background (stdout dropped; stderr as text when
    piped), from the repository with :func:`_environment`."""
    return subprocess.Popen(
        ["hepnnlr", *args],
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
        cwd=ROOT,
        env=_environment(),
        # Ctrl-C's default action, even when this script runs in the background (a shell
        # starts background jobs with SIGINT ignored, and Python then never raises
        # KeyboardInterrupt): the SIGINT cases send it
        preexec_fn=_default_sigint,
    )


RESUME_PREFIX = "hepnnlr: interrupted; resume with: "


@dataclass(frozen=True)
class Interrupted:
    """A run sent SIGINT: its exit code, the seconds from the signal to the printed resume
    line (``stopped``, NaN without one) and to the exit, its last resume line (else its
    last stderr line), whether a traceback was printed, and the printed resume command's
    arguments (``None`` without one)."""

    returncode: int
    stopped: float
    exited: float
    last: str
    traceback: bool
    resume: list[str] | None


def interrupt_when(args: list[str], ready: Callable[[], bool]) -> Interrupted:
    """``hepnnlr ARGS`` started, sent SIGINT (Ctrl-C) as soon as ``ready()`` holds (or it
    ended, or 300 s passed), and timed to its resume line and its exit."""
    import shlex
    import threading

    process = _start(args)
    lines: list[tuple[float, str]] = []

    def read() -> None:  # each stderr line with the moment it came
        for line in process.stderr:
            lines.append((time.monotonic(), line.rstrip("\n")))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 300
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    process.wait()
    exited = time.monotonic() - sent
    reader.join(timeout=10)
    said = [(t - sent, line) for t, line in lines if line.startswith(RESUME_PREFIX)]
    stopped, last = said[-1] if said else (float("nan"), lines[-1][1] if lines else "")
    return Interrupted(
        returncode=process.returncode,
        stopped=stopped,
        exited=exited,
        last=last,
        traceback=any("Traceback" in line for _, line in lines),
        resume=shlex.split(last[len(RESUME_PREFIX) :])[1:] if said else None,
    )


def kill_generate(folder: Path, moment: str, *, earlier: Path | None, events: int = 50) -> dict:
    """``hepnnlr generate`` SIGKILLed at ``moment``; ``earlier``: a good file first copied
    to the path (rerun with ``--overwrite``), else none."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"killed_{moment}_{'over' if earlier else 'new'}.root"
    old_sha = None
    if earlier is not None:
        shutil.copyfile(earlier, path)
        old_sha = _sha256(path)
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            _DRIVER,
            moment,
            *_generate_args(path, events, 7, overwrite=earlier is not None),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_environment(),
        check=False,
    )
    outcome, ok = _state(path, old_sha)
    ok = ok and run.returncode == -signal.SIGKILL
    case = f"generate killed while {moment}, " + ("earlier file there" if earlier else "no file")
    return _row(case, outcome, run.returncode, "killed by SIGKILL", ok)


def kill_generate_after(folder: Path, seconds: float, *, earlier: Path, events: int) -> dict:
    """``hepnnlr generate --overwrite`` over ``earlier``'s copy, SIGKILLed from outside
    after ``seconds`` (wherever the run is then)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"killed_after_{seconds:g}s.root"
    shutil.copyfile(earlier, path)
    old_sha = _sha256(path)
    process = _start(_generate_args(path, events, 8, overwrite=True), stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    finished = process.poll() is not None
    process.send_signal(signal.SIGKILL)
    code = process.wait()
    outcome, ok = _state(path, old_sha)
    # where the kill landed: a temporary file under the hidden name means while writing
    writing = any(folder.glob(f".{path.stem}.hepnnlr-tmp-*"))
    outcome += " (killed while writing the file)" if writing else " (killed before writing)"
    message = "killed by SIGKILL"
    if finished:  # too late to kill: the run replaced the file whole
        from hepnnlr.samples.rootio import check_event_file

        complete = check_event_file(path) == events
        outcome, ok = f"the new file, {events:,} entries", code == 0 and complete
        message = "finished before the kill"
    case = f"generate --overwrite of {events:,} events killed after {seconds:g} s"
    return _row(case, outcome, code, message, ok)


def _main_in_process(args: list[str]) -> tuple[int, str, float]:
    """``hepnnlr ARGS`` in this process: exit code, stderr, seconds."""
    from hepnnlr.cli.main import main

    err = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(args)
    return code, err.getvalue(), time.perf_counter() - started


def refused(
    case: str, args: list[str], *, expect: str, within_s: float | None = None, note: str = ""
) -> dict:
    """A command that must stop at once with exit code 2 and ``expect`` in its error."""
    code, err, seconds = _main_in_process(args)
    ok = code == 2 and expect in err and "Traceback" not in err
    outcome = f"refused in {seconds:.2f} s{note}"
    if within_s is not None:
        ok = ok and seconds < within_s
    return _row(case, outcome, code, _first_error_line(err), ok)


def _unfold_args(data: Path, sim: Path, out: Path) -> list[str]:
    return [
        "unfold",
        "--data",
        str(data),
        "--sim",
        str(sim),
        "-o",
        str(out),
        "--executor",
        "iterative",
        "--model",
        "mlp",
        "--iterations",
        "1",
        "--epochs",
        "2",
        "--no-progress",
    ]


def concurrent_unfold(folder: Path, data: Path, sim: Path) -> dict:
    """Two ``hepnnlr unfold`` into ``folder``: the first a subprocess, the second started
    once the first holds the folder. The second must be refused naming the first."""
    from hepnnlr.outputs import LOCK_NAME, check_complete

    out = folder / "concurrent"
    first = _start(_unfold_args(data, sim, out))
    deadline = time.monotonic() + 120
    while not (out / LOCK_NAME).exists() and first.poll() is None:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    code, err, _ = _main_in_process(_unfold_args(data, sim, out))
    first_code = first.wait()
    named = f"process {first.pid} " in err
    complete = check_complete(out) == []
    ok = code == 2 and named and first_code == 0 and complete
    outcome = f"second refused; first exit {first_code}, folder " + (
        "complete (summary.json sha256 match)" if complete else "NOT complete"
    )
    return _row(
        "two unfold runs into one folder at once", outcome, code, _first_error_line(err), ok
    )


def _resumable_args(data: Path, sim: Path, out: Path) -> list[str]:
    args = _unfold_args(data, sim, out)
    args[args.index("--iterations") + 1] = "2"  # a resumed run skips iteration 1
    return args


def _hepnnlr(args: list[str], *, moment: str | None = None) -> subprocess.CompletedProcess:
    """``hepnnlr ARGS`` as a subprocess (SIGKILLed at ``moment``, see ``_DRIVER``)."""
    command = [sys.executable, "-c", _DRIVER, moment, *args] if moment else ["hepnnlr", *args]
    return subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, env=_environment(), check=False
    )


def _same_run(out: Path, reference: Path) -> tuple[bool, str]:
    """Whether ``out`` holds ``reference``'s results: a complete folder, every column of
    the weights file equal bit for bit (its metadata names the output folder, so the files'
    sha256 differ), the summary equal but for the timings and the run's command, pid and
    times (``files``: the same names)."""
    import json

    import pyarrow.parquet as pq

    from hepnnlr.outputs import SUMMARY_NAME, check_complete

    if check_complete(out):
        return False, "folder NOT complete"
    a, b = (json.loads((f / SUMMARY_NAME).read_text()) for f in (out, reference))
    tables = [pq.read_table(f / "weights.parquet") for f in (out, reference)]
    weights = tables[0].column_names == tables[1].column_names and all(
        tables[0][c].equals(tables[1][c]) for c in tables[0].column_names
    )
    keep = [k for k in a if k not in ("timings_s", "run", "files")]
    summary = {k: a[k] for k in keep} == {k: b.get(k) for k in keep} and set(a) == set(b)
    names = set(a["files"]) == set(b["files"])
    what = [
        f"weights ({tables[0].num_columns} columns) {'equal' if weights else 'DIFFERENT'}",
        f"summary {'equal' if summary else 'DIFFERENT'}",
        f"files {'the same' if names else 'DIFFERENT'}",
    ]
    return weights and summary and names, ", ".join(what)


def unfold_reference(folder: Path, data: Path, sim: Path) -> Path:
    """An uninterrupted ``hepnnlr unfold`` of 2 iterations: what a resumed run must give."""
    out = folder / "uninterrupted"
    run = _hepnnlr(_resumable_args(data, sim, out))
    if run.returncode != 0:
        raise RuntimeError(f"the uninterrupted unfold failed:\n{run.stderr[-2000:]}")
    return out


def kill_unfold_and_resume(folder: Path, data: Path, sim: Path, reference: Path) -> list[dict]:
    """``hepnnlr unfold`` SIGKILLed right after its 3rd checkpoint (iteration 2's pull
    phase); rerun without and with ``--resume``."""
    from hepnnlr.outputs import CHECKPOINT_NAME

    out = folder / "killed"
    args = _resumable_args(data, sim, out)
    killed = _hepnnlr(args, moment="checkpoint-3")
    phases = sorted(p.parent.name for p in (out / CHECKPOINT_NAME).glob("*/it*/state.json"))
    left = ", ".join(phases) or "no checkpoint"
    rows = [
        _row(
            "unfold (2 iterations) killed right after its 3rd checkpoint",
            f"checkpoints on disk: {left}; no summary.json",
            killed.returncode,
            "killed by SIGKILL",
            killed.returncode == -signal.SIGKILL
            and phases == ["it1-pull", "it1-push", "it2-pull"]
            and not (out / "summary.json").exists(),
        ),
        refused(
            "rerun into the killed run's folder without --resume",
            args,
            expect="pass --resume to continue it, --overwrite to start over",
        ),
    ]
    resumed = _hepnnlr([*args, "--resume"])
    same, outcome = _same_run(out, reference)
    rows.append(
        _row(
            "rerun with --resume",
            f"{outcome} vs the uninterrupted run",
            resumed.returncode,
            _first_error_line(resumed.stderr) if resumed.returncode else "",
            resumed.returncode == 0 and same and not (out / CHECKPOINT_NAME).exists(),
        )
    )
    return rows


def interrupt_unfold(folder: Path, data: Path, sim: Path, reference: Path) -> list[dict]:
    """``hepnnlr unfold`` sent SIGINT (Ctrl-C) once its first checkpoint is on disk (the
    signal lands as the next step's training starts), then resumed with the command it
    printed. Reported: the seconds from the signal to the printed line (the run stopped)
    and to the process's exit (Python's and TensorFlow's teardown, slower under load)."""
    from hepnnlr.outputs import CHECKPOINT_NAME

    out = folder / "interrupted"
    run = interrupt_when(
        _resumable_args(data, sim, out),
        lambda: any((out / CHECKPOINT_NAME).glob("*/it1-pull/state.json")),
    )
    ok = run.returncode == 130 and run.resume is not None and not run.traceback
    rows = [
        _row(
            "unfold sent SIGINT (Ctrl-C) after its first checkpoint",
            f"stopped (the line printed) {run.stopped:.1f} s after the signal, exited after "
            f"{run.exited:.1f} s; " + ("a traceback" if run.traceback else "no traceback"),
            run.returncode,
            run.last.replace(str(folder), "…"),
            ok and run.stopped < 5.0 and run.exited < 30.0,
        )
    ]
    if run.resume is not None:
        resumed = _hepnnlr(run.resume)
        same, outcome = _same_run(out, reference)
        rows.append(
            _row(
                "the printed resume command",
                f"{outcome} vs the uninterrupted run",
                resumed.returncode,
                _first_error_line(resumed.stderr) if resumed.returncode else "",
                resumed.returncode == 0 and same,
            )
        )
    return rows


class DISDiesOnce(coffea_processor.ProcessorABC):
    """A picklable stand-in for the DIS processor whose first chunk kills its own dask
    worker process (SIGKILL); ``marker`` records that the kill happened, once."""

    def __init__(self, marker: Path) -> None:
        from hepnnlr.processors.dis import DISProcessor

        self.inner = DISProcessor(columns=False)
        self.marker = str(marker)
        self.required_branches = self.inner.required_branches

    def process(self, events):
        try:
            with open(self.marker, "x") as handle:  # only the first chunk of the run
                handle.write(str(os.getpid()))
        except FileExistsError:
            return self.inner.process(events)
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")

    def postprocess(self, accumulator):
        return accumulator


def _same_histograms(a: Any, b: Any) -> bool:
    """Equal outputs: the same keys, histograms with equal contents and variances (flow
    bins too), other values equal."""
    import numpy as np

    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_same_histograms(a[k], b[k]) for k in a)
        )
    if hasattr(a, "variances"):
        return np.array_equal(a.values(flow=True), b.values(flow=True)) and np.array_equal(
            a.variances(flow=True), b.variances(flow=True)
        )
    return a == b


def kill_dask_worker(folder: Path, sim: Path) -> dict:
    """``run_processor`` on a dask ``LocalCluster`` (2 worker processes, chunks of 500
    events) whose worker processing the first chunk is SIGKILLed: the chunk runs again on a
    restarted worker; the histograms must equal an iterative run's."""
    from hepnnlr.processors.dis import DISProcessor
    from hepnnlr.schema import run_processor

    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / "worker_killed.pid"
    marker.unlink(missing_ok=True)
    fileset = {"sim": [str(sim)]}
    options = {"chunksize": 500, "progress": False}
    undisturbed = run_processor(DISProcessor(columns=False), fileset, **options)
    # The workers are new processes: they import this module (the processor's class) and
    # the processors package from the path given here.
    path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(__file__).resolve().parent), str(ROOT), path])
    )
    started = time.perf_counter()
    try:
        out = run_processor(
            DISDiesOnce(marker), fileset, executor="dask", workers=2, retries=3, **options
        )
        error = ""
    except Exception as exc:  # the outcome is reported, not raised
        out, error = None, f"{type(exc).__name__}: {exc}"
    finally:
        if path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = path
    seconds = time.perf_counter() - started
    killed = marker.exists()
    same = out is not None and _same_histograms(out, undisturbed)
    outcome = (
        f"worker process {marker.read_text() if killed else '?'} killed; "
        + ("histograms and cut flow equal the undisturbed run's" if same else "NOT equal")
        + f" ({seconds:.0f} s)"
    )
    return _row(
        "a dask LocalCluster worker SIGKILLed while processing a chunk",
        outcome,
        0 if out is not None else 1,
        error or "chunk rescheduled on a restarted worker",
        killed and same,
    )


def truncated_copy(source: Path, path: Path) -> Path:
    """``source`` cut to half its bytes (an interrupted copy)."""
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def short_copy(source: Path, path: Path, keep: int) -> Path:
    """The first ``keep`` events of ``source`` in a file whose record says it was written
    for all of them: what a writer killed between baskets leaves when it writes in place."""
    import uproot

    from hepnnlr.rootfiles import SAMPLE_RECORD, sample_record
    from hepnnlr.samples.rootio import check_event_file

    total = check_event_file(source)
    first_events(source, path, keep)
    with uproot.update(path) as file:
        del file[SAMPLE_RECORD]
        file[SAMPLE_RECORD] = sample_record("events", total)
    return path


def first_events(source: Path, path: Path, n: int) -> Path:
    """The first ``n`` events of an event file, as a complete file of its own."""
    from hepnnlr.samples.rootio import read_events, write_events

    return write_events(path, read_events(source, entry_stop=n))


def input_cases(folder: Path, data: Path, sim: Path) -> list[dict]:
    """Truncated, short and too-small inputs to ``hepnnlr unfold``: each refused by name."""
    folder.mkdir(parents=True, exist_ok=True)
    cut = truncated_copy(sim, folder / "truncated.root")
    short = short_copy(sim, folder / "short.root", keep=100)
    few = first_events(data, folder / "data_8.root", 8)
    small_sim = first_events(sim, folder / "sim_300.root", 300)
    return [
        refused(
            "unfold a truncated ROOT file (half its bytes)",
            _unfold_args(data, cut, folder / "out_truncated"),
            expect="is truncated",
        ),
        refused(
            "unfold a file with fewer entries than written for",
            _unfold_args(data, short, folder / "out_short"),
            expect="is short",
        ),
        refused(
            "unfold 8 data events",
            _unfold_args(few, small_sim, folder / "out_few"),
            expect="passing of 8",
        ),
    ]


def output_cases(folder: Path, data: Path, sim: Path, existing: Path) -> list[dict]:
    """Outputs that must be refused before any work."""
    blocker = folder / "a_file"
    blocker.write_text("not a folder")
    return [
        refused(
            "generate into an existing file without --overwrite",
            _generate_args(existing, 100_000, 1, overwrite=False),
            expect="exists; pass --overwrite",
            within_s=60.0,
        ),
        refused(
            "generate 100,000 events into an unwritable -o",
            _generate_args(blocker / "x.root", 100_000, 1, overwrite=False),
            expect="cannot write",
            within_s=60.0,
        ),
        refused(
            "unfold into an unwritable -o",
            _unfold_args(data, sim, blocker / "out"),
            expect="cannot write",
            within_s=60.0,
            note=" (the CLI imports TensorFlow first), before any input is read",
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1500, help="events per input sample")
    parser.add_argument(
        "--kill-events",
        type=int,
        default=40_000,
        help="events of the generate run killed from outside",
    )
    parser.add_argument(
        "--kill-after",
        type=float,
        nargs="*",
        default=[2.0, 5.0, 10.0],
        help="seconds after which that run is killed",
    )
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: temp)")
    parser.add_argument("--json", type=Path, default=None, help="output (default docs/results)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _results import RESULTS_DIR, load_average, print_result, table, write_result

    from hepnnlr.samples import make_dis_sample

    load_before = load_average()
    work = args.work or Path(tempfile.mkdtemp(prefix="hepnnlr-faults-"))
    inputs = work / "inputs"
    sim = make_dis_sample(inputs / "sim.root", "sim", n_events=args.events, seed=1, progress=False)
    data = make_dis_sample(
        inputs / "data.root", "data", n_events=args.events, seed=2, progress=False
    )
    rows = []
    for moment in MOMENTS:
        for earlier in (None, sim):
            rows.append(kill_generate(work / "generate", moment, earlier=earlier))
    for seconds in args.kill_after:
        rows.append(
            kill_generate_after(work / "generate", seconds, earlier=sim, events=args.kill_events)
        )
    rows += output_cases(work, data, sim, existing=sim)
    rows.append(concurrent_unfold(work, data, sim))
    rows += input_cases(work / "bad_inputs", data, sim)
    reference = unfold_reference(work / "resume", data, sim)
    rows += kill_unfold_and_resume(work / "resume", data, sim, reference)
    rows += interrupt_unfold(work / "resume", data, sim, reference)
    rows.append(kill_dask_worker(work / "dask", sim))
    from fault_injection_fit import CALIBRATE_JOB, FIT_JOB, calibrate_cases, fit_cases

    rows += fit_cases(work / "fit")
    rows += calibrate_cases(work / "calibrate")
    cells = [
        [r["case"], r["outcome"], r["exit_code"], r["message"], "yes" if r["ok"] else "NO"]
        for r in rows
    ]
    path = write_result(
        args.json or RESULTS_DIR / "fault_injection.json",
        title="Faults injected into hepnnlr runs (issue 17)",
        scale=(
            f"DIS inputs of {args.events:,} events per sample; generate runs of 50 events "
            f"killed at named moments, one of {args.kill_events:,} events killed after "
            f"{', '.join(f'{s:g}' for s in args.kill_after)} s; unfold: MLP, 1 iteration, "
            "2 epochs, iterative executor (2 iterations where killed, interrupted and "
            "resumed); dask: 2 worker processes, chunks of 500 events of the sim sample; "
            "fit: hepnnlr fit dctr on the Gaussian toy (" + " ".join(FIT_JOB.split()) + "); "
            "calibrate: hepnnlr fit dctr --calibrate (" + " ".join(CALIBRATE_JOB.split()) + ")"
        ),
        tables=[
            table(
                "Each case, what it left behind, its exit code and its error",
                ["case", "outcome", "exit code", "message", "as required"],
                cells,
            )
        ],
        load_before=load_before,
        notes=[
            "Exit code -9: the process was killed by SIGKILL. A killed generate must leave "
            "no file at its path or the earlier file with its sha256; a refusal is exit "
            "code 2 with one 'hepnnlr: error:' line; 'complete' means summary.json says "
            "complete: true and every file it lists has its sha256 "
            "(hepnnlr.outputs.check_complete).",
            "Resumed runs are compared with an uninterrupted run of the same job: every "
            "column of weights.parquet bit for bit (the file's metadata names its output "
            "folder, so the files' sha256 differ), summary.json equal but for the timings "
            "and the run's command, pid and times. SIGINT: 'stopped' is when the "
            "'hepnnlr: interrupted' line came (the run had stopped), 'exited' when the "
            "process ended (Python's and TensorFlow's teardown, slower under load).",
            "fit: a resumed run is compared with an uninterrupted run of the same job file: "
            "summary.json, fit.json and curves.json equal, bit for bit in every number, with "
            "the timings, the run's command, pid and times and the output folder's name left "
            "out, and the same files listed; 'units' are the checkpointed pieces of the fit "
            "(hepnnlr.workflows.fit_checkpoint).",
            "calibrate: the resumed calibration.json is compared with an uninterrupted "
            "calibration's, every number bit for bit, its 'seconds' left out; its units are "
            "the repeats' and the simulation replicas' reweighters, then each target's fits "
            "and replica groups (OUTPUT/.hepnnlr-checkpoint/calibration).",
        ],
    )
    print_result(path, cells)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    if not all(r["ok"] for r in rows):
        raise SystemExit("some cases did not end as required (column 'as required')")


if __name__ == "__main__":
    main()
