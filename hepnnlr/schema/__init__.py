"""NanoEvents schema for hepnnlr trees and helpers to run coffea processors on them."""

from __future__ import annotations

from hepnnlr.schema.columns import ColumnsToParquet
from hepnnlr.schema.nanoevents import HepnnlrSchema, collection_mixin
from hepnnlr.schema.runner import EXECUTORS, check_inputs, run_processor

__all__ = [
    "EXECUTORS",
    "ColumnsToParquet",
    "HepnnlrSchema", "check_inputs", "collection_mixin", "run_processor"]
