"""Is a ROOT file whole? The header's end against the file's size, and the stored count.

* :func:`check_root_size`: a ROOT file's header records where the file ends (``fEND``,
  bytes 12-15, or 12-19 for files of ``fVersion`` >= 1000000; ROOT's ``TFile`` layout). A
  file shorter than that was cut (an interrupted copy or download); it often still opens,
  and fails much later deep inside a reader, so it is named up front.
* :data:`SAMPLE_RECORD`: hepnnlr's sample writers store the number of entries a tree is
  written with as a string object (JSON ``{"tree": ..., "entries": ...}``) *before* the
  tree; :func:`check_stored_entries` refuses a tree with fewer entries than that (a file
  written by an interrupted run, or by a writer that was killed).

Used by the input checks (:func:`hepnnlr.schema.check_inputs`,
:func:`hepnnlr.samples.check_event_file`) before any work.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hepnnlr.errors import InputFileError

__all__ = ["SAMPLE_RECORD", "check_root_size", "check_stored_entries", "sample_record"]

SAMPLE_RECORD = "hepnnlr_sample"
"""Name of the string object holding ``{"tree": name, "entries": count}`` of a sample."""

_MAGIC = b"root"
_LARGE_FILE_VERSION = 1_000_000  # from this fVersion on, fEND is 8 bytes


def check_root_size(path: str | os.PathLike[str], *, fix: str = "copy or regenerate it") -> None:
    """Refuse a local ROOT file shorter than its header says (naming both sizes).

    Files that do not start with ROOT's magic bytes are left to the ROOT reader's own
    error.

    Raises:
        InputFileError: The file ends before the header's ``fEND``.
    """
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(20)
        size = os.fstat(handle.fileno()).st_size
    if len(head) < 16 or head[:4] != _MAGIC:
        return
    version = int.from_bytes(head[4:8], "big")
    wide = version >= _LARGE_FILE_VERSION and len(head) >= 20
    end = int.from_bytes(head[12:20] if wide else head[12:16], "big")
    if end > size:
        raise InputFileError(
            f"ROOT file {str(path)!r} is truncated: its header says it ends at byte "
            f"{end:,} but the file has {size:,} bytes ({size / end:.0%}); it was cut short "
            f"(an interrupted copy, download or write). {fix[0].upper()}{fix[1:]}."
        )


def sample_record(tree: str, entries: int) -> str:
    """The text of :data:`SAMPLE_RECORD` for ``entries`` entries of ``tree``."""
    return json.dumps({"tree": tree, "entries": int(entries)})


def check_stored_entries(
    file: Any, tree: str, entries: int, path: str, *, fix: str = "regenerate it"
) -> None:
    """Refuse ``tree`` of an open uproot ``file`` if it holds fewer entries than the
    sample record says it was written with (files without a record pass).

    Raises:
        InputFileError: naming the file, the tree and both counts.
    """
    if SAMPLE_RECORD not in file:
        return
    try:
        record = json.loads(str(file[SAMPLE_RECORD]))
        expected = int(record["entries"]) if record.get("tree") == tree else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return  # not hepnnlr's record: nothing to compare with
    if expected is not None and entries < expected:
        raise InputFileError(
            f"event file {path!r} is short: tree {tree!r} holds {entries:,} entries but the "
            f"file was written for {expected:,} ({SAMPLE_RECORD}); it comes from an "
            f"interrupted run. {fix[0].upper()}{fix[1:]}."
        )
