"""Results: histograms of weighted events, statistics, ROOT/parquet outputs and plots.

Everything here works on NumPy, awkward and ``hist`` objects; nothing imports TensorFlow.
"""

from __future__ import annotations

from hepnnlr.results.io import read_weights, write_histograms, write_weights
from hepnnlr.results.plots import plot_comparison
from hepnnlr.results.stats import (
    Chi2Result,
    chi2_test,
    relative_mse,
    relative_std,
    weighted_mean_and_std,
)
from hepnnlr.results.uncertainties import UnfoldedHistogram, with_uncertainties

__all__ = [
    "Chi2Result",
    "UnfoldedHistogram",
    "chi2_test",
    "plot_comparison",
    "read_weights",
    "relative_mse",
    "relative_std",
    "weighted_mean_and_std",
    "write_histograms",
    "with_uncertainties",
    "write_weights",
]
