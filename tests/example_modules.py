"""Import a script of ``examples/`` (or one of its ``_``-helpers) as ``python examples/x.py``
finds its siblings: with ``examples/`` first on ``sys.path`` while it is imported."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def example_module(name: str) -> ModuleType:
    """``examples/<name>.py`` as a module (its own imports of siblings resolved)."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(EXAMPLES))
