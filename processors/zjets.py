"""Coffea processor for e+e− → Z → light-quark dijets (Sec. III B of arXiv:2010.03569).

Reference: Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural
Networks in the Presence of Detector Effects", arXiv:2010.03569.

:class:`ZJetsProcessor` reads the event files of :func:`hepnnlr.samples.zjets.make_zjets_sample`
and, at particle (``gen``, ``GenPart``) and detector (``reco``, ``RecoPart``) level,
clusters all particles into anti-kT R = 0.8 jets (pT > 5 GeV by default) and describes the
two leading jets by pT, η, mass, constituent multiplicity, number of strange hadrons,
τ21 and e_3^(β=4) = ECF(3, β=4)/ECF(1)^3 (:mod:`hepnnlr.observables.substructure`).
The jets are those of the ``zjets`` description
(:func:`hepnnlr.analysis.builtin.zjets.leading_jets`, one implementation for both): FastJet
clusters every chunk in one call (:func:`hepnnlr.observables.jets.cluster_flat_momenta`);
τ21 and e_3 are computed for the two leading jets only
(:func:`hepnnlr.observables.substructure.jet_shapes_flat`: their exclusive-kT axes from one
more FastJet ``ClusterSequence`` over their constituent lists, the sums in NumPy and a
compiled ECF pass).

At detector level the strange-hadron count is :func:`count_strange` applied to the class
codes of the reconstructed objects: it counts neutral-hadron clusters (code 130), the
only strangeness-sensitive class of the emulated detector (no kaon identification).

Per chunk of dataset ``d`` (``events.metadata["dataset"]``: the fileset key) it returns,
like :mod:`hepnnlr.processors.dis` (whose :func:`chunk_key`, :func:`collect_columns`,
:func:`collect_hists` and :func:`collect_cutflow` it reuses):

* ``cutflow``: ``{d: {cut: count}}`` with ``events``, ``pass_gen``, ``pass_reco``,
  ``pass_both`` and per level (``gen_``/``reco_``) ``no_particles``, ``no_jets`` and
  ``lt2_jets`` (fewer than two jets, including none), counted over all events of the
  chunk by a :class:`coffea.analysis_tools.PackedSelection` (cut-flow particles → ≥ 1 jet
  → ≥ 2 jets);
* ``hists``: ``{"gen": {...}, "reco": {...}}`` from
  :mod:`hepnnlr.observables.zjets_histos`, filled with ``weight`` for ``pass_gen`` /
  ``pass_reco`` events; each has the leading ``hist.axis.StrCategory(..., growth=True,
  name="dataset")`` axis, filled with ``d``, so that a run over several datasets keeps
  them in separate rows (select one with :func:`collect_hists`, ``h[{"dataset": d}]``);
* ``columns``: ``{chunk_key: ak.Array}``, one row per event: ``event``, ``weight``,
  ``pass_gen``, ``pass_reco``, the ``theta_alphaS``/``theta_aLund``/``theta_probStoUD``
  values when the file has them, and ``gen``/``reco`` records with ``n_jets``, ``jet1``
  and ``jet2``. A jet record holds ``pt``, ``eta``, ``phi``, ``mass``, ``multiplicity``,
  ``n_strange``, ``tau21``, ``ecf3`` and ``constituents`` (the PFN inputs: ``pt``,
  ``pt_frac``, ``deta``, ``dphi`` relative to the jet axis, ``pdgId``, ``charge``, by
  decreasing pT). ``jet1``/``jet2`` are ``None`` where the event has fewer jets (events
  with no particles at all included). ``ZJetsProcessor(columns=False)`` returns an empty
  ``columns`` dict (only ``cutflow`` and ``hists`` accumulate, so a run's memory stays
  bounded by the chunk size whatever the number of events; the records are then not built).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import awkward as ak
import numpy as np
from coffea import processor
from coffea.analysis_tools import PackedSelection

from hepnnlr.analysis.builtin.zjets import JETS, jet_records, leading_jets
from hepnnlr.errors import ConfigError, NonFiniteInputError
from hepnnlr.observables.jets import JetConfig
from hepnnlr.observables.zjets_histos import (
    JET_SLOTS,
    ZJETS_LEVELS,
    book_zjets_histograms,
    fill_zjets_histograms_flat,
)
from hepnnlr.processors.chunks import (
    ChunkKey,
    chunk_key,
    chunk_output,
    collect_columns,
    collect_cutflow,
    collect_hists,
    cumulative_counts,
    dataset_of,
    flat_collection,
    gen_reco_cutflow,
)

__all__ = [
    "ChunkKey",
    "ZJETS_JETS",
    "ZJetsProcessor",
    "chunk_key",
    "collect_columns",
    "collect_cutflow",
    "collect_hists",
]

ZJETS_JETS = JETS
"""Default jet definition: anti-kT, R = 0.8 (Sec. III B of arXiv:2010.03569), pT > 5 GeV (the
``zjets`` description's)."""

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
        ecf_beta: Angular exponent β of the histogrammed e_3 (default 4, as arXiv:2010.03569).
        columns: Return the per-event ``columns`` (default True). With False the output's
            ``columns`` is an empty dict and only ``cutflow`` and ``hists`` are
            accumulated (``benchmarks/bench_memory.py --processor zjets``); the cutflow
            and histograms are the same as with True.
    """

    required_branches: tuple[str, ...] = _required_branches()
    """Branches :meth:`process` reads (the θ branches are read when present)."""

    def __init__(
        self, *, jets: JetConfig | None = None, ecf_beta: float = 4.0, columns: bool = True
    ) -> None:
        if not isinstance(columns, bool):
            raise ConfigError(
                f"ZJetsProcessor(columns=...) must be True or False, got {columns!r}."
            )
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
        self.columns = columns

    def level_columns(self, particles: ak.Array) -> ak.Array:
        """Observables of one level from its particle collection.

        Returns:
            One record per event: ``n_jets``, ``jet1``, ``jet2`` (see the module doc).
        """
        return self._level(*_flat(particles))[0]

    def _level(
        self, counts: np.ndarray, flat: dict[str, np.ndarray], record: bool = True
    ) -> tuple[ak.Array | None, dict[str, Any]]:
        """:meth:`level_columns` on the flat buffers of the chunk: the leading jets from
        :func:`hepnnlr.analysis.builtin.zjets.leading_jets` (the ``zjets`` description's
        implementation), their constituents here.

        One NumPy call per quantity: the same ufuncs, in the same order, as the awkward
        functions of :mod:`hepnnlr.observables`, so the values are bit for bit theirs.

        Returns:
            The level record (``None`` with ``record=False``) and, for the histograms,
            its flat arrays: ``n_jets``, ``jets`` (per leading jet), ``rank`` (0/1) and
            ``event`` of each leading jet.
        """
        # the description's arithmetic (clustering, the leading jets' kinematics, counts
        # and shapes): one implementation for both
        lead = leading_jets(counts, flat, jets=self.jets, ecf_beta=self.ecf_beta)
        n_jets = lead.n_jets
        n_lead = np.minimum(n_jets, len(JET_SLOTS))
        event = np.repeat(np.arange(len(n_jets)), n_lead)
        flat_info = {"n_jets": n_jets, "jets": lead.fields, "rank": lead.rank, "event": event}
        if not record:
            return None, flat_info
        # the jet1/jet2 records with their constituents: the description's too
        slots = jet_records(flat, lead)
        level_record = ak.Array(
            ak.contents.RecordArray(
                [ak.contents.NumpyArray(n_jets), *slots], ["n_jets", *JET_SLOTS]
            )
        )
        return level_record, flat_info

    def process(self, events: ak.Array) -> dict[str, Any]:
        """Process one chunk of NanoEvents; returns ``{"cutflow", "hists", "columns"}``."""
        dataset = dataset_of(events)
        flat = {level: _flat(events[collection]) for level, collection in _COLLECTIONS.items()}
        _check_finite_inputs(events, flat)
        computed = {level: self._level(*flat[level], record=self.columns) for level in _COLLECTIONS}
        weight = ak.to_numpy(events.weight).astype(np.float64)
        passed = {
            level: ak.to_numpy(events[f"pass_{level}"]).astype(bool) for level in ZJETS_LEVELS
        }
        hists = {level: book_zjets_histograms(level, dataset) for level in ZJETS_LEVELS}
        for level in ZJETS_LEVELS:
            # = fill_zjets_histograms(hists[level], levels[level][mask], weight[mask]),
            # from the flat arrays behind the columns
            mask = passed[level]
            info = computed[level][1]
            jet_selected = mask[info["event"]]
            new_index = np.cumsum(mask) - 1  # position of each selected event
            fill_zjets_histograms_flat(
                hists[level],
                info["n_jets"][mask],
                {f: v[jet_selected] for f, v in info["jets"].items()},
                info["rank"][jet_selected],
                new_index[info["event"][jet_selected]],
                weight[mask],
                dataset=dataset,
            )

        selection = PackedSelection()
        cutflow = gen_reco_cutflow(selection, passed)
        for level in _COLLECTIONS:
            # each requirement implies the previous one: no jet without particles
            n_jets = computed[level][1]["n_jets"]
            left = cumulative_counts(
                selection,
                level,
                {"particles": flat[level][0] > 0, "1jet": n_jets >= 1, "2jets": n_jets >= 2},
            )
            for n, lost in zip(left.values(), ("no_particles", "no_jets", "lt2_jets"), strict=True):
                cutflow[f"{level}_{lost}"] = cutflow["events"] - n

        if not self.columns:
            return chunk_output(events, cutflow, hists, None)
        # plain NumPy-backed layouts, packed as built: no NanoEvents behaviour, branch
        # docstrings or lazy buffers travel back from the workers
        fields: dict[str, ak.contents.Content] = {
            "event": ak.contents.NumpyArray(ak.to_numpy(events.event).astype(np.uint64)),
            "weight": ak.contents.NumpyArray(weight),
            "pass_gen": ak.contents.NumpyArray(passed["gen"]),
            "pass_reco": ak.contents.NumpyArray(passed["reco"]),
        }
        for name in _THETA_BRANCHES:
            if name in ak.fields(events):
                values = ak.to_numpy(events[name]).astype(np.float64)
                fields[name] = ak.contents.NumpyArray(values)
        fields.update({level: record.layout for level, (record, _) in computed.items()})
        columns = ak.Array(ak.contents.RecordArray(list(fields.values()), list(fields)))
        return chunk_output(events, cutflow, hists, columns)

    def postprocess(self, accumulator: dict[str, Any]) -> dict[str, Any]:
        """Return the merged accumulator unchanged."""
        return accumulator


def _flat(particles: ak.Array) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per-event counts and flat NumPy buffers of a particle collection."""
    counts, _, flat = flat_collection(particles, _PARTICLE_FIELDS)
    return counts, flat


def _check_finite_inputs(events: ak.Array, flat: dict[str, tuple]) -> None:
    """Refuse NaN/inf kinematics: clustering would carry them into every observable."""
    for level, collection in _COLLECTIONS.items():
        for field in ("pt", "eta", "phi", "E"):
            if not np.isfinite(flat[level][1][field]).all():
                bad = ak.to_numpy(ak.any(~np.isfinite(events[collection][field]), axis=1))
                entry = int(events.metadata.get("entrystart", 0) or 0) + int(np.argmax(bad))
                raise NonFiniteInputError(
                    f"branch {collection}_{field} of {events.metadata.get('filename', '?')} "
                    f"holds NaN or infinite values (first in entry {entry}); regenerate the "
                    "file or fix the step that wrote it."
                )
