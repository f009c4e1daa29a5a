"""hepnnlr's comparison figure: log axes, units, arrows, legend bands, files and style."""

from __future__ import annotations

import hist
import matplotlib
import numpy as np
import pytest
import uproot
from PIL import Image

from hepnnlr.errors import ConfigError
from hepnnlr.observables.histos import book_dis_histograms
from hepnnlr.results.io import write_histograms
from hepnnlr.results.plots import (
    OUT_OF_RANGE,
    draw_comparison,
    is_log_binned,
    plot_comparison,
    y_label,
)
from hepnnlr.results.style import PlotStyle, figure_style


def _filled(axis, values: np.ndarray) -> hist.Hist:
    """A Weight-storage histogram with the given contents and variance = content."""
    h = hist.Hist(axis, storage=hist.storage.Weight())
    h.view().value = values
    h.view().variance = values
    return h


def _pair(shift: np.ndarray) -> dict[str, hist.Hist]:
    axis = hist.axis.Regular(len(shift), 0.0, 10.0, name="m", label="$m$ [GeV]")
    flat = np.full(len(shift), 100.0)
    return {"ref": _filled(axis, flat), "model": _filled(axis, flat * shift)}


def test_log_binning_is_detected_from_the_axis():
    assert is_log_binned(hist.axis.Regular(20, 100, 5000, transform=hist.axis.transform.log))
    assert is_log_binned(hist.axis.Variable(np.geomspace(1.0, 1e3, 7)))
    assert not is_log_binned(hist.axis.Regular(20, 100, 5000))
    assert not is_log_binned(hist.axis.Variable([0.0, 1.0, 10.0]))  # starts at 0
    assert not is_log_binned(hist.axis.Variable([1.0, 2.0, 3.0]))


def test_axis_labels_carry_units():
    assert y_label("$Q^2$ [GeV$^2$]", True) == r"$1/N\,\mathrm{d}N/\mathrm{d}Q^2$ [1/GeV$^2$]"
    assert y_label(r"$\eta_e$", True) == r"$1/N\,\mathrm{d}N/\mathrm{d}\eta_e$"
    assert y_label(r"$\eta - \eta_e$", True) == r"$1/N\,\mathrm{d}N/\mathrm{d}(\eta - \eta_e)$"
    assert y_label("jet mass [GeV]", True) == r"$1/N\,\mathrm{d}N/\mathrm{d}x$ [1/GeV]"
    assert y_label("$Q^2$ [GeV$^2$]", False) == "Events / bin"


def test_out_of_range_ratio_points_are_arrows_at_the_panel_edge():
    # bins 1 and 3 are 2x and 0.2x the reference (outside 0.5-1.5), the others inside
    shift = np.array([1.0, 2.0, 1.1, 0.2, 0.9])
    fig = draw_comparison(_pair(shift), reference="ref", density=False, style="none")
    ax, rax = fig.axes
    arrows = [t for t in rax.texts if t.get_gid() == OUT_OF_RANGE]
    assert len(arrows) == 2
    # the tip (xy) sits on the edge the point lies beyond, at the bin's center
    tips = sorted((a.xy for a in arrows), key=lambda xy: xy[0])
    assert tips == [(pytest.approx(3.0), 1.5), (pytest.approx(7.0), 0.5)]
    assert not [t for t in ax.texts if t.get_gid() == OUT_OF_RANGE]


def test_every_band_and_part_is_in_the_legend():
    shift = np.array([1.0, 1.05, 0.95, 1.0])
    histograms = _pair(shift)
    nominal = histograms["model"].values()
    bands = {
        "model": {
            "stat": np.full(4, 4.0),  # variances
            "bootstrap": histograms["model"],  # a Hist whose variances are the part
            "method": (nominal * 1.02, nominal * 0.97),  # up/down shifted contents
        }
    }
    fig = draw_comparison(
        histograms, reference="ref", as_points=("model",), bands=bands, style="none"
    )
    ax, rax = fig.axes
    entries = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "ref (stat.)" in entries
    assert r"model (total: stat $\oplus$ bootstrap $\oplus$ method)" in entries
    assert {"  part: stat", "  part: bootstrap", "  part: method"} <= set(entries)
    # the total band's upper edge in the ratio panel: sqrt(4 + value + (0.02 value)^2)
    value = nominal[1]
    expected = (value + np.sqrt(4 + value + (0.02 * value) ** 2)) / 100
    tops = [p for p in rax.patches if np.isclose(p.get_path().vertices[:, 1].max(), expected)]
    assert tops, "no band of the total uncertainty in the ratio panel"


def test_bands_name_an_unknown_histogram():
    with pytest.raises(ConfigError, match="bands names \\['nope'\\]"):
        draw_comparison(_pair(np.ones(3)), reference="ref", bands={"nope": {}}, style="none")


def test_files_are_png_at_200_dpi_and_pdf(tmp_path):
    written = plot_comparison(_pair(np.ones(3)), reference="ref", path=tmp_path / "m")
    assert [p.suffix for p in written] == [".png", ".pdf"]
    with Image.open(written[0]) as png:
        assert png.info["dpi"] == pytest.approx((200, 200), abs=0.5)
    assert written[1].read_bytes().startswith(b"%PDF")


def test_styles_leave_the_users_rcparams_untouched():
    before = dict(matplotlib.rcParams)
    with matplotlib.rc_context({"font.size": 7.0}):
        fig = draw_comparison(_pair(np.ones(3)), reference="ref", style="none")
        # "none": the user's own settings draw the figure
        assert fig.axes[1].xaxis.label.get_fontsize() == 7.0
        with figure_style("cms"):
            assert matplotlib.rcParams["font.size"] != 7.0
        assert matplotlib.rcParams["font.size"] == 7.0
    assert dict(matplotlib.rcParams) == before
    with pytest.raises(ConfigError, match="style='root'"):
        PlotStyle(style="root")


def test_redrawn_from_the_saved_histograms(tmp_path):
    # the run's own booking (Q2 on a log-transformed axis), written as a run writes it
    rng = np.random.default_rng(3)
    q2 = 100.0 * rng.pareto(1.0, 2000) + 100.0  # falls as 1/Q^2: two decades of content
    groups = {}
    for group in ("data_truth", "unfolded"):
        h = book_dis_histograms("gen")["Q2"]
        h.fill(q2, weight=np.ones_like(q2))
        groups[group] = {"Q2": h}
    path = write_histograms(tmp_path / "histograms.root", groups)
    with uproot.open(path) as f:
        saved = {g: f[f"{g}/Q2"].to_hist() for g in groups}
    # ROOT keeps the edges and the title, not the transform: the log is found from the edges
    fig = draw_comparison(saved, reference="data_truth", as_points=("unfolded",), style="cms")
    ax, rax = fig.axes
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert rax.get_xlabel() == "$Q^2$ [GeV$^2$]"
    assert ax.get_ylabel().endswith("[1/GeV$^2$]")
    assert "hepnnlr" in [t.get_text() for t in ax.texts]  # the mplhep label above the frame
    # 150-5000 GeV2: plain numbers at 1, 2 and 5 x 10^n, no overlapping 3x10^2-style labels
    minor = rax.xaxis.get_minor_formatter()
    assert [minor(x, 0) for x in (200.0, 300.0, 500.0, 2000.0)] == ["200", "", "500", "2000"]
    assert rax.xaxis.get_major_formatter()(1000.0, 0) == "1000"
