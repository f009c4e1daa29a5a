"""Run a coffea processor on event files with a chosen executor and NanoEvents schema.

:func:`run_processor` wraps :class:`coffea.processor.Runner` with a NanoEvents schema
(:class:`~hepnnlr.schema.HepnnlrSchema` by default, or any coffea schema, see
:data:`SCHEMAS`) and one of three executors:

* ``"iterative"``: one process, chunk after chunk (``IterativeExecutor``);
* ``"futures"``: a local process pool of ``workers`` processes (``FuturesExecutor``);
* ``"dask"``: dask.distributed (``DaskExecutor``). Without ``scheduler_address`` a
  ``LocalCluster`` of ``workers`` single-threaded worker processes is started for the run
  and closed afterwards; with ``scheduler_address`` (``"tcp://host:8786"``) a client
  connects to that running cluster, which is left running.

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
(``fsspec-xrootd`` for ``root://``, ``s3fs`` for ``s3://``).

Every chunk's file is opened without uproot's array cache (``array_cache=None``, see
:data:`UPROOT_OPTIONS`), so that a run's memory stays bounded by the chunk size.

Before any work is scheduled every input file is opened once here and checked: a local
file must exist, every file must open as a ROOT file and hold its tree (a ``TTree``) and
every branch the processor declares in its ``required_branches`` attribute. A bad input
therefore fails at once with an :class:`~hepnnlr.errors.InputFileError` or
:class:`~hepnnlr.errors.MissingBranchError` naming the dataset, file, tree or branch and
the fix, instead of deep inside a worker. With ``skipbadfiles=True`` such files, and the
files whose chunks coffea skips, are left out and reported instead (see
:func:`run_processor`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote, urlparse

import uproot
from coffea import processor as coffea_processor
from coffea.nanoevents import (
    BaseSchema,
    DelphesSchema,
    EDM4HEPSchema,
    NanoAODSchema,
    PFNanoAODSchema,
    PHYSLITESchema,
    TreeMakerSchema,
)

from hepnnlr.errors import (
    ConfigError,
    EmptySelectionError,
    HepnnlrError,
    InputFileError,
    MissingBranchError,
)
from hepnnlr.schema.columns import ColumnsToParquet
from hepnnlr.schema.nanoevents import HepnnlrSchema

__all__ = [
    "EXECUTORS",
    "SCHEMAS",
    "SKIPPED_FILES_KEY",
    "UPROOT_OPTIONS",
    "Fileset",
    "check_inputs",
    "run_processor",
]

_LOG = logging.getLogger("hepnnlr")

EXECUTORS = ("iterative", "futures", "dask")
"""Names accepted by ``run_processor(executor=...)``."""

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

SKIPPED_FILES_KEY = "skipped_files"
"""Key of the ``{"dataset", "file", "reason"}`` list that ``skipbadfiles=True`` adds to a
dict output of :func:`run_processor`."""

UPROOT_OPTIONS: Mapping[str, Any] = MappingProxyType({"array_cache": None})
"""Options of the ``uproot.open`` of every chunk (coffea's ``uproot_options``).

uproot keeps every array it reads in its file's array cache (100 MB by default), and
coffea opens the file anew for every chunk; the closed file object sits in reference
cycles until the next full garbage collection, so every chunk's decompressed arrays
stayed in memory for tens of chunks: RSS grew by up to 2 MiB per 5,000-event chunk
until such a collection, a peak x1.27 from 100k to 1M DIS events
(``benchmarks/bench_memory.py``). Each branch of a chunk is read once (NanoEvents
keeps what it has read), so the cache is never hit."""

_OPEN_TIMEOUT_S = 60
"""Seconds to wait for a remote file to open: coffea's ``Runner(xrootdtimeout=)`` default,
used for the up-front check and for coffea's own opens."""

Fileset = Mapping[str, Any]
"""``{dataset: [file, ...]}`` or ``{dataset: {"files": {file: treename} | [file, ...],
"metadata": {...}}}`` (see the module docstring)."""

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
        keys = sorted({key.split(";")[0] for key in file.keys(recursive=False)})
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
        return int(tree.num_entries)


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


@contextmanager
def _dask_client(workers: int, scheduler_address: str | None) -> Iterator[Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as error:  # pragma: no cover - dask[distributed] is a dependency
        raise ConfigError(
            "executor='dask' needs dask.distributed: pip install 'dask[distributed]'."
        ) from error
    if scheduler_address is not None:
        with Client(scheduler_address) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@contextmanager
def _quiet_console(quiet: bool) -> Iterator[None]:
    """Silence coffea's rich console for the run.

    coffea 2026.9 draws some progress bars (preprocessing, merging, the iterative
    executor's) even with ``status=False``; they all go through ``coffea_console``.
    """
    from coffea.util import coffea_console

    previous = coffea_console.quiet
    coffea_console.quiet = previous or quiet
    try:
        yield
    finally:
        coffea_console.quiet = previous


def _check_options(
    processor: Any,
    executor: str,
    workers: int,
    chunksize: int,
    maxchunks: int | None,
    scheduler_address: str | None,
    skipbadfiles: bool,
    retries: int | None,
) -> None:
    if not isinstance(processor, coffea_processor.ProcessorABC) and not callable(processor):
        raise ConfigError(
            f"run_processor needs a coffea ProcessorABC instance (e.g. DISProcessor()), got "
            f"{type(processor).__name__}."
        )
    if executor not in EXECUTORS:
        raise ConfigError(f"executor={executor!r} is not known; use one of {list(EXECUTORS)}.")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be a positive integer, got {workers!r}.")
    if isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1:
        raise ConfigError(f"chunksize must be a positive integer of events, got {chunksize!r}.")
    if maxchunks is not None and (not isinstance(maxchunks, int) or maxchunks < 1):
        raise ConfigError(f"maxchunks must be None or a positive integer, got {maxchunks!r}.")
    if scheduler_address is not None and executor != "dask":
        raise ConfigError(
            f"scheduler_address={scheduler_address!r} is only used by executor='dask', "
            f"but executor={executor!r}; drop it or choose executor='dask'."
        )
    if not isinstance(skipbadfiles, bool):
        raise ConfigError(f"skipbadfiles must be True or False, got {skipbadfiles!r}.")
    if retries is not None and (
        isinstance(retries, bool) or not isinstance(retries, int) or retries < 0
    ):
        raise ConfigError(
            f"retries must be None (the executor's default) or an integer >= 0, got {retries!r}."
        )


def run_processor(
    processor: coffea_processor.ProcessorABC,
    fileset: Fileset,
    *,
    executor: str = "iterative",
    workers: int = 2,
    scheduler_address: str | None = None,
    chunksize: int = 50_000,
    maxchunks: int | None = None,
    progress: bool = True,
    treename: str = "events",
    schema: str | type[BaseSchema] = HepnnlrSchema,
    skipbadfiles: bool = False,
    retries: int | None = None,
    columns_dir: str | os.PathLike[str] | None = None,
) -> Any:
    """Run a coffea processor on a fileset of hepnnlr or experiment event files.

    Args:
        processor: The processor (e.g. ``DISProcessor()``). If it has a
            ``required_branches`` attribute, every file is checked for those branches
            first.
        fileset: ``{dataset: [file, ...]}`` or coffea's ``{dataset: {"files":
            {file: treename, ...}, "metadata": {...}}}`` (module docstring); files are local
            paths or URLs (``root://``, ``https://``, ``s3://``, ...). Every chunk sees its
            dataset's name in ``events.metadata["dataset"]`` and the dataset's metadata in
            ``events.metadata``.
        executor: ``"iterative"``, ``"futures"`` or ``"dask"`` (see the module docstring).
        workers: Worker processes for ``"futures"`` and for the ``LocalCluster`` that
            ``"dask"`` starts when no ``scheduler_address`` is given.
        scheduler_address: Address of a running dask scheduler (``"dask"`` only).
        chunksize: Maximum number of events per chunk.
        maxchunks: Process at most this many chunks per dataset (``None``: all).
        progress: Show coffea's progress bars.
        treename: Name of the tree in every file whose tree the fileset does not name (a
            tree per file, or a dataset's ``"treename"``, in the dict form wins).
        schema: NanoEvents schema: a name of :data:`SCHEMAS` (``"hepnnlr"``, ``"nanoaod"``,
            ``"pfnano"``, ``"physlite"``, ``"edm4hep"``, ``"delphes"``, ``"treemaker"``,
            ``"base"``) or a ``coffea.nanoevents.BaseSchema`` subclass. Default:
            :class:`~hepnnlr.schema.HepnnlrSchema`, for hepnnlr's own files.
        skipbadfiles: Leave out, instead of failing on, the files that fail the up-front
            check and the chunks that coffea cannot read (coffea's
            ``Runner(skipbadfiles=True)``: an ``OSError`` after the retries). The skipped
            files are logged (logger ``"hepnnlr"``) and, when the processor's output is a
            dict (any mutable mapping), listed in it under :data:`SKIPPED_FILES_KEY`
            (``out["skipped_files"]``, ``[{"dataset": ..., "file": ..., "reason": ...}]``,
            empty when none was skipped; an output that already has the key keeps its
            own). ``False`` (default): the first bad file is an error that names its
            dataset and path.
        retries: Further attempts of a failed chunk (the executors' ``retries``) and of
            the up-front open of a remote file. ``None`` (default): 0 for ``"iterative"``
            and ``"futures"`` (local files are checked first, and a processor that fails
            on a chunk fails again), coffea's default for ``"dask"`` (a worker can die
            for reasons of its own).
        columns_dir: Write each chunk's per-event columns to a Parquet file in this
            directory on the worker (:class:`~hepnnlr.schema.columns.ColumnsToParquet`)
            and return the files' paths instead of the arrays; ``collect_columns``
            reads them back. The client then holds no event columns, whatever the
            number of events. ``None`` (default): the arrays come back in the output.

    Returns:
        The processor's accumulated output, after its ``postprocess`` (with
        ``skipbadfiles=True`` and a dict output, plus :data:`SKIPPED_FILES_KEY`).

    Raises:
        ConfigError: An option, the schema or the fileset is invalid.
        InputFileError: A file is missing, unreadable or lacks its tree (every file,
            with ``skipbadfiles=True``).
        MissingBranchError: A tree lacks a branch of ``processor.required_branches``.
        EmptySelectionError: The files hold no events.

    Example:
        >>> from hepnnlr.processors.dis import DISProcessor, collect_columns
        >>> out = run_processor(DISProcessor(), {"sim": ["sim.root"]})  # doctest: +SKIP
        >>> columns = collect_columns(out)  # doctest: +SKIP
        >>> fileset = {"dy": {"files": {"root://host//nano.root": "Events"},
        ...                   "metadata": {"xsec": 6077.2}}}
        >>> out = run_processor(my_processor, fileset, schema="nanoaod",
        ...                     skipbadfiles=True)  # doctest: +SKIP
        >>> out["skipped_files"]  # doctest: +SKIP
        []
    """
    _check_options(
        processor, executor, workers, chunksize, maxchunks, scheduler_address, skipbadfiles, retries
    )
    schema_class = _resolve_schema(schema)
    datasets = _normalize_fileset(fileset, treename)
    branches = tuple(getattr(processor, "required_branches", ()))
    datasets, entries, skipped = _check_or_skip(
        datasets, branches, skipbadfiles=skipbadfiles, retries=retries or 0
    )
    if sum(entries.values()) == 0:
        raise EmptySelectionError(
            f"the input files {sorted({path for _, path in entries})} hold no events in "
            "their trees; generate samples with at least one event."
        )
    if columns_dir is not None:  # after the input checks: a bad input creates no directory
        processor = ColumnsToParquet(processor, columns_dir)

    def run(chosen: coffea_processor.executor.ExecutorBase) -> Any:
        runner = coffea_processor.Runner(
            executor=chosen,
            schema=schema_class,
            chunksize=chunksize,
            maxchunks=maxchunks,
            skipbadfiles=skipbadfiles,
            xrootdtimeout=_OPEN_TIMEOUT_S,
            # coffea caches each file's metadata, the fileset's user metadata included,
            # under (dataset, file, tree): a second run with new metadata would see the old
            metadata_cache={},
        )
        # coffea's dict form with a tree per file: coffea forwards the metadata, and
        # treename=None makes it read each file's own tree (with a treename it would
        # read that tree in every file)
        coffea_fileset = {name: spec.to_coffea() for name, spec in datasets.items()}
        options = dict(UPROOT_OPTIONS)
        with _quiet_console(not progress):
            try:
                # preprocess() and run() instead of runner(...): run() returns the set of
                # processed chunks too, which tells the chunks that coffea skipped
                chunks = list(
                    runner.preprocess(coffea_fileset, treename=None, uproot_options=options)
                )
                if not chunks:
                    raise InputFileError(
                        f"coffea could not read any file of {sorted(coffea_fileset)} "
                        "(skipbadfiles=True skipped them all; its warnings give the errors)."
                    )
                wrapped = runner.run(chunks, processor, uproot_options=options)
            except HepnnlrError:
                raise
            except Exception as error:
                # coffea wraps errors raised in process() into a bare Exception; give the
                # user hepnnlr's own error (it names the file and the fix) when there is one.
                cause = error.__cause__
                while cause is not None and not isinstance(cause, HepnnlrError):
                    cause = cause.__cause__
                if cause is None:
                    raise
                raise cause from error
        if skipbadfiles:
            processed = wrapped.get("processed", set())
            skipped.extend(_skipped_by_coffea(datasets, chunks, processed, maxchunks))
        return wrapped["out"]

    # Local files are checked before the run and processors are deterministic: a failing
    # chunk fails again, so local executors do not retry (coffea's default is 3 retries).
    # Dask keeps its retries: a worker can die for reasons of its own.
    local_retries = 0 if retries is None else retries
    if executor == "iterative":
        out = run(coffea_processor.IterativeExecutor(status=progress, retries=local_retries))
    elif executor == "futures":
        out = run(
            coffea_processor.FuturesExecutor(
                workers=workers, status=progress, retries=local_retries
            )
        )
    else:
        dask_options = {} if retries is None else {"retries": retries}
        with _dask_client(workers, scheduler_address) as client:
            out = run(coffea_processor.DaskExecutor(client=client, status=progress, **dask_options))
    if skipbadfiles:
        _report_skipped(out, skipped)
    return out


def _report_skipped(out: Any, skipped: list[dict[str, str]]) -> None:
    for entry in skipped:
        _LOG.warning(
            "skipped input file %r of dataset %r: %s",
            entry["file"],
            entry["dataset"],
            entry["reason"],
        )
    if isinstance(out, MutableMapping):
        if SKIPPED_FILES_KEY in out:
            _LOG.warning(
                "the processor's output already has a key %r; the skipped files are only logged",
                SKIPPED_FILES_KEY,
            )
        else:
            out[SKIPPED_FILES_KEY] = skipped
