"""Errors and warnings of hepnnlr.

Every message names the thing that is wrong (file, tree, branch, field, feature or
parameter), the value received, and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "EmptySelectionError",
    "HepnnlrError",
    "HepnnlrWarning",
    "InputFileError",
    "MissingBranchError",
    "NonFiniteInputError",
    "OutputError",
    "ShapeMismatchError",
]


class HepnnlrError(Exception):
    """Base class of every error raised by hepnnlr."""


class HepnnlrWarning(UserWarning):
    """Base class of every warning issued by hepnnlr."""


class InputFileError(HepnnlrError, FileNotFoundError):
    """A ROOT or parquet input file is missing, unreadable, or lacks the expected tree."""


class MissingBranchError(HepnnlrError, KeyError):
    """A tree, branch or record field that a step needs is not there."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class EmptySelectionError(HepnnlrError, ValueError):
    """A selection left no events (or no events in one class) to work with."""


class OutputError(HepnnlrError, OSError):
    """An output cannot be written where asked: an unwritable folder, a folder in use by
    another run or holding another run's outputs, an existing file not to be replaced."""


class NonFiniteInputError(HepnnlrError, ValueError):
    """NaN or infinity in a feature, weight or parameter."""


class ShapeMismatchError(HepnnlrError, ValueError):
    """Arrays that must have matching lengths or shapes do not."""


class ConfigError(HepnnlrError, ValueError):
    """A configuration value (dataclass field, YAML key, CLI option) is invalid."""


class ExpressionError(ConfigError):
    """An analysis expression (:mod:`hepnnlr.analysis.expressions`) does not parse, uses a
    construct outside the whitelist, or names a ``module:function`` that cannot be
    imported; the message names the key, quotes the expression and marks the column."""


class WeightClippingWarning(HepnnlrWarning):
    """More generated examples than expected had their DCTRGAN weight clipped.

    A :class:`HepnnlrWarning`, so the test configuration (``error::hepnnlr.errors.
    HepnnlrWarning``) turns it into an error like every other warning of hepnnlr.
    """


class AllWeightsClippedError(HepnnlrError, ValueError):
    """Every DCTRGAN weight hit the clipping bound: the weights carry no information."""


__all__ += ["AllWeightsClippedError", "ExpressionError", "WeightClippingWarning"]
