"""NanoEvents schema for hepnnlr trees and helpers to run coffea processors on them."""

from __future__ import annotations

from hepnnlr._lazy import attach

# defining module -> public names; each module is imported on first use of a name
_EXPORTS = {
    "hepnnlr.schema.columns": ("ColumnsToParquet",),
    "hepnnlr.schema.fileset": ("SCHEMAS", "Fileset", "check_inputs", "input_location"),
    "hepnnlr.schema.nanoevents": ("HepnnlrSchema", "collection_mixin"),
    "hepnnlr.schema.runner": ("EXECUTORS", "SKIPPED_FILES_KEY", "run_processor"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
