"""Calibration of a fit: fitted against true values over targets of known θ.

A calibration curve fits ``n`` independent targets generated at known values ``x_i`` and
compares the fitted values ``y_i ± σ_i`` with them (docs/fits.md, ``hepnnlr fit …
--calibrate``). Two summaries, NumPy only:

* :func:`fit_line`: the weighted least-squares line

    y_i − x_0 = offset + slope · (x_i − x_0),
    χ² = Σ_i [y_i − x_0 − offset − slope (x_i − x_0)]² / σ_i²,

  with the pivot ``x_0`` the error-weighted mean of the ``x_i`` (by default), where the
  slope and the offset are uncorrelated: ``offset`` is the bias of the fit at ``x_0``.
  With ``S = Σ 1/σ_i²`` and ``D = Σ (x_i − x_0)²/σ_i²`` the errors are
  ``σ_offset = 1/√S`` and ``σ_slope = 1/√D`` (the inverse of the normal matrix, not
  rescaled by χ²/ndf; a χ²/ndf far from 1 says the quoted σ_i are wrong). An unbiased,
  correctly calibrated fit has slope 1 and offset 0. Errors the points share (every
  target fitted with the same simulation) enter as a covariance ``C``: the generalized
  least-squares line with ``V = diag(σ_i²) + C``, ``χ² = rᵀ V⁻¹ r``.
* :func:`pulls`: ``p_i = (y_i − x_i)/σ_i`` against the truth (not the fitted line): their
  mean (error ``s/√n``) and standard deviation ``s`` (ddof = 1; error ``s/√(2(n − 1))``, the
  Gaussian large-sample form). Quoted errors that are right give mean 0 and width 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hepnnlr.errors import ConfigError, ShapeMismatchError

__all__ = ["LineFit", "PullSummary", "calibration_table", "fit_line", "pulls"]


@dataclass(frozen=True)
class LineFit:
    """The weighted straight line ``y − x_0 = offset + slope (x − x_0)`` (module docstring).

    Attributes:
        slope, slope_error: The slope and its error (1/√D).
        offset, offset_error: The bias ``y − x`` of the line at ``pivot`` and its error.
        pivot: ``x_0``.
        covariance: 2 × 2 covariance of (offset, slope) (diagonal at the default pivot).
        chi2, ndf: χ² of the points about the line and ``n − 2``.
    """

    slope: float
    slope_error: float
    offset: float
    offset_error: float
    pivot: float
    covariance: tuple[tuple[float, float], tuple[float, float]]
    chi2: float
    ndf: int

    @property
    def slope_pull(self) -> float:
        """``(slope − 1)/σ_slope``: how many errors the slope lies from 1."""
        return (self.slope - 1.0) / self.slope_error

    @property
    def offset_pull(self) -> float:
        """``offset/σ_offset``: how many errors the bias at the pivot lies from 0."""
        return self.offset / self.offset_error

    def predict(self, x: np.ndarray | float) -> np.ndarray:
        """The line's fitted value at the true value(s) ``x``."""
        x = np.asarray(x, float)
        return x + self.offset + (self.slope - 1.0) * (x - self.pivot)

    def to_dict(self) -> dict[str, object]:
        return {
            "slope": self.slope,
            "slope_error": self.slope_error,
            "slope_pull": self.slope_pull,
            "offset": self.offset,
            "offset_error": self.offset_error,
            "offset_pull": self.offset_pull,
            "pivot": self.pivot,
            "covariance": [list(r) for r in self.covariance],
            "chi2": self.chi2,
            "ndf": self.ndf,
        }


@dataclass(frozen=True)
class PullSummary:
    """Mean and width of the pulls ``(y − x)/σ`` with their errors (module docstring)."""

    values: tuple[float, ...]
    mean: float
    mean_error: float
    width: float
    width_error: float

    def to_dict(self) -> dict[str, object]:
        return {
            "values": list(self.values),
            "mean": self.mean,
            "mean_error": self.mean_error,
            "width": self.width,
            "width_error": self.width_error,
        }


def _checked(true, fitted, sigma) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y, s = (np.asarray(a, float) for a in (true, fitted, sigma))
    if not x.ndim == y.ndim == s.ndim == 1 or not len(x) == len(y) == len(s):
        raise ShapeMismatchError(
            f"calibration: true {x.shape}, fitted {y.shape} and sigma {s.shape} must be "
            "1-D arrays of one entry per target."
        )
    if not (np.isfinite(x).all() and np.isfinite(y).all() and np.isfinite(s).all()):
        raise ConfigError(
            "calibration: a true value, fitted value or error is not finite "
            f"(true {x.tolist()}, fitted {y.tolist()}, sigma {s.tolist()}); check the fits."
        )
    if (s <= 0).any():
        raise ConfigError(
            f"calibration: every error must be > 0, got sigma = {s.tolist()}; a fit without "
            "an error (no replicas and one repeat) cannot enter a calibration."
        )
    return x, y, s


def fit_line(
    true: Sequence[float],
    fitted: Sequence[float],
    sigma: Sequence[float],
    pivot: float | None = None,
    correlated: np.ndarray | None = None,
) -> LineFit:
    """The weighted straight line of fitted against true values (module docstring).

    Args:
        true, fitted, sigma: ``(n,)`` true values, fitted values and the fitted values'
            independent errors; at least 3 points at two or more distinct true values.
        pivot: ``x_0`` (default: the weighted mean of ``true``, with the weights
            ``V⁻¹ 1``, where slope and offset are uncorrelated).
        correlated: ``(n, n)`` covariance of an error the points share (the targets
            fitted with the same simulation): the fit is then the generalized least
            squares one with ``V = diag(σ²) + correlated`` and χ² = rᵀ V⁻¹ r.
    """
    x, y, s = _checked(true, fitted, sigma)
    if len(x) < 3 or np.ptp(x) == 0:
        raise ConfigError(
            f"fit_line: need at least 3 targets at distinct true values, got {x.tolist()}; "
            "raise calibration.points."
        )
    V = np.diag(s**2)
    if correlated is not None:
        correlated = np.asarray(correlated, float)
        if correlated.shape != V.shape or not np.isfinite(correlated).all():
            raise ShapeMismatchError(
                f"fit_line: correlated must be a finite ({len(x)}, {len(x)}) covariance, "
                f"got shape {correlated.shape}."
            )
        V = V + correlated
    inverse = np.linalg.inv(V)
    ones = np.ones_like(x)
    x0 = float(ones @ inverse @ x / (ones @ inverse @ ones)) if pivot is None else float(pivot)
    design = np.column_stack([ones, x - x0])
    covariance = np.linalg.inv(design.T @ inverse @ design)
    offset, slope = covariance @ design.T @ inverse @ (y - x0)
    residual = y - x0 - design @ np.array([offset, slope])
    chi2 = float(residual @ inverse @ residual)
    return LineFit(
        float(slope),
        float(np.sqrt(covariance[1, 1])),
        float(offset),
        float(np.sqrt(covariance[0, 0])),
        x0,
        tuple(tuple(float(c) for c in row) for row in covariance),
        chi2,
        len(x) - 2,
    )


def pulls(true: Sequence[float], fitted: Sequence[float], sigma: Sequence[float]) -> PullSummary:
    """The pulls ``(fitted − true)/σ`` and their mean and width (module docstring)."""
    x, y, s = _checked(true, fitted, sigma)
    if len(x) < 2:
        raise ConfigError(f"pulls: need at least 2 targets, got {len(x)}.")
    p = (y - x) / s
    n, width = len(p), float(p.std(ddof=1))
    return PullSummary(
        tuple(float(v) for v in p),
        float(p.mean()),
        width / np.sqrt(n),
        width,
        width / np.sqrt(2 * (n - 1)),
    )


def calibration_table(
    name: str,
    true: Sequence[float],
    fitted: Sequence[float],
    sigma: Sequence[float],
    line: LineFit,
    pull: PullSummary,
) -> list[str]:
    """The printed table: one row per target, then the line and the pulls."""
    rows = [f"  {'true ' + name:>16}{'fitted':>14}{'sigma':>12}{'pull':>9}"]
    for x, y, s, p in zip(true, fitted, sigma, pull.values, strict=True):
        rows.append(f"  {x:>16.6g}{y:>14.6g}{s:>12.4g}{p:>9.2f}")
    rows.append(
        f"  slope {line.slope:.4f} ± {line.slope_error:.4f} ({line.slope_pull:+.2f} σ from 1); "
        f"offset at {line.pivot:.5g}: {line.offset:.4g} ± {line.offset_error:.4g} "
        f"({line.offset_pull:+.2f} σ from 0); χ²/ndf = {line.chi2:.2f}/{line.ndf}"
    )
    rows.append(
        f"  pulls: mean {pull.mean:+.2f} ± {pull.mean_error:.2f}, "
        f"width {pull.width:.2f} ± {pull.width_error:.2f}"
    )
    return rows
