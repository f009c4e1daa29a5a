"""Coffea processor of the calorimeter showers of arXiv:2009.03796 (Sec. III B).

Reference: Diefenbacher, Eren, Kasieczka, Korol, Nachman, Shih, "DCTRGAN: Improving the
Precision of Generative Models with Reweighting", JINST 15 (2020) P11004, arXiv:2009.03796.

:class:`CaloProcessor` reads shower files (:mod:`hepnnlr.samples.calo_io` layout,
``events.Hit`` through :class:`hepnnlr.schema.HepnnlrSchema`), computes the high-level
features of :func:`hepnnlr.observables.calo.shower_features` per event and returns per
chunk of dataset ``d`` (``events.metadata["dataset"]``: the fileset key)

* ``cutflow``: ``{d: {"events", "empty_showers"}}`` (an empty shower has no cell
  passing the threshold; it is kept, with ``None`` centroid and second moments), counted
  with a :class:`coffea.analysis_tools.PackedSelection`;
* ``hists``: ``{name: hist.Hist}`` of Figs. 3–6 of arXiv:2009.03796
  (:mod:`hepnnlr.observables.calo_histos`), filled with ``events.weight``; each has the
  leading ``hist.axis.StrCategory(..., growth=True, name="dataset")`` axis, filled with
  ``d`` (select one dataset with :func:`collect_hists`);
* ``columns``: ``{chunk_key: ak.Array}``, one row per event: ``event``, ``weight``,
  ``E_true``, the 33 DCTR features (``n_hits``, ``centroid``, ``E_total``,
  ``E_layer_1`` … ``E_layer_30``) and the 60 second moments ``x2_layer_k``,
  ``y2_layer_k``. Collect them in event order with
  :func:`hepnnlr.processors.dis.collect_columns` (re-exported here), for the same reasons
  as for DIS: merging is a dict union and worker memory stays bounded by the chunk.

A run over several datasets (e.g. ``{"g4": [...], "gan": [...]}``) keeps them apart: one
cut-flow each, one row each in every histogram, chunk keys that start with the dataset;
:func:`collect_cutflow`, :func:`collect_hists` and :func:`collect_columns` read one back.

The same analysis is the ``calo`` description (``hepnnlr.analysis.get("calo")``,
``hepnnlr/analysis/builtin/calo.yaml``): the features come from its
:func:`hepnnlr.analysis.builtin.calo.shower_columns`, one implementation, so
``AnalysisProcessor(get("calo"))`` gives the same histograms (its ``reco`` group), columns
(its ``reco`` record) and cut flow (``reco_empty_showers``) bit for bit
(``tests/processors/test_calo_processor.py``).
"""

from __future__ import annotations

from typing import Any

import awkward as ak
import numpy as np
from coffea import processor
from coffea.analysis_tools import PackedSelection

from hepnnlr.analysis.builtin.calo import HIT_FIELDS, shower_columns
from hepnnlr.errors import ConfigError
from hepnnlr.observables.calo import N_LAYERS
from hepnnlr.observables.calo_histos import book_calo_histograms, fill_calo_histograms
from hepnnlr.processors.chunks import (
    chunk_result,
    collect_columns,
    collect_cutflow,
    collect_hists,
    cutflow_counts,
    dataset_of,
)

__all__ = ["CaloProcessor", "collect_columns", "collect_cutflow", "collect_hists"]


class CaloProcessor(processor.ProcessorABC):
    """Histograms and per-event high-level features of calorimeter showers.

    Stateless: the instance holds only its two settings, so it pickles to workers.

    Args:
        threshold: extra cell-energy cut in MeV applied before every feature (0: use the
            cells as stored; the files already hold only cells above the generator's
            0.1 MeV threshold).
        n_layers: layers of the calorimeter (30 in arXiv:2009.03796).
    """

    required_branches: tuple[str, ...] = (
        "event",
        "weight",
        "E_true",
        "nHit",
        *(f"Hit_{f}" for f in HIT_FIELDS),
    )
    """Branches of the ``events`` tree that :meth:`process` reads (checked by
    :func:`hepnnlr.schema.run_processor` before any work starts)."""

    def __init__(self, *, threshold: float = 0.0, n_layers: int = N_LAYERS) -> None:
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float | np.number)
            or not np.isfinite(threshold)
            or threshold < 0
        ):
            raise ConfigError(
                f"CaloProcessor(threshold=...) must be a finite energy >= 0 in MeV, got "
                f"{threshold!r}."
            )
        if isinstance(n_layers, bool) or not isinstance(n_layers, int) or n_layers < 1:
            raise ConfigError(
                f"CaloProcessor(n_layers=...) must be a positive integer, got {n_layers!r}."
            )
        self.threshold = float(threshold)
        self.n_layers = n_layers

    def process(self, events: ak.Array) -> dict[str, Any]:
        """Process one chunk of NanoEvents (output described in the module docstring)."""
        dataset = dataset_of(events)
        features = shower_columns(events, threshold=self.threshold, n_layers=self.n_layers)
        weight = ak.to_numpy(events.weight).astype(np.float64)
        hists = book_calo_histograms(dataset)
        fill_calo_histograms(hists, features, weight, dataset=dataset)
        selection = PackedSelection()
        selection.add("hits", ak.to_numpy(features.n_hits) > 0)
        n_events, with_hits = cutflow_counts(selection, "hits")
        cutflow = {"events": n_events, "empty_showers": n_events - with_hits}
        columns = {
            "event": ak.values_astype(events.event, np.uint64),
            "weight": weight,
            "E_true": ak.values_astype(events.E_true, np.float64),
            **{name: features[name] for name in ak.fields(features)},
        }
        return chunk_result(events, cutflow, hists, columns)

    def postprocess(self, accumulator: dict[str, Any]) -> dict[str, Any]:
        """Return the merged accumulator unchanged."""
        return accumulator
