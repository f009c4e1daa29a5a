"""Unfolded histograms whose variances carry the statistical and the method uncertainty.

The statistical uncertainty of an unfolded bin is the spread of that bin over bootstrap
replicas of the data (:func:`hepnnlr.methods.bootstrap_omnifold`); the method (model)
uncertainty is the spread over independent runs with other training seeds
(:func:`hepnnlr.methods.parallel_omnifold`). They are independent, so the histogram's
variance is their sum; both are also returned apart.

:func:`bin_errors` gives the per-bin numbers that ``hepnnlr unfold`` reports
(:class:`BinErrors`: value, stat, method, total). Replica ``b`` retrains with the seeds of
run ``m(b)``, so its statistical shift is ``d_b = h_b − h_{m(b)}`` bin by bin, and

* stat: ``σ_stat = sqrt(Σ_b (d_b − d̄)² / (B − 1))``;
* method: ``σ_method = sqrt(Σ_m (h_m − h̄)² / (M − 1))`` over the runs (one run's spread;
  the mean of ``M`` runs is steadier by ``√M``, :attr:`BinErrors.method_of_mean`);
* total: ``sqrt(σ_stat² + σ_method²)`` of the parts there are,

as :mod:`hepnnlr.results.fit_errors` defines them for the fitted parameters of
``hepnnlr fit``.
"""

from __future__ import annotations

from dataclasses import dataclass

import hist
import numpy as np

from hepnnlr.errors import ConfigError, ShapeMismatchError

__all__ = ["BinErrors", "UnfoldedHistogram", "bin_errors", "with_errors", "with_uncertainties"]


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


@dataclass(frozen=True)
class BinErrors:
    """Per-bin value and uncertainties of one unfolded 1-D histogram (no flow bins).

    Attributes:
        edges: ``(bins + 1,)`` bin edges.
        value: ``(bins,)`` the unfolded (aggregated) content.
        stat: ``(bins,)`` spread of the bootstrap replicas' shifts (None: no replicas).
        method: ``(bins,)`` spread of the runs with other training seeds (None: one run).
        repeats: Runs (training seeds).
        replicas: Bootstrap replicas of the data.
    """

    edges: np.ndarray
    value: np.ndarray
    stat: np.ndarray | None
    method: np.ndarray | None
    repeats: int
    replicas: int

    @property
    def total(self) -> np.ndarray | None:
        """The components there are, in quadrature per bin (None: none)."""
        parts = [p for p in (self.stat, self.method) if p is not None]
        return np.sqrt(sum(p**2 for p in parts)) if parts else None

    @property
    def method_of_mean(self) -> np.ndarray | None:
        """``σ_method / √M``: the training noise left in the mean of the runs."""
        return None if self.method is None else self.method / np.sqrt(self.repeats)

    def median_relative(self, component: str) -> float | None:
        """Median over the filled bins of ``component / value`` (``stat``, ``method``,
        ``total``); None where the component was not computed or no bin is filled."""
        error = getattr(self, component)
        filled = self.value > 0
        if error is None or not filled.any():
            return None
        return float(np.median(error[filled] / self.value[filled]))

    def to_dict(self) -> dict[str, object]:
        """JSON-ready lists (None for a component not computed)."""

        def listed(a):
            return None if a is None else [float(v) for v in a]

        return {
            "edges": listed(self.edges),
            "value": listed(self.value),
            "stat": listed(self.stat),
            "method": listed(self.method),
            "total": listed(self.total),
            "method_of_mean": listed(self.method_of_mean),
            "repeats": self.repeats,
            "replicas": self.replicas,
            "median_relative": {c: self.median_relative(c) for c in ("stat", "method", "total")},
        }


def bin_errors(
    central: hist.Hist,
    *,
    repeats: np.ndarray | None = None,
    replicas: np.ndarray | None = None,
    replica_reference: np.ndarray | None = None,
) -> BinErrors:
    """Value, stat, method and total per bin of ``central`` (see the module docstring).

    Args:
        central: The unfolded 1-D histogram (its values are ``value``).
        repeats: ``(M, bins)`` contents of the runs with other training seeds; a spread
            needs ``M >= 2`` (fewer: ``method`` is None).
        replicas: ``(B, bins)`` contents of the bootstrap replicas (``B >= 2``).
        replica_reference: ``(B, bins)`` contents of the run each replica retrained with
            the seeds of (default: none subtracted, for replicas sharing one seed).
    """
    if len(central.axes) != 1:
        raise ConfigError(
            f"bin_errors takes 1-D histograms; got {len(central.axes)} axes. Project first "
            "(h.project(axis))."
        )
    shape = central.values().shape
    n_repeats = 0 if repeats is None else len(np.asarray(repeats))
    method = None
    if n_repeats >= 2:
        method = _spread(repeats, shape, "repeats")
    stat, n_replicas = None, 0
    if replicas is not None:
        shifts = np.asarray(replicas, float)
        n_replicas = len(shifts)
        if replica_reference is not None:
            reference = np.asarray(replica_reference, float)
            if reference.shape != shifts.shape:
                raise ShapeMismatchError(
                    f"replica_reference has shape {reference.shape} but replicas "
                    f"{shifts.shape}; give one reference row per replica."
                )
            shifts = shifts - reference
        stat = _spread(shifts, shape, "replicas")
    return BinErrors(
        np.asarray(central.axes[0].edges, float),
        np.asarray(central.values(), float),
        stat,
        method,
        max(n_repeats, 1),
        n_replicas,
    )


def with_errors(central: hist.Hist, errors: np.ndarray | None) -> hist.Hist:
    """A copy of ``central`` whose variance is ``errors²`` (unchanged where None)."""
    out = central.copy()
    if errors is not None:
        out.view().variance = np.asarray(errors, float) ** 2
    return out
