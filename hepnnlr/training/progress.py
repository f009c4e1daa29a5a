"""A training's progress as the same rich bar as generation and processing draw.

Keras' own progress output (``verbose=1`` or ``2`` of ``fit``) prints a bar per epoch, or a
line per epoch in a log: a third kind of output next to the rich bars of generation and
coffea. Every Keras training of hepnnlr instead runs with ``verbose=0`` and the callbacks
of :func:`progress_callbacks`: one bar per training, one step per epoch, with the last
epoch's ``loss`` and ``val_loss`` after it (:func:`hepnnlr.progress.progress_bar`).
"""

from __future__ import annotations

import contextlib
from typing import Any

import keras

from hepnnlr.progress import progress_bar
from hepnnlr.training.config import TrainingConfig

__all__ = ["EpochProgress", "progress_callbacks"]


class EpochProgress(keras.callbacks.Callback):
    """A rich bar over a training's epochs, showing ``loss`` and ``val_loss``.

    The bar opens at ``on_train_begin`` (its length: the ``epochs`` of ``fit``), advances
    at each ``on_epoch_end`` and closes at ``on_train_end``; an early stop leaves it short
    of its length, which shows where the training stopped.

    Args:
        name: The bar's label (the training's name, e.g. ``"step 1, iteration 2"``).
    """

    def __init__(self, name: str = "training") -> None:
        super().__init__()
        self.name = name
        self._stack: contextlib.ExitStack | None = None
        self._bar: Any = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._stack = contextlib.ExitStack()
        self._bar = self._stack.enter_context(
            progress_bar(int(self.params.get("epochs") or 1), self.name, "epoch")
        )

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._bar is None:
            return
        losses = {k: logs[k] for k in ("loss", "val_loss") if logs and k in logs}
        self._bar.note("  " + "  ".join(f"{k} {float(v):.4g}" for k, v in losses.items()))
        self._bar.advance()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack, self._bar = None, None


def progress_callbacks(config: TrainingConfig, name: str = "training") -> list[Any]:
    """The progress callbacks of a training with ``config``: an :class:`EpochProgress`
    named ``name`` when ``config.progress``, else none. Pass them to ``fit`` (with
    ``verbose=0``) next to the training's other callbacks."""
    return [EpochProgress(name)] if config.progress else []
