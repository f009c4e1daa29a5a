"""The Z → jets analysis's jets, as functions of the events.

``zjets.yaml`` names them as ``hepnnlr.analysis.builtin.zjets:gen`` and ``...:reco``: each
takes a chunk of hepnnlr e+e− → Z → qq̄ events (:func:`hepnnlr.samples.zjets.make_zjets_sample`)
and returns one record per event: ``n_jets`` (anti-kT R = 0.8, pT > 5 GeV, of all
``GenPart`` / ``RecoPart``), ``jets``, the (at most) two leading jets with ``pt``,
``eta``, ``phi``, ``mass``, ``multiplicity``, ``n_strange``, ``tau21`` and ``ecf3``
(e_3^(β=4)), and ``jet1``/``jet2``, the same jets one per event (None where the event has
fewer) with their ``constituents`` (:func:`jet_records`): the values and records of
``ZJetsProcessor``, which the fit's features (``jet1.multiplicity``) and particle sets
(the constituents) read.

The analysis is the parton-shower tuning example of Sec. III B of Andreassen, Hsu,
Nachman, Suaysom & Suresh, "Parameter Estimation using Neural Networks in the Presence of
Detector Effects" (SRGN), arXiv:2010.03569. Everything is computed by
:mod:`hepnnlr.observables` (``cartesian_of``, ``cluster_flat_momenta``,
``jet_shapes_flat``, ``STRANGE_HADRON_IDS``) on the chunk's flat float64 buffers by
:func:`leading_jets`, the one implementation that ``ZJetsProcessor`` calls too, so both
give the same values bit for bit (``tests/analysis/test_zjets_description.py``). At
detector level the strange count is that of the neutral-hadron clusters (code 130), as the
processor's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np

from hepnnlr.analysis.builtin._buffers import flat_fields
from hepnnlr.observables.dis import wrap_phi
from hepnnlr.observables.jets import JetConfig, cartesian_of, cluster_flat_momenta
from hepnnlr.observables.substructure import (
    STRANGE_HADRON_IDS,
    decreasing_pt_order,
    jet_shapes_flat,
)

__all__ = ["JETS", "JET_SLOTS", "LeadingJets", "gen", "jet_records", "leading_jets", "reco"]

JETS = JetConfig(algorithm="antikt", radius=0.8, pt_min=5.0)
"""Anti-kT, R = 0.8 (Sec. III B of arXiv:2010.03569), pT > 5 GeV."""

_ECF_BETA = 4.0
_LEADING = 2
_STRANGE_CODES = np.asarray(sorted(STRANGE_HADRON_IDS), dtype=np.int64)
_FIELDS = ("pt", "eta", "phi", "E", "pdgId", "charge")
JET_SLOTS = ("jet1", "jet2")
"""The leading and subleading jet, one record per event each."""


def gen(events: Any) -> ak.Array:
    """Particle-level jets of every event (``GenPart``)."""
    return _level(events["GenPart"])


def reco(events: Any) -> ak.Array:
    """Detector-level jets of every event (``RecoPart``)."""
    return _level(events["RecoPart"])


def _level(particles: Any) -> ak.Array:
    counts, flat = flat_fields(particles, _FIELDS)
    lead = leading_jets(counts, flat)
    offsets = np.zeros(len(lead.n_jets) + 1, dtype=np.int64)
    np.cumsum(np.minimum(lead.n_jets, _LEADING), out=offsets[1:])
    leading = ak.contents.ListOffsetArray(
        ak.index.Index64(offsets),
        ak.contents.RecordArray(
            [ak.contents.NumpyArray(np.ascontiguousarray(v)) for v in lead.fields.values()],
            list(lead.fields),
        ),
    )
    return ak.Array(
        ak.contents.RecordArray(
            [ak.contents.NumpyArray(lead.n_jets), leading, *jet_records(flat, lead)],
            ["n_jets", "jets", *JET_SLOTS],
        )
    )


@dataclass(frozen=True)
class LeadingJets:
    """The (at most) two leading jets of every event of a chunk, as flat arrays.

    Attributes:
        n_jets: Jets per event (all of them, not only the leading).
        fields: Per leading jet, event after event: ``pt``, ``eta``, ``phi``, ``mass``,
            ``multiplicity``, ``n_strange``, ``tau21``, ``ecf3``.
        rank: 0 for an event's leading jet, 1 for its second.
        constituents: Indices into the flat particles of the leading jets' constituents,
            jet after jet (``fields["multiplicity"]`` each).
    """

    n_jets: np.ndarray
    fields: dict[str, np.ndarray]
    rank: np.ndarray
    constituents: np.ndarray


def leading_jets(
    counts: np.ndarray,
    flat: dict[str, np.ndarray],
    *,
    jets: JetConfig = JETS,
    ecf_beta: float = _ECF_BETA,
) -> LeadingJets:
    """Cluster every event's particles and describe its two leading jets (the one
    implementation, which ``ZJetsProcessor`` calls too).

    Args:
        counts: Particles per event.
        flat: Flat particle ``pt``, ``eta``, ``phi``, ``E``, ``pdgId``.
        jets: Jet definition, clustered on all particles.
        ecf_beta: Angular exponent β of ``ecf3``.
    """
    pt, eta, phi, energy = (
        flat[f].astype(np.float64, copy=False) for f in ("pt", "eta", "phi", "E")
    )
    # = cluster_flat(counts, pt, eta, phi, energy, ...), keeping the Cartesian momenta for
    # the constituents' shapes; τ21 of the leading jets only, computed below with their e3
    px, py, pz = cartesian_of(pt, eta, phi)
    clustered = cluster_flat_momenta(counts, px, py, pz, energy, jets, with_nsubjettiness=False)
    n_jets = clustered.n_jets
    jet_starts = np.zeros(len(n_jets), dtype=np.int64)
    np.cumsum(n_jets[:-1], out=jet_starts[1:])
    rank = np.arange(len(clustered.pt)) - np.repeat(jet_starts, n_jets)
    lead = rank < _LEADING
    n_const = clustered.n_constituents[lead]
    index = clustered.constituents[np.repeat(lead, clustered.n_constituents)]
    # τ21 and e3 of the leading jets in one compiled pass over their constituents
    _, _, tau21, ecf3 = jet_shapes_flat(
        px[index], py[index], pz[index], energy[index], n_const, jets.radius, 3, ecf_beta
    )
    strange = np.isin(np.abs(flat["pdgId"][index].astype(np.int64)), _STRANGE_CODES)
    cumulative = np.concatenate([[0], np.cumsum(strange, dtype=np.int64)])
    c_offsets = np.concatenate([[0], np.cumsum(n_const)])
    kinematics = {f: getattr(clustered, f)[lead] for f in ("px", "py", "pz", "E")}
    # = jet_mass(...), sqrt(max(E² − p², 0)): the same operations, in the same order
    m2 = kinematics["E"] ** 2 - kinematics["px"] ** 2 - kinematics["py"] ** 2
    m2 = m2 - kinematics["pz"] ** 2
    fields = {
        "pt": clustered.pt[lead],
        "eta": clustered.eta[lead],
        "phi": clustered.phi[lead],
        "mass": np.sqrt(np.where(m2 > 0, m2, 0.0)),
        "multiplicity": n_const,
        "n_strange": cumulative[c_offsets[1:]] - cumulative[c_offsets[:-1]],
        "tau21": tau21,
        "ecf3": ecf3,
    }
    return LeadingJets(n_jets, fields, rank[lead], index)


def jet_records(flat: dict[str, np.ndarray], lead: LeadingJets) -> list[ak.contents.Content]:
    """The ``jet1`` and ``jet2`` columns of :class:`ZJetsProcessor`'s level records (the
    one implementation, which it calls too): per event the jet's fields of
    :class:`LeadingJets` and its ``constituents`` (``pt``, ``pt_frac``, ``deta``, ``dphi``
    relative to the jet axis, ``pdgId``, ``charge``, by decreasing pT), None where the
    event has fewer jets.

    Args:
        flat: The flat particles of :func:`leading_jets` with ``charge``.
        lead: Their leading jets.
    """
    jet_fields, index = lead.fields, lead.constituents
    n_lead = np.minimum(lead.n_jets, len(JET_SLOTS))
    # by decreasing pT within each jet (stable), jet-relative; the constituents of all
    # jet1 first, then those of all jet2, so that each slot's are one slice of a single
    # gather per field
    n_const = jet_fields["multiplicity"]
    c_pt, c_eta, c_phi = (
        flat[f].astype(np.float64, copy=False)[index] for f in ("pt", "eta", "phi")
    )
    jet_pt, jet_eta, jet_phi = jet_fields["pt"], jet_fields["eta"], jet_fields["phi"]
    jet_of = np.repeat(np.arange(len(n_const)), n_const)
    order = decreasing_pt_order(c_pt, n_const)  # = np.lexsort((-c_pt, jet_of))
    by_slot = np.concatenate(
        [order[np.repeat(lead.rank == r, n_const)] for r in range(len(JET_SLOTS))]
    )
    jet_of = jet_of[by_slot]
    constituents = {
        "pt": c_pt[by_slot],
        "pt_frac": c_pt[by_slot] / jet_pt[jet_of],
        "deta": c_eta[by_slot] - jet_eta[jet_of],
        "dphi": wrap_phi(c_phi[by_slot] - jet_phi[jet_of]),
        "pdgId": flat["pdgId"][index[by_slot]].astype(np.int32),
        "charge": flat["charge"][index[by_slot]].astype(np.int8),
    }
    slots = []
    start = 0
    for r in range(len(JET_SLOTS)):
        picked = lead.rank == r
        stop = start + int(n_const[picked].sum())
        part = {f: v[start:stop] for f, v in constituents.items()}
        slots.append(_jet_slot(picked, n_lead > r, jet_fields, n_const, part))
        start = stop
    return slots


def _lists(counts: np.ndarray, fields: dict[str, np.ndarray]) -> ak.contents.Content:
    """``var * {fields}`` layout from per-entry counts and flat NumPy fields."""
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    contents = [ak.contents.NumpyArray(np.ascontiguousarray(v)) for v in fields.values()]
    return ak.contents.ListOffsetArray(
        ak.index.Index64(offsets), ak.contents.RecordArray(contents, list(fields))
    )


def _jet_slot(
    picked: np.ndarray,
    present: np.ndarray,
    jet_fields: dict[str, np.ndarray],
    n_const: np.ndarray,
    constituents: dict[str, np.ndarray],
) -> ak.contents.IndexedOptionArray:
    """One ``?{jet fields, constituents: var * {...}}`` column (``jet1`` or ``jet2``),
    packed: the ``picked`` leading jets (one per event where ``present``, in event order)
    and their ``constituents`` (those of the picked jets only, jet after jet), None for
    the other events."""
    index = np.full(len(present), -1, dtype=np.int64)
    index[present] = np.arange(int(np.count_nonzero(present)), dtype=np.int64)
    content = _lists(n_const[picked], constituents)
    record = ak.contents.RecordArray(
        [
            *(ak.contents.NumpyArray(np.ascontiguousarray(v[picked])) for v in jet_fields.values()),
            content,
        ],
        [*jet_fields, "constituents"],
    )
    return ak.contents.IndexedOptionArray(ak.index.Index64(index), record)
