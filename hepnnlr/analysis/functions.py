"""The functions an analysis expression may call, and nothing else.

Every entry of :data:`FUNCTIONS` maps a name to a NumPy ufunc or an awkward operation that
acts event by event; no function reaches the file system, imports code or evaluates text.
Element-wise functions broadcast over jagged lists like arithmetic does; the list functions
act on each event's list (``num``, ``first``, ``mask``) or on the innermost list
(``sum``, ``max``, ``min``, ``any``, ``all``):

========================  ====================================================
``log exp sqrt abs``      NumPy's natural log, exp, square root, absolute value
``log10``                 base-10 log
``sin cos tan tanh``      trigonometric / hyperbolic, radians
``sinh cosh arcsinh``     hyperbolic and inverse hyperbolic
``arccosh``
``arctan2`` / ``atan2``   ``arctan2(y, x)``, the angle of (x, y)
``minimum maximum``       element-wise of two arrays
``where(c, a, b)``        ``a`` where ``c`` else ``b`` (``ak.where``)
``num(x)``                objects per event (``ak.num(x, axis=1)``)
``first(x)``              first object of each event, None if there is none
``sum any all``           over the innermost list (``ak.sum(x, axis=-1)``, ...)
``max min``               over the innermost list; None for an empty list
``mask(x, c)``            the objects of ``x`` where ``c`` is true (``x[c]``):
                          the lists get shorter
========================  ====================================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import awkward as ak
import numpy as np

__all__ = ["FUNCTIONS", "Function"]


@dataclass(frozen=True, slots=True)
class Function:
    """One whitelisted function: what it computes and how many arguments it takes."""

    apply: Callable[..., Any]
    n_args: int
    doc: str


def _is_awkward(*values: Any) -> bool:
    return any(isinstance(value, ak.Array | ak.Record) for value in values)


def _where(condition: Any, if_true: Any, if_false: Any) -> Any:
    if _is_awkward(condition, if_true, if_false):
        return ak.where(condition, if_true, if_false)
    return np.where(condition, if_true, if_false)


def _inner(reducer: Callable[..., Any]) -> Callable[[Any], Any]:
    def reduce(values: Any) -> Any:
        return reducer(values, axis=-1)

    return reduce


def _num(values: Any) -> Any:
    return ak.num(values, axis=1)


def _first(values: Any) -> Any:
    return ak.firsts(values, axis=1)


def _mask(values: Any, condition: Any) -> Any:
    return values[condition]


def _unary(ufunc: np.ufunc, doc: str) -> Function:
    return Function(ufunc, 1, doc)


FUNCTIONS: Mapping[str, Function] = MappingProxyType(
    {
        "log": _unary(np.log, "natural logarithm"),
        "log10": _unary(np.log10, "base-10 logarithm"),
        "exp": _unary(np.exp, "exponential"),
        "sqrt": _unary(np.sqrt, "square root"),
        "abs": _unary(np.abs, "absolute value"),
        "sin": _unary(np.sin, "sine (radians)"),
        "cos": _unary(np.cos, "cosine (radians)"),
        "tan": _unary(np.tan, "tangent (radians)"),
        "sinh": _unary(np.sinh, "hyperbolic sine"),
        "cosh": _unary(np.cosh, "hyperbolic cosine"),
        "tanh": _unary(np.tanh, "hyperbolic tangent"),
        "arcsinh": _unary(np.arcsinh, "inverse hyperbolic sine"),
        "arccosh": _unary(np.arccosh, "inverse hyperbolic cosine"),
        "arctan2": Function(np.arctan2, 2, "arctan2(y, x)"),
        "atan2": Function(np.arctan2, 2, "arctan2(y, x)"),
        "minimum": Function(np.minimum, 2, "element-wise minimum"),
        "maximum": Function(np.maximum, 2, "element-wise maximum"),
        "where": Function(_where, 3, "where(condition, if_true, if_false)"),
        "num": Function(_num, 1, "objects per event"),
        "first": Function(_first, 1, "first object of each event (None if none)"),
        "sum": Function(_inner(ak.sum), 1, "sum over the innermost list"),
        "max": Function(_inner(ak.max), 1, "maximum over the innermost list"),
        "min": Function(_inner(ak.min), 1, "minimum over the innermost list"),
        "any": Function(_inner(ak.any), 1, "any over the innermost list"),
        "all": Function(_inner(ak.all), 1, "all over the innermost list"),
        "mask": Function(_mask, 2, "mask(x, condition): the objects where condition holds"),
    }
)
"""Every function an expression may call, by name."""
