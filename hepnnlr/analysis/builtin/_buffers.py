"""Flat NumPy buffers of a jagged collection, for the built-in analyses' functions."""

from __future__ import annotations

from typing import Any

import awkward as ak
import numpy as np

__all__ = ["flat_fields"]


def flat_fields(
    collection: Any, fields: tuple[str, ...]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per-event counts and the flat buffers of ``fields`` of a jagged collection."""
    layout = collection.layout
    if isinstance(layout, ak.contents.ListOffsetArray) and isinstance(
        layout.content, ak.contents.RecordArray
    ):
        # a collection read from a file: slice its buffers, no awkward call per field
        # (tens of milliseconds per chunk otherwise)
        contents = [layout.content.content(f) for f in fields]
        if all(isinstance(c, ak.contents.NumpyArray) and c.data.ndim == 1 for c in contents):
            offsets = np.asarray(layout.offsets, dtype=np.int64)
            start, stop = int(offsets[0]), int(offsets[-1])
            pairs = zip(fields, contents, strict=True)
            flat = {f: np.asarray(c.data)[start:stop] for f, c in pairs}
            return np.diff(offsets), flat
    collection = ak.fill_none(collection, [], axis=0)
    counts = ak.to_numpy(ak.num(collection, axis=1)).astype(np.int64)
    return counts, {f: ak.to_numpy(ak.flatten(collection[f], axis=1)) for f in fields}
