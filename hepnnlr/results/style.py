"""One look for every figure hepnnlr draws: an mplhep experiment-like style and label.

A figure is drawn inside :func:`figure_style`, which applies the style's rcParams only for
the ``with`` block (``matplotlib.style.context``), so a user's own rcParams are untouched
before and after; :func:`experiment_label` writes the mplhep label (bold ``experiment``,
italic ``label``) above the top-left corner of an Axes. The label's text is the user's: the
default experiment text is ``"hepnnlr"``, not the name of a collaboration, since a figure
carries a collaboration's name only when that collaboration approved it.

Example::

    from hepnnlr.results.style import PlotStyle, figure_style, experiment_label

    look = PlotStyle(style="atlas", label="Pseudo-data")
    with figure_style(look):
        fig = Figure()
        ax = fig.subplots()
        ...
        experiment_label(ax, look)
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import matplotlib.style
import mplhep

from hepnnlr.errors import ConfigError

__all__ = [
    "DEFAULT_STYLE",
    "STYLES",
    "PlotStyle",
    "as_plot_style",
    "experiment_label",
    "figure_style",
    "in_default_style",
    "styled",
]

#: The mplhep style of each ``style=`` name; ``"none"`` keeps matplotlib's current rcParams.
STYLES: dict[str, Any] = {
    "cms": mplhep.style.CMS,
    "atlas": mplhep.style.ATLAS,
    "lhcb": mplhep.style.LHCb2,
    "alice": mplhep.style.ALICE,
    "none": None,
}
#: The style of a figure when none is given.
DEFAULT_STYLE = "cms"


@dataclass(frozen=True)
class PlotStyle:
    """How a hepnnlr figure looks.

    Attributes:
        style: ``"cms"``, ``"atlas"``, ``"lhcb"``, ``"alice"`` (the mplhep style of that
            name) or ``"none"`` (matplotlib's current rcParams, no style applied).
        label: The italic label text after ``experiment`` (``"Simulation"``,
            ``"Pseudo-data"``, ``"Preliminary"``, ...); ``""`` for none.
        experiment: The bold text of the label; ``""`` draws no label at all.
        rlabel: Text above the top-right corner (e.g. ``"ep, 318 GeV"``); ``""`` for none.
        dpi: Resolution of the raster (PNG) files written.
    """

    style: str = DEFAULT_STYLE
    label: str = "Simulation"
    experiment: str = "hepnnlr"
    rlabel: str = ""
    dpi: int = 200

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ConfigError(
                f"style={self.style!r} is not a plot style; use one of {sorted(STYLES)}."
            )
        for name in ("label", "experiment", "rlabel"):
            if not isinstance(getattr(self, name), str):
                raise ConfigError(
                    f"PlotStyle.{name}={getattr(self, name)!r} must be a string ('' for none)."
                )
        if not isinstance(self.dpi, int) or self.dpi < 72:
            raise ConfigError(f"PlotStyle.dpi={self.dpi!r} must be an integer of at least 72.")


def as_plot_style(style: PlotStyle | str | None) -> PlotStyle:
    """``style`` as a :class:`PlotStyle`: a name (``"cms"``, ...) takes the default label;
    None is the default style."""
    if style is None:
        return PlotStyle()
    if isinstance(style, PlotStyle):
        return style
    if isinstance(style, str):
        return PlotStyle(style=style)
    raise ConfigError(f"style={style!r} must be a PlotStyle or one of the names {sorted(STYLES)}.")


@contextlib.contextmanager
def figure_style(style: PlotStyle | str | None = None) -> Iterator[PlotStyle]:
    """Apply ``style``'s rcParams for the block only; yields the :class:`PlotStyle`.

    ``matplotlib.style.context`` restores every rcParam it changed when the block exits
    (normally or by an exception); with ``"none"`` nothing is changed.
    """
    look = as_plot_style(style)
    rc = STYLES[look.style]
    if rc is None:
        yield look
        return
    with matplotlib.style.context(rc):
        yield look


def experiment_label(ax, style: PlotStyle | str | None = None) -> None:
    """Write the label of ``style`` above ``ax`` (mplhep ``exp_label``, outside the frame
    so it never hides data): bold ``experiment``, italic ``label``, ``rlabel`` on the right.
    """
    look = as_plot_style(style)
    if not look.experiment:
        return
    # data=True: mplhep would otherwise prepend its own "Simulation" to the user's text.
    mplhep.label.exp_label(
        exp=look.experiment, text=look.label, data=True, loc=0, rlabel=look.rlabel, ax=ax
    )


def styled(function: Callable) -> Callable:
    """Decorate a figure-drawing function that takes ``style=`` (a :class:`PlotStyle`, a
    name or None): it runs inside :func:`figure_style` of that style."""

    @functools.wraps(function)
    def draw(*args, style: PlotStyle | str | None = None, **kwargs):
        with figure_style(style) as look:
            return function(*args, style=look, **kwargs)

    return draw


def in_default_style(function: Callable) -> Callable:
    """Decorate a figure-drawing function without a ``style=`` argument (a workflow's
    diagnostic plots): it draws and saves inside :func:`figure_style` of the default style."""

    @functools.wraps(function)
    def draw(*args, **kwargs):
        with figure_style(None):
            return function(*args, **kwargs)

    return draw
