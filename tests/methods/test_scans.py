"""The one Scan type and the parabola vertex read off it (hepnnlr.methods.scans), exactly."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.methods.scans import Scan, parabola_vertex, scan_vertex


def test_parabola_vertex_of_a_known_parabola_and_when_there_is_none():
    x = np.linspace(0.10, 0.18, 9)
    y = 3.0 * (x - 0.1437) ** 2 + 0.5
    assert parabola_vertex(x, y) == pytest.approx(0.1437, abs=1e-12)
    assert parabola_vertex(x, -y) is None  # a maximum
    assert parabola_vertex(x, x) is None  # monotonic: the minimum is the edge
    assert parabola_vertex(x[:2], y[:2]) is None  # too few points
    gx, gy = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(0, 2, 7), indexing="ij")
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    values = (points[:, 0] - 0.3) ** 2 + 2 * (points[:, 1] - 1.1) ** 2
    fitted = scan_vertex(("a", "b"), points, values)
    assert fitted == pytest.approx({"a": 0.3, "b": 1.1}, abs=1e-12)


def test_bad_scans_are_refused():
    with pytest.raises(ConfigError, match="3 x values but 2 y values"):
        parabola_vertex([1, 2, 3], [1, 2])
    with pytest.raises(ConfigError, match="non-finite"):
        parabola_vertex([1, 2, 3], [1, np.nan, 2])


def test_one_scan_type_holds_a_grid_its_minimum_and_its_vertex():
    # an exact quadratic on a 5 x 7 grid that misses its minimum (0.3, 1.1): the grid
    # minimum is the nearest node, the vertex exact (to rounding: 1e-12)
    a, b = np.linspace(-1, 1, 5), np.linspace(0, 2, 7)
    values = (a[:, None] - 0.3) ** 2 + 2 * (b[None, :] - 1.1) ** 2
    scan = Scan(("a", "b"), (a, b), values, errors=np.full(35, 0.1), kind="dctr loss")
    assert scan.shape == (5, 7) and scan.errors.shape == (5, 7)
    # points in itertools.product order, the last parameter fastest, flat values alike
    assert scan.points[:8].tolist() == [[-1.0, b_] for b_ in b] + [[-0.5, 0.0]]
    np.testing.assert_array_equal(scan.flat_values, values.ravel())
    assert scan.minimum == {"a": 0.5, "b": pytest.approx(1.0)}
    assert scan.minimum_value == pytest.approx(0.04 + 2 * 0.01)
    assert scan.fitted == pytest.approx({"a": 0.3, "b": 1.1}, abs=1e-12)
    assert scan.delta.min() == 0.0 and scan.axis("b") is scan.axes[1]
    halved = scan.scaled(0.5)
    assert halved.minimum == scan.minimum and halved.flat_errors[0] == 0.05
    same = Scan.from_points(("a", "b"), scan.points, scan.flat_values)
    np.testing.assert_array_equal(same.values, values)
    assert same.errors is None and same.kind == ""


def test_bad_scans_name_the_shape_or_the_parameter():
    a = np.linspace(0, 1, 3)
    with pytest.raises(ShapeMismatchError, match=r"values of shape \(4,\) on a grid of shape"):
        Scan(("a",), (a,), np.zeros(4))
    with pytest.raises(ShapeMismatchError, match=r"2 parameter\(s\) \('a', 'b'\) but axes"):
        Scan(("a", "b"), (a,), np.zeros(3))
    with pytest.raises(ConfigError, match=r"parameter='c' is not scanned; choose one of \['a'\]"):
        Scan(("a",), (a,), np.zeros(3)).axis("c")
    with pytest.raises(ConfigError, match="not the product grid"):
        Scan.from_points(("a", "b"), [[0, 0], [1, 1]], [1.0, 2.0])
