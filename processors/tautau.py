"""Coffea processor for ℓ τ_h events: H → ττ signal vs Z → ττ background.

:class:`TauTauProcessor` reads ττ event files written by
:func:`hepnnlr.samples.tautau_reco.make_tautau_sample` and computes, at generator level
(``GenLepton``, ``GenTauh``, ``GenMET``) and at detector level (``RecoLepton``,
``RecoTauh``, ``MET``), the selection and features of :mod:`hepnnlr.observables.tau`:
m_vis(τ_h, ℓ) and pT(ℓ)/pT(τ_h) (the two features of B. Sluijter, "Classifiers versus
Normalizing Flows for uncertainty-aware estimation of a signal ratio", MSc thesis, Leiden
University 2024, hdl:1887/4104579), Δφ(ℓ, τ_h) and the collinear mass: the values of the
``tautau`` analysis description (:func:`hepnnlr.analysis.builtin.tautau.level_features`,
one implementation for both; ``AnalysisProcessor(get("tautau"))`` gives the same columns
and histograms, ``tests/processors/test_tautau_processor.py``). For every chunk of dataset
``d`` (``events.metadata["dataset"]``: the fileset key) it returns

* ``cutflow``: ``{d: {cut: count}}`` with ``events`` and, per level (``gen_``/``reco_``
  prefix), the events left after each requirement of a
  :class:`coffea.analysis_tools.PackedSelection` cut-flow: ``lepton`` (a good lepton),
  ``tau`` (and a good τ_h), ``pass`` (and opposite charges: the selected events), then
  ``collinear`` (selected events with a physical collinear solution);
* ``hists``: ``{"gen": {...}, "reco": {...}}``, one ``hist.Hist`` (``Weight`` storage)
  per feature of :data:`~hepnnlr.observables.tau.TAUTAU_FEATURES`, filled with
  ``events.weight`` for selected events (``m_col`` for those with a collinear solution);
  each has the leading ``hist.axis.StrCategory(..., growth=True, name="dataset")`` axis,
  filled with ``d`` (select one dataset with :func:`collect_hists`);
* ``columns``: ``{chunk_key: ak.Array}``, one row per event: ``event``, ``weight``,
  ``is_signal``, ``tau_energy_scale`` and per level a record with ``reason`` (int8,
  0 = selected), ``collinear_ok`` and the features (``None`` for events not selected).
  Collect them with :func:`collect_columns`; :func:`feature_table` turns them into the
  NumPy inputs of a likelihood-ratio model.

A run over several datasets (e.g. ``{"signal": [...], "background": [...]}``) keeps them
apart: one cut-flow each, one row each in every histogram, and chunk keys that start
with the dataset; :func:`collect_cutflow`, :func:`collect_hists` and
:func:`collect_columns` read one back (``dataset=`` is then required).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import awkward as ak
import hist
import numpy as np
from coffea import processor

from hepnnlr.analysis.builtin.tautau import OBJECT_FIELDS, level_features
from hepnnlr.errors import ConfigError, EmptySelectionError, MissingBranchError
from hepnnlr.observables.dataset_histos import book_histogram, fill_present
from hepnnlr.observables.tau import TAUTAU_FEATURES, TauTauSelectionConfig
from hepnnlr.processors.chunks import (
    chunk_result,
    collect_columns,
    collect_cutflow,
    collect_hists,
)
from hepnnlr.processors.levels import run_levels
from hepnnlr.samples.rootio import collection_branches

__all__ = [
    "TAUTAU_HIST_AXES",
    "TauTauProcessor",
    "book_tautau_histograms",
    "collect_columns",
    "collect_cutflow",
    "collect_hists",
    "feature_table",
    "fill_tautau_histograms",
]

TAUTAU_HIST_AXES: dict[str, tuple[int, float, float, str]] = {
    "m_vis": (50, 0.0, 250.0, r"$m_{vis}(\tau_h, \ell)$ [GeV]"),
    "pt_ratio": (50, 0.0, 5.0, r"$p_T(\ell)/p_T(\tau_h)$"),
    "dphi": (32, 0.0, float(np.pi), r"$\Delta\phi(\ell, \tau_h)$"),
    "m_col": (50, 0.0, 500.0, r"$m_{col}$ [GeV]"),
}
"""Binning of each feature: (bins, low, high, label); overflow is kept."""

_LEVELS = ("gen", "reco")
_COLUMN_FIELDS = ("reason", "collinear_ok", *TAUTAU_FEATURES, "lep_pt", "tau_pt")


def _cuts(features: ak.Array) -> dict[str, np.ndarray]:
    # reason: 0 selected, 1 no good lepton, 2 no good tau, 3 same-sign charges
    reason = ak.to_numpy(features.reason)
    return {
        "lepton": reason != 1,
        "tau": (reason == 0) | (reason == 3),
        "pass": reason == 0,
        "collinear": ak.to_numpy(features.collinear_ok).astype(bool),
    }


def book_tautau_histograms(level: str, dataset: str | None = None) -> dict[str, hist.Hist]:
    """Empty histograms of the features of one level (``"gen"`` or ``"reco"``).

    Args:
        level: ``"gen"`` or ``"reco"`` (the histograms' label).
        dataset: Dataset of the entries (the processor passes
            ``events.metadata["dataset"]``): the leading ``dataset`` axis, holding it.
            ``None``: one axis only.
    """
    return {
        name: book_histogram(
            hist.axis.Regular(bins, low, high, name=name, label=label),
            dataset=dataset,
            label=level,
        )
        for name, (bins, low, high, label) in TAUTAU_HIST_AXES.items()
    }


def fill_tautau_histograms(
    hists: dict[str, hist.Hist],
    features: ak.Array,
    weight: np.ndarray,
    *,
    dataset: str | None = None,
) -> dict[str, hist.Hist]:
    """Fill the histograms in place with the events that have each feature (not None).

    Args:
        hists: From :func:`book_tautau_histograms` (a subset of names is fine).
        features: Output of :func:`~hepnnlr.observables.tau.tautau_features`.
        weight: One weight per row of ``features``.
        dataset: Dataset of the events: required for histograms booked with a dataset,
            refused for those without.

    Returns:
        ``hists``.
    """
    for name, h in hists.items():
        fill_present(h, features[name], weight, dataset=dataset)
    return hists


class TauTauProcessor(processor.ProcessorABC):
    """Selection, cut-flow, histograms and feature columns of ℓ τ_h events.

    Stateless: the instance holds only frozen configuration, so it pickles to workers.

    Args:
        selection: object selection (default :class:`TauTauSelectionConfig`), applied at
            both levels.
    """

    def __init__(self, *, selection: TauTauSelectionConfig | None = None) -> None:
        if selection is not None and not isinstance(selection, TauTauSelectionConfig):
            raise ConfigError(
                "TauTauProcessor(selection=...) expects a TauTauSelectionConfig or None, got "
                f"{type(selection).__name__}; build one, e.g. TauTauSelectionConfig()."
            )
        self.selection = TauTauSelectionConfig() if selection is None else selection

    @property
    def required_branches(self) -> tuple[str, ...]:
        """Branches of the ``events`` tree that :meth:`process` reads."""
        branches = ["event", "weight", "is_signal", "tau_energy_scale"]
        branches += ["MET_pt", "MET_phi", "GenMET_pt", "GenMET_phi"]
        for name in ("GenLepton", "GenTauh", "RecoLepton", "RecoTauh"):
            branches += collection_branches(name, OBJECT_FIELDS)
        return tuple(branches)

    def level_features(self, events: ak.Array, level: str) -> ak.Array:
        """:func:`~hepnnlr.observables.tau.tautau_features` of ``"gen"`` or ``"reco"``: the
        ``tautau`` description's :func:`hepnnlr.analysis.builtin.tautau.level_features`,
        one implementation for both."""
        return level_features(events, level, self.selection)

    def process(self, events: ak.Array) -> dict[str, Any]:
        """Process one chunk; returns ``{"cutflow", "hists", "columns"}``."""
        levels = run_levels(
            events,
            self.required_branches,
            _LEVELS,
            record=self.level_features,
            cuts=_cuts,
            book=book_tautau_histograms,
            fill=fill_tautau_histograms,
        )
        columns = {
            "event": ak.values_astype(events.event, np.uint64),
            "weight": levels.weight,
            "is_signal": ak.to_numpy(events.is_signal).astype(bool),
            "tau_energy_scale": ak.to_numpy(events.tau_energy_scale).astype(np.float64),
            **{level: levels.records[level][list(_COLUMN_FIELDS)] for level in _LEVELS},
        }
        return chunk_result(events, levels.cutflow, levels.hists, columns)

    def postprocess(self, accumulator: dict[str, Any]) -> dict[str, Any]:
        """Return the merged accumulator unchanged."""
        return accumulator


def feature_table(
    columns: ak.Array,
    *,
    level: str = "reco",
    features: Sequence[str] = ("m_vis", "pt_ratio"),
) -> dict[str, np.ndarray]:
    """NumPy inputs of the selected events of collected columns.

    Args:
        columns: :func:`collect_columns` of a :class:`TauTauProcessor` run.
        level: ``"reco"`` or ``"gen"``.
        features: names from :data:`~hepnnlr.observables.tau.TAUTAU_FEATURES`; events
            selected but lacking a feature (``m_col`` without a collinear solution) are
            left out.

    Returns:
        A dict of the kept events' arrays: ``x`` ((n, len(features)) float64), ``z``
        ((n,), the τ_h energy scale), ``weight`` ((n,)), ``is_signal`` ((n,) bool) and
        ``event`` ((n,) uint64).

    Raises:
        ConfigError: for an unknown level or feature.
        EmptySelectionError: if no event is kept.
    """
    if level not in _LEVELS:
        raise ConfigError(f"level={level!r} is not known; use 'reco' or 'gen'.")
    unknown = [f for f in features if f not in TAUTAU_FEATURES]
    if unknown or not features:
        raise ConfigError(
            f"features {list(features)} must be a non-empty subset of {list(TAUTAU_FEATURES)}."
        )
    for name in ("event", "weight", "is_signal", "tau_energy_scale", level):
        if name not in ak.fields(columns):
            raise MissingBranchError(
                f"the columns lack {name!r} (they have {ak.fields(columns)}); pass "
                "collect_columns() of a TauTauProcessor run."
            )
    rows = columns[level]
    keep = ak.to_numpy(rows.reason) == 0
    for name in features:
        keep &= ak.to_numpy(~ak.is_none(rows[name])).astype(bool)
    if not keep.any():
        raise EmptySelectionError(
            f"no {level}-level event passes the selection with features {list(features)} "
            f"({len(columns)} events); generate more events or loosen the selection."
        )
    x = np.stack([ak.to_numpy(ak.drop_none(rows[name][keep])) for name in features], axis=1).astype(
        np.float64
    )
    return {
        "x": x,
        "z": ak.to_numpy(columns.tau_energy_scale)[keep].astype(np.float64),
        "weight": ak.to_numpy(columns.weight)[keep].astype(np.float64),
        "is_signal": ak.to_numpy(columns.is_signal)[keep].astype(bool),
        "event": ak.to_numpy(columns.event)[keep],
    }
