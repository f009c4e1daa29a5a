"""Coffea processor for the DIS analysis of Sec. 3 of arXiv:2503.20753.

Reference: Torales Acosta, Wamorkar, Mikuni, Nachman, "Stabilizing Neural Likelihood Ratio
Estimation", arXiv:2503.20753.

:class:`DISProcessor` reads hepnnlr event files (through
:class:`hepnnlr.schema.HepnnlrSchema`) and, at particle (``gen``) and detector (``reco``)
level, builds the electron-method kinematics, the per-particle features of the fiducial
hadronic final state and kT (R = 1.0, pT > 5 GeV) jets with τ21 and Δφ^jet, with
:func:`hepnnlr.analysis.builtin.dis.level_from_flat` (the ``dis`` description's
arithmetic, one implementation for both, on the pure functions of
:mod:`hepnnlr.observables`). FastJet clusters every chunk in one call
(:func:`hepnnlr.observables.jets.cluster_flat`). For every chunk of dataset ``d``
(``events.metadata["dataset"]``: the fileset key) it returns

* ``cutflow``: ``{d: {cut: count}}``, event counts of a
  :class:`coffea.analysis_tools.PackedSelection` (see :meth:`DISProcessor.process`);
* ``hists``: ``{"gen": {...}, "reco": {...}}`` histograms of every DIS observable,
  filled with ``events.weight`` for ``pass_gen`` / ``pass_reco`` events; each has the
  leading ``hist.axis.StrCategory(..., growth=True, name="dataset")`` axis, filled with
  ``d``;
* ``columns``: ``{chunk_key: ak.Array}`` with one row per event (layout in
  ``docs/architecture.md``), the inputs of the likelihood-ratio networks; an empty dict
  with ``DISProcessor(columns=False)``, for runs that need only the histograms.

A run over several datasets, e.g. ``run_processor(DISProcessor(), {"sim": [...], "data":
[...]})``, keeps them apart: one cut-flow per dataset, one row per dataset in every
histogram, and chunk keys that start with the dataset. Read one dataset back with
:func:`collect_cutflow`, :func:`collect_hists` (``h[{"dataset": d}]``) and
:func:`collect_columns`; each needs ``dataset=`` when the output holds several.

Why columns are returned per chunk: each chunk's columns are a jagged awkward array whose
size follows that chunk's particle multiplicities. Keeping one array per chunk, keyed by
:func:`chunk_key`, makes merging a dict union: no worker ever concatenates, grows or pads
an array while outputs are merged, so worker memory stays bounded by the chunk size, and
no padding length has to be chosen before all chunks have been seen (a padded array would
need the largest multiplicity of the whole sample and would waste memory on every chunk).
The chunks are concatenated once, in event order, by :func:`collect_columns`, and padded
once, in :mod:`hepnnlr.tensors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np
from coffea import processor
from coffea.analysis_tools import PackedSelection

from hepnnlr.analysis.builtin.dis import DISLevel, check_finite, level_from_flat
from hepnnlr.errors import ConfigError
from hepnnlr.observables.dis import HERA, BeamConfig, FiducialCuts
from hepnnlr.observables.histos import (
    DIS_OBSERVABLES,
    LEVELS,
    book_dis_histograms,
    fill_dis_histograms_flat,
)
from hepnnlr.observables.jets import JetConfig
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
    "DISProcessor",
    "chunk_key",
    "collect_columns",
    "collect_cutflow",
    "collect_hists",
]

_COLLECTIONS = {"gen": ("GenElectron", "GenPart"), "reco": ("RecoElectron", "RecoPart")}
_ELECTRON_FIELDS = ("pt", "eta", "phi", "E")
_PARTICLE_FIELDS = ("pt", "eta", "phi", "E", "charge")


def _required_branches() -> tuple[str, ...]:
    branches = ["event", "weight", "pass_gen", "pass_reco"]
    for electron, particles in _COLLECTIONS.values():
        branches += ["n" + electron] + [f"{electron}_{f}" for f in _ELECTRON_FIELDS]
        branches += ["n" + particles] + [f"{particles}_{f}" for f in _PARTICLE_FIELDS]
    return tuple(branches)


class DISProcessor(processor.ProcessorABC):
    """Histograms and network inputs of DIS events at particle and detector level.

    Stateless: the instance holds only frozen configuration, so it pickles to workers.

    Args:
        fiducial: Fiducial region of the particles (default pT > 0.1 GeV,
            −1.5 < η < 2.75).
        jets: Jet definition (default kT, R = 1.0, pT > 5 GeV), clustered on the
            fiducial particles.
        beams: Beam energies of the electron method (default HERA: 27.6 x 920 GeV).
        columns: Return the per-event ``columns`` (default True). With False the output's
            ``columns`` is an empty dict and only ``cutflow`` and ``hists`` are
            accumulated: a run's memory then stays bounded by the chunk size whatever
            the number of events (``benchmarks/bench_memory.py``), whereas the collected
            columns necessarily grow with it.
    """

    required_branches: tuple[str, ...] = _required_branches()
    """Branches of the ``events`` tree that :meth:`process` reads (checked by
    :func:`hepnnlr.schema.run_processor` before any work starts)."""

    def __init__(
        self,
        *,
        fiducial: FiducialCuts | None = None,
        jets: JetConfig | None = None,
        beams: BeamConfig | None = None,
        columns: bool = True,
    ) -> None:
        if not isinstance(columns, bool):
            raise ConfigError(f"DISProcessor(columns=...) must be True or False, got {columns!r}.")
        for name, value, kind in (
            ("fiducial", fiducial, FiducialCuts),
            ("jets", jets, JetConfig),
            ("beams", beams, BeamConfig),
        ):
            if value is not None and not isinstance(value, kind):
                raise ConfigError(
                    f"DISProcessor({name}=...) expects a {kind.__name__} or None, got "
                    f"{type(value).__name__}; build one, e.g. {kind.__name__}()."
                )
        self.fiducial = FiducialCuts() if fiducial is None else fiducial
        self.jets = JetConfig() if jets is None else jets
        self.beams = HERA if beams is None else beams
        self.columns = columns

    def level_columns(self, electrons: ak.Array, particles: ak.Array) -> ak.Array:
        """Observables of one level (``gen`` or ``reco`` record of the columns).

        Args:
            electrons: Jagged electron collection (0 or 1 per event).
            particles: Jagged particle collection (pt, eta, phi, E, charge).

        Returns:
            One record per event: ``Q2``, ``log_Q2`` (log10), ``y``, ``x``, ``eta_e``,
            ``phi_e`` (``None``
            without an electron), ``particles`` (fiducial particles with ``pt``, ``eta``,
            ``phi``, ``charge``, ``log_pt``, ``deta``, ``dphi``, ``log_pt_over_Q``) and
            ``jets`` (``pt``, ``eta``, ``phi``, ``tau21``, ``dphi_e``, by decreasing pT).
            Without an electron there is no DIS frame: ``particles`` and ``jets`` are
            empty lists.
        """
        return self._level(
            _flat(electrons, ("eta", "phi", "E")), _flat(particles, _PARTICLE_FIELDS)
        ).record

    def _level(self, electrons: _Flat, particles: _Flat) -> DISLevel:
        """:meth:`level_columns` on flat buffers, plus what the histograms need: the
        description's :func:`hepnnlr.analysis.builtin.dis.level_from_flat` with this
        processor's configuration (one implementation of the arithmetic for both)."""
        return level_from_flat(
            electrons.counts,
            electrons.fields,
            particles.counts,
            particles.fields,
            fiducial=self.fiducial,
            jets=self.jets,
            beams=self.beams,
        )

    def process(self, events: ak.Array) -> dict[str, Any]:
        """Process one chunk of NanoEvents.

        Returns:
            ``{"cutflow", "hists", "columns"}`` (see the module docstring). The chunk's
            ``cutflow[dataset]`` counts ``events``, ``pass_gen``, ``pass_reco``,
            ``pass_both`` and, per level (``gen_``/``reco_`` prefix, over all events of
            the chunk), ``no_electron``, ``no_particles`` (no fiducial particles, or no
            electron) and ``no_jets``: the events that fail the cut-flow electron →
            fiducial particles → jets of a ``PackedSelection`` at the given step.
        """
        dataset = dataset_of(events)
        flat = {
            name: _flat(events[name], fields)
            for name, fields in (
                (name, _ELECTRON_FIELDS if name.endswith("Electron") else _PARTICLE_FIELDS)
                for pair in _COLLECTIONS.values()
                for name in pair
            )
        }
        _check_finite_inputs(events, flat)
        levels = {
            level: self._level(flat[electron], flat[particles])
            for level, (electron, particles) in _COLLECTIONS.items()
        }
        weight = ak.to_numpy(events.weight).astype(np.float64)
        passed = {level: ak.to_numpy(events[f"pass_{level}"]).astype(bool) for level in LEVELS}

        hists = {level: book_dis_histograms(level, dataset) for level in LEVELS}
        for level in LEVELS:
            fill_dis_histograms_flat(
                hists[level], _hist_values(levels[level], passed[level], weight), dataset=dataset
            )

        selection = PackedSelection()
        cutflow = gen_reco_cutflow(selection, passed)
        for level, columns in levels.items():
            # each requirement implies the previous one: no fiducial particle without an
            # electron, no jet without particles
            left = cumulative_counts(
                selection,
                level,
                {
                    "electron": columns.event_fields["Q2"][1],
                    "particles": columns.particles[0] > 0,
                    "jets": columns.jets[0] > 0,
                },
            )
            for n, lost in zip(
                left.values(), ("no_electron", "no_particles", "no_jets"), strict=True
            ):
                cutflow[f"{level}_{lost}"] = cutflow["events"] - n

        if not self.columns:
            return chunk_output(events, cutflow, hists, None)
        # plain NumPy-backed arrays built above: no NanoEvents behaviour, branch
        # docstrings or lazy buffers travel back from the workers
        columns = ak.contents.RecordArray(
            [
                ak.contents.NumpyArray(ak.to_numpy(events.event).astype(np.uint64)),
                ak.contents.NumpyArray(weight),
                ak.contents.NumpyArray(passed["gen"]),
                ak.contents.NumpyArray(passed["reco"]),
                levels["gen"].record.layout,
                levels["reco"].record.layout,
            ],
            ["event", "weight", "pass_gen", "pass_reco", "gen", "reco"],
        )
        return chunk_output(events, cutflow, hists, ak.Array(columns))

    def postprocess(self, accumulator: dict[str, Any]) -> dict[str, Any]:
        """Return the merged accumulator unchanged."""
        return accumulator


@dataclass(frozen=True)
class _Flat:
    """One collection of a chunk as flat NumPy buffers: per-event counts and fields."""

    counts: np.ndarray
    offsets: np.ndarray
    fields: dict[str, np.ndarray]


def _flat(collection: ak.Array, fields: tuple[str, ...]) -> _Flat:
    return _Flat(*flat_collection(collection, fields))


def _hist_values(
    level: DISLevel, selected: np.ndarray, weight: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``(values, weights)`` of every DIS histogram for the ``selected`` events of
    ``level``, as :func:`hepnnlr.observables.histos.observable_values` gives them."""
    out = {}
    # per collection once: which objects are filled, and their events' weights
    objects: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, spec in DIS_OBSERVABLES.items():
        if spec.collection is None:
            values, valid = level.event_fields[spec.field]
            take = selected & valid
            out[name] = (values[take], weight[take])
            continue
        counts, fields = level.particles if spec.collection == "particles" else level.jets
        if spec.collection not in objects:
            picked = np.repeat(selected, counts)
            objects[spec.collection] = (picked, np.repeat(weight, counts)[picked])
        picked, picked_weight = objects[spec.collection]
        out[name] = (fields[spec.field][picked], picked_weight)
    return out


def _check_finite_inputs(events: ak.Array, flat: Mapping[str, _Flat]) -> None:
    """Refuse NaN/inf kinematics: a cut like ``pt > 0.1`` would drop them silently."""
    for collection, buffers in flat.items():
        check_finite(events, collection, buffers.counts, buffers.fields)
