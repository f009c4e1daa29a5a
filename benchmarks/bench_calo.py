"""Throughput of the calorimeter-shower toy.

Measures, for the default 50 GeV photon showers (30 × 30 × 30 cells):

1. generation (:func:`hepnnlr.samples.calo.generate_calo`) with 1 and with 2 worker
   processes, in showers per second, and the size of the written ROOT file per shower;
2. :class:`hepnnlr.processors.calo.CaloProcessor` with the iterative executor (one
   process: reading, 93 features, 33 histograms, columns), in showers per second;
3. the processor on a dask ``LocalCluster`` with 2 single-threaded workers (the cluster
   is started before the clock runs).

Usage::

    python benchmarks/bench_calo.py                      # 20k showers
    python benchmarks/bench_calo.py --events 50000 --chunksize 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from _timing import best_of, finish, load_average  # benchmarks/_timing.py

from hepnnlr.processors.calo import CaloProcessor
from hepnnlr.samples.calo import generate_calo, write_calo_events
from hepnnlr.schema import run_processor


def main(argv: list[str] | None = None) -> dict[str, float]:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="showers to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunksize", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=2, help="best of this many runs")
    parser.add_argument("--no-dask", action="store_true", help="skip the dask timing")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    load_before = load_average()

    results: dict[str, float] = {"events": args.events}
    for workers in (1, 2):
        seconds = best_of(
            args.repeat, lambda w=workers: generate_calo(args.events, seed=args.seed, workers=w)
        )
        results[f"generate_{workers}w_events_per_s"] = args.events / seconds

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "calo.root"
        showers = generate_calo(args.events, seed=args.seed)
        write_calo_events(path, showers)
        results["file_bytes_per_event"] = path.stat().st_size / args.events
        fileset = {"g4": [str(path)]}

        def run(executor: str, address: str | None = None) -> object:
            return run_processor(
                CaloProcessor(),
                fileset,
                executor=executor,
                chunksize=args.chunksize,
                progress=False,
                scheduler_address=address,
            )

        seconds = best_of(args.repeat, lambda: run("iterative"))
        results["processor_iterative_events_per_s"] = args.events / seconds
        if not args.no_dask:
            from dask.distributed import LocalCluster

            with LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster:
                run("dask", cluster.scheduler_address)  # warm the workers' imports
                seconds = best_of(args.repeat, lambda: run("dask", cluster.scheduler_address))
            results["processor_dask_2w_events_per_s"] = args.events / seconds

    print(json.dumps(results, indent=2))
    return finish(__file__, args, argv, load_before, results)


if __name__ == "__main__":
    main()
