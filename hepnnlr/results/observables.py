"""Histograms of a description's observables with any per-event weights.

The one filler of the results layer for every analysis: the unfolded, truth and reweighted
histograms of :mod:`hepnnlr.workflows` come from the per-event ``observables`` record that
:class:`hepnnlr.processors.AnalysisProcessor` puts in a level's columns
(``AnalysisProcessor(description, observables=True)``) and new weights, one per event
(OmniFold's, a reweighter's). Each histogram is booked from the observable's binning
(``observable.bins.axis(name, label)``, ``Weight`` storage, no dataset axis) and filled as
the processor fills its own: one entry per event, or per object of a list-valued
observable with its event's weight; None values are skipped. The same values in the same
order, so weights equal to the event weights give the processor's histograms bit for bit.

Example:
    >>> from hepnnlr.analysis import get
    >>> from hepnnlr.processors.analysis import run_analysis
    >>> from hepnnlr.processors.chunks import collect_columns
    >>> d = get("dis")
    >>> columns = collect_columns(run_analysis(d, {"sim": ["dis_sim.root"]},
    ...                                        observables=True))  # doctest: +SKIP
    >>> fill_observables(d.levels["gen"], columns.gen.observables, w,
    ...                  select=columns.pass_gen)["Q2"]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import awkward as ak
import hist
import numpy as np

from hepnnlr.errors import MissingBranchError, NonFiniteInputError, ShapeMismatchError
from hepnnlr.observables.dataset_histos import book_histogram, fill_histogram
from hepnnlr.observables.entries import selected_entries

if TYPE_CHECKING:
    from hepnnlr.analysis.description import Level

__all__ = ["fill_observables"]


def fill_observables(
    level: Level,
    observables: ak.Array,
    weights: np.ndarray,
    *,
    select: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    where: str = "",
) -> dict[str, hist.Hist]:
    """One histogram per observable of ``level``, filled with ``weights``.

    Args:
        level: The description's level (``description.levels["gen"]``): the binning and
            labels.
        observables: The level's ``observables`` record of the columns, one row per
            event.
        weights: One finite weight per event of ``observables``.
        select: The events to fill (boolean per event); default all.
        names: The observables to fill (default every one of the level).
        where: Names the sample in error messages.

    Raises:
        MissingBranchError: The record lacks an observable (run the processor with
            ``observables=True``).
        ShapeMismatchError: ``weights`` or ``select`` do not have one entry per event.
        NonFiniteInputError: A weight, or a value to fill, is NaN or infinite.
    """
    at = f" of {where}" if where else ""
    n_events = len(observables)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (n_events,):
        raise ShapeMismatchError(
            f"fill_observables: weights have shape {weights.shape} for {n_events} events{at}; "
            "pass one weight per event of the columns."
        )
    selected = np.ones(n_events, dtype=bool) if select is None else np.asarray(select, bool)
    if selected.shape != (n_events,):
        raise ShapeMismatchError(
            f"fill_observables: select has shape {selected.shape} for {n_events} events{at}."
        )
    bad = ~np.isfinite(weights) & selected
    if bad.any():
        raise NonFiniteInputError(
            f"fill_observables: {int(bad.sum())} selected event weight(s){at} are not finite "
            f"(first at event {int(np.argmax(bad))}); find where they were produced."
        )
    available = ak.fields(observables)
    out = {}
    for name in level.observables if names is None else names:
        if name not in level.observables:
            raise MissingBranchError(
                f"fill_observables: {name!r} is not an observable of the level; it has "
                f"{list(level.observables)}."
            )
        if name not in available:
            raise MissingBranchError(
                f"fill_observables: the observables record{at} has no {name!r} (fields "
                f"{sorted(available)}); run AnalysisProcessor(description, observables=True)."
            )
        observable = level.observables[name]
        histogram = book_histogram(observable.bins.axis(name, observable.label), dataset=None)
        values, entry_weights = _flat(observables[name], selected, weights)
        bad = ~np.isfinite(values)
        if bad.any():
            raise NonFiniteInputError(
                f"fill_observables: observable {name!r}{at} has {int(bad.sum())} NaN or "
                "infinite value(s) among the selected events."
            )
        if observable.bins.integer:  # counts: exact integers, as the axis needs
            values = values.astype(np.int64)
        fill_histogram(histogram, values, entry_weights, dataset=None)
        out[name] = histogram
    return out


def _flat(value: Any, selected: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The selected events' values (one per event, or per object with its event's
    weight, in event order, as the processor takes them), None values dropped; float64."""
    value, entry_weights = selected_entries(value, selected, weights)
    return ak.to_numpy(value).astype(np.float64, copy=False), entry_weights
