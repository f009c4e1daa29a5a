"""The parabola vertex read off a scanned objective (hepnnlr.methods.scans), exactly."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import ConfigError
from hepnnlr.methods.scans import parabola_vertex, scan_vertex


def test_parabola_vertex_of_a_known_parabola_and_when_there_is_none():
    x = np.linspace(0.10, 0.18, 9)
    y = 3.0 * (x - 0.1437) ** 2 + 0.5
    assert parabola_vertex(x, y) == pytest.approx(0.1437, abs=1e-12)
    assert parabola_vertex(x, -y) is None          # a maximum
    assert parabola_vertex(x, x) is None           # monotonic: the minimum is the edge
    assert parabola_vertex(x[:2], y[:2]) is None   # too few points
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
