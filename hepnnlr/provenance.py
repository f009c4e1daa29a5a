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
