"""Checkpoints of a ``hepnnlr fit`` or ``hepnnlr infer`` job: its completed units.

A unit is a piece of a job whose result depends on the job and its own seed only: a
repeat's reweighter and its fit, a bootstrap replica, a replica of the simulation, an
inference repeat, a coverage truth. :class:`JobCheckpoint` stores each completed unit
with the job it belongs to (:func:`job_record`: the validated job, without the keys that
do not change a result), so ``--resume`` loads the units found and computes the others,
and gives the result of an uninterrupted job; resuming with another job is refused with
the differing keys (:func:`differing_keys`). Each file is written with
:func:`hepnnlr.outputs.atomic_write`, a unit's ``state.json`` last.

NumPy only; the caller writes and reads a unit's networks (a
:class:`~hepnnlr.methods.dctr.DCTRReweighter` folder, say) through the ``write`` hook of
:meth:`JobCheckpoint.save` and :attr:`UnitState.folder`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hepnnlr.methods.checkpoint import CheckpointMismatchError
from hepnnlr.outputs import atomic_write, write_json

__all__ = ["JobCheckpoint", "UnitState", "differing_keys", "job_record"]

_STATE = "state.json"
_ARRAYS = "arrays.npz"
_JOB = "job.json"
_LEFT_OUT = frozenset({"output_dir", "progress", "plots"})
"""Job keys that do not change a result: where it is written, whether progress shows,
whether and how figures are drawn."""


def _plain(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses field by field, paths as strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)  # paths, enums: as they print


def _without(value: Any, keys: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without(v, keys) for v in value]
    return value


def job_record(job: Any, *, leave_out: frozenset[str] = _LEFT_OUT) -> dict[str, Any]:
    """The validated ``job`` (a dataclass) as JSON-ready data, the keys ``leave_out`` (at
    any depth: the output folder, the progress switches) removed: what a resumed job must
    equal."""
    record = _without(_plain(job), leave_out)
    if not isinstance(record, dict):
        raise TypeError(f"job_record needs a dataclass job, got {type(job).__name__}.")
    return record


def differing_keys(stored: Any, current: Any, prefix: str = "") -> list[str]:
    """The key paths (``training.reweighter.epochs``) whose values differ between two
    :func:`job_record` s; a key present in one only counts as differing."""
    if isinstance(stored, dict) and isinstance(current, dict):
        out = []
        for key in sorted(set(stored) | set(current)):
            path = f"{prefix}.{key}" if prefix else key
            if key not in stored or key not in current:
                out.append(path)
            else:
                out += differing_keys(stored[key], current[key], path)
        return out
    return [] if stored == current else [prefix or "(the whole job)"]


def _value_at(record: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(record, dict) or key not in record:
            return "(absent)"
        record = record[key]
    return record


@dataclass
class UnitState:
    """A completed unit read back: its JSON ``record``, its ``arrays`` and its ``folder``
    (where the unit's own files, e.g. a saved reweighter, are)."""

    record: dict[str, Any]
    arrays: dict[str, np.ndarray]
    folder: Path


class JobCheckpoint:
    """The completed units of a fit or inference job, one folder per unit.

    A unit is a piece of work whose result depends only on the job and its own seed (a
    repeat's reweighter and fit, a bootstrap replica, a coverage truth), so a resumed job
    loads the units found here and computes the rest, and gives the result of an
    uninterrupted job. Layout::

        job.json              the job (:func:`job_record`) and its sha256
        <unit>/...            the unit's own files (written by the caller), arrays.npz
        <unit>/state.json     written last: the unit is complete only when it exists

    Args:
        folder: The job's checkpoint folder (``OUTPUT/.hepnnlr-checkpoint/fit``).
        record: The job as :func:`job_record` gives it.
        resume: Continue from the units in ``folder``; a folder written for another job
            is refused (:class:`CheckpointMismatchError`, naming the differing keys).
            ``False``: start over (the folder is emptied).
        after_unit: Called with each unit's name once it is saved (the tests record the
            units' order and cut a job there; ``examples/fault_injection.py`` kills its
            process after :meth:`save` instead).
    """

    def __init__(
        self,
        folder: str | Path,
        record: Mapping[str, Any],
        *,
        resume: bool = False,
        after_unit: Callable[[str], None] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.after_unit = after_unit
        self.record = dict(record)
        self.sha256 = hashlib.sha256(json.dumps(self.record, sort_keys=True).encode()).hexdigest()
        marker = self.folder / _JOB
        if resume and marker.is_file():
            try:
                stored = json.loads(marker.read_text())
            except (OSError, ValueError):
                stored = {}
            if not isinstance(stored, dict) or stored.get("sha256") != self.sha256:
                self._refuse(stored.get("job", {}) if isinstance(stored, dict) else {})
            return
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        write_json(marker, {"sha256": self.sha256, "job": self.record})

    def _refuse(self, stored: Any) -> None:
        keys = differing_keys(stored, self.record)
        shown = "; ".join(
            f"{k}: {_value_at(stored, k)!r} in the checkpoint, {_value_at(self.record, k)!r} now"
            for k in keys[:8]
        ) + (f"; and {len(keys) - 8} more" if len(keys) > 8 else "")
        raise CheckpointMismatchError(
            f"--resume: the checkpoints in {self.folder} were written by another job "
            f"({shown or 'its record cannot be read'}); resume with the job and options it "
            "was started with, or start over with --overwrite."
        )

    def _unit(self, name: str) -> Path:
        return self.folder / name

    def has(self, name: str) -> bool:
        """Whether the unit ``name`` is complete here."""
        return (self._unit(name) / _STATE).is_file()

    def save(
        self,
        name: str,
        record: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray] | None = None,
        write: Callable[[Path], Any] | None = None,
    ) -> None:
        """Write the unit: ``write(folder)`` (the caller's files), the arrays, then
        ``state.json`` (the JSON ``record``) last."""
        folder = self._unit(name)
        if folder.exists():  # a unit a killed job left unfinished
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        if write is not None:
            write(folder)
        if arrays:
            with atomic_write(folder / _ARRAYS) as tmp:
                np.savez(tmp, **arrays)
        write_json(folder / _STATE, dict(record))
        if self.after_unit is not None:
            self.after_unit(name)

    def load(self, name: str) -> UnitState:
        """A complete unit (:meth:`has`)."""
        folder = self._unit(name)
        record = json.loads((folder / _STATE).read_text())
        arrays: dict[str, np.ndarray] = {}
        if (folder / _ARRAYS).is_file():
            with np.load(folder / _ARRAYS) as stored:
                arrays = {k: stored[k] for k in stored.files}
        return UnitState(record, arrays, folder)

    def units(self) -> list[str]:
        """The names of the complete units, sorted."""
        return sorted(p.parent.name for p in self.folder.glob(f"*/{_STATE}"))
