"""Peak memory of the DIS processor as the number of events grows tenfold.

Runs :class:`hepnnlr.processors.dis.DISProcessor` with the iterative executor and a fixed
chunksize on N and on 10 N events of one sample (the first N events are the first
``N / chunksize`` chunks of the 10 N file, ``maxchunks``), each run in a fresh Python
process, and prints the peak resident set size (``resource.getrusage(RUSAGE_SELF)
.ru_maxrss``) of each process, the RSS before the run (after the imports and a one-chunk
warm-up) and the ratio of the peaks of 10 N and N events.

Three variants:

* ``columns=False``: only ``cutflow`` and ``hists`` are accumulated, which is what
  chunked processing bounds: the peak should not grow with the number of events
  (ratio ~1);
* ``columns=True`` (the default of the processor): the per-chunk columns (one row per
  event, the network inputs) are returned, so the output itself grows linearly with N;
* ``read only``: no coffea, no processor: the same branches read chunk by chunk with
  plain ``uproot`` (``tree.arrays(required_branches, entry_start, entry_stop)``, the
  file opened per chunk as coffea does) and dropped. This is the reference for the
  reading layer: whatever growth it shows is not the processor's.

Usage::

    python benchmarks/bench_memory.py                      # N = 20k (generates 200k)
    python benchmarks/bench_memory.py --file big.root --events 20000 --chunksize 5000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rss_mib() -> float:
    """Current resident set size in MiB (Linux ``/proc``)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _child_read(path: str, chunks: int, chunksize: int) -> None:
    """Read the processor's branches chunk by chunk with uproot only; print a JSON line."""
    import uproot

    from hepnnlr.processors.dis import DISProcessor

    branches = list(DISProcessor.required_branches)

    def read(start: int) -> None:
        with uproot.open(path) as file:
            file["events"].arrays(branches, entry_start=start, entry_stop=start + chunksize)

    read(0)  # warm-up, as the processor runs
    before = _rss_mib()
    start = time.perf_counter()
    for chunk in range(chunks):
        read(chunk * chunksize)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    events = chunks * chunksize
    print(json.dumps({"events": events, "rss_before_mib": before, "peak_mib": peak, "s": seconds}))


def _child(path: str, chunks: int, chunksize: int, columns: bool | None) -> None:
    """Run the processor once in this (fresh) process and print a JSON line."""
    if columns is None:
        _child_read(path, chunks, chunksize)
        return
    from hepnnlr.processors.dis import DISProcessor
    from hepnnlr.schema import run_processor

    processor = DISProcessor(columns=columns)
    fileset = {"sim": [path]}
    run_processor(processor, fileset, chunksize=chunksize, maxchunks=1, progress=False)
    before = _rss_mib()
    start = time.perf_counter()
    out = run_processor(processor, fileset, chunksize=chunksize, maxchunks=chunks, progress=False)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    events = out["cutflow"]["events"]
    print(json.dumps({"events": events, "rss_before_mib": before, "peak_mib": peak, "s": seconds}))


def _measure(path: Path, chunks: int, chunksize: int, columns: bool | None) -> dict[str, float]:
    command = [
        sys.executable,
        __file__,
        "--child",
        str(path),
        str(chunks),
        str(chunksize),
        "read" if columns is None else str(int(columns)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, float]:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        columns = None if argv[4] == "read" else bool(int(argv[4]))
        _child(argv[1], int(argv[2]), int(argv[3]), columns)
        return {}
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="sample with >= 10 N events (default: generate)")
    parser.add_argument("--events", type=int, default=20_000, help="N (default 20000)")
    parser.add_argument("--chunksize", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.events % args.chunksize:
        parser.error("--events must be a multiple of --chunksize")
    chunks = args.events // args.chunksize

    results: dict[str, float] = {"N": args.events, "chunksize": args.chunksize}
    with tempfile.TemporaryDirectory() as scratch:
        path = args.file
        if path is None:
            from hepnnlr.samples import make_dis_sample

            path = Path(scratch) / "sim_10N.root"
            make_dis_sample(path, "sim", n_events=10 * args.events, seed=args.seed, progress=False)
        print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for columns in (None, False, True):
            label = {None: "read_only", False: "no_columns", True: "with_columns"}[columns]
            small = _measure(path, chunks, args.chunksize, columns)
            large = _measure(path, 10 * chunks, args.chunksize, columns)
            if large["events"] != 10 * small["events"]:
                raise SystemExit(
                    f"the file holds {large['events']} events, fewer than 10 N = "
                    f"{10 * small['events']}; pass a larger --file or a smaller --events."
                )
            results[f"{label}_N_peak_mib"] = small["peak_mib"]
            results[f"{label}_10N_peak_mib"] = large["peak_mib"]
            results[f"{label}_N_rss_before_mib"] = small["rss_before_mib"]
            results[f"{label}_10N_rss_before_mib"] = large["rss_before_mib"]
            results[f"{label}_peak_ratio_10N_over_N"] = large["peak_mib"] / small["peak_mib"]
            results[f"{label}_growth_ratio_10N_over_N"] = (
                large["peak_mib"] - large["rss_before_mib"]
            ) / max(small["peak_mib"] - small["rss_before_mib"], 1e-9)
            results[f"{label}_10N_events_per_s"] = large["events"] / large["s"]
        print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value:12.3f}")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
