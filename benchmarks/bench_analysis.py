"""CPU of the generic AnalysisProcessor next to the hand-written DISProcessor.

Issue 16: the one processor that runs any analysis description costs at most 1.15x the
CPU of the hand-written processors on the same files. Measured here for DIS:
``AnalysisProcessor(hepnnlr.analysis.get("dis"))`` (whose histograms are those of
``DISProcessor`` bit for bit, ``tests/analysis/test_analysis_processor.py``) and
``DISProcessor()`` on one Pythia DIS file, both through ``run_processor`` with the
iterative executor (reading included) and the columns returned, best of ``--repeat``
interleaved runs after an untimed warm-up (``benchmarks/_timing.py``), in one process.

Usage::

    python benchmarks/bench_analysis.py                      # generates 10k sim events
    python benchmarks/bench_analysis.py --file sim.root --chunksize 5000 --repeat 3 \\
        --json docs/benchmarks/analysis_dis.json
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _timing import interleaved, load_average, print_results, write_json  # benchmarks/

from hepnnlr.analysis import get
from hepnnlr.processors import AnalysisProcessor, DISProcessor
from hepnnlr.samples import make_dis_sample
from hepnnlr.schema import run_processor

TARGET = 1.15
"""Issue 16: the generic processor at most 1.15x the CPU of the hand-written one."""


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="DIS event file (default: generate one)")
    parser.add_argument("--events", type=int, default=10_000, help="events to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunksize", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.file
        if path is None:
            path = make_dis_sample(
                Path(tmp) / "dis_sim.root", "sim", n_events=args.events, seed=args.seed,
                progress=False,
            )  # fmt: skip
        fileset = {"sim": [str(path)]}

        def run(processor):
            return lambda: run_processor(
                processor, fileset, chunksize=args.chunksize, progress=False
            )

        load_before = load_average()
        timings = interleaved(
            {
                "dis_processor": run(DISProcessor()),
                "analysis_processor": run(AnalysisProcessor(get("dis"))),
            },
            args.repeat,
        )
    results = {f"{name}_{clock}": getattr(t, clock) for name, t in timings.items()
               for clock in ("cpu", "wall")}  # fmt: skip
    ratio = timings["analysis_processor"].cpu / timings["dis_processor"].cpu
    results["cpu_ratio"] = ratio
    print_results(results)
    summary = [
        {
            "measurement": "AnalysisProcessor(get('dis')) / DISProcessor, CPU",
            "ratio": round(ratio, 3),
            "target": f"<= {TARGET}",
            "met": ratio <= TARGET,
            "clock": "CPU",
        }
    ]
    if args.json:
        write_json(
            args.json,
            script="bench_analysis.py",
            argv=argv,
            load_before=load_before,
            results=results,
            summary=summary,
            notes={"file": str(args.file or f"{args.events} generated sim events"),
                   "chunksize": args.chunksize},
        )  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
