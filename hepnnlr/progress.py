"""The one kind of progress bar hepnnlr draws: rich's, as coffea draws its own.

Generation (one step per block, :func:`hepnnlr.samples.blocks.run_blocks`) and training
(one step per epoch, :class:`hepnnlr.training.progress.EpochProgress`) both draw through
:func:`progress_bar`; coffea's processing bars are rich bars too (``coffea.util.rich_bar``),
so a run shows one kind of bar from generation to the trained weights.

Bars go to standard error, like log messages: standard output keeps only what a command
prints as its result. On a terminal a bar redraws in place; elsewhere (a log file, a
pipe) rich prints it once, in its final state, when it closes.

This module sits below every layer and imports nothing from hepnnlr.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Bar", "progress_bar"]


class Bar:
    """One task of a rich ``Progress``: ``advance`` it, show extra text with ``note``."""

    def __init__(self, progress: Any, task: Any) -> None:
        self._progress, self._task = progress, task

    def advance(self, steps: int = 1) -> None:
        """Count ``steps`` more steps done."""
        self._progress.advance(self._task, steps)
        self._progress.refresh()

    def note(self, text: str) -> None:
        """Show ``text`` after the bar (e.g. the last epoch's losses)."""
        self._progress.update(self._task, note=text)
        self._progress.refresh()


@contextmanager
def progress_bar(total: int, description: str, unit: str) -> Iterator[Bar]:
    """A rich bar of ``total`` steps of ``unit`` (``"block"``, ``"epoch"``), on standard
    error, closed (and printed once, off a terminal) when the block ends."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    if not console.is_terminal:
        # a log keeps the bar's one final line whole (rich assumes 80 columns there)
        console = Console(stderr=True, width=120)
    # the columns of coffea's bars (coffea.util.rich_bar), so both kinds look alike
    progress = Progress(
        TextColumn("[bold blue]{task.description}", justify="right"),
        BarColumn(bar_width=None),
        MofNCompleteColumn(),
        TextColumn(f"{unit}s ["),
        TimeElapsedColumn(),
        TextColumn("<"),
        TimeRemainingColumn(),
        TextColumn("]{task.fields[note]}"),
        console=console,
        # redrawn at each step, by the caller's thread: no refresh thread is left running
        # by a bar that an exception leaves open (a training that raises inside ``fit``)
        auto_refresh=False,
    )
    with progress:
        yield Bar(progress, progress.add_task(description, total=total, note=""))
