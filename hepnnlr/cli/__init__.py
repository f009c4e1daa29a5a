"""The ``hepnnlr`` command line (see ``hepnnlr --help``)."""

from __future__ import annotations

from hepnnlr.cli.main import main

__all__ = ["main"]
