"""Results: histograms of weighted events, statistics, ROOT/parquet outputs and plots.

Everything here works on NumPy, awkward and ``hist`` objects; nothing imports TensorFlow.
"""

from __future__ import annotations

from hepnnlr.results.contours import (
    plot_nll_contours,
    plot_profiles,
)
from hepnnlr.results.io import read_weights, write_histograms, write_weights
from hepnnlr.results.plots import plot_comparison
from hepnnlr.results.stats import (
    Chi2Result,
    chi2_test,
    relative_mse,
    relative_std,
    weighted_mean_and_std,
)
from hepnnlr.results.uncertainties import (
    BinErrors,
    UnfoldedHistogram,
    bin_errors,
    with_uncertainties,
)

__all__ = [
    "bin_errors",
    "BinErrors",
    "chi2_test",
    "Chi2Result",
    "plot_comparison",
    "plot_nll_contours",
    "plot_profiles",
    "read_weights",
    "relative_mse",
    "relative_std",
    "UnfoldedHistogram",
    "weighted_mean_and_std",
    "with_uncertainties",
    "write_histograms",
    "write_weights",
]
