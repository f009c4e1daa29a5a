"""Compiled per-jet sums: energy correlation functions and a per-jet ordering.

Only sums that follow from published definitions live here; no clustering does. Jets are
clustered, and the N-subjettiness axes found, by FastJet through the ``fastjet`` package
(:mod:`hepnnlr.observables.jets`).

* :func:`energy_correlators`: the normalised energy correlation function
  e_N = ECF(N, β) / ECF(1)^N, N = 2 or 3, of Larkoski, Salam & Thaler, "Energy Correlation
  Functions for Jet Substructure", JHEP 06 (2013) 108, arXiv:1305.0007, in the
  hadron-collider measure (pT, ΔR), ΔR² = Δy² + Δφ². For each jet the pair matrix
  ΔR^β is built once, then summed over pairs or over triplets i > j > k: a Python loop
  over the O(n³) triplets of every jet would dominate a processor's time, which is why
  this one sum is compiled.
* :func:`decreasing_order`: each jet's constituents by decreasing pT (stable).
* :func:`subjettiness_sums`: the sum of N-subjettiness (Thaler & Van Tilburg, JHEP 03
  (2011) 015, arXiv:1011.2268, Eq. 1 with β = 1), Σ_i pT_i min_k ΔR(i, a_k) / norm, given
  the axes a_k: one pass over the constituents instead of a constituents × axes matrix.

The module compiles on first use (a few seconds of CPU, once: ``cache=True`` keeps the
machine code in ``__pycache__``). It is private: the public entry points are the functions
of :mod:`hepnnlr.observables.substructure`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__: list[str] = []


@numba.njit(cache=True)
def _angular_power(d2: float, half_beta: float) -> float:
    """(ΔR²)^(β/2) = ΔR^β; exact shortcuts for the common β = 1, 2 and 4."""
    if half_beta == 0.5:
        return math.sqrt(d2)
    if half_beta == 1.0:
        return d2
    if half_beta == 2.0:
        return d2 * d2
    return math.pow(d2, half_beta)


@numba.njit(cache=True)
def energy_correlators(
    pt: np.ndarray,
    rapidity: np.ndarray,
    phi: np.ndarray,
    offsets: np.ndarray,
    npoint: int,
    beta: float,
) -> np.ndarray:
    """e_N(β) of every jet given its constituents' pT, rapidity and φ (module docstring).

    Args:
        pt, rapidity, phi: Constituent values (float64), jet after jet.
        offsets: int64, ``n_jets + 1`` entries; jet j owns ``offsets[j]:offsets[j + 1]``.
        npoint: N, 2 or 3.
        beta: Angular exponent β > 0.

    Returns:
        One value per jet; 0 for a jet with fewer than N constituents.
    """
    n_jets = len(offsets) - 1
    ecf = np.zeros(n_jets)
    largest = 0
    for j in range(n_jets):
        largest = max(largest, offsets[j + 1] - offsets[j])
    angles = np.empty((largest, largest))
    half_beta = 0.5 * beta
    for jet in range(n_jets):
        start = offsets[jet]
        n = offsets[jet + 1] - start
        if n < npoint:
            continue
        sum_pt = 0.0
        for i in range(n):
            sum_pt += pt[start + i]
        for i in range(n):
            for k in range(i):
                dphi = abs(phi[start + i] - phi[start + k])
                if dphi > math.pi:
                    dphi = 2.0 * math.pi - dphi
                dy = rapidity[start + i] - rapidity[start + k]
                angles[i, k] = _angular_power(dy * dy + dphi * dphi, half_beta)
                angles[k, i] = angles[i, k]
        total = 0.0
        if npoint == 2:
            for i in range(1, n):
                for k in range(i):
                    total += pt[start + i] * pt[start + k] * angles[i, k]
            ecf[jet] = total / (sum_pt * sum_pt)
        else:
            for i in range(2, n):
                for k in range(1, i):
                    pair = pt[start + i] * pt[start + k] * angles[i, k]
                    for m in range(k):
                        total += pair * pt[start + m] * angles[i, m] * angles[k, m]
            ecf[jet] = total / (sum_pt * sum_pt * sum_pt)
    return ecf


@numba.njit(cache=True)
def decreasing_order(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Positions that order each segment ``offsets[j]:offsets[j + 1]`` of ``values`` by
    decreasing value, equal values keeping their order (= ``np.lexsort((-values,
    segment))``); one stable insertion sort per segment, in place in the result."""
    order = np.empty(len(values), dtype=np.int64)
    for j in range(len(offsets) - 1):
        start = offsets[j]
        for i in range(start, offsets[j + 1]):
            value = values[i]
            k = i
            while k > start and values[order[k - 1]] < value:
                order[k] = order[k - 1]
                k -= 1
            order[k] = i
    return order


@numba.njit(cache=True)
def subjettiness_sums(
    rapidity: np.ndarray,
    phi: np.ndarray,
    pt: np.ndarray,
    jet_of: np.ndarray,
    axis_rapidity: np.ndarray,
    axis_phi: np.ndarray,
    axis_offsets: np.ndarray,
    norm: np.ndarray,
) -> np.ndarray:
    """τN = Σ_i pT_i min_k ΔR(i, a_k) / norm of every jet (module docstring).

    The same operations in the same order as the NumPy expression of
    :func:`hepnnlr.observables.subjets.tau_of_axes` (ΔR² = Δy² + Δφ² with Δφ folded into
    [0, π], the smallest ΔR² over the jet's axes, NaN propagating as in ``np.min``, its
    square root, and the sum per jet in constituent order as ``np.bincount``), so the
    values are bit for bit the same.

    Args:
        rapidity, phi, pt: Constituent values (float64).
        jet_of: The jet of each constituent (int64).
        axis_rapidity, axis_phi: The axes (float64), jet after jet.
        axis_offsets: int64, ``n_jets + 1``; jet j's axes are ``axis_offsets[j]:
            axis_offsets[j + 1]`` (at least one).
        norm: Per jet, Σ pT_i · R0.
    """
    n_jets = len(axis_offsets) - 1
    sums = np.zeros(n_jets)
    two_pi = 2.0 * math.pi
    for i in range(len(jet_of)):
        jet = jet_of[i]
        nearest = math.inf
        for k in range(axis_offsets[jet], axis_offsets[jet + 1]):
            dphi = abs(phi[i] - axis_phi[k])
            if dphi > math.pi:
                dphi = two_pi - dphi
            dy = rapidity[i] - axis_rapidity[k]
            d2 = dy * dy + dphi * dphi
            if d2 < nearest or d2 != d2:
                nearest = d2
                if d2 != d2:
                    break
        sums[jet] += pt[i] * math.sqrt(nearest)
    return sums / norm
