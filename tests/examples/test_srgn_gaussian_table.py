"""The SRGN Gaussian examples' summary table (``examples/_srgn_gaussian.print_table``).

With few runs the outlier rule of arXiv:2010.03569 can drop every run of a level (one run
that ended at a bound); the table then says so and records no mean instead of stopping
the example after all its fits have run.
"""

from __future__ import annotations

from example_modules import example_module


def test_a_level_with_no_kept_run_is_reported_not_raised(capsys):
    print_table = example_module("_srgn_gaussian").print_table
    ranges = {"mu": (-1.0, 1.0), "sigma": (0.5, 1.5)}
    paper = {
        level: {"mu": (0.0, 0.1), "sigma": (1.0, 0.1)} for level in ("generator", "simulation")
    }
    fits = {
        "generator": {"mu": [0.01], "sigma": [1.02]},
        # μ within 5 % of the range from its lower bound: the bound cut drops the only run
        "simulation": {"mu": [-0.99], "sigma": [1.0]},
    }
    out = print_table("II", 100, 1, fits, ranges, {"mu": 0.0, "sigma": 1.0}, paper)
    assert out["simulation"]["mean_std"] is None
    assert out["simulation"]["kept"] == [False]
    assert out["generator"]["mean_std"]["mu"] == (0.01, 0.0)
    assert "no run kept" in capsys.readouterr().out
