"""What every hepnnlr processor returns per chunk, and how the chunks are put back together.

Each processor returns, for a chunk of dataset ``d`` (``events.metadata["dataset"]``, the
fileset key, read by :func:`dataset_of`)::

    {"cutflow": {d: {cut: count}},
     "hists": {...: hist.Hist with a leading "dataset" axis},
     "columns": {chunk_key: ak.Array}}

so that a run over several datasets (``{"sim": [...], "data": [...]}``) keeps them apart:
coffea merges the cut-flows dataset by dataset (a dict per dataset, summed cut by cut),
the histograms row by row of their ``dataset`` category axis, and the columns by chunk key
(whose first element is the dataset). The cut-flow counts come from a
:class:`coffea.analysis_tools.PackedSelection` of the chunk (:func:`cutflow_counts`).

Columns are kept per chunk, keyed by :func:`chunk_key`, so that merging outputs is a dict
union: no worker concatenates, grows or pads an array while outputs are merged, and memory
stays bounded by the chunk size. One dataset is read back from the merged output with

* :func:`collect_columns`: its chunks concatenated once, in event order;
* :func:`collect_hists`: its histograms, ``h[{"dataset": name}]`` (same nesting);
* :func:`collect_cutflow`: its ``{cut: count}``.

Each of them takes ``dataset=`` and may omit it only when the output holds a single
dataset; with several it raises a :class:`~hepnnlr.errors.ConfigError` naming them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import awkward as ak
import numpy as np
from coffea.analysis_tools import PackedSelection

from hepnnlr.errors import (
    ConfigError,
    EmptySelectionError,
    InputFileError,
    MissingBranchError,
    NonFiniteInputError,
    ShapeMismatchError,
)
from hepnnlr.observables.dataset_histos import datasets_of, select_dataset

__all__ = [
    "ChunkKey",
    "check_finite_branches",
    "chunk_key",
    "chunk_output",
    "chunk_result",
    "collect_columns",
    "collect_cutflow",
    "collect_hists",
    "cumulative_counts",
    "cutflow_counts",
    "gen_reco_cutflow",
    "dataset_of",
    "flat_collection",
]

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


def dataset_of(events: ak.Array) -> str:
    """The chunk's dataset, ``events.metadata["dataset"]`` (the fileset key).

    Raises:
        ConfigError: the metadata names no dataset (events built by hand without one).
    """
    dataset = events.metadata.get("dataset")
    if not isinstance(dataset, str) or not dataset:
        raise ConfigError(
            f"events.metadata has no dataset name (got {dataset!r}); hepnnlr processors "
            "keep datasets apart by it. Run them with hepnnlr.schema.run_processor "
            "(fileset {dataset: [files]}), or build the events with "
            "NanoEventsFactory.from_root(..., metadata={'dataset': 'sim'})."
        )
    return dataset


def cutflow_counts(selection: PackedSelection, *names: str) -> list[int]:
    """Events left after each cumulative requirement of ``selection``.

    Args:
        selection: The chunk's selections.
        names: Requirements applied one after the other.

    Returns:
        ``[all events, after names[0], after names[0] and names[1], ...]``, as plain
        ``int``: the numbers of ``selection.cutflow(*names).result().nevcutflow``, counted
        from ``selection.all(*names[:k])`` (the same masks; ``cutflow`` also builds every
        one-cut mask and the N-1 bookkeeping, several times the cost per chunk).
    """
    return [len(selection.all())] + [
        int(selection.all(*names[: k + 1]).sum()) for k in range(len(names))
    ]


def cumulative_counts(
    selection: PackedSelection, prefix: str, cuts: Mapping[str, np.ndarray]
) -> dict[str, int]:
    """Add ``cuts`` to ``selection`` as ``f"{prefix}_{name}"`` and count the events left
    after each of them and all before it (:func:`cutflow_counts`).

    Returns:
        ``{f"{prefix}_{name}": events left}``, in the order of ``cuts``.
    """
    names = [f"{prefix}_{name}" for name in cuts]
    for name, mask in zip(names, cuts.values(), strict=True):
        selection.add(name, mask)
    return dict(zip(names, cutflow_counts(selection, *names)[1:], strict=True))


def gen_reco_cutflow(
    selection: PackedSelection, passed: Mapping[str, np.ndarray]
) -> dict[str, int]:
    """The head of the cut-flow of a processor with a generator and a detector level:
    ``events``, ``pass_gen``, ``pass_reco`` and ``pass_both``, from the ``pass_gen`` and
    ``pass_reco`` flags in ``passed`` (added to ``selection`` under those names)."""
    for level in ("gen", "reco"):
        selection.add(f"pass_{level}", passed[level])
    n_events, n_gen, n_both = cutflow_counts(selection, "pass_gen", "pass_reco")
    return {
        "events": n_events,
        "pass_gen": n_gen,
        "pass_reco": cutflow_counts(selection, "pass_reco")[1],
        "pass_both": n_both,
    }


def flat_collection(
    collection: ak.Array, fields: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Per-event counts, offsets (from 0) and flat NumPy buffers of ``fields`` of a jagged
    collection (``events.GenPart``): ``ak.flatten(collection[f], axis=1)`` of each field.

    A NanoEvents collection read from a file is a list-offset array of records of plain
    numbers: its buffers are then sliced directly (no copy), which spares one awkward
    projection and flattening per field and chunk. Any other layout (``None`` events,
    indexed or masked fields, ...) goes through awkward, ``None`` events counting as
    empty.
    """
    layout = collection.layout
    if isinstance(layout, ak.contents.ListOffsetArray) and isinstance(
        layout.content, ak.contents.RecordArray
    ):
        record = layout.content
        contents = [record.content(f) if f in record.fields else None for f in fields]
        if all(
            # (NanoEvents' __doc__ and typename parameters say nothing about the values;
            # an __array__ one makes them characters)
            isinstance(c, ak.contents.NumpyArray)
            and c.data.ndim == 1
            and c.parameter("__array__") is None
            for c in contents
        ):
            raw = np.asarray(layout.offsets, dtype=np.int64)
            start, stop = int(raw[0]), int(raw[-1])
            flat = {
                f: np.asarray(c.data)[start:stop] for f, c in zip(fields, contents, strict=True)
            }
            return np.diff(raw), raw - start, flat
    collection = ak.fill_none(collection, [], axis=0)
    counts = ak.to_numpy(ak.num(collection, axis=1)).astype(np.int64)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    flat = {f: ak.to_numpy(ak.flatten(collection[f], axis=1)) for f in fields}
    return counts, offsets, flat


def chunk_output(
    events: ak.Array,
    cutflow: Mapping[str, int],
    hists: dict[str, Any],
    columns: ak.Array | None,
) -> dict[str, Any]:
    """A processor's output for one chunk: the cut-flow under the chunk's dataset and the
    ready (plain, packed) ``columns`` record array under its :func:`chunk_key`, or no
    columns at all (``None``)."""
    out = {"cutflow": {dataset_of(events): dict(cutflow)}, "hists": hists, "columns": {}}
    if columns is not None:
        out["columns"][chunk_key(events.metadata, len(events))] = columns
    return out


def chunk_result(
    events: ak.Array, cutflow: Mapping[str, int], hists: dict[str, Any], columns: Mapping[str, Any]
) -> dict[str, Any]:
    """:func:`chunk_output` with ``columns`` zipped into one record per event, made plain
    and packed (no NanoEvents behaviour, docstrings or lazy buffers travel back from the
    workers)."""
    record = ak.zip(dict(columns), depth_limit=1)
    record = ak.Array(ak.to_packed(ak.materialize(ak.without_parameters(record))).layout)
    return chunk_output(events, cutflow, hists, record)


def _choose_dataset(datasets: list[str], dataset: str | None, collect: str) -> str:
    """``dataset``, checked against those present, or the only one present."""
    if dataset is None:
        if len(datasets) > 1:
            raise ConfigError(
                f"the processor output holds several datasets {datasets}; pass "
                f"{collect}(output, dataset=...) with one of them."
            )
        return datasets[0]
    if dataset not in datasets:
        raise ConfigError(
            f"dataset {dataset!r} is not in the processor output; datasets present: {datasets}."
        )
    return dataset


def collect_hists(output: Mapping[str, Any], dataset: str | None = None) -> dict[str, Any]:
    """One dataset's histograms, without their ``dataset`` axis.

    Args:
        output: The accumulator returned by a run of a hepnnlr processor.
        dataset: Dataset to select; may be omitted when the output holds only one.

    Returns:
        ``output["hists"]`` with the same nesting (``{"gen": {...}, "reco": {...}}``, or
        ``{name: ...}`` for :class:`~hepnnlr.processors.calo.CaloProcessor`), each
        histogram ``h[{"dataset": dataset}]``: the values and variances of a run over that
        dataset alone. A dataset processed at fewer levels than the others (real data,
        metadata ``is_data: true``: the ``reco`` level alone) gets only the groups of its
        levels (``{"reco": {...}}``): every histogram is booked with its chunk's dataset,
        so a group without it is a level that was not built for it.
    """
    if "hists" not in output:
        raise MissingBranchError(
            f"the processor output has no 'hists' (keys: {sorted(output)}); pass the "
            "accumulator returned by run_processor."
        )
    datasets = datasets_of(output["hists"])
    if not datasets:
        raise EmptySelectionError(
            "the processor output's histograms hold no dataset; the run processed no events."
        )
    chosen = _choose_dataset(datasets, dataset, "collect_hists")
    hists = output["hists"]
    if isinstance(hists, Mapping):
        hists = {group: h for group, h in hists.items() if chosen in datasets_of(h)}
    return select_dataset(hists, chosen)


def collect_cutflow(output: Mapping[str, Any], dataset: str | None = None) -> dict[str, int]:
    """One dataset's cut-flow, ``output["cutflow"][dataset]``.

    Args:
        output: The accumulator returned by a run of a hepnnlr processor.
        dataset: Dataset to select; may be omitted when the output holds only one.

    Returns:
        ``{cut: count}`` of that dataset (the processor's module docstring lists the cuts).
    """
    if "cutflow" not in output:
        raise MissingBranchError(
            f"the processor output has no 'cutflow' (keys: {sorted(output)}); pass the "
            "accumulator returned by run_processor."
        )
    cutflows = output["cutflow"]
    if not cutflows:
        raise EmptySelectionError("the processor output holds no cut-flow; no event was run.")
    chosen = _choose_dataset(sorted(cutflows), dataset, "collect_cutflow")
    return dict(cutflows[chosen])


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
        output: The accumulator returned by a run of a hepnnlr processor.
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
    dataset = _choose_dataset(datasets, dataset, "collect_columns")
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
