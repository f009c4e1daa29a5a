"""Coffea processor for e+e− → Z → light-quark dijets (Sec. III B of the SRGN paper).

:class:`ZJetsProcessor` reads the event files of :func:`hepnnlr.samples.zjets.make_zjets_sample`
and, at particle (``gen``, ``GenPart``) and detector (``reco``, ``RecoPart``) level,
clusters all particles into anti-kT R = 0.8 jets (pT > 5 GeV by default) and describes the
two leading jets by pT, η, mass, constituent multiplicity, number of strange hadrons,
τ21 and e_3^(β=4) = ECF(3, β=4)/ECF(1)^3 (:mod:`hepnnlr.observables.substructure`).

At detector level the strange-hadron count is :func:`count_strange` applied to the class
codes of the reconstructed objects: it counts neutral-hadron clusters (code 130), the
only strangeness-sensitive class of the emulated detector (no kaon identification).

Per chunk it returns, like :mod:`hepnnlr.processors.dis` (whose :func:`chunk_key` and
:func:`collect_columns` it reuses):

* ``cutflow``: ``events``, ``pass_gen``, ``pass_reco``, ``pass_both`` and per level
  (``gen_``/``reco_``) ``no_particles``, ``no_jets`` and ``lt2_jets`` (fewer than two
  jets, including none), counted over all events of the chunk;
* ``hists``: ``{"gen": {...}, "reco": {...}}`` from
  :mod:`hepnnlr.observables.zjets_histos`, filled with ``weight`` for ``pass_gen`` /
  ``pass_reco`` events;
* ``columns``: ``{chunk_key: ak.Array}``, one row per event: ``event``, ``weight``,
  ``pass_gen``, ``pass_reco``, the ``theta_alphaS``/``theta_aLund``/``theta_probStoUD``
  values when the file has them, and ``gen``/``reco`` records with ``n_jets``, ``jet1``
  and ``jet2``. A jet record holds ``pt``, ``eta``, ``phi``, ``mass``, ``multiplicity``,
  ``n_strange``, ``tau21``, ``ecf3`` and ``constituents`` (the PFN inputs: ``pt``,
  ``pt_frac``, ``deta``, ``dphi`` relative to the jet axis, ``pdgId``, ``charge``, by
  decreasing pT). ``jet1``/``jet2`` are ``None`` where the event has fewer jets (events
  with no particles at all included).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import awkward as ak
import numpy as np
from coffea import processor

from hepnnlr.errors import ConfigError, NonFiniteInputError
from hepnnlr.observables.jets import JetConfig, cluster_jets_with_constituents
from hepnnlr.observables.substructure import (
    constituent_features,
    count_strange,
    energy_correlation,
    jet_mass,
)
from hepnnlr.observables.zjets_histos import (
    JET_SLOTS,
    ZJETS_LEVELS,
    book_zjets_histograms,
    fill_zjets_histograms,
)
from hepnnlr.processors.dis import ChunkKey, chunk_key, collect_columns

__all__ = ["ChunkKey", "ZJETS_JETS", "ZJetsProcessor", "chunk_key", "collect_columns"]

ZJETS_JETS = JetConfig(algorithm="antikt", radius=0.8, pt_min=5.0)
"""Default jet definition: anti-kT, R = 0.8 (Sec. III B of the SRGN paper), pT > 5 GeV."""

_COLLECTIONS = {"gen": "GenPart", "reco": "RecoPart"}
_PARTICLE_FIELDS = ("pt", "eta", "phi", "E", "pdgId", "charge")
_THETA_BRANCHES = ("theta_alphaS", "theta_aLund", "theta_probStoUD")


def _required_branches() -> tuple[str, ...]:
    branches = ["event", "weight", "pass_gen", "pass_reco"]
    for collection in _COLLECTIONS.values():
        branches += ["n" + collection] + [f"{collection}_{f}" for f in _PARTICLE_FIELDS]
    return tuple(branches)


class ZJetsProcessor(processor.ProcessorABC):
    """Histograms and PFN inputs of Z → light-quark dijets at particle and detector level.

    Stateless: holds only frozen configuration, so it pickles to workers.

    Args:
        jets: Jet definition (default :data:`ZJETS_JETS`), clustered on all particles.
        ecf_beta: Angular exponent β of the histogrammed e_3 (default 4, as the paper).
    """

    required_branches: tuple[str, ...] = _required_branches()
    """Branches :meth:`process` reads (the θ branches are read when present)."""

    def __init__(self, *, jets: JetConfig | None = None, ecf_beta: float = 4.0) -> None:
        if jets is not None and not isinstance(jets, JetConfig):
            raise ConfigError(
                f"ZJetsProcessor(jets=...) expects a JetConfig or None, got "
                f"{type(jets).__name__}; e.g. JetConfig('antikt', 0.8, 5.0)."
            )
        if (
            isinstance(ecf_beta, bool)
            or not isinstance(ecf_beta, numbers.Real)
            or not (math.isfinite(ecf_beta) and ecf_beta > 0)
        ):
            raise ConfigError(
                f"ZJetsProcessor(ecf_beta=...) must be a number > 0, got {ecf_beta!r}."
            )
        self.jets = ZJETS_JETS if jets is None else jets
        self.ecf_beta = float(ecf_beta)

    def level_columns(self, particles: ak.Array) -> ak.Array:
        """Observables of one level from its particle collection.

        Returns:
            One record per event: ``n_jets``, ``jet1``, ``jet2`` (see the module doc).
        """
        particles = ak.zip(
            {
                **{
                    f: ak.values_astype(particles[f], np.float64) for f in ("pt", "eta", "phi", "E")
                },
                "pdgId": ak.values_astype(particles.pdgId, np.int32),
                "charge": ak.values_astype(particles.charge, np.int8),
            }
        )
        jets = cluster_jets_with_constituents(particles, self.jets)
        n_jets = ak.num(jets, axis=1)
        leading = jets[:, :2]
        records = ak.zip(
            {
                "pt": leading.pt,
                "eta": leading.eta,
                "phi": leading.phi,
                "mass": jet_mass(leading),
                "multiplicity": leading.n_constituents,
                "n_strange": count_strange(leading.constituents.pdgId),
                "tau21": leading.tau21,
                "ecf3": energy_correlation(leading.constituents, 3, self.ecf_beta),
                "constituents": constituent_features(leading),
            },
            depth_limit=2,
        )
        padded = ak.pad_none(records, 2, axis=1)
        return ak.zip(
            {"n_jets": n_jets, JET_SLOTS[0]: padded[:, 0], JET_SLOTS[1]: padded[:, 1]},
            depth_limit=1,
        )

    def process(self, events: ak.Array) -> dict[str, Any]:
        """Process one chunk of NanoEvents; returns ``{"cutflow", "hists", "columns"}``."""
        _check_finite_inputs(events)
        levels = {
            level: self.level_columns(events[collection])
            for level, collection in _COLLECTIONS.items()
        }
        weight = ak.to_numpy(events.weight).astype(np.float64)
        passed = {
            level: ak.to_numpy(events[f"pass_{level}"]).astype(bool) for level in ZJETS_LEVELS
        }
        hists = {level: book_zjets_histograms(level) for level in ZJETS_LEVELS}
        for level in ZJETS_LEVELS:
            mask = passed[level]
            fill_zjets_histograms(hists[level], levels[level][mask], weight[mask])

        cutflow = {
            "events": len(events),
            "pass_gen": int(passed["gen"].sum()),
            "pass_reco": int(passed["reco"].sum()),
            "pass_both": int((passed["gen"] & passed["reco"]).sum()),
        }
        for level, collection in _COLLECTIONS.items():
            n_jets = ak.to_numpy(levels[level].n_jets)
            cutflow[f"{level}_no_particles"] = int(ak.sum(ak.num(events[collection]) == 0))
            cutflow[f"{level}_no_jets"] = int((n_jets == 0).sum())
            cutflow[f"{level}_lt2_jets"] = int((n_jets < 2).sum())

        fields: dict[str, Any] = {
            "event": ak.values_astype(events.event, np.uint64),
            "weight": weight,
            "pass_gen": passed["gen"],
            "pass_reco": passed["reco"],
        }
        for name in _THETA_BRANCHES:
            if name in ak.fields(events):
                fields[name] = ak.to_numpy(events[name]).astype(np.float64)
        fields.update(levels)
        columns = ak.zip(fields, depth_limit=1)
        # plain, materialized arrays: no NanoEvents behaviour or lazy buffers travel back
        columns = ak.Array(ak.to_packed(ak.materialize(ak.without_parameters(columns))).layout)
        key = chunk_key(events.metadata, len(events))
        return {"cutflow": cutflow, "hists": hists, "columns": {key: columns}}

    def postprocess(self, accumulator: dict[str, Any]) -> dict[str, Any]:
        """Return the merged accumulator unchanged."""
        return accumulator


def _check_finite_inputs(events: ak.Array) -> None:
    """Refuse NaN/inf kinematics: clustering would carry them into every observable."""
    for collection in _COLLECTIONS.values():
        for field in ("pt", "eta", "phi", "E"):
            values = ak.to_numpy(ak.flatten(events[collection][field], axis=None))
            if not np.isfinite(values).all():
                bad = ak.to_numpy(ak.any(~np.isfinite(events[collection][field]), axis=1))
                entry = int(events.metadata.get("entrystart", 0) or 0) + int(np.argmax(bad))
                raise NonFiniteInputError(
                    f"branch {collection}_{field} of {events.metadata.get('filename', '?')} "
                    f"holds NaN or infinite values (first in entry {entry}); regenerate the "
                    "file or fix the step that wrote it."
                )
