"""Coffea processor for the top-quark mass observables of Sec. III C of arXiv:2010.03569.

Reference: Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural
Networks in the Presence of Detector Effects", arXiv:2010.03569.

:class:`TTbarProcessor` reads tt̄ event files written by
:func:`hepnnlr.samples.make_ttbar_sample` and computes, at generator level (``GenJet``,
``GenMuon`` and the neutrino) and at detector level (``RecoJet``, ``RecoMuon``, ``MET``),
the four masses m(b1 μ ν), m(b2 μ ν), m(b1 j1 j2), m(b2 j1 j2) with the selection of
:mod:`hepnnlr.observables.top`: the values of the ``ttbar`` analysis description
(:func:`hepnnlr.analysis.builtin.ttbar.level_columns`, one implementation for both;
``AnalysisProcessor(get("ttbar"))`` gives the same columns and histograms,
``tests/processors/test_ttbar_processor.py``). For every chunk of dataset ``d``
(``events.metadata["dataset"]``: the fileset key) it returns

* ``cutflow``: ``{d: {cut: count}}`` with ``events`` and, per level (``gen_``/``reco_``
  prefix), the events left after each requirement of a
  :class:`coffea.analysis_tools.PackedSelection` cut-flow: ``muon``, ``2b`` (≥ 2
  b-tagged jets), ``2light`` (≥ 2 light jets: the selected events), then among those
  ``nu_real`` / ``nu_no_real`` (a real neutrino solution or not) and ``pass`` (selected
  events, kept whatever the neutrino: arXiv:2010.03569 sets the neutrino masses to zero when
  there is no solution);
* ``hists``: ``{"gen": {...}, "reco": {...}}`` histograms of the four masses
  (:mod:`hepnnlr.observables.top_histos`), filled with ``events.weight`` for selected
  events; each has the leading ``hist.axis.StrCategory(..., growth=True, name="dataset")``
  axis, filled with ``d`` (select one dataset with :func:`collect_hists`);
* ``columns``: ``{chunk_key: ak.Array}``, one row per event: ``event``, ``weight``,
  ``top_mass`` and per level a record ``reason`` (int8, 0 = selected), ``nu_real``,
  ``nu_pz`` and the four masses (``None`` for events not selected). Per-chunk columns as in
  :mod:`hepnnlr.processors.dis`, collected with its :func:`collect_columns`.

A run over several datasets keeps them apart (one cut-flow each, one row each in every
histogram); :func:`collect_cutflow`, :func:`collect_hists` and :func:`collect_columns`
read one back.

Generator-level neutrino: arXiv:2010.03569 keeps the neutrino at generator level ("At
simulation-level, the neutrino is replaced with the missing transverse momentum"), so
``gen_neutrino="truth"`` (default) uses ``GenNeutrino``; ``gen_neutrino="met"`` solves
the W constraint on ``GenMET`` (the neutrino's p_T) like the detector level.
"""

from __future__ import annotations

from typing import Any

import awkward as ak
import numpy as np
from coffea import processor

from hepnnlr.analysis.builtin.ttbar import GEN_NEUTRINO_MODES, JET_FIELDS, level_columns
from hepnnlr.errors import ConfigError
from hepnnlr.observables.top import TOP_MASS_FIELDS, TopSelectionConfig
from hepnnlr.observables.top_histos import book_top_histograms, fill_top_histograms
from hepnnlr.processors.chunks import (
    chunk_result,
    collect_columns,
    collect_cutflow,
    collect_hists,
)
from hepnnlr.processors.levels import run_levels
from hepnnlr.samples.rootio import collection_branches

__all__ = [
    "GEN_NEUTRINO_MODES",
    "TTbarProcessor",
    "collect_columns",
    "collect_cutflow",
    "collect_hists",
]

_LEVELS = ("gen", "reco")
_MUON_FIELDS = ("pt", "eta", "phi", "E")
_NEUTRINO_FIELDS = ("pt", "eta", "phi", "E")
_COLLECTIONS = (
    ("GenJet", JET_FIELDS),
    ("RecoJet", JET_FIELDS),
    ("GenMuon", _MUON_FIELDS),
    ("RecoMuon", _MUON_FIELDS),
)


def _cuts(columns: ak.Array) -> dict[str, np.ndarray]:
    # reason: 0 selected, 1 no muon, 2 fewer than 2 b jets, 3 fewer than 2 light
    reason = ak.to_numpy(columns.reason)
    nu_real = ak.to_numpy(ak.fill_none(columns.nu_real, False)).astype(bool)
    return {
        "muon": reason != 1,
        "2b": (reason == 0) | (reason == 3),
        "2light": reason == 0,
        "nu_real": nu_real,
    }


def _neutrino_counts(level: str, counts: dict[str, int]) -> dict[str, int]:
    """Selected events without a real neutrino solution, and all selected ones (``pass``:
    kept whatever the neutrino, see the module docstring)."""
    two_light = counts[f"{level}_2light"]
    return {
        f"{level}_nu_no_real": two_light - counts[f"{level}_nu_real"],
        f"{level}_pass": two_light,
    }


class TTbarProcessor(processor.ProcessorABC):
    """Top-mass observables at generator and detector level (see the module docstring).

    Stateless: the instance holds only frozen configuration, so it pickles to workers.

    Args:
        selection: object selection and neutrino rule (default: that of arXiv:2010.03569).
        gen_neutrino: ``"truth"`` (arXiv:2010.03569) or ``"met"``.
    """

    def __init__(
        self, *, selection: TopSelectionConfig | None = None, gen_neutrino: str = "truth"
    ) -> None:
        if selection is not None and not isinstance(selection, TopSelectionConfig):
            raise ConfigError(
                "TTbarProcessor(selection=...) expects a TopSelectionConfig or None, got "
                f"{type(selection).__name__}; build one, e.g. TopSelectionConfig()."
            )
        if gen_neutrino not in GEN_NEUTRINO_MODES:
            raise ConfigError(
                f"TTbarProcessor(gen_neutrino={gen_neutrino!r}) is not known; use one of "
                f"{list(GEN_NEUTRINO_MODES)}."
            )
        self.selection = TopSelectionConfig() if selection is None else selection
        self.gen_neutrino = gen_neutrino

    @property
    def required_branches(self) -> tuple[str, ...]:
        """Branches of the ``events`` tree that :meth:`process` reads."""
        branches = ["event", "weight", "top_mass", "MET_pt", "MET_phi"]
        for name, fields in _COLLECTIONS:
            branches += collection_branches(name, fields)
        if self.gen_neutrino == "truth":
            branches += collection_branches("GenNeutrino", _NEUTRINO_FIELDS)
        else:
            branches += ["GenMET_pt", "GenMET_phi"]
        return tuple(branches)

    def level_columns(self, events: ak.Array, level: str) -> ak.Array:
        """:func:`reconstruct_top` of one level (``"gen"`` or ``"reco"``): the ``ttbar``
        description's :func:`hepnnlr.analysis.builtin.ttbar.level_columns`, one
        implementation for both."""
        return level_columns(
            events, level, selection=self.selection, gen_neutrino=self.gen_neutrino
        )

    def process(self, events: ak.Array) -> dict[str, Any]:
        """Process one chunk; returns ``{"cutflow", "hists", "columns"}``."""
        levels = run_levels(
            events,
            self.required_branches,
            _LEVELS,
            record=self.level_columns,
            cuts=_cuts,
            book=book_top_histograms,
            fill=fill_top_histograms,
            extra=_neutrino_counts,
        )
        columns = {
            "event": ak.values_astype(events.event, np.uint64),
            "weight": levels.weight,
            "top_mass": ak.to_numpy(events.top_mass).astype(np.float64),
            **{
                level: levels.records[level][["reason", "nu_real", "nu_pz", *TOP_MASS_FIELDS]]
                for level in _LEVELS
            },
        }
        return chunk_result(events, levels.cutflow, levels.hists, columns)

    def postprocess(self, accumulator: dict[str, Any]) -> dict[str, Any]:
        """Return the merged accumulator unchanged."""
        return accumulator
