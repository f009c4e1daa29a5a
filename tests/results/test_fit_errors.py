"""A fitted value with stat, method and total apart (hepnnlr.results.fit_errors)."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import EmptySelectionError
from hepnnlr.results.fit_errors import combine_errors, error_table


def test_value_method_stat_and_total_come_from_their_own_runs():
    repeats = {"mu": np.array([1.0, 1.2, 5.0])}
    kept = np.array([True, True, False])
    shifts = {"mu": np.array([0.3, -0.3, 0.1, -0.1, 9.0])}
    used = np.array([True, True, True, True, False])
    ((name, e),) = combine_errors(repeats, kept, shifts, used).items()
    assert name == "mu" and e.value == pytest.approx(1.1)
    # method: the kept repeats' spread; stat: the used replicas' shifts' spread
    assert e.method == pytest.approx(np.std([1.0, 1.2], ddof=1))
    assert e.stat == pytest.approx(np.std([0.3, -0.3, 0.1, -0.1], ddof=1))
    assert e.total == pytest.approx(np.hypot(e.stat, e.method))
    assert e.method_of_mean == pytest.approx(e.method / np.sqrt(2))
    # the error of the mean of the 2 kept repeats (a calibration's own error per target)
    assert e.of_mean == pytest.approx(np.hypot(e.stat, e.method / np.sqrt(2)))
    assert e.bootstrap_bias == pytest.approx(0.0, abs=1e-12)
    assert (e.repeats, e.replicas) == ((2, 3), (4, 5))
    row = e.to_dict()
    assert {"value", "stat", "method", "total"} <= set(row) and row["replicas_used"] == 4


def test_a_missing_component_is_none_and_the_total_is_the_other():
    alone = combine_errors(
        {"mu": np.array([0.5])}, np.array([True]), {"mu": np.array([0.1, -0.1])}
    )["mu"]
    assert alone.method is None and alone.total == pytest.approx(alone.stat)
    assert alone.of_mean == pytest.approx(alone.stat)
    neither = combine_errors({"mu": np.array([0.5])}, np.array([True]))["mu"]
    assert neither.stat is None and neither.total is None and neither.of_mean is None
    with pytest.raises(EmptySelectionError, match="no repeat is kept"):
        combine_errors({"mu": np.array([0.5])}, np.array([False]))


def test_the_table_names_each_component():
    errors = combine_errors(
        {"mu": np.array([1.0, 1.2])}, np.array([True, True]), {"mu": np.array([0.3, -0.3])}
    )
    header, row = error_table(errors, {"mu": 1.1})
    assert header.split()[:5] == ["parameter", "value", "stat", "method", "total"]
    assert row.split()[:5] == ["mu", "1.1", "0.4243", "0.1414", "0.4472"]
    assert row.split()[5:] == ["1.1", "2/2", "2/2"]
