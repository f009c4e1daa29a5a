"""hepnnlr: neural likelihood-ratio methods for the columnar HEP analysis stack."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
