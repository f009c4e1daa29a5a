"""Exclusive kT subjets of many jets at once (through FastJet) and N-subjettiness.

The axes of N-subjettiness (definition in :mod:`hepnnlr.observables.jets`) are each
jet's exclusive kT subjets, as in FastJet-contrib's ``KT_Axes``. FastJet finds them for
all jets of a chunk in one call: :func:`per_jet_sequence` builds one multi-event
``ClusterSequence`` whose "events" are the jets (each list holds one jet's constituents),
clustered with kT at ``JetDefinition.max_allowable_R`` (so every pair of constituents
merges before any beam recombination), and ``exclusive_jets_up_to(N)`` of it are the N
subjets of every jet. hepnnlr then evaluates the published sum over constituents
(:func:`tau_of_axes`), vectorized in NumPy over all constituents of all jets.

The flat-buffer conventions shared by the observables: a chunk's particles (or a set of
jets' constituents) are flat float64 arrays, one list after the other, with
``offsets[j]:offsets[j + 1]`` the entries of list j.
"""

from __future__ import annotations

import warnings

import awkward as ak
import fastjet
import numpy as np

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.observables import _fastjet, _kernels  # noqa: F401  (_fastjet: its banner under -q)

__all__ = [
    "exclusive_kt_subjets",
    "nsubjettiness",
    "per_jet_sequence",
    "rapidity_phi",
    "subjettiness",
    "tau_of_axes",
]

# Rapidity given to a massless particle exactly along the beam (E = |pz|, pT = 0), whose
# rapidity is infinite: large enough that such a particle is never near an axis.
_BEAM_RAPIDITY = 1e5
# Bounds within which a kT reclustering at R = 1000 merges pairwise only (_pairwise_only).
_PAIRWISE_RAPIDITY = 400.0
_PAIRWISE_PT = 1e-60


def offsets_of(counts: np.ndarray) -> np.ndarray:
    """``len(counts) + 1`` offsets (int64) of lists with these lengths."""
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def list_of_momenta(
    offsets: np.ndarray, px: np.ndarray, py: np.ndarray, pz: np.ndarray, energy: np.ndarray
) -> ak.Array:
    """``var * {px, py, pz, E}`` awkward array built straight from flat buffers (the input
    of a multi-event ``fastjet.ClusterSequence``)."""
    content = ak.contents.RecordArray(
        [ak.contents.NumpyArray(np.ascontiguousarray(a)) for a in (px, py, pz, energy)],
        ["px", "py", "pz", "E"],
    )
    return ak.Array(ak.contents.ListOffsetArray(ak.index.Index64(offsets), content))


def quiet_exclusive(call, *args):  # noqa: ANN001, ANN201
    """Call a ``ClusterSequence`` exclusive-jet method without the ``fastjet`` package's
    "dcut and exclusive jets for jet-finders other than kt, C/A or genkt with p>=0"
    warning.

    fastjet 3.5.2's ``_warn_for_exclusive`` compares the ``JetDefinition`` object with
    algorithm enums, which never match, so it warns for every algorithm, kt included.
    hepnnlr checks the algorithm itself (:class:`hepnnlr.observables.jets.JetConfig`
    refuses exclusive anti-kT), so the warning says nothing here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="dcut and exclusive jets for jet-finders")
        return call(*args)


def rapidity_phi(
    px: np.ndarray, py: np.ndarray, pz: np.ndarray, energy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rapidity y = ½ ln((E + pz)/(E − pz)) and azimuth φ of flat four-momenta.

    Written as y = ± ln((E + |pz|)/m_T) with m_T² = (E + pz)(E − pz), which stays accurate
    where E ≈ |pz|; a negative m² from round-off is taken as 0 (m_T² ≥ pT²). A massless
    particle along the beam gets |y| = 1e5.
    """
    pt2 = px * px + py * py
    mt2 = (energy + pz) * (energy - pz)
    np.maximum(mt2, pt2, out=mt2)
    along_beam = mt2 <= 0
    beam = bool(along_beam.any())
    if beam:
        mt2[along_beam] = 1.0
    # the same operations as ½ ln((E + |pz|)² / m_T²), in place: one buffer, not five
    y = np.abs(pz)
    y += energy
    y *= y
    y /= mt2
    np.log(y, out=y)
    y *= 0.5
    if beam:
        y[along_beam] = _BEAM_RAPIDITY
    return np.copysign(y, pz, out=y), np.arctan2(py, px)


def per_jet_sequence(
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    n_constituents: np.ndarray,
) -> fastjet.ClusterSequence:
    """One FastJet ``ClusterSequence`` whose lists are jets, each its constituents.

    Clustered with kT at R = ``JetDefinition.max_allowable_R`` (= 1000, E-scheme): every
    pair of constituents merges before any beam recombination, so
    ``exclusive_jets_up_to(N)`` of a list are that jet's N exclusive-kT subjets (the
    ``KT_Axes`` of FastJet-contrib's ``Nsubjettiness``) and its single exclusive jet
    holds every constituent.

    Args:
        px, py, pz, energy: Constituent momenta in GeV (float64), ``n_constituents.sum()``
            entries, jet after jet.
        n_constituents: Constituents of each jet (each >= 1).
    """
    offsets = offsets_of(np.asarray(n_constituents, dtype=np.int64))
    return fastjet.ClusterSequence(
        list_of_momenta(offsets, px, py, pz, energy),
        fastjet.JetDefinition(fastjet.kt_algorithm, fastjet.JetDefinition.max_allowable_R),
    )


def checked_jets(
    what: str, four: tuple[np.ndarray, ...], n_constituents: np.ndarray
) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Checked float64 constituent arrays and per-jet offsets."""
    n_constituents = np.asarray(n_constituents, dtype=np.int64)
    if n_constituents.ndim != 1:
        raise ShapeMismatchError(
            f"{what}: n_constituents must be one count per jet (1-d), got shape "
            f"{n_constituents.shape}."
        )
    if len(n_constituents) and n_constituents.min() < 1:
        raise ShapeMismatchError(
            f"{what}: jet {int(np.argmin(n_constituents))} has no constituents; pass "
            "only jets (each has at least one constituent), e.g. those of cluster_flat."
        )
    four = tuple(np.ascontiguousarray(a, dtype=np.float64) for a in four)
    total = int(n_constituents.sum())
    for name, array in zip(("px", "py", "pz", "energy"), four, strict=True):
        if array.shape != (total,):
            raise ShapeMismatchError(
                f"{what}: {name} has shape {array.shape} but n_constituents sums to {total}; "
                "pass the constituents of exactly these jets, jet after jet."
            )
    return four, offsets_of(n_constituents)


def exclusive_kt_subjets(
    sequence: fastjet.ClusterSequence, n: int
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The exclusive kT subjets of every jet of a :func:`per_jet_sequence`.

    Returns:
        ``(counts, (px, py, pz, E))``: min(n, constituents) subjets per jet and their flat
        four-momenta, jet after jet (FastJet's ``exclusive_jets_up_to(n)``).
    """
    layout = quiet_exclusive(sequence.exclusive_jets_up_to, int(n)).layout
    counts = np.diff(np.asarray(layout.offsets)).astype(np.int64)
    first = int(layout.offsets[0])
    four = tuple(
        np.asarray(layout.content[f].data, dtype=np.float64)[first : first + counts.sum()]
        for f in ("px", "py", "pz", "E")
    )
    return counts, four


def tau_of_axes(
    rapidity: np.ndarray,
    phi: np.ndarray,
    pt: np.ndarray,
    jet_of: np.ndarray,
    norm: np.ndarray,
    axis_counts: np.ndarray,
    axes: tuple[np.ndarray, ...],
) -> np.ndarray:
    """τN = Σ_i pT_i min_k ΔR(i, a_k) / norm of every jet, given its axes.

    ΔR² = Δy² + Δφ² (Δφ folded into [0, π]); the sum runs in one compiled pass over the
    constituents (``hepnnlr.observables._kernels.subjettiness_sums``).

    Args:
        rapidity, phi, pt: Flat constituent values, jet after jet.
        jet_of: The jet of each constituent (0, 0, ..., 1, ...).
        norm: Per jet, Σ pT_i · R0.
        axis_counts: Axes per jet (each >= 1).
        axes: Flat (px, py, pz, E) of the axes, jet after jet.
    """
    axis_rapidity, axis_phi = rapidity_phi(*axes)
    return _kernels.subjettiness_sums(
        rapidity,
        phi,
        pt,
        np.asarray(jet_of, dtype=np.int64),
        axis_rapidity,
        axis_phi,
        offsets_of(np.asarray(axis_counts, dtype=np.int64)),
        np.asarray(norm, dtype=np.float64),
    )


def _pairwise_only(rapidity: np.ndarray, pt: np.ndarray) -> bool:
    """Whether the kT clustering of :func:`per_jet_sequence` merges these constituents
    pairwise only, down to one jet per list.

    At R = ``JetDefinition.max_allowable_R`` (1000) a pair merges before either
    constituent goes to the beam when ΔR² < R² and both have kT > 0 (d_ij = min(kT²) ΔR² /
    R² < d_iB = kT²): true when every |y| < 400 and every pT > 1e-60 GeV (no constituent
    along the beam).
    """
    # three reductions, no temporary array (max |y| = max(max y, -min y)); a NaN makes
    # both max and min NaN and fails the tests either way
    largest = max(rapidity.max(), -rapidity.min())
    return bool(largest < _PAIRWISE_RAPIDITY and pt.min() > _PAIRWISE_PT)


def _merged(counts: np.ndarray, axes: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """The one exclusive jet of each list from its two exclusive subjets (FastJet's
    E-scheme: the four-momenta added component by component), or its only subjet."""
    starts = offsets_of(counts)[:-1]
    second = np.minimum(starts + 1, max(len(axes[0]) - 1, 0))
    two = counts == 2
    return tuple(np.where(two, a[starts] + a[second], a[starts]) for a in axes)


def constituent_kinematics(
    four: tuple[np.ndarray, ...],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rapidity, phi, pt)`` of flat float64 constituent momenta (:func:`rapidity_phi`,
    and pT as ``np.hypot(px, py)``): what τN and the energy correlators are sums of.
    Computed in one compiled pass, bit for bit these NumPy expressions
    (:func:`hepnnlr.observables._kernels.kinematics`)."""
    return _kernels.kinematics(*four)


def taus(
    four: tuple[np.ndarray, ...],
    n_constituents: np.ndarray,
    radius: float,
    ns: tuple[int, ...],
    kinematics: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> dict[int, np.ndarray]:
    """τN for each N in ``ns`` of checked jets (:func:`checked_jets`); one FastJet
    reclustering serves every N.

    With N = 1 and 2 both asked for, the τ1 axis of a jet whose reclustering merges
    pairwise only (:func:`_pairwise_only`: every physical jet) is the sum of its two τ2
    axes: the last merging of that clustering, the very numbers FastJet's
    ``exclusive_jets_up_to(1)`` returns, without a second pass over all jets.
    ``kinematics`` is :func:`constituent_kinematics` of ``four`` when the caller has it.
    """
    n_constituents = np.asarray(n_constituents, dtype=np.int64)
    out = {n: np.zeros(len(n_constituents)) for n in ns}
    if not len(n_constituents):
        return out
    rapidity, phi, pt = constituent_kinematics(four) if kinematics is None else kinematics
    jet_of = np.repeat(np.arange(len(n_constituents)), n_constituents)
    sum_pt = np.bincount(jet_of, weights=pt, minlength=len(n_constituents))
    # a jet with no transverse momentum has τN = 0 (every constituent on its axis)
    norm = np.where(sum_pt > 0, sum_pt * float(radius), 1.0)
    sequence = per_jet_sequence(*four, n_constituents)
    subjets: dict[int, tuple[np.ndarray, tuple[np.ndarray, ...]]] = {}
    for n in sorted(set(ns), reverse=True):
        if n == 1 and 2 in subjets and _pairwise_only(rapidity, pt):
            counts, axes = subjets[2]
            subjets[1] = (np.ones_like(counts), _merged(counts, axes))
        else:
            subjets[n] = exclusive_kt_subjets(sequence, n)
    for n in ns:
        counts, axes = subjets[n]
        values = tau_of_axes(rapidity, phi, pt, jet_of, norm, counts, axes)
        # at most N constituents: each is an axis, τN = 0 exactly
        out[n] = np.where(n_constituents > n, values, 0.0)
    return out


def tau21_of(tau1: np.ndarray, tau2: np.ndarray) -> np.ndarray:
    """τ21 = τ2/τ1, 0 where τ1 = 0 (:mod:`hepnnlr.observables.jets`)."""
    return np.where(tau1 > 0, tau2 / np.where(tau1 > 0, tau1, 1.0), 0.0)


def nsubjettiness(
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    n_constituents: np.ndarray,
    radius: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """τ1, τ2 and τ21 of jets given as flat constituent four-momenta, jet after jet.

    The axes are each jet's exclusive-kT subjets, found by FastJet for all jets in one
    ``ClusterSequence`` (module docstring). Each jet's value depends on its own
    constituents only, so any subset of the jets of
    :func:`hepnnlr.observables.jets.cluster_flat` can be passed.

    Args:
        px, py, pz, energy: Constituent momenta (float64), ``n_constituents.sum()``.
        n_constituents: Constituents of each jet (each >= 1).
        radius: The jet radius R (= R0 of the normalised measure).

    Returns:
        ``(tau1, tau2, tau21)``, one float64 value per jet.
    """
    four, _ = checked_jets("nsubjettiness", (px, py, pz, energy), n_constituents)
    values = taus(four, n_constituents, radius, (1, 2))
    return values[1], values[2], tau21_of(values[1], values[2])


def subjettiness(
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    n_constituents: np.ndarray,
    radius: float,
    n: int,
) -> np.ndarray:
    """τ_N of jets given as flat constituent four-momenta, jet after jet, for any N >= 1.

    Same conventions as :func:`nsubjettiness` (β = 1, normalised by Σ pT · R, the N
    exclusive-kT subjets as axes; a jet with at most N constituents has τ_N = 0), e.g.
    ``n=3`` for τ3 and τ32 = τ3 / τ2.

    Returns:
        One float64 value per jet.
    """
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ConfigError(f"subjettiness: n={n!r}; N-subjettiness needs an integer N >= 1.")
    four, _ = checked_jets("subjettiness", (px, py, pz, energy), n_constituents)
    return taus(four, n_constituents, radius, (int(n),))[int(n)]
