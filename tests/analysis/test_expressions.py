"""The expression language: the whitelist refuses, the values agree with awkward by hand."""

from __future__ import annotations

import pickle

import awkward as ak
import numpy as np
import pytest

from hepnnlr.analysis.expressions import Expression, Reference, parse
from hepnnlr.errors import ExpressionError, MissingBranchError

KEY = "reco.observables.Q2.expr"


@pytest.fixture(scope="module")
def events() -> ak.Array:
    """40 events with 0-5 jets each and a flat weight; fixed seed."""
    rng = np.random.default_rng(7)
    counts = rng.integers(0, 6, size=40)
    n = int(counts.sum())
    jets = ak.unflatten(
        ak.zip({"pt": rng.uniform(5.0, 100.0, n), "eta": rng.normal(0.0, 2.0, n)}), counts
    )
    return ak.zip({"Jet": jets, "w": rng.uniform(0.0, 1.0, 40)}, depth_limit=1)


@pytest.mark.parametrize(
    ("text", "problem", "marked"),
    [
        ("Jet.__class__", "starts with '_'", "Jet.__class__"),
        ("Jet._hidden", "starts with '_'", "Jet._hidden"),
        ("_private + 1", "starts with '_'", "_private"),
        ("eval(w)", "the function 'eval' is not allowed", "eval"),
        ("__import__(w)", "the function '__import__' is not allowed", "__import__"),
        ("open(w)", "the function 'open' is not allowed", "open"),
        ("w.sum()", "not methods", "w.sum"),
        ("log(w, base=2)", "keyword arguments", "2"),
        ("log(*w)", "*-unpacking", "*w"),
        ("log(w, w)", "log() takes 1 argument(s)", "log(w, w)"),
        ("(lambda: w)", "a lambda", "lambda: w"),
        ("[x for x in w]", "a comprehension", "[x for x in w]"),
        ("w if w > 0 else 1", "an if-expression", "w if w > 0 else 1"),
        ("'text'", "is not a number", "'text'"),
        ("w // 2", "FloorDiv is not allowed", "w // 2"),
        ("w in Jet", "the comparison In is not allowed", "w in Jet"),
        ("w[0]", "the first axis is the events", "0"),
        ("Jet.pt[:, w]", "an integer constant or a slice", "w"),
        ("log(w", "syntax error", "("),
    ],
)
def test_refused_constructs_name_the_key_and_mark_the_column(text, problem, marked) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text, key=KEY)
    message = str(caught.value)
    assert message.startswith(f"{KEY}: ")
    assert problem in message
    lines = message.splitlines()
    quoted = next(i for i, line in enumerate(lines) if line == f"    {text}")
    carets = lines[quoted + 1]
    start = carets.index("^")
    # the carets sit under the offending construct, column for column
    assert f"    {text}"[start : len(carets)] == marked
    assert set(carets[start:]) == {"^"}
    assert "Allowed:" in message and "first" in message


@pytest.mark.parametrize("bad", [None, True, ["w"], {"expr": "w"}, "", "   "])
def test_not_a_string_or_empty_is_refused_with_the_key(bad) -> None:
    with pytest.raises(ExpressionError, match=KEY):
        parse(bad, key=KEY)


@pytest.mark.parametrize(
    ("text", "by_hand"),
    [
        ("log10(Jet.pt) * 2 - Jet.eta ** 2 % 3",
         lambda e: np.log10(e.Jet.pt) * 2 - e.Jet.eta**2 % 3),
        ("-Jet.eta / w", lambda e: -e.Jet.eta / e.w),
        ("num(Jet)", lambda e: ak.num(e.Jet, axis=1)),
        ("sum(Jet.pt > 30)", lambda e: ak.sum(e.Jet.pt > 30, axis=1)),
        ("sum(Jet.pt)", lambda e: ak.sum(e.Jet.pt, axis=1)),
        ("max(Jet.pt)", lambda e: ak.max(e.Jet.pt, axis=1)),
        ("min(abs(Jet.eta))", lambda e: ak.min(abs(e.Jet.eta), axis=1)),
        ("any(Jet.pt > 90) | all(Jet.pt > 10)",
         lambda e: ak.any(e.Jet.pt > 90, axis=1) | ak.all(e.Jet.pt > 10, axis=1)),
        ("first(Jet.pt)", lambda e: ak.firsts(e.Jet.pt, axis=1)),
        ("Jet.pt[:, 0]", lambda e: ak.firsts(e.Jet.pt, axis=1)),
        ("Jet.pt[:, 1]", lambda e: ak.pad_none(e.Jet.pt, 2, axis=1)[:, 1]),
        ("Jet.pt[:, -1]", lambda e: ak.firsts(e.Jet.pt[:, ::-1], axis=1)),
        ("Jet.pt[:, :2]", lambda e: e.Jet.pt[:, :2]),
        ("Jet.pt[:, 1:-1]", lambda e: e.Jet.pt[:, 1:-1]),
        ("-1 < Jet.eta <= 1", lambda e: (e.Jet.eta > -1) & (e.Jet.eta <= 1)),
        ("(num(Jet) >= 2) and not (w > 0.5)", lambda e: (ak.num(e.Jet) >= 2) & ~(e.w > 0.5)),
        ("~(w > 0.5) or (w < 0.1)", lambda e: ~(e.w > 0.5) | (e.w < 0.1)),
        ("where(w > 0.5, w, 1 - w)", lambda e: np.where(e.w > 0.5, e.w, 1 - e.w)),
        ("mask(Jet.pt, abs(Jet.eta) < 1)", lambda e: e.Jet.pt[abs(e.Jet.eta) < 1]),
        ("sqrt(exp(w)) + tanh(w) + arcsinh(w) + cosh(w) - sinh(w)",
         lambda e: np.sqrt(np.exp(e.w)) + np.tanh(e.w) + np.arcsinh(e.w) + np.cosh(e.w)
         - np.sinh(e.w)),
        ("atan2(Jet.eta, Jet.pt) + arctan2(w, 1)",
         lambda e: np.arctan2(e.Jet.eta, e.Jet.pt) + np.arctan2(e.w, 1)),
        ("arccosh(1 + w) + log(w) + sin(w) * cos(w) / tan(1 + w)",
         lambda e: np.arccosh(1 + e.w) + np.log(e.w) + np.sin(e.w) * np.cos(e.w) / np.tan(1 + e.w)),
        ("minimum(Jet.pt, 50) + maximum(w, 0.5)",
         lambda e: np.minimum(e.Jet.pt, 50) + np.maximum(e.w, 0.5)),
    ],
)  # fmt: skip
def test_values_agree_with_awkward_by_hand(events, text, by_hand) -> None:
    # the same operations in the same order: equal to the last bit (None where by hand)
    got = parse(text, key="k").evaluate(events)
    assert ak.array_equal(ak.Array(got), ak.Array(by_hand(events)))


def test_names_come_before_fields_and_constants_stay_numbers(events) -> None:
    doubled = parse("2 * w", key="k").evaluate(events)
    expression = parse("w + 1", key="k")
    assert ak.array_equal(expression.evaluate(events, {"w": doubled}), doubled + 1)
    assert parse("3 * 2", key="k").evaluate(events) == 6


def test_expressions_pickle_and_keep_their_text() -> None:
    expression = parse("  log10(Jet.pt)\n", key="k")
    assert isinstance(expression, Expression) and expression.to_text() == "log10(Jet.pt)"
    assert pickle.loads(pickle.dumps(expression)) == expression


def test_missing_field_names_the_path_and_the_available_fields(events) -> None:
    with pytest.raises(MissingBranchError) as caught:
        parse("first(Jet.ptt)", key=KEY).evaluate(events)
    message = str(caught.value)
    assert message.startswith(KEY) and "'Jet.ptt'" in message and "['eta', 'pt']" in message
    with pytest.raises(MissingBranchError, match=r"'Jets'.*\['Jet', 'w'\].*defines: \['x'\]"):
        parse("Jets.pt", key=KEY).evaluate(events, {"x": 1})
    # ak.Array's own API is no field
    with pytest.raises(MissingBranchError, match="'Jet.layout'"):
        parse("Jet.layout", key=KEY).evaluate(events)


def test_references_are_imported_when_evaluated_and_named_in_errors(events) -> None:
    reference = parse("hepnnlr.observables.dis:wrap_phi", key=KEY)
    assert isinstance(reference, Reference)
    assert np.allclose(reference.evaluate(np.array([4.0, -4.0])), [4.0 - 2 * np.pi, 2 * np.pi - 4])
    with pytest.raises(ExpressionError, match=r"reco.*'no_such_package.mod:f'.*no_such_package"):
        parse("no_such_package.mod:f", key=KEY).evaluate(events)
    with pytest.raises(ExpressionError, match=r"'not_there'.*hepnnlr.observables.dis"):
        parse("hepnnlr.observables.dis:not_there", key=KEY).evaluate(events)
    with pytest.raises(ExpressionError, match="dunder"):
        parse("os:__getattr__", key=KEY)
