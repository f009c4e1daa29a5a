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

The fileset takes both of coffea's forms, local paths or URLs
(:mod:`hepnnlr.schema.fileset`).

Every chunk's file is opened without uproot's array cache (``array_cache=None``, see
:data:`UPROOT_OPTIONS`), so that a run's memory stays bounded by the chunk size.

Before any work is scheduled every input file is checked
(:func:`hepnnlr.schema.fileset.check_inputs`, with the branches the processor declares in
its ``required_branches`` attribute), so a bad input fails at once, naming the dataset,
file, tree or branch and the fix. With ``skipbadfiles=True`` such files, and the files
whose chunks coffea skips, are left out and reported instead (see :func:`run_processor`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

from coffea import processor as coffea_processor
from coffea.nanoevents import (
    BaseSchema,
)

from hepnnlr.errors import (
    ConfigError,
    EmptySelectionError,
    HepnnlrError,
    InputFileError,
)
from hepnnlr.schema.columns import ColumnsToParquet
from hepnnlr.schema.fileset import (
    _OPEN_TIMEOUT_S,
    SCHEMAS,
    Fileset,
    _check_or_skip,
    _normalize_fileset,
    _resolve_schema,
    _skipped_by_coffea,
    check_inputs,
)
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

_LOG = logging.getLogger(__name__)

EXECUTORS = ("iterative", "futures", "dask")
"""Names accepted by ``run_processor(executor=...)``."""

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
    """coffea's rich console for the run: on standard error, as hepnnlr's own bars and
    notes (standard output keeps a command's result), and silent when ``quiet``.

    coffea 2026.9 draws some progress bars (preprocessing, merging, the iterative
    executor's) even with ``status=False``; they all go through ``coffea_console``.
    """
    from coffea.util import coffea_console

    previous = coffea_console.quiet, coffea_console.stderr
    coffea_console.quiet = previous[0] or quiet
    coffea_console.stderr = True
    try:
        yield
    finally:
        coffea_console.quiet, coffea_console.stderr = previous


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
