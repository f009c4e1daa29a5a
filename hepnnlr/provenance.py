"""Where a measurement ran: the machine and its load, for the JSON files that docs render.

``benchmarks/_timing.py`` (docs/benchmarks.md) and ``examples/_results.py``
(docs/results.md) record both with every number they write, so a reader can judge a ratio
or a closure measured on a shared machine. Standard library only: importing it loads
nothing else of hepnnlr.
"""

from __future__ import annotations

import os
import platform
import shutil
from typing import Any

__all__ = ["load_average", "machine"]


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
