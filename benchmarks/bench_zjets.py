"""Throughput of the e+e− → Z → light-quark dijet processor next to a bare FastJet clustering.

Measures, on one Pythia Z → qq sample (:func:`hepnnlr.samples.zjets.make_zjets_sample`):

1. generation + detector + writing of the sample (events/s, one process), when generated;
2. ``ZJetsProcessor`` and a bare FastJet anti-kT R = 0.8 (pT > 5 GeV) clustering of the
   same particles at both levels (awkward interface: ``ClusterSequence`` +
   ``inclusive_jets``, nothing else), chunk by chunk, side by side in one run
   (benchmarks/_timing.py), two ways: *with I/O* (the processor through the iterative
   executor, the bare clustering reading its 8 branches of each chunk with uproot; both
   from the same file) and *compute only* (both on chunks already read into memory);
   wall and CPU time, best of ``--repeat`` interleaved runs, and where the processor's
   CPU time goes, FastJet step by step and hepnnlr's compiled per-jet kernel
   (``substructure_kernel``: τ21 and e3 of the leading jets; numba compiles it, or loads
   it from its cache, during the untimed warm-up run);
3. the processor on a dask ``LocalCluster`` with 1 and with 2 single-threaded workers
   (the cluster is started before the clock runs), with the load average; with
   ``--dask-columns-dir`` the workers write the columns to Parquet files instead of
   sending them back.

Usage::

    python benchmarks/bench_zjets.py                          # generates 20k events
    python benchmarks/bench_zjets.py --file z.root --chunksize 5000 --repeat 3
    python benchmarks/bench_zjets.py --file z.root --engine fastjet  # the processor on FastJet
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from pathlib import Path

import awkward as ak
import numpy as np
from _timing import (  # benchmarks/_timing.py
    dask_scaling,
    load_average,
    processor_parser,
    processor_vs_bare,
)

from hepnnlr.processors.zjets import ZJETS_JETS, ZJetsProcessor
from hepnnlr.schema import run_processor

_PREFIXES = ("GenPart", "RecoPart")
BRANCHES = tuple(f"{p}_{f}" for p in _PREFIXES for f in ("pt", "eta", "phi", "E"))


def all_momenta(arrays: ak.Array) -> list[ak.Array]:
    """What the Z → jets processor clusters: every particle, at both levels."""
    out = []
    for prefix in _PREFIXES:
        pt, eta, phi, energy = (
            ak.values_astype(arrays[f"{prefix}_{f}"], np.float64)
            for f in ("pt", "eta", "phi", "E")
        )
        momenta = ak.zip(
            {"px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pt * np.sinh(eta), "E": energy}
        )
        out.append(ak.to_packed(momenta))
    return out


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = processor_parser(__doc__.splitlines()[0], "events to generate")
    args = parser.parse_args(argv)
    jets = dataclasses.replace(ZJETS_JETS, engine=args.engine)

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
        print(f"load average before: {load_average()}")
        results.update(
            processor_vs_bare(
                ZJetsProcessor(jets=jets),
                path,
                chunksize=args.chunksize,
                repeat=args.repeat,
                branches=BRANCHES,
                momenta=all_momenta,
                jet_definition=ZJETS_JETS.jet_definition(),
                pt_min=ZJETS_JETS.pt_min,
            )
        )
        print(f"load average after the processor/bare timings: {load_average()}")

        if not args.no_dask:

            def dask_run(address: str) -> None:
                run_processor(
                    ZJetsProcessor(jets=jets),
                    {"zjets": [path]},
                    executor="dask",
                    chunksize=args.chunksize,
                    progress=False,
                    scheduler_address=address,
                    columns_dir=Path(scratch) / "columns" if args.dask_columns_dir else None,
                )

            results.update(dask_scaling(dask_run, int(results["events"]), args.repeat))
            print(f"load average after the dask timings: {load_average()}")

    width = max(map(len, results))
    for name, value in results.items():
        print(f"{name:<{width}}  {value:12.3f}")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
