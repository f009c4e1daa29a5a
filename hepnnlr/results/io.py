"""Writing results: histograms to ROOT, per-event weights to parquet or ROOT.

Both are written under a temporary name and renamed into place when complete
(:func:`hepnnlr.outputs.atomic_write`).

A weights file is meant to travel without hepnnlr's source: each row is keyed by columns
that identify the event in its own file (``run``, ``luminosityBlock``, ``event`` where the
events have them, else ``file`` and ``entry``), and the file carries a JSON document under
the metadata key ``hepnnlr`` (Parquet key-value metadata; in ROOT a ``<tree>_metadata``
string) saying which keys, which inputs (sizes, sha256), which selection and normalization.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import hist
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import uproot

from hepnnlr import __version__
from hepnnlr.errors import ConfigError, InputFileError, ShapeMismatchError
from hepnnlr.observables.dataset_histos import DATASET_AXIS, has_dataset_axis
from hepnnlr.outputs import atomic_write

__all__ = [
    "METADATA_KEY",
    "WeightsFile",
    "describe_inputs",
    "read_weights",
    "write_histograms",
    "write_weights",
]

_WEIGHT_FORMATS = (".parquet", ".root")
#: Key of the JSON document in the Parquet key-value metadata (``<tree>_metadata`` in ROOT).
METADATA_KEY = "hepnnlr"
_URL_PREFIXES = ("root://", "http://", "https://", "s3://", "gs://", "xrootd://")


@dataclass(frozen=True)
class WeightsFile:
    """A weights file read back: the per-event table and its metadata.

    Attributes:
        table: One record per event, the key columns first (``metadata["keys"]``).
        metadata: The JSON document written with the weights: ``keys``, ``hepnnlr_version``,
            ``written`` (UTC, ISO 8601) and whatever the writer added (job, regions,
            normalization, input files).
    """

    table: ak.Array
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        """Names of the columns that identify an event (join on these)."""
        return list(self.metadata["keys"])


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
    with atomic_write(path) as tmp, uproot.recreate(tmp) as out:
        for group, histograms in groups.items():
            for name, histogram in histograms.items():
                out[f"{group}/{name}"] = histogram
    return path


def describe_inputs(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Name, size and sha256 of each local input file; URLs are named as such.

    A remote file is not downloaded to be checksummed: ``{"url": ..., "local": False}``.
    """
    described = []
    for item in paths:
        text = str(item)
        if text.startswith(_URL_PREFIXES):
            described.append({"url": text, "local": False})
            continue
        path = Path(text)
        if not path.is_file():
            raise InputFileError(
                f"input file {path} does not exist; describe_inputs checksums local files "
                "(pass URLs as root://, https://, ... strings)."
            )
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        described.append(
            {
                "name": path.name,
                "path": str(path.resolve()),
                "size_bytes": path.stat().st_size,
                "sha256": digest.hexdigest(),
                "local": True,
            }
        )
    return described


def _check_unique(keys: Mapping[str, np.ndarray]) -> None:
    """Refuse keys whose combined value repeats, naming the first duplicates."""
    codes = np.stack([np.unique(v, return_inverse=True)[1].ravel() for v in keys.values()])
    _, first, counts = np.unique(codes, axis=1, return_index=True, return_counts=True)
    if (counts == 1).all():
        return
    shown = [
        {name: np.asarray(values)[i].item() for name, values in keys.items()}
        for i in first[counts > 1][:5]
    ]
    raise ConfigError(
        f"the weight keys {list(keys)} are not unique: {int((counts > 1).sum())} key "
        f"value(s) repeat, e.g. {shown}. Key by columns that identify one event (run, "
        "luminosityBlock, event; or file, entry)."
    )


def write_weights(
    path: str | Path,
    keys: Mapping[str, np.ndarray],
    columns: Mapping[str, np.ndarray],
    *,
    metadata: Mapping[str, Any] | None = None,
    tree: str = "weights",
) -> Path:
    """Write per-event weights keyed by ``keys``, with their metadata.

    Args:
        path: ``.parquet`` (one column per key and per weight; the metadata as the
            JSON value of the schema key :data:`METADATA_KEY`) or ``.root`` (a TTree
            ``tree`` with the same branches, one entry per event in the events' order,
            and the metadata JSON as the string ``<tree>_metadata``).
        keys: Columns that together identify an event, e.g. ``{"run": ..,
            "luminosityBlock": .., "event": ..}`` or ``{"file": .., "entry": ..}``; must
            be unique (the duplicates are named otherwise).
        columns: The weights and flags, one entry per event.
        metadata: JSON-serializable description (job, regions, normalization, inputs);
            ``keys``, ``hepnnlr_version`` and ``written`` are added.
        tree: TTree name of the ROOT format.
    """
    path = Path(path)
    if path.suffix not in _WEIGHT_FORMATS:
        raise ConfigError(
            f"cannot write weights to {path}: the suffix must be one of {_WEIGHT_FORMATS}."
        )
    if not keys:
        raise ConfigError(
            "write_weights needs key columns (keys={'file': ..., 'entry': ...} or run, "
            "luminosityBlock, event) to join the weights back to the events."
        )
    clash = sorted(set(keys) & set(columns))
    if clash:
        raise ConfigError(f"write_weights: {clash} given both as keys and as columns.")
    table = {name: np.asarray(values) for name, values in keys.items()}
    n_events = len(next(iter(table.values())))
    for name, values in {**table, **columns}.items():
        values = np.asarray(values)
        if len(values) != n_events:
            raise ShapeMismatchError(
                f"weight column {name!r} has {len(values)} entries for {n_events} events "
                f"(the length of key {next(iter(keys))!r})."
            )
        table[name] = values
    _check_unique({name: table[name] for name in keys})
    document = {
        **dict(metadata or {}),
        "keys": list(keys),
        "hepnnlr_version": __version__,
        "written": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    text = json.dumps(document)
    if path.suffix == ".parquet":
        arrow = pa.table(table)
        arrow = arrow.replace_schema_metadata({METADATA_KEY: text})
        with atomic_write(path) as tmp:
            pq.write_table(arrow, tmp)
        return path
    strings = [name for name, values in table.items() if values.dtype.kind in "OUS"]
    if strings:
        raise ConfigError(
            f"the ROOT weights format holds numbers only; {strings} are strings: write "
            f"{path.with_suffix('.parquet')} instead."
        )
    with atomic_write(path) as tmp, uproot.recreate(tmp) as out:
        out.mktree(tree, {k: v.dtype for k, v in table.items()})
        out[tree].extend(table)
        out[f"{tree}_metadata"] = text
    return path


def read_weights(path: str | Path, *, tree: str = "weights") -> WeightsFile:
    """Read weights written by :func:`write_weights` (parquet or ROOT) with their metadata."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"weights file {path} does not exist; write it with write_weights.")
    missing = (
        f"{path} has no hepnnlr metadata (key {METADATA_KEY!r}); it was not written by "
        "hepnnlr.results.write_weights (or by a version before the keyed format): rerun "
        "the job that made it."
    )
    if path.suffix == ".parquet":
        arrow = pq.read_table(path)
        raw = (arrow.schema.metadata or {}).get(METADATA_KEY.encode())
        if raw is None:
            raise InputFileError(missing)
        return WeightsFile(ak.from_arrow(arrow), json.loads(raw))
    with uproot.open(path) as f:
        if tree not in f:
            raise InputFileError(
                f"{path} has no tree {tree!r} (it has {f.keys()}); pass tree=... to read_weights."
            )
        if f"{tree}_metadata" not in f:
            raise InputFileError(missing)
        return WeightsFile(f[tree].arrays(), json.loads(str(f[f"{tree}_metadata"])))
