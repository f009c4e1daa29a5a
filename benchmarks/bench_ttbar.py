"""Throughput of the tt̄ chain: Pythia with and without MPI, gen jets + detector, processor.

Usage::

    python benchmarks/bench_ttbar.py               # 2,000 events (MPI: a quarter of it)
    python benchmarks/bench_ttbar.py -n 10000

Prints events per second for

* ``generation, MPI off`` / ``generation, MPI on``: :func:`hepnnlr.samples.generate_ttbar`
  with ``workers=1`` (Pythia initialisation included);
* ``anti-kT R=0.4 (bare)``: FastJet clustering of ``GenPart`` alone, the floor of any
  jet-level step;
* ``gen jets + detector``: :func:`hepnnlr.samples.ttbar_reco.simulate_ttbar_detector`
  (clustering, b matching, smearing, MET);
* ``TTbarProcessor``: ``run_processor(..., executor="iterative")`` on the written file
  (reading, both levels' selection and masses, histograms, columns), one chunk, after a
  warm-up run so that imports are not counted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import awkward as ak
import fastjet
from _timing import finish, load_average  # benchmarks/_timing.py

from hepnnlr.processors.ttbar import TTbarProcessor
from hepnnlr.samples.ttbar import TTbarConfig, generate_ttbar
from hepnnlr.samples.ttbar_reco import (
    gen_particle_momenta,
    simulate_ttbar_detector,
    write_ttbar_events,
)
from hepnnlr.schema import run_processor


def _rate(n_events: int, action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return n_events / (time.perf_counter() - start), result


def _bare_antikt(events: ak.Array) -> ak.Array:
    definition = fastjet.JetDefinition(fastjet.antikt_algorithm, 0.4)
    return fastjet.ClusterSequence(gen_particle_momenta(events), definition).inclusive_jets(10.0)


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark and print a table."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--events", type=int, default=2000, help="events (default 2000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    load_before = load_average()
    n, n_mpi = args.events, max(args.events // 4, 1)

    rates: dict[str, float] = {}
    rates["generation, MPI off"], gen = _rate(n, lambda: generate_ttbar(n, seed=args.seed))
    rates["generation, MPI on"], _ = _rate(
        n_mpi, lambda: generate_ttbar(n_mpi, seed=args.seed, config=TTbarConfig(mpi=True))
    )
    _bare_antikt(gen[:10])  # warm-up
    rates["anti-kT R=0.4 (bare)"], _ = _rate(n, lambda: _bare_antikt(gen))
    rates["gen jets + detector"], events = _rate(
        n, lambda: simulate_ttbar_detector(gen, seed=args.seed)
    )
    with tempfile.TemporaryDirectory() as folder:
        path = write_ttbar_events(Path(folder) / "bench_tt.root", events)

        def run() -> object:
            return run_processor(TTbarProcessor(), {"tt": [path]}, chunksize=n, progress=False)

        run()  # warm-up: imports, schema building
        rates["TTbarProcessor (iterative)"], _ = _rate(n, run)

    print(f"tt̄ chain, {n} events ({n_mpi} with MPI on), workers=1")
    for name, rate in rates.items():
        print(f"  {name:<28s} {rate:10.0f} events/s")
    finish(__file__, args, argv, load_before, {f"{k} events/s": v for k, v in rates.items()})
    return rates


if __name__ == "__main__":
    main()
