"""Jet clustering and jet substructure on whole awkward arrays of events.

Sec. 3 of the paper clusters the hadronic final state with the kT algorithm
(Catani et al., Nucl. Phys. B406 (1993) 187; Ellis & Soper, PRD 48 (1993) 3160) with
R = 1.0, keeps jets with pT > 5 GeV and studies the jet pT, η, the N-subjettiness ratio
τ21 = τ2/τ1 (Thaler & Van Tilburg, JHEP 03 (2011) 015 and JHEP 02 (2012) 093) and the
azimuthal jet-electron correlation Δφ^jet, measured from π.

All events of a chunk are clustered in one call, with no Python loop over events: of
hepnnlr's compiled clustering (``JetConfig(engine="native")``, the default,
:func:`hepnnlr.observables._kernels.cluster_events`:
FastJet's ``N2Plain`` algorithm for kT, anti-kT and Cambridge/Aachen reproduced step by step,
the constituents taken from its own history), which gives the same jets, four-momenta and
constituent lists bit for bit as FastJet (see :func:`cluster_flat` for the one caveat, exact
ties), or of FastJet's awkward interface (``engine="fastjet"``). The native engine is the
default because it does the clustering, ``inclusive_jets`` and ``constituent_index`` in one
pass over the history: 2.6× less CPU than those three FastJet calls for the Z → jets
processor (docs/benchmarks.md).

N-subjettiness definition used here (FastJet-contrib ``Nsubjettiness`` with
``KT_Axes`` and ``NormalizedMeasure(beta=1, R0=R)``):

    τN = Σ_i pT_i min_k ΔR(i, a_k) / (Σ_i pT_i R0),

where i runs over the jet constituents, ΔR² = Δy² + Δφ² uses the rapidity y, R0 is the
jet radius and the N axes a_k are the exclusive kT subjets of the jet: its constituents
reclustered with the kT algorithm (E-scheme) until N pseudojets remain. A jet with at
most N constituents has τN = 0. τ21 = τ2/τ1 is set to 0 for jets with τ1 = 0 (a single
constituent, or all constituents collinear): such jets also have τ2 = 0, the same value
every two-constituent jet has, so 0 continues the ratio without producing NaN.

How: the jets are clustered in one FastJet ``ClusterSequence`` per chunk; τN then comes
from the compiled kernel of :mod:`hepnnlr.observables._kernels` (numba, one pass over the
flat constituents of all jets, no Python loop per jet). Its axes are each jet's exclusive
kT subjets: the constituents reclustered with kT at R = 1000 (``JetDefinition.max_allowable_R``,
the definition FastJet-contrib's ``KT_Axes`` uses), E-scheme, stopping when N pseudojets
remain (all constituents, and τN = 0, for a jet with at most N of them). The kernel
follows FastJet's ``N2Plain`` clustering step by step (same distances, same
nearest-neighbour bookkeeping, same choice between equal distances), so its axes are the
pseudojets of FastJet's ``exclusive_jets_up_to(N)`` with the same floating-point
momenta; rapidity and azimuth are FastJet's. (FastJet 3.5.2's awkward interface offers
per-jet exclusive subjets only for one jet per event, which is why hepnnlr used to build
a second ``ClusterSequence`` whose lists were the jets, :func:`per_jet_sequence`; that
function is kept as the FastJet reference.) This module's tests check τN against that
FastJet reference on Pythia jets (relative 1e-12), FastJet's single-event interface, a
FastJet-free NumPy computation, a brute-force minimum over two-way splits and exact
configurations.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import awkward as ak
import fastjet
import numpy as np

from hepnnlr.errors import ConfigError, MissingBranchError, ShapeMismatchError
from hepnnlr.observables import _kernels
from hepnnlr.observables.dis import wrap_phi

__all__ = [
    "JET_ALGORITHMS",
    "JET_ENGINES",
    "FlatJets",
    "JetConfig",
    "cluster_flat",
    "cluster_jets",
    "cluster_jets_with_constituents",
    "dphi_from_pi",
    "nsubjettiness",
    "per_jet_sequence",
    "subjettiness",
]

JET_ALGORITHMS: dict[str, int] = {
    "kt": fastjet.kt_algorithm,
    "antikt": fastjet.antikt_algorithm,
    "cambridge": fastjet.cambridge_algorithm,
}
"""Jet algorithms by name: kT, anti-kT and Cambridge/Aachen."""

JET_ENGINES: tuple[str, ...] = ("fastjet", "native")
"""Clustering engines of :func:`cluster_flat`: FastJet's awkward interface, or hepnnlr's
compiled reproduction of FastJet's clustering
(:func:`hepnnlr.observables._kernels.cluster_events`)."""


@dataclass(frozen=True)
class JetConfig:
    """Jet definition: algorithm, radius and transverse-momentum threshold.

    The default is the jet definition of Sec. 3 of the paper: kT, R = 1.0, pT > 5 GeV.

    Args:
        algorithm: One of ``"kt"``, ``"antikt"``, ``"cambridge"``.
        radius: Jet radius R (also the N-subjettiness normalization R0).
        pt_min: Minimum jet pT in GeV (FastJet keeps jets with pT >= pt_min).
        engine: Who clusters, one of :data:`JET_ENGINES`: ``"native"`` (default:
            hepnnlr's compiled clustering, FastJet's ``N2Plain`` algorithm step by step;
            same jets and constituents, bit for bit, see :func:`cluster_flat`) or
            ``"fastjet"`` (FastJet's ``ClusterSequence``, ``inclusive_jets`` and
            ``constituent_index``).
    """

    algorithm: str = "kt"
    radius: float = 1.0
    pt_min: float = 5.0
    engine: str = "native"

    def __post_init__(self) -> None:
        if self.algorithm not in JET_ALGORITHMS:
            raise ConfigError(
                f"JetConfig.algorithm={self.algorithm!r} is not known; use one of "
                f"{sorted(JET_ALGORITHMS)}."
            )
        if not (isinstance(self.radius, int | float) and 0 < self.radius < 10):
            raise ConfigError(f"JetConfig.radius must be a number in (0, 10), got {self.radius!r}.")
        if not (
            isinstance(self.pt_min, int | float) and math.isfinite(self.pt_min) and self.pt_min >= 0
        ):
            raise ConfigError(
                f"JetConfig.pt_min must be a finite number >= 0 GeV, got {self.pt_min!r}."
            )
        if self.engine not in JET_ENGINES:
            raise ConfigError(
                f"JetConfig.engine={self.engine!r} is not known; use one of {list(JET_ENGINES)}."
            )

    def jet_definition(self) -> fastjet.JetDefinition:
        """The FastJet ``JetDefinition`` (E-scheme recombination)."""
        return fastjet.JetDefinition(JET_ALGORITHMS[self.algorithm], float(self.radius))


def _require_momentum_fields(particles: ak.Array) -> None:
    missing = [f for f in ("pt", "eta", "phi", "E") if f not in ak.fields(particles)]
    if missing:
        raise MissingBranchError(
            f"particle records lack the field(s) {missing} needed for jet clustering; "
            f"available fields: {sorted(ak.fields(particles))}. Pass records with pt, eta, "
            "phi and E (e.g. events.GenPart read with hepnnlr.schema.HepnnlrSchema)."
        )


def _flat_fields(particles: ak.Array, fields: tuple[str, ...]) -> tuple[np.ndarray, dict]:
    """Per-event counts and the flat NumPy content of ``fields`` (``None`` events: empty)."""
    particles = ak.fill_none(particles, [], axis=0)
    counts = ak.to_numpy(ak.num(particles, axis=1)).astype(np.int64)
    return counts, {f: ak.to_numpy(ak.flatten(particles[f], axis=1)) for f in fields}


def _offsets(counts: np.ndarray) -> np.ndarray:
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def _list_of_momenta(
    offsets: np.ndarray, px: np.ndarray, py: np.ndarray, pz: np.ndarray, energy: np.ndarray
) -> ak.Array:
    """``var * {px, py, pz, E}`` awkward array built straight from flat buffers."""
    content = ak.contents.RecordArray(
        [ak.contents.NumpyArray(np.ascontiguousarray(a)) for a in (px, py, pz, energy)],
        ["px", "py", "pz", "E"],
    )
    return ak.Array(ak.contents.ListOffsetArray(ak.index.Index64(offsets), content))


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
        return _offsets(self.n_constituents)


def per_jet_sequence(
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    n_constituents: np.ndarray,
) -> fastjet.ClusterSequence:
    """One FastJet ``ClusterSequence`` whose lists are jets, each its constituents.

    Clustered with kT at R = ``JetDefinition.max_allowable_R`` (= 1000, E-scheme): every
    pair of constituents merges before any beam recombination, so ``exclusive_jets_up_to(N)``
    of a list are that jet's N exclusive-kT subjets (the ``KT_Axes`` of FastJet-contrib's
    ``Nsubjettiness``) and its single exclusive jet holds every constituent (what
    ``exclusive_jets_energy_correlator(njets=1)`` evaluates). hepnnlr's own observables no
    longer use it (:func:`nsubjettiness` and the energy correlators run the compiled
    kernel of :mod:`hepnnlr.observables._kernels`, which reproduces this clustering); it
    is kept as the FastJet reference the tests compare with.

    Args:
        px, py, pz, energy: Constituent momenta in GeV (float64), ``n_constituents.sum()``
            entries, jet after jet.
        n_constituents: Constituents of each jet (each >= 1).
    """
    offsets = _offsets(np.asarray(n_constituents, dtype=np.int64))
    return fastjet.ClusterSequence(
        _list_of_momenta(offsets, px, py, pz, energy),
        fastjet.JetDefinition(fastjet.kt_algorithm, fastjet.JetDefinition.max_allowable_R),
    )


def _jet_offsets(
    what: str,
    four: tuple[np.ndarray, ...],
    n_constituents: np.ndarray,
    sequence: object,
) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Checked float64 constituent arrays and per-jet offsets for the kernels."""
    if sequence is not None:
        warnings.warn(
            f"{what}(sequence=...) is no longer used and will be removed: the per-jet "
            "reclustering runs in hepnnlr's compiled kernel, which needs no FastJet "
            "ClusterSequence; drop the argument.",
            DeprecationWarning,
            stacklevel=3,
        )
    n_constituents = np.asarray(n_constituents, dtype=np.int64)
    if n_constituents.ndim != 1:
        raise ShapeMismatchError(
            f"{what}: n_constituents must be one count per jet (1-d), got shape "
            f"{n_constituents.shape}."
        )
    if len(n_constituents) and n_constituents.min() < 1:
        raise ShapeMismatchError(
            f"{what}: jet {int(np.argmin(n_constituents))} has no constituents; pass "
            "only jets (each has at least one constituent), e.g. those of cluster_flat."
        )
    four = tuple(np.ascontiguousarray(a, dtype=np.float64) for a in four)
    total = int(n_constituents.sum())
    for name, array in zip(("px", "py", "pz", "energy"), four, strict=True):
        if array.shape != (total,):
            raise ShapeMismatchError(
                f"{what}: {name} has shape {array.shape} but n_constituents sums to {total}; "
                "pass the constituents of exactly these jets, jet after jet."
            )
    return four, _offsets(n_constituents)


def nsubjettiness(
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    n_constituents: np.ndarray,
    radius: float,
    *,
    sequence: fastjet.ClusterSequence | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """τ1, τ2 and τ21 of jets given as flat constituent four-momenta, jet after jet.

    The axes are each jet's exclusive-kT subjets (module docstring), found and summed
    over in one compiled pass (:mod:`hepnnlr.observables._kernels`). Each jet's value
    depends on its own constituents only, so any subset of the jets of
    :func:`cluster_flat` can be passed.

    Args:
        px, py, pz, energy: Constituent momenta (float64), ``n_constituents.sum()``.
        n_constituents: Constituents of each jet (each >= 1).
        radius: The jet radius R (= R0 of the normalised measure).
        sequence: Deprecated and unused (it was a :func:`per_jet_sequence` of these
            constituents); passing it warns (``DeprecationWarning``).

    Returns:
        ``(tau1, tau2, tau21)``, one float64 value per jet.
    """
    four, offsets = _jet_offsets("nsubjettiness", (px, py, pz, energy), n_constituents, sequence)
    taus, _ = _kernels.jet_shapes(*four, offsets, float(radius), 2, 0, 0.0)
    return _tau1_tau2_tau21(taus)


def _tau1_tau2_tau21(taus: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """τ1, τ2 and τ21 from the kernel's (jets, 2) τ array; τ21 = 0 where τ1 = 0
    (module docstring)."""
    tau1, tau2 = taus[:, 0], taus[:, 1]
    return tau1, tau2, np.where(tau1 > 0, tau2 / np.where(tau1 > 0, tau1, 1.0), 0.0)


def subjettiness(
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    n_constituents: np.ndarray,
    radius: float,
    n: int,
    *,
    sequence: fastjet.ClusterSequence | None = None,
) -> np.ndarray:
    """τ_N of jets given as flat constituent four-momenta, jet after jet, for any N >= 1.

    Same conventions as :func:`nsubjettiness` (β = 1, normalised by Σ pT · R, the N
    exclusive-kT subjets as axes; a jet with at most N constituents has τ_N = 0), e.g.
    ``n=3`` for τ3 and τ32 = τ3 / τ2. ``sequence`` is deprecated and unused, as there.

    Returns:
        One float64 value per jet.
    """
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ConfigError(f"subjettiness: n={n!r}; N-subjettiness needs an integer N >= 1.")
    four, offsets = _jet_offsets("subjettiness", (px, py, pz, energy), n_constituents, sequence)
    taus, _ = _kernels.jet_shapes(*four, offsets, float(radius), int(n), 0, 0.0)
    return np.ascontiguousarray(taus[:, int(n) - 1])


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
    """Cluster a chunk given as flat particle arrays; the engine of :func:`cluster_jets`.

    With ``config.engine == "fastjet"``: one FastJet ``ClusterSequence`` for all events;
    the constituents are taken from its ``constituent_index`` (no second pass over the
    clustering). With ``"native"``: one compiled call
    (:func:`hepnnlr.observables._kernels.cluster_events`) clusters every event as
    FastJet's ``N2Plain`` strategy does (same distances, momentum factors kt2, 1 and
    1/kt2, E-scheme sums, nearest-neighbour bookkeeping and choice between equal
    distances) and takes the constituents from its own clustering history. The jets'
    four-momenta and constituent lists are FastJet's bit for bit; FastJet itself runs
    other strategies (``N2Tiled``, ...) on events of more than ~30 particles, which make
    the same recombinations unless two distances are exactly equal, so only such exact
    ties could differ (for Cambridge/Aachen the final beam recombinations, all at
    d_iB = R², can come in another order, which changes nothing after the pT ordering
    below). τ1, τ2 come from the compiled kernel (:func:`nsubjettiness`, module
    docstring).

    Args:
        counts: Particles per event.
        pt, eta, phi, energy: Flat particle kinematics (any float dtype; computed in
            float64), ``counts.sum()`` entries.
        config: Jet definition; ``JetConfig()`` if None.
        with_nsubjettiness: Compute τ1, τ2, τ21 of every jet (the costliest step);
            with False they are None, and :func:`nsubjettiness` can compute them for
            the jets the caller keeps (e.g. the two leading ones).

    Returns:
        The jets as :class:`FlatJets`.
    """
    config = JetConfig() if config is None else config
    counts = np.asarray(counts, dtype=np.int64)
    pt, eta, phi, energy = (np.asarray(a, dtype=np.float64) for a in (pt, eta, phi, energy))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    starts = _offsets(counts)
    if config.engine == "native":
        jet_px, jet_py, jet_pz, jet_e, n_jets, n_const, global_index = _kernels.cluster_events(
            np.ascontiguousarray(px),
            np.ascontiguousarray(py),
            np.ascontiguousarray(pz),
            np.ascontiguousarray(energy),
            starts,
            _kernels.ALGORITHM_CODES[config.algorithm],
            float(config.radius),
            float(config.pt_min),
        )
        jet = {"px": jet_px, "py": jet_py, "pz": jet_pz, "E": jet_e}
        jet_event = np.repeat(np.arange(len(counts)), n_jets)
    else:
        n_jets, jet, n_const, global_index, jet_event = _fastjet_jets(
            counts, starts, px, py, pz, energy, config
        )
    kinematics = _jet_kinematics(jet["px"], jet["py"], jet["pz"])

    # sort by decreasing pT within each event (stable, as ak.argsort(stable=True))
    order = np.lexsort((-kinematics["pt"], jet_event))
    const_starts = _offsets(n_const)[:-1]
    n_const = n_const[order]
    total = int(n_const.sum())
    sorted_starts = _offsets(n_const)[:-1]
    gather = np.arange(total, dtype=np.int64) + np.repeat(
        const_starts[order] - sorted_starts, n_const
    )
    constituents = global_index[gather]

    tau1 = tau2 = tau21 = None
    if with_nsubjettiness:
        tau1, tau2, tau21 = nsubjettiness(
            px[constituents],
            py[constituents],
            pz[constituents],
            energy[constituents],
            n_const,
            config.radius,
        )
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


def _fastjet_jets(
    counts: np.ndarray,
    starts: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    config: JetConfig,
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """FastJet's inclusive jets (its order), constituent counts, flat constituent
    positions and each jet's event: the ``"fastjet"`` engine of :func:`cluster_flat`."""
    sequence = fastjet.ClusterSequence(
        _list_of_momenta(starts, px, py, pz, energy), config.jet_definition()
    )
    jets = sequence.inclusive_jets(config.pt_min).layout
    index = sequence.constituent_index(config.pt_min).layout
    n_jets = np.diff(np.asarray(jets.offsets)).astype(np.int64)
    jet = {f: np.asarray(jets.content[f].data, dtype=np.float64) for f in ("px", "py", "pz", "E")}
    jet_event = np.repeat(np.arange(len(counts)), n_jets)
    jet_offsets = np.asarray(index.content.offsets)
    n_const = np.diff(jet_offsets).astype(np.int64)
    # FastJet allocates one slot per particle; the constituents fill the first ones
    local = np.asarray(index.content.content.data)[jet_offsets[0] : jet_offsets[-1]]
    global_index = local.astype(np.int64) + np.repeat(starts[:-1][jet_event], n_const)
    return n_jets, jet, n_const, global_index, jet_event


def _jet_kinematics(px: np.ndarray, py: np.ndarray, pz: np.ndarray) -> dict[str, np.ndarray]:
    pt = np.hypot(px, py)
    # jets above a pT threshold have pt > 0; guard the division for pt_min = 0 anyway
    eta = np.arcsinh(pz / np.where(pt > 0, pt, 1.0))
    return {"pt": pt, "eta": eta, "phi": np.arctan2(py, px)}


_JET_FIELDS = ("px", "py", "pz", "E", "pt", "eta", "phi", "n_constituents", "tau1", "tau2", "tau21")


def _jet_record_layout(jets: FlatJets, extra: dict | None = None) -> ak.contents.Content:
    fields = {f: ak.contents.NumpyArray(getattr(jets, f)) for f in _JET_FIELDS}
    fields.update(extra or {})
    return ak.contents.ListOffsetArray(
        ak.index.Index64(_offsets(jets.n_jets)),
        ak.contents.RecordArray(list(fields.values()), list(fields)),
    )


def _flat_cluster(particles: ak.Array, config: JetConfig) -> tuple[np.ndarray, FlatJets]:
    _require_momentum_fields(particles)
    counts, flat = _flat_fields(particles, ("pt", "eta", "phi", "E"))
    return counts, cluster_flat(counts, flat["pt"], flat["eta"], flat["phi"], flat["E"], config)


def cluster_jets(particles: ak.Array, config: JetConfig | None = None) -> ak.Array:
    """Cluster every event of an awkward array into jets, with N-subjettiness.

    Args:
        particles: Jagged particle records with ``pt``, ``eta``, ``phi`` and ``E``
            (one list per event; empty lists and ``None`` events give no jets).
        config: Jet definition; ``JetConfig()`` (kT, R = 1.0, pT >= 5 GeV) if None.

    Returns:
        Jagged jet records per event, sorted by decreasing pT, with fields ``px``, ``py``,
        ``pz``, ``E``, ``pt``, ``eta`` (pseudorapidity), ``phi``, ``n_constituents``,
        ``tau1``, ``tau2`` and ``tau21`` (definitions in the module docstring).

    Example:
        >>> import awkward as ak
        >>> event = ak.Array([[{"pt": 6.0, "eta": 0.1, "phi": 0.0, "E": 6.03}]])
        >>> cluster_jets(event).pt.tolist()
        [[6.0]]
    """
    config = JetConfig() if config is None else config
    _, jets = _flat_cluster(particles, config)
    return ak.Array(_jet_record_layout(jets))


def cluster_jets_with_constituents(
    particles: ak.Array, config: JetConfig | None = None
) -> ak.Array:
    """:func:`cluster_jets` plus each jet's constituents with all their input fields.

    Args:
        particles: Jagged particle records with at least ``pt``, ``eta``, ``phi``, ``E``;
            every other field (``pdgId``, ``charge``, ...) is carried to the constituents.
        config: Jet definition; ``JetConfig()`` if None.

    Returns:
        The records of :func:`cluster_jets` with one more field, ``constituents``: per
        jet, the list of input particle records that FastJet assigned to it (in FastJet's
        order), ``events * jets * constituents``.
    """
    config = JetConfig() if config is None else config
    _require_momentum_fields(particles)
    names = tuple(ak.fields(particles))
    counts, flat = _flat_fields(particles, names)
    jets = cluster_flat(counts, flat["pt"], flat["eta"], flat["phi"], flat["E"], config)
    picked = ak.contents.RecordArray(
        [ak.contents.NumpyArray(flat[f][jets.constituents]) for f in names], list(names)
    )
    constituents = ak.contents.ListOffsetArray(ak.index.Index64(jets.constituent_offsets()), picked)
    return ak.Array(_jet_record_layout(jets, {"constituents": constituents}))


def dphi_from_pi(phi: ak.Array, phi_ref: ak.Array) -> ak.Array:
    """Azimuthal separation measured from back-to-back: π − |Δφ|, in [0, π].

    This is the Δφ^jet observable of Sec. 3 of the paper with ``phi`` the jet azimuth and
    ``phi_ref`` the scattered electron's: 0 for a jet exactly back-to-back with the
    electron in the transverse plane.

    Args:
        phi: Azimuths in radians (e.g. jagged jet φ).
        phi_ref: Reference azimuths, broadcast against ``phi`` (e.g. one φ_e per event).

    Returns:
        π − |wrap(φ − φ_ref)| with the difference wrapped to (−π, π].
    """
    return np.pi - np.abs(wrap_phi(phi - phi_ref))
