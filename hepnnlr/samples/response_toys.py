"""Toy detector responses of Sec. 4 of arXiv:1910.03773.

Reference: Cheong, Cukierman, Nachman, Safdari, Schwartzman, "Parametrizing the Detector
Response with Neural Networks", arXiv:1910.03773.

* :class:`JetResponseToy` — the calorimeter jet-energy response of Sec. 4.1: a Crystal Ball
  (Eq. 4.1) with a power-law low tail, centred on μ(x) of Eq. 4.2 with width σ(x) of
  Eq. 4.3, truncated at ``E_min`` (jets below it are lost, as a reconstruction threshold
  loses them).
* :class:`MuonResolutionToy` — the muon-momentum response of Sec. 4.2: ``y = 1 + σ(x) z``
  with ``z`` a standard Crystal Ball and σ(x) of Eq. 4.4, log10 x uniform.

The standard Crystal Ball (mean parameter 0, width 1) with tail parameters ``β > 0`` and
``m > 1`` has the density ``exp(−z²/2)`` for ``z > −β`` and ``A (B − z)^(−m)`` below, with
``A = (m/β)^m exp(−β²/2)`` and ``B = m/β − β`` (value and slope continuous at ``−β``). Its
CDF and inverse CDF are closed-form (:func:`crystal_ball_cdf`, :func:`crystal_ball_ppf`),
so sampling is exact inverse-transform sampling. With ``m = 2`` neither the mean nor the
variance exists (the tail falls like z⁻²): the sample standard deviation grows with the
sample size, which is why arXiv:1910.03773 learns quantiles (Fig. 5).

This module needs NumPy and ``scipy.special`` (the normal CDF and its inverse) only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from hepnnlr.errors import ConfigError

__all__ = [
    "JetResponseToy",
    "MuonResolutionToy",
    "crystal_ball_cdf",
    "crystal_ball_pdf",
    "crystal_ball_ppf",
    "jet_energy_resolution",
    "jet_energy_response",
    "muon_momentum_resolution",
]

_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _check_tail(beta: float, m: float, owner: str) -> None:
    if not (isinstance(beta, int | float) and math.isfinite(beta) and beta > 0):
        raise ConfigError(f"{owner}: beta={beta!r} must be a finite number > 0 (e.g. 1.5).")
    if not (isinstance(m, int | float) and math.isfinite(m) and m > 1):
        raise ConfigError(
            f"{owner}: m={m!r} must be a finite number > 1 (the tail (B - z)^-m must be "
            "normalizable); arXiv:1910.03773 uses m = 2."
        )


def _constants(beta: float, m: float) -> tuple[float, float, float, float]:
    """``(A, B, tail mass T, total norm)`` of the unnormalized standard Crystal Ball."""
    a = (m / beta) ** m * math.exp(-0.5 * beta * beta)
    b = m / beta - beta
    tail = m / (beta * (m - 1.0)) * math.exp(-0.5 * beta * beta)
    core = _SQRT_2PI * float(ndtr(beta))
    return a, b, tail, tail + core


def crystal_ball_pdf(z: np.ndarray, beta: float, m: float) -> np.ndarray:
    """Normalized density of the standard Crystal Ball (low tail below ``z = −β``)."""
    _check_tail(beta, m, "crystal_ball_pdf")
    a, b, _, norm = _constants(beta, m)
    z = np.asarray(z, dtype=np.float64)
    tail = a * np.power(np.maximum(b - z, m / beta), -m)  # b - z >= m/beta in the tail
    return np.where(z > -beta, np.exp(-0.5 * z * z), tail) / norm


def crystal_ball_cdf(z: np.ndarray, beta: float, m: float) -> np.ndarray:
    """CDF of the standard Crystal Ball."""
    _check_tail(beta, m, "crystal_ball_cdf")
    a, b, tail, norm = _constants(beta, m)
    z = np.asarray(z, dtype=np.float64)
    low = a / (m - 1.0) * np.power(np.maximum(b - z, m / beta), 1.0 - m)
    core = tail + _SQRT_2PI * (ndtr(z) - ndtr(-beta))
    return np.where(z > -beta, core, low) / norm


def crystal_ball_ppf(u: np.ndarray, beta: float, m: float) -> np.ndarray:
    """Inverse CDF of the standard Crystal Ball, for ``u`` in (0, 1)."""
    _check_tail(beta, m, "crystal_ball_ppf")
    u = np.asarray(u, dtype=np.float64)
    if np.any(~((u > 0) & (u < 1))):
        raise ConfigError(
            "crystal_ball_ppf: probabilities u must lie strictly inside (0, 1); got "
            f"min {np.min(u)!r}, max {np.max(u)!r}."
        )
    a, b, tail, norm = _constants(beta, m)
    mass = u * norm
    in_tail = mass <= tail
    low = b - np.power(np.where(in_tail, mass, tail) * (m - 1.0) / a, 1.0 / (1.0 - m))
    core_p = ndtr(-beta) + np.maximum(mass - tail, 0.0) / _SQRT_2PI
    core = ndtri(np.minimum(core_p, 1.0))
    return np.where(in_tail, low, core)


def jet_energy_response(x: np.ndarray, x0: float = 25.0) -> np.ndarray:
    """μ(x) of Eq. 4.2: ``x + 5 ln(e^{x0/10} + e^{x/10}) − 5 ln(1 + e^{(x + x0)/10})``.

    Increasing in ``x`` (μ' > 1/2), so it can be inverted; μ(x) → x − x0/2 at large x.
    """
    x = np.asarray(x, dtype=np.float64)
    return x + 5.0 * np.logaddexp(x0 / 10.0, x / 10.0) - 5.0 * np.logaddexp(0.0, (x + x0) / 10.0)


def jet_energy_resolution(
    x: np.ndarray, noise: float = 4.0, stochastic: float = 0.6, constant: float = 0.05
) -> np.ndarray:
    """σ(x) of Eq. 4.3: ``N ⊕ S √x ⊕ C x`` (sum in quadrature)."""
    x = np.asarray(x, dtype=np.float64)
    return np.sqrt(noise**2 + stochastic**2 * x + (constant * x) ** 2)


def muon_momentum_resolution(x: np.ndarray) -> np.ndarray:
    """σ(x) of Eq. 4.4: ``0.03 (¼ exp(20 log10(log10 x) − 4) + 1)``, x in GeV (> 1)."""
    x = np.asarray(x, dtype=np.float64)
    if np.any(~(x > 1.0)):
        raise ConfigError(
            "muon_momentum_resolution: Eq. 4.4 needs momenta x > 1 GeV (log10(log10 x)); "
            f"got min {np.min(x)!r}."
        )
    return 0.03 * (0.25 * np.exp(20.0 * np.log10(np.log10(x)) - 4.0) + 1.0)


def _check_n_seed(n: int, seed: int, owner: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ConfigError(f"{owner}: n={n!r} must be a positive integer.")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"{owner}: seed={seed!r} must be a non-negative integer.")


@dataclass(frozen=True)
class JetResponseToy:
    """Truncated Crystal Ball jet-energy response of Sec. 4.1 (Eqs. 4.1–4.3).

    ``y | x = μ(x) + σ(x) z``, z a standard Crystal Ball, kept when ``y > e_min``.

    Attributes:
        e_min: Reconstruction threshold E_min (GeV); jets below it are lost.
        beta, m: Crystal Ball tail parameters.
        x0: Turn-on parameter of μ(x) (Eq. 4.2).
        noise, stochastic, constant: N, S, C of σ(x) (Eq. 4.3).
        x_min, x_max: Range of the uniform true energy x (GeV). arXiv:1910.03773 does not
            state it; hepnnlr's default 20–100 GeV covers the threshold region (below ~30 GeV)
            and the tail-dominated high energies.
    """

    e_min: float = 10.0
    beta: float = 1.5
    m: float = 2.0
    x0: float = 25.0
    noise: float = 4.0
    stochastic: float = 0.6
    constant: float = 0.05
    x_min: float = 20.0
    x_max: float = 100.0

    def __post_init__(self) -> None:
        _check_tail(self.beta, self.m, "JetResponseToy")
        for name in ("noise", "stochastic", "constant", "x_min", "x_max", "e_min", "x0"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ConfigError(f"JetResponseToy.{name}={value!r} must be finite and >= 0.")
        if not self.x_max > self.x_min:
            raise ConfigError(
                f"JetResponseToy: x_max={self.x_max!r} must exceed x_min={self.x_min!r}."
            )

    def mu(self, x: np.ndarray) -> np.ndarray:
        """μ(x), the peak position of the untruncated response (Eq. 4.2)."""
        return jet_energy_response(x, self.x0)

    def sigma(self, x: np.ndarray) -> np.ndarray:
        """σ(x), the width of the Gaussian core (Eq. 4.3)."""
        return jet_energy_resolution(x, self.noise, self.stochastic, self.constant)

    def mode(self, x: np.ndarray) -> np.ndarray:
        """Mode of ``p(y|x)``: μ(x) where μ(x) > E_min, else E_min (the density rises to μ)."""
        return np.maximum(self.mu(x), self.e_min)

    def kept_fraction(self, x: np.ndarray) -> np.ndarray:
        """Probability that a jet of true energy ``x`` passes ``y > e_min``."""
        z_min = (self.e_min - self.mu(x)) / self.sigma(x)
        return 1.0 - crystal_ball_cdf(z_min, self.beta, self.m)

    def quantile(self, q: float, x: np.ndarray) -> np.ndarray:
        """The q-quantile of the truncated ``p(y|x)``."""
        x = np.asarray(x, dtype=np.float64)
        z_min = (self.e_min - self.mu(x)) / self.sigma(x)
        u0 = crystal_ball_cdf(z_min, self.beta, self.m)
        z = crystal_ball_ppf(u0 + q * (1.0 - u0), self.beta, self.m)
        return self.mu(x) + self.sigma(x) * z

    def mean(self, x: np.ndarray, points: int = 20_001) -> np.ndarray:
        """Mean of the truncated ``p(y|x)`` (quadrature over 1e-7 < u < 1 of the quantiles).

        The Crystal Ball tail reaches down only to ``e_min``, so the mean exists. The
        midpoint rule on ``points`` cells of the probability axis has an error far below
        the Monte Carlo uncertainty of any sample used here.
        """
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        u = (np.arange(points) + 0.5) / points
        z_min = (self.e_min - self.mu(x)) / self.sigma(x)
        u0 = crystal_ball_cdf(z_min, self.beta, self.m)[:, None]
        z = crystal_ball_ppf(u0 + u[None, :] * (1.0 - u0), self.beta, self.m)
        return self.mu(x) + self.sigma(x) * z.mean(axis=1)

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` jets with x uniform; return ``(x, y)`` of those with ``y > e_min``."""
        _check_n_seed(n, seed, "JetResponseToy.sample")
        rng = np.random.default_rng([int(seed), 0x4A45])
        x = rng.uniform(self.x_min, self.x_max, n)
        u = rng.random(n)
        u = np.where(u > 0, u, np.nextafter(0.0, 1.0))
        y = self.mu(x) + self.sigma(x) * crystal_ball_ppf(u, self.beta, self.m)
        kept = y > self.e_min
        return x[kept], y[kept]


@dataclass(frozen=True)
class MuonResolutionToy:
    """Muon-momentum response of Sec. 4.2: ``y = 1 + σ(x) z``, σ of Eq. 4.4.

    Attributes:
        beta: Crystal Ball β (smaller: heavier tail; arXiv:1910.03773 scans it,
            Fig. 5b).
        m: Crystal Ball power (arXiv:1910.03773: 2).
        log10_x_min, log10_x_max: log10 of the momentum range, sampled uniformly
            (arXiv:1910.03773: log10 7 to 2).
    """

    beta: float = 2.0
    m: float = 2.0
    log10_x_min: float = math.log10(7.0)
    log10_x_max: float = 2.0

    def __post_init__(self) -> None:
        _check_tail(self.beta, self.m, "MuonResolutionToy")
        if not (0.0 < self.log10_x_min < self.log10_x_max):
            raise ConfigError(
                f"MuonResolutionToy: need 0 < log10_x_min < log10_x_max, got "
                f"{self.log10_x_min!r}, {self.log10_x_max!r} (Eq. 4.4 needs x > 1 GeV)."
            )

    def sigma(self, x: np.ndarray) -> np.ndarray:
        """σ(x) of Eq. 4.4 (the width of the Gaussian core)."""
        return muon_momentum_resolution(x)

    def quantile(self, q: float, x: np.ndarray) -> np.ndarray:
        """The q-quantile of ``p(y|x)``."""
        return 1.0 + self.sigma(x) * crystal_ball_ppf(q, self.beta, self.m)

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``(x, y)``: ``n`` momenta log-uniform and their responses."""
        _check_n_seed(n, seed, "MuonResolutionToy.sample")
        rng = np.random.default_rng([int(seed), 0x4D55])
        x = 10.0 ** rng.uniform(self.log10_x_min, self.log10_x_max, n)
        u = rng.random(n)
        u = np.where(u > 0, u, np.nextafter(0.0, 1.0))
        return x, 1.0 + self.sigma(x) * crystal_ball_ppf(u, self.beta, self.m)
