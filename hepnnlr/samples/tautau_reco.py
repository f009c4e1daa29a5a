"""Detector level and ROOT file of the ττ sample; the τ_h energy scale z is the nuisance.

Reference: B. Sluijter, "Classifiers versus Normalizing Flows for uncertainty-aware
estimation of a signal ratio", MSc thesis, Leiden University 2024, hdl:1887/4104579.

hdl:1887/4104579 (Sec. 3.1.2) takes the hadronic-τ energy scale (TES) as the
nuisance parameter z, "applied afterward" to simulated events at nominal TES 1.0. hepnnlr
applies it inside a parametric detector at the level of the analysis objects:

* **Reco τ_h** (``RecoTauh``, 0 or 1): the visible hadronic τ (``GenTauh``) within
  |η| < ``tau_eta_max``, identified with probability ``tau_efficiency``; its whole
  four-momentum (pT, E, hence mass) is scaled by ``z × tau_response × max(1 + σ/E · g, 0)``
  with g ~ N(0, 1) and σ/E = a/√E ⊕ c (``tau_stochastic``, ``tau_constant``, evaluated at
  the true visible energy); η, φ, charge and ``nProng`` unchanged. Scaling the τ_h
  four-vector by z scales m_vis(τ_h, ℓ) by √z up to mass terms,
  m_vis² = z² m_τh² + m_ℓ² + z (m_vis(1)² − m_τh² − m_ℓ²), and pT(ℓ)/pT(τ_h) by 1/z.
* **Reco lepton** (``RecoLepton``, 0 or 1): the e or μ of ``GenLepton`` within
  |η| < ``lepton_eta_max``, found with probability ``electron_efficiency`` or
  ``muon_efficiency``; pT smeared by a Gaussian of relative width ``electron_resolution``
  or ``muon_resolution`` (η, φ unchanged, E recomputed with the lepton mass).
* **Missing transverse momentum** (``MET_pt``, ``MET_phi``): the generator MET (the sum
  of the neutrinos, ``GenMET``) minus the mismeasurement of the reconstructed τ_h and
  lepton (reco − gen p_T; an object that is not reconstructed is measured as part of the
  recoil with its true momentum), plus a Gaussian resolution term
  σ_x = σ_y = ``met_resolution`` · √``GenSumEt``. A larger z therefore lowers the MET
  along the τ_h, as in a real detector.
* ``tau_energy_scale``: the z of each event (one value per sample, or drawn per event
  uniformly in a range, e.g. to train models parameterised in z).

Random numbers come from ``numpy.random.default_rng((seed, 0x7A7A))`` in a fixed order
that does not depend on z (and from ``(seed, 0x7A7B)`` for per-event z draws), so two
samples made from the same generator events with the same seed and different z are paired
event by event: only the τ_h scale (and the MET through it) differs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.samples.detector import (
    check_detector_seed,
    check_object_detector,
    with_detector_fields,
)
from hepnnlr.samples.dis import setting_lines
from hepnnlr.samples.rootio import DEFAULT_TREE, required_branches, write_typed_tree
from hepnnlr.samples.tautau import TAUTAU_BLOCK_SIZE, TauTauConfig, generate_tautau

__all__ = [
    "TAUTAU_COLLECTION_FIELDS",
    "TAUTAU_FLAT_BRANCHES",
    "TAUTAU_REQUIRED_BRANCHES",
    "TAU_ENERGY_SCALE_RANGE",
    "TauTauDetectorConfig",
    "make_tautau_sample",
    "simulate_tautau_detector",
    "write_tautau_events",
]

TAU_ENERGY_SCALE_RANGE = (0.5, 1.5)
"""Allowed τ_h energy scales z (open interval); hdl:1887/4104579 uses 0.9, 1.0,
1.1."""

_ELECTRON_MASS = 0.51099895e-3
_MUON_MASS = 0.1056583755
_DETECTOR_STREAM = 0x7A7A
_SCALE_STREAM = 0x7A7B


@dataclass(frozen=True)
class TauTauDetectorConfig:
    """Object-level detector of the ττ sample (rules in the module docstring).

    Attributes:
        tau_eta_max: τ_h acceptance |η| (2.3 as in ATLAS/CMS τ_h identification).
        tau_efficiency: τ_h identification probability within the acceptance.
        tau_response: mean reco/true visible τ_h energy at z = 1.
        tau_stochastic: a of σ/E = a/√E ⊕ c of the τ_h, in √GeV.
        tau_constant: c of σ/E of the τ_h.
        lepton_eta_max: e and μ acceptance |η|.
        electron_efficiency, muon_efficiency: reconstruction probabilities.
        electron_resolution, muon_resolution: relative Gaussian pT resolutions.
        met_resolution: a of σ_{x,y} = a √ΣE_T of the MET, in √GeV.
    """

    tau_eta_max: float = 2.3
    tau_efficiency: float = 0.7
    tau_response: float = 1.0
    tau_stochastic: float = 0.5
    tau_constant: float = 0.05
    lepton_eta_max: float = 2.5
    electron_efficiency: float = 0.9
    muon_efficiency: float = 0.95
    electron_resolution: float = 0.02
    muon_resolution: float = 0.015
    met_resolution: float = 0.5

    def __post_init__(self) -> None:
        check_object_detector(self, ("tau_efficiency", "electron_efficiency", "muon_efficiency"))
        if self.tau_response == 0:
            raise ConfigError("TauTauDetectorConfig.tau_response must be > 0, got 0.")


TAUTAU_FLAT_BRANCHES: dict[str, np.dtype] = {
    "event": np.dtype(np.uint64),
    "is_signal": np.dtype(np.bool_),
    "weight": np.dtype(np.float64),
    "gen_mtautau": np.dtype(np.float64),
    "tau_energy_scale": np.dtype(np.float64),
    "GenMET_pt": np.dtype(np.float64),
    "GenMET_phi": np.dtype(np.float64),
    "GenSumEt": np.dtype(np.float64),
    "MET_pt": np.dtype(np.float64),
    "MET_phi": np.dtype(np.float64),
}
"""One value per event: name → dtype."""

_F64, _I8 = np.dtype(np.float64), np.dtype(np.int8)
_P4 = {"pt": _F64, "eta": _F64, "phi": _F64, "E": _F64, "charge": _I8}
_LEPTON = {**_P4, "pdgId": np.dtype(np.int32)}
_TAUH = {**_P4, "nProng": _I8}
TAUTAU_COLLECTION_FIELDS: dict[str, dict[str, np.dtype]] = {
    "GenLepton": _LEPTON,
    "GenTauh": _TAUH,
    "RecoLepton": _LEPTON,
    "RecoTauh": _TAUH,
}
"""Jagged collections (0 or 1 entry each) of the ττ file: name → {field → dtype}."""

TAUTAU_REQUIRED_BRANCHES: tuple[str, ...] = required_branches(
    TAUTAU_FLAT_BRANCHES, TAUTAU_COLLECTION_FIELDS
)
"""Every branch a ττ event file has."""


def _check_scale(value: object, what: str) -> float:
    low, high = TAU_ENERGY_SCALE_RANGE
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.floating | np.integer)
        or not math.isfinite(float(value))
        or not low < float(value) < high
    ):
        raise ConfigError(
            f"{what} must be a number in ({low}, {high}), got {value!r}; the nominal τ_h "
            "energy scale is 1.0 (hdl:1887/4104579 uses 0.9, 1.0 and 1.1)."
        )
    return float(value)


def _event_scales(tau_energy_scale: float | tuple[float, float], n: int, seed: int) -> np.ndarray:
    if isinstance(tau_energy_scale, tuple | list):
        if len(tau_energy_scale) != 2:
            raise ConfigError(
                f"tau_energy_scale range must be (low, high), got {tau_energy_scale!r}."
            )
        low = _check_scale(tau_energy_scale[0], "tau_energy_scale low edge")
        high = _check_scale(tau_energy_scale[1], "tau_energy_scale high edge")
        if not low < high:
            raise ConfigError(f"tau_energy_scale range ({low}, {high}) is empty; give low < high.")
        return np.random.default_rng([seed, _SCALE_STREAM]).uniform(low, high, n)
    return np.full(n, _check_scale(tau_energy_scale, "tau_energy_scale"))


def _require_gen(events: ak.Array) -> None:
    needed = ("event", "is_signal", "weight", "gen_mtautau", "GenMET_pt", "GenMET_phi")
    for name in (*needed, "GenSumEt", "GenLepton", "GenTauh"):
        if name not in ak.fields(events):
            raise MissingBranchError(
                f"simulate_tautau_detector needs the field {name!r}; the events have "
                f"{sorted(ak.fields(events))}. Pass the output of generate_tautau."
            )


def simulate_tautau_detector(
    events: ak.Array,
    config: TauTauDetectorConfig | None = None,
    *,
    tau_energy_scale: float | tuple[float, float] = 1.0,
    seed: int,
) -> ak.Array:
    """Add ``RecoTauh``, ``RecoLepton``, ``MET_*`` and ``tau_energy_scale`` to gen events.

    Args:
        events: output of :func:`hepnnlr.samples.tautau.generate_tautau`.
        config: detector settings; ``TauTauDetectorConfig()`` if not given.
        tau_energy_scale: the nuisance z, one value for the sample, or ``(low, high)`` to
            draw one per event uniformly; within :data:`TAU_ENERGY_SCALE_RANGE`.
        seed: non-negative integer seed of the detector random numbers.

    Returns:
        ``events`` with the new fields (rules in the module docstring).

    Raises:
        ConfigError: for a bad config, scale or seed.
        MissingBranchError: if ``events`` lack a generator-level field.
    """
    config = TauTauDetectorConfig() if config is None else config
    if not isinstance(config, TauTauDetectorConfig):
        raise ConfigError(
            f"detector must be a TauTauDetectorConfig or None, got {type(config).__name__}."
        )
    seed = check_detector_seed(seed)
    _require_gen(events)
    n = len(events)
    scale = _event_scales(tau_energy_scale, n, seed)
    rng = np.random.default_rng([seed, _DETECTOR_STREAM])
    # fixed draw order, independent of z: tau smearing, tau id, lepton smearing, lepton id,
    # MET x, MET y (one number per event each: GenTauh and GenLepton have one entry)
    g_tau, u_tau, g_lep, u_lep, g_x, g_y = (
        rng.standard_normal(n),
        rng.random(n),
        rng.standard_normal(n),
        rng.random(n),
        rng.standard_normal(n),
        rng.standard_normal(n),
    )

    tau = events.GenTauh[:, 0]
    t_pt, t_eta, t_phi, t_e = (
        ak.to_numpy(tau[f]).astype(np.float64) for f in ("pt", "eta", "phi", "E")
    )
    rel = np.hypot(config.tau_stochastic / np.sqrt(np.maximum(t_e, 1e-9)), config.tau_constant)
    t_scale = scale * config.tau_response * np.maximum(1.0 + rel * g_tau, 0.0)
    t_found = (np.abs(t_eta) < config.tau_eta_max) & (u_tau < config.tau_efficiency) & (t_scale > 0)
    reco_tau = ak.zip(
        {
            "pt": t_pt * t_scale,
            "eta": t_eta,
            "phi": t_phi,
            "E": t_e * t_scale,
            "charge": ak.to_numpy(tau.charge),
            "nProng": ak.to_numpy(tau.nProng),
        }
    )

    lep = events.GenLepton[:, 0]
    l_pt, l_eta, l_phi = (ak.to_numpy(lep[f]).astype(np.float64) for f in ("pt", "eta", "phi"))
    l_pdg = np.abs(ak.to_numpy(lep.pdgId))
    is_e = l_pdg == 11
    resolution = np.where(is_e, config.electron_resolution, config.muon_resolution)
    efficiency = np.where(is_e, config.electron_efficiency, config.muon_efficiency)
    mass = np.where(is_e, _ELECTRON_MASS, _MUON_MASS)
    r_pt = l_pt * np.maximum(1.0 + resolution * g_lep, 0.0)
    l_found = (np.abs(l_eta) < config.lepton_eta_max) & (u_lep < efficiency) & (r_pt > 0)
    reco_lep = ak.zip(
        {
            "pt": r_pt,
            "eta": l_eta,
            "phi": l_phi,
            "E": np.sqrt((r_pt * np.cosh(l_eta)) ** 2 + mass**2),
            "charge": ak.to_numpy(lep.charge),
            "pdgId": ak.to_numpy(lep.pdgId),
        }
    )

    gen_met = ak.to_numpy(events.GenMET_pt).astype(np.float64)
    gen_met_phi = ak.to_numpy(events.GenMET_phi).astype(np.float64)
    d_tau = np.where(t_found, t_pt * (t_scale - 1.0), 0.0)
    d_lep = np.where(l_found, r_pt - l_pt, 0.0)
    sigma = config.met_resolution * np.sqrt(ak.to_numpy(events.GenSumEt).astype(np.float64))
    met_x = gen_met * np.cos(gen_met_phi) - d_tau * np.cos(t_phi) - d_lep * np.cos(l_phi)
    met_y = gen_met * np.sin(gen_met_phi) - d_tau * np.sin(t_phi) - d_lep * np.sin(l_phi)
    met_x = met_x + sigma * g_x
    met_y = met_y + sigma * g_y

    return with_detector_fields(
        events,
        {
            "tau_energy_scale": scale,
            "RecoTauh": ak.unflatten(reco_tau[t_found], t_found.astype(np.int64)),
            "RecoLepton": ak.unflatten(reco_lep[l_found], l_found.astype(np.int64)),
            "MET_pt": np.hypot(met_x, met_y),
            "MET_phi": np.arctan2(met_y, met_x),
        },
    )


def write_tautau_events(
    path: str | os.PathLike[str], events: ak.Array, tree: str = DEFAULT_TREE
) -> Path:
    """Write ττ events (with detector level) as a TTree; NanoAOD naming ``nX``/``X_*``.

    Raises:
        MissingBranchError: if a field of :data:`TAUTAU_REQUIRED_BRANCHES` is missing.
    """
    return write_typed_tree(
        path,
        events,
        TAUTAU_FLAT_BRANCHES,
        TAUTAU_COLLECTION_FIELDS,
        what="ττ events",
        fix="run simulate_tautau_detector on them first",
        tree=tree,
    )


def make_tautau_sample(
    path: str | os.PathLike[str],
    process: str = "signal",
    *,
    n_events: int,
    seed: int,
    tau_energy_scale: float | tuple[float, float] = 1.0,
    mpi: bool = False,
    params: Sequence[str] = (),
    workers: int = 1,
    progress: bool = True,
    detector: TauTauDetectorConfig | None = None,
    tree: str = DEFAULT_TREE,
    block_size: int = TAUTAU_BLOCK_SIZE,
) -> Path:
    """Generate H → ττ or Z → ττ events, apply the detector at τ_h scale z, write ROOT.

    The file depends on the arguments only (not on ``workers``): the generator is seeded
    as in :func:`hepnnlr.samples.tautau.generate_tautau`, the detector from
    ``(seed, 0x7A7A)``; files of one seed and different z are paired event by event.

    Args:
        path: output ``.root`` file (replaced; parent folders are created).
        process: ``"signal"`` (gg → H → ττ) or ``"background"`` (γ*/Z → ττ).
        n_events: number of events.
        seed: non-negative integer seed.
        tau_energy_scale: z, a number or a ``(low, high)`` range drawn per event.
        mpi: multiple parton interactions on (slower).
        params: extra Pythia settings ``"Name = value"``.
        workers: generator processes.
        progress: progress bar during generation.
        detector: detector settings; ``TauTauDetectorConfig()`` if not given.
        tree: tree name.
        block_size: events per seeded block (blocks alternate the lepton charge).

    Returns:
        The path written; branches :data:`TAUTAU_REQUIRED_BRANCHES`.

    Example:
        >>> make_tautau_sample("h.root", "signal", n_events=1000, seed=1)  # doctest: +SKIP
    """
    config = TauTauConfig(process=process, mpi=mpi, params=setting_lines(params))
    # validate the scale before spending time in Pythia
    _event_scales(tau_energy_scale, 1, int(seed) if isinstance(seed, int) and seed >= 0 else 0)
    gen = generate_tautau(
        n_events,
        seed=seed,
        config=config,
        workers=workers,
        progress=progress,
        block_size=block_size,
    )
    reco = simulate_tautau_detector(gen, detector, tau_energy_scale=tau_energy_scale, seed=seed)
    return write_tautau_events(path, reco, tree)
