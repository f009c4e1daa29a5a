"""Deep-inelastic-scattering kinematics and per-particle features.

Sec. 3 of Torales Acosta, Wamorkar, Mikuni, Nachman, *Stabilizing Neural Likelihood Ratio
Estimation*, arXiv:2503.20753, describes each DIS event by the scattered electron
(pseudorapidity η_e, Q², y) and by per-particle features of the hadronic final state:
η − η_e, log10 pT and log10 pT/Q. This module computes them on awkward arrays, one entry
per event, with no event loop.

Conventions (H1, see ``docs/architecture.md``): the proton beam travels along +z and the
electron beam along −z; the polar angle θ of the scattered electron is measured from +z,
so a backward-scattered electron has θ → π and η_e < 0. Electron method:

* Q² = 2 E_e E′ (1 + cos θ)
* y  = 1 − E′ / (2 E_e) · (1 − cos θ)
* x  = Q² / (s y), with s = 4 E_e E_p

where E_e, E_p are the beam energies and E′ the scattered-electron energy. Massless
kinematics are used for the electron: cos θ = tanh η.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError, MissingBranchError

__all__ = [
    "HERA",
    "BeamConfig",
    "FiducialCuts",
    "KinematicRegion",
    "electron_kinematics",
    "electron_method",
    "particle_features",
    "select_fiducial",
    "wrap_phi",
]


@dataclass(frozen=True)
class BeamConfig:
    """Beam energies of an electron-proton collider.

    Args:
        electron_energy: Electron beam energy E_e in GeV (HERA II: 27.6).
        proton_energy: Proton beam energy E_p in GeV (HERA II: 920).
    """

    electron_energy: float = 27.6
    proton_energy: float = 920.0

    def __post_init__(self) -> None:
        for name in ("electron_energy", "proton_energy"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ConfigError(
                    f"BeamConfig.{name} must be a positive finite energy in GeV, got {value!r}."
                )

    @property
    def s(self) -> float:
        """Squared centre-of-mass energy s = 4 E_e E_p in GeV² (massless beams)."""
        return 4.0 * self.electron_energy * self.proton_energy


HERA = BeamConfig()
"""HERA II beams: 27.6 GeV electrons on 920 GeV protons."""


@dataclass(frozen=True)
class FiducialCuts:
    """Fiducial region of the hadronic final-state particles (Sec. 3 of arXiv:2503.20753).

    A particle is kept if ``pt > pt_min`` and ``eta_min < eta < eta_max`` (strict).

    Args:
        pt_min: Transverse-momentum threshold in GeV (default 0.1).
        eta_min: Lower pseudorapidity edge (default −1.5).
        eta_max: Upper pseudorapidity edge (default 2.75).
    """

    pt_min: float = 0.1
    eta_min: float = -1.5
    eta_max: float = 2.75

    def __post_init__(self) -> None:
        for name in ("pt_min", "eta_min", "eta_max"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value)):
                raise ConfigError(f"FiducialCuts.{name} must be a finite number, got {value!r}.")
        if self.pt_min < 0:
            raise ConfigError(
                f"FiducialCuts.pt_min must be >= 0 GeV, got {self.pt_min!r}; log10 pT of the "
                "selected particles needs pT > 0."
            )
        if self.eta_min >= self.eta_max:
            raise ConfigError(
                f"FiducialCuts needs eta_min < eta_max, got eta_min={self.eta_min!r} and "
                f"eta_max={self.eta_max!r}; swap them or widen the range."
            )

    def mask(self, particles: ak.Array) -> ak.Array:
        """Boolean mask (same jagged structure as ``particles``) of fiducial particles."""
        _require_fields(particles, ("pt", "eta"), "particles")
        return (
            (particles.pt > self.pt_min)
            & (particles.eta > self.eta_min)
            & (particles.eta < self.eta_max)
        )


@dataclass(frozen=True)
class KinematicRegion:
    """Event-level DIS phase space in electron-method Q² and y.

    The default is the detector-level selection of Sec. 3 of arXiv:2503.20753
    (Q² > 150 GeV², 0.08 < y < 0.7); applied to particle-level quantities it is the region
    in which unfolded results are shown, since outside it the data carry no information.

    Args:
        q2_min: Lower Q² edge in GeV² (strict).
        y_min, y_max: Inelasticity range (strict).
    """

    q2_min: float = 150.0
    y_min: float = 0.08
    y_max: float = 0.7

    def __post_init__(self) -> None:
        if not (self.q2_min >= 0 and 0 <= self.y_min < self.y_max <= 1):
            raise ConfigError(
                f"KinematicRegion needs q2_min >= 0 and 0 <= y_min < y_max <= 1; got "
                f"q2_min={self.q2_min!r}, y_min={self.y_min!r}, y_max={self.y_max!r}."
            )

    def mask(self, kinematics: ak.Array) -> np.ndarray:
        """``True`` for events whose ``Q2`` and ``y`` lie in the region (``None``: outside)."""
        _require_fields(kinematics, ("Q2", "y"), "event kinematics")
        q2, y = kinematics.Q2, kinematics.y
        inside = (q2 > self.q2_min) & (y > self.y_min) & (y < self.y_max)
        return ak.to_numpy(ak.fill_none(inside, False)).astype(bool)


def select_fiducial(particles: ak.Array, cuts: FiducialCuts | None = None) -> ak.Array:
    """Keep the particles inside the fiducial region, event by event.

    Args:
        particles: Jagged array of particle records with at least ``pt`` and ``eta``.
        cuts: Fiducial region; ``FiducialCuts()`` (pT > 0.1 GeV, −1.5 < η < 2.75) if None.

    Returns:
        The same records, with the particles outside the region removed.
    """
    cuts = FiducialCuts() if cuts is None else cuts
    return particles[cuts.mask(particles)]


def wrap_phi(dphi: ak.Array | np.ndarray | float) -> ak.Array | np.ndarray | float:
    """Wrap an azimuthal angle difference into the half-open interval (−π, π].

    Args:
        dphi: Angles in radians (any awkward or NumPy array, or a scalar).

    Returns:
        ``dphi`` shifted by a multiple of 2π into (−π, π]; +π stays +π and −π becomes +π.
    """
    wrapped = np.pi - np.mod(np.pi - dphi, 2.0 * np.pi)
    # np.mod can round up to exactly 2π for tiny negative arguments: map −π back to +π
    return wrapped + 2.0 * np.pi * (wrapped <= -np.pi)


def electron_kinematics(electron: ak.Array, beams: BeamConfig = HERA) -> ak.Array:
    """Electron-method DIS kinematics, one record per event.

    Implements Q² = 2 E_e E′ (1 + cos θ), y = 1 − E′/(2 E_e) (1 − cos θ), x = Q²/(s y)
    with θ measured from the +z (proton) direction and cos θ = tanh η (massless electron).

    Args:
        electron: One (optional) electron record per event with ``eta``, ``phi`` and
            ``E`` (energy E′ in GeV), e.g. ``ak.firsts(events.RecoElectron)``. ``None``
            marks an event without a scattered electron.
        beams: Beam energies (``HERA`` by default).

    Returns:
        Records ``{Q2, y, x, eta_e, phi_e}`` (option type): ``None`` where the event has
        no electron. ``x`` alone is also ``None`` where ``y <= 0`` (a detector-level
        electron carrying more than the kinematically allowed energy), since x = Q²/(s y)
        is undefined there; such events lie outside any DIS selection.
    """
    _require_fields(electron, ("eta", "phi", "E"), "electron")
    has_electron = _present(electron)
    # compute on placeholder values where there is no electron, then mask those events
    eta = ak.fill_none(electron.eta, 0.0)
    phi = ak.fill_none(electron.phi, 0.0)
    energy = ak.fill_none(electron.E, 0.0)
    q2, y, x = electron_method(eta, energy, beams)
    x = ak.mask(x, y > 0)
    record = ak.zip({"Q2": q2, "y": y, "x": x, "eta_e": eta, "phi_e": phi})
    return ak.mask(record, has_electron)


def electron_method(eta, energy, beams: BeamConfig = HERA):
    """Q², y and x of the electron method on plain arrays (no missing electrons).

    The formulas of :func:`electron_kinematics`, for NumPy (or awkward) arrays of the
    electron pseudorapidity and energy E′: Q² = 2 E_e E′ (1 + tanh η),
    y = 1 − E′/(2 E_e) (1 − tanh η), x = Q²/(s y). ``x`` is returned for every entry;
    it is meaningless where ``y <= 0`` (computed with y = 1 there): mask it with
    ``y > 0``.

    Returns:
        ``(Q2, y, x)``.
    """
    cos_theta = np.tanh(eta)
    e_beam = beams.electron_energy
    q2 = 2.0 * e_beam * energy * (1.0 + cos_theta)
    y = 1.0 - energy / (2.0 * e_beam) * (1.0 - cos_theta)
    where = np.where if isinstance(y, np.ndarray) else ak.where
    x = q2 / (beams.s * where(y > 0, y, 1.0))
    return q2, y, x


def particle_features(particles: ak.Array, kinematics: ak.Array) -> ak.Array:
    """Per-particle features of Sec. 3 relative to the scattered electron.

    Args:
        particles: Jagged particle records with ``pt``, ``eta``, ``phi``.
        kinematics: Output of :func:`electron_kinematics` for the same events.

    Returns:
        Jagged records, one per particle: ``log_pt`` = log10 pT, ``deta`` = η − η_e,
        ``dphi`` = φ − φ_e wrapped to (−π, π] and ``log_pt_over_Q`` = log10(pT/Q).
        Events without an electron (``kinematics`` is None) get an empty list: their
        features relative to the electron are undefined. Particles need pT > 0 (apply
        :func:`select_fiducial` first).
    """
    _require_fields(particles, ("pt", "eta", "phi"), "particles")
    _require_fields(kinematics, ("Q2", "eta_e", "phi_e"), "kinematics")
    has_electron = _present(kinematics)
    # events without an electron: compute with placeholders, then drop their particles
    eta_e = ak.fill_none(kinematics.eta_e, 0.0)
    phi_e = ak.fill_none(kinematics.phi_e, 0.0)
    q = np.sqrt(ak.fill_none(kinematics.Q2, 1.0))
    log_pt = np.log10(particles.pt)
    features = ak.zip(
        {
            "log_pt": log_pt,
            "deta": particles.eta - eta_e,
            "dphi": wrap_phi(particles.phi - phi_e),
            "log_pt_over_Q": log_pt - np.log10(q),
        }
    )
    keep, _ = ak.broadcast_arrays(has_electron, particles.pt)
    return features[keep]


def _present(records: ak.Array) -> ak.Array:
    """Boolean per event: the (optional) record is there."""
    layout = ak.to_layout(records)
    if layout.is_option or layout.is_indexed:
        return ~ak.is_none(records, axis=0)
    return ak.Array(np.ones(len(records), dtype=bool))


def _require_fields(array: ak.Array, fields: tuple[str, ...], what: str) -> None:
    available = ak.fields(array)
    missing = [f for f in fields if f not in available]
    if missing:
        raise MissingBranchError(
            f"{what} records lack the field(s) {missing}; available fields: "
            f"{sorted(available)}. Pass records with {list(fields)} (e.g. a collection read "
            "with hepnnlr.schema.HepnnlrSchema)."
        )
