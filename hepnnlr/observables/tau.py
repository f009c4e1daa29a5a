"""Observables of ℓ τ_h events (H → ττ vs Z → ττ, Sec. 3.1.2 of hdl:1887/4104579).

Reference: B. Sluijter, "Classifiers versus Normalizing Flows for uncertainty-aware
estimation of a signal ratio", MSc thesis, Leiden University 2024, hdl:1887/4104579.

Pure functions on awkward arrays, one entry per event, no Python loop over events.

hdl:1887/4104579 uses two features, "the invariant mass of the hadronic tau and the lepton,
DER_mass_vis, and the ratio between the transverse momentum of the lepton and that of the
hadronic tau, DER_pt_ratio_lep_had" (the HiggsML challenge's definitions); hepnnlr adds
Δφ(ℓ, τ_h) and the collinear-approximation mass.

Selection (:func:`select_tautau`): the leading lepton with
pT > ``lepton_pt_min`` and |η| < ``lepton_eta_max``, the leading τ_h with
pT > ``tau_pt_min`` and |η| < ``tau_eta_max``, opposite charges if ``opposite_charge``.
Failing events come back as ``None`` (option type) in every feature; ``reason`` (never
``None``) says why, with the codes of :data:`TAUTAU_REASONS`.

Collinear mass: each neutrino system is taken collinear with its visible τ product,
p_ν,i = r_i p_vis,i, and (r_1, r_2) solve MET = r_1 p_T,vis1 + r_2 p_T,vis2 (2 × 2 linear
system). With x_i = 1/(1 + r_i) the visible momentum fractions,
m_col = m_vis / √(x_1 x_2). Events where the system is singular (back-to-back visible
products, |det| < ``collinear_det_min`` GeV²) or a fraction lies outside (0, 1] (r_i < 0)
have no physical solution: ``m_col`` is ``None`` there (``collinear_ok`` False), the
other features are kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError, MissingBranchError, ShapeMismatchError

__all__ = [
    "TAUTAU_FEATURES",
    "TAUTAU_REASONS",
    "TauTauSelectionConfig",
    "collinear_mass",
    "delta_phi",
    "pt_ratio",
    "select_tautau",
    "tautau_features",
    "visible_mass",
]

TAUTAU_REASONS: dict[int, str] = {
    0: "pass",
    1: "no_lepton",
    2: "no_tau",
    3: "same_charge",
}
"""``reason`` codes of :func:`select_tautau`: the first failed requirement."""

TAUTAU_FEATURES = ("m_vis", "pt_ratio", "dphi", "m_col")
"""Feature names of :func:`tautau_features`; the two of hdl:1887/4104579 are
``m_vis``, ``pt_ratio``."""

_KINEMATIC = ("pt", "eta", "phi", "E")


@dataclass(frozen=True)
class TauTauSelectionConfig:
    """Object selection of ℓ τ_h events.

    Attributes:
        lepton_pt_min: lepton pT threshold, GeV (15: leptons of τ decays are soft; 20
            would keep 21% instead of 32% of the Z → ττ leptons).
        lepton_eta_max: lepton |η| acceptance.
        tau_pt_min: τ_h pT threshold, GeV (after the energy scale z).
        tau_eta_max: τ_h |η| acceptance.
        opposite_charge: require q(ℓ) q(τ_h) < 0.
        collinear_det_min: smallest |det| (GeV²) of the collinear system that is solved.
    """

    lepton_pt_min: float = 15.0
    lepton_eta_max: float = 2.5
    tau_pt_min: float = 20.0
    tau_eta_max: float = 2.3
    opposite_charge: bool = True
    collinear_det_min: float = 1.0

    def __post_init__(self) -> None:
        for name in (
            "lepton_pt_min",
            "lepton_eta_max",
            "tau_pt_min",
            "tau_eta_max",
            "collinear_det_min",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"TauTauSelectionConfig.{name} must be a number, got {value!r}.")
            if not math.isfinite(value) or value < 0:
                raise ConfigError(
                    f"TauTauSelectionConfig.{name} must be finite and >= 0, got {value!r}."
                )
        if not isinstance(self.opposite_charge, bool):
            raise ConfigError(
                "TauTauSelectionConfig.opposite_charge must be True or False, got "
                f"{self.opposite_charge!r}."
            )


def _require(obj: ak.Array, names: tuple[str, ...], what: str) -> None:
    missing = [f for f in names if f not in ak.fields(obj)]
    if missing:
        raise MissingBranchError(
            f"the {what} lack the field(s) {missing}; they have {ak.fields(obj)}. Pass "
            f"records with {list(names)} (e.g. events.RecoTauh, events.RecoLepton)."
        )


def _cartesian(obj: ak.Array) -> tuple[ak.Array, ak.Array, ak.Array, ak.Array]:
    pt, eta, phi = obj.pt, obj.eta, obj.phi
    return obj.E, pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)


def visible_mass(tau: ak.Array, lepton: ak.Array) -> ak.Array:
    """m_vis(τ_h, ℓ), the invariant mass of the two visible objects (DER_mass_vis).

    Args:
        tau, lepton: one record (pt, eta, phi, E) or ``None`` per event.

    Returns:
        One mass per event, ``None`` where either object is ``None``.
    """
    _require(tau, _KINEMATIC, "taus")
    _require(lepton, _KINEMATIC, "leptons")
    e1, x1, y1, z1 = _cartesian(tau)
    e2, x2, y2, z2 = _cartesian(lepton)
    m2 = (e1 + e2) ** 2 - (x1 + x2) ** 2 - (y1 + y2) ** 2 - (z1 + z2) ** 2
    # m² >= m_τh² + m_ℓ² > 0 exactly; only rounding can push it below 0 for massless inputs
    return np.sqrt(np.maximum(m2, 0.0))


def pt_ratio(lepton: ak.Array, tau: ak.Array) -> ak.Array:
    """pT(ℓ)/pT(τ_h) (DER_pt_ratio_lep_had); ``None`` where either object is ``None``."""
    _require(tau, ("pt",), "taus")
    _require(lepton, ("pt",), "leptons")
    return lepton.pt / tau.pt


def delta_phi(a: ak.Array, b: ak.Array) -> ak.Array:
    """|Δφ| in [0, π] between two objects (records with ``phi``)."""
    _require(a, ("phi",), "first objects")
    _require(b, ("phi",), "second objects")
    return np.abs((a.phi - b.phi + np.pi) % (2 * np.pi) - np.pi)


def collinear_mass(
    tau: ak.Array,
    lepton: ak.Array,
    met_pt: ak.Array,
    met_phi: ak.Array,
    *,
    det_min: float = 1.0,
) -> ak.Array:
    """Collinear-approximation mass m_vis/√(x_τh x_ℓ) (rules in the module docstring).

    Returns:
        One mass per event; ``None`` where an input is ``None`` or there is no physical
        collinear solution.
    """
    _require(tau, _KINEMATIC, "taus")
    _require(lepton, _KINEMATIC, "leptons")
    _, x1, y1, _ = _cartesian(tau)
    _, x2, y2, _ = _cartesian(lepton)
    mx, my = met_pt * np.cos(met_phi), met_pt * np.sin(met_phi)
    det = x1 * y2 - x2 * y1
    solvable = ak.fill_none(np.abs(det) >= det_min, False)
    safe = ak.where(solvable, det, 1.0)
    r1 = (mx * y2 - my * x2) / safe
    r2 = (x1 * my - y1 * mx) / safe
    ok = ak.fill_none(solvable & (r1 >= 0) & (r2 >= 0), False)
    # 1/(x1 x2) = (1 + r1)(1 + r2) >= 1 where ok; elsewhere 1 (then masked) keeps sqrt real
    inverse_fractions = ak.where(ok, (1.0 + r1) * (1.0 + r2), 1.0)
    return ak.mask(visible_mass(tau, lepton) * np.sqrt(inverse_fractions), ok)


def _leading(objects: ak.Array, pt_min: float, eta_max: float) -> ak.Array:
    good = objects[(objects.pt > pt_min) & (np.abs(objects.eta) < eta_max)]
    good = good[ak.argsort(good.pt, axis=1, ascending=False, stable=True)]
    return ak.firsts(good, axis=1)


def select_tautau(
    leptons: ak.Array, taus: ak.Array, config: TauTauSelectionConfig | None = None
) -> tuple[ak.Array, ak.Array, ak.Array]:
    """Pick the leading good lepton and τ_h of each event.

    Args:
        leptons, taus: jagged records (pt, eta, phi, E, charge) per event.
        config: selection; ``TauTauSelectionConfig()`` if not given.

    Returns:
        ``(lepton, tau, reason)``: the chosen objects (``None`` where the event fails)
        and the int8 reason code (:data:`TAUTAU_REASONS`).
    """
    config = TauTauSelectionConfig() if config is None else config
    if not isinstance(config, TauTauSelectionConfig):
        raise ConfigError(
            f"select_tautau expects a TauTauSelectionConfig, got {type(config).__name__}."
        )
    _require(leptons, (*_KINEMATIC, "charge"), "leptons")
    _require(taus, (*_KINEMATIC, "charge"), "taus")
    if len(leptons) != len(taus):
        raise ShapeMismatchError(
            f"select_tautau got {len(leptons)} lepton rows but {len(taus)} tau rows; pass "
            "the collections of the same events."
        )
    lepton = _leading(leptons, config.lepton_pt_min, config.lepton_eta_max)
    tau = _leading(taus, config.tau_pt_min, config.tau_eta_max)
    no_lep = ak.to_numpy(ak.is_none(lepton))
    no_tau = ak.to_numpy(ak.is_none(tau))
    if config.opposite_charge:
        same = ak.to_numpy(ak.fill_none(lepton.charge * tau.charge >= 0, False)).astype(bool)
    else:
        same = np.zeros(len(leptons), dtype=bool)
    reason = np.select([no_lep, no_tau, same], [1, 2, 3], 0).astype(np.int8)
    keep = reason == 0
    return ak.mask(lepton, keep), ak.mask(tau, keep), reason


def tautau_features(
    leptons: ak.Array,
    taus: ak.Array,
    met_pt: ak.Array,
    met_phi: ak.Array,
    config: TauTauSelectionConfig | None = None,
) -> ak.Array:
    """Selection and features of every event.

    Args:
        leptons, taus: jagged records (pt, eta, phi, E, charge) per event.
        met_pt, met_phi: missing transverse momentum per event.
        config: selection; ``TauTauSelectionConfig()`` if not given.

    Returns:
        Records ``reason`` (int8), ``m_vis``, ``pt_ratio``, ``dphi``, ``m_col`` (float64,
        ``None`` for events that fail; ``m_col`` also without a collinear solution),
        ``collinear_ok`` (bool, False for failing events), ``lep_pt``, ``tau_pt``.
    """
    config = TauTauSelectionConfig() if config is None else config
    lepton, tau, reason = select_tautau(leptons, taus, config)
    met_pt = ak.values_astype(met_pt, np.float64)
    met_phi = ak.values_astype(met_phi, np.float64)
    m_col = collinear_mass(tau, lepton, met_pt, met_phi, det_min=config.collinear_det_min)
    return ak.zip(
        {
            "reason": reason,
            "m_vis": visible_mass(tau, lepton),
            "pt_ratio": pt_ratio(lepton, tau),
            "dphi": delta_phi(lepton, tau),
            "m_col": m_col,
            "collinear_ok": ak.to_numpy(~ak.is_none(m_col)),
            "lep_pt": lepton.pt,
            "tau_pt": tau.pt,
        },
        depth_limit=1,
    )
