"""Coffea processor for the DIS analysis of Sec. 3 of the paper.

:class:`DISProcessor` reads hepnnlr event files (through
:class:`hepnnlr.schema.HepnnlrSchema`) and, at particle (``gen``) and detector (``reco``)
level, builds the electron-method kinematics, the per-particle features of the fiducial
hadronic final state and kT (R = 1.0, pT > 5 GeV) jets with τ21 and Δφ^jet, using the pure
functions of :mod:`hepnnlr.observables`. For every chunk it returns

* ``cutflow``: event counts (see :meth:`DISProcessor.process`);
* ``hists``: ``{"gen": {...}, "reco": {...}}`` histograms of every DIS observable,
  filled with ``events.weight`` for ``pass_gen`` / ``pass_reco`` events;
* ``columns``: ``{chunk_key: ak.Array}`` with one row per event (layout in
  ``docs/architecture.md``), the inputs of the likelihood-ratio networks.

Why columns are returned per chunk: each chunk's columns are a jagged awkward array whose
size follows that chunk's particle multiplicities. Keeping one array per chunk, keyed by
:func:`chunk_key`, makes merging a dict union: no worker ever concatenates, grows or pads
an array while outputs are merged, so worker memory stays bounded by the chunk size, and
no padding length has to be chosen before all chunks have been seen (a padded array would
need the largest multiplicity of the whole sample and would waste memory on every chunk).
The chunks are concatenated once, in event order, by :func:`collect_columns`, and padded
once, in :mod:`hepnnlr.tensors`.

Run one dataset (one sample, e.g. ``sim`` or ``data``) per processor run: ``cutflow`` and
``hists`` are summed over everything the run processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import awkward as ak
import numpy as np
from coffea import processor

from hepnnlr.errors import (
    ConfigError,
    EmptySelectionError,
    MissingBranchError,
    NonFiniteInputError,
    ShapeMismatchError,
)
from hepnnlr.observables.dis import (
    HERA,
    BeamConfig,
    FiducialCuts,
    electron_kinematics,
    particle_features,
    select_fiducial,
)
from hepnnlr.observables.histos import LEVELS, book_dis_histograms, fill_dis_histograms
from hepnnlr.observables.jets import JetConfig, cluster_jets, dphi_from_pi

__all__ = ["ChunkKey", "DISProcessor", "chunk_key", "collect_columns"]

ChunkKey = tuple[str, str, int, int]
"""``(dataset, filename, entrystart, entrystop)`` of one chunk."""

_COLLECTIONS = {"gen": ("GenElectron", "GenPart"), "reco": ("RecoElectron", "RecoPart")}
_ELECTRON_FIELDS = ("pt", "eta", "phi", "E")
_PARTICLE_FIELDS = ("pt", "eta", "phi", "E", "charge")


def _required_branches() -> tuple[str, ...]:
    branches = ["event", "weight", "pass_gen", "pass_reco"]
    for electron, particles in _COLLECTIONS.values():
        branches += ["n" + electron] + [f"{electron}_{f}" for f in _ELECTRON_FIELDS]
        branches += ["n" + particles] + [f"{particles}_{f}" for f in _PARTICLE_FIELDS]
    return tuple(branches)


def chunk_key(metadata: Mapping[str, Any], n_events: int) -> ChunkKey:
    """Key of a chunk's columns that sorts in event order.

    Args:
        metadata: ``events.metadata`` of the chunk (coffea's Runner sets ``dataset``,
            ``filename``, ``entrystart`` and ``entrystop``).
        n_events: Number of events in the chunk, used when the metadata has no entry
            range (events built directly with ``NanoEventsFactory``).

    Returns:
        ``(dataset, filename, entrystart, entrystop)``. Tuples sort element by element,
        so the chunks of one file sort by their first entry (integers, not strings).
    """
    start = int(metadata.get("entrystart") or 0)
    stop = metadata.get("entrystop")
    stop = start + n_events if stop is None else int(stop)
    return (
        str(metadata.get("dataset", "")),
        str(metadata.get("filename", "")),
        start,
        stop,
    )


class DISProcessor(processor.ProcessorABC):
    """Histograms and network inputs of DIS events at particle and detector level.

    Stateless: the instance holds only frozen configuration, so it pickles to workers.

    Args:
        fiducial: Fiducial region of the particles (default pT > 0.1 GeV,
            −1.5 < η < 2.75).
        jets: Jet definition (default kT, R = 1.0, pT > 5 GeV), clustered on the
            fiducial particles.
        beams: Beam energies of the electron method (default HERA: 27.6 x 920 GeV).
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
    ) -> None:
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
        kinematics = electron_kinematics(ak.firsts(electrons, axis=1), self.beams)
        has_electron = ~ak.is_none(kinematics)
        # compute in double precision whatever the file stores (hepnnlr writes float32)
        particles = ak.zip(
            {
                **{
                    f: ak.values_astype(particles[f], np.float64) for f in ("pt", "eta", "phi", "E")
                },
                "charge": particles.charge,
            }
        )
        fiducial = select_fiducial(particles, self.fiducial)
        keep, _ = ak.broadcast_arrays(has_electron, fiducial.pt)
        fiducial = fiducial[keep]
        features = particle_features(fiducial, kinematics)
        particle_records = ak.zip(
            {
                "pt": fiducial.pt,
                "eta": fiducial.eta,
                "phi": fiducial.phi,
                "charge": fiducial.charge,
                "log_pt": features.log_pt,
                "deta": features.deta,
                "dphi": features.dphi,
                "log_pt_over_Q": features.log_pt_over_Q,
            }
        )
        jets = cluster_jets(ak.zip({f: fiducial[f] for f in ("pt", "eta", "phi", "E")}), self.jets)
        jet_records = ak.zip(
            {
                "pt": jets.pt,
                "eta": jets.eta,
                "phi": jets.phi,
                "tau21": jets.tau21,
                "dphi_e": dphi_from_pi(jets.phi, ak.fill_none(kinematics.phi_e, 0.0)),
            }
        )
        return ak.zip(
            {
                "Q2": kinematics.Q2,
                "log_Q2": np.log10(kinematics.Q2),
                "y": kinematics.y,
                "x": kinematics.x,
                "eta_e": kinematics.eta_e,
                "phi_e": kinematics.phi_e,
                "particles": particle_records,
                "jets": jet_records,
            },
            depth_limit=1,
        )

    def process(self, events: ak.Array) -> dict[str, Any]:
        """Process one chunk of NanoEvents.

        Returns:
            ``{"cutflow", "hists", "columns"}`` (see the module docstring). ``cutflow``
            counts ``events``, ``pass_gen``, ``pass_reco``, ``pass_both`` and, per level
            (``gen_``/``reco_`` prefix, over all events of the chunk),
            ``no_electron``, ``no_particles`` (no fiducial particles, or no electron) and
            ``no_jets``.
        """
        _check_finite_inputs(events)
        levels = {
            level: self.level_columns(events[electron], events[particles])
            for level, (electron, particles) in _COLLECTIONS.items()
        }
        weight = ak.to_numpy(events.weight).astype(np.float64)
        passed = {level: ak.to_numpy(events[f"pass_{level}"]).astype(bool) for level in LEVELS}

        hists = {level: book_dis_histograms(level) for level in LEVELS}
        for level in LEVELS:
            mask = passed[level]
            fill_dis_histograms(hists[level], levels[level][mask], weight[mask])

        cutflow = {
            "events": len(events),
            "pass_gen": int(passed["gen"].sum()),
            "pass_reco": int(passed["reco"].sum()),
            "pass_both": int((passed["gen"] & passed["reco"]).sum()),
        }
        for level, columns in levels.items():
            cutflow[f"{level}_no_electron"] = int(ak.sum(ak.is_none(columns.Q2)))
            cutflow[f"{level}_no_particles"] = int(ak.sum(ak.num(columns.particles) == 0))
            cutflow[f"{level}_no_jets"] = int(ak.sum(ak.num(columns.jets) == 0))

        columns = ak.zip(
            {
                "event": ak.values_astype(events.event, np.uint64),
                "weight": weight,
                "pass_gen": passed["gen"],
                "pass_reco": passed["reco"],
                "gen": levels["gen"],
                "reco": levels["reco"],
            },
            depth_limit=1,
        )
        # plain, fully materialized arrays: no NanoEvents behaviour, branch docstrings or
        # lazy buffers travel back from the workers
        columns = ak.Array(ak.to_packed(ak.materialize(ak.without_parameters(columns))).layout)
        key = chunk_key(events.metadata, len(events))
        return {"cutflow": cutflow, "hists": hists, "columns": {key: columns}}

    def postprocess(self, accumulator: dict[str, Any]) -> dict[str, Any]:
        """Return the merged accumulator unchanged."""
        return accumulator


def _check_finite_inputs(events: ak.Array) -> None:
    """Refuse NaN/inf kinematics: a cut like ``pt > 0.1`` would drop them silently."""
    for collection in (name for pair in _COLLECTIONS.values() for name in pair):
        fields = _ELECTRON_FIELDS if collection.endswith("Electron") else _PARTICLE_FIELDS
        for field in fields:
            values = ak.to_numpy(ak.flatten(events[collection][field], axis=None))
            if np.issubdtype(values.dtype, np.floating) and not np.isfinite(values).all():
                bad = ak.to_numpy(ak.any(~np.isfinite(events[collection][field]), axis=1))
                entry = int(events.metadata.get("entrystart", 0)) + int(np.argmax(bad))
                raise NonFiniteInputError(
                    f"branch {collection}_{field} of {events.metadata.get('filename', '?')} "
                    f"holds NaN or infinite values (first in entry {entry}); cuts would drop "
                    "such objects silently, so hepnnlr stops here. Regenerate the file or "
                    "fix the step that wrote it."
                )


def collect_columns(output: Mapping[str, Any], dataset: str | None = None) -> ak.Array:
    """Concatenate one dataset's per-chunk columns in event order.

    Args:
        output: The accumulator returned by a run of :class:`DISProcessor`.
        dataset: Dataset to collect; may be omitted when the output holds only one.

    Returns:
        One row per event, in file order (files ordered by name), with the layout of
        ``docs/architecture.md``.
    """
    if "columns" not in output:
        raise MissingBranchError(
            f"the processor output has no 'columns' (keys: {sorted(output)}); pass the "
            "accumulator returned by running DISProcessor."
        )
    chunks = output["columns"]
    if not chunks:
        raise EmptySelectionError(
            "the processor output holds no column chunks; the run processed no events."
        )
    datasets = sorted({key[0] for key in chunks})
    if dataset is None:
        if len(datasets) > 1:
            raise ConfigError(
                f"the processor output holds several datasets {datasets}; pass "
                "collect_columns(output, dataset=...) with one of them."
            )
        dataset = datasets[0]
    elif dataset not in datasets:
        raise ConfigError(
            f"dataset {dataset!r} is not in the processor output; datasets present: {datasets}."
        )
    keys = sorted(key for key in chunks if key[0] == dataset)
    for previous, current in zip(keys, keys[1:], strict=False):
        if previous[1] == current[1] and previous[3] != current[2]:
            raise ShapeMismatchError(
                f"the chunks of file {current[1]!r} do not tile its entries: one chunk "
                f"ends at entry {previous[3]} and the next starts at {current[2]}. A chunk "
                "was lost (e.g. skipbadfiles) or processed twice; rerun the processor."
            )
    return ak.concatenate([chunks[key] for key in keys], axis=0)
