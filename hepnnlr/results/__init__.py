"""Results: histograms of weighted events, statistics, ROOT/parquet outputs and plots.

Everything here works on NumPy, awkward and ``hist`` objects; nothing imports TensorFlow.
"""

from __future__ import annotations

from hepnnlr._lazy import attach

# defining module -> public names; each module is imported on first use of a name
_EXPORTS = {
    "hepnnlr.results.contours": ("plot_nll_contours", "plot_profiles"),
    "hepnnlr.results.hist_layout": (
        "read_region_histograms",
        "stack_variations",
        "write_region_histograms",
    ),
    "hepnnlr.results.io": ("read_weights", "write_histograms", "write_weights"),
    "hepnnlr.results.plots": ("plot_comparison",),
    "hepnnlr.results.style": ("PlotStyle",),
    "hepnnlr.results.stats": (
        "Chi2Result",
        "chi2_test",
        "relative_mse",
        "relative_std",
        "weighted_mean_and_std",
    ),
    "hepnnlr.results.uncertainties": (
        "BinErrors",
        "UnfoldedHistogram",
        "bin_errors",
        "with_uncertainties",
    ),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
