"""Contour and profile plots of NLL scans: the z axis in units of π or in its own units."""

from __future__ import annotations

import numpy as np
import pytest

import hepnnlr.results.contours as contours
from hepnnlr.errors import ConfigError
from hepnnlr.methods.scans import Scan


def _scan(z_center: float) -> Scan:
    """A parabolic NLL with its minimum at (μ, z) = (0.5, z_center); exact, no sampling."""
    mu = np.linspace(0.0, 1.0, 21)
    z = np.linspace(z_center - 0.3, z_center + 0.3, 25)
    nll = 50.0 * (mu[:, None] - 0.5) ** 2 + 200.0 * (z[None, :] - z_center) ** 2
    return Scan(("mu", "z"), (mu, z), nll, kind="nll", extras={"n_events": 100})


@pytest.fixture
def saved(monkeypatch):
    """The figures the plot functions would write (captured before saving)."""
    figures = []

    def capture(fig, path, formats, **kwargs):
        figures.append(fig)
        return [path]

    monkeypatch.setattr(contours, "save_figure", capture)
    return figures


def test_profiles_draw_z_in_the_given_unit_with_its_label(saved, tmp_path):
    scan = _scan(0.25 * np.pi)
    contours.plot_profiles(
        {"m": scan}, tmp_path / "p", truth={"mu": 0.5, "z": 0.25 * np.pi}, z_unit=np.pi
    )
    ax_z = saved[-1].axes[1]
    assert ax_z.get_xlabel() == r"$z$ / $\pi$"
    # the minimum (and the truth line) sit at 0.25 in units of pi
    line = ax_z.get_lines()[0]
    x, y = line.get_xdata(), line.get_ydata()
    assert x[np.argmin(y)] == pytest.approx(0.25, abs=1e-12)
    contours.plot_profiles(
        {"m": _scan(1.0)}, tmp_path / "q", truth={"mu": 0.5, "z": 1.0}, z_label="TES z"
    )
    ax_z = saved[-1].axes[1]
    assert ax_z.get_xlabel() == "TES z"
    x, y = ax_z.get_lines()[0].get_xdata(), ax_z.get_lines()[0].get_ydata()
    assert x[np.argmin(y)] == pytest.approx(1.0, abs=1e-12)


def test_contours_label_and_frame_follow_z_unit(saved, tmp_path):
    contours.plot_nll_contours(
        [{"m": _scan(1.0)}], [(0.5, 1.0)], tmp_path / "c", z_unit=1.0, z_label="TES z"
    )
    ax = saved[-1].axes[0]
    assert ax.get_ylabel() == "TES z"
    low, high = ax.get_ylim()
    assert low < 1.0 < high and high - low < 0.7  # inside the 0.6-wide grid, in z's units
    contours.plot_nll_contours([{"m": _scan(0.25 * np.pi)}], [(0.5, 0.25 * np.pi)], tmp_path / "d")
    ax = saved[-1].axes[0]
    assert ax.get_ylabel() == r"$z$ / $\pi$"
    low, high = ax.get_ylim()
    assert low < 0.25 < high and high - low < 0.7 / np.pi


def test_bad_z_unit_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"plot_profiles: z_unit=0\.0 must be a positive"):
        contours.plot_profiles({"m": _scan(1.0)}, tmp_path / "p", z_unit=0.0)
    with pytest.raises(ConfigError, match=r"plot_nll_contours: z_unit=-1\.0"):
        contours.plot_nll_contours([{"m": _scan(1.0)}], [(0.5, 1.0)], tmp_path / "c", z_unit=-1.0)
