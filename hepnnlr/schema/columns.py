"""Per-chunk columns written to Parquet files by the workers, instead of sent back.

Every hepnnlr processor returns its per-event columns (the network inputs) per chunk,
``{"columns": {chunk_key: ak.Array}}`` (:mod:`hepnnlr.processors.chunks`), and by default
those arrays travel back to the client, which holds them all (≈ 2 kB per Z → jets event
with its PFN constituents: 600 MB for 300k events). :class:`ColumnsToParquet` wraps a
processor so that each worker writes its chunk's columns to one Parquet file in a shared
directory and returns only the file's path under the same key;
:func:`hepnnlr.processors.chunks.collect_columns` reads such paths back (all or one
dataset, in event order), so downstream code does not change. The client then holds
``cutflow``, ``hists`` and paths only, whatever the number of events, and no worker output
has to be pickled, compressed and merged. ``run_processor(..., columns_dir=...)`` applies it.

The directory must be reachable by every worker under the same path (a local directory
for ``LocalCluster`` and the futures pool; a shared file system on a real cluster).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import awkward as ak
from coffea import processor as coffea_processor

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.outputs import atomic_write

__all__ = ["ColumnsToParquet", "chunk_file_name"]


def chunk_file_name(key: tuple[str, str, int, int]) -> str:
    """File name of one chunk's columns: dataset, input-file stem, a hash of the input
    file's full path (two files of one name in different folders do not collide) and
    the entry range, e.g. ``sim__dis_sim-3f2a9c01d4e7__0-50000.parquet``."""
    dataset, filename, start, stop = key
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", dataset) or "dataset"
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(filename).stem) or "file"
    digest = hashlib.sha1(filename.encode()).hexdigest()[:12]
    return f"{safe}__{stem}-{digest}__{int(start)}-{int(stop)}.parquet"


class ColumnsToParquet(coffea_processor.ProcessorABC):
    """Run ``processor`` and write each chunk's ``columns`` to ``directory`` as Parquet.

    Args:
        processor: A hepnnlr processor (its output has ``columns``:
            ``{chunk_key: ak.Array}``).
        directory: Existing or new directory, the same path on every worker. A file of
            the same chunk (same dataset, input file and entry range) is overwritten.

    The output is the processor's, with ``columns`` mapping each chunk key to the written
    file's path (a ``str``).
    """

    def __init__(self, processor: coffea_processor.ProcessorABC, directory: str | os.PathLike[str]):
        if not isinstance(processor, coffea_processor.ProcessorABC):
            raise ConfigError(
                f"ColumnsToParquet needs a coffea processor instance (e.g. ZJetsProcessor()), "
                f"got {type(processor).__name__}."
            )
        if not isinstance(directory, str | os.PathLike) or not str(directory):
            raise ConfigError(
                f"columns_dir must be a directory path, got {directory!r}; e.g. "
                "columns_dir='out/columns'."
            )
        path = Path(directory)
        if path.exists() and not path.is_dir():
            raise ConfigError(
                f"columns_dir={str(path)!r} exists and is not a directory; pass a directory "
                "(it is created if missing)."
            )
        path.mkdir(parents=True, exist_ok=True)
        if not os.access(path, os.W_OK):
            raise ConfigError(
                f"columns_dir={str(path)!r} is not writable; pass a directory the workers "
                "can write to."
            )
        self.processor = processor
        self.directory = str(path.resolve())
        self.required_branches = tuple(getattr(processor, "required_branches", ()))

    def process(self, events: Any) -> dict[str, Any]:
        """The wrapped processor's output, its columns replaced by the written paths."""
        out = self.processor.process(events)
        if not isinstance(out, dict) or "columns" not in out:
            raise MissingBranchError(
                f"{type(self.processor).__name__}.process returned no 'columns' "
                f"(keys: {sorted(out) if isinstance(out, dict) else type(out).__name__}); "
                "columns_dir works with processors that return per-chunk columns."
            )
        written = {}
        for key, columns in out["columns"].items():
            target = os.path.join(self.directory, chunk_file_name(key))
            # a killed or retried chunk never leaves a half-written file at the path
            with atomic_write(target) as tmp:
                ak.to_parquet(columns, tmp)
            written[key] = target
        return {**out, "columns": written}

    def postprocess(self, accumulator: dict[str, Any]) -> dict[str, Any]:
        """The wrapped processor's ``postprocess``."""
        return self.processor.postprocess(accumulator)
