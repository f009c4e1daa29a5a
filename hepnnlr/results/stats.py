"""Statistics on weighted samples and histograms."""

from __future__ import annotations

from dataclasses import dataclass

import hist
import numpy as np
from scipy import stats as _stats

from hepnnlr.errors import EmptySelectionError, ShapeMismatchError
from hepnnlr.weighted import kish_effective_size, weighted_mean_and_std

__all__ = [
    "Chi2Result",
    "chi2_test",
    "kish_effective_size",  # re-exported from hepnnlr.weighted
    "relative_mse",
    "relative_std",
    "weighted_mean_and_std",  # re-exported from hepnnlr.weighted
]


@dataclass(frozen=True)
class Chi2Result:
    """Result of :func:`chi2_test`: ``chi2`` over ``ndof`` bins and its p-value."""

    chi2: float
    ndof: int
    pvalue: float


def chi2_test(
    a: hist.Hist, b: hist.Hist, *, normalize: bool = False, min_entries: float = 0.0
) -> Chi2Result:
    """Compare two ``Weight``-storage histograms bin by bin with their variances.

    ``chi2 = sum_i (a_i - b_i)^2 / (var_a_i + var_b_i)`` over bins (flow bins excluded)
    where the summed variance is positive and both contents exceed ``min_entries``.

    Args:
        a, b: Histograms with the same axes and ``Weight`` storage.
        normalize: Compare shapes: scale ``b`` (and its variance) to the total of ``a``.
        min_entries: Skip bins where either content is at or below this (a chi2 needs
            roughly Gaussian bins).
    """
    if a.axes != b.axes:
        raise ShapeMismatchError("chi2_test needs histograms with identical axes.")
    va, vb = a.values(), b.values()
    ea, eb = a.variances(), b.variances()
    if ea is None or eb is None:
        raise ShapeMismatchError(
            "chi2_test needs variances: fill the histograms with storage=hist.storage.Weight()."
        )
    if normalize:
        scale = va.sum() / vb.sum()
        vb, eb = vb * scale, eb * scale**2
    use = (ea + eb > 0) & (va > min_entries) & (vb > min_entries)
    if not use.any():
        raise EmptySelectionError("chi2_test: no bin has entries in both histograms.")
    chi2 = float(((va - vb)[use] ** 2 / (ea + eb)[use]).sum())
    ndof = int(use.sum()) - (1 if normalize else 0)
    return Chi2Result(chi2, ndof, float(_stats.chi2.sf(chi2, ndof)))


def relative_mse(truth: np.ndarray, passes: np.ndarray) -> np.ndarray:
    """Relative mean-squared error per bin, Eq. 4 of Torales Acosta, Wamorkar,
    Mikuni, Nachman, "Stabilizing Neural Likelihood Ratio Estimation", arXiv:2503.20753.

    ``MSE_rel = (1/N) sum_i (x - xhat_i)^2 / x`` with ``x`` the truth histogram values and
    ``xhat_i`` the unfolded values of full pass ``i`` (``passes``: ``(N, bins)``). Bins
    with no truth entries give NaN (the ratio is undefined there).
    """
    truth = np.asarray(truth, float)
    passes = np.atleast_2d(np.asarray(passes, float))
    if passes.shape[1:] != truth.shape:
        raise ShapeMismatchError(
            f"relative_mse: passes of shape {passes.shape} do not match truth {truth.shape}."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(truth > 0, ((passes - truth) ** 2).mean(axis=0) / truth, np.nan)


def relative_std(passes: np.ndarray) -> np.ndarray:
    """Relative standard deviation per bin over full passes, Eq. 5 of arXiv:2503.20753.

    ``sigma_rel = sqrt((1/N) sum_i (xhat_i - mean)^2) / mean``; NaN where the mean is 0.
    """
    passes = np.atleast_2d(np.asarray(passes, float))
    mean = passes.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mean != 0, passes.std(axis=0) / mean, np.nan)
