"""Jet substructure at high multiplicity: JetSubstructureProcessor next to a bare clustering.

A pp sample of 1,000 to 3,000 particles per event: Pythia tt̄ at 13 TeV with multiparton
interactions on (``hepnnlr generate ttbar --param PartonLevel:MPI=on``, ~520 final-state
particles per event in ``GenPart``), with ``k`` consecutive events overlaid per event
(their particle lists concatenated, as ``k`` collisions in one bunch crossing: ``--overlay
2 6`` gives ~1,050 and ~3,150 particles per event). For each ``k`` an overlaid file is
written (``GenPart`` only, one basket per chunk) and, side by side in one run
(benchmarks/_timing.py),
:class:`hepnnlr.processors.jetsubstructure.JetSubstructureProcessor` (``"GenPart"``,
anti-kT R = 0.4, pT >= 20 GeV: jets, τ21 of every jet, five histograms) is timed against
the bare FastJet clustering of the same particles (``ClusterSequence`` +
``inclusive_jets`` + ``constituent_index``, nothing else; also without
``constituent_index``), with I/O (the processor through the iterative executor, the bare
clustering reading the 4 momentum branches with uproot) and compute only (chunks already
in memory); next to them hepnnlr's public ``cluster_jets`` on the same collection
(everything the processor does but the histograms) and the *FastJet floor*: the bare
clustering plus the τN axes reclustering of every jet (``_timing.FLOOR_DEFINITION``).
Target of issue 14: the processor at most 1.25x the CPU of the bare clustering.

Usage::

    python benchmarks/bench_highmult.py                        # generates 1,200 tt̄ events
    python benchmarks/bench_highmult.py --file tt_mpi6k.root --overlay 2 6 --chunksize 250 \\
        --json docs/benchmarks/highmult.json
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _timing import (  # benchmarks/_timing.py
    axes_lists,
    cartesian_levels,
    finish,
    load_average,
    print_results,
    processor_summary,
    processor_vs_bare,
    write_overlay_file,
)

from hepnnlr.observables.jets import JetConfig, cluster_jets
from hepnnlr.processors.jetsubstructure import JetSubstructureProcessor

COLLECTION = "GenPart"
BRANCHES = tuple(f"{COLLECTION}_{f}" for f in ("pt", "eta", "phi", "E"))
TARGET = 1.25
"""Issue 14: JetSubstructureProcessor at most 1.25x the CPU of the bare clustering."""


def main(argv: list[str] | None = None) -> dict[str, float]:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="tt̄ file with MPI (default: generate one)")
    parser.add_argument("--events", type=int, default=1_200, help="tt̄ events to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--overlay", type=int, nargs="+", default=[2, 6], help="events overlaid per event"
    )
    parser.add_argument("--chunksize", type=int, default=250)
    parser.add_argument("--radius", type=float, default=0.4)
    parser.add_argument("--pt-min", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if min(args.overlay) < 1:
        parser.error(f"--overlay takes integers >= 1, got {args.overlay}")
    jets = JetConfig("antikt", args.radius, args.pt_min)

    results: dict[str, float] = {}
    summary: list[dict] = []
    notes: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as scratch:
        source = args.file
        if source is None:
            from hepnnlr.samples import make_ttbar_sample

            source = Path(scratch) / "ttbar_mpi.root"
            start = time.perf_counter()
            make_ttbar_sample(
                source, n_events=args.events, seed=args.seed, mpi=True, progress=False
            )
            print(f"generated {args.events} tt̄ events in {time.perf_counter() - start:.1f} s")
        load_before = load_average()
        print(f"load average before: {load_before}", flush=True)
        for k in args.overlay:
            path = Path(scratch) / f"overlay{k}.root"
            sample = write_overlay_file(source, path, k, COLLECTION, basket=args.chunksize)
            print(
                f"overlay {k}: {sample['events']} events, "
                f"{sample['particles_per_event']:.0f} particles/event",
                flush=True,
            )
            processor = JetSubstructureProcessor(COLLECTION, jets=jets)
            measured = processor_vs_bare(
                processor,
                path,
                chunksize=args.chunksize,
                repeat=args.repeat,
                branches=BRANCHES,
                momenta=lambda arrays: cartesian_levels(arrays, (COLLECTION,)),
                jet_definition=jets.jet_definition(),
                pt_min=jets.pt_min,
                hepnnlr_steps={"cluster_jets": lambda f: cluster_jets(_records(f), jets)},
                dataset=f"overlay{k}",
                axes=lambda flat: axes_lists(flat, jets),
            )
            results.update({f"overlay{k}_{name}": value for name, value in measured.items()})
            label = f"JetSubstructureProcessor, {sample['particles_per_event']:.0f} particles/event"
            summary += processor_summary(measured, label, TARGET)
            notes[f"overlay{k}"] = sample
            print(f"load average after overlay {k}: {load_average()}", flush=True)

    notes["sample"] = (
        "Pythia tt̄ 13 TeV, PartonLevel:MPI=on, GenPart (all final-state particles); k "
        "consecutive events overlaid per event"
    )
    print_results(results)
    return finish(__file__, args, argv, load_before, results, summary, notes=notes)


def _records(flat):  # noqa: ANN001, ANN202
    """The flat arrays as ``var * {px, py, pz, E}`` records (what cluster_jets reads)."""
    import awkward as ak

    counts, px, py, pz, energy = flat
    return ak.unflatten(ak.zip({"px": px, "py": py, "pz": pz, "E": energy}), counts)


if __name__ == "__main__":
    main()
