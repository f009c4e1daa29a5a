"""Import time of hepnnlr's light entry points, each in fresh processes (issue 18, item 2).

What a user, a coffea worker or a statistics script pays before its first line of work:

* ``import hepnnlr`` (the lazy top level);
* ``import hepnnlr.processors`` (every built-in processor, so coffea, awkward, FastJet:
  what a dask worker that only runs a processor imports);
* the NumPy statistics (``from hepnnlr.methods import scan_nll, profile_interval, ...``: the
  signal-strength NLL grid, intervals, iminuit fit and coverage) with ``hepnnlr.results``;
* ``hepnnlr --help``;

each measured in ``--repeat`` fresh ``python -c`` processes, one of each per round (so a
change of the machine's load hits them alike), and reported as the median: the CPU and wall
time of the import inside the child (``time.process_time`` / ``time.perf_counter`` around
it), its peak RSS, and whether TensorFlow was loaded. Target: < 1.5 s and no TensorFlow,
judged on the CPU time, which on an idle core is the wall time (an import is one thread)
and, unlike the wall time, does not grow with the load of a shared machine. For scale,
``--reference-repeat`` processes import the training layer (``hepnnlr.training.classifier``,
which imports TensorFlow), the cost the others avoid.

Usage::

    python benchmarks/bench_import.py --repeat 7 --json docs/benchmarks/import.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from _timing import finish, load_average

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 1.5

ENTRY_POINTS = {
    "hepnnlr": "import hepnnlr",
    "hepnnlr.processors": "import hepnnlr.processors",
    "hepnnlr.methods statistics + hepnnlr.results": (
        "from hepnnlr.methods import (MixtureLikelihood, scan_nll, profile_interval, "
        "wilks_intervals, minimize_nll, coverage_from_toys, evaluate_test_set)\n"
        "import hepnnlr.results"
    ),
    "hepnnlr --help": (
        "import contextlib, io\n"
        "from hepnnlr.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass"
    ),
}
"""The measured entry points: label -> the code timed in the child."""

REFERENCE = ("training layer (TensorFlow)", "import hepnnlr.training.classifier")

_CHILD = """
import json, resource, sys, time
wall, cpu = time.perf_counter(), time.process_time()
{code}
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({{
    "wall_s": wall, "cpu_s": cpu,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "tensorflow": "tensorflow" in sys.modules or "keras" in sys.modules,
}}))
"""


def measure_once(code: str, tree: Path = ROOT) -> dict:
    """One fresh process in ``tree``: the wall/CPU time of ``code``, its peak RSS, whether
    TensorFlow was loaded."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD.format(code=code)],
        capture_output=True,
        text=True,
        cwd=tree,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the import of {code!r} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median(runs: list[dict]) -> dict:
    return {
        "wall_s": statistics.median(r["wall_s"] for r in runs),
        "cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in runs),
        "tensorflow": any(r["tensorflow"] for r in runs),
        "runs": len(runs),
        "wall_all_s": [round(r["wall_s"], 3) for r in runs],
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="fresh processes per entry point")
    parser.add_argument(
        "--reference-repeat",
        type=int,
        default=1,
        help="fresh processes importing the training layer (0: skip; ~15 s each on 2 cores)",
    )
    parser.add_argument(
        "--only", nargs="+", choices=list(ENTRY_POINTS), help="measure only these entry points"
    )
    parser.add_argument(
        "--tree",
        type=Path,
        default=ROOT,
        help="source tree the children import hepnnlr from (their working directory), e.g. an "
        "older commit unpacked with git archive, to compare",
    )
    parser.add_argument("--json", type=Path, help="write the results for benchmarks/report.py")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.reference_repeat < 0:
        parser.error("--repeat must be >= 1 and --reference-repeat >= 0")
    chosen = {k: v for k, v in ENTRY_POINTS.items() if not args.only or k in args.only}
    load_before = load_average()
    runs: dict[str, list[dict]] = {label: [] for label in chosen}
    for _ in range(args.repeat):  # interleaved: one process of each entry point per round
        for label, code in chosen.items():
            runs[label].append(measure_once(code, args.tree))
    results = {label: _median(r) for label, r in runs.items()}
    if args.reference_repeat:
        label, code = REFERENCE
        runs_ref = [measure_once(code, args.tree) for _ in range(args.reference_repeat)]
        results[label] = _median(runs_ref)

    summary = []
    for label, r in results.items():
        reference = label == REFERENCE[0]
        summary.append(
            {
                "measurement": f"{label}: import time, median of {r['runs']} fresh processes",
                "value": r["cpu_s"],
                "unit": "s",
                "clock": "CPU",
                "target": "reference" if reference else f"< {TARGET_S} s, no TensorFlow",
                "met": None if reference else (r["cpu_s"] < TARGET_S and not r["tensorflow"]),
                "note": f"wall {r['wall_s']:.2f} s, peak RSS {r['peak_rss_mib']:.0f} MiB, "
                f"TensorFlow {'loaded' if r['tensorflow'] else 'not loaded'}",
            }
        )
    for row in summary:
        print(f"{row['measurement']}: {row['value']:.2f} s ({row['note']})")
    argv = sys.argv[1:] if argv is None else argv
    notes = {"entry_points": chosen, "reference": dict([REFERENCE])}
    return finish(__file__, args, argv, load_before, results, summary, notes=notes)


if __name__ == "__main__":
    main()
