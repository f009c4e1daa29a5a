"""The papers' methods, one module each, composed from tensors, models and training."""

from __future__ import annotations

from hepnnlr.methods.omnifold import OmniFoldConfig, OmniFoldResult, omnifold

__all__ = ["OmniFoldConfig", "OmniFoldResult", "omnifold"]
