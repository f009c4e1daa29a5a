"""Input checks shared by every step that turns arrays into tensors."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from hepnnlr.errors import NonFiniteInputError, ShapeMismatchError

__all__ = ["check_finite", "check_same_length"]


def check_finite(
    name: str,
    values: np.ndarray,
    *,
    where: str = "",
    counts: np.ndarray | None = None,
) -> None:
    """Raise :class:`NonFiniteInputError` if ``values`` holds NaN or infinity.

    Args:
        name: What the array is (a feature, a weight column), used in the message.
        values: The array to check; its first axis runs over events, or over particles of
            all events flattened when ``counts`` is given.
        where: Optional context (sample name, file) added to the message.
        counts: Particles per event, to report the event of a bad flattened entry.
    """
    values = np.asarray(values)
    if not np.issubdtype(values.dtype, np.floating):
        return
    bad = ~np.isfinite(values)
    if bad.any():
        first = np.argwhere(bad)[0]
        index = int(first[0])
        if counts is not None:
            index = int(np.searchsorted(np.cumsum(counts), index, side="right"))
        kind = "NaN" if np.isnan(values[tuple(first)]) else "infinite"
        context = f" in {where}" if where else ""
        raise NonFiniteInputError(
            f"{name!r}{context} has {int(bad.sum())} non-finite value(s) ({kind} first at "
            f"event {index}). hepnnlr does not replace them: find where they come from "
            f"(a division by zero, a log of a non-positive number, a missing object) and "
            f"fix or remove those events before training."
        )


def check_same_length(arrays: Mapping[str, object]) -> int:
    """Check that all named arrays have the same length and return it.

    Raises:
        ShapeMismatchError: naming every array and its length.
    """
    lengths = {name: len(array) for name, array in arrays.items() if array is not None}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise ShapeMismatchError(
            f"arrays that describe the same events have different lengths ({listed}); "
            "pass one entry per event in each, in the same event order."
        )
    return next(iter(lengths.values()), 0)
