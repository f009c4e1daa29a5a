"""Figures of weighted 1-D histograms with a ratio panel, in hepnnlr's one style.

:func:`plot_comparison` takes ``hist.Hist`` objects (in memory, or read back from a saved
``histograms.root`` with uproot's ``.to_hist()``) and writes the figure in one call:

- the look of :mod:`hepnnlr.results.style` (mplhep style and experiment label);
- a logarithmic x axis when the binning is logarithmic (edges evenly spaced in log, as
  ``hist.axis.Regular(..., transform=hist.axis.transform.log)`` or ``np.geomspace`` give);
- units on both axes: the x label ``"symbol [unit]"`` gives the y label
  ``1/N dN/d(symbol) [1/unit]`` (``Events / bin`` without ``density``);
- the total uncertainty of the measured histograms as a band, its parts drawn as lines of
  their own in the ratio panel, every band and part in the legend;
- ratio points outside the panel drawn as arrows at its edge;
- PNG (200 dpi unless the style says otherwise) and PDF.

Example, redrawing an unfolding's figure from its saved histograms::

    import uproot
    from hepnnlr.results.plots import plot_comparison

    with uproot.open("out/histograms.root") as f:
        shown = {g: f[f"{g}/Q2"].to_hist() for g in ("data_truth", "sim_truth", "unfolded")}
    plot_comparison(shown, reference="data_truth", as_points=("unfolded",), path="Q2")
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import hist
import mplhep
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from hepnnlr.errors import ConfigError
from hepnnlr.outputs import atomic_write
from hepnnlr.results.style import PlotStyle, as_plot_style, experiment_label, figure_style

__all__ = [
    "OUT_OF_RANGE",
    "Component",
    "draw_comparison",
    "is_log_binned",
    "plot_comparison",
    "save_figure",
    "y_label",
]

#: The ``gid`` of the arrows that mark ratio points outside the ratio panel.
OUT_OF_RANGE = "hepnnlr-out-of-range"

#: One part of a histogram's uncertainty: per-bin variances (array), a ``Hist`` whose
#: variances are that part, or an ``(up, down)`` pair of shifted contents (Hists or arrays).
Component = np.ndarray | hist.Hist | tuple

_PART_STYLES = ("--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)))
_FIGSIZE = (10, 10)


def is_log_binned(axis) -> bool:
    """Whether ``axis`` has logarithmic binning: at least two bins, positive edges, and
    equal widths in ``log(x)`` (to 1e-6 relative, looser than rounding of printed edges
    would need, far tighter than any linear binning of two or more bins passes)."""
    edges = np.asarray(axis.edges, dtype=float)
    if len(edges) < 3 or edges[0] <= 0:
        return False
    steps = np.diff(np.log(edges))
    return bool(np.allclose(steps, steps[0], rtol=1e-6, atol=0))


_UNIT = re.compile(r"^(?P<symbol>.*?)\s*\[(?P<unit>[^\[\]]+)\]\s*$")


def y_label(xlabel: str, density: bool) -> str:
    """The y axis label for an x axis labelled ``xlabel`` (``"symbol [unit]"`` or
    ``"symbol"``): ``1/N dN/d(symbol) [1/unit]`` for a density, else ``Events / bin``."""
    if not density:
        return "Events / bin"
    match = _UNIT.match(xlabel)
    symbol, unit = (match["symbol"], match["unit"]) if match else (xlabel, None)
    symbol = symbol.strip()
    if symbol.startswith("$") and symbol.endswith("$") and symbol.count("$") == 2:
        inner = symbol[1:-1]
        # d(η − η_e), not dη − η_e
        inner = f"({inner})" if re.search(r"[+\-]", inner) else inner
        label = rf"$1/N\,\mathrm{{d}}N/\mathrm{{d}}{inner}$"
    else:
        # a worded label ("jet multiplicity"): x stands for the quantity on the x axis
        label = r"$1/N\,\mathrm{d}N/\mathrm{d}x$"
    return label if unit is None else f"{label} [1/{unit}]"


def _contents(h: hist.Hist) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(h.values(), dtype=float)
    variances = h.variances()
    # an unweighted (Int64/Double) histogram: Poisson counts
    variances = np.abs(values) if variances is None else np.asarray(variances, dtype=float)
    return values, variances


def _scale(h: hist.Hist, density: bool) -> np.ndarray:
    """Per-bin factor to ``1/N dN/dx`` (ones without ``density`` or for an empty histogram)."""
    values = h.values()
    if density and values.sum() != 0:
        return 1.0 / values.sum() / h.axes[0].widths
    return np.ones(values.shape)


def _shifted(item, label: str, name: str, n: int) -> np.ndarray:
    array = item.values() if isinstance(item, hist.Hist) else np.asarray(item, dtype=float)
    if array.shape != (n,):
        raise ConfigError(
            f"bands[{label!r}][{name!r}] has shape {array.shape} for {n} bins; give one "
            "value per bin (no flow bins)."
        )
    return np.asarray(array, dtype=float)


def _parts(label: str, h: hist.Hist, given) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``[(name, up error, down error)]`` in the histogram's own units.

    ``given`` is a mapping ``{name: Component}`` or the sequence ``[(name, error)]`` of
    absolute symmetric errors; None or empty: the histogram's own variances, ``"stat."``.
    """
    values, variances = _contents(h)
    n = len(values)
    if not given:
        error = np.sqrt(np.maximum(variances, 0))
        return [("stat.", error, error)]
    items = given.items() if isinstance(given, Mapping) else given
    parts = []
    for entry in items:
        if isinstance(given, Mapping):
            name, item = entry
            if isinstance(item, tuple):
                if len(item) != 2:
                    raise ConfigError(
                        f"bands[{label!r}][{name!r}] is a tuple of {len(item)}; give "
                        "(up, down) shifted contents."
                    )
                shifts = np.stack([_shifted(s, label, name, n) - values for s in item])
                # a variation may move the content either way: the larger upward and
                # downward shift of the pair
                up = np.maximum(shifts.max(axis=0), 0)
                down = np.maximum(-shifts.min(axis=0), 0)
            else:
                var = item.variances() if isinstance(item, hist.Hist) else item
                if var is None:
                    raise ConfigError(
                        f"bands[{label!r}][{name!r}] is a Hist without variances; fill it "
                        "with weights (storage Weight) or give the variances as an array."
                    )
                up = down = np.sqrt(np.maximum(_shifted(var, label, name, n), 0))
        else:
            name, error = entry
            up = down = np.abs(_shifted(error, label, name, n))
        parts.append((str(name), up, down))
    return parts


def _short(name: str) -> str:
    """The part's name before any ``:`` (``"stat: bootstrap ..."`` -> ``"stat"``)."""
    return name.split(":", 1)[0].strip()


def _check(histograms, reference, as_points, bands) -> None:
    if reference not in histograms:
        raise ConfigError(
            f"reference={reference!r} is not one of the histogram labels {list(histograms)}."
        )
    first = histograms[reference]
    for label, h in histograms.items():
        if not isinstance(h, hist.Hist):
            raise ConfigError(
                f"histograms[{label!r}] is a {type(h).__name__}, not a hist.Hist; read a "
                "saved one with uproot's .to_hist()."
            )
        if len(h.axes) != 1 or not np.allclose(h.axes[0].edges, first.axes[0].edges):
            raise ConfigError(
                f"histogram {label!r} does not share the single axis of {reference!r}."
            )
    for what, labels in (("bands", bands), ("as_points", as_points)):
        unknown = sorted(set(labels) - set(histograms))
        if unknown:
            raise ConfigError(
                f"{what} names {unknown}: no histogram has that label; the labels are "
                f"{list(histograms)}."
            )


def draw_comparison(
    histograms: Mapping[str, hist.Hist],
    *,
    reference: str,
    xlabel: str | None = None,
    density: bool = True,
    as_points: Sequence[str] = (),
    title: str | None = None,
    logx: bool | None = None,
    logy: bool | None = None,
    bands: Mapping[str, Mapping[str, Component] | Sequence[tuple[str, np.ndarray]]] | None = None,
    ratio_range: tuple[float, float] = (0.5, 1.5),
    style: PlotStyle | str | None = None,
) -> Figure:
    """The figure of :func:`plot_comparison`, not saved (arguments as there)."""
    bands = dict(bands or {})
    _check(histograms, reference, as_points, bands)
    low_r, high_r = ratio_range
    if not low_r < 1 < high_r:
        raise ConfigError(f"ratio_range={ratio_range!r} must be (low, high) with low < 1 < high.")
    axis = histograms[reference].axes[0]
    edges = np.asarray(axis.edges, dtype=float)
    logx = is_log_binned(axis) if logx is None else logx
    centers = np.sqrt(edges[:-1] * edges[1:]) if logx else 0.5 * (edges[:-1] + edges[1:])
    xlabel = xlabel or axis.label or axis.name or "x"
    ref_values = histograms[reference].values() * _scale(histograms[reference], density)
    with figure_style(style) as look:
        # A bare Figure (no pyplot): drawn with the Agg canvas, leaving the user's
        # interactive backend and global figure registry alone.
        fig = Figure(figsize=_FIGSIZE)
        ax, rax = fig.subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1), "hspace": 0.06}
        )
        handles: list = []
        top = []
        for index, (label, h) in enumerate(histograms.items()):
            color = f"C{index % 10}"
            scale = _scale(h, density)
            values, variances = _contents(h)
            shown, errors = values * scale, np.sqrt(np.maximum(variances, 0)) * scale
            top.append(shown + errors)
            if label in as_points:
                kw = {"histtype": "errorbar", "marker": "o", "markersize": 6}
                handles.append(Line2D([], [], color=color, marker="o", markersize=6, label=label))
            else:
                kw = {"histtype": "step", "linewidth": 2}
                handles.append(Line2D([], [], color=color, linewidth=2, label=label))
            mplhep.histplot(shown, edges, yerr=errors, ax=ax, color=color, **kw)
            if label in bands or label in as_points or label == reference:
                handles += _draw_band(
                    ax, rax, label, h, bands.get(label), scale, ref_values, edges, color
                )
            if label == reference:
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(ref_values > 0, shown / ref_values, np.nan)
                # the reference's own uncertainty is its band around 1
                ratio_err = np.where(ref_values > 0, errors / ref_values, np.nan)
            mplhep.histplot(ratio, edges, yerr=ratio_err, ax=rax, color=color, **kw)
            _arrows(rax, centers, ratio, (low_r, high_r), color)
        rax.axhline(1.0, color="black", linewidth=1)
        rax.set_ylim(low_r, high_r)
        rax.set_ylabel(f"Ratio to\n{reference}", fontsize="small")
        rax.set_xlabel(xlabel)
        ax.set_xlabel("")
        ax.set_ylabel(y_label(xlabel, density))
        if logx:
            ax.set_xscale("log")
            _log_tick_labels(rax.xaxis, edges[0], edges[-1])
        rax.set_xlim(edges[0], edges[-1])
        peak = np.nanmax(np.concatenate(top)) if top else 1.0
        positive = ref_values[ref_values > 0]
        if logy is None:
            # a steeply falling spectrum (over two decades) on a log-binned axis
            logy = bool(logx and positive.size and peak / positive.min() > 100)
        legend = ax.legend(
            handles=handles,
            title="\n".join(part.strip() for part in title.split(";")) if title else None,
            alignment="left",
            loc="upper right",
            fontsize="x-small",
            title_fontsize="x-small",
            frameon=False,
        )
        _headroom(fig, ax, legend, peak, positive, logy)
        experiment_label(ax, look)
    return fig


def _draw_band(ax, rax, label, h, given, scale, ref_values, edges, color) -> list:
    """The total band of ``h`` in both panels and its parts as lines in the ratio panel;
    returns their legend handles."""
    parts = _parts(label, h, given)
    values = h.values()
    up = np.sqrt(sum(p[1] ** 2 for p in parts))
    down = np.sqrt(sum(p[2] ** 2 for p in parts))
    # mathtext's ⊕: the experiments' fonts (TeX Gyre Heros, ...) have no such glyph
    names = r" $\oplus$ ".join(_short(p[0]) for p in parts)
    what = names if len(parts) == 1 else f"total: {names}"
    # "data truth (stat.)"; a label that ends in parentheses takes the text inside them
    total = f"{label[:-1]}; {what})" if label.endswith(")") else f"{label} ({what})"
    band = {"color": color, "alpha": 0.25, "linewidth": 0}
    ax.stairs((values + up) * scale, edges, baseline=(values - down) * scale, fill=True, **band)
    handles = [Patch(facecolor=color, alpha=0.25, label=total)]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = lambda x: np.where(ref_values > 0, x * scale / ref_values, np.nan)  # noqa: E731
        rax.stairs(ratio(values + up), edges, baseline=ratio(values - down), fill=True, **band)
        if len(parts) > 1:
            for k, (name, p_up, p_down) in enumerate(parts):
                line = {"color": color, "linestyle": _PART_STYLES[k % len(_PART_STYLES)]}
                rax.stairs(ratio(values + p_up), edges, linewidth=1.4, **line)
                rax.stairs(ratio(values - p_down), edges, linewidth=1.4, **line)
                handles.append(Line2D([], [], linewidth=1.4, label=f"  part: {name}", **line))
    return handles


def _arrows(rax, centers, ratio, limits, color) -> None:
    """An arrow at the ratio panel's edge for each finite ratio outside ``limits``,
    pointing the way the point lies."""
    low, high = limits
    span = high - low
    for x, r in zip(centers, ratio, strict=True):
        if not np.isfinite(r) or low <= r <= high:
            continue
        edge = high if r > high else low
        start = edge - 0.2 * span if r > high else edge + 0.2 * span
        rax.annotate(
            "",
            xy=(x, edge),
            xytext=(x, start),
            arrowprops={"arrowstyle": "-|>", "color": color, "linewidth": 1.5},
            annotation_clip=False,
            gid=OUT_OF_RANGE,
        )


def _plain(x: float) -> str:
    return f"{x:g}"


def _log_tick_labels(axis, low: float, high: float) -> None:
    """Plain numbers on a log axis of under three decades (150-5000: ``200``, ``500``,
    ``1000``, ``2000``, ``5000``): labels at 1, 2 and 5 times a power of ten, not at every
    minor tick, whose ``2×10²``-style labels would overlap; wider axes keep the decades."""
    if high / low >= 1e3:
        return

    def minor(x: float, _pos) -> str:
        mantissa = x / 10 ** np.floor(np.log10(x))
        return _plain(x) if np.isclose(mantissa, 2) or np.isclose(mantissa, 5) else ""

    axis.set_major_formatter(FuncFormatter(lambda x, _pos: _plain(x)))
    axis.set_minor_formatter(FuncFormatter(minor))


def _headroom(fig, ax, legend, peak, positive, logy) -> None:
    """Raise the main panel's top so the histograms stay below the legend (whose height,
    in axes units, is only known once the figure is laid out)."""
    box = legend.get_window_extent().transformed(ax.transAxes.inverted())
    free = max(min(box.y0, 0.9), 0.35)  # the fraction of the panel under the legend
    if logy and positive.size and peak > 0:
        bottom = positive.min() / 3
        ax.set_yscale("log")
        ax.set_ylim(bottom, bottom * (peak / bottom) ** (1 / free))
    else:
        ax.set_ylim(0, peak / free if peak > 0 else 1.0)


def plot_comparison(
    histograms: Mapping[str, hist.Hist],
    *,
    reference: str,
    path: str | Path,
    xlabel: str | None = None,
    density: bool = True,
    as_points: Sequence[str] = (),
    title: str | None = None,
    formats: Sequence[str] = ("png", "pdf"),
    logx: bool | None = None,
    logy: bool | None = None,
    bands: Mapping[str, Mapping[str, Component] | Sequence[tuple[str, np.ndarray]]] | None = None,
    ratio_range: tuple[float, float] = (0.5, 1.5),
    style: PlotStyle | str | None = None,
) -> list[Path]:
    """Overlay 1-D histograms with a ratio-to-``reference`` panel; write one file per format.

    Args:
        histograms: ``{label: Hist}``; every histogram has the same single axis.
        reference: Label of the histogram in the ratio's denominator; its uncertainty is
            the band around 1 in the ratio panel.
        path: Output path without suffix; ``.png``/``.pdf`` are appended.
        xlabel: x axis label, ``"symbol [unit]"`` (LaTeX allowed); default the axis label.
        density: Normalize each histogram to ``1/N dN/dx`` (shape comparison); False
            draws the contents as they are (``Events / bin``).
        as_points: Labels drawn as markers with error bars (the measurement) instead of
            lines; each gets its total-uncertainty band.
        title: Legend title (``;`` starts a new line).
        formats: File formats to write.
        logx: Logarithmic x axis; None: when the binning is logarithmic.
        logy: Logarithmic y axis; None: for a log-binned axis whose values span more
            than two decades.
        bands: ``{label: parts}``: the parts of histogram ``label``'s total uncertainty,
            drawn as one band (the parts in quadrature) with each part as lines in the
            ratio panel, all in the legend. ``parts`` is ``{name: Component}`` (per-bin
            variances, a Hist whose variances are the part, or an ``(up, down)`` pair of
            shifted contents) or ``[(name, per-bin absolute error), ...]``. A histogram
            in ``as_points`` or the reference without an entry gets its own variances as
            the band (``"stat."``). The histogram's error bars stay its own variances.
        ratio_range: y range of the ratio panel; points beyond it are arrows at its edge.
        style: A :class:`~hepnnlr.results.style.PlotStyle` or a style name (default CMS
            style, label "Simulation").

    Returns:
        Paths of the files written.
    """
    look = as_plot_style(style)
    # saved inside the style too: tick labels are made when the figure is drawn
    with figure_style(look):
        fig = draw_comparison(
            histograms,
            reference=reference,
            xlabel=xlabel,
            density=density,
            as_points=as_points,
            title=title,
            logx=logx,
            logy=logy,
            bands=bands,
            ratio_range=ratio_range,
            style=look,
        )
        return save_figure(fig, path, formats, dpi=look.dpi)


def save_figure(
    fig: Figure,
    path: str | Path,
    formats: Sequence[str] = ("png", "pdf"),
    *,
    dpi: int | None = None,
) -> list[Path]:
    """Write ``fig`` as ``path`` with each suffix of ``formats`` (parent folders created);
    returns the files written. Raster formats at ``dpi`` (default
    :attr:`PlotStyle.dpi <hepnnlr.results.style.PlotStyle>`, 200)."""
    if isinstance(formats, str):
        raise ConfigError(f"formats={formats!r} must be a sequence of suffixes, e.g. ('png',).")
    dpi = dpi or PlotStyle().dpi
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the tight box once for every format ("tight" in savefig lays the figure out again
    # for each file: a third of the time of a figure)
    fig.draw_without_rendering()
    box = fig.get_tightbbox().padded(0.1)
    written = []
    for fmt in formats:
        out = path.with_suffix(f".{fmt}")
        with atomic_write(out) as tmp:
            fig.savefig(tmp, bbox_inches=box, dpi=dpi, format=fmt)
        written.append(out)
    return written
