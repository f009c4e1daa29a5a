"""``hepnnlr fit dctr|srgn CONFIG`` (being written)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the sub-command's parser; it sets ``handler`` (args -> exit code)."""
