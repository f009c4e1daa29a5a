"""A definition's per-event value as what a selection or a histogram takes.

Shared by the generic processor (:mod:`hepnnlr.processors.analysis`: cuts, counts and its
histograms), the results layer's filler
(:func:`hepnnlr.results.observables.fill_observables`) and the unfolding's region
(:func:`hepnnlr.workflows.unfold_inputs.region_mask`), so that a cut and a region read the
same value the same way, and so that the histograms of the results layer get the
processor's entries in the processor's order (bit for bit the same histograms).
"""

from __future__ import annotations

from typing import Any

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError, ShapeMismatchError

__all__ = ["event_flags", "selected_entries"]


def event_flags(
    value: Any, n_events: int, *, key: str, text: str, what: str, example: str, where: str = ""
) -> np.ndarray:
    """One true/false per event from a cut's or region's value.

    Args:
        value: The evaluated definition: booleans per event (None, a missing value, fails),
            or one true/false for every event.
        n_events: The number of events.
        key: Where the definition stands in its description (for the errors).
        text: The definition's text (for the errors).
        what: ``"cut"`` or ``"region"`` (for the errors).
        example: A comparison of the analysis, suggested when ``value`` is not boolean.
        where: The dataset and file, when known (for the errors).

    Raises:
        ShapeMismatchError: Not one value per event (a list per event, another length).
        ConfigError: Values that are not true/false.
    """
    if isinstance(value, bool | np.bool_):
        return np.full(n_events, bool(value))
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype == bool:
        if len(value) == n_events:
            return value
    array = ak.Array(value) if isinstance(value, np.ndarray) else value
    at = f" in {where}" if where else ""
    if not isinstance(array, ak.Array) or len(array) != n_events or array.ndim != 1:
        raise ShapeMismatchError(
            f"{key}: the {what} {text!r} does not give one true/false per event{at}; a "
            f"{what} needs one per event: wrap per-object conditions in any(...) or all(...)."
        )
    flags = ak.to_numpy(ak.fill_none(array, False))
    if flags.dtype != bool:
        raise ConfigError(
            f"{key}: the {what} {text!r} gives {flags.dtype} values, not true/false; compare "
            f"it, e.g. {example}."
        )
    return flags


def selected_entries(value: Any, selected: np.ndarray, weights: np.ndarray) -> tuple[Any, Any]:
    """The histogram entries of the ``selected`` events and their weights.

    One entry per event, or per object of a list-valued ``value`` (objects of objects:
    every innermost value) with its event's weight, in event order; None values dropped.
    The values are returned as awkward or NumPy values, for the caller to convert and check.
    """
    value = value[selected]
    weights = weights[selected]
    while value.ndim > 2:  # objects of objects: every innermost value counts
        value = ak.flatten(value, axis=2)
    if value.ndim == 2:
        value = ak.fill_none(value, [], axis=0)
        weights = np.repeat(weights, ak.to_numpy(ak.num(value, axis=1)))
        value = ak.flatten(value, axis=1)
    present = ak.to_numpy(~ak.is_none(value, axis=0))
    if not present.all():
        value, weights = value[present], weights[present]
    return value, weights
