"""Throughput of the DIS processor next to a bare FastJet clustering of the same events.

Measures, on one Pythia DIS sample, side by side in one run (benchmarks/_timing.py):

1. ``DISProcessor`` and a bare FastJet clustering (kT, R = 1.0, pT > 5 GeV, awkward
   interface: ``ClusterSequence`` + ``inclusive_jets``, nothing else) of the same
   particles (fiducial particles of events with an electron, both levels), chunk by
   chunk, two ways: *with I/O* (the processor through the iterative executor, the bare
   clustering reading its 10 branches of each chunk with uproot; both from the same
   file) and *compute only* (both on chunks already read into memory); wall and CPU
   time, best of ``--repeat`` interleaved runs;
2. the processor on a dask ``LocalCluster`` with 1 and with 2 single-threaded workers
   (the cluster is started before the clock runs), with the load average; with
   ``--dask-columns-dir`` the workers write the columns to Parquet files instead of
   sending them back.

Usage::

    python benchmarks/bench_processor.py                     # generates 20k sim events
    python benchmarks/bench_processor.py --file sim.root --chunksize 5000 --repeat 3
    python benchmarks/bench_processor.py --file sim.root --engine fastjet  # processor on FastJet
"""

from __future__ import annotations

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

from hepnnlr.observables.dis import FiducialCuts
from hepnnlr.observables.jets import JetConfig
from hepnnlr.processors.dis import DISProcessor
from hepnnlr.schema import run_processor

_LEVELS = (("GenElectron", "GenPart"), ("RecoElectron", "RecoPart"))
BRANCHES = tuple(
    branch
    for electron, particles in _LEVELS
    for branch in ["n" + electron] + [f"{particles}_{f}" for f in ("pt", "eta", "phi", "E")]
)


def fiducial_momenta(arrays: ak.Array) -> list[ak.Array]:
    """What the DIS processor clusters: fiducial particles of events with an electron."""
    cuts = FiducialCuts()
    out = []
    for electron, prefix in _LEVELS:
        pt, eta, phi, energy = (
            ak.values_astype(arrays[f"{prefix}_{f}"], np.float64)
            for f in ("pt", "eta", "phi", "E")
        )
        keep = (pt > cuts.pt_min) & (eta > cuts.eta_min) & (eta < cuts.eta_max)
        keep = keep & (arrays["n" + electron] > 0)
        momenta = ak.zip(
            {
                "px": (pt * np.cos(phi))[keep],
                "py": (pt * np.sin(phi))[keep],
                "pz": (pt * np.sinh(eta))[keep],
                "E": energy[keep],
            }
        )
        out.append(ak.to_packed(momenta))
    return out


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = processor_parser(__doc__.splitlines()[0], "events to generate")
    args = parser.parse_args(argv)
    jets = JetConfig(engine=args.engine)

    with tempfile.TemporaryDirectory() as scratch:
        path = args.file
        if path is None:
            from hepnnlr.samples import make_dis_sample

            path = Path(scratch) / "sim.root"
            start = time.perf_counter()
            make_dis_sample(path, "sim", n_events=args.events, seed=args.seed, progress=False)
            print(f"generated {args.events} events in {time.perf_counter() - start:.1f} s")
        print(f"load average before: {load_average()}")
        config = JetConfig()
        results = processor_vs_bare(
            DISProcessor(jets=jets),
            path,
            chunksize=args.chunksize,
            repeat=args.repeat,
            branches=BRANCHES,
            momenta=fiducial_momenta,
            jet_definition=config.jet_definition(),
            pt_min=config.pt_min,
        )
        print(f"load average after the processor/bare timings: {load_average()}")

        if not args.no_dask:

            def dask_run(address: str) -> None:
                run_processor(
                    DISProcessor(jets=jets),
                    {"sim": [path]},
                    executor="dask",
                    chunksize=args.chunksize,
                    progress=False,
                    scheduler_address=address,
                    columns_dir=Path(scratch) / "columns" if args.dask_columns_dir else None,
                )

            results.update(dask_scaling(dask_run, int(results["events"]), args.repeat))
            print(f"load average after the dask timings: {load_average()}")

    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value:12.3f}")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
