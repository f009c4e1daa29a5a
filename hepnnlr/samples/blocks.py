"""Running independent blocks of generation, in this process or in workers, in block order.

Every generator of hepnnlr seeds each block of events from ``(seed, block)`` alone, so the
blocks are independent tasks: the output is the same whichever process runs a block.
:func:`run_blocks` is the one driver the generators share (progress bar, serial or pool);
:func:`join_blocks` concatenates blocks of per-event columns and record lists.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import awkward as ak
import numpy as np

from hepnnlr.progress import progress_bar

__all__ = ["join_blocks", "run_blocks", "run_in_pool"]

_LOG = logging.getLogger(__name__)


def run_in_pool(
    task: Callable[..., Any],
    arguments: Sequence[tuple],
    *,
    workers: int,
    bar: Any = None,
    order: Sequence[int] | None = None,
) -> list[Any]:
    """``[task(*args) for args in arguments]``, computed in up to ``workers`` processes.

    Args:
        task: A module-level (picklable) function.
        arguments: One argument tuple per block.
        workers: Processes of the pool.
        bar: Optional :class:`hepnnlr.progress.Bar`, advanced as blocks finish.
        order: Submission order of the blocks (e.g. to group blocks that share a
            generator); the returned list is always in block order.

    The pool uses the platform's default start method (fork on Linux up to Python 3.13,
    forkserver from 3.14, spawn on macOS); with spawn or forkserver the calling script needs
    the usual ``if __name__ == "__main__":`` guard (the hepnnlr CLI has one). On an error
    the pending blocks are cancelled and the error is raised.
    """
    results: list[Any] = [None] * len(arguments)
    submit_order = range(len(arguments)) if order is None else order
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(arguments))),
        mp_context=multiprocessing.get_context(),
    ) as pool:
        futures = {pool.submit(task, *arguments[b]): b for b in submit_order}
        try:
            for future in concurrent.futures.as_completed(futures):
                results[futures[future]] = future.result()
                if bar is not None:
                    bar.advance()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return results


def run_blocks(
    task: Callable[..., Any],
    arguments: Sequence[tuple],
    *,
    workers: int,
    progress: bool,
    description: str,
    order: Sequence[int] | None = None,
    before_pool: Callable[[], Any] | None = None,
) -> list[Any]:
    """``[task(*args) for args in arguments]``, here (``workers == 1``) or in a pool.

    Args:
        task: A module-level function that makes one block; it may keep a per-process
            generator (``_BlockGenerator.cached``), so the serial path reuses it as a
            pool worker does.
        arguments: One argument tuple per block.
        workers: Processes; with 1 (or a single block) the blocks run in this process.
        progress: Show a progress bar (:func:`hepnnlr.progress.progress_bar`), one step
            per block.
        description: The bar's label (``"Pythia ttbar"``); the block count is appended.
        order: Submission order for the pool (see :func:`run_in_pool`).
        before_pool: Called once before a pool starts, e.g. to fail fast on a setting
            the generator rejects instead of in every worker.
    """
    serial = workers == 1 or len(arguments) == 1
    _LOG.debug(
        "%s: %d blocks, %s",
        description,
        len(arguments),
        "in this process" if serial else f"in a pool of {min(workers, len(arguments))} processes",
    )
    with contextlib.ExitStack() as stack:
        bar = None
        if progress:
            bar = stack.enter_context(
                progress_bar(len(arguments), f"{description} ({len(arguments)} blocks)", "block")
            )
        if serial:
            results = []
            for args in arguments:
                results.append(task(*args))
                if bar is not None:
                    bar.advance()
            return results
        if before_pool is not None:
            before_pool()
        return run_in_pool(task, arguments, workers=workers, bar=bar, order=order)


def join_blocks(
    blocks: Sequence[Mapping[str, Any]],
    event_columns: Sequence[str],
    list_columns: Sequence[str],
) -> dict[str, Any]:
    """Concatenate blocks of columns, in order, into one event-indexed mapping.

    Each block maps every name of ``event_columns`` to a flat array (one value per event)
    and every name of ``list_columns`` to ``(counts, {field: flat values})``. The result
    has ``event`` (uint64, 0..N-1), the event columns, and each list column as an awkward
    list of records; the caller adds constant columns and zips it.
    """
    n_events = sum(len(block[event_columns[0]]) for block in blocks)
    out: dict[str, Any] = {"event": np.arange(n_events, dtype=np.uint64)}
    for name in event_columns:
        out[name] = np.concatenate([block[name] for block in blocks])
    for name in list_columns:
        counts = np.concatenate([block[name][0] for block in blocks])
        fields = blocks[0][name][1]
        flat = {f: np.concatenate([block[name][1][f] for block in blocks]) for f in fields}
        out[name] = ak.unflatten(ak.zip(flat, depth_limit=1), counts)
    return out
