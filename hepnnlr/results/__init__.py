"""Results: histograms of weighted events, statistics, ROOT/parquet outputs and plots.

Everything here works on NumPy, awkward and ``hist`` objects; nothing imports TensorFlow.
"""

from __future__ import annotations

from hepnnlr.results.io import read_weights, write_histograms, write_weights
from hepnnlr.results.plots import plot_comparison
from hepnnlr.results.stats import Chi2Result, chi2_test, weighted_mean_and_std

__all__ = [
    "Chi2Result",
    "chi2_test",
    "plot_comparison",
    "read_weights",
    "weighted_mean_and_std",
    "write_histograms",
    "write_weights",
]
