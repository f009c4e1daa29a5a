"""FastJet reference for τN and the ECFs (test helper, not library code).

Each jet's constituents are one list of a FastJet ``ClusterSequence`` clustered with kT at
R = ``JetDefinition.max_allowable_R`` (:func:`hepnnlr.observables.jets.per_jet_sequence`):
its ``exclusive_jets_up_to(N)`` are the jet's N exclusive-kT axes and its single
exclusive jet's ``exclusive_jets_energy_correlator`` is the jet's normalised ECF. τN is
then summed over the constituents with NumPy, independently of hepnnlr's own sum.
"""

from __future__ import annotations

import warnings

import awkward as ak
import numpy as np

from hepnnlr.observables.subjets import per_jet_sequence


def flat_constituents(jets: ak.Array) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """(px, py, pz, E) of all jets' constituents, jet after jet, and their counts."""
    constituents = ak.flatten(jets.constituents, axis=1)
    n_const = ak.to_numpy(ak.num(constituents, axis=1)).astype(np.int64)
    flat = ak.flatten(constituents, axis=1)
    pt, eta, phi = (ak.to_numpy(flat[f]).astype(np.float64) for f in ("pt", "eta", "phi"))
    four = (pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), ak.to_numpy(flat.E))
    return tuple(np.asarray(a, dtype=np.float64) for a in four), n_const


def offsets(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def fastjet_axes(four: tuple, n_const: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-jet counts and the (px, py, pz, E) rows of ``exclusive_jets_up_to(n)``."""
    sequence = per_jet_sequence(*four, n_const)
    with warnings.catch_warnings():
        # fastjet 3.5.2 warns about "exclusive jets" for every algorithm, kT included
        warnings.filterwarnings("ignore", message="dcut and exclusive jets", category=UserWarning)
        axes = sequence.exclusive_jets_up_to(n)
    counts = ak.to_numpy(ak.num(axes)).astype(np.int64)
    rows = np.stack([ak.to_numpy(ak.flatten(axes[f])) for f in ("px", "py", "pz", "E")], axis=1)
    return counts, rows.astype(np.float64)


def rapidity_phi(px, py, pz, energy) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """FastJet's rapidity (m² clipped at 0) and φ in [0, 2π)."""
    kt2 = px * px + py * py
    m2 = np.maximum((energy + pz) * (energy - pz) - kt2, 0.0)
    e_plus_pz = energy + np.abs(pz)
    rapidity = 0.5 * np.log((kt2 + m2) / (e_plus_pz * e_plus_pz))
    rapidity = np.where(pz > 0, -rapidity, rapidity)
    phi = np.arctan2(py, px)
    return rapidity, np.where(phi < 0, phi + 2 * np.pi, phi)


def fastjet_tau(four: tuple, n_const: np.ndarray, radius: float, n: int) -> np.ndarray:
    """τN of every jet with FastJet's exclusive-kT axes, summed with NumPy."""
    counts, rows = fastjet_axes(four, n_const, n)
    axis_y, axis_phi = rapidity_phi(*rows.T)
    y, phi = rapidity_phi(*four)
    pt = np.hypot(four[0], four[1])
    jet_of = np.repeat(np.arange(len(n_const)), n_const)
    axis_jet = np.repeat(np.arange(len(n_const)), counts)
    nearest = np.full(len(pt), np.inf)
    for k in range(n):
        # the k-th axis of each jet (its last one again when it has fewer)
        pick = offsets(counts)[:-1] + np.minimum(k, counts - 1)
        assert np.array_equal(axis_jet[pick], np.arange(len(n_const)))
        dphi = np.abs(phi - axis_phi[pick][jet_of])
        dphi = np.where(dphi > np.pi, 2 * np.pi - dphi, dphi)
        distance = np.hypot(y - axis_y[pick][jet_of], dphi)
        nearest = np.minimum(nearest, distance)
    tau = np.bincount(jet_of, weights=pt * nearest) / (np.bincount(jet_of, weights=pt) * radius)
    return np.where(n_const <= n, 0.0, tau)


def fastjet_ecf(four: tuple, n_const: np.ndarray, npoint: int, beta: float) -> np.ndarray:
    """Normalised e_N(β) of every jet from FastJet-contrib's ``EnergyCorrelator``."""
    values = per_jet_sequence(*four, n_const).exclusive_jets_energy_correlator(
        njets=1, beta=float(beta), npoint=int(npoint), func="generalized", normalized=True
    )
    values = np.asarray(ak.to_numpy(values), dtype=np.float64).reshape(len(n_const))
    return np.where(n_const < npoint, 0.0, values)
