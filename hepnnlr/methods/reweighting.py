"""Apply a trained reweighter where the analysis runs: inside a coffea processor.

:class:`ReweightingMixin` gives any processor that produces event columns a per-event
weight from a :class:`hepnnlr.training.SavedReweighter` on disk. The model is loaded
lazily, once per worker process, from ``reweighter_path`` and is never pickled with the
processor (``__getstate__`` drops it), so the processor ships to dask workers as a few
strings. :class:`ReweightedDISProcessor` is the DIS processor with it: its output gains
``reweighted`` histograms (filled with event weight x reweighter weight; like the
processor's ``hists`` they have the leading ``dataset`` axis, filled with
``events.metadata["dataset"]``) and a ``reweight`` field in the columns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError
from hepnnlr.observables.histos import book_dis_histograms, fill_dis_histograms
from hepnnlr.processors.chunks import dataset_of
from hepnnlr.processors.dis import DISProcessor
from hepnnlr.training.saved import SavedReweighter

__all__ = ["ReweightedDISProcessor", "ReweightingMixin"]


class ReweightingMixin:
    """Lazily loaded reweighter for a processor (see the module docstring).

    Args:
        reweighter_path: Directory written by ``SavedReweighter.save``.
        select_field: Boolean column choosing the events to reweight (others get 1).
    """

    def __init__(self, reweighter_path: str | Path, select_field: str = "pass_reco", **kwargs):
        super().__init__(**kwargs)
        path = Path(reweighter_path)
        if not path.is_dir():
            raise ConfigError(
                f"reweighter_path={str(path)!r} is not a directory; pass the folder written "
                "by SavedReweighter.save(...)."
            )
        self.reweighter_path = str(path.resolve())
        self.select_field = select_field
        self._reweighter: SavedReweighter | None = None

    @property
    def reweighter(self) -> SavedReweighter:
        """The reweighter, loaded on first use in this process."""
        if self._reweighter is None:
            self._reweighter = SavedReweighter.load(self.reweighter_path)
        return self._reweighter

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_reweighter"] = None  # never ship a Keras model to the workers
        return state

    def event_reweights(self, columns: ak.Array) -> np.ndarray:
        """Reweighter weights of the events in ``columns`` (1 outside ``select_field``)."""
        return self.reweighter.weights(columns, ak.to_numpy(columns[self.select_field]))


class ReweightedDISProcessor(ReweightingMixin, DISProcessor):
    """:class:`~hepnnlr.processors.dis.DISProcessor` plus reweighted histograms."""

    def process(self, events: ak.Array) -> dict[str, Any]:
        out = super().process(events)
        ((key, columns),) = out["columns"].items()
        dataset = dataset_of(events)
        reweight = self.event_reweights(columns)
        weight = ak.to_numpy(columns["weight"]) * reweight
        reweighted = {}
        for level in ("gen", "reco"):
            passed = ak.to_numpy(columns[f"pass_{level}"])
            reweighted[level] = book_dis_histograms(level, dataset)
            fill_dis_histograms(
                reweighted[level], columns[level][passed], weight[passed], dataset=dataset
            )
        out["reweighted"] = reweighted
        out["columns"] = {key: ak.with_field(columns, reweight, "reweight")}
        return out
