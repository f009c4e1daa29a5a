"""A Keras network to and from one ``.keras`` file, for the checkpoints of
:mod:`hepnnlr.methods.checkpoint` (which imports no Keras of its own).

The file holds the network's configuration and every variable, so a loaded network gives
the saved one's outputs bit for bit and continues its training as the saved one would.
"""

from __future__ import annotations

from pathlib import Path

import keras

import hepnnlr.models.serializables  # noqa: F401  (the classes load_model looks up)
from hepnnlr.outputs import atomic_write

__all__ = ["load_network", "save_network"]


def save_network(model: keras.Model, path: str | Path) -> Path:
    """Write ``model`` to ``path`` (a ``.keras`` file) atomically."""
    with atomic_write(path) as tmp:
        model.save(tmp)
    return Path(path)


def load_network(path: str | Path) -> keras.Model:
    """The network saved at ``path``, uncompiled (its trainer compiles it anew)."""
    return keras.models.load_model(path, compile=False)
