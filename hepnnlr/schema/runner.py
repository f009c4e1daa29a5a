"""Run a coffea processor on hepnnlr event files with a chosen executor.

:func:`run_processor` wraps :class:`coffea.processor.Runner` with
:class:`~hepnnlr.schema.HepnnlrSchema` and one of three executors:

* ``"iterative"``: one process, chunk after chunk (``IterativeExecutor``);
* ``"futures"``: a local process pool of ``workers`` processes (``FuturesExecutor``);
* ``"dask"``: dask.distributed (``DaskExecutor``). Without ``scheduler_address`` a
  ``LocalCluster`` of ``workers`` single-threaded worker processes is started for the run
  and closed afterwards; with ``scheduler_address`` (``"tcp://host:8786"``) a client
  connects to that running cluster, which is left running.

Every chunk's file is opened without uproot's array cache (``array_cache=None``, see
:data:`UPROOT_OPTIONS`), so that a run's memory stays bounded by the chunk size.

Before any work is scheduled every input file is opened once here and checked: it must
exist, be a ROOT file, hold the tree (a ``TTree``) and every branch the processor declares
in its ``required_branches`` attribute. A bad input therefore fails at once with an
:class:`~hepnnlr.errors.InputFileError` or :class:`~hepnnlr.errors.MissingBranchError`
naming the file, tree or branch and the fix, instead of deep inside a worker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

import uproot
from coffea import processor as coffea_processor

from hepnnlr.errors import (
    ConfigError,
    EmptySelectionError,
    HepnnlrError,
    InputFileError,
    MissingBranchError,
)
from hepnnlr.schema.columns import ColumnsToParquet
from hepnnlr.schema.nanoevents import HepnnlrSchema

__all__ = ["EXECUTORS", "UPROOT_OPTIONS", "check_inputs", "run_processor"]

EXECUTORS = ("iterative", "futures", "dask")
"""Names accepted by ``run_processor(executor=...)``."""

UPROOT_OPTIONS: Mapping[str, Any] = MappingProxyType({"array_cache": None})
"""Options of the ``uproot.open`` of every chunk (coffea's ``uproot_options``).

uproot keeps every array it reads in its file's array cache (100 MB by default), and
coffea opens the file anew for every chunk; the closed file object sits in reference
cycles until the next full garbage collection, so every chunk's decompressed arrays
stayed in memory for tens of chunks: RSS grew by up to 2 MiB per 5,000-event chunk
until such a collection, a peak x1.27 from 100k to 1M DIS events
(``benchmarks/bench_memory.py``). Each branch of a chunk is read once (NanoEvents
keeps what it has read), so the cache is never hit."""

Fileset = Mapping[str, Sequence[str | os.PathLike[str]]]


def _normalize_fileset(fileset: Fileset) -> dict[str, list[str]]:
    if not isinstance(fileset, Mapping) or not fileset:
        raise ConfigError(
            f"fileset must be a non-empty mapping {{dataset: [file, ...]}}, got {fileset!r}; "
            "e.g. {'sim': ['sim.root']}."
        )
    normalized = {}
    for dataset, files in fileset.items():
        if isinstance(files, str | os.PathLike):
            files = [files]
        files = [os.fspath(f) for f in files]
        if not files:
            raise ConfigError(
                f"dataset {dataset!r} of the fileset lists no files; give at least one path."
            )
        normalized[str(dataset)] = files
    return normalized


def check_inputs(
    fileset: Fileset, *, treename: str = "events", branches: Sequence[str] = ()
) -> dict[str, int]:
    """Check that every input file exists and holds the tree and the branches.

    Args:
        fileset: ``{dataset: [path, ...]}``.
        treename: Name of the ``TTree`` in every file.
        branches: Branch names every tree must have (e.g. a processor's
            ``required_branches``).

    Returns:
        ``{path: number of entries}`` for every file.
    """
    entries = {}
    for dataset, files in _normalize_fileset(fileset).items():
        for path in files:
            entries[path] = _check_file(dataset, path, treename, tuple(branches))
    return entries


def _check_file(dataset: str, path: str, treename: str, branches: tuple[str, ...]) -> int:
    if not Path(path).is_file():
        raise InputFileError(
            f"input file {path!r} of dataset {dataset!r} does not exist. Check the path, or "
            "generate the sample first (hepnnlr.samples.make_dis_sample or `hepnnlr "
            "generate`)."
        )
    try:
        file = uproot.open(path)
    except Exception as error:  # uproot raises several types for a non-ROOT file
        raise InputFileError(
            f"input file {path!r} of dataset {dataset!r} is not a readable ROOT file "
            f"({type(error).__name__}: {error}). Regenerate it, or remove it from the fileset."
        ) from error
    with file:
        keys = sorted({key.split(";")[0] for key in file.keys(recursive=False)})
        if treename not in keys:
            raise InputFileError(
                f"input file {path!r} of dataset {dataset!r} has no tree {treename!r}; its "
                f"top-level keys are {keys}. Pass treename= with one of them, or regenerate "
                "the file with hepnnlr.samples."
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
    columns_dir: str | os.PathLike[str] | None = None,
) -> Any:
    """Run a coffea processor on hepnnlr event files.

    Args:
        processor: The processor (e.g. ``DISProcessor()``). If it has a
            ``required_branches`` attribute, every file is checked for those branches
            first.
        fileset: ``{dataset: [path, ...]}`` of ROOT files.
        executor: ``"iterative"``, ``"futures"`` or ``"dask"`` (see the module docstring).
        workers: Worker processes for ``"futures"`` and for the ``LocalCluster`` that
            ``"dask"`` starts when no ``scheduler_address`` is given.
        scheduler_address: Address of a running dask scheduler (``"dask"`` only).
        chunksize: Maximum number of events per chunk.
        maxchunks: Process at most this many chunks per dataset (``None``: all).
        progress: Show coffea's progress bars.
        treename: Name of the tree in every file.
        columns_dir: Write each chunk's per-event columns to a Parquet file in this
            directory on the worker (:class:`~hepnnlr.schema.columns.ColumnsToParquet`)
            and return the files' paths instead of the arrays; ``collect_columns``
            reads them back. The client then holds no event columns, whatever the
            number of events. ``None`` (default): the arrays come back in the output.

    Returns:
        The processor's accumulated output, after its ``postprocess``.

    Example:
        >>> from hepnnlr.processors.dis import DISProcessor, collect_columns
        >>> out = run_processor(DISProcessor(), {"sim": ["sim.root"]})  # doctest: +SKIP
        >>> columns = collect_columns(out)  # doctest: +SKIP
    """
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

    files = _normalize_fileset(fileset)
    branches = tuple(getattr(processor, "required_branches", ()))
    entries = check_inputs(files, treename=treename, branches=branches)
    if sum(entries.values()) == 0:
        raise EmptySelectionError(
            f"the input files {sorted(entries)} hold no events in tree {treename!r}; "
            "generate samples with at least one event."
        )
    if columns_dir is not None:  # after the input checks: a bad input creates no directory
        processor = ColumnsToParquet(processor, columns_dir)

    def run(chosen: coffea_processor.executor.ExecutorBase) -> Any:
        runner = coffea_processor.Runner(
            executor=chosen,
            schema=HepnnlrSchema,
            chunksize=chunksize,
            maxchunks=maxchunks,
        )
        with _quiet_console(not progress):
            try:
                return runner(
                    files, processor, treename=treename, uproot_options=dict(UPROOT_OPTIONS)
                )
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

    # Local files are checked before the run and processors are deterministic: a failing
    # chunk fails again, so local executors do not retry (coffea's default is 3 retries).
    # Dask keeps its retries: a worker can die for reasons of its own.
    if executor == "iterative":
        return run(coffea_processor.IterativeExecutor(status=progress, retries=0))
    if executor == "futures":
        return run(coffea_processor.FuturesExecutor(workers=workers, status=progress, retries=0))
    with _dask_client(workers, scheduler_address) as client:
        return run(coffea_processor.DaskExecutor(client=client, status=progress))
