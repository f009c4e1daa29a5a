"""Unfolded histograms whose variances carry the statistical and the model uncertainty.

The statistical uncertainty of an unfolded bin is the spread of that bin over bootstrap
replicas of the data (:func:`hepnnlr.methods.bootstrap_omnifold`); the model uncertainty
is the spread over ensemble members or independent runs
(:func:`hepnnlr.methods.parallel_omnifold`). They are independent, so the histogram's
variance is their sum; both are also returned apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import hist
import numpy as np

from hepnnlr.errors import ConfigError, ShapeMismatchError

__all__ = ["UnfoldedHistogram", "with_uncertainties"]


@dataclass
class UnfoldedHistogram:
    """An unfolded histogram and its uncertainty components (per bin, no flow bins)."""

    histogram: hist.Hist
    statistical: np.ndarray
    model: np.ndarray


def _spread(passes: np.ndarray | None, shape: tuple[int, ...], what: str) -> np.ndarray:
    if passes is None:
        return np.zeros(shape)
    passes = np.asarray(passes, float)
    if passes.ndim != 1 + len(shape) or passes.shape[1:] != shape:
        raise ShapeMismatchError(
            f"{what} must be (passes, *bins) = (N, {', '.join(map(str, shape))}); got "
            f"{passes.shape}."
        )
    if len(passes) < 2:
        raise ConfigError(f"{what}: a spread needs at least two passes, got {len(passes)}.")
    return passes.std(axis=0, ddof=1)


def with_uncertainties(
    central: hist.Hist,
    *,
    bootstrap: np.ndarray | None = None,
    members: np.ndarray | None = None,
) -> UnfoldedHistogram:
    """Copy ``central`` with variance = statistical² + model² in every bin.

    Args:
        central: The unfolded histogram (``Weight`` storage).
        bootstrap: ``(replicas, *bins)`` bin contents of bootstrap replicas.
        members: ``(members, *bins)`` bin contents of ensemble members or runs.
    """
    if central.storage_type is not hist.storage.Weight:
        raise ConfigError("with_uncertainties needs a histogram with Weight storage.")
    shape = central.values().shape
    statistical = _spread(bootstrap, shape, "bootstrap")
    model = _spread(members, shape, "members")
    out = central.copy()
    out.view().variance = statistical**2 + model**2
    return UnfoldedHistogram(out, statistical, model)
