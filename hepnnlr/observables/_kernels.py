"""Compiled per-jet substructure: exclusive-kT axes, N-subjettiness and energy correlators.

One numba-compiled pass over flat constituent arrays (jet after jet, ``offsets[j]`` to
``offsets[j + 1]``); there is no Python loop per jet. For each jet it

* reclusters the constituents with the kT algorithm, E-scheme recombination and
  R = 1000 (FastJet's ``JetDefinition.max_allowable_R``, the definition of FastJet-contrib's
  ``KT_Axes``), following the steps of FastJet's ``N2Plain`` strategy
  (``ClusterSequence::_simple_N2_cluster``): the same pseudojet slots, the same
  nearest-neighbour bookkeeping, the same distances
  ``d_ij = min(kt2_i, kt2_j) ΔR²_ij`` (the common 1/R² factor dropped, as FastJet does
  before its comparison) and ``d_iB = kt2_i R²`` for a pseudojet without a neighbour
  within R, and the same first-index choice between equal distances. So the exclusive
  jets after ``n − N`` steps are the pseudojets FastJet's ``exclusive_jets_up_to(N)``
  returns, with the same floating-point four-momenta (each merge is one E-scheme sum of
  the same two operands). ``N2Plain`` is what FastJet runs for small inputs; its other
  strategies make the same merges unless two distances are exactly equal. The tests
  compare the axes bit for bit with FastJet's, exact ties included
  (:func:`exclusive_kt_axes`);
* evaluates τN = Σ pT_i min_k ΔR(i, a_k) / (Σ pT_i · R0) for N = 1 … ``n_tau`` (τ1 with
  the E-scheme sum of all constituents as its axis), with FastJet's rapidity and
  azimuth (``PseudoJet::_finish_init``) and its Δφ convention;
* evaluates the normalised energy correlator e_N = ECF(N, β)/ECF(1)^N, N = 2 or 3, in the
  ``pt_R`` measure of FastJet-contrib's ``EnergyCorrelator`` (pair matrix ΔR^β computed
  once per jet, then the N = 3 triple sum over i > j > k).

:func:`decreasing_order` orders each jet's constituents by decreasing pT (stable).

:func:`cluster_events` is a clustering engine for whole events: the same ``N2Plain`` steps
generalized to the kT family at finite R (kT, Cambridge/Aachen, anti-kT with FastJet's
momentum factors kt2, 1 and 1/kt2), every event of a chunk in one call, returning the
inclusive jets in FastJet's order and each jet's constituents (tracked as chains through
the recombinations, so no second pass over a history), i.e. what FastJet's
``ClusterSequence`` + ``inclusive_jets`` + ``constituent_index`` give, bit for bit.

The module compiles on first use (about 5 s of CPU, once: ``cache=True`` keeps the
machine code next to this file in ``__pycache__``, which a new process loads in about
1 s on its first call). It is private: the public entry
points are :func:`hepnnlr.observables.jets.nsubjettiness`,
:func:`hepnnlr.observables.jets.subjettiness` and the functions of
:mod:`hepnnlr.observables.substructure`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__: list[str] = []

_R = 1000.0  # fastjet.JetDefinition.max_allowable_R
_R2 = _R * _R
_MAX_RAP = 1e5  # fastjet::MaxRap
_TWO_PI = 2.0 * math.pi


@numba.njit(cache=True)
def _rapidity_phi(px: float, py: float, pz: float, energy: float) -> tuple[float, float]:
    """Rapidity and φ in [0, 2π) of one four-momentum, as ``PseudoJet::_finish_init``."""
    kt2 = px * px + py * py
    if kt2 == 0.0:
        phi = 0.0
    else:
        phi = math.atan2(py, px)
    if phi < 0.0:
        phi += _TWO_PI
    if phi >= _TWO_PI:
        phi -= _TWO_PI
    if energy == abs(pz) and kt2 == 0.0:
        rapidity = _MAX_RAP + abs(pz)
        if pz < 0.0:
            rapidity = -rapidity
    else:
        m2 = (energy + pz) * (energy - pz) - kt2
        if m2 < 0.0:
            m2 = 0.0
        e_plus_pz = energy + abs(pz)
        rapidity = 0.5 * math.log((kt2 + m2) / (e_plus_pz * e_plus_pz))
        if pz > 0.0:
            rapidity = -rapidity
    return rapidity, phi


@numba.njit(cache=True)
def _distance2(rap_a: float, phi_a: float, rap_b: float, phi_b: float) -> float:
    """Δy² + Δφ² with FastJet's Δφ (``_bj_dist``, ``PseudoJet::plain_distance``)."""
    dphi = abs(phi_a - phi_b)
    if dphi > math.pi:
        dphi = _TWO_PI - dphi
    drap = rap_a - rap_b
    return dphi * dphi + drap * drap


# rows of the pseudojet slot table of one reclustering
_PX, _PY, _PZ, _E, _RAP, _PHI, _KT2, _NN_DIST, _DIJ = range(9)


@numba.njit(cache=True)
def _dij(s: np.ndarray, nn: np.ndarray, i: int) -> float:
    """``_bj_diJ``: nearest-neighbour distance times the smaller kt2 of the pair."""
    scale = s[_KT2, i]
    if nn[i] >= 0 and s[_KT2, nn[i]] < scale:
        scale = s[_KT2, nn[i]]
    return s[_NN_DIST, i] * scale


@numba.njit(cache=True)
def _nearest(s: np.ndarray, nn: np.ndarray, i: int, m: int) -> None:
    """``_bj_set_NN_nocross``: nearest of slots 0..m-1 (other than i) within R."""
    best = _R2
    best_j = -1
    for j in range(m):
        if j == i:
            continue
        d = _distance2(s[_RAP, i], s[_PHI, i], s[_RAP, j], s[_PHI, j])
        if d < best:
            best = d
            best_j = j
    nn[i] = best_j
    s[_NN_DIST, i] = best


@numba.njit(cache=True)
def _pair_distances(c_rap, c_phi, n, d2) -> None:  # noqa: ANN001
    """d2[a, b] = ΔR² of constituents a > b (the lower triangle)."""
    for a in range(1, n):
        for b in range(a):
            d2[a, b] = _distance2(c_rap[a], c_phi[a], c_rap[b], c_phi[b])


@numba.njit(cache=True)
def _start_reclustering(px, py, pz, energy, c_rap, c_phi, d2, start, n, s, nn) -> None:  # noqa: ANN001
    """Fill slots 0..n-1 with the constituents ``start..start+n-1`` (rapidity, φ and the
    pair distances of :func:`_pair_distances` given, index i for constituent
    ``start + i``) and their nearest neighbours (``_simple_N2_cluster`` up to its main
    loop)."""
    for i in range(n):
        c = start + i
        s[_PX, i] = px[c]
        s[_PY, i] = py[c]
        s[_PZ, i] = pz[c]
        s[_E, i] = energy[c]
        s[_RAP, i] = c_rap[i]
        s[_PHI, i] = c_phi[i]
        s[_KT2, i] = px[c] * px[c] + py[c] * py[c]
        nn[i] = -1
        s[_NN_DIST, i] = _R2
    for a in range(1, n):  # _bj_set_NN_crosscheck(jetA, head, jetA)
        best = _R2
        best_b = -1
        for b in range(a):
            d = d2[a, b]
            if d < best:
                best = d
                best_b = b
            if d < s[_NN_DIST, b]:
                s[_NN_DIST, b] = d
                nn[b] = a
        nn[a] = best_b
        s[_NN_DIST, a] = best
    for i in range(n):
        s[_DIJ, i] = _dij(s, nn, i)


@numba.njit(cache=True)
def _recluster_step(s: np.ndarray, nn: np.ndarray, m: int) -> int:
    """One step of ``_simple_N2_cluster`` on the m live slots; returns m − 1.

    The pair (or pseudojet and beam) with the smallest distance is recombined, the
    merged pseudojet takes the lower of the two slots and the last slot moves into the
    freed one, then the nearest neighbours are updated, all in FastJet's order.
    """
    a = 0
    d_min = s[_DIJ, 0]
    for i in range(1, m):
        if s[_DIJ, i] < d_min:
            d_min = s[_DIJ, i]
            a = i
    b = nn[a]
    if b >= 0:
        if a < b:
            a, b = b, a
        # E-scheme recombination into the lower slot
        for row in (_PX, _PY, _PZ, _E):
            s[row, b] = s[row, a] + s[row, b]
        s[_RAP, b], s[_PHI, b] = _rapidity_phi(s[_PX, b], s[_PY, b], s[_PZ, b], s[_E, b])
        s[_KT2, b] = s[_PX, b] * s[_PX, b] + s[_PY, b] * s[_PY, b]
        nn[b] = -1
        s[_NN_DIST, b] = _R2
    m -= 1
    for row in range(9):  # the last slot moves into the freed one
        s[row, a] = s[row, m]
    nn[a] = nn[m]
    for i in range(m):
        if nn[i] == a or nn[i] == b:
            _nearest(s, nn, i, m)
            s[_DIJ, i] = _dij(s, nn, i)
        if b >= 0:
            d = _distance2(s[_RAP, i], s[_PHI, i], s[_RAP, b], s[_PHI, b])
            if d < s[_NN_DIST, i] and i != b:
                s[_NN_DIST, i] = d
                nn[i] = b
                s[_DIJ, i] = _dij(s, nn, i)
            if d < s[_NN_DIST, b] and i != b:
                s[_NN_DIST, b] = d
                nn[b] = i
        if nn[i] == m:
            nn[i] = a
    if b >= 0:
        s[_DIJ, b] = _dij(s, nn, b)
    return m


@numba.njit(cache=True)
def exclusive_kt_axes(
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    offsets: np.ndarray,
    n_axes: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The exclusive-kT subjets of every jet, as ``exclusive_jets_up_to(n_axes)``.

    Returns:
        ``axes`` of shape ``(n_jets, n_axes, 4)`` (px, py, pz, E; rows past a jet's count
        are 0) and ``counts`` (min(n_axes, constituents) per jet). The rows are in slot
        order, not FastJet's history order.
    """
    n_jets = len(offsets) - 1
    axes = np.zeros((n_jets, n_axes, 4))
    counts = np.zeros(n_jets, dtype=np.int64)
    largest = 0
    for j in range(n_jets):
        largest = max(largest, offsets[j + 1] - offsets[j])
    s = np.empty((9, largest))
    nn = np.empty(largest, dtype=np.int64)
    c_rap = np.empty(largest)
    c_phi = np.empty(largest)
    d2 = np.empty((largest, largest))
    for jet in range(n_jets):
        start = offsets[jet]
        m = offsets[jet + 1] - start
        for i in range(m):
            c = start + i
            c_rap[i], c_phi[i] = _rapidity_phi(px[c], py[c], pz[c], energy[c])
        _pair_distances(c_rap, c_phi, m, d2)
        _start_reclustering(px, py, pz, energy, c_rap, c_phi, d2, start, m, s, nn)
        while m > n_axes:
            m = _recluster_step(s, nn, m)
        counts[jet] = m
        for k in range(m):
            for row in range(4):
                axes[jet, k, row] = s[row, k]
    return axes, counts


@numba.njit(cache=True)
def _power(x: float, exponent: float) -> float:
    """x**exponent; exact shortcuts for the common β = 2, 4 and 1 (ΔR², ΔR⁴, ΔR)."""
    if exponent == 1.0:
        return x
    if exponent == 2.0:
        return x * x
    if exponent == 0.5:
        return math.sqrt(x)
    return math.pow(x, exponent)


@numba.njit(cache=True)
def _tau_of_axes(c_rap, c_phi, c_pt, axis_rap, axis_phi, n_axes, norm) -> float:  # noqa: ANN001
    total = 0.0
    for i in range(len(c_pt)):
        nearest = np.inf
        for k in range(n_axes):
            d2 = _distance2(c_rap[i], c_phi[i], axis_rap[k], axis_phi[k])
            if d2 < nearest:
                nearest = d2
        # sqrt is monotonic and correctly rounded: sqrt(min d²) = min sqrt(d²) exactly
        total += c_pt[i] * math.sqrt(nearest)
    return total / norm


@numba.njit(cache=True)
def jet_shapes(
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    offsets: np.ndarray,
    radius: float,
    n_tau: int,
    ecf_npoint: int,
    ecf_beta: float,
) -> tuple[np.ndarray, np.ndarray]:
    """τ1 … τ_{n_tau} and e_{ecf_npoint}(β) of every jet (module docstring).

    Args:
        px, py, pz, energy: Constituent four-momenta (float64), jet after jet.
        offsets: int64, ``n_jets + 1`` entries; jet j owns ``offsets[j]:offsets[j + 1]``
            (each jet has at least one constituent).
        radius: R0 of the normalised N-subjettiness measure.
        n_tau: Largest N of τN (0: no N-subjettiness, no reclustering).
        ecf_npoint: 0 (no correlator), 2 or 3.
        ecf_beta: Angular exponent β of the correlator.

    Returns:
        ``taus`` of shape ``(n_jets, n_tau)`` (column N − 1 is τN; 0 for a jet with at
        most N constituents) and ``ecf`` of shape ``(n_jets,)`` (0 for fewer than
        ``ecf_npoint`` constituents, or when ``ecf_npoint`` is 0).
    """
    n_jets = len(offsets) - 1
    taus = np.zeros((n_jets, n_tau))
    ecf = np.zeros(n_jets)
    largest = 0
    for j in range(n_jets):
        largest = max(largest, offsets[j + 1] - offsets[j])
    c_rap = np.empty(largest)
    c_phi = np.empty(largest)
    c_pt = np.empty(largest)
    s = np.empty((9, largest))  # pseudojet slots of the reclustering
    nn = np.empty(largest, dtype=np.int64)
    axis = np.empty((2, 1))
    d2 = np.empty((largest, largest))
    angles = np.empty((largest, largest)) if ecf_npoint > 1 else np.empty((0, 0))
    half_beta = 0.5 * ecf_beta

    for jet in range(n_jets):
        start = offsets[jet]
        n = offsets[jet + 1] - start
        sum_pt = 0.0
        ax = 0.0
        ay = 0.0
        az = 0.0
        ae = 0.0
        for i in range(n):
            c = start + i
            c_rap[i], c_phi[i] = _rapidity_phi(px[c], py[c], pz[c], energy[c])
            c_pt[i] = math.sqrt(px[c] * px[c] + py[c] * py[c])
            sum_pt += c_pt[i]
            ax += px[c]
            ay += py[c]
            az += pz[c]
            ae += energy[c]
        norm = sum_pt * radius
        if (n_tau >= 2 and n > 2) or (ecf_npoint > 1 and n >= ecf_npoint):
            _pair_distances(c_rap, c_phi, n, d2)

        if n_tau >= 1 and n > 1:
            axis[0, 0], axis[1, 0] = _rapidity_phi(ax, ay, az, ae)
            taus[jet, 0] = _tau_of_axes(c_rap[:n], c_phi[:n], c_pt[:n], axis[0], axis[1], 1, norm)

        if n_tau >= 2 and n > 2:
            # FastJet's N2Plain reclustering, from n pseudojets down to 2
            _start_reclustering(px, py, pz, energy, c_rap, c_phi, d2, start, n, s, nn)
            m = n
            while m > 2:
                m = _recluster_step(s, nn, m)
                if m <= n_tau:
                    taus[jet, m - 1] = _tau_of_axes(
                        c_rap[:n], c_phi[:n], c_pt[:n], s[_RAP], s[_PHI], m, norm
                    )

        if ecf_npoint > 1 and n >= ecf_npoint:
            for i in range(n):
                for k in range(i):
                    value = _power(d2[i, k], half_beta)
                    angles[i, k] = value
                    angles[k, i] = value
            total = 0.0
            if ecf_npoint == 2:
                for i in range(1, n):
                    for k in range(i):
                        total += c_pt[i] * c_pt[k] * angles[i, k]
                ecf[jet] = total / (sum_pt * sum_pt)
            else:
                for i in range(2, n):
                    for k in range(1, i):
                        pair = c_pt[i] * c_pt[k] * angles[i, k]
                        for l in range(k):  # noqa: E741
                            total += pair * c_pt[l] * angles[i, l] * angles[k, l]
                ecf[jet] = total / (sum_pt * sum_pt * sum_pt)
    return taus, ecf


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


# ---------------------------------------------------------------------------------------
# Event clustering: the generalized-kT family (kT, Cambridge/Aachen, anti-kT), finite R.
# ---------------------------------------------------------------------------------------

ALGORITHM_CODES: dict[str, int] = {"kt": 0, "cambridge": 1, "antikt": 2}
"""The ``algorithm`` codes of :func:`cluster_events` (kT p = 1, C/A p = 0, anti-kT p = −1)."""


@numba.njit(cache=True)
def _momentum_factor(kt2: float, algorithm: int) -> float:
    """``ClusterSequence::jet_scale_for_algorithm``: kt2, 1 or 1/kt2 (1e300 below 1e-300)."""
    if algorithm == 0:
        return kt2
    if algorithm == 1:
        return 1.0
    if kt2 > 1e-300:
        return 1.0 / kt2
    return 1e300


@numba.njit(cache=True)
def _pair_dij(factor, nn_dist, nn, i):  # noqa: ANN001, ANN202
    """``_bj_diJ``: the NN distance times the smaller momentum factor of the pair."""
    f = factor[i]
    j = nn[i]
    if j >= 0 and factor[j] < f:
        f = factor[j]
    return nn_dist[i] * f


@numba.njit(cache=True)
def _cluster_one_event(  # noqa: ANN202, PLR0913, PLR0915
    px, py, pz, energy, start, n, algorithm, r2, inv_r2, ptmin2,  # noqa: ANN001
    rap, phi, factor, nn_dist, nn, dij, spx, spy, spz, se, hist, head, tail, count, link,  # noqa: ANN001
    beam_slot_px, beam_slot_py, beam_slot_pz, beam_slot_e, beam_head, beam_count,  # noqa: ANN001
):
    """Cluster particles ``start .. start + n − 1`` as FastJet's ``N2Plain`` strategy
    (``ClusterSequence::_simple_N2_cluster``); returns the number of inclusive jets,
    written to the ``beam_*`` buffers in the order of the beam recombinations.
    ``link`` chains each jet's particles (local indices; the parent with the lower
    history index first, FastJet's ``constituents`` order), ``head`` starts the chain."""
    if n == 0:
        return 0
    for i in range(n):
        c = start + i
        spx[i] = px[c]
        spy[i] = py[c]
        spz[i] = pz[c]
        se[i] = energy[c]
        rap[i], phi[i] = _rapidity_phi(px[c], py[c], pz[c], energy[c])
        factor[i] = _momentum_factor(px[c] * px[c] + py[c] * py[c], algorithm)
        nn_dist[i] = r2
        nn[i] = -1
        hist[i] = i
        head[i] = i
        tail[i] = i
        count[i] = 1
        link[i] = -1
    for a in range(1, n):  # _bj_set_NN_crosscheck(jetA, head, jetA)
        best = r2
        best_b = -1
        ra = rap[a]
        pa = phi[a]
        for b in range(a):
            d = _distance2(ra, pa, rap[b], phi[b])
            if d < best:
                best = d
                best_b = b
            if d < nn_dist[b]:
                nn_dist[b] = d
                nn[b] = a
        nn[a] = best_b
        nn_dist[a] = best
    for i in range(n):
        dij[i] = _pair_dij(factor, nn_dist, nn, i)

    next_hist = n
    n_beam = 0
    m = n
    while m > 0:
        a = 0
        d_min = dij[0]
        for i in range(1, m):
            if dij[i] < d_min:
                d_min = dij[i]
                a = i
        b = nn[a]
        if b >= 0:
            if a < b:
                a, b = b, a
            # E-scheme recombination into the lower slot; the constituent chain of
            # the parent with the lower history index comes first
            spx[b] = spx[a] + spx[b]
            spy[b] = spy[a] + spy[b]
            spz[b] = spz[a] + spz[b]
            se[b] = se[a] + se[b]
            if hist[a] < hist[b]:
                first, second = a, b
            else:
                first, second = b, a
            link[tail[first]] = head[second]
            new_head = head[first]
            new_tail = tail[second]
            head[b] = new_head
            tail[b] = new_tail
            count[b] = count[a] + count[b]
            hist[b] = next_hist
            rap[b], phi[b] = _rapidity_phi(spx[b], spy[b], spz[b], se[b])
            factor[b] = _momentum_factor(spx[b] * spx[b] + spy[b] * spy[b], algorithm)
            nn[b] = -1
            nn_dist[b] = r2
        else:
            # beam recombination: an inclusive jet if it passes inclusive_jets' cut
            kt2 = spx[a] * spx[a] + spy[a] * spy[a]
            if algorithm == 0:
                keep = d_min * inv_r2 >= ptmin2  # kT: the step's d_iB (= kt2 · R² / R²)
            else:
                keep = kt2 >= ptmin2
            if keep:
                beam_slot_px[n_beam] = spx[a]
                beam_slot_py[n_beam] = spy[a]
                beam_slot_pz[n_beam] = spz[a]
                beam_slot_e[n_beam] = se[a]
                beam_head[n_beam] = head[a]
                beam_count[n_beam] = count[a]
                n_beam += 1
        next_hist += 1
        m -= 1
        # the last slot moves into the freed one
        rap[a] = rap[m]
        phi[a] = phi[m]
        factor[a] = factor[m]
        nn_dist[a] = nn_dist[m]
        nn[a] = nn[m]
        dij[a] = dij[m]
        spx[a] = spx[m]
        spy[a] = spy[m]
        spz[a] = spz[m]
        se[a] = se[m]
        hist[a] = hist[m]
        head[a] = head[m]
        tail[a] = tail[m]
        count[a] = count[m]
        for i in range(m):
            # FastJet also recomputes, after a beam step (jetB = NULL), every jet without
            # a neighbour (NN = NULL): that finds none again (a jet that came within R
            # since was set as its neighbour below), so it is skipped here
            if nn[i] == a or (b >= 0 and nn[i] == b):
                best = r2
                best_j = -1
                ri = rap[i]
                pi_ = phi[i]
                for j in range(m):
                    if j == i:
                        continue
                    d = _distance2(ri, pi_, rap[j], phi[j])
                    if d < best:
                        best = d
                        best_j = j
                nn[i] = best_j
                nn_dist[i] = best
                dij[i] = _pair_dij(factor, nn_dist, nn, i)
            if b >= 0:
                d = _distance2(rap[i], phi[i], rap[b], phi[b])
                if d < nn_dist[i] and i != b:
                    nn_dist[i] = d
                    nn[i] = b
                    dij[i] = _pair_dij(factor, nn_dist, nn, i)
                if d < nn_dist[b] and i != b:
                    nn_dist[b] = d
                    nn[b] = i
            if nn[i] == m:
                nn[i] = a
        if b >= 0:
            dij[b] = _pair_dij(factor, nn_dist, nn, b)
    return n_beam


@numba.njit(cache=True)
def cluster_events(  # noqa: PLR0913
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    offsets: np.ndarray,
    algorithm: int,
    radius: float,
    pt_min: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Inclusive jets of every event and their constituents, as FastJet computes them.

    Each event ``offsets[e]:offsets[e + 1]`` is clustered as FastJet's ``N2Plain``
    strategy does (:func:`_cluster_one_event`): ``d_ij = min(f_i, f_j) ΔR²_ij`` and
    ``d_iB = f_i R²`` (FastJet's distances times R²) with the momentum factor f of
    ``jet_scale_for_algorithm`` (kT: kt2, C/A: 1, anti-kT: 1/kt2), E-scheme, rapidity
    and φ of ``PseudoJet``, the same slots, nearest-neighbour updates and first-index
    choice between equal distances. A beam recombination gives an inclusive jet when
    it passes ``inclusive_jets(pt_min)``: ``perp2 >= pt_min²`` (C/A, anti-kT), the
    step's ``d_iB / R² >= pt_min²`` (kT).

    Args:
        px, py, pz, energy: Particle four-momenta (float64), event after event.
        offsets: int64, ``n_events + 1`` entries.
        algorithm: :data:`ALGORITHM_CODES` value.
        radius: Jet radius R.
        pt_min: Inclusive-jet threshold in GeV.

    Returns:
        ``(jet_px, jet_py, jet_pz, jet_e, n_jets, n_constituents, constituents)``: the
        jets of each event in the order of FastJet's ``inclusive_jets``, the jets per
        event, the constituents per jet, and each jet's constituents in turn as
        positions in the flat particle arrays in increasing order (FastJet's
        ``constituent_index`` + the event's offset).
    """
    n_events = len(offsets) - 1
    total = offsets[n_events] - offsets[0]
    largest = 0
    for e in range(n_events):
        largest = max(largest, offsets[e + 1] - offsets[e])
    rap = np.empty(largest)
    phi = np.empty(largest)
    factor = np.empty(largest)
    nn_dist = np.empty(largest)
    nn = np.empty(largest, dtype=np.int64)
    dij = np.empty(largest)
    spx = np.empty(largest)
    spy = np.empty(largest)
    spz = np.empty(largest)
    se = np.empty(largest)
    hist = np.empty(largest, dtype=np.int64)
    head = np.empty(largest, dtype=np.int64)
    tail = np.empty(largest, dtype=np.int64)
    count = np.empty(largest, dtype=np.int64)
    link = np.empty(largest, dtype=np.int64)
    b_px = np.empty(largest)
    b_py = np.empty(largest)
    b_pz = np.empty(largest)
    b_e = np.empty(largest)
    b_head = np.empty(largest, dtype=np.int64)
    b_count = np.empty(largest, dtype=np.int64)
    label = np.full(largest, -1, dtype=np.int64)
    fill = np.empty(largest, dtype=np.int64)

    jet_px = np.empty(total)
    jet_py = np.empty(total)
    jet_pz = np.empty(total)
    jet_e = np.empty(total)
    n_jets = np.zeros(n_events, dtype=np.int64)
    n_const = np.empty(total, dtype=np.int64)
    constituents = np.empty(total, dtype=np.int64)
    r2 = radius * radius
    inv_r2 = 1.0 / r2
    ptmin2 = pt_min * pt_min
    k = 0  # jets written
    c = 0  # constituents written
    for e in range(n_events):
        start = offsets[e]
        n_beam = _cluster_one_event(
            px, py, pz, energy, start, offsets[e + 1] - start, algorithm, r2, inv_r2,
            ptmin2, rap, phi, factor, nn_dist, nn, dij, spx, spy, spz, se, hist, head,
            tail, count, link, b_px, b_py, b_pz, b_e, b_head, b_count,
        )
        n_jets[e] = n_beam
        first_jet = k
        for q in range(n_beam - 1, -1, -1):  # inclusive_jets runs the history backwards
            jet_px[k] = b_px[q]
            jet_py[k] = b_py[q]
            jet_pz[k] = b_pz[q]
            jet_e[k] = b_e[q]
            n_const[k] = b_count[q]
            fill[k - first_jet] = c
            c += b_count[q]
            p = b_head[q]
            while p >= 0:
                label[p] = k - first_jet
                p = link[p]
            k += 1
        if n_beam > 0:
            # constituent_index lists each jet's particles in increasing index order
            for p in range(offsets[e + 1] - start):
                jet = label[p]
                if jet >= 0:
                    constituents[fill[jet]] = start + p
                    fill[jet] += 1
                    label[p] = -1
    return (
        jet_px[:k], jet_py[:k], jet_pz[:k], jet_e[:k], n_jets, n_const[:k], constituents[:c]
    )
