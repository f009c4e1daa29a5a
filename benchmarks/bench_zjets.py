"""Throughput of the e+e− → Z → light-quark dijet processor.

Measures, on one Pythia Z → qq sample (:func:`hepnnlr.samples.zjets.make_zjets_sample`):

1. generation + detector + writing of the sample (events/s, one process);
2. ``ZJetsProcessor`` with the iterative executor (one process), events/s;
3. a bare FastJet anti-kT R = 0.8 (pT > 5 GeV) clustering of the same particles at both
   levels (awkward interface, momenta read beforehand), events/s, and the ratio of the two
   times: what the processor (I/O, constituents, τ21, ECF(3, β=4), strange counts, PFN
   inputs, histograms, columns) costs on top of clustering alone;
4. the processor on a dask ``LocalCluster`` with 1 and with 2 single-threaded workers
   (the cluster is started before the clock runs).

Usage::

    python benchmarks/bench_zjets.py                          # generates 20k events
    python benchmarks/bench_zjets.py --file z.root --chunksize 5000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import awkward as ak
import fastjet
import numpy as np
import uproot
from _timing import best_of  # benchmarks/_timing.py

from hepnnlr.processors.zjets import ZJETS_JETS, ZJetsProcessor
from hepnnlr.schema import run_processor


def _momenta(path: Path, prefix: str) -> ak.Array:
    with uproot.open(path) as file:
        arrays = file["events"].arrays([f"{prefix}_{f}" for f in ("pt", "eta", "phi", "E")])
    pt, eta, phi, energy = (
        ak.values_astype(arrays[f"{prefix}_{f}"], np.float64) for f in ("pt", "eta", "phi", "E")
    )
    momenta = ak.zip(
        {"px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pt * np.sinh(eta), "E": energy}
    )
    return ak.to_packed(momenta)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="event file (default: generate one)")
    parser.add_argument("--events", type=int, default=20_000, help="events to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunksize", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=2, help="best of this many runs")
    parser.add_argument("--no-dask", action="store_true", help="skip the dask timings")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        results: dict[str, float] = {}
        path = args.file
        if path is None:
            from hepnnlr.samples.zjets import make_zjets_sample

            path = Path(scratch) / "zjets.root"
            start = time.perf_counter()
            make_zjets_sample(path, n_events=args.events, seed=args.seed, progress=False)
            elapsed = time.perf_counter() - start
            results["sample_events_per_s"] = args.events / elapsed
            print(f"generated {args.events} events in {elapsed:.1f} s")
        with uproot.open(path) as file:
            n_events = file["events"].num_entries
        results["events"] = float(n_events)
        fileset = {"zjets": [path]}

        def processor_run(executor: str = "iterative", address: str | None = None) -> None:
            run_processor(
                ZJetsProcessor(),
                fileset,
                executor=executor,
                chunksize=args.chunksize,
                progress=False,
                scheduler_address=address,
            )

        processor_run()  # warm-up: imports, FastJet banner, page cache
        t_processor = best_of(args.repeat, processor_run)
        results["processor_iterative_s"] = t_processor
        results["processor_iterative_events_per_s"] = n_events / t_processor

        levels = [_momenta(path, prefix) for prefix in ("GenPart", "RecoPart")]
        jet_definition = ZJETS_JETS.jet_definition()

        def bare_fastjet() -> None:
            for momenta in levels:
                fastjet.ClusterSequence(momenta, jet_definition).inclusive_jets(ZJETS_JETS.pt_min)

        t_fastjet = best_of(args.repeat, bare_fastjet)
        results["fastjet_both_levels_s"] = t_fastjet
        results["fastjet_events_per_s"] = n_events / t_fastjet
        results["processor_over_fastjet"] = t_processor / t_fastjet

        if not args.no_dask:
            from dask.distributed import LocalCluster

            for workers in (1, 2):
                with LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                ) as cluster:
                    address = cluster.scheduler_address
                    processor_run("dask", address)  # warm the workers' imports
                    t_dask = best_of(args.repeat, lambda a=address: processor_run("dask", a))
                results[f"dask_{workers}_workers_s"] = t_dask
                results[f"dask_{workers}_workers_events_per_s"] = n_events / t_dask
            results["dask_speedup_2_over_1"] = (
                results["dask_1_workers_s"] / results["dask_2_workers_s"]
            )

    for name, value in results.items():
        print(f"{name:36s} {value:12.3f}")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
