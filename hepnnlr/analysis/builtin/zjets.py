"""The Z → jets analysis's jets, as functions of the events.

``zjets.yaml`` names them as ``hepnnlr.analysis.builtin.zjets:gen`` and ``...:reco``: each
takes a chunk of hepnnlr e+e− → Z → qq̄ events (:func:`hepnnlr.samples.zjets.make_zjets_sample`)
and returns one record per event: ``n_jets`` (anti-kT R = 0.8, pT > 5 GeV, of all
``GenPart`` / ``RecoPart``) and ``jets``, the (at most) two leading jets with ``pt``,
``eta``, ``phi``, ``mass``, ``multiplicity``, ``n_strange``, ``tau21`` and ``ecf3``
(e_3^(β=4)), the values of ``ZJetsProcessor``.

The analysis is the parton-shower tuning example of Sec. III B of Andreassen, Hsu,
Nachman, Suaysom & Suresh, "Parameter Estimation using Neural Networks in the Presence of
Detector Effects" (the SRGN paper), arXiv:2010.03569. Everything is computed by
:mod:`hepnnlr.observables` (``cartesian_of``, ``cluster_flat_momenta``,
``jet_shapes_flat``, ``STRANGE_HADRON_IDS``) on the chunk's flat float64 buffers, in
the order ``ZJetsProcessor`` uses, so both give the same values bit for bit
(``tests/analysis/test_zjets_description.py``). At detector level the strange count is
that of the neutral-hadron clusters (code 130), as the processor's.
"""

from __future__ import annotations

from typing import Any

import awkward as ak
import numpy as np

from hepnnlr.analysis.builtin._buffers import flat_fields
from hepnnlr.observables.jets import JetConfig, cartesian_of, cluster_flat_momenta
from hepnnlr.observables.substructure import STRANGE_HADRON_IDS, jet_shapes_flat

__all__ = ["JETS", "gen", "reco"]

JETS = JetConfig(algorithm="antikt", radius=0.8, pt_min=5.0)
"""Anti-kT, R = 0.8 (Sec. III B of the SRGN paper), pT > 5 GeV."""

_ECF_BETA = 4.0
_LEADING = 2
_STRANGE_CODES = np.asarray(sorted(STRANGE_HADRON_IDS), dtype=np.int64)
_FIELDS = ("pt", "eta", "phi", "E", "pdgId")


def gen(events: Any) -> ak.Array:
    """Particle-level jets of every event (``GenPart``)."""
    return _level(events["GenPart"])


def reco(events: Any) -> ak.Array:
    """Detector-level jets of every event (``RecoPart``)."""
    return _level(events["RecoPart"])


def _level(particles: Any) -> ak.Array:
    counts, flat = flat_fields(particles, _FIELDS)
    pt, eta, phi, energy = (
        flat[f].astype(np.float64, copy=False) for f in ("pt", "eta", "phi", "E")
    )
    px, py, pz = cartesian_of(pt, eta, phi)
    # τ21 of the leading jets only, computed below with their e3
    jets = cluster_flat_momenta(counts, px, py, pz, energy, JETS, with_nsubjettiness=False)
    n_jets = jets.n_jets
    jet_starts = np.zeros(len(n_jets), dtype=np.int64)
    np.cumsum(n_jets[:-1], out=jet_starts[1:])
    rank = np.arange(len(jets.pt)) - np.repeat(jet_starts, n_jets)
    lead = rank < _LEADING
    n_const = jets.n_constituents[lead]
    index = jets.constituents[np.repeat(lead, jets.n_constituents)]
    _, _, tau21, ecf3 = jet_shapes_flat(
        px[index], py[index], pz[index], energy[index], n_const, JETS.radius, 3, _ECF_BETA
    )
    strange = np.isin(np.abs(flat["pdgId"][index].astype(np.int64)), _STRANGE_CODES)
    cumulative = np.concatenate([[0], np.cumsum(strange, dtype=np.int64)])
    c_offsets = np.concatenate([[0], np.cumsum(n_const)])
    kinematics = {f: getattr(jets, f)[lead] for f in ("px", "py", "pz", "E")}
    # the jet mass, sqrt(max(E² − p², 0)), with the processor's order of operations
    m2 = kinematics["E"] ** 2 - kinematics["px"] ** 2 - kinematics["py"] ** 2
    m2 = m2 - kinematics["pz"] ** 2
    fields = {
        "pt": jets.pt[lead],
        "eta": jets.eta[lead],
        "phi": jets.phi[lead],
        "mass": np.sqrt(np.where(m2 > 0, m2, 0.0)),
        "multiplicity": n_const,
        "n_strange": cumulative[c_offsets[1:]] - cumulative[c_offsets[:-1]],
        "tau21": tau21,
        "ecf3": ecf3,
    }
    offsets = np.zeros(len(n_jets) + 1, dtype=np.int64)
    np.cumsum(np.minimum(n_jets, _LEADING), out=offsets[1:])
    leading = ak.contents.ListOffsetArray(
        ak.index.Index64(offsets),
        ak.contents.RecordArray(
            [ak.contents.NumpyArray(np.ascontiguousarray(v)) for v in fields.values()],
            list(fields),
        ),
    )
    return ak.Array(
        ak.contents.RecordArray([ak.contents.NumpyArray(n_jets), leading], ["n_jets", "jets"])
    )
