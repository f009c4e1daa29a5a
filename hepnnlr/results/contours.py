"""Contours of ``ΔNLL(μ, z)`` at the 0.5 and 2.0 levels and profile plots.

The scans come from :func:`hepnnlr.methods.nll.scan_nll`; several test sets (one
per true ``(μ, z)``) and several likelihoods (true, classifier, flow) share one figure, as in
figure 4.4 (§3.3.4) of B. Sluijter, "Classifiers versus Normalizing Flows for uncertainty-aware
estimation of a signal ratio", MSc thesis, Leiden University 2024, hdl:1887/4104579.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy.interpolate import RectBivariateSpline

from hepnnlr.errors import ConfigError
from hepnnlr.methods.nll import profile_nll
from hepnnlr.methods.scans import Scan
from hepnnlr.results.plots import save_figure
from hepnnlr.results.style import PlotStyle, experiment_label, styled

__all__ = ["plot_nll_contours", "plot_profiles"]

_LABELS = {"mu": r"$\mu$", "z": r"$z$"}
_STYLES = ("solid", "dashed", "dotted", "dashdot")


def _figure(size: tuple[float, float]) -> Figure:
    """A bare Figure (no pyplot: the user's backend and figure registry stay untouched)."""
    return Figure(figsize=size)


def _mu_z(scan: Scan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The μ grid, the z grid and the NLL on ``(μ, z)`` of a scan over μ and z."""
    if sorted(scan.parameters) != ["mu", "z"]:
        raise ConfigError(
            f"the contours and profiles draw scans over ('mu', 'z'); got a {scan.kind or 'scan'}"
            f" over {scan.parameters} (scan_nll makes them)."
        )
    nll = scan.values if scan.parameters == ("mu", "z") else scan.values.T
    return scan.axis("mu"), scan.axis("z"), nll


def _smooth(scan: Scan, scale: float, factor: int = 4):
    """``ΔNLL × scale`` on a grid ``factor`` times finer, by a bicubic spline of the scan
    (contours straight from a coarse grid are polygons)."""
    mu_grid, z_grid, nll = _mu_z(scan)
    spline = RectBivariateSpline(mu_grid, z_grid, nll - nll.min())
    mu = np.linspace(mu_grid[0], mu_grid[-1], factor * (len(mu_grid) - 1) + 1)
    z = np.linspace(z_grid[0], z_grid[-1], factor * (len(z_grid) - 1) + 1)
    return mu, z, spline(mu, z) * scale


def _zoom(ax, scans: Sequence[Scan], scale: float, level: float, z_unit: float) -> None:
    """Limit the frame to where some ``ΔNLL`` is below ``2 level``, with a margin."""
    inside_mu, inside_z = [], []
    for scan in scans:
        mu_grid, z_grid, nll = _mu_z(scan)
        near = (nll - nll.min()) * scale <= 2 * level
        inside_mu.append(mu_grid[near.any(axis=1)])
        inside_z.append(z_grid[near.any(axis=0)] / z_unit)
    mu = np.concatenate(inside_mu)
    z = np.concatenate(inside_z)
    first_mu, first_z, _ = _mu_z(scans[0])
    for setter, values, grid in ((ax.set_xlim, mu, first_mu), (ax.set_ylim, z, first_z / z_unit)):
        pad = 0.15 * (values.max() - values.min()) + 2 * (grid[1] - grid[0])
        setter(max(grid[0], values.min() - pad), min(grid[-1], values.max() + pad))


def _z_label(z_unit: float, z_label: str | None) -> str:
    """The z axis label: ``z_label``, else ``z / π`` in units of π, ``z`` otherwise."""
    if z_label is not None:
        return z_label
    return r"$z$ / $\pi$" if z_unit == np.pi else r"$z$"


def _check_unit(z_unit: float, where: str) -> float:
    if not (np.isfinite(z_unit) and z_unit > 0):
        raise ConfigError(
            f"{where}: z_unit={z_unit!r} must be a positive number (np.pi for the Gaussian "
            "toy's angle, 1.0 for a nuisance in its own units)."
        )
    return float(z_unit)


def _nll_contours(
    test_sets: Sequence[Mapping[str, Scan]],
    truths: Sequence[tuple[float, float]],
    path: str | Path,
    *,
    levels: Sequence[float] = (0.5, 2.0),
    scale: float = 1.0,
    z_unit: float = np.pi,
    z_label: str | None = None,
    title: str | None = None,
    formats: Sequence[str] = ("png",),
    style: PlotStyle,
) -> list[Path]:
    """Contours ``NLL - min = level`` of every likelihood for every test set, in one frame.

    Args:
        test_sets: One ``{label: Scan}`` per test set (all on the same grid).
        truths: The true ``(μ, z)`` of each test set (drawn as a cross).
        path: Output path without suffix.
        levels: ΔNLL levels (0.5 ≈ 68 %, 2.0 ≈ 95 % for one parameter).
        scale: Factor applied to each NLL first (hdl:1887/4104579 divides a 9000-event NLL by
            9 to show the expectation for a 1000-event bootstrap set).
        z_unit: z is drawn in units of this (π by default: the axis of
            hdl:1887/4104579; 1.0 for a nuisance in its own units, e.g. the τ_h energy scale).
        z_label: Label of the z axis (default ``z / π`` for ``z_unit = π``, else ``z``).
        title: Text above the frame.
        formats: File formats.
        style: A :class:`~hepnnlr.results.style.PlotStyle` or a style name (default CMS
            style, label "Simulation").
    """
    if len(test_sets) != len(truths):
        raise ConfigError(
            f"plot_nll_contours: {len(test_sets)} test sets but {len(truths)} truths; give one "
            "true (mu, z) per test set."
        )
    if not test_sets:
        raise ConfigError("plot_nll_contours: no test sets to draw.")
    z_unit = _check_unit(z_unit, "plot_nll_contours")
    labels = list(test_sets[0])
    fig = _figure((7, 6))
    ax = fig.subplots()
    colors = {label: f"C{i}" for i, label in enumerate(labels)}
    for scans, (mu_true, z_true) in zip(test_sets, truths, strict=True):
        for label, scan in scans.items():
            mu, z, delta = _smooth(scan, scale)
            ax.contour(
                mu,
                z / z_unit,
                delta.T,
                levels=sorted(levels),
                colors=colors.get(label, "k"),
                linestyles=list(_STYLES[: len(levels)]),
                linewidths=1.3,
            )
        ax.plot(mu_true, z_true / z_unit, marker="x", color="black", markersize=6)
    _zoom(ax, [s for scans in test_sets for s in scans.values()], scale, max(levels), z_unit)
    handles = [Line2D([], [], color=colors[label], label=label) for label in labels]
    handles += [
        Line2D([], [], color="gray", linestyle=_STYLES[i], label=rf"$\Delta$NLL = {level:g}")
        for i, level in enumerate(levels)
    ]
    # the title heads the legend: above the frame sits the experiment label
    ax.legend(
        handles=handles,
        frameon=False,
        fontsize=9,
        loc="best",
        title=title,
        title_fontsize=9,
        alignment="left",
    )
    ax.set_xlabel(r"$\mu$")
    ax.set_ylabel(_z_label(z_unit, z_label))
    ax.tick_params(direction="in", top=True, right=True)
    experiment_label(ax, style)
    return save_figure(fig, path, formats, dpi=style.dpi)


def _profiles(
    scans: Mapping[str, Scan],
    path: str | Path,
    *,
    truth: Mapping[str, float] | None = None,
    levels: Sequence[float] = (0.5, 2.0),
    z_unit: float = 1.0,
    z_label: str | None = None,
    title: str | None = None,
    formats: Sequence[str] = ("png",),
    style: PlotStyle,
) -> list[Path]:
    """Profile likelihoods ``ΔNLL(μ)`` and ``ΔNLL(z)`` of each scan, side by side.

    Args:
        scans: ``{label: Scan}`` (NLL scans over μ and z).
        path: Output path without suffix.
        truth: ``{"mu": ..., "z": ...}`` drawn as vertical lines.
        levels: Horizontal lines (Wilks thresholds).
        z_unit: z is drawn in units of this (1.0: as scanned; ``np.pi`` for the toy's axis).
        z_label: Label of the z axis (default ``z / π`` for ``z_unit = π``, else ``z``).
        title: Text above the figure.
        formats: File formats.
        style: A :class:`~hepnnlr.results.style.PlotStyle` or a style name (default CMS
            style, label "Simulation").
    """
    if not scans:
        raise ConfigError("plot_profiles: no scans to draw.")
    z_unit = _check_unit(z_unit, "plot_profiles")
    fig = _figure((11, 4.5))
    axes = fig.subplots(1, 2)
    for ax, parameter in zip(axes, ("mu", "z"), strict=True):
        unit = z_unit if parameter == "z" else 1.0
        near = []
        for i, (label, scan) in enumerate(scans.items()):
            values, profile = profile_nll(scan, parameter)
            values = values / unit
            ax.plot(values, profile - profile.min(), color=f"C{i}", label=label)
            near.append(values[profile - profile.min() <= 3 * max(levels)])
        near = np.concatenate(near)
        pad = 0.2 * (near.max() - near.min()) + (values[1] - values[0])
        ax.set_xlim(max(values[0], near.min() - pad), min(values[-1], near.max() + pad))
        for level in levels:
            ax.axhline(level, color="gray", linestyle="dashed", linewidth=0.8)
        if truth is not None:
            ax.axvline(truth[parameter] / unit, color="black", linewidth=0.8, label="truth")
        ax.set_ylim(0, 3 * max(levels))
        ax.set_xlabel(_z_label(z_unit, z_label) if parameter == "z" else _LABELS[parameter])
        ax.set_ylabel(r"$\Delta$NLL (profiled)")
        ax.tick_params(direction="in", top=True, right=True)
        ax.legend(frameon=False, fontsize=9)
        experiment_label(ax, style)
    if title:
        fig.suptitle(title, fontsize=11, y=1.04)
    return save_figure(fig, path, formats, dpi=style.dpi)


#: Drawn and saved inside the figure style (``style=``: a PlotStyle or a name; default CMS).
plot_nll_contours = styled(_nll_contours)
plot_profiles = styled(_profiles)
