"""Write one measured result of a committed script as JSON, for ``docs/results.md``.

Every number in ``docs/results.md`` that the code can change comes from a script in
``examples/`` (or a ``hepnnlr`` command run by one) that writes its tables with
:func:`write_result` into ``docs/results/<name>.json``; ``examples/results_report.py``
renders those files into the document. Nothing in the rendered part is typed by hand, so
re-running the script is the only way to change a number, and the file records the
command, the scale, the machine, the load and the commit that made it.

The examples' one way of showing hepnnlr's progress notes while they run is here too:
:func:`show_progress`, called first in their ``main()``.

The document (one JSON object)::

    {"title": "...", "script": "examples/x.py", "command": "python examples/x.py ...",
     "scale": "20,000 events per sample, 4 iterations, ...",
     "date": "2026-12-06 22:10 UTC", "commit": "c28fa6a", "dirty": false,
     "machine": {"cores": 2, "memory_gib": 24, "gpu": "none", "python": "3.11.7"},
     "load_before": "1.16, 2.31, 2.41", "load_after": "...",
     "tables": [{"caption": "...", "columns": ["a", "b"], "rows": [[1, "x"], ...]}],
     "figures": ["figures/x.png"],          # relative to docs/
     "notes": ["..."]}

Cells are numbers or text; the renderer prints them as they are (format numbers before
writing them when a precision matters).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hepnnlr.cli.logs import LEVELS, command_logging
from hepnnlr.provenance import load_average, machine  # noqa: F401 (re-exported)

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "docs" / "results"


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


# The tree the measurement ran on: read when the script starts (it imports this module
# first), not when it writes, since other commits may land during a long run.
_START_COMMIT = _git("rev-parse", "--short", "HEAD")
_START_DIRTY = bool(_git("status", "--porcelain", "--untracked-files=no"))


def table(caption: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict:
    """One table of a result; every row has one cell per column."""
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(
                f"table {caption!r}: row {list(row)!r} has {len(row)} cells for "
                f"{len(columns)} columns {list(columns)!r}"
            )
    return {"caption": caption, "columns": list(columns), "rows": [list(r) for r in rows]}


def write_result(
    path: str | Path,
    *,
    title: str,
    scale: str,
    tables: Sequence[Mapping[str, Any]],
    load_before: str,
    figures: Sequence[str] = (),
    notes: Sequence[str] = (),
    script: str | None = None,
    argv: Sequence[str] | None = None,
) -> Path:
    """Write the result (see the module docstring) and return its path.

    Args:
        path: The JSON file, normally ``RESULTS_DIR / "<name>.json"``.
        title: The section title in ``docs/results.md``.
        scale: Events, iterations, repeats... in words: what a reader needs to judge it.
        tables: From :func:`table`.
        load_before: :func:`load_average` when the measurement started.
        figures: Figure paths relative to ``docs/``.
        notes: Sentences printed under the tables.
        script: The script's path relative to the repository (default: ``sys.argv[0]``).
        argv: Its arguments (default: ``sys.argv[1:]``).
    """
    script_path = Path(script if script is not None else sys.argv[0]).resolve()
    try:
        script_rel = script_path.relative_to(ROOT).as_posix()
    except ValueError:
        script_rel = script_path.name
    arguments = list(sys.argv[1:] if argv is None else argv)
    document = {
        "title": title,
        "script": script_rel,
        "command": " ".join(["python", script_rel, *map(shlex.quote, arguments)]),
        "scale": scale,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _START_COMMIT,
        "dirty": _START_DIRTY,
        "machine": machine(),
        "load_before": load_before,
        "load_after": load_average(),
        "tables": [dict(t) for t in tables],
        "figures": list(figures),
        "notes": list(notes),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".part")
    temporary.write_text(json.dumps(document, indent=1, default=float) + "\n")
    os.replace(temporary, path)  # never a half-written table in docs/results/
    return path


def print_result(path: Path, rows: Sequence[Sequence[Any]]) -> None:
    """Say where :func:`write_result` wrote and print the main table's rows, one a line."""
    print(f"wrote {path}")
    for row in rows:
        print("  ", " | ".join(map(str, row)))


# The handler show_progress added, kept for the rest of the process (the script's life);
# never closed, so the ExitStack is only a holder for the entered context.
_PROGRESS = contextlib.ExitStack()
_SHOWING: list[str] = []


def show_progress(verbosity: str = "default") -> None:
    """Print hepnnlr's progress notes on stderr, as the ``hepnnlr`` command does.

    The library logs through ``logging.getLogger("hepnnlr")`` and adds no handler of its
    own, so a script that calls the workflows or methods in-process shows none of their
    notes until it adds one. This adds the command's handler
    (:func:`hepnnlr.cli.logs.command_logging`: ``[hepnnlr] ...`` lines, TensorFlow's Python
    warnings only as errors) for the rest of the process; the examples call it first in
    ``main()``. A second call changes nothing.

    Args:
        verbosity: ``"default"`` (progress notes), ``"quiet"`` (warnings and errors) or
            ``"verbose"`` (details), as the command's no option, ``-q`` and ``-v``.
    """
    if verbosity not in LEVELS:
        raise ValueError(f"show_progress: verbosity={verbosity!r}; use one of {sorted(LEVELS)}")
    if not _SHOWING:
        _PROGRESS.enter_context(command_logging(LEVELS[verbosity]))
        _SHOWING.append(verbosity)
