"""Running independent blocks of generation in worker processes, results in block order.

Every generator of hepnnlr seeds each block of events from ``(seed, block)`` alone, so the
blocks are independent tasks: the output is the same whichever process runs a block.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["run_in_pool"]


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
        bar: Optional progress bar with ``update(1)``, advanced as blocks finish.
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
                    bar.update(1)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return results
