"""Coffea processors shipped with hepnnlr (installed as ``hepnnlr.processors``)."""

from __future__ import annotations

from hepnnlr.processors.dis import DISProcessor, collect_columns

__all__ = ["DISProcessor", "collect_columns"]
