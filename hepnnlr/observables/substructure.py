"""Jet substructure of the parton-shower tuning (arXiv:2010.03569, Sec. III B, Fig. 9).

Reference: Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural
Networks in the Presence of Detector Effects", arXiv:2010.03569.

Pure functions on jagged ``events * jets * constituents`` awkward arrays, as returned in
the ``constituents`` field of :func:`hepnnlr.observables.jets.cluster_jets_with_constituents`.

Energy correlation functions (Larkoski, Salam & Thaler, JHEP 06 (2013) 108, Ref. [64] of
arXiv:2010.03569), in the hadron-collider (pT, ΔR) measure that FastJet-contrib's
``EnergyCorrelator`` uses by default (``pt_R``), the measure of the anti-kT pT-ordered jets
of Ref. [39]:

    ECF(1, β) = Σ_i pT_i
    ECF(2, β) = Σ_{i<j} pT_i pT_j ΔR_ij^β
    ECF(3, β) = Σ_{i<j<k} pT_i pT_j pT_k (ΔR_ij ΔR_ik ΔR_jk)^β

with ΔR² = Δy² + Δφ² (rapidity y, as FastJet). :func:`energy_correlation` returns the dimensionless
normalised e_N = ECF(N, β) / ECF(1, β)^N by default (FastJet's
``exclusive_jets_energy_correlator(func="generalized")``, which is always normalised) or ECF(N, β)
in GeV^N with ``normalized=False``. The ECF(N = 3, β = 4) of arXiv:2010.03569 is histogrammed as e_3
in hepnnlr. A jet with fewer than N constituents has ECF(N) = 0.

How: one compiled pass over the flat constituents of all jets
(``hepnnlr.observables._kernels``, numba; no Python loop per jet): the pair matrix
ΔR_ij^β once per jet, then the sum over pairs or over triplets i > j > k, divided by
(Σ pT)^N. :func:`jet_shapes_flat` gives τ1, τ2
(:func:`hepnnlr.observables.subjets.nsubjettiness`) and e_N of the same jets with one
input check. The tests check it against FastJet's ``exclusive_jets_energy_correlator``
on the jets' own ``ClusterSequence``
(:func:`hepnnlr.observables.subjets.per_jet_sequence`; relative 1e-12) and against a
brute-force NumPy sum.

Strange hadrons: K±, K0S, K0L, Λ, Σ±, Σ0, Ξ0, Ξ−, Ω− and antiparticles, by |PDG id|
(:data:`STRANGE_HADRON_IDS`). With the stable-particle definition of
:mod:`hepnnlr.samples.zjets` (cτ > 10 mm) all but Σ0 (which decays electromagnetically)
reach the final state.
"""

from __future__ import annotations

import math
import numbers

import awkward as ak
import numpy as np

from hepnnlr.errors import (
    ConfigError,
    MissingBranchError,
    NonFiniteInputError,
    ShapeMismatchError,
)
from hepnnlr.observables import _kernels
from hepnnlr.observables.dis import wrap_phi
from hepnnlr.observables.fourvectors import flat_momenta
from hepnnlr.observables.subjets import (
    checked_jets,
    constituent_kinematics,
    offsets_of,
    tau21_of,
    taus,
)

__all__ = [
    "STRANGE_HADRON_IDS",
    "constituent_features",
    "count_strange",
    "decreasing_pt_order",
    "energy_correlation",
    "energy_correlation_flat",
    "jet_mass",
    "jet_shapes_flat",
]

STRANGE_HADRON_IDS: frozenset[int] = frozenset(
    {321, 310, 130, 3122, 3222, 3212, 3112, 3322, 3312, 3334}
)
"""|PDG id| of the strange hadrons counted by :func:`count_strange`."""


def _require(array: ak.Array, fields: tuple[str, ...], what: str) -> None:
    missing = [f for f in fields if f not in ak.fields(array)]
    if missing:
        raise MissingBranchError(
            f"{what} lack the field(s) {missing} (they have {sorted(ak.fields(array))}); pass "
            "the 'constituents' of hepnnlr.observables.jets.cluster_jets_with_constituents."
        )


def count_strange(pdg_id: ak.Array) -> ak.Array:
    """Number of strange hadrons in each innermost list of PDG ids.

    Args:
        pdg_id: Jagged PDG ids, e.g. ``jets.constituents.pdgId`` (``events * jets * n``).

    Returns:
        Integer counts, one per innermost list (``events * jets``).

    Note:
        On detector-level class codes (:mod:`hepnnlr.samples.detector`) the same function
        counts neutral-hadron clusters, code 130 (= the PDG id of K0L): the emulated
        detector identifies no kaons, so that is its strangeness-sensitive count.
    """
    codes = np.asarray(sorted(STRANGE_HADRON_IDS), dtype=np.int64)

    def flag(layout: ak.contents.Content, **kwargs: object) -> ak.contents.Content | None:
        if layout.is_numpy:
            ids = np.abs(np.asarray(layout.data, dtype=np.int64))
            return ak.contents.NumpyArray(np.isin(ids, codes))
        return None

    return ak.sum(ak.transform(flag, pdg_id), axis=-1)


def jet_mass(jets: ak.Array) -> ak.Array:
    """Invariant mass √max(E² − p², 0) of records with ``px``, ``py``, ``pz``, ``E``."""
    _require(jets, ("px", "py", "pz", "E"), "jets")
    m2 = jets.E**2 - jets.px**2 - jets.py**2 - jets.pz**2
    return np.sqrt(ak.where(m2 > 0, m2, 0.0))


def energy_correlation(
    constituents: ak.Array, npoint: int, beta: float, *, normalized: bool = True
) -> ak.Array:
    """Energy correlation function ECF(N, β) of every jet (definitions in the module doc).

    Args:
        constituents: ``events * jets * constituents`` records in any four-vector
            representation (:func:`hepnnlr.observables.fourvectors.flat_momenta`).
        npoint: N, 1, 2 or 3.
        beta: Angular exponent β > 0.
        normalized: Return e_N = ECF(N)/ECF(1)^N (True) or ECF(N) in GeV^N (False).

    Returns:
        float64 values, ``events * jets``.

    Raises:
        ConfigError: for N outside 1..3 or β <= 0.
    """
    integral = isinstance(npoint, numbers.Integral) and not isinstance(npoint, bool)
    if not integral or npoint not in (1, 2, 3):
        raise ConfigError(f"energy_correlation: npoint must be 1, 2 or 3, got {npoint!r}.")
    if (
        isinstance(beta, bool)
        or not isinstance(beta, numbers.Real)
        or not (math.isfinite(beta) and beta > 0)
    ):
        raise ConfigError(f"energy_correlation: beta must be a finite number > 0, got {beta!r}.")
    n_jets = ak.to_numpy(ak.num(constituents, axis=1))
    per_jet = ak.flatten(constituents, axis=1)
    momenta = flat_momenta(per_jet, what="constituents")
    four = (momenta.px, momenta.py, momenta.pz, momenta.E)
    ecf1 = np.add.reduceat(np.hypot(momenta.px, momenta.py), momenta.offsets[:-1])
    ecf1 = np.where(momenta.counts > 0, ecf1, 0.0) if len(ecf1) else np.zeros(0)
    if npoint == 1:
        values = np.ones_like(ecf1) if normalized else ecf1
        return ak.unflatten(values, n_jets)
    values = _ecf(four, momenta.offsets, npoint, beta)
    if not normalized:
        values = values * ecf1**npoint
    return ak.unflatten(values, n_jets)


def _check_ecf_arguments(what: str, npoint: object, beta: object, allowed: tuple) -> None:
    integral = isinstance(npoint, numbers.Integral) and not isinstance(npoint, bool)
    if not integral or npoint not in allowed:
        raise ConfigError(
            f"{what}: npoint must be one of {', '.join(map(str, allowed))}, got {npoint!r}."
        )
    if (
        isinstance(beta, bool)
        or not isinstance(beta, numbers.Real)
        or not (math.isfinite(beta) and beta > 0)
    ):
        raise ConfigError(f"{what}: beta must be a finite number > 0, got {beta!r}.")


def energy_correlation_flat(
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    n_constituents: np.ndarray,
    npoint: int,
    beta: float,
) -> np.ndarray:
    """Normalised e_N = ECF(N, β)/ECF(1)^N of jets given as flat constituent momenta.

    The engine of :func:`energy_correlation` (same method, module docstring), for
    callers that hold the constituents as flat float64 arrays, jet after jet.

    Args:
        px, py, pz, energy: Constituent four-momenta, ``n_constituents.sum()`` entries.
        n_constituents: Constituents of each jet (each >= 1).
        npoint: N, 2 or 3.
        beta: Angular exponent β > 0.

    Returns:
        One float64 value per jet (0 for jets with fewer than N constituents).
    """
    _check_ecf_arguments("energy_correlation_flat", npoint, beta, (2, 3))
    four, offsets = checked_jets("energy_correlation_flat", (px, py, pz, energy), n_constituents)
    return _ecf(four, offsets, npoint, beta)


def _ecf(
    four: tuple[np.ndarray, ...],
    offsets: np.ndarray,
    npoint: int,
    beta: float,
    kinematics: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    rapidity, phi, pt = constituent_kinematics(four) if kinematics is None else kinematics
    return _kernels.energy_correlators(pt, rapidity, phi, offsets, int(npoint), float(beta))


def jet_shapes_flat(
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    n_constituents: np.ndarray,
    radius: float,
    npoint: int,
    beta: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """τ1, τ2, τ21 and e_N(β) of jets given as flat constituent momenta.

    The values of :func:`hepnnlr.observables.subjets.nsubjettiness` (radius ``radius``)
    and of :func:`energy_correlation_flat` (``npoint``, ``beta``) with one input check
    (what :class:`hepnnlr.processors.zjets.ZJetsProcessor` needs for its leading jets).

    Returns:
        ``(tau1, tau2, tau21, ecf)``, one float64 value per jet each.
    """
    _check_ecf_arguments("jet_shapes_flat", npoint, beta, (2, 3))
    four, offsets = checked_jets("jet_shapes_flat", (px, py, pz, energy), n_constituents)
    kinematics = constituent_kinematics(four)  # shared by τN and e_N
    values = taus(four, n_constituents, radius, (1, 2), kinematics)
    tau1, tau2 = values[1], values[2]
    ecf = _ecf(four, offsets, npoint, beta, kinematics)
    return tau1, tau2, tau21_of(tau1, tau2), ecf


def decreasing_pt_order(pt: np.ndarray, n_constituents: np.ndarray) -> np.ndarray:
    """Positions that sort each jet's constituents by decreasing pT, ties kept in order.

    The same permutation as ``np.lexsort((-pt, jet_of))`` (and as the stable
    ``ak.argsort(..., ascending=False, stable=True)`` of :func:`constituent_features`),
    computed jet by jet in one compiled pass (``hepnnlr.observables._kernels``).

    Args:
        pt: Flat constituent pT (any real dtype; NaN is not allowed), jet after jet.
        n_constituents: Constituents of each jet.

    Returns:
        int64 positions into ``pt``.
    """
    n_constituents = np.asarray(n_constituents, dtype=np.int64)
    pt = np.ascontiguousarray(pt, dtype=np.float64)
    if pt.shape != (int(n_constituents.sum()),):
        raise ShapeMismatchError(
            f"decreasing_pt_order: pt has shape {pt.shape} but n_constituents sums to "
            f"{int(n_constituents.sum())}; pass the constituents of these jets, jet after jet."
        )
    if np.isnan(pt).any():
        raise NonFiniteInputError(
            f"decreasing_pt_order: pt holds NaN at position {int(np.argmax(np.isnan(pt)))}; "
            "NaN has no place in an order, find where it came from."
        )
    return _kernels.decreasing_order(pt, offsets_of(n_constituents))


def constituent_features(jets: ak.Array) -> ak.Array:
    """Constituents in coordinates relative to their jet: the PFN inputs.

    Args:
        jets: Jet records with ``pt``, ``eta``, ``phi`` (fields or vector properties, as
            from :func:`hepnnlr.observables.jets.cluster_jets_with_constituents`) and
            ``constituents`` (records with ``pt``, ``eta``, ``phi``, ``pdgId``, ``charge``).

    Returns:
        ``events * jets * constituents`` records sorted by decreasing pT: ``pt``,
        ``pt_frac`` = pT/pT_jet, ``deta`` = η − η_jet, ``dphi`` = φ − φ_jet wrapped to
        (−π, π], ``pdgId``, ``charge``.
    """
    _require(jets, ("constituents",), "jets")
    constituents = jets.constituents
    _require(constituents, ("pt", "eta", "phi", "pdgId", "charge"), "constituents")
    order = ak.argsort(constituents.pt, axis=-1, ascending=False, stable=True)
    constituents = constituents[order]
    pt = ak.values_astype(constituents.pt, np.float64)
    return ak.zip(
        {
            "pt": pt,
            "pt_frac": pt / jets.pt,
            "deta": ak.values_astype(constituents.eta, np.float64) - jets.eta,
            "dphi": wrap_phi(ak.values_astype(constituents.phi, np.float64) - jets.phi),
            "pdgId": constituents.pdgId,
            "charge": constituents.charge,
        }
    )
