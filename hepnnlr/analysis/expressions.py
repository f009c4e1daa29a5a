"""The safe expression language of analysis descriptions.

A definition in a description (a feature, a cut, an observable, the event weight) is one
of two things:

* an **expression** over the event's fields, e.g. ``log10(PFCands.pt)``,
  ``(num(Jet) >= 2) & (first(Jet.pt) > 30)`` or ``Jet.pt[:, 0]``. :func:`parse` reads it
  with ``ast.parse(mode="eval")`` and walks the tree against a whitelist; nothing is ever
  passed to ``eval`` or ``exec``. Allowed: field names and field paths (``Jet.pt``), the
  names a description defines, int/float/bool numbers, ``+ - * / ** %`` and unary minus,
  comparisons (chained ``0.08 < y < 0.7`` too), ``& | ~`` and ``and or not`` (both
  element-wise), subscripts of the jagged axes with integer constants and slices
  (``x[:, 0]``, ``x[:, :4]``; the first axis, the events, is always ``:``; an index past
  the end of an event's list gives None), and calls of the functions of
  :data:`hepnnlr.analysis.functions.FUNCTIONS` with positional arguments. Everything else
  (strings, attribute names starting with ``_``, other calls, method calls, lambdas,
  comprehensions, keyword arguments, ``*args``, ``if``-expressions, ...) is refused with an
  :class:`~hepnnlr.errors.ExpressionError` that names the key, quotes the expression and
  marks the offending columns with carets.
* a **reference** ``package.module:function`` to the user's own code, imported with
  :mod:`importlib` when first evaluated and called with the events (the chunk's NanoEvents);
  it returns one entry per event.

Evaluating against events (coffea NanoEvents or a plain awkward record array) resolves each
name first among the ``names`` given (the description's definitions), then among the
events' fields; a missing field raises :class:`~hepnnlr.errors.MissingBranchError` naming
the dataset and file (``events.metadata``), the field path and the fields available there.

Example:
    >>> import awkward as ak
    >>> events = ak.Array({"Jet": [[{"pt": 40.0}, {"pt": 20.0}], []]})
    >>> parse("Jet.pt[:, 0] * 2", key="x").evaluate(events).tolist()
    [80.0, None]
"""

from __future__ import annotations

import ast
import importlib
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import awkward as ak
import numpy as np

from hepnnlr.analysis.functions import FUNCTIONS
from hepnnlr.errors import ExpressionError, MissingBranchError, ShapeMismatchError

__all__ = ["ALLOWED", "Expression", "Reference", "parse"]

ALLOWED = (
    "field names and paths (Jet.pt), names the description defines, int/float/bool numbers, "
    "+ - * / ** %, unary minus, comparisons (also chained), & | ~ and or not (element-wise), "
    "subscripts of the jagged axes with integers and slices (x[:, 0], x[:, :4]), and calls "
    f"of {', '.join(FUNCTIONS)} with positional arguments; or a whole 'module:function' "
    "reference, called with the events"
)
"""What an expression may contain, quoted by every :class:`ExpressionError`."""

_REFERENCE = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):([A-Za-z_]\w*)$")

_BINARY: Mapping[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
}
_UNARY: Mapping[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Invert: operator.invert,
    ast.Not: np.logical_not,
}
_COMPARE: Mapping[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
# what to call a refused construct in the error message
_REFUSED: Mapping[type[ast.AST], str] = {
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.IfExp: "an if-expression (use where(condition, a, b))",
    ast.NamedExpr: "an assignment expression (:=)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.JoinedStr: "an f-string",
    ast.Starred: "*-unpacking",
}


def _marked(text: str, start: int, end: int) -> str:
    """``text`` and a caret line under characters ``start:end``."""
    width = max(1, end - start)
    return f"    {text}\n    {' ' * start}{'^' * width}"


def _columns(text: str, node: ast.AST) -> tuple[int, int]:
    """Character columns of ``node`` (``ast`` counts UTF-8 bytes)."""
    raw = text.encode()
    start = len(raw[: getattr(node, "col_offset", 0)].decode(errors="ignore"))
    stop = getattr(node, "end_col_offset", None)
    end = len(raw[:stop].decode(errors="ignore")) if stop is not None else start + 1
    return start, end


def _error(key: str, text: str, problem: str, start: int, end: int) -> ExpressionError:
    return ExpressionError(f"{key}: {problem}\n{_marked(text, start, end)}\nAllowed: {ALLOWED}.")


def _node_error(key: str, text: str, node: ast.AST, problem: str) -> ExpressionError:
    return _error(key, text, problem, *_columns(text, node))


def _index_value(node: ast.AST) -> int | None:
    """The integer of ``3`` or ``-3``; None for anything else."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _index_value(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


class _Checker(ast.NodeVisitor):
    """Walks a parsed expression and refuses every node outside the whitelist."""

    def __init__(self, key: str, text: str) -> None:
        self.key, self.text = key, text

    def fail(self, node: ast.AST, problem: str) -> ExpressionError:
        return _node_error(self.key, self.text, node, problem)

    def generic_visit(self, node: ast.AST) -> None:
        what = _REFUSED.get(type(node), f"the construct {type(node).__name__}")
        raise self.fail(node, f"{what} is not allowed in an expression.")

    def visit_Expression(self, node: ast.Expression) -> None:
        self.visit(node.body)

    def visit_Constant(self, node: ast.Constant) -> None:
        if type(node.value) not in (int, float, bool):
            raise self.fail(node, f"the constant {node.value!r} is not a number.")

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("_"):
            raise self.fail(node, f"the name {node.id!r} starts with '_'.")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr.startswith("_"):
            raise self.fail(node, f"the attribute {node.attr!r} starts with '_'.")
        self.visit(node.value)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if type(node.op) not in _BINARY:
            raise self.fail(node, f"the operator {type(node.op).__name__} is not allowed.")
        self.visit(node.left)
        self.visit(node.right)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        self.visit(node.operand)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        for value in node.values:
            self.visit(value)

    def visit_Compare(self, node: ast.Compare) -> None:
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise self.fail(node, f"the comparison {type(op).__name__} is not allowed.")
        for value in (node.left, *node.comparators):
            self.visit(value)

    def visit_Call(self, node: ast.Call) -> None:
        if not isinstance(node.func, ast.Name):
            raise self.fail(node.func, "only the listed functions may be called, not methods.")
        name = node.func.id
        if name not in FUNCTIONS:
            raise self.fail(node.func, f"the function {name!r} is not allowed.")
        if node.keywords:
            raise self.fail(node.keywords[0].value, "keyword arguments are not allowed.")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.fail(arg, "*-unpacking is not allowed.")
        expected = FUNCTIONS[name].n_args
        if len(node.args) != expected:
            raise self.fail(
                node,
                f"{name}() takes {expected} argument(s) ({FUNCTIONS[name].doc}), "
                f"got {len(node.args)}.",
            )
        for arg in node.args:
            self.visit(arg)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        first = parts[0]
        if not (
            isinstance(first, ast.Slice)
            and first.lower is None
            and first.upper is None
            and first.step is None
        ):
            raise self.fail(
                node.slice,
                "the first axis is the events and must be ':'; write x[:, 0] for the "
                "first object of every event.",
            )
        if len(parts) < 2:
            raise self.fail(node.slice, "x[:] selects nothing; index a jagged axis, x[:, 0].")
        for part in parts[1:]:
            if isinstance(part, ast.Slice):
                bounds = (part.lower, part.upper, part.step)
                if any(b is not None and _index_value(b) is None for b in bounds):
                    raise self.fail(part, "slice bounds must be integer constants.")
            elif _index_value(part) is None:
                raise self.fail(part, "an index must be an integer constant or a slice.")
        self.visit(node.value)


def _metadata(events: Any) -> Mapping[str, Any]:
    try:
        metadata = events.metadata
    except (AttributeError, KeyError, TypeError):
        return {}
    return metadata if isinstance(metadata, Mapping) else {}


def _where_from(events: Any) -> str:
    """``dataset 'sim', file 'sim.root'`` from the events' metadata, when known."""
    metadata = _metadata(events)
    parts = []
    if metadata.get("dataset"):
        parts.append(f"dataset {metadata['dataset']!r}")
    if metadata.get("filename"):
        parts.append(f"file {metadata['filename']!r}")
    return ", ".join(parts) if parts else "the events"


def _fields(value: Any) -> list[str]:
    if isinstance(value, ak.Array | ak.Record):
        return list(ak.fields(value))
    return []


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed, checked expression (see the module docstring); built by :func:`parse`.

    Attributes:
        text: The expression as written (surrounding whitespace removed).
        key: Where it was written, e.g. ``reco.observables.Q2.expr`` (in every error).
        tree: The checked syntax tree.
    """

    text: str
    key: str
    tree: ast.Expression = field(compare=False, repr=False)

    def evaluate(self, events: Any, names: Mapping[str, Any] | None = None) -> Any:
        """Value of the expression on ``events`` (one entry per event, or a number).

        Args:
            events: Coffea NanoEvents or an awkward record array.
            names: Values of the names the description defines, looked up before the
                events' fields.

        Raises:
            MissingBranchError: A name or field is neither in ``names`` nor in the events;
                the message names the dataset, file, field path and available fields.
        """
        return _Evaluator(self, events, names or {}).value(self.tree.body)

    def to_text(self) -> str:
        """The expression as written (what a description stores)."""
        return self.text


@dataclass(frozen=True, slots=True)
class Reference:
    """A ``module:function`` reference to the user's code, called with the events.

    Attributes:
        text: ``module:function`` as written.
        key: Where it was written (in every error).
        module, function: The two halves.
    """

    text: str
    key: str
    module: str
    function: str

    def resolve(self) -> Callable[[Any], Any]:
        """The function, imported now (Python caches the module after the first import)."""
        try:
            module = importlib.import_module(self.module)
        except Exception as error:
            raise ExpressionError(
                f"{self.key}: the reference {self.text!r} names the module {self.module!r}, "
                f"which cannot be imported ({type(error).__name__}: {error}). Install the "
                "package or put its folder on PYTHONPATH (on every worker)."
            ) from error
        function = getattr(module, self.function, None)
        if not callable(function):
            raise ExpressionError(
                f"{self.key}: the reference {self.text!r} names {self.function!r}, which "
                f"module {self.module!r} does not define as a function; its public names "
                f"are {sorted(n for n in dir(module) if not n.startswith('_'))}."
            )
        return function

    def evaluate(self, events: Any, names: Mapping[str, Any] | None = None) -> Any:
        """The function called with ``events``; it must return one entry per event."""
        value = self.resolve()(events)
        if isinstance(value, ak.Array | np.ndarray) and len(value) != len(events):
            raise ShapeMismatchError(
                f"{self.key}: {self.text} returned {len(value)} entries for {len(events)} "
                f"events of {_where_from(events)}; return one entry per event."
            )
        return value

    def to_text(self) -> str:
        """The reference as written."""
        return self.text


def parse(text: Any, *, key: str) -> Expression | Reference:
    """Parse and check one definition.

    Args:
        text: The expression, or ``module:function``. Numbers are accepted as constants.
        key: Where it was written (e.g. ``reco.observables.Q2.expr``), named in errors.

    Returns:
        An :class:`Expression` or a :class:`Reference`.

    Raises:
        ExpressionError: Not a string, a syntax error, or a construct outside the whitelist
            (the message quotes the expression and marks the columns).
    """
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ExpressionError(
            f"{key}: an expression must be a string (or a number), got "
            f"{type(text).__name__} {text!r}. Allowed: {ALLOWED}."
        )
    source = str(text).replace("\n", " ").replace("\t", " ").strip()
    if not source:
        raise ExpressionError(f"{key}: the expression is empty. Allowed: {ALLOWED}.")
    match = _REFERENCE.match(source)
    if match:
        module, function = match.groups()
        if any(part.startswith("__") for part in (*module.split("."), function)):
            raise _error(key, source, "a reference may not name dunder modules or functions.",
                         0, len(source))  # fmt: skip
        return Reference(source, key, module, function)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        column = max(0, (error.offset or 1) - 1)
        end = error.end_offset - 1 if error.end_offset and error.end_offset > column + 1 else None
        raise _error(
            key, source, f"syntax error ({error.msg}).", column, end or column + 1
        ) from None
    _Checker(key, source).visit(tree)
    return Expression(source, key, tree)


def _plain(value: Any) -> Any:
    """One plain number per event as a NumPy array: the arithmetic after it then skips
    awkward's dispatch (milliseconds per operation on a chunk), with the same values."""
    if isinstance(value, ak.Array):
        layout = value.layout
        if (
            isinstance(layout, ak.contents.NumpyArray)
            and layout.data.ndim == 1
            and layout.parameter("__array__") is None
        ):
            return ak.to_numpy(value)
    return value


class _Evaluator:
    """Evaluates a checked tree on one chunk of events."""

    def __init__(self, expression: Expression, events: Any, names: Mapping[str, Any]) -> None:
        self.expression, self.events, self.names = expression, events, names

    def value(self, node: ast.AST) -> Any:
        return _plain(self.compute(node))

    def compute(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return self.names[node.id]
            return self.field(self.events, node.id, node.id, list(self.names))
        if isinstance(node, ast.Attribute):
            return self.field(self.value(node.value), node.attr, ast.unparse(node), [])
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)](self.value(node.left), self.value(node.right))
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](self.value(node.operand))
        if isinstance(node, ast.BoolOp):
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            result = self.value(node.values[0])
            for other in node.values[1:]:
                result = combine(result, self.value(other))
            return result
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            function = FUNCTIONS[node.func.id]  # type: ignore[attr-defined]
            return function.apply(*(self.value(arg) for arg in node.args))
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        raise AssertionError(f"unchecked node {type(node).__name__}")  # pragma: no cover

    def compare(self, node: ast.Compare) -> Any:
        left = self.value(node.left)
        result = None
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.value(right_node)
            step = _COMPARE[type(op)](left, right)
            result = step if result is None else np.logical_and(result, step)
            left = right
        return result

    def subscript(self, node: ast.Subscript) -> Any:
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        items: list[slice] = [slice(None)]
        indexed_axes = []
        for axis, part in enumerate(parts[1:], start=1):
            if isinstance(part, ast.Slice):
                bounds = (part.lower, part.upper, part.step)
                items.append(slice(*(None if b is None else _index_value(b) for b in bounds)))
                continue
            index = _index_value(part)
            assert index is not None  # the checker allows nothing else
            # a one-element slice never fails on a short list; firsts() then gives None
            items.append(slice(index, index + 1 if index != -1 else None))
            indexed_axes.append(axis)
        result = self.value(node.value)[tuple(items)]
        for axis in reversed(indexed_axes):
            result = ak.firsts(result, axis=axis)
        return result

    def field(self, container: Any, name: str, path: str, defined: list[str]) -> Any:
        fields = _fields(container)
        if name in fields:
            return container[name]
        # a behaviour's property (e.g. coffea's PFCands.px), never ak.Array's own API
        if not hasattr(ak.Array, name) and isinstance(container, ak.Array | ak.Record):
            try:
                value = getattr(container, name)
            except Exception:  # a behaviour property that fails is no field either
                value = None
            if isinstance(value, ak.Array):
                return value
        available = sorted(fields)
        defined_note = f"; names the description defines: {sorted(defined)}" if defined else ""
        raise MissingBranchError(
            f"{self.expression.key}: no field {path!r} in {_where_from(self.events)} (in "
            f"the expression {self.expression.text!r}); the fields there are "
            f"{available}{defined_note}. Fix the expression, or use a file that has it."
        )
