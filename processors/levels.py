"""The gen/reco pass of the object-level processors (tt̄: :mod:`hepnnlr.processors.ttbar`,
ττ: :mod:`hepnnlr.processors.tautau`).

Both compute one record per level (generator, detector), turn its ``reason`` code into
cumulative cuts of one :class:`coffea.analysis_tools.PackedSelection` (``gen_*`` then
``reco_*`` in the cut-flow) and fill one level's histograms with the event weights;
:func:`run_levels` is that loop, once, so the two processors differ only in what they
compute and cut on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np
from coffea.analysis_tools import PackedSelection

from hepnnlr.processors.chunks import check_finite_branches, cumulative_counts, dataset_of

__all__ = ["LevelPass", "run_levels"]


@dataclass(frozen=True)
class LevelPass:
    """What :func:`run_levels` made of one chunk.

    Attributes:
        dataset: The chunk's dataset (``events.metadata["dataset"]``).
        weight: ``events.weight`` as float64.
        cutflow: ``events``, then each level's cumulative cuts (and its ``extra`` counts).
        hists: ``{level: {name: hist.Hist}}``.
        records: ``{level: ak.Array}``, one row per event.
    """

    dataset: str
    weight: np.ndarray
    cutflow: dict[str, int]
    hists: dict[str, dict[str, Any]]
    records: dict[str, ak.Array]


def run_levels(
    events: ak.Array,
    branches: tuple[str, ...],
    levels: Sequence[str],
    *,
    record: Callable[[ak.Array, str], ak.Array],
    cuts: Callable[[ak.Array], Mapping[str, np.ndarray]],
    book: Callable[[str, str], dict[str, Any]],
    fill: Callable[..., dict[str, Any]],
    extra: Callable[[str, dict[str, int]], Mapping[str, int]] | None = None,
) -> LevelPass:
    """One chunk's levels: records, cumulative cut-flow and filled histograms.

    Args:
        events: The chunk (with ``weight``).
        branches: The branches the processor reads; NaN/inf in them are refused.
        levels: Level names, in cut-flow order (``("gen", "reco")``).
        record: ``record(events, level)``, the level's per-event record.
        cuts: The level's cuts from its record, in order (each applied on top of the
            previous ones, and of the earlier levels').
        book: ``book(level, dataset)``, the level's empty histograms.
        fill: ``fill(hists, record, weight, dataset=dataset)``, filling them in place.
        extra: ``extra(level, counts)``, more cut-flow entries derived from the level's
            cumulative counts (added right after them).

    Raises:
        NonFiniteInputError: NaN or inf in a floating-point branch of ``branches``.
    """
    dataset = dataset_of(events)
    check_finite_branches(events, branches)
    weight = ak.to_numpy(events.weight).astype(np.float64)
    cutflow = {"events": len(events)}
    hists = {}
    records = {}
    selection = PackedSelection()
    for level in levels:
        out = record(events, level)
        records[level] = out
        counts = cumulative_counts(selection, level, cuts(out))
        cutflow.update(counts)
        if extra is not None:
            cutflow.update(extra(level, counts))
        hists[level] = fill(book(level, dataset), out, weight, dataset=dataset)
    return LevelPass(dataset, weight, cutflow, hists, records)
