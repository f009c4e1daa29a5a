"""Jet clustering and jet substructure on whole awkward arrays of events, through FastJet.

Every chunk of events is clustered by FastJet (Cacciari, Salam & Soyez, "FastJet user
manual", Eur. Phys. J. C72 (2012) 1896, arXiv:1111.6097) in one call of the ``fastjet``
package's multi-event awkward interface: one ``ClusterSequence`` over the chunk, its
``inclusive_jets`` (or ``exclusive_jets``) and their ``constituent_index``, with no Python
loop over events. hepnnlr never re-implements FastJet: it calls it.

The jet definition, :class:`JetConfig` and :data:`JET_ALGORITHMS` (kT, anti-kT,
Cambridge/Aachen, generalised kT; Durham and generalised kT for e+e-; E-scheme
recombination), lives in :mod:`hepnnlr.observables.jetconfig` and is importable from here.

Inclusive jets are kept above ``pt_min``; exclusive jets (``n_jets=N``: N jets per event,
or all particles when an event has fewer; ``dcut``: every jet whose merging scale is above
``dcut``) are FastJet's ``exclusive_jets`` with their constituents.

The DIS analysis of Sec. 3 of Torales Acosta, Wamorkar, Mikuni & Nachman, "Stabilizing Neural
Likelihood Ratio Estimation", arXiv:2503.20753 (H1 high-Q² DIS unfolded with OmniFold),
clusters the hadronic final state with kT, R = 1.0 and keeps jets with
pT > 5 GeV (the default :class:`JetConfig`); it studies the jet pT, η, the N-subjettiness
ratio τ21 = τ2/τ1 and the azimuthal jet-electron correlation Δφ^jet, measured from π.

N-subjettiness (Thaler & Van Tilburg, "Identifying Boosted Objects with N-subjettiness",
JHEP 03 (2011) 015, arXiv:1011.2268), in the convention of FastJet-contrib's
``Nsubjettiness`` with ``KT_Axes`` and ``NormalizedMeasure(beta=1, R0=R)``:

    τN = Σ_i pT_i min_k ΔR(i, a_k) / (Σ_i pT_i R0),

where i runs over the jet constituents, ΔR² = Δy² + Δφ² uses the rapidity y, R0 is the
jet radius and the N axes a_k are the jet's exclusive kT subjets. FastJet finds them:
one more ``ClusterSequence`` whose event lists are the jets (each its constituents,
:func:`per_jet_sequence`), clustered with kT at ``JetDefinition.max_allowable_R``, and its
``exclusive_jets_up_to(N)``; hepnnlr only evaluates the sum above (NumPy, vectorized over
all constituents of all jets). A jet with at most N constituents has τN = 0. τ21 = τ2/τ1
is set to 0 for jets with τ1 = 0 (a single constituent, or all constituents collinear):
such jets also have τ2 = 0, the same value every two-constituent jet has, so 0 continues
the ratio without producing NaN. The tests check τN against FastJet-contrib's own
``Nsubjettiness`` (the ``fastjet`` package's ``njettiness`` on the same lists).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import awkward as ak
import fastjet
import numpy as np

from hepnnlr.observables import _fastjet, _kernels  # noqa: F401  (_fastjet: its banner under -q)
from hepnnlr.observables.dis import wrap_phi
from hepnnlr.observables.fourvectors import flat_momenta, momentum4d
from hepnnlr.observables.jetconfig import JET_ALGORITHMS, JetConfig
from hepnnlr.observables.subjets import (
    list_of_momenta,
    nsubjettiness,
    offsets_of,
    per_jet_sequence,
    quiet_exclusive,
    subjettiness,
    tau21_of,
    taus,
)

__all__ = [
    "JET_ALGORITHMS",
    "NSUBJETTINESS",
    "FlatJets",
    "JetConfig",
    "cartesian_of",
    "cluster_flat",
    "cluster_flat_momenta",
    "cluster_flat_particles",
    "cluster_jets",
    "cluster_jets_with_constituents",
    "dphi_from_pi",
    "nsubjettiness",
    "per_jet_sequence",
    "subjettiness",
]


@dataclass(frozen=True)
class FlatJets:
    """Jets of a chunk as flat NumPy arrays (one entry per jet, events in order, jets
    by decreasing pT within an event), as returned by :func:`cluster_flat`.

    Attributes:
        n_jets: Jets per event.
        px, py, pz, E, pt, eta, phi: Jet four-momentum and (pT, pseudorapidity, φ).
        n_constituents: Constituents per jet.
        constituents: For every jet, in turn, the positions of its constituents in the
            flat particle arrays given to :func:`cluster_flat` (FastJet's order).
        tau1, tau2, tau21: N-subjettiness (module docstring); None when
            :func:`cluster_flat` was asked not to compute it.
    """

    n_jets: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    E: np.ndarray
    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    n_constituents: np.ndarray
    constituents: np.ndarray
    tau1: np.ndarray | None
    tau2: np.ndarray | None
    tau21: np.ndarray | None

    def constituent_offsets(self) -> np.ndarray:
        """Offsets of each jet's constituents in :attr:`constituents`."""
        return offsets_of(self.n_constituents)


def cluster_flat_momenta(
    counts: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    config: JetConfig | None = None,
    *,
    with_nsubjettiness: bool = True,
) -> FlatJets:
    """Cluster a chunk given as flat Cartesian four-momenta; the engine of every
    clustering in hepnnlr.

    One FastJet ``ClusterSequence`` for all events of the chunk; the constituents are
    taken from its ``constituent_index`` (no second pass over the clustering). Exclusive
    jets (``config.n_jets`` / ``config.dcut``) come from FastJet's ``exclusive_jets``
    and ``exclusive_jets_constituent_index``, which take one jet count for all events:
    events are grouped by their count (``n_jets``, or fewer particles; for ``dcut``,
    FastJet's ``n_exclusive_jets(dcut)``) and each group is one ``ClusterSequence``.
    τ1, τ2 come from :func:`hepnnlr.observables.subjets.nsubjettiness`.

    Args:
        counts: Particles per event.
        px, py, pz, energy: Flat particle four-momenta in GeV, ``counts.sum()`` entries.
        config: Jet definition; ``JetConfig()`` if None.
        with_nsubjettiness: Compute τ1, τ2, τ21 of every jet (the costliest step after
            the clustering); with False they are None, and
            :func:`hepnnlr.observables.subjets.nsubjettiness` can compute them for the
            jets the caller keeps (e.g. the two leading ones).

    Returns:
        The jets as :class:`FlatJets`.
    """
    config = JetConfig() if config is None else config
    counts = np.asarray(counts, dtype=np.int64)
    px, py, pz, energy = (np.ascontiguousarray(a, dtype=np.float64) for a in (px, py, pz, energy))
    starts = offsets_of(counts)
    jet, n_const, local, jet_event = _fastjet_jets(counts, starts, px, py, pz, energy, config)
    kinematics = _jet_kinematics(jet["px"], jet["py"], jet["pz"])
    keep = kinematics["pt"] >= config.pt_min  # inclusive jets are already above it
    if config.exclusive and not keep.all():
        per_const = np.repeat(keep, n_const)
        jet, kinematics = ({f: a[keep] for f, a in d.items()} for d in (jet, kinematics))
        n_const, local, jet_event = n_const[keep], local[per_const], jet_event[keep]

    # sort by decreasing pT within each event (stable, as ak.argsort(stable=True))
    n_jets = np.bincount(jet_event, minlength=len(counts)).astype(np.int64)
    if config.exclusive:
        # the event groups of _fastjet_jets follow each other: events out of order
        order = np.lexsort((-kinematics["pt"], jet_event))
    else:
        # one ClusterSequence: FastJet's jets come event after event, so one compiled
        # stable pass per event gives lexsort's permutation without its two full sorts
        order = _kernels.decreasing_order(kinematics["pt"], offsets_of(n_jets))
    # the constituents, jet after jet in that order, as positions in the flat particles:
    # one compiled pass over them (a gather per jet of its FastJet indices plus its
    # event's start)
    constituents = _kernels.constituent_positions(
        local, offsets_of(n_const), order, starts[:-1][jet_event]
    )
    n_const = n_const[order]

    tau1 = tau2 = tau21 = None
    if with_nsubjettiness:
        # = nsubjettiness(px[constituents], ..., n_const, config.radius): the constituents'
        # momenta gathered and their rapidity, φ, pT computed in one compiled pass
        *four, rapidity, phi, pt = _kernels.gathered_kinematics(constituents, px, py, pz, energy)
        values = taus(tuple(four), n_const, config.radius, (1, 2), (rapidity, phi, pt))
        tau1, tau2 = values[1], values[2]
        tau21 = tau21_of(tau1, tau2)
    return FlatJets(
        n_jets=n_jets,
        **{f: jet[f][order] for f in ("px", "py", "pz", "E")},
        **{f: kinematics[f][order] for f in ("pt", "eta", "phi")},
        n_constituents=n_const,
        constituents=constituents,
        tau1=tau1,
        tau2=tau2,
        tau21=tau21,
    )


def cluster_flat(
    counts: np.ndarray,
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    energy: np.ndarray,
    config: JetConfig | None = None,
    *,
    with_nsubjettiness: bool = True,
) -> FlatJets:
    """:func:`cluster_flat_momenta` for particles given as flat (pT, η, φ, E).

    Args:
        counts: Particles per event.
        pt, eta, phi, energy: Flat particle kinematics (any float dtype; computed in
            float64), ``counts.sum()`` entries.
        config: Jet definition; ``JetConfig()`` if None.
        with_nsubjettiness: As in :func:`cluster_flat_momenta`.
    """
    pt, eta, phi, energy = (np.asarray(a, dtype=np.float64) for a in (pt, eta, phi, energy))
    return cluster_flat_momenta(
        counts, *cartesian_of(pt, eta, phi), energy, config, with_nsubjettiness=with_nsubjettiness
    )


def cartesian_of(
    pt: np.ndarray, eta: np.ndarray, phi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(px, py, pz) = (pT cos φ, pT sin φ, pT sinh η)`` of flat float64 arrays: the
    momenta :func:`cluster_flat` clusters, for callers that keep them (the Z → jets
    processor gathers its constituents from them).

    One compiled pass (``_kernels.polar_momenta``), bit for bit ``np.cos(phi) * pt``,
    ``np.sin(phi) * pt``, ``np.sinh(eta) * pt``: the same libm functions and products,
    without the six NumPy passes.
    """
    return _kernels.polar_momenta(*(np.asarray(a, dtype=np.float64) for a in (pt, eta, phi)))


def _sequence_jets(
    sequence: fastjet.ClusterSequence, config: JetConfig, n_jets: int | None
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Jets of one ``ClusterSequence``: four-momenta, jets per event, constituents per
    jet and each constituent's position within its event (FastJet's orders)."""
    if n_jets is None:
        jets = sequence.inclusive_jets(config.pt_min).layout
        index = sequence.constituent_index(config.pt_min).layout
    else:
        jets = quiet_exclusive(sequence.exclusive_jets, n_jets, -1).layout
        index = quiet_exclusive(sequence.exclusive_jets_constituent_index, n_jets).layout
    per_event = np.diff(np.asarray(jets.offsets)).astype(np.int64)
    first = int(jets.offsets[0])
    jet = {
        f: np.asarray(jets.content[f].data, dtype=np.float64)[first : first + per_event.sum()]
        for f in ("px", "py", "pz", "E")
    }
    jet_offsets = np.asarray(index.content.offsets)
    n_const = np.diff(jet_offsets).astype(np.int64)
    # FastJet allocates one slot per particle; the constituents fill the first ones
    local = np.asarray(index.content.content.data)[jet_offsets[0] : jet_offsets[-1]]
    return jet, per_event, n_const, local


def _fastjet_jets(
    counts: np.ndarray,
    starts: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    config: JetConfig,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """FastJet's jets of a chunk (FastJet's order within each event group), constituent
    counts, each constituent's position within its event (FastJet's integers) and each
    jet's event (:func:`cluster_flat_momenta`)."""
    events = list_of_momenta(starts, px, py, pz, energy)
    definition = config.jet_definition()
    if not config.exclusive:
        groups = [(np.arange(len(counts)), None)]
    else:
        if config.n_jets is not None:
            wanted = np.minimum(counts, config.n_jets)
        else:
            sequence = fastjet.ClusterSequence(events, definition)
            wanted = np.asarray(quiet_exclusive(sequence.n_exclusive_jets, float(config.dcut)))
            wanted = np.minimum(wanted.astype(np.int64), counts)
        groups = [(np.flatnonzero(wanted == n), int(n)) for n in np.unique(wanted) if n > 0]
    parts = []
    for event_index, n_jets in groups:
        chosen = events if n_jets is None else events[event_index]
        sequence = fastjet.ClusterSequence(chosen, definition)
        jet, per_event, n_const, local = _sequence_jets(sequence, config, n_jets)
        parts.append((jet, n_const, local, np.repeat(event_index, per_event)))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return {f: np.zeros(0) for f in ("px", "py", "pz", "E")}, empty, empty, empty
    if len(parts) == 1:  # inclusive jets: one ClusterSequence, nothing to join
        return parts[0]
    return (
        {f: np.concatenate([p[0][f] for p in parts]) for f in ("px", "py", "pz", "E")},
        *(np.concatenate([p[i] for p in parts]) for i in (1, 2, 3)),
    )


def _jet_kinematics(px: np.ndarray, py: np.ndarray, pz: np.ndarray) -> dict[str, np.ndarray]:
    pt = np.hypot(px, py)
    # jets above a pT threshold have pt > 0; guard the division for pt_min = 0 anyway
    eta = np.arcsinh(pz / np.where(pt > 0, pt, 1.0))
    return {"pt": pt, "eta": eta, "phi": np.arctan2(py, px)}


NSUBJETTINESS = "nsubjettiness"
"""Field of :func:`cluster_jets`' records holding ``tau1``, ``tau2``, ``tau21``: a record of
its own because vector's ``Momentum4D`` has a property ``tau2`` (the mass squared), which
would hide a field of that name (``events.FatJet.tau2`` of coffea's NanoAOD behaviours
returns mass² for that reason)."""


def _cluster_particles(
    particles: ak.Array, config: JetConfig, weight: str | ak.Array | None, what: str
) -> tuple[FlatJets, np.ndarray]:
    """Cluster jagged particle records in any representation; the jets, and their
    constituents as positions in the flat input particles."""
    momenta = flat_momenta(particles, weight=weight, what=what)
    four = (momenta.px, momenta.py, momenta.pz, momenta.E)
    counts, kept = momenta.counts, None
    if weight is not None:
        # a particle weighted to zero (PUPPI) carries no momentum: it is no constituent
        weighted_away = (four[3] == 0) & (four[0] == 0) & (four[1] == 0) & (four[2] == 0)
        if weighted_away.any():
            kept = np.flatnonzero(~weighted_away)
            event_of = np.repeat(np.arange(momenta.n_events), counts)[kept]
            counts = np.bincount(event_of, minlength=momenta.n_events).astype(np.int64)
            four = tuple(a[kept] for a in four)
    jets = cluster_flat_momenta(counts, *four, config)
    return jets, jets.constituents if kept is None else kept[jets.constituents]


def _jet_records(jets: FlatJets, extra: dict | None = None) -> ak.Array:
    # the layout itself: ak.zip of three flat arrays costs more than the record holds
    nsub = ak.contents.RecordArray(
        [ak.contents.NumpyArray(getattr(jets, f)) for f in ("tau1", "tau2", "tau21")],
        ["tau1", "tau2", "tau21"],
        length=len(jets.px),
    )
    fields = {f: getattr(jets, f) for f in ("px", "py", "pz", "E")}
    fields["n_constituents"] = jets.n_constituents
    fields[NSUBJETTINESS] = ak.Array(nsub)
    fields.update(extra or {})
    return momentum4d(fields, offsets_of(jets.n_jets))


def cluster_jets(
    particles: ak.Array,
    config: JetConfig | None = None,
    *,
    weight: str | ak.Array | None = None,
    what: str = "particles",
) -> ak.Array:
    """Cluster every event of an awkward array into jets, with N-subjettiness.

    Args:
        particles: Jagged particle records (one list per event; empty lists and ``None``
            events give no jets) in any four-vector representation that
            :func:`hepnnlr.observables.fourvectors.flat_momenta` reads: coffea NanoEvents
            collections (``events.PFCands``: pt, eta, phi, mass), hepnnlr's own (pt, eta,
            phi, E), Cartesian px, py, pz, E, EDM4hep's ``momentum.x`` … with ``energy`` or
            ``mass``, vector records.
        config: Jet definition; ``JetConfig()`` (kT, R = 1.0, pT >= 5 GeV) if None.
        weight: Per-particle weight scaling each four-momentum before clustering, a field
            name (e.g. ``"puppiWeight"``) or a jagged array; particles weighted to zero are
            left out.
        what: Name of the collection in error messages (e.g. ``"PFCands"``).

    Returns:
        Jagged vector ``Momentum4D`` records per event, sorted by decreasing pT, with fields
        ``px``, ``py``, ``pz``, ``E``, ``n_constituents`` and ``nsubjettiness`` (``tau1``,
        ``tau2``, ``tau21``; :data:`NSUBJETTINESS`); ``.pt``, ``.eta``, ``.phi``,
        ``.mass``, ``.deltaR(...)``, ``.boost_p4(...)`` are vector's.

    Example:
        >>> import awkward as ak
        >>> event = ak.Array([[{"pt": 6.0, "eta": 0.1, "phi": 0.0, "E": 6.03}]])
        >>> [round(x, 9) for x in cluster_jets(event).pt[0].tolist()]
        [6.0]
    """
    config = JetConfig() if config is None else config
    jets, _ = _cluster_particles(particles, config, weight, what)
    return _jet_records(jets)


def cluster_flat_particles(
    particles: ak.Array,
    config: JetConfig | None = None,
    *,
    weight: str | ak.Array | None = None,
    what: str = "particles",
) -> FlatJets:
    """:func:`cluster_jets` returning the jets as flat buffers (:class:`FlatJets`), for
    callers that fill histograms or columns from NumPy arrays: the same jets, values and
    order, without building the jagged vector records.

    Args:
        particles, config, weight, what: As in :func:`cluster_jets`.

    Returns:
        :class:`FlatJets` with τ1, τ2, τ21; its ``constituents`` are positions in the
        particles flattened over events (``ak.flatten(particles, axis=1)``, ``None`` events
        empty), particles weighted to zero never among them.
    """
    config = JetConfig() if config is None else config
    jets, constituents = _cluster_particles(particles, config, weight, what)
    return dataclasses.replace(jets, constituents=constituents)


def cluster_jets_with_constituents(
    particles: ak.Array,
    config: JetConfig | None = None,
    *,
    weight: str | ak.Array | None = None,
    what: str = "particles",
) -> ak.Array:
    """:func:`cluster_jets` plus each jet's constituents, as the input records.

    Args:
        particles, config, weight, what: As in :func:`cluster_jets`.

    Returns:
        The records of :func:`cluster_jets` with one more field, ``constituents``: per
        jet, the input particle records (every field, unweighted) that FastJet assigned
        to it, in FastJet's order, ``events * jets * constituents``.
    """
    config = JetConfig() if config is None else config
    jets, constituents = _cluster_particles(particles, config, weight, what)
    flat = ak.flatten(ak.fill_none(particles, [], axis=0), axis=1)
    members = ak.unflatten(flat[constituents], jets.n_constituents)
    return _jet_records(jets, {"constituents": members})


def dphi_from_pi(phi: ak.Array, phi_ref: ak.Array) -> ak.Array:
    """Azimuthal separation measured from back-to-back: π − |Δφ|, in [0, π].

    This is the Δφ^jet observable of Sec. 3 of arXiv:2503.20753 with ``phi`` the jet azimuth
    and ``phi_ref`` the scattered electron's: 0 for a jet exactly back-to-back with the
    electron in the transverse plane.

    Args:
        phi: Azimuths in radians (e.g. jagged jet φ).
        phi_ref: Reference azimuths, broadcast against ``phi`` (e.g. one φ_e per event).

    Returns:
        π − |wrap(φ − φ_ref)| with the difference wrapped to (−π, π].
    """
    return np.pi - np.abs(wrap_phi(phi - phi_ref))
