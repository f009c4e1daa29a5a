"""Wilks confidence intervals of μ and z from a profile likelihood.

§2.4 (Eq. 2.14) and Table 2.1 of
B. Sluijter, *Classifiers versus Normalizing Flows for uncertainty-aware estimation of
a signal ratio*, MSc thesis, Leiden University 2024, hdl:1887/4104579:
``{θ : NLL(θ) - NLL_min < ΔNLL}`` covers the truth with probability
``chi2.cdf(2 ΔNLL, 1)`` (68.27 % for 0.5, 95.45 % for 2.0). NumPy and SciPy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.optimize import brentq
from scipy.stats import chi2

from hepnnlr.errors import ConfigError
from hepnnlr.methods.nll import PARAMETERS, profile_nll
from hepnnlr.methods.scans import Scan

__all__ = [
    "WILKS_LEVELS",
    "Interval",
    "interval_from_profile",
    "profile_interval",
    "wilks_intervals",
]

WILKS_LEVELS = {0.5: float(chi2.cdf(1.0, 1)), 2.0: float(chi2.cdf(4.0, 1))}
"""ΔNLL thresholds of the Wilks intervals and their coverage (68.27 %, 95.45 %; Table 2.1)."""


@dataclass(frozen=True)
class Interval:
    """A Wilks confidence interval from a profile likelihood (§2.4, Eq. 2.14 of hdl:1887/4104579).

    Attributes:
        parameter: 'mu' or 'z'.
        best: Position of the smooth minimum.
        low, high: Where ``ΔNLL`` crosses ``delta_nll``; the grid edge when it does not.
        delta_nll: The threshold (0.5: 68.27 %, 2.0: 95.45 %).
        level: The coverage Wilks' theorem gives for ``delta_nll``.
        low_closed, high_closed: Whether the crossing was found inside the grid.
    """

    parameter: str
    best: float
    low: float
    high: float
    delta_nll: float
    level: float
    low_closed: bool = True
    high_closed: bool = True

    @property
    def width(self) -> float:
        return self.high - self.low

    @property
    def closed(self) -> bool:
        return self.low_closed and self.high_closed

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def profile_interval(
    scan: Scan, parameter: str, delta_nll: float = 0.5, *, oversample: int = 20
) -> Interval:
    """Smooth minimum and Wilks interval ``{θ : NLL(θ) - NLL_min < delta_nll}``.

    The profile is interpolated with a cubic spline (hdl:1887/4104579 fits a 4th-degree polynomial);
    the minimum is searched on a grid ``oversample`` times finer and the crossings of ``delta_nll``
    are solved on the spline. A crossing beyond the grid gives the grid edge and ``*_closed=False``.
    """
    values, profile = profile_nll(scan, parameter)
    return interval_from_profile(values, profile, parameter, delta_nll, oversample=oversample)


def interval_from_profile(
    values: np.ndarray,
    profile: np.ndarray,
    parameter: str,
    delta_nll: float = 0.5,
    *,
    oversample: int = 20,
) -> Interval:
    """:func:`profile_interval` for a profile given as arrays."""
    if not delta_nll > 0:
        raise ConfigError(f"delta_nll={delta_nll} must be positive (0.5 gives 68.27 %).")
    spline = CubicSpline(values, profile)
    fine = np.linspace(values[0], values[-1], oversample * (len(values) - 1) + 1)
    curve = spline(fine)
    k = int(np.argmin(curve))
    best = float(fine[k])
    if 0 < k < len(fine) - 1:
        best = (
            float(brentq(lambda t: spline(t, 1), fine[k - 1], fine[k + 1]))
            if (spline(fine[k - 1], 1) < 0 < spline(fine[k + 1], 1))
            else best
        )
    minimum = float(spline(best))
    target = minimum + delta_nll
    above = curve > target
    low, low_closed = float(values[0]), False
    left = np.nonzero(above[:k])[0]
    if len(left):
        i = left[-1]
        low = float(brentq(lambda t: spline(t) - target, fine[i], fine[i + 1]))
        low_closed = True
    high, high_closed = float(values[-1]), False
    right = np.nonzero(above[k:])[0]
    if len(right):
        i = k + right[0]
        high = float(brentq(lambda t: spline(t) - target, fine[i - 1], fine[i]))
        high_closed = True
    level = WILKS_LEVELS.get(delta_nll, float(chi2.cdf(2 * delta_nll, 1)))
    return Interval(parameter, best, low, high, float(delta_nll), level, low_closed, high_closed)


def wilks_intervals(scan: Scan, deltas: Sequence[float] = (0.5, 2.0)) -> dict[str, list[Interval]]:
    """68.27 % and 95.45 % (by default) intervals of μ and z: ``{"mu": [...], "z": [...]}``."""
    return {p: [profile_interval(scan, p, d) for d in deltas] for p in PARAMETERS}
