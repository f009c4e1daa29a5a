"""Parametric H1-like detector emulation, vectorised over a whole event array.

Each stable visible particle is reconstructed as one particle-flow object, or lost:

* **Charged tracks** (every charged particle; the scattered electron is handled apart):
  the curvature κ ∝ 1/pT is smeared, κ′ = κ (1 + σ z) with σ(pT)/pT = a·pT ⊕ b (z a
  standard normal), so pT_gen/pT_reco = 1 + σ z exactly. Track angles are kept (the H1
  tracker's milliradian resolution is negligible here) and so is the particle's mass,
  E′ = √(p′² + m²). Efficiency ``track_efficiency`` above ``track_low_pt`` and
  ``track_efficiency_low_pt`` below it (true pT). Class code ±211 (sign of the charge),
  with perfect lepton identification: ±11 and ±13 for electrons and muons from decays
  (sign as for PDG ids: 11 for e⁻).
* **Photon clusters** (PDG id 22, mostly π⁰ → γγ): ECAL energy resolution
  σ(E)/E = s/√E ⊕ c, θ and φ smeared by ``ecal_angular_resolution``; lost below
  ``ecal_threshold`` (measured energy). Class code 22.
* **Neutral-hadron clusters** (n, n̄, K⁰_L): HCAL resolution s/√E ⊕ c, angles smeared by
  ``hcal_angular_resolution``, lost below ``hcal_threshold`` (measured energy) and with
  probability 1 − ``hcal_efficiency``. Class code 130.

A cluster keeps the mass of its particle, p′ = √(E′² − m²); a cluster whose smeared energy
falls below its mass is lost. Every reconstructed object must then pass the acceptance
``pt_min``, ``eta_min < η < eta_max`` in reconstructed quantities. ``RecoPart`` keeps the
order of ``GenPart``: each reconstructed object comes from one particle.

The **scattered electron** is measured in the calorimeters (LAr and SpaCal): energy
resolution s/√E ⊕ c, θ and φ resolutions, efficiency ``electron_efficiency`` and the
acceptance ``electron_eta_min < η < electron_eta_max`` (default −3 < η < 2.75: the SpaCal
reaches back to θ ≈ 177°, i.e. η ≈ −3.3, which the cut trims to keep clear of the beam
pipe; forward it stops where the tracking acceptance of the analysis does).

Default values follow published H1 performance: tracks σ(pT)/pT = 0.2%·pT ⊕ 1.5%; LAr
electromagnetic 11%/√E ⊕ 1%; LAr hadronic 50%/√E ⊕ 2%; electron angles to 2 mrad.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np
from numpy.typing import NDArray

from hepnnlr.errors import ConfigError, MissingBranchError, NonFiniteInputError
from hepnnlr.samples.selection import pass_gen, pass_reco

__all__ = ["DetectorConfig", "reconstruct_particles", "simulate_detector", "with_detector_fields"]

_RESOLUTIONS = (
    "track_resolution_a",
    "track_resolution_b",
    "ecal_stochastic",
    "ecal_constant",
    "ecal_angular_resolution",
    "hcal_stochastic",
    "hcal_constant",
    "hcal_angular_resolution",
    "electron_stochastic",
    "electron_constant",
    "electron_theta_resolution",
    "electron_phi_resolution",
)
_EFFICIENCIES = (
    "track_efficiency",
    "track_efficiency_low_pt",
    "hcal_efficiency",
    "electron_efficiency",
)
_THRESHOLDS = ("pt_min", "track_low_pt", "ecal_threshold", "hcal_threshold")


@dataclass(frozen=True)
class DetectorConfig:
    """Settings of the parametric detector (H1-like defaults; energies in GeV).

    Attributes:
        pt_min: reconstructed-object pT threshold.
        eta_min: lower η edge of the particle acceptance.
        eta_max: upper η edge of the particle acceptance.
        track_efficiency: tracking efficiency for true pT ≥ ``track_low_pt``.
        track_efficiency_low_pt: tracking efficiency below ``track_low_pt``.
        track_low_pt: pT where the tracking efficiency steps down.
        track_resolution_a: a in σ(pT)/pT = a·pT ⊕ b, per GeV.
        track_resolution_b: b in σ(pT)/pT = a·pT ⊕ b.
        ecal_stochastic: s in the photon σ(E)/E = s/√E ⊕ c, √GeV.
        ecal_constant: c in the photon resolution.
        ecal_threshold: photon cluster energy threshold.
        ecal_angular_resolution: σ of θ and φ of photon clusters, rad.
        hcal_stochastic: s in the neutral-hadron σ(E)/E = s/√E ⊕ c, √GeV.
        hcal_constant: c in the neutral-hadron resolution.
        hcal_threshold: neutral-hadron cluster energy threshold.
        hcal_efficiency: probability that a neutral hadron above threshold is found.
        hcal_angular_resolution: σ of θ and φ of neutral-hadron clusters, rad.
        electron_stochastic: s in the electron σ(E)/E = s/√E ⊕ c, √GeV.
        electron_constant: c in the electron resolution.
        electron_theta_resolution: σ of the electron polar angle, rad.
        electron_phi_resolution: σ of the electron azimuth, rad.
        electron_efficiency: electron identification efficiency.
        electron_eta_min: lower η edge of the electron acceptance.
        electron_eta_max: upper η edge of the electron acceptance.
    """

    pt_min: float = 0.1
    eta_min: float = -1.5
    eta_max: float = 2.75
    track_efficiency: float = 0.95
    track_efficiency_low_pt: float = 0.85
    track_low_pt: float = 0.3
    track_resolution_a: float = 0.002
    track_resolution_b: float = 0.015
    ecal_stochastic: float = 0.11
    ecal_constant: float = 0.01
    ecal_threshold: float = 0.2
    ecal_angular_resolution: float = 0.005
    hcal_stochastic: float = 0.50
    hcal_constant: float = 0.02
    hcal_threshold: float = 1.0
    hcal_efficiency: float = 0.90
    hcal_angular_resolution: float = 0.02
    electron_stochastic: float = 0.11
    electron_constant: float = 0.01
    electron_theta_resolution: float = 0.002
    electron_phi_resolution: float = 0.002
    electron_efficiency: float = 0.98
    electron_eta_min: float = -3.0
    electron_eta_max: float = 2.75

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ConfigError(f"DetectorConfig.{f.name} must be a number, got {value!r}.")
            if math.isnan(value):
                raise ConfigError(f"DetectorConfig.{f.name} is NaN; give a number.")
        for name in _RESOLUTIONS + _THRESHOLDS:
            value = getattr(self, name)
            if not 0.0 <= value < math.inf:
                raise ConfigError(
                    f"DetectorConfig.{name} must be finite and >= 0, got {value}; use 0 "
                    "to switch the effect off."
                )
        for name in _EFFICIENCIES:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(
                    f"DetectorConfig.{name} is an efficiency and must lie in [0, 1], got {value}."
                )
        for low, high in (("eta_min", "eta_max"), ("electron_eta_min", "electron_eta_max")):
            if not getattr(self, low) < getattr(self, high):
                raise ConfigError(
                    f"DetectorConfig.{low} ({getattr(self, low)}) must be smaller than "
                    f"{high} ({getattr(self, high)}); swap them."
                )

    @classmethod
    def perfect(cls, *, acceptance: bool = True) -> DetectorConfig:
        """A detector without smearing, thresholds or inefficiency.

        Args:
            acceptance: keep the default pT and η acceptance cuts (True) or accept
                every particle and electron (False).

        Returns:
            The configuration; with it every reconstructed object equals its particle
            up to float rounding.
        """
        config = cls()
        changes: dict[str, float] = {name: 0.0 for name in _RESOLUTIONS + _THRESHOLDS}
        changes.update({name: 1.0 for name in _EFFICIENCIES})
        if acceptance:
            changes["pt_min"] = config.pt_min
        else:
            changes.update(
                eta_min=-math.inf,
                eta_max=math.inf,
                electron_eta_min=-math.inf,
                electron_eta_max=math.inf,
            )
        return dataclasses.replace(config, **changes)


def check_object_detector(config: object, probabilities: Iterable[str]) -> None:
    """Validate an object-level detector config (tt̄, ττ): every field a finite number >= 0,
    the fields named in ``probabilities`` also <= 1. Errors name the class and the field."""
    name = type(config).__name__
    probabilities = set(probabilities)
    for field in dataclasses.fields(config):  # type: ignore[arg-type]
        value = getattr(config, field.name)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError(f"{name}.{field.name} must be a number, got {value!r}.")
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"{name}.{field.name} must be finite and >= 0, got {value!r}.")
        if field.name in probabilities and value > 1:
            raise ConfigError(
                f"{name}.{field.name} is a probability, got {value!r}; give a value in [0, 1]."
            )


def check_detector_seed(seed: object) -> int:
    """The detector seed as an int; a clear error for anything but a non-negative integer."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}.")
    return int(seed)


def with_detector_fields(events: ak.Array, fields: Mapping[str, Any]) -> ak.Array:
    """``events`` (one record per event) with ``fields`` added after its own, or replacing
    those of the same name: how every detector of hepnnlr returns its gen events."""
    return ak.zip({**{name: events[name] for name in ak.fields(events)}, **fields}, depth_limit=1)


def _column(array: ak.Array, field: str, collection: str = "GenPart") -> NDArray[np.float64]:
    values = ak.to_numpy(array[field]).astype(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        raise NonFiniteInputError(
            f"{collection}.{field} has {int(bad.sum())} non-finite values (first: "
            f"{values[bad][0]}); the generator-level events are corrupt, regenerate them."
        )
    return values


def _theta_of_eta(eta: NDArray[np.float64]) -> NDArray[np.float64]:
    return 2.0 * np.arctan(np.exp(-eta))


def _eta_of_theta(theta: NDArray[np.float64]) -> NDArray[np.float64]:
    inside = (theta > 0.0) & (theta < np.pi)
    safe = np.where(inside, theta, 0.5 * np.pi)
    return np.where(inside, -np.log(np.tan(0.5 * safe)), np.nan)


def _wrap_phi(phi: NDArray[np.float64]) -> NDArray[np.float64]:
    # Leave angles already in range untouched (a float32 phi can exceed pi by one ulp).
    inside = np.abs(phi) <= np.pi + 1e-6
    return np.where(inside, phi, np.arctan2(np.sin(phi), np.cos(phi)))


def _calo_resolution(
    energy: NDArray[np.float64], stochastic: float, constant: float
) -> NDArray[np.float64]:
    with np.errstate(divide="ignore"):
        return np.hypot(stochastic / np.sqrt(energy), constant)


def _reconstruct_particles(
    particles: ak.Array, config: DetectorConfig, rng: np.random.Generator
) -> ak.Array:
    counts = ak.to_numpy(ak.num(particles, axis=1))
    flat = ak.flatten(particles, axis=1)
    pt = _column(flat, "pt")
    eta = _column(flat, "eta")
    phi = _column(flat, "phi")
    energy = _column(flat, "E")
    pdg = ak.to_numpy(flat["pdgId"]).astype(np.int64)
    charge = ak.to_numpy(flat["charge"]).astype(np.int64)
    n = pt.size

    # Same draws in the same order whatever the particle classes: reproducible.
    u_eff = rng.random(n)
    z_energy = rng.standard_normal(n)
    z_theta = rng.standard_normal(n)
    z_phi = rng.standard_normal(n)

    p = pt * np.cosh(eta)
    mass2 = np.maximum(energy * energy - p * p, 0.0)
    charged = charge != 0
    photon = ~charged & (pdg == 22)

    # Tracks: smeared curvature, exact direction, true mass.
    track_sigma = np.hypot(config.track_resolution_a * pt, config.track_resolution_b)
    curvature_scale = 1.0 + track_sigma * z_energy
    with np.errstate(divide="ignore"):
        track_pt = np.where(curvature_scale > 0.0, pt / curvature_scale, 0.0)
    track_eff = np.where(
        pt < config.track_low_pt, config.track_efficiency_low_pt, config.track_efficiency
    )
    track_ok = (curvature_scale > 0.0) & (u_eff < track_eff)

    # Clusters: smeared energy and angles, true mass.
    stochastic = np.where(photon, config.ecal_stochastic, config.hcal_stochastic)
    constant = np.where(photon, config.ecal_constant, config.hcal_constant)
    angle_sigma = np.where(photon, config.ecal_angular_resolution, config.hcal_angular_resolution)
    threshold = np.where(photon, config.ecal_threshold, config.hcal_threshold)
    cluster_eff = np.where(photon, 1.0, config.hcal_efficiency)
    cluster_e = energy * (1.0 + _calo_resolution(energy, stochastic, constant) * z_energy)
    theta = _theta_of_eta(eta) + angle_sigma * z_theta
    cluster_eta = _eta_of_theta(theta)
    cluster_p = np.sqrt(np.maximum(cluster_e * cluster_e - mass2, 0.0))
    cluster_ok = (
        np.isfinite(cluster_eta)
        & (cluster_e >= threshold)
        & (cluster_p > 0.0)
        & (u_eff < cluster_eff)
    )
    cluster_pt = np.where(cluster_ok, cluster_p * np.sin(np.where(cluster_ok, theta, 1.0)), 0.0)

    reco_pt = np.where(charged, track_pt, cluster_pt)
    reco_eta = np.where(charged, eta, np.where(cluster_ok, cluster_eta, 0.0))
    reco_phi = np.where(charged, phi, _wrap_phi(phi + angle_sigma * z_phi))
    track_p = track_pt * np.cosh(eta)
    reco_e = np.where(charged, np.sqrt(track_p * track_p + mass2), cluster_e)
    found = np.where(charged, track_ok, cluster_ok)
    keep = (
        found
        & (reco_pt > config.pt_min)
        & (reco_eta > config.eta_min)
        & (reco_eta < config.eta_max)
    )

    sign = np.sign(charge)
    abs_pdg = np.abs(pdg)
    track_code = np.where(np.isin(abs_pdg, (11, 13)), -sign * abs_pdg, sign * 211)
    code = np.where(charged, track_code, np.where(photon, 22, 130))

    event_of = np.repeat(np.arange(counts.size), counts)
    new_counts = np.bincount(event_of[keep], minlength=counts.size)
    columns = {
        "pt": reco_pt[keep].astype(np.float32),
        "eta": reco_eta[keep].astype(np.float32),
        "phi": reco_phi[keep].astype(np.float32),
        "E": reco_e[keep].astype(np.float32),
        "pdgId": code[keep].astype(np.int32),
        "charge": charge[keep].astype(np.int8),
    }
    return ak.unflatten(ak.zip(columns, depth_limit=1), new_counts)


def reconstruct_particles(
    particles: ak.Array,
    config: DetectorConfig | None = None,
    *,
    seed: int | np.random.Generator,
) -> ak.Array:
    """Reconstruct a jagged collection of stable particles as particle-flow objects.

    The particle part of :func:`simulate_detector` on its own (tracks, photon clusters,
    neutral-hadron clusters; see the module docstring), for samples without a scattered
    electron, such as e+e- → Z → hadrons. The particle acceptance is
    ``config.pt_min``, ``config.eta_min`` and ``config.eta_max``; the electron settings
    of ``config`` are not used.

    Args:
        particles: jagged records with ``pt``, ``eta``, ``phi``, ``E``, ``pdgId`` and
            ``charge`` (one list per event), e.g. a ``GenPart`` collection.
        config: detector settings; ``DetectorConfig()`` if not given.
        seed: integer seed of a NumPy ``default_rng``, or a ``Generator`` to draw from
            (four draws per particle, in the order of the flattened particles).

    Returns:
        Jagged records ``pt, eta, phi, E`` (float32), ``pdgId`` (int32 class code) and
        ``charge`` (int8), one list per event.

    Raises:
        ConfigError: if ``config`` is not a DetectorConfig.
        MissingBranchError: if a particle field is missing.
        NonFiniteInputError: if a particle has a non-finite pt, eta, phi or E.
    """
    config = DetectorConfig() if config is None else config
    if not isinstance(config, DetectorConfig):
        raise ConfigError(
            f"config must be a DetectorConfig, got {type(config).__name__}; build one with "
            "DetectorConfig(...)."
        )
    missing = [
        f for f in ("pt", "eta", "phi", "E", "pdgId", "charge") if f not in ak.fields(particles)
    ]
    if missing:
        raise MissingBranchError(
            f"particles lack the field(s) {missing} (they have {ak.fields(particles)}); pass "
            "a GenPart-like collection with pt, eta, phi, E, pdgId and charge."
        )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return _reconstruct_particles(particles, config, rng)


def _reconstruct_electron(
    electrons: ak.Array, config: DetectorConfig, rng: np.random.Generator
) -> ak.Array:
    n_events = len(electrons)
    u_eff = rng.random(n_events)
    z_energy = rng.standard_normal(n_events)
    z_theta = rng.standard_normal(n_events)
    z_phi = rng.standard_normal(n_events)

    has = ak.to_numpy(ak.num(electrons, axis=1)) > 0
    first = ak.firsts(electrons)
    filled = ak.zip(
        {
            "pt": ak.fill_none(first.pt, 1.0),
            "eta": ak.fill_none(first.eta, 0.0),
            "phi": ak.fill_none(first.phi, 0.0),
            "E": ak.fill_none(first.E, 1.0),
        }
    )
    pt, eta, phi, energy = (_column(filled, f, "GenElectron") for f in ("pt", "eta", "phi", "E"))

    p = pt * np.cosh(eta)
    mass2 = np.maximum(energy * energy - p * p, 0.0)
    sigma = _calo_resolution(energy, config.electron_stochastic, config.electron_constant)
    reco_e = energy * (1.0 + sigma * z_energy)
    theta = _theta_of_eta(eta) + config.electron_theta_resolution * z_theta
    reco_eta = _eta_of_theta(theta)
    reco_phi = _wrap_phi(phi + config.electron_phi_resolution * z_phi)
    reco_p = np.sqrt(np.maximum(reco_e * reco_e - mass2, 0.0))
    keep = (
        has
        & (u_eff < config.electron_efficiency)
        & np.isfinite(reco_eta)
        & (reco_p > 0.0)
        & (reco_eta > config.electron_eta_min)
        & (reco_eta < config.electron_eta_max)
    )
    reco_pt = reco_p * np.sin(np.where(keep, theta, 1.0))
    columns = {
        "pt": reco_pt[keep],
        "eta": reco_eta[keep],
        "phi": reco_phi[keep],
        "E": reco_e[keep],
    }
    return ak.unflatten(ak.zip(columns, depth_limit=1), keep.astype(np.int64))


def simulate_detector(
    gen_events: ak.Array,
    config: DetectorConfig | None = None,
    *,
    seed: int | np.random.Generator,
) -> ak.Array:
    """Reconstruct generator-level events with the parametric detector.

    Args:
        gen_events: output of :func:`hepnnlr.samples.generate_dis` (needs ``GenElectron``
            and ``GenPart``).
        config: detector settings; ``DetectorConfig()`` if not given.
        seed: integer seed of a NumPy ``default_rng``, or a ``Generator`` to draw from.

    Returns:
        The input fields plus ``RecoElectron`` (list of 0 or 1 records ``pt, eta, phi,
        E``, float64), ``RecoPart`` (list of records ``pt, eta, phi, E`` float32,
        ``pdgId`` int32 class code, ``charge`` int8), ``pass_gen`` and ``pass_reco``
        (bool, see :mod:`hepnnlr.samples.selection`).

    Raises:
        MissingBranchError: if ``GenElectron`` or ``GenPart`` is missing.
        ConfigError: if ``config`` is not a DetectorConfig.

    Example:
        >>> reco = simulate_detector(gen, DetectorConfig.perfect(), seed=1)  # doctest: +SKIP
    """
    config = DetectorConfig() if config is None else config
    if not isinstance(config, DetectorConfig):
        raise ConfigError(
            f"config must be a DetectorConfig, got {type(config).__name__}; build one with "
            "DetectorConfig(...)."
        )
    for name in ("GenElectron", "GenPart"):
        if name not in ak.fields(gen_events):
            raise MissingBranchError(
                f"gen_events has no field {name!r} (it has {ak.fields(gen_events)}); "
                "produce it with hepnnlr.samples.generate_dis."
            )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    reco_part = _reconstruct_particles(gen_events["GenPart"], config, rng)
    reco_electron = _reconstruct_electron(gen_events["GenElectron"], config, rng)
    events = with_detector_fields(
        gen_events, {"RecoElectron": reco_electron, "RecoPart": reco_part}
    )
    events = ak.with_field(events, pass_gen(events), "pass_gen")
    return ak.with_field(events, pass_reco(events), "pass_reco")
