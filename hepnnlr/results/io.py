"""Writing results: histograms to ROOT, per-event weights to parquet or ROOT."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import awkward as ak
import hist
import numpy as np
import uproot

from hepnnlr.errors import ConfigError, InputFileError, ShapeMismatchError
from hepnnlr.observables.dataset_histos import DATASET_AXIS, has_dataset_axis

__all__ = ["read_weights", "write_histograms", "write_weights"]

_WEIGHT_FORMATS = (".parquet", ".root")


def write_histograms(path: str | Path, groups: Mapping[str, Mapping[str, hist.Hist]]) -> Path:
    """Write ``{group: {name: Hist}}`` to a ROOT file as ``group/name`` TH1s (with variances).

    Processor histograms carry a ``dataset`` axis: select one dataset first
    (:func:`hepnnlr.processors.chunks.collect_hists`); a histogram that still has the axis
    is refused.

    Returns the path written.
    """
    for group, histograms in groups.items():
        for name, histogram in histograms.items():
            if has_dataset_axis(histogram):
                raise ConfigError(
                    f"histogram {group}/{name} still has its dataset axis (datasets "
                    f"{list(histogram.axes[DATASET_AXIS])}); the ROOT file holds one "
                    "dataset per histogram: select one with collect_hists(output, dataset=...)."
                )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with uproot.recreate(path) as out:
        for group, histograms in groups.items():
            for name, histogram in histograms.items():
                out[f"{group}/{name}"] = histogram
    return path


def write_weights(
    path: str | Path,
    event: np.ndarray,
    columns: Mapping[str, np.ndarray],
    *,
    tree: str = "weights",
) -> Path:
    """Write per-event weights keyed by the event number, to join back to the events.

    The format follows the suffix: ``.parquet`` (one column per entry of ``columns`` plus
    ``event``) or ``.root`` (a TTree ``tree`` with the same branches, usable as a friend
    tree of the event file since it has one entry per event in the same order).
    """
    path = Path(path)
    if path.suffix not in _WEIGHT_FORMATS:
        raise ConfigError(
            f"cannot write weights to {path}: the suffix must be one of {_WEIGHT_FORMATS}."
        )
    event = np.asarray(event)
    table = {"event": event}
    for name, values in columns.items():
        values = np.asarray(values)
        if len(values) != len(event):
            raise ShapeMismatchError(
                f"weight column {name!r} has {len(values)} entries for {len(event)} events."
            )
        table[name] = values
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        ak.to_parquet(ak.Array(table), path)
    else:
        with uproot.recreate(path) as out:
            out.mktree(tree, {k: v.dtype for k, v in table.items()})
            out[tree].extend(table)
    return path


def read_weights(path: str | Path, *, tree: str = "weights") -> ak.Array:
    """Read weights written by :func:`write_weights` (parquet or ROOT)."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"weights file {path} does not exist; write it with write_weights.")
    if path.suffix == ".parquet":
        return ak.from_parquet(path)
    with uproot.open(path) as f:
        if tree not in f:
            raise InputFileError(
                f"{path} has no tree {tree!r} (it has {f.keys()}); pass tree=... to read_weights."
            )
        return f[tree].arrays()
