"""What a run reads: coffea filesets in both forms, NanoEvents schemas by name, and the
check of every input file before any work.

The fileset takes both of coffea's forms:

* ``{dataset: [file, ...]}`` (or one file per dataset, ``{dataset: "file.root"}``), every
  file read with the ``treename`` argument;
* ``{dataset: {"files": {file: treename, ...}, "metadata": {...}}}``, coffea's own form:
  a tree per file, and metadata that every chunk of the dataset sees in
  ``events.metadata`` (next to coffea's ``"dataset"``, ``"filename"``, ...). ``"files"``
  may also be a list, read with the dataset's ``"treename"`` (or ``treename=``);
  coffea's ``"preload"`` is passed on too.

A file is a local path or a URL (``root://``, ``https://``, ``s3://``, ...; ``file://``
counts as local). uproot opens URLs through fsspec, so a protocol needs its backend
(``fsspec-xrootd`` for ``root://``, ``s3fs`` for ``s3://``). Existence is checked only for
local paths; a remote file that cannot be opened is named with uproot's error.

:func:`check_inputs` opens every file once: a local file must exist and be as long as its
ROOT header says (a truncated copy is named with both sizes), every file must open as a
ROOT file and hold its tree (a ``TTree``), the branches asked for and, for hepnnlr's own
samples, the number of entries it was written with, so a bad input
fails at once with an :class:`~hepnnlr.errors.InputFileError` or
:class:`~hepnnlr.errors.MissingBranchError` naming the dataset, file, tree or branch and
the fix, instead of deep inside a worker.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote, urlparse

import uproot
from coffea.nanoevents import (
    BaseSchema,
    DelphesSchema,
    EDM4HEPSchema,
    NanoAODSchema,
    PFNanoAODSchema,
    PHYSLITESchema,
    TreeMakerSchema,
)

from hepnnlr.errors import ConfigError, InputFileError, MissingBranchError
from hepnnlr.rootfiles import SAMPLE_RECORD, check_root_size, check_stored_entries
from hepnnlr.schema.nanoevents import HepnnlrSchema

__all__ = ["SCHEMAS", "Fileset", "check_inputs", "input_location"]

SCHEMAS: Mapping[str, type[BaseSchema]] = MappingProxyType(
    {
        "hepnnlr": HepnnlrSchema,
        "nanoaod": NanoAODSchema,
        "pfnano": PFNanoAODSchema,
        "physlite": PHYSLITESchema,
        "edm4hep": EDM4HEPSchema,
        "delphes": DelphesSchema,
        "treemaker": TreeMakerSchema,
        "base": BaseSchema,
    }
)
"""Short names accepted by ``run_processor(schema=...)`` and the NanoEvents schema of each;
any other subclass of ``coffea.nanoevents.BaseSchema`` can be passed as a class."""

_OPEN_TIMEOUT_S = 60
"""Seconds to wait for a remote file to open: coffea's ``Runner(xrootdtimeout=)`` default,
used for the up-front check and for coffea's own opens."""

Fileset = Mapping[str, Any]
"""A fileset: ``{dataset: [file, ...]}``, or
``{dataset: {"files": {file: treename} | [file, ...], "metadata": {...}}}`` (see the module
docstring)."""

_FORMS = (
    "{'sim': ['sim.root', ...]} (read with treename=) or coffea's "
    "{'sim': {'files': {'sim.root': 'events', ...}, 'metadata': {...}}} (a tree per file; "
    "'files' may also be a list of paths)"
)
_DATASET_KEYS = ("files", "treename", "metadata", "preload")
# coffea 2026.9 refuses these names in a dataset's metadata (its chunks' own keys)
_RESERVED_METADATA = (
    "dataset", "filename", "treename", "metadata", "entrystart", "entrystop",
    "fileuuid", "numentries", "uuid", "clusters", "preload",
)  # fmt: skip


@dataclass(frozen=True)
class _Dataset:
    """One dataset of a normalized fileset: ``{file: treename}`` and what coffea forwards."""

    files: Mapping[str, str]
    metadata: Mapping[str, Any] | None = None
    preload: tuple[str, ...] | None = None

    def to_coffea(self) -> dict[str, Any]:
        """coffea's dict form with a tree per file; coffea then forwards the metadata."""
        spec: dict[str, Any] = {"files": dict(self.files)}
        if self.metadata is not None:
            spec["metadata"] = dict(self.metadata)
        if self.preload is not None:
            spec["preload"] = list(self.preload)
        return spec


def _fileset_error(dataset: str, problem: str) -> ConfigError:
    return ConfigError(f"dataset {dataset!r} of the fileset {problem}; use {_FORMS}.")


def _check_treename(treename: Any, where: str) -> str:
    if not isinstance(treename, str) or not treename:
        raise ConfigError(
            f"{where} must be a tree name (a non-empty str), got {treename!r}; e.g. "
            f"'events' for hepnnlr files, 'Events' for NanoAOD. Fileset forms: {_FORMS}."
        )
    return treename


def _as_path(dataset: str, file: Any) -> str:
    if not isinstance(file, str | os.PathLike) or not os.fspath(file):
        raise _fileset_error(dataset, f"has {file!r} where a file path or URL belongs")
    return os.fspath(file)


def _normalize_dataset(dataset: str, spec: Any, treename: str) -> _Dataset:
    if isinstance(spec, str | os.PathLike):
        spec = [spec]
    if not isinstance(spec, Mapping):
        if not isinstance(spec, Sequence):
            raise _fileset_error(dataset, f"is a {type(spec).__name__} ({spec!r})")
        spec = {"files": spec}
    unknown = [key for key in spec if key not in _DATASET_KEYS]
    if unknown:
        raise _fileset_error(
            dataset, f"has the unknown key(s) {unknown} (known: {list(_DATASET_KEYS)})"
        )
    if "files" not in spec:
        raise _fileset_error(dataset, f"has no 'files' (its keys are {list(spec)})")
    local_tree = _check_treename(
        spec.get("treename", treename), f"the 'treename' of dataset {dataset!r}"
    )
    files = spec["files"]
    if isinstance(files, str | os.PathLike):
        files = [files]
    if isinstance(files, Mapping):
        files = {
            _as_path(dataset, file): _check_treename(
                tree, f"the tree name of file {file!r} in dataset {dataset!r}"
            )
            for file, tree in files.items()
        }
    elif isinstance(files, Sequence):
        files = {_as_path(dataset, file): local_tree for file in files}
    else:
        raise _fileset_error(dataset, f"has 'files' of type {type(files).__name__}")
    if not files:
        raise _fileset_error(dataset, "lists no files; give at least one path")
    metadata = spec.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, Mapping):
            raise _fileset_error(dataset, f"has 'metadata' {metadata!r}, not a mapping")
        reserved = [key for key in metadata if key in _RESERVED_METADATA]
        if reserved:
            raise _fileset_error(
                dataset,
                f"has the metadata key(s) {reserved}, which coffea sets itself; rename them",
            )
    preload = spec.get("preload")
    if preload is not None and (
        isinstance(preload, str)
        or not isinstance(preload, Sequence)
        or not all(isinstance(branch, str) for branch in preload)
    ):
        raise _fileset_error(dataset, f"has 'preload' {preload!r}, not a list of branch names")
    return _Dataset(
        files=MappingProxyType(files),
        metadata=None if metadata is None else MappingProxyType(dict(metadata)),
        preload=None if preload is None else tuple(preload),
    )


def _normalize_fileset(fileset: Fileset, treename: str) -> dict[str, _Dataset]:
    _check_treename(treename, "treename")
    if not isinstance(fileset, Mapping) or not fileset:
        raise ConfigError(
            f"fileset must be a non-empty mapping from dataset name to files, got "
            f"{fileset!r}; use {_FORMS}."
        )
    return {
        str(dataset): _normalize_dataset(str(dataset), spec, treename)
        for dataset, spec in fileset.items()
    }


def _is_remote(path: str) -> bool:
    """A URL that fsspec opens (``root://``, ``https://``, ...), not a local file."""
    scheme, sep, _ = path.partition("://")
    return bool(sep) and scheme.lower() != "file"


def input_location(value: str | os.PathLike[str]) -> str | Path:
    """An input file as given by a user: a URL stays a string (``Path`` would fold the
    ``//`` of ``root://host//file.root``), anything else becomes a ``Path``."""
    text = os.fspath(value)
    return text if _is_remote(text) else Path(text)


def _local_path(path: str) -> Path:
    return Path(unquote(urlparse(path).path)) if path.lower().startswith("file://") else Path(path)


def check_inputs(
    fileset: Fileset,
    *,
    treename: str = "events",
    branches: Sequence[str] = (),
    retries: int = 0,
) -> dict[str, int]:
    """Check that every input file opens and holds its tree and the branches.

    Args:
        fileset: ``{dataset: [file, ...]}`` or coffea's ``{dataset: {"files":
            {file: treename}, "metadata": {...}}}``; files are paths or URLs.
        treename: Name of the ``TTree`` in every file whose tree the fileset does not name.
        branches: Branch names every tree must have (e.g. a processor's
            ``required_branches``).
        retries: Further attempts to open a remote file that failed to open.

    Returns:
        ``{file: number of entries}`` for every file.

    Raises:
        ConfigError: The fileset has neither of the two forms.
        InputFileError: A local file does not exist, a file does not open as a ROOT file,
            or lacks its tree. The message names the dataset and the file.
        MissingBranchError: A tree lacks one of ``branches``.
    """
    entries = {}
    for dataset, spec in _normalize_fileset(fileset, treename).items():
        for path, tree in spec.files.items():
            entries[path] = _check_file(dataset, path, tree, tuple(branches), retries)
    return entries


def _open(dataset: str, path: str, retries: int) -> Any:
    remote = _is_remote(path)
    if not remote and not _local_path(path).is_file():
        raise InputFileError(
            f"input file {path!r} of dataset {dataset!r} does not exist. Check the path, or "
            "generate the sample first (hepnnlr.samples.make_dis_sample or `hepnnlr "
            "generate`)."
        )
    if not remote:
        # A cut file often still opens and fails deep inside a worker: name it here.
        try:
            check_root_size(_local_path(path), fix="copy it again or regenerate it")
        except InputFileError as error:
            raise InputFileError(f"input file of dataset {dataset!r}: {error}") from None
    for attempt in range(retries + 1 if remote else 1):
        try:
            # {path: None}: the whole string is the file (uproot splits "a.root:tree")
            return uproot.open({path: None}, timeout=_OPEN_TIMEOUT_S)
        except Exception as error:  # uproot raises several types for a non-ROOT file
            if attempt < retries and remote:
                continue
            if remote:
                raise InputFileError(
                    f"input file {path!r} of dataset {dataset!r} could not be opened "
                    f"({type(error).__name__}: {error}). Check the URL and your access to it "
                    "(a grid proxy or token for root://, credentials for s3://), install the "
                    "protocol's fsspec backend if the error names one, or pass "
                    "skipbadfiles=True to run without this file."
                ) from error
            raise InputFileError(
                f"input file {path!r} of dataset {dataset!r} is not a readable ROOT file "
                f"({type(error).__name__}: {error}). Regenerate it, or remove it from the "
                "fileset."
            ) from error
    raise AssertionError("unreachable")  # pragma: no cover


def _check_file(
    dataset: str, path: str, treename: str, branches: tuple[str, ...], retries: int = 0
) -> int:
    with _open(dataset, path, retries) as file:
        # hepnnlr's record of a sample's event count is no candidate tree: not listed
        keys = sorted({key.split(";")[0] for key in file.keys(recursive=False)} - {SAMPLE_RECORD})
        if treename not in keys:
            raise InputFileError(
                f"input file {path!r} of dataset {dataset!r} has no tree {treename!r}; its "
                f"top-level keys are {keys}. Pass treename= with one of them (or name the "
                "file's tree in the fileset: {'files': {path: tree}}), or regenerate the "
                "file with hepnnlr.samples."
            )
        tree = file[treename]
        if not isinstance(tree, uproot.TTree):
            raise InputFileError(
                f"{treename!r} in input file {path!r} is a {type(tree).__name__}, not a TTree. "
                "hepnnlr reads TTrees: write the file with uproot's "
                "file.mktree(...)/tree.extend(...) (file[name] = {...} writes an RNTuple)."
            )
        available = set(tree.keys())
        missing = [b for b in branches if b not in available]
        if missing:
            raise MissingBranchError(
                f"tree {treename!r} of input file {path!r} (dataset {dataset!r}) lacks the "
                f"branch(es) {missing} that the processor needs. Regenerate the file with "
                "hepnnlr.samples (docs/architecture.md lists the event format), or use a "
                "processor that does not read these branches."
            )
        entries = int(tree.num_entries)
        fix = f"regenerate it, or remove it from dataset {dataset!r}"
        check_stored_entries(file, treename, entries, path, fix=fix)
        return entries


def _check_or_skip(
    datasets: dict[str, _Dataset],
    branches: tuple[str, ...],
    *,
    skipbadfiles: bool,
    retries: int,
) -> tuple[dict[str, _Dataset], dict[tuple[str, str], int], list[dict[str, str]]]:
    """The datasets without the files that fail the check, entries per (dataset, file),
    and the skipped files; without ``skipbadfiles`` the first bad file raises."""
    kept: dict[str, _Dataset] = {}
    entries: dict[tuple[str, str], int] = {}
    skipped: list[dict[str, str]] = []
    for dataset, spec in datasets.items():
        good = {}
        for path, tree in spec.files.items():
            try:
                entries[dataset, path] = _check_file(dataset, path, tree, branches, retries)
            except (InputFileError, MissingBranchError) as error:
                if not skipbadfiles:
                    raise
                skipped.append({"dataset": dataset, "file": path, "reason": str(error)})
                continue
            good[path] = tree
        if good:
            kept[dataset] = _Dataset(MappingProxyType(good), spec.metadata, spec.preload)
    if not kept:
        raise InputFileError(
            "skipbadfiles=True left no input file: every file failed the check. "
            + " ".join(f"[{s['dataset']}] {s['reason']}" for s in skipped)
        )
    return kept, entries, skipped


def _skipped_by_coffea(
    datasets: dict[str, _Dataset],
    chunks: Sequence[Any],
    processed: set[Any],
    maxchunks: int | None,
) -> list[dict[str, str]]:
    """Files of ``datasets`` that coffea skipped: left out in its preprocessing (no chunk,
    while the dataset did not reach ``maxchunks``), or with chunks that it did not process."""
    planned: dict[tuple[str, str], set[tuple[int, int]]] = {}
    for chunk in chunks:
        planned.setdefault((chunk.dataset, chunk.filename), set()).add(
            (chunk.entrystart, chunk.entrystop)
        )
    done: dict[tuple[str, str], set[tuple[int, int]]] = {}
    for item in processed:
        done.setdefault((item.dataset, item.filename), set()).add((item.entrystart, item.entrystop))
    skipped = []
    for dataset, spec in datasets.items():
        n_chunks = sum(len(r) for (d, _), r in planned.items() if d == dataset)
        for path in spec.files:
            ranges = planned.get((dataset, path))
            if ranges is None:
                if maxchunks is None or n_chunks < maxchunks:
                    reason = "coffea could not read its metadata (see coffea's warning)"
                    skipped.append({"dataset": dataset, "file": path, "reason": reason})
                continue
            missing = sorted(ranges - done.get((dataset, path), set()))
            if missing:
                reason = (
                    f"coffea skipped {len(missing)} of {len(ranges)} chunk(s), entries "
                    f"{[f'{a}-{b}' for a, b in missing]}, that failed with an OSError (see "
                    "coffea's warning)"
                )
                skipped.append({"dataset": dataset, "file": path, "reason": reason})
    return skipped


def _resolve_schema(schema: str | type[BaseSchema]) -> type[BaseSchema]:
    if isinstance(schema, str):
        if schema.lower() in SCHEMAS:
            return SCHEMAS[schema.lower()]
        raise ConfigError(
            f"schema={schema!r} is not known; use one of {list(SCHEMAS)} or pass a "
            "coffea.nanoevents schema class (e.g. schema=NanoAODSchema)."
        )
    if isinstance(schema, type) and issubclass(schema, BaseSchema):
        return schema
    raise ConfigError(
        f"schema must be one of the names {list(SCHEMAS)} or a subclass of "
        f"coffea.nanoevents.BaseSchema, got {schema!r}; pass the class itself (e.g. "
        "schema=NanoAODSchema, not NanoAODSchema())."
    )
