"""Gaussian toy samples of Sec. III A of arXiv:2010.03569, with their analytic weights.

Reference: Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural
Networks in the Presence of Detector Effects", arXiv:2010.03569.

* :func:`gaussian_sample`: generator level ``x_G ~ N(μ, σ²)`` and simulation level
  ``x_S = x_G + N(0, ε²)`` (arXiv:2010.03569: ``σ = 1``, ``ε = 0.5``), paired event by event.
* :func:`varied_gaussian_sample`: the DCTR training sample: per event a ``θ = (μ[, σ])``
  drawn uniformly over the given ranges, then ``x_G ~ N(μ, σ²)``.
* :func:`full_phase_space_sample`: the two-dimensional generator level of Fig. 4 where the
  detector response depends on a secondary feature: ``x_G,0 ~ N(μ, 1)``,
  ``x_G,1 ~ N(0, ν²)`` with ``ν = (ω0 + ω1 μ)²``, and
  ``x_S = x_G,0 + Z``, ``Z ~ N(4|x_G,1|, x_G,1⁴)``.
* :func:`gaussian_weights`: Eqs. 10 and 11, the exact ratio ``N(μ, σ²) / N(μ0, σ0²)``.

Only NumPy: the tensors are built one layer up. Every function takes an explicit seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from hepnnlr.errors import ConfigError

__all__ = [
    "GAUSSIAN_PARAMETERS",
    "full_phase_space_sample",
    "gaussian_sample",
    "gaussian_weights",
    "varied_gaussian_sample",
]

GAUSSIAN_PARAMETERS = ("mu", "sigma")
"""Parameters of the Gaussian generator: mean ``mu`` and width ``sigma``."""


def _point(theta: Mapping[str, float], where: str) -> tuple[float, float]:
    unknown = sorted(set(theta) - set(GAUSSIAN_PARAMETERS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown Gaussian parameter(s) {unknown}; the generator has "
            f"{list(GAUSSIAN_PARAMETERS)}."
        )
    mu, sigma = float(theta.get("mu", 0.0)), float(theta.get("sigma", 1.0))
    if not (math.isfinite(mu) and math.isfinite(sigma) and sigma > 0):
        raise ConfigError(f"{where}: need a finite mu and sigma > 0, got mu={mu}, sigma={sigma}.")
    return mu, sigma


def _count(n: int, where: str) -> int:
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ConfigError(f"{where}: events={n!r} must be a positive integer.")
    return int(n)


def gaussian_sample(
    n: int, theta: Mapping[str, float], *, epsilon: float = 0.5, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(x_G, x_S)``: ``n`` paired events at ``θ`` (missing ``mu``: 0, ``sigma``: 1).

    Args:
        n: Events.
        theta: ``{"mu": ..., "sigma": ...}`` (either may be left out).
        epsilon: Detector smearing ``ε`` (0 gives ``x_S = x_G``).
        seed: Seeds generation and smearing.
    """
    n = _count(n, "gaussian_sample")
    mu, sigma = _point(theta, "gaussian_sample")
    if not epsilon >= 0:
        raise ConfigError(f"gaussian_sample: epsilon={epsilon} must be >= 0.")
    rng = np.random.default_rng(seed)
    x_gen = rng.normal(mu, sigma, n)
    return x_gen, x_gen + rng.normal(0.0, epsilon, n) if epsilon > 0 else x_gen.copy()


def varied_gaussian_sample(
    n: int, ranges: Mapping[str, tuple[float, float]], *, seed: int,
    fixed: Mapping[str, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(x_G, θ)``: per event ``θ`` uniform over ``ranges``, then ``x_G ~ N(μ, σ²)``.

    Args:
        n: Events.
        ranges: ``{name: (low, high)}`` for the varied parameters (``mu`` and/or ``sigma``).
        seed: Seeds the draws.
        fixed: Values of the parameters that are not varied (default ``mu = 0``,
            ``sigma = 1``).

    Returns:
        ``x_G`` of shape ``(n,)`` and ``θ`` of shape ``(n, len(ranges))`` in the order of
        ``ranges``.
    """
    n = _count(n, "varied_gaussian_sample")
    if not ranges:
        raise ConfigError("varied_gaussian_sample: ranges must name at least one parameter.")
    _point({k: 1.0 for k in ranges}, "varied_gaussian_sample ranges")
    base = dict(fixed or {})
    _point(base, "varied_gaussian_sample fixed")
    rng = np.random.default_rng(seed)
    drawn = {}
    for name, bounds in ranges.items():
        low, high = (float(b) for b in bounds)
        if not low < high or (name == "sigma" and low <= 0):
            raise ConfigError(
                f"varied_gaussian_sample: range of {name} is ({low}, {high}); need "
                f"low < high{' and low > 0' if name == 'sigma' else ''}."
            )
        drawn[name] = rng.uniform(low, high, n)
    mu = drawn.get("mu", base.get("mu", 0.0))
    sigma = drawn.get("sigma", base.get("sigma", 1.0))
    x = rng.normal(mu, sigma, n)
    return x, np.stack([drawn[name] for name in ranges], axis=1)


def full_phase_space_sample(
    n: int, mu: float, *, seed: int, omega0: float = 0.7, omega1: float = 0.2
) -> tuple[np.ndarray, np.ndarray]:
    """``(x_G, x_S)`` of the full-phase-space example (arXiv:2010.03569, Sec. III A, Fig. 4).

    Returns:
        ``x_G`` of shape ``(n, 2)``: the primary feature ``N(μ, 1)`` and the secondary
        ``N(0, ν²)``, ``ν = (ω0 + ω1 μ)²``; ``x_S`` of shape ``(n,)``:
        ``x_G,0 + Z`` with ``Z ~ N(4|x_G,1|, x_G,1⁴)`` (shift and smearing grow with the
        secondary feature, whose spread depends on ``μ``).
    """
    n = _count(n, "full_phase_space_sample")
    nu = (omega0 + omega1 * float(mu)) ** 2
    if not nu > 0:
        raise ConfigError(
            f"full_phase_space_sample: nu = (omega0 + omega1 mu)^2 = {nu} at mu={mu}; "
            "choose mu with omega0 + omega1 mu != 0."
        )
    rng = np.random.default_rng(seed)
    primary = rng.normal(mu, 1.0, n)
    secondary = rng.normal(0.0, nu, n)
    shift = 4.0 * np.abs(secondary)
    x_sim = primary + rng.normal(shift, secondary**2)
    return np.stack([primary, secondary], axis=1), x_sim


def gaussian_weights(
    x: np.ndarray, theta: Mapping[str, float], nominal: Mapping[str, float] | None = None
) -> np.ndarray:
    """The exact ratio ``N(x; μ, σ²) / N(x; μ0, σ0²)`` (Eq. 11; Eq. 10 for ``σ = σ0 = 1``)."""
    mu, sigma = _point(theta, "gaussian_weights")
    mu0, sigma0 = _point(nominal or {}, "gaussian_weights nominal")
    x = np.asarray(x, float)
    return sigma0 / sigma * np.exp(0.5 * (((x - mu0) / sigma0) ** 2 - ((x - mu) / sigma) ** 2))
