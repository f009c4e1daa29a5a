"""What every hepnnlr processor returns per chunk, and how the chunks are put back together.

Each processor returns ``{"cutflow": {...}, "hists": {...}, "columns": {chunk_key: ak.Array}}``
for a chunk. Columns are kept per chunk, keyed by :func:`chunk_key`, so that merging outputs
is a dict union: no worker concatenates, grows or pads an array while outputs are merged,
and memory stays bounded by the chunk size. :func:`collect_columns` concatenates one
dataset's chunks once, in event order, at the end.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import awkward as ak
import numpy as np

from hepnnlr.errors import (
    ConfigError,
    EmptySelectionError,
    InputFileError,
    MissingBranchError,
    NonFiniteInputError,
    ShapeMismatchError,
)

__all__ = ["ChunkKey", "check_finite_branches", "chunk_key", "chunk_result", "collect_columns"]

ChunkKey = tuple[str, str, int, int]
"""``(dataset, filename, entrystart, entrystop)`` of one chunk."""

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


def chunk_result(
    events: ak.Array, cutflow: dict[str, int], hists: dict[str, Any], columns: Mapping[str, Any]
) -> dict[str, Any]:
    """A processor's output for one chunk: ``columns`` zipped into one record per event,
    made plain and packed (no NanoEvents behaviour, docstrings or lazy buffers travel back
    from the workers), under the chunk's :func:`chunk_key`."""
    record = ak.zip(dict(columns), depth_limit=1)
    record = ak.Array(ak.to_packed(ak.materialize(ak.without_parameters(record))).layout)
    key = chunk_key(events.metadata, len(events))
    return {"cutflow": cutflow, "hists": hists, "columns": {key: record}}


def check_finite_branches(events: ak.Array, branches: tuple[str, ...]) -> None:
    """Refuse NaN/inf in the floating-point branches a processor reads: its cuts would drop
    such objects silently. Counts (``nX``) and non-float branches are skipped."""
    for branch in branches:
        if branch.startswith("n") or branch == "event":
            continue
        name, _, field = branch.partition("_")
        if field and name in ak.fields(events) and field in ak.fields(events[name]):
            values = events[name][field]
        else:
            values = events[branch]
        flat = ak.to_numpy(ak.flatten(values, axis=None))
        if np.issubdtype(flat.dtype, np.floating) and not np.isfinite(flat).all():
            raise NonFiniteInputError(
                f"branch {branch} of {events.metadata.get('filename', '?')} holds NaN or "
                "infinite values; cuts would drop such objects silently, so hepnnlr stops "
                "here. Regenerate the file or fix the step that wrote it."
            )


def collect_columns(output: Mapping[str, Any], dataset: str | None = None) -> ak.Array:
    """Concatenate one dataset's per-chunk columns in event order.

    Args:
        output: The accumulator returned by a run of :class:`DISProcessor`.
        dataset: Dataset to collect; may be omitted when the output holds only one.

    Returns:
        One row per event, in file order (files ordered by name), with the layout of
        ``docs/architecture.md``. Chunks written to Parquet by a run with
        ``run_processor(..., columns_dir=...)`` are read back from their files.
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
    return ak.concatenate([_chunk_columns(chunks[key], key) for key in keys], axis=0)


def _chunk_columns(value: Any, key: ChunkKey) -> ak.Array:
    """A chunk's columns: the array itself, or read from the Parquet file a run with
    ``columns_dir`` wrote (:class:`hepnnlr.schema.columns.ColumnsToParquet`)."""
    if not isinstance(value, str | os.PathLike):
        return value
    if not os.path.isfile(value):
        raise InputFileError(
            f"the columns of chunk {key} were written to {os.fspath(value)!r}, which no "
            "longer exists; rerun the processor with the same columns_dir."
        )
    return ak.from_parquet(value)
