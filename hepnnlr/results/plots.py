"""mplhep figures of weighted histograms with a ratio panel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import hist
import mplhep
import numpy as np
from matplotlib.figure import Figure

from hepnnlr.errors import ConfigError
from hepnnlr.outputs import atomic_write

__all__ = ["plot_comparison", "save_figure"]


def _normalized(h: hist.Hist, density: bool) -> tuple[np.ndarray, np.ndarray]:
    values = h.values()
    variances = h.variances()
    if variances is None:
        variances = np.abs(values)
    if density:
        widths = h.axes[0].widths
        total = values.sum()
        if total != 0:
            return values / total / widths, variances / total**2 / widths**2
    return values, variances


def plot_comparison(
    histograms: Mapping[str, hist.Hist],
    *,
    reference: str,
    path: str | Path,
    xlabel: str,
    density: bool = True,
    as_points: Sequence[str] = (),
    title: str | None = None,
    formats: Sequence[str] = ("png", "pdf"),
    logy: bool = False,
    bands: Mapping[str, Sequence[tuple[str, np.ndarray]]] | None = None,
) -> list[Path]:
    """Overlay 1-D histograms with a ratio-to-``reference`` panel; write one file per format.

    Args:
        histograms: ``{label: Hist}``; every histogram must have the same single axis.
        reference: Label of the histogram in the ratio's denominator.
        path: Output path without suffix; ``.png``/``.pdf`` are appended.
        xlabel: Axis label (LaTeX allowed).
        density: Normalize each histogram to unit area (shape comparison).
        as_points: Labels drawn as markers with error bars instead of lines.
        title: Text above the plot.
        formats: File formats to write.
        logy: Logarithmic y axis in the main panel.
        bands: ``{label: [(band label, per-bin error), ...]}``: filled bands of the given
            absolute errors (same units as the histogram's values) around the histogram
            ``label``, in both panels, each with its legend entry (e.g. ``("total", σ)``,
            ``("stat (bootstrap)", σ_stat)``: draw the wider first). The histogram's own
            error bars stay its variances.

    Returns:
        Paths of the files written.
    """
    if reference not in histograms:
        raise ConfigError(
            f"reference={reference!r} is not one of the histogram labels {list(histograms)}."
        )
    first = histograms[reference]
    for label, h in histograms.items():
        if len(h.axes) != 1 or h.axes != first.axes:
            raise ConfigError(
                f"histogram {label!r} does not share the single axis of {reference!r}."
            )
    edges = first.axes[0].edges
    ref_values, ref_var = _normalized(first, density)
    # A bare Figure (no pyplot) draws with the Agg canvas and leaves the user's
    # interactive backend and global figure registry alone.
    fig = Figure(figsize=(7, 7))
    ax, rax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1), "hspace": 0.05})
    colors = [f"C{i}" for i in range(10)]
    bands = dict(bands or {})
    unknown = sorted(set(bands) - set(histograms))
    if unknown:
        raise ConfigError(
            f"bands for {unknown}: no histogram has that label; the labels are {list(histograms)}."
        )
    for index, (label, h) in enumerate(histograms.items()):
        color = colors[index % len(colors)]
        values, variances = _normalized(h, density)
        _draw_bands(ax, rax, h, bands.get(label, ()), density, ref_values, edges)
        errors = np.sqrt(np.maximum(variances, 0))
        if label in as_points:
            style = {"histtype": "errorbar", "marker": "o", "markersize": 4}
        else:
            style = {"histtype": "step", "linewidth": 1.6}
        mplhep.histplot(values, edges, yerr=errors, ax=ax, label=label, color=color, **style)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(ref_values > 0, values / ref_values, np.nan)
            ratio_err = (
                np.where(
                    ref_values > 0,
                    np.abs(ratio) * np.sqrt(variances / values**2 + ref_var / ref_values**2),
                    np.nan,
                )
                if label != reference
                else np.where(ref_values > 0, errors / ref_values, np.nan)
            )
        if label == reference:
            rax.stairs(
                1 + ratio_err,
                edges,
                baseline=1 - ratio_err,
                fill=True,
                alpha=0.25,
                color=color,
                label=f"{reference} stat.",
            )
        else:
            mplhep.histplot(ratio, edges, yerr=ratio_err, ax=rax, color=color, **style)
    ax.set_ylabel("normalized entries / bin width" if density else "entries")
    if logy:
        ax.set_yscale("log")
    ax.legend(frameon=False)
    if title:
        ax.set_title(title, loc="left", fontsize=11)
    rax.axhline(1.0, color="black", linewidth=0.8)
    rax.set_ylim(0.5, 1.5)
    rax.set_ylabel(f"ratio to\n{reference}", fontsize=9)
    rax.set_xlabel(xlabel)
    rax.set_xlim(edges[0], edges[-1])
    return save_figure(fig, path, formats)


_BAND_STYLES = (
    {"color": "C4", "alpha": 0.3},
    {"color": "C8", "alpha": 0.35},
    {"color": "0.55", "alpha": 0.35},
)


def _draw_bands(ax, rax, h: hist.Hist, bands, density: bool, ref_values, edges) -> None:
    """Filled bands ``value ± error`` of ``h`` (normalized as ``h``) in both panels."""
    values = h.values()
    scale = np.ones_like(values, dtype=float)
    if density and values.sum() != 0:
        scale = 1.0 / values.sum() / h.axes[0].widths
    for k, (band_label, error) in enumerate(bands):
        error = np.asarray(error, float)
        if error.shape != values.shape:
            raise ConfigError(
                f"band {band_label!r} has {error.shape} errors for {values.shape} bins."
            )
        style = _BAND_STYLES[k % len(_BAND_STYLES)]
        low, high = (values - error) * scale, (values + error) * scale
        ax.stairs(high, edges, baseline=low, fill=True, label=band_label, **style)
        with np.errstate(divide="ignore", invalid="ignore"):
            r_low = np.where(ref_values > 0, low / ref_values, np.nan)
            r_high = np.where(ref_values > 0, high / ref_values, np.nan)
        rax.stairs(r_high, edges, baseline=r_low, fill=True, **style)


def save_figure(fig: Figure, path: str | Path, formats: Sequence[str]) -> list[Path]:
    """Write ``fig`` as ``path`` with each suffix of ``formats`` (parent folders created);
    returns the files written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        out = path.with_suffix(f".{fmt}")
        with atomic_write(out) as tmp:
            fig.savefig(tmp, bbox_inches="tight", dpi=120)
        written.append(out)
    return written
