"""The papers' methods, one module each, composed from tensors, models and training."""

from __future__ import annotations

from hepnnlr.methods.omnifold import OmniFoldConfig, OmniFoldResult, omnifold
from hepnnlr.methods.omnifold_ensembles import (
    EnsembleOfUnfoldings,
    bootstrap_omnifold,
    parallel_omnifold,
)

__all__ = [
    "EnsembleOfUnfoldings",
    "OmniFoldConfig",
    "OmniFoldResult",
    "bootstrap_omnifold",
    "omnifold",
    "parallel_omnifold",
]
