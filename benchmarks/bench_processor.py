"""Throughput of the DIS processor.

Measures, on one Pythia DIS sample:

1. ``DISProcessor`` with the iterative executor (one process), in events per second;
2. a bare FastJet clustering (kT, R = 1.0, pT > 5 GeV, awkward interface) of the same
   fiducial particles at both levels, read beforehand, and the ratio of the two times:
   how much the whole processor (I/O, kinematics, features, τN, histograms, columns)
   costs on top of the clustering alone;
3. the processor on a dask ``LocalCluster`` with 1 and with 2 single-threaded workers
   (the cluster is started before the clock runs).

Usage::

    python benchmarks/bench_processor.py                     # generates 20k sim events
    python benchmarks/bench_processor.py --file sim.root --chunksize 5000 --repeat 3
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

from hepnnlr.observables.dis import FiducialCuts
from hepnnlr.processors.dis import DISProcessor
from hepnnlr.schema import run_processor


def _fiducial_momenta(path: Path, prefix: str) -> ak.Array:
    with uproot.open(path) as file:
        arrays = file["events"].arrays([f"{prefix}_{f}" for f in ("pt", "eta", "phi", "E")])
    pt, eta, phi, energy = (
        ak.values_astype(arrays[f"{prefix}_{f}"], np.float64) for f in ("pt", "eta", "phi", "E")
    )
    cuts = FiducialCuts()
    keep = (pt > cuts.pt_min) & (eta > cuts.eta_min) & (eta < cuts.eta_max)
    momenta = ak.zip(
        {
            "px": (pt * np.cos(phi))[keep],
            "py": (pt * np.sin(phi))[keep],
            "pz": (pt * np.sinh(eta))[keep],
            "E": energy[keep],
        }
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
        path = args.file
        if path is None:
            from hepnnlr.samples import make_dis_sample

            path = Path(scratch) / "sim.root"
            start = time.perf_counter()
            make_dis_sample(path, "sim", n_events=args.events, seed=args.seed, progress=False)
            print(f"generated {args.events} events in {time.perf_counter() - start:.1f} s")
        with uproot.open(path) as file:
            n_events = file["events"].num_entries
        fileset = {"sim": [path]}
        results: dict[str, float] = {"events": float(n_events)}

        def processor_run(executor: str = "iterative", address: str | None = None) -> None:
            run_processor(
                DISProcessor(),
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

        levels = [_fiducial_momenta(path, prefix) for prefix in ("GenPart", "RecoPart")]
        jet_definition = fastjet.JetDefinition(fastjet.kt_algorithm, 1.0)

        def bare_fastjet() -> None:
            for momenta in levels:
                fastjet.ClusterSequence(momenta, jet_definition).inclusive_jets(5.0)

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

    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value:12.3f}")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
