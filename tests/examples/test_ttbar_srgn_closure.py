"""The helpers of ``examples/ttbar_srgn_closure.py`` (the closure check of the tt̄ SRGN
curve, docs/fits.md tt̄ SRGN item 5): the moment fit's parabola, the line of fitted
against true values and the table of each repeat's objective read from a curve's record.
Exact inputs, so each value is known in closed form."""

from __future__ import annotations

import numpy as np
import pytest
from example_modules import example_module


@pytest.fixture(scope="module")
def closure():
    return example_module("ttbar_srgn_closure")


def test_moment_fit_finds_the_parabola_vertex_and_its_delta_chi2_error(closure):
    grid = np.arange(167.0, 183.25, 0.5)
    # χ² = (θ′ − 172.3)² / 0.5²: vertex 172.3, Δχ² = 1 at ± 0.5
    theta, error, chi2_min, edge = closure.moment_fit(grid, (grid - 172.3) ** 2 / 0.25)
    assert theta == pytest.approx(172.3, abs=1e-9) and error == pytest.approx(0.5)
    assert chi2_min == pytest.approx(0.16) and not edge  # at 172.5: 0.2² / 0.25
    # the lowest point on the grid's edge: reported there, with no error
    theta, error, _, edge = closure.moment_fit(grid, (grid - 160.0) ** 2)
    assert (theta, error, edge) == (167.0, None, True)


def test_line_row_is_the_weighted_calibration_line(closure):
    true = [169.0, 172.0, 175.0, 178.0, 181.0]
    points = [(t, 0.5 * t + 87.5, 1.0) for t in true]  # slope 0.5, fitted = true at 175
    row = closure._line_row(0, "detector (means)", points)
    # slope error 1/sqrt(Σ (x − x̄)²) = 1/sqrt(90) for unit errors
    assert row[:4] == [0, "detector (means)", 5, f"0.500 ± {1 / np.sqrt(90):.3f}"]
    # the offset (fitted − true at the pivot 175) is 0 up to float64 rounding
    assert row[4] == f"{-0.5 * np.sqrt(90):+.2f} σ" and float(row[5]) == 0.0
    assert closure._line_row(0, "x", points[:2])[3] == "n/a"  # a line needs 3 points


def test_objective_rows_read_each_repeat_of_a_record(closure):
    grid = [172.0, 174.0, 175.0, 176.0, 178.0]
    curve = [[[g], 0.5 + 0.001 * (g - 174.0) ** 2] for g in grid]  # vertex 174
    record = {
        "parameter": "top_mass",
        "points": [
            {
                "true": 175.0,
                "repeat_fits": [
                    {"curve": curve, "theta": {"top_mass": 174.2}, "flags": {"flat": False}},
                    {"curve": curve[:3], "theta": {"top_mass": 175.0}, "flags": {"flat": True}},
                ],
            }
        ],
    }
    rows = closure.objective_rows(record)
    assert rows[0] == ["175", 0, "174.20", "174.00", "0.5000", 5, "none"]
    assert rows[1][3] == "174.00" and rows[1][5:] == [3, "flat"]
