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
* :func:`pulls`: ``p_i = (y_i − x_i)/σ_i`` against the truth (not the fitted line). Where
  the points share errors (covariance ``C``: the same simulation and the same trained
  reweighters fit every target), the residuals ``r = y − x`` have the covariance
  ``V = diag(σ_i²) + C``; a shared error moves the points together and cannot scatter
  them, so pulls divided by their own errors come out narrow. The summary is then taken
  over the *decorrelated* pulls ``q = L⁻¹ r`` (``V = L Lᵀ``, Cholesky, in the order of the
  targets), which are independent with unit variance when ``V`` is right
  (``Σ q_i² = rᵀ V⁻¹ r`` ~ χ²_n); without ``C`` they are the pulls themselves. Their
  mean (error ``s/√n``) and standard deviation ``s`` (ddof = 1). The width's error is
  the spread a unit width would show, ``1/√(2(n − 1))`` (not ``s/√(2(n − 1))``, which
  shrinks with the observed width and makes a narrow one look significant), and the
  judgement is exact for Gaussian pulls: ``(n − 1) s²`` ~ χ²_{n−1} gives the two-sided
  probability of a width this far from 1 and a 68 % interval for the true width.
  Quoted errors that are right give mean 0 and width 1.
* :func:`training_covariance`: ``C`` of the repeats' training noise. Target ``k``'s value is
  the mean of its ``M_k`` kept repeats; repeat ``m`` fits every target with the same
  network, so its noise is correlated between targets:
  ``C_kl = ρ_kl σ_k σ_l |K_k ∩ K_l| / (M_k M_l)``, with ``σ_k`` the method spread of target
  ``k`` over its kept repeats ``K_k`` and ``ρ`` the correlation of the repeats' values
  over the repeats kept at every target. ``C_kk = σ_k²/M_k``, and ``C`` is positive
  semi-definite (a Schur product of two Gram matrices).

NumPy, and scipy for the χ² distribution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hepnnlr.errors import ConfigError, ShapeMismatchError

__all__ = [
    "LineFit",
    "PullSummary",
    "calibration_table",
    "fit_line",
    "pulls",
    "shared_errors",
    "training_covariance",
]


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
    """The pulls ``(y − x)/σ`` and the mean and width of the decorrelated ones (module
    docstring).

    Attributes:
        values: Each target's pull ``r_i / √V_ii`` (its whole error, shared parts included).
        mean, mean_error: Mean of the decorrelated pulls and ``s/√n``.
        width, width_error: Their standard deviation ``s`` and ``1/√(2(n − 1))``, the
            spread of ``s`` when the errors are right.
        width_interval: 68 % interval of the true width from ``(n − 1) s²/w²`` ~ χ²_{n−1}.
        width_p_value: Two-sided probability of a width at least this far from 1 (in the
            χ² sense) if the errors are right.
        chi2: ``rᵀ V⁻¹ r`` about the truth, with ``n`` degrees of freedom.
        decorrelated: Whether shared errors entered (``V`` not diagonal).
    """

    values: tuple[float, ...]
    mean: float
    mean_error: float
    width: float
    width_error: float
    width_interval: tuple[float, float] = (float("nan"), float("nan"))
    width_p_value: float = float("nan")
    chi2: float = float("nan")
    decorrelated: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "values": list(self.values),
            "mean": self.mean,
            "mean_error": self.mean_error,
            "width": self.width,
            "width_error": self.width_error,
            "width_interval": list(self.width_interval),
            "width_p_value": self.width_p_value,
            "chi2": self.chi2,
            "ndf": len(self.values),
            "decorrelated": self.decorrelated,
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
    V = _covariance(s, correlated, "fit_line")
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


def _covariance(sigma: np.ndarray, correlated: np.ndarray | None, where: str) -> np.ndarray:
    V = np.diag(sigma**2)
    if correlated is None:
        return V
    correlated = np.asarray(correlated, float)
    if correlated.shape != V.shape or not np.isfinite(correlated).all():
        raise ShapeMismatchError(
            f"{where}: correlated must be a finite ({len(sigma)}, {len(sigma)}) covariance, "
            f"got shape {correlated.shape}."
        )
    return V + correlated


def pulls(
    true: Sequence[float],
    fitted: Sequence[float],
    sigma: Sequence[float],
    correlated: np.ndarray | None = None,
) -> PullSummary:
    """The pulls against the truth, decorrelated where the points share errors (module
    docstring).

    Args:
        true, fitted, sigma: ``(n,)`` true values, fitted values, independent errors.
        correlated: ``(n, n)`` covariance the points share (as :func:`fit_line`).
    """
    from scipy import stats

    x, y, s = _checked(true, fitted, sigma)
    n = len(x)
    if n < 2:
        raise ConfigError(f"pulls: need at least 2 targets, got {n}.")
    V = _covariance(s, correlated, "pulls")
    r = y - x
    try:
        q = np.linalg.solve(np.linalg.cholesky(V), r)
    except np.linalg.LinAlgError as error:
        raise ConfigError(
            "pulls: the covariance diag(sigma²) + correlated is not positive definite; "
            "pass a covariance matrix (symmetric, positive semi-definite) as correlated."
        ) from error
    width = float(q.std(ddof=1))
    statistic = (n - 1) * width**2
    below = float(stats.chi2.cdf(statistic, n - 1))
    low, high = stats.chi2.ppf([0.84134, 0.15866], n - 1)
    return PullSummary(
        tuple(float(v) for v in r / np.sqrt(np.diag(V))),
        float(q.mean()),
        width / np.sqrt(n),
        width,
        1.0 / np.sqrt(2 * (n - 1)),
        (float(np.sqrt(statistic / low)), float(np.sqrt(statistic / high))),
        float(min(1.0, 2 * min(below, 1 - below))),
        float(q @ q),
        correlated is not None and bool(np.any(np.asarray(correlated) != 0)),
    )


def training_covariance(values: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """The covariance between targets of their values' training noise (module docstring).

    Args:
        values: ``(n, M)`` the fitted value of every target (rows) by every repeat.
        kept: ``(n, M)`` the repeats each target's value averages.

    Targets with fewer than two kept repeats contribute nothing (no spread); with fewer
    than three repeats kept at every target the correlation is not estimated (``ρ = 1``
    on the diagonal only: the noise treated as independent between targets).
    """
    values = np.asarray(values, float)
    kept = np.asarray(kept, bool)
    if values.ndim != 2 or values.shape != kept.shape:
        raise ShapeMismatchError(
            f"training_covariance: values {values.shape} and kept {kept.shape} must both "
            "be (targets, repeats)."
        )
    counts = kept.sum(axis=1)
    spread = np.array(
        [v[k].std(ddof=1) if c > 1 else 0.0 for v, k, c in zip(values, kept, counts, strict=True)]
    )
    common = kept.all(axis=0)
    rho = np.eye(len(values))
    if common.sum() >= 3:
        centred = values[:, common] - values[:, common].mean(axis=1, keepdims=True)
        norms = np.sqrt((centred**2).sum(axis=1))
        ok = norms > 0
        rho[np.ix_(ok, ok)] = (centred[ok] @ centred[ok].T) / np.outer(norms[ok], norms[ok])
    shares = kept.astype(float) / np.maximum(counts, 1)[:, None]
    return rho * np.outer(spread, spread) * (shares @ shares.T)


def shared_errors(
    values: np.ndarray, kept: np.ndarray, simulation: np.ndarray | None = None
) -> np.ndarray:
    """The covariance the targets share beyond their own errors: the off-diagonal part of
    :func:`training_covariance` (its diagonal, ``σ_method²/M′``, is in each target's own
    error) plus ``simulation`` (the simulation replicas' covariance, if any)."""
    train = training_covariance(values, kept)
    shared = train - np.diag(np.diag(train))
    return shared if simulation is None else shared + np.asarray(simulation, float)


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
    lo, hi = pull.width_interval
    rows.append(
        f"  pulls{' (decorrelated)' if pull.decorrelated else ''}: mean {pull.mean:+.2f} ± "
        f"{pull.mean_error:.2f}, width {pull.width:.2f} ± {pull.width_error:.2f} (68 % "
        f"interval {lo:.2f}-{hi:.2f}; P = {pull.width_p_value:.2f} for unit width); "
        f"χ² about the truth {pull.chi2:.2f}/{len(pull.values)}"
    )
    return rows
