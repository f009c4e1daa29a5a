"""Where a measurement ran: the machine and its load, for the JSON files that docs render.

``benchmarks/_timing.py`` (docs/benchmarks.md) and ``examples/_results.py``
(docs/results.md) record both with every number they write, so a reader can judge a ratio
or a closure measured on a shared machine; ``benchmarks/report.py`` and
``examples/results_report.py`` render those files into the documents through
:func:`render_report` (the command line, the ``--check``) and :func:`replace_rendered`.
Those two are tooling of the repository's docs, kept here rather than in
``hepnnlr.results`` (the methods' results) because both folders already share this module.
Standard library only: importing it loads nothing else of hepnnlr.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["load_average", "machine", "render_report", "replace_rendered"]


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as ``uptime`` prints them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> dict[str, Any]:
    """Cores, memory (GiB, from ``/proc/meminfo``), GPU and Python version of this machine."""
    with open("/proc/meminfo") as meminfo:
        total_kib = int(meminfo.readline().split()[1])
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(total_kib / 2**20),
        "gpu": "none" if shutil.which("nvidia-smi") is None else "nvidia-smi present",
        "python": platform.python_version(),
    }


START, END = "<!-- current:start -->", "<!-- current:end -->"
"""The markers around the part of a document that a script renders (docs/benchmarks.md,
docs/results.md); everything outside them is left as written."""


def replace_rendered(old: str, rendered: str, *, where: str, place: str) -> str:
    """``old`` with the text between :data:`START` and :data:`END` replaced by ``rendered``.

    Args:
        old: The document's text.
        rendered: The new part (ends with a newline).
        where: The document's path, for the error.
        place: Where the markers belong, for the error (e.g. "below the title").
    """
    if old.count(START) != 1 or old.count(END) != 1 or old.index(START) > old.index(END):
        raise SystemExit(
            f"{where} needs exactly one {START!r} followed by one {END!r}; add them {place}."
        )
    head, rest = old.split(START)
    _, tail = rest.split(END)
    return head + START + "\n" + rendered + END + tail


def render_report(
    argv: Sequence[str] | None,
    *,
    description: str,
    json_dir: Path,
    doc: Path,
    render: Callable[[Path], str],
    part: str,
    place: str,
    command: str,
    no_json: str,
    errors: tuple[type[Exception], ...] = (),
) -> int:
    """The command line of a report script: render ``--json-dir`` into ``--doc``.

    With ``--check`` nothing is written and the exit status says whether the document is
    up to date (1: run ``command``).

    Args:
        argv: The arguments (``None``: ``sys.argv[1:]``).
        description: The script's ``--help`` line.
        json_dir, doc: Defaults of ``--json-dir`` and ``--doc``.
        render: The rendered part from the JSON folder (ends with a newline).
        part: What is rendered, in messages (``"table"``, ``"results"``).
        place: Where the markers belong (see :func:`replace_rendered`).
        command: The command that re-renders the document (``python benchmarks/report.py``).
        no_json: What to do when the folder has no JSON file, in the error.
        errors: Exceptions of ``render`` that end the script with their message.

    Returns:
        The exit status: 0, or 1 for a stale document under ``--check``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json-dir", type=Path, default=json_dir)
    parser.add_argument("--doc", type=Path, default=doc)
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 if the current {part} is not up to date"
    )
    args = parser.parse_args(argv)
    if not sorted(args.json_dir.glob("*.json")):
        raise SystemExit(f"no JSON files in {args.json_dir}: {no_json}")
    old = args.doc.read_text()
    try:
        new = replace_rendered(old, render(args.json_dir), where=str(args.doc), place=place)
    except errors as error:
        raise SystemExit(str(error)) from None
    if args.check:
        if old != new:
            log.error("%s is out of date: run %s", args.doc, command)
            return 1
        return 0
    args.doc.write_text(new)
    log.info("wrote the current %s of %s", part, args.doc)
    return 0
