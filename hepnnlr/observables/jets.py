"""Jet clustering and jet substructure on whole awkward arrays of events.

Sec. 3 of the paper clusters the hadronic final state with the kT algorithm
(Catani et al., Nucl. Phys. B406 (1993) 187; Ellis & Soper, PRD 48 (1993) 3160) with
R = 1.0, keeps jets with pT > 5 GeV and studies the jet pT, η, the N-subjettiness ratio
τ21 = τ2/τ1 (Thaler & Van Tilburg, JHEP 03 (2011) 015 and JHEP 02 (2012) 093) and the
azimuthal jet-electron correlation Δφ^jet, measured from π.

All events of a chunk are clustered in one call of FastJet's awkward interface; there is
no Python loop over events.

N-subjettiness definition used here (FastJet-contrib ``Nsubjettiness`` with
``KT_Axes`` and ``NormalizedMeasure(beta=1, R0=R)``):

    τN = Σ_i pT_i min_k ΔR(i, a_k) / (Σ_i pT_i R0),

where i runs over the jet constituents, ΔR² = Δy² + Δφ² uses the rapidity y, R0 is the
jet radius and the N axes a_k are the exclusive kT subjets of the jet: its constituents
reclustered with the kT algorithm (E-scheme) until N pseudojets remain. A jet with at
most N constituents has τN = 0. τ21 = τ2/τ1 is set to 0 for jets with τ1 = 0 (a single
constituent, or all constituents collinear): such jets also have τ2 = 0, the same value
every two-constituent jet has, so 0 continues the ratio without producing NaN.

FastJet 3.5.2's awkward ``ClusterSequence.njettiness`` evaluates N-jettiness over *all*
particles of each list it was built from (whole events), and ``exclusive_subjets``
accepts only one jet per event. Per-jet τN is therefore obtained by flattening the
constituents to one list per jet and building a second ``ClusterSequence`` on those
lists, whose ``njettiness`` then is exactly the per-jet N-subjettiness above (this module's
tests check it against an independent NumPy computation and exact configurations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import awkward as ak
import fastjet
import numpy as np

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.observables.dis import wrap_phi

__all__ = [
    "JET_ALGORITHMS",
    "JetConfig",
    "cluster_jets",
    "cluster_jets_with_constituents",
    "dphi_from_pi",
]

JET_ALGORITHMS: dict[str, int] = {
    "kt": fastjet.kt_algorithm,
    "antikt": fastjet.antikt_algorithm,
    "cambridge": fastjet.cambridge_algorithm,
}
"""Jet algorithms by name: kT, anti-kT and Cambridge/Aachen."""


@dataclass(frozen=True)
class JetConfig:
    """Jet definition: algorithm, radius and transverse-momentum threshold.

    The default is the jet definition of Sec. 3 of the paper: kT, R = 1.0, pT > 5 GeV.

    Args:
        algorithm: One of ``"kt"``, ``"antikt"``, ``"cambridge"``.
        radius: Jet radius R (also the N-subjettiness normalization R0).
        pt_min: Minimum jet pT in GeV (FastJet keeps jets with pT >= pt_min).
    """

    algorithm: str = "kt"
    radius: float = 1.0
    pt_min: float = 5.0

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

    def jet_definition(self) -> fastjet.JetDefinition:
        """The FastJet ``JetDefinition`` (E-scheme recombination)."""
        return fastjet.JetDefinition(JET_ALGORITHMS[self.algorithm], float(self.radius))


def _four_momenta(particles: ak.Array) -> ak.Array:
    """Packed ``var * {px, py, pz, E}`` float64 records from (pt, eta, phi, E) records."""
    missing = [f for f in ("pt", "eta", "phi", "E") if f not in ak.fields(particles)]
    if missing:
        raise MissingBranchError(
            f"particle records lack the field(s) {missing} needed for jet clustering; "
            f"available fields: {sorted(ak.fields(particles))}. Pass records with pt, eta, "
            "phi and E (e.g. events.GenPart read with hepnnlr.schema.HepnnlrSchema)."
        )
    particles = ak.fill_none(particles, [], axis=0)
    pt = ak.values_astype(particles.pt, np.float64)
    eta = ak.values_astype(particles.eta, np.float64)
    phi = ak.values_astype(particles.phi, np.float64)
    energy = ak.values_astype(particles.E, np.float64)
    momenta = ak.zip(
        {
            "px": pt * np.cos(phi),
            "py": pt * np.sin(phi),
            "pz": pt * np.sinh(eta),
            "E": energy,
        }
    )
    return ak.to_packed(ak.without_parameters(momenta))


def _jet_kinematics(px: ak.Array, py: ak.Array, pz: ak.Array) -> dict[str, ak.Array]:
    pt = np.hypot(px, py)
    # jets above a pT threshold have pt > 0; guard the division for pt_min = 0 anyway
    eta = np.arcsinh(pz / ak.where(pt > 0, pt, 1.0))
    return {"pt": pt, "eta": eta, "phi": np.arctan2(py, px)}


def _nsubjettiness(constituents: ak.Array, counts: np.ndarray, radius: float) -> ak.Array:
    """τ1 and τ2 of every jet, as a jagged ``events * jets * 2`` array (see module doc)."""
    n_jets = int(counts.sum())
    if n_jets == 0:
        return ak.unflatten(np.zeros((0, 2)), counts)
    per_jet = ak.flatten(constituents, axis=1)
    per_jet = ak.to_packed(ak.zip({name: per_jet[name] for name in ("px", "py", "pz", "E")}))
    # the JetDefinition of this ClusterSequence does not enter njettiness, which
    # finds its own exclusive-kT axes over all particles of each list (= one jet)
    sequence = fastjet.ClusterSequence(per_jet, fastjet.JetDefinition(fastjet.kt_algorithm, 1.0))
    taus = sequence.njettiness(
        measure_definition="NormalizedMeasure",
        axes_definition="KT_Axes",
        njets=[1, 2],
        beta=1.0,
        R0=float(radius),
    )
    taus = np.asarray(ak.to_numpy(taus), dtype=np.float64).reshape(n_jets, 2)
    return ak.unflatten(taus, counts)


def _cluster(
    particles: ak.Array, config: JetConfig
) -> tuple[ak.Array, dict[str, ak.Array], ak.Array, ak.Array]:
    """Cluster; return jets, their (pt, eta, phi), constituents and constituent indices,
    all sorted by decreasing jet pT."""
    momenta = _four_momenta(particles)
    sequence = fastjet.ClusterSequence(momenta, config.jet_definition())
    jets = sequence.inclusive_jets(config.pt_min)
    constituents = sequence.constituents(config.pt_min)
    index = sequence.constituent_index(config.pt_min)

    kinematics = _jet_kinematics(jets.px, jets.py, jets.pz)
    order = ak.argsort(kinematics["pt"], axis=1, ascending=False, stable=True)
    kinematics = {name: values[order] for name, values in kinematics.items()}
    return jets[order], kinematics, constituents[order], index[order]


def _jet_records(
    jets: ak.Array, kinematics: dict[str, ak.Array], constituents: ak.Array, radius: float
) -> dict[str, ak.Array]:
    counts = ak.to_numpy(ak.num(jets, axis=1))
    taus = _nsubjettiness(constituents, counts, radius)
    tau1, tau2 = taus[:, :, 0], taus[:, :, 1]
    tau21 = ak.where(tau1 > 0, tau2 / ak.where(tau1 > 0, tau1, 1.0), 0.0)
    return {
        "px": jets.px,
        "py": jets.py,
        "pz": jets.pz,
        "E": jets.E,
        **kinematics,
        "n_constituents": ak.num(constituents, axis=2),
        "tau1": tau1,
        "tau2": tau2,
        "tau21": tau21,
    }


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
    jets, kinematics, constituents, _ = _cluster(particles, config)
    return ak.zip(_jet_records(jets, kinematics, constituents, config.radius))


def _gather_constituents(particles: ak.Array, index: ak.Array) -> ak.Array:
    """``events * jets * constituents`` records of ``particles`` picked by ``index``."""
    particles = ak.fill_none(particles, [], axis=0)
    plain = ak.zip({f: particles[f] for f in ak.fields(particles)}, with_name=None, depth_limit=2)
    plain = ak.without_parameters(plain)
    counts = ak.to_numpy(ak.num(plain, axis=1)).astype(np.int64)
    starts = np.zeros(counts.size, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    n_jets = ak.to_numpy(ak.num(index, axis=1))
    n_constituents = ak.to_numpy(ak.flatten(ak.num(index, axis=2)))
    local = ak.to_numpy(ak.flatten(index, axis=None)).astype(np.int64)
    jet_event = np.repeat(np.arange(counts.size), n_jets)
    global_index = local + np.repeat(starts[jet_event], n_constituents)
    flat = ak.flatten(plain, axis=1)[global_index]
    return ak.unflatten(ak.unflatten(flat, n_constituents), n_jets)


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
    jets, kinematics, constituents, index = _cluster(particles, config)
    fields = _jet_records(jets, kinematics, constituents, config.radius)
    fields["constituents"] = _gather_constituents(particles, index)
    return ak.zip(fields, depth_limit=2)


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
