"""hepnnlr's clustering functions next to the ``fastjet`` package called on the same particles.

For each sample, on the same flat float64 arrays (per-event counts and px, py, pz, E of
the ``GenPart`` collection, built once), side by side in one run (benchmarks/_timing.py,
CPU time, best of ``--repeat`` interleaved runs):

* ``fastjet``: the ``fastjet`` package's multi-event interface called directly: the
  arrays zipped into ``var * {px, py, pz, E}`` records, ``ClusterSequence``,
  ``inclusive_jets(pt_min)`` and ``constituent_index(pt_min)`` (jets and constituents);
* ``fastjet_axes``: the same, then every FastJet call that N-subjettiness needs, as a
  user would make them: the jets' constituents gathered (NumPy on the flat arrays), one
  kT ``ClusterSequence`` at ``JetDefinition.max_allowable_R`` whose lists are the jets,
  its ``exclusive_jets_up_to(1)`` and ``exclusive_jets_up_to(2)`` (the τ1, τ2 axes);
* ``cluster_flat_momenta``: :func:`hepnnlr.observables.jets.cluster_flat_momenta`
  without τN (``with_nsubjettiness=False``): jets (sorted by pT, with pT, η, φ) and
  constituents, against ``fastjet`` (issue 14: within 1.1x);
* ``cluster_flat_momenta_tau``: the same with τ1, τ2, τ21, against ``fastjet_axes``;
* ``cluster_jets``: :func:`hepnnlr.observables.jets.cluster_jets` on the records of
  ``fastjet`` (vector Momentum4D jets with τN), against ``fastjet_axes`` (within 1.1x).

Samples: ``--dis`` (DIS at HERA, kT R = 1.0, pT >= 5 GeV), ``--zjets`` (e+e− → Z → jets,
anti-kT R = 0.8, pT >= 5 GeV) and ``--pp`` (a tt̄ file with MPI, anti-kT R = 0.4, pT >= 20
GeV) with ``--overlay K ...`` events overlaid per event (benchmarks/bench_highmult.py).
Without files it generates small ones.

Usage::

    python benchmarks/bench_clustering.py --dis sim.root --zjets z.root --pp tt_mpi.root \\
        --overlay 2 6 --json docs/benchmarks/clustering.json
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import awkward as ak
import fastjet
import numpy as np
from _timing import (  # benchmarks/_timing.py
    cartesian_levels,
    finish,
    flat_arrays,
    interleaved,
    load_average,
    overlay_particles,
    print_results,
)

from hepnnlr.observables.jets import JetConfig, cluster_flat_momenta, cluster_jets
from hepnnlr.processors.zjets import ZJETS_JETS

TARGET = 1.1
"""Issue 14: hepnnlr's clustering within 1.1x the CPU of calling FastJet directly."""
COLLECTION = "GenPart"


def read_flat(path: Path, events: int | None, overlay: int = 1) -> tuple[np.ndarray, ...]:
    """``(counts, px, py, pz, E)`` of ``GenPart`` of the first ``events`` events (after
    overlaying ``overlay`` events per event)."""
    import uproot

    with uproot.open(path) as file:
        stop = None if events is None else events * overlay
        arrays = file["events"].arrays(
            [f"{COLLECTION}_{f}" for f in ("pt", "eta", "phi", "E")], entry_stop=stop
        )
    (level,) = cartesian_levels(arrays, (COLLECTION,))
    if overlay > 1:
        level = ak.to_packed(overlay_particles(level, overlay))
    return flat_arrays(level)


def records(counts: np.ndarray, *four: np.ndarray) -> ak.Array:
    """``var * {px, py, pz, E}`` records over the flat arrays (no copy)."""
    px, py, pz, energy = four
    return ak.unflatten(ak.zip({"px": px, "py": py, "pz": pz, "E": energy}), counts)


def direct_fastjet(
    flat: tuple[np.ndarray, ...], config: JetConfig, axes: bool
) -> tuple[object, ...]:
    """Jets and constituents from the ``fastjet`` package called directly; with ``axes``
    also the τ1 and τ2 axes of every jet (module docstring)."""
    counts, *four = flat
    sequence = fastjet.ClusterSequence(records(counts, *four), config.jet_definition())
    jets = sequence.inclusive_jets(config.pt_min)
    index = sequence.constituent_index(config.pt_min)
    if not axes:
        return jets, index
    jets_per_event = ak.to_numpy(ak.num(index, axis=1))
    per_jet = ak.flatten(index, axis=1)
    n_const = ak.to_numpy(ak.num(per_jet, axis=1))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    event_of_jet = np.repeat(np.arange(len(counts)), jets_per_event)
    positions = ak.to_numpy(ak.flatten(per_jet)) + np.repeat(starts[event_of_jet], n_const)
    constituents = records(n_const, *(a[positions] for a in four))
    kt = fastjet.JetDefinition(fastjet.kt_algorithm, fastjet.JetDefinition.max_allowable_R)
    per_jet_sequence = fastjet.ClusterSequence(constituents, kt)
    with warnings.catch_warnings():
        # fastjet 3.5.2 warns for every algorithm here, kt included (a bug in its check)
        warnings.filterwarnings("ignore", message="dcut and exclusive jets for jet-finders")
        return (
            jets,
            index,
            per_jet_sequence.exclusive_jets_up_to(1),
            per_jet_sequence.exclusive_jets_up_to(2),
        )


def measure(flat: tuple[np.ndarray, ...], config: JetConfig, repeat: int) -> dict[str, float]:
    """The five runs of the module docstring, interleaved; CPU and wall times, ratios."""
    particles = records(*flat)
    runs = {
        "fastjet": lambda: direct_fastjet(flat, config, axes=False),
        "fastjet_axes": lambda: direct_fastjet(flat, config, axes=True),
        "cluster_flat_momenta": lambda: cluster_flat_momenta(
            *flat, config, with_nsubjettiness=False
        ),
        "cluster_flat_momenta_tau": lambda: cluster_flat_momenta(*flat, config),
        "cluster_jets": lambda: cluster_jets(particles, config),
    }
    out: dict[str, float] = {
        "events": float(len(flat[0])),
        "particles_per_event": float(flat[0].mean()),
    }
    for name, timing in interleaved(runs, repeat).items():
        out[f"{name}_cpu_s"] = timing.cpu
        out[f"{name}_wall_s"] = timing.wall
    for name, reference in (
        ("cluster_flat_momenta", "fastjet"),
        ("cluster_flat_momenta_tau", "fastjet_axes"),
        ("cluster_jets", "fastjet_axes"),
        ("cluster_jets", "fastjet"),
    ):
        out[f"{name}_over_{reference}_cpu"] = out[f"{name}_cpu_s"] / out[f"{reference}_cpu_s"]
    return out


def _generate(scratch: Path, events: int) -> dict[str, Path]:
    """Small samples when no files are given."""
    from hepnnlr.samples import make_dis_sample, make_ttbar_sample
    from hepnnlr.samples.zjets import make_zjets_sample

    paths = {"dis": scratch / "dis.root", "zjets": scratch / "z.root", "pp": scratch / "tt.root"}
    make_dis_sample(paths["dis"], "sim", n_events=events, seed=1, progress=False)
    make_zjets_sample(paths["zjets"], n_events=events, seed=1, progress=False)
    make_ttbar_sample(paths["pp"], n_events=max(events // 10, 12), seed=1, mpi=True, progress=False)
    return paths


def main(argv: list[str] | None = None) -> dict[str, float]:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dis", type=Path, help="DIS file")
    parser.add_argument("--zjets", type=Path, help="Z -> jets file")
    parser.add_argument("--pp", type=Path, help="tt̄ file with MPI")
    parser.add_argument("--overlay", type=int, nargs="+", default=[2, 6])
    parser.add_argument(
        "--events", type=int, default=20_000, help="events per sample (generated: also)"
    )
    parser.add_argument(
        "--pp-events", type=int, default=1_000, help="pp events after overlaying (each k)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    results: dict[str, float] = {}
    summary: list[dict] = []
    with tempfile.TemporaryDirectory() as scratch:
        paths = {"dis": args.dis, "zjets": args.zjets, "pp": args.pp}
        if None in paths.values():
            generated = _generate(Path(scratch), args.events)
            paths = {k: v or generated[k] for k, v in paths.items()}
        samples = [
            ("DIS", read_flat(paths["dis"], args.events), JetConfig()),
            ("Z", read_flat(paths["zjets"], args.events), ZJETS_JETS),
        ]
        pp = JetConfig("antikt", 0.4, 20.0)
        for k in args.overlay:
            samples.append((f"pp x{k}", read_flat(paths["pp"], args.pp_events, k), pp))
        load_before = load_average()
        print(f"load average before: {load_before}", flush=True)
        for label, flat, config in samples:
            measured = measure(flat, config, args.repeat)
            key = label.replace(" ", "").replace("x", "_overlay")
            results.update({f"{key}_{name}": value for name, value in measured.items()})
            where = f"{label}, {measured['particles_per_event']:.0f} particles/event"
            for name, reference, what in (
                ("cluster_flat_momenta", "fastjet", "no τN; fastjet: jets + constituent_index"),
                ("cluster_jets", "fastjet_axes", "τN; fastjet: + per-jet kT, τ1/τ2 axes"),
            ):
                ratio = measured[f"{name}_over_{reference}_cpu"]
                summary.append(
                    {
                        "measurement": f"{name} / fastjet called directly, {where}",
                        "ratio": ratio,
                        "clock": "CPU",
                        "target": f"<= {TARGET}",
                        "met": ratio <= TARGET,
                        "note": what,
                    }
                )
            print(f"{where}: done; load average {load_average()}", flush=True)

    print_results(results)
    return finish(__file__, args, argv, load_before, results, summary)


if __name__ == "__main__":
    main()
