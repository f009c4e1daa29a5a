"""NanoEvents schema for hepnnlr trees and helpers to run coffea processors on them."""

from __future__ import annotations

from hepnnlr.schema.columns import ColumnsToParquet
from hepnnlr.schema.fileset import SCHEMAS, Fileset, check_inputs, input_location
from hepnnlr.schema.nanoevents import HepnnlrSchema, collection_mixin
from hepnnlr.schema.runner import EXECUTORS, SKIPPED_FILES_KEY, run_processor

__all__ = [
    "EXECUTORS",
    "SCHEMAS",
    "SKIPPED_FILES_KEY",
    "ColumnsToParquet",
    "Fileset",
    "HepnnlrSchema",
    "check_inputs",
    "collection_mixin",
    "input_location",
    "run_processor",
]
