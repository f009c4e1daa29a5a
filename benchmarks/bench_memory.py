"""Peak memory of a processor as the number of events grows tenfold (chunked processing).

Runs :class:`hepnnlr.processors.dis.DISProcessor` (``--processor dis``) or
:class:`hepnnlr.processors.zjets.ZJetsProcessor` (``--processor zjets``) with the
iterative executor and a fixed chunksize on the first N and the first 10 N events of one
file (the first ``N / chunksize`` and ``10 N / chunksize`` chunks of the same file:
``maxchunks``), each run in a fresh Python process. For every run it prints the peak
resident set size (``VmHWM`` = ``getrusage(RUSAGE_SELF).ru_maxrss``), the RSS before the
run (after the imports and a one-chunk warm-up) and the ratio of the peaks of 10 N and N
events, and it records the memory after every chunk (``RSS`` and its anonymous part,
``RssAnon``: the heap, without mapped libraries and files), printed as a compact table of
the 10 N run at a few chunk numbers.

Variants (``--variants``, all by default):

* ``read``: no coffea, no processor: the processor's branches read chunk by chunk with
  plain ``uproot`` (``tree.arrays(required_branches, entry_start, entry_stop)``, the
  file opened per chunk as coffea does, uproot's defaults) and dropped: the reading
  layer as it behaves by default. Its RSS grows by up to 2 MiB per chunk: every
  chunk's arrays stay in the array cache of the closed file, which lives in reference
  cycles until the next full garbage collection;
* ``read_nocache``: the same with ``uproot.open(..., array_cache=None)``, what
  :func:`hepnnlr.schema.run_processor` passes to coffea
  (:data:`hepnnlr.schema.runner.UPROOT_OPTIONS`): the reference for the processors;
* ``nocolumns``: ``columns=False``: only ``cutflow`` and ``hists`` are accumulated,
  which is what chunked processing bounds (ratio ~1 expected);
* ``columns``: ``columns=True`` (the processors' default): the per-chunk columns (one
  row per event, the network inputs) are returned, so the output grows linearly with N.

Besides the process-to-process ratio ``peak(10 N) / peak(N)``, the 10 N run's own curve
gives ``late growth``: the RSS after the last chunk minus the RSS after chunk 10 N / 2
(MiB), i.e. whether the memory still grows once the allocators are warm.

It also prints ``max_entries_per_basket`` of the file: uproot decompresses whole
baskets, so a chunk smaller than a basket costs the whole basket's memory and CPU time.

Usage::

    python benchmarks/bench_memory.py                      # N = 20k DIS (generates 200k)
    python benchmarks/bench_memory.py --file sim1M.root --events 100000 --chunksize 5000
    python benchmarks/bench_memory.py --processor zjets --file z300k.root --events 30000 \\
        --variants read read_nocache nocolumns
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _timing import (  # benchmarks/_timing.py
    RSS_PER_CHUNK,
    RssPerChunk,
    load_average,
    memory_mib,
    write_json,
)

VARIANTS = ("read", "read_nocache", "nocolumns", "columns")
PROCESSORS = ("dis", "zjets")
TARGET = 1.2
"""Issue 14: the peak memory of chunked processing (``nocolumns``) at most 1.2x from N to
10 N events."""
_ROW_TEXT = {
    "read": ("plain uproot reading (uproot's defaults)", None),
    "read_nocache": ("plain uproot reading, array_cache=None (the runner's reading)", None),
    "nocolumns": ("{processor}(columns=False): cutflow and histograms", TARGET),
    "columns": ("{processor}(): columns returned (grow with N by design)", None),
}


def _processor_class(name: str) -> type:
    if name == "dis":
        from hepnnlr.processors.dis import DISProcessor

        return DISProcessor
    from hepnnlr.processors.zjets import ZJetsProcessor

    return ZJetsProcessor


def _child_read(path: str, chunks: int, chunksize: int, processor: str, cache: bool) -> dict:
    """Read the processor's branches chunk by chunk with uproot only."""
    import uproot

    branches = list(_processor_class(processor).required_branches)
    options = {} if cache else {"array_cache": None}
    curve = []

    def read(start: int) -> None:
        with uproot.open(path, **options) as file:
            file["events"].arrays(branches, entry_start=start, entry_stop=start + chunksize)

    read(0)  # warm-up, as the processor runs
    before = memory_mib()["rss"]
    start = time.perf_counter()
    for chunk in range(chunks):
        read(chunk * chunksize)
        curve.append(memory_mib())
    seconds = time.perf_counter() - start
    return {"events": chunks * chunksize, "rss_before_mib": before, "s": seconds, "curve": curve}


def _child_processor(path: str, chunks: int, chunksize: int, processor: str, columns: bool):
    """Run the processor once (after a one-chunk warm-up run) through run_processor."""
    from hepnnlr.processors import collect_cutflow
    from hepnnlr.schema import run_processor

    wrapped = RssPerChunk(_processor_class(processor)(columns=columns))
    fileset = {"bench": [path]}
    run_processor(wrapped, fileset, chunksize=chunksize, maxchunks=1, progress=False)
    before = memory_mib()["rss"]
    RSS_PER_CHUNK.clear()
    start = time.perf_counter()
    out = run_processor(wrapped, fileset, chunksize=chunksize, maxchunks=chunks, progress=False)
    seconds = time.perf_counter() - start
    events = collect_cutflow(out)["events"]
    return {"events": events, "rss_before_mib": before, "s": seconds, "curve": list(RSS_PER_CHUNK)}


def _child(path: str, chunks: int, chunksize: int, variant: str, processor: str) -> None:
    """One measurement in this (fresh) process; prints a JSON line."""
    if variant in ("read", "read_nocache"):
        result = _child_read(path, chunks, chunksize, processor, cache=variant == "read")
    else:
        result = _child_processor(path, chunks, chunksize, processor, variant == "columns")
    result["peak_mib"] = memory_mib()["peak"]
    print(json.dumps(result))


def _measure(path: Path, chunks: int, chunksize: int, variant: str, processor: str) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        os.fspath(path),
        str(chunks),
        str(chunksize),
        variant,
        processor,
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"child {' '.join(command[2:])} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _max_basket_entries(path: Path, processor: str) -> int:
    """Largest number of entries in one basket of the processor's branches.

    uproot decompresses whole baskets: a chunk smaller than a basket costs the whole
    basket's memory and CPU time (the file's basket size, not only the chunk size,
    bounds the memory of chunked processing).
    """
    import uproot

    with uproot.open(path) as file:
        tree = file["events"]
        return max(
            int(np.max(np.diff(tree[name].member("fBasketEntry")[: tree[name].num_baskets + 1])))
            for name in _processor_class(processor).required_branches
        )


def _checkpoints(n_chunks: int) -> list[int]:
    """Chunk numbers (1-based) at which the curve is printed."""
    marks = {1, 2, 5, n_chunks // 10, n_chunks // 4, n_chunks // 2, 3 * n_chunks // 4, n_chunks}
    for mark in (10, 20, 30, 50, 100):
        if mark < n_chunks:
            marks.add(mark)
    return sorted(m for m in marks if 1 <= m <= n_chunks)


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        _child(argv[1], int(argv[2]), int(argv[3]), argv[4], argv[5])
        return {}
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="sample with >= 10 N events (default: generate)")
    parser.add_argument("--processor", choices=PROCESSORS, default="dis")
    parser.add_argument("--events", type=int, default=20_000, help="N (default 20000)")
    parser.add_argument("--chunksize", type=int, default=5_000)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results (and curves) here")
    args = parser.parse_args(argv)
    load_before = load_average()
    if args.events % args.chunksize:
        parser.error("--events must be a multiple of --chunksize")
    chunks = args.events // args.chunksize

    results: dict = {"N": args.events, "chunksize": args.chunksize}
    curves: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        path = args.file
        if path is None:
            path = Path(scratch) / "sample_10N.root"
            if args.processor == "dis":
                from hepnnlr.samples import make_dis_sample

                make_dis_sample(
                    path, "sim", n_events=10 * args.events, seed=args.seed, progress=False
                )
            else:
                from hepnnlr.samples.zjets import make_zjets_sample

                make_zjets_sample(path, n_events=10 * args.events, seed=args.seed, progress=False)
        results["max_entries_per_basket"] = _max_basket_entries(path, args.processor)
        results["load_before"] = os.getloadavg()[0]
        print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        for variant in args.variants:
            small = _measure(path, chunks, args.chunksize, variant, args.processor)
            large = _measure(path, 10 * chunks, args.chunksize, variant, args.processor)
            if large["events"] != 10 * small["events"]:
                raise SystemExit(
                    f"the file holds {large['events']} events, fewer than 10 N = "
                    f"{10 * small['events']}; pass a larger --file or a smaller --events."
                )
            curve = large["curve"]
            curves[variant] = curve
            results[f"{variant}_N_peak_mib"] = small["peak_mib"]
            results[f"{variant}_10N_peak_mib"] = large["peak_mib"]
            results[f"{variant}_N_rss_before_mib"] = small["rss_before_mib"]
            results[f"{variant}_10N_rss_before_mib"] = large["rss_before_mib"]
            results[f"{variant}_peak_ratio_10N_over_N"] = large["peak_mib"] / small["peak_mib"]
            # the same within the 10 N process: its peak against its peak after N events
            results[f"{variant}_in_run_peak_ratio_10N_over_N"] = (
                curve[-1]["peak"] / curve[chunks - 1]["peak"]
            )
            half = len(curve) // 2 - 1
            for kind in ("rss", "anon"):
                results[f"{variant}_late_growth_{kind}_mib"] = curve[-1][kind] - curve[half][kind]
            results[f"{variant}_10N_events_per_s"] = large["events"] / large["s"]
            print(
                f"  {variant}: done (peak {small['peak_mib']:.0f} / {large['peak_mib']:.0f} MiB)",
                flush=True,
            )
        results["load_after"] = os.getloadavg()[0]
        print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value:12.3f}")
    marks = _checkpoints(10 * chunks)
    print(
        f"\nRSS / RssAnon (MiB) after chunk k of the 10 N run ({args.chunksize} events "
        f"per chunk; N = chunk {chunks})"
    )
    print("| variant | " + " | ".join(str(k) for k in marks) + " |")
    print("|---|" + "---:|" * len(marks))
    for variant, curve in curves.items():
        cells = [f"{curve[k - 1]['rss']:.0f} / {curve[k - 1]['anon']:.0f}" for k in marks]
        print(f"| {variant} | " + " | ".join(cells) + " |")
    if args.json is not None:
        name = "DISProcessor" if args.processor == "dis" else "ZJetsProcessor"
        summary = []
        for variant in curves:
            text, target = _ROW_TEXT[variant]
            ratio = results[f"{variant}_peak_ratio_10N_over_N"]
            summary.append(
                {
                    "measurement": f"peak RSS, {10 * args.events} / {args.events} events, "
                    + text.format(processor=name),
                    "ratio": ratio,
                    "clock": "memory",
                    "target": f"<= {target}" if target else "reference",
                    "met": ratio <= target if target else None,
                    "note": f"{results[f'{variant}_N_peak_mib']:.0f} -> "
                    f"{results[f'{variant}_10N_peak_mib']:.0f} MiB",
                }
            )
        write_json(
            args.json,
            script="bench_memory.py",
            argv=argv,
            load_before=load_before,
            results=results,
            summary=summary,
            notes={"curves": curves},
        )
    return results


if __name__ == "__main__":
    main()
