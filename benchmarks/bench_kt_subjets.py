"""τN axes of kT jets from the event's own clustering, against the per-jet reclustering.

For a kT jet the exclusive-kT subjets of its constituents are its own clustering
history: within one jet the merges of the event's kT sequence come in the same order as
in a kT reclustering of its constituents alone (a jet-internal distance d_ij is unchanged
by merges elsewhere, and the pair merged is always the smallest among the jet's), and
the E-scheme sums are the same additions. So FastJet's ``exclusive_subjets_up_to(jet,
2)`` on the event's ``ClusterSequence`` could replace the reclustering that
:func:`hepnnlr.observables.subjets.taus` does (one kT ``ClusterSequence`` at
``max_allowable_R`` over every jet's constituents, and its ``exclusive_jets_up_to(2)``).

This script checks both claims on the DIS sample (kT, R = 1.0, pT > 5 GeV, the
fiducial particles of events with an electron, both levels), through the ``fastjet``
package's public multi-event interface only:

* *equal*: τ1 (axis: the jet) and τ2 (axes: its two subjets from the event's sequence)
  against ``cluster_flat_momenta``'s, jet by jet: max |Δ| and jets that differ;
* *cost*: CPU of the reclustering against the subjet calls. The package's
  ``exclusive_subjets_up_to(data, nsub)`` takes one jet per event of the sequence
  (``data[i]`` is looked up by rapidity among event i's inclusive jets; an event without
  it, e.g. an empty one, raises), so it is called once per jet rank, on a sequence of
  the non-empty events, with each event's first inclusive jet (pT >= 0) standing in where
  the event has no jet of that rank (its subjets are dropped).

Usage::

    python benchmarks/bench_kt_subjets.py --file /tmp/bench14/sim20k.root --events 5000
"""

from __future__ import annotations

import argparse
import sys
import warnings

import awkward as ak
import fastjet
import numpy as np
import uproot
from _timing import flat_arrays, interleaved, load_average  # benchmarks/_timing.py
from bench_processor import BRANCHES, fiducial_momenta

from hepnnlr.observables.jets import JetConfig, cluster_flat_momenta
from hepnnlr.observables.subjets import (
    constituent_kinematics,
    exclusive_kt_subjets,
    list_of_momenta,
    offsets_of,
    per_jet_sequence,
    tau_of_axes,
)


def _by_rank(sequence: fastjet.ClusterSequence, jets: ak.Array, stand_in: ak.Array) -> list:
    """``exclusive_subjets_up_to(., 2)`` of every jet rank: one call per rank."""
    out = []
    for k in range(int(ak.max(ak.num(jets))) if len(jets) else 0):
        has = ak.to_numpy(ak.num(jets) > k)
        chosen = ak.where(has, ak.pad_none(jets, k + 1)[:, k], stand_in)
        data = ak.zip({f: ak.to_numpy(chosen[f]) for f in ("px", "py", "pz", "E")})
        out.append((has, data, sequence.exclusive_subjets_up_to(data, 2)))
    return out


def _taus_from_history(
    flat: tuple[np.ndarray, ...], config: JetConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
    """τ1, τ2 of every jet with the event sequence's subjets as axes, next to
    ``cluster_flat_momenta``'s; and the inputs of the timed calls."""
    counts, *four = flat
    reference = cluster_flat_momenta(counts, *four, config)
    filled = counts > 0
    starts = offsets_of(counts)
    events = list_of_momenta(np.append(starts[:-1][filled], starts[-1]), *four)
    sequence = fastjet.ClusterSequence(events, config.jet_definition())
    jets = sequence.inclusive_jets(config.pt_min)
    stand_in = sequence.inclusive_jets()[:, 0]
    ranks = _by_rank(sequence, jets, stand_in)

    members = tuple(a[reference.constituents] for a in four)
    rapidity, phi, pt = constituent_kinematics(members)
    bounds = reference.constituent_offsets()
    norm = np.bincount(
        np.repeat(np.arange(len(bounds) - 1), reference.n_constituents), weights=pt
    ) * float(config.radius)
    # the reference's jets by (event, px): FastJet's order differs from its pT order
    event_of = np.repeat(np.arange(len(counts)), reference.n_jets)
    pairs = zip(event_of, reference.px, strict=True)
    where = {(int(e), float(x)): j for j, (e, x) in enumerate(pairs)}
    tau1 = np.full(len(reference.px), np.nan)
    tau2 = np.full(len(reference.px), np.nan)
    event_index = np.flatnonzero(filled)
    for has, data, subjets in ranks:
        sub_offsets = offsets_of(ak.to_numpy(ak.num(subjets)))
        sub = [ak.to_numpy(ak.flatten(subjets[f])) for f in ("px", "py", "pz", "E")]
        jet_px = ak.to_numpy(data.px)
        for i in np.flatnonzero(has):
            j = where[(int(event_index[i]), float(jet_px[i]))]
            part = slice(bounds[j], bounds[j + 1])
            a, b = sub_offsets[i], sub_offsets[i + 1]
            own = np.zeros(bounds[j + 1] - bounds[j], dtype=np.int64)
            args = (rapidity[part], phi[part], pt[part], own, norm[j : j + 1])
            jet_axis = tuple(np.array([getattr(reference, f)[j]]) for f in ("px", "py", "pz", "E"))
            n = reference.n_constituents[j]
            tau1[j] = tau_of_axes(*args, np.array([1]), jet_axis)[0] if n > 1 else 0.0
            two = tuple(s[a:b] for s in sub)
            tau2[j] = tau_of_axes(*args, np.array([b - a]), two)[0] if n > 2 else 0.0
    calls = {
        "members": members,
        "n_constituents": reference.n_constituents,
        "sequence": sequence,
        "jets": jets,
    }
    return reference.tau1, reference.tau2, tau1, tau2, calls


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", required=True, help="DIS sim file (hepnnlr generate dis)")
    parser.add_argument("--events", type=int, default=5000, help="first events of the file")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds (best of)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    config = JetConfig()  # kT, R = 1.0, pT > 5 GeV: the DIS jets
    print(f"load average before: {load_average()}")
    with uproot.open(args.file) as file:
        arrays = file["events"].arrays(list(BRANCHES), entry_stop=args.events)
    results: dict[str, float] = {}
    runs = {}
    for level, momenta in zip(("gen", "reco"), fiducial_momenta(arrays), strict=True):
        ref1, ref2, tau1, tau2, calls = _taus_from_history(flat_arrays(momenta), config)
        for name, ref, got in (("tau1", ref1, tau1), ("tau2", ref2, tau2)):
            results[f"{level}_{name}_max_abs_diff"] = float(np.max(np.abs(got - ref)))
            results[f"{level}_{name}_jets_differing"] = float(np.sum(got != ref))
        results[f"{level}_jets"] = float(len(ref1))

        def recluster(calls: dict = calls) -> None:
            sequence = per_jet_sequence(*calls["members"], calls["n_constituents"])
            exclusive_kt_subjets(sequence, 2)

        def from_history(calls: dict = calls) -> None:
            stand_in = calls["sequence"].inclusive_jets()[:, 0]
            _by_rank(calls["sequence"], calls["jets"], stand_in)

        runs[f"{level}_recluster"] = recluster
        runs[f"{level}_from_history"] = from_history
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="dcut and exclusive jets for jet-finders")
        timings = interleaved(runs, args.repeat)
    for name, timing in timings.items():
        results[f"{name}_cpu_s"] = timing.cpu
    for level in ("gen", "reco"):
        results[f"{level}_from_history_over_recluster_cpu"] = (
            timings[f"{level}_from_history"].cpu / timings[f"{level}_recluster"].cpu
        )
    print(f"load average after: {load_average()}")
    for name, value in results.items():
        print(f"{name:40s} {value:.6g}")
    return results


if __name__ == "__main__":
    main()
