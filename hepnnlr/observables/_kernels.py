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
* :func:`constituent_positions`: the constituents of reordered jets as positions in the
  chunk's flat particles, in one pass instead of six NumPy passes over them.
* :func:`kinematics` / :func:`gathered_kinematics`: the rapidity, φ and pT of
  constituents (what τN and e_N are sums of), the latter gathering their four-momenta
  from the chunk's particles in the same pass; the operations of
  :func:`hepnnlr.observables.subjets.rapidity_phi` and ``np.hypot`` in their order, with
  the same libm functions (log, atan2, hypot), so the values are bit for bit NumPy's.
* :func:`polar_to_cartesian` / :func:`scaled_cartesian`: the four-momenta of
  :func:`hepnnlr.observables.fourvectors.flat_momenta` in one pass over the particles (read
  float32 or float64 in place, convert, weight, check finiteness), instead of a NumPy pass
  per copy, function, product and check. The same libm functions (cos, sin, sinh, hypot,
  sqrt) as NumPy's float64 loops in the same order, so the values are bit for bit NumPy's.
* :func:`polar_momenta`: px, py, pz of flat float64 (pT, η, φ) in one pass (what
  :func:`hepnnlr.observables.jets.cartesian_of` returns), instead of three NumPy passes
  for cos, sin, sinh and three for the products; the same libm functions and products,
  so the values are bit for bit NumPy's.
* :func:`subjettiness_sums`: the sum of N-subjettiness (Thaler & Van Tilburg, "Identifying
  Boosted Objects with N-subjettiness", JHEP 03 (2011) 015, arXiv:1011.2268, Eq. 1 with β = 1),
  Σ_i pT_i min_k ΔR(i, a_k) / norm, given the axes a_k: one pass over the constituents
  instead of a constituents × axes matrix.

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
def constituent_positions(
    local: np.ndarray, const_offsets: np.ndarray, order: np.ndarray, event_start: np.ndarray
) -> np.ndarray:
    """Constituents of the jets ``order[0], order[1], ...`` as positions in the flat
    particles of the chunk.

    Args:
        local: Each constituent's position within its event, jet after jet (FastJet's
            ``constituent_index``; any integer type).
        const_offsets: int64, ``n_jets + 1``; jet j owns ``local[const_offsets[j]:
            const_offsets[j + 1]]``.
        order: The jets in their new order.
        event_start: Per jet, the position of its event's first particle.

    Returns:
        int64 positions, the jets' constituents one jet after the other in ``order``:
        ``local[...] + event_start[jet]``, the same integers as the NumPy gathers it
        replaces.
    """
    out = np.empty(const_offsets[-1] - const_offsets[0], dtype=np.int64)
    k = 0
    for q in range(len(order)):
        jet = order[q]
        base = event_start[jet]
        for i in range(const_offsets[jet], const_offsets[jet + 1]):
            out[k] = np.int64(local[i]) + base
            k += 1
    return out


_BEAM_RAPIDITY = 1e5
"""|y| of a massless particle along the beam (``subjets._BEAM_RAPIDITY``)."""


@numba.njit(cache=True)
def _rapidity_phi_pt(px: float, py: float, pz: float, energy: float) -> tuple:
    """One constituent's rapidity, φ and pT: ``subjets.rapidity_phi`` and ``np.hypot``
    operation by operation (m_T² raised to pT² as ``np.maximum`` does, NaN first)."""
    pt2 = px * px + py * py
    mt2 = (energy + pz) * (energy - pz)
    if mt2 == mt2 and (pt2 != pt2 or pt2 > mt2):
        mt2 = pt2
    if mt2 <= 0:
        y = _BEAM_RAPIDITY
    else:
        y = abs(pz)
        y += energy
        y *= y
        y /= mt2
        y = math.log(y)
        y *= 0.5
    return math.copysign(y, pz), math.atan2(py, px), math.hypot(px, py)


@numba.njit(cache=True)
def kinematics(
    px: np.ndarray, py: np.ndarray, pz: np.ndarray, energy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rapidity, phi, pt)`` of flat float64 four-momenta (module docstring)."""
    n = len(px)
    rapidity = np.empty(n)
    phi = np.empty(n)
    pt = np.empty(n)
    for i in range(n):
        rapidity[i], phi[i], pt[i] = _rapidity_phi_pt(px[i], py[i], pz[i], energy[i])
    return rapidity, phi, pt


@numba.njit(cache=True)
def gathered_kinematics(
    index: np.ndarray, px: np.ndarray, py: np.ndarray, pz: np.ndarray, energy: np.ndarray
) -> tuple[np.ndarray, ...]:
    """``(px, py, pz, E, rapidity, phi, pt)`` of the particles at ``index`` of flat float64
    four-momenta: ``px[index]``, ... and :func:`kinematics` of them, in one pass."""
    n = len(index)
    out = np.empty((7, n))
    for k in range(n):
        i = index[k]
        x, y, z, e = px[i], py[i], pz[i], energy[i]
        out[0, k] = x
        out[1, k] = y
        out[2, k] = z
        out[3, k] = e
        out[4, k], out[5, k], out[6, k] = _rapidity_phi_pt(x, y, z, e)
    return out[0], out[1], out[2], out[3], out[4], out[5], out[6]


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


@numba.njit(cache=True)
def polar_to_cartesian(
    pt: np.ndarray,
    phi: np.ndarray,
    eta: np.ndarray,
    temporal: np.ndarray,
    is_mass: bool,
    weight: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """px, py, pz, E (float64) from pT, φ, η and E or mass, times an optional weight.

    px = (cos φ · pT) · w, py = (sin φ · pT) · w, pz = (sinh η · pT) · w, and E read or
    ``hypot(hypot(pT, pz), m)`` (√max((|p| − |m|)(|p| + |m|), 0) for m < 0, vector's
    space-like convention), times w: NumPy's operations of ``flat_momenta`` in its order.

    Args:
        pt, phi, eta, temporal: One value per particle (float32 or float64, read as float64).
        is_mass: ``temporal`` is the mass (else the energy).
        weight: Per-particle weights, or an empty array for none.

    Returns:
        The four arrays and whether every input, weight and output is finite and every
        weight ≥ 0 (False: the caller finds and names the culprit).
    """
    n = len(pt)
    px = np.empty(n)
    py = np.empty(n)
    pz = np.empty(n)
    energy = np.empty(n)
    weighted = len(weight) > 0
    ok = True
    for i in range(n):
        r = np.float64(pt[i])
        f = np.float64(phi[i])
        h = np.float64(eta[i])
        t = np.float64(temporal[i])
        x = math.cos(f) * r
        y = math.sin(f) * r
        z = math.sinh(h) * r
        if is_mass:
            p = math.hypot(r, z)
            if t < 0:
                e = math.sqrt(max((p - (-t)) * (p + (-t)), 0.0))
            else:
                e = math.hypot(p, t)
        else:
            e = t
        if weighted:
            w = np.float64(weight[i])
            ok &= math.isfinite(w) and w >= 0
            x *= w
            y *= w
            z *= w
            e *= w
        ok &= (
            math.isfinite(r)
            and math.isfinite(f)
            and math.isfinite(h)
            and math.isfinite(t)
            and math.isfinite(x)
            and math.isfinite(y)
            and math.isfinite(z)
            and math.isfinite(e)
        )
        px[i] = x
        py[i] = y
        pz[i] = z
        energy[i] = e
    return px, py, pz, energy, ok


@numba.njit(cache=True)
def polar_momenta(
    pt: np.ndarray, eta: np.ndarray, phi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(cos φ · pT, sin φ · pT, sinh η · pT)`` of flat float64 arrays, in one pass."""
    n = len(pt)
    out = np.empty((3, n))
    for i in range(n):
        r = pt[i]
        out[0, i] = math.cos(phi[i]) * r
        out[1, i] = math.sin(phi[i]) * r
        out[2, i] = math.sinh(eta[i]) * r
    return out[0], out[1], out[2]


@numba.njit(cache=True)
def scaled_cartesian(
    px: np.ndarray, py: np.ndarray, pz: np.ndarray, energy: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """Fresh float64 px, py, pz, E times an optional weight (empty: none), and whether all
    inputs and weights are finite and every weight ≥ 0 (see :func:`polar_to_cartesian`)."""
    n = len(px)
    out = np.empty((4, n))
    weighted = len(weight) > 0
    ok = True
    for i in range(n):
        a = np.float64(px[i])
        b = np.float64(py[i])
        c = np.float64(pz[i])
        d = np.float64(energy[i])
        ok &= math.isfinite(a) and math.isfinite(b) and math.isfinite(c) and math.isfinite(d)
        if weighted:
            w = np.float64(weight[i])
            ok &= math.isfinite(w) and w >= 0
            a *= w
            b *= w
            c *= w
            d *= w
            ok &= math.isfinite(a) and math.isfinite(b) and math.isfinite(c) and math.isfinite(d)
        out[0, i] = a
        out[1, i] = b
        out[2, i] = c
        out[3, i] = d
    return out[0], out[1], out[2], out[3], ok
