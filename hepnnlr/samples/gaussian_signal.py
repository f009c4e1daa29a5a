"""The 2-D Gaussian signal/background toy (§3.1.1 of hdl:1887/4104579), exact likelihood.

Reference: B. Sluijter, "Classifiers versus Normalizing Flows for uncertainty-aware
estimation of a signal ratio", MSc thesis, Leiden University 2024, hdl:1887/4104579.

Signal events are drawn from a 2-D unit-width Gaussian whose mean sits at polar coordinates
``(r, φ = z)``; background events from the same Gaussian with the mean at ``(-r, φ = z)``.
``r = 2`` is the *large distance* case of hdl:1887/4104579, ``r = 0.5`` the *small distance*
case; the nuisance parameter ``z`` (an angle) lives in ``[0, π/2]`` with reference value
``z0 = π/4``. Because both densities are known, the exact likelihood

    p(x | μ, z) = μ/(μ+1) p(x | sig, z) + 1/(μ+1) p(x | bkg, z)        (Eq. 2.5)

is available for closure tests of the classifier and flow routes.

Example::

    toy = GaussianSignalToy(radius=2.0)
    rng = np.random.default_rng(1)
    x, is_signal = toy.mixture(mu=0.2, z=np.pi / 4, n=9000, rng=rng)
    log_p_sig = toy.log_density(x, np.pi / 4, "signal")
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hepnnlr.errors import ConfigError, ShapeMismatchError

__all__ = ["GAUSSIAN_FEATURES", "GaussianSignalToy"]

GAUSSIAN_FEATURES = ("x1", "x2")
"""Names of the two features of the toy, in column order."""

_KINDS = ("signal", "background")
_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class GaussianSignalToy:
    """Signal at ``r (cos z, sin z)``, background at ``-r (cos z, sin z)``, unit width.

    Attributes:
        radius: ``r``: 2.0 (large distance case) or 0.5 (small distance case) in
            hdl:1887/4104579.
        z_range: Interval of the nuisance parameter the toy is defined on (training range).
        z0: Reference value of ``z`` (the negatives of the classifier route are drawn there).
        sigma: Width of both Gaussians (1 in hdl:1887/4104579).
    """

    radius: float = 2.0
    z_range: tuple[float, float] = (0.0, 0.5 * np.pi)
    z0: float = 0.25 * np.pi
    sigma: float = 1.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.radius) and self.radius > 0):
            raise ConfigError(
                f"GaussianSignalToy.radius={self.radius}: the distance of the means from the "
                "origin must be a positive number (hdl:1887/4104579 uses 0.5 and 2)."
            )
        low, high = (float(v) for v in self.z_range)
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise ConfigError(
                f"GaussianSignalToy.z_range={self.z_range}: give (low, high) with low < high."
            )
        if not low <= self.z0 <= high:
            raise ConfigError(
                f"GaussianSignalToy.z0={self.z0:g} lies outside z_range={self.z_range}; put the "
                "reference value inside the range."
            )
        if not (np.isfinite(self.sigma) and self.sigma > 0):
            raise ConfigError(f"GaussianSignalToy.sigma={self.sigma} must be positive.")

    @property
    def features(self) -> tuple[str, ...]:
        """Feature names, in column order."""
        return GAUSSIAN_FEATURES

    def mean(self, z: float | np.ndarray, kind: str) -> np.ndarray:
        """Mean of ``kind`` ('signal' or 'background') at ``z``: shape ``z.shape + (2,)``."""
        sign = self._sign(kind)
        z = np.asarray(z, dtype=np.float64)
        return sign * self.radius * np.stack([np.cos(z), np.sin(z)], axis=-1)

    def log_density(self, x: np.ndarray, z: float | np.ndarray, kind: str) -> np.ndarray:
        """Exact ``log p(x | kind, z)``, broadcasting ``x[..., 2]`` against ``z``.

        Args:
            x: Features, shape ``(..., 2)``.
            z: Nuisance values broadcastable against ``x.shape[:-1]`` (a scalar, one value
                per event, or e.g. ``x[:, None, :]`` against a ``(n_z,)`` grid).
            kind: ``"signal"`` or ``"background"``.
        """
        x = self._check_x(x)
        diff = x - self.mean(z, kind)
        return -0.5 * np.sum(diff * diff, axis=-1) / self.sigma**2 - _LOG_2PI - 2 * np.log(
            self.sigma
        )

    def sample(
        self, kind: str, z: float | np.ndarray, n: int, rng: np.random.Generator
    ) -> np.ndarray:
        """``n`` events of ``kind`` at ``z`` (a scalar or one value per event): ``(n, 2)``."""
        if int(n) < 0:
            raise ConfigError(f"n={n}: the number of events must be >= 0.")
        z = np.broadcast_to(np.asarray(z, dtype=np.float64), (int(n),))
        return self.mean(z, kind) + self.sigma * rng.standard_normal((int(n), 2))

    def uniform_z(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` values of ``z`` drawn uniformly on :attr:`z_range` (``p_z`` of
        hdl:1887/4104579)."""
        return rng.uniform(self.z_range[0], self.z_range[1], int(n))

    def mixture(
        self,
        mu: float,
        z: float,
        n: int,
        rng: np.random.Generator,
        *,
        fixed_counts: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """A dataset of ``n`` events drawn at ``(μ, z)``, shuffled.

        With ``fixed_counts`` (the test sets of hdl:1887/4104579, §3.1)
        ``N_signal = round(n μ/(μ+1))``; otherwise ``N_signal ~ Binomial(n, μ/(μ+1))``:
        independent draws from ``p(x | μ, z)``, which is what a coverage study over independent
        toys needs (fixed counts remove the binomial fluctuation and make the μ intervals
        over-cover).

        Returns:
            ``(x, is_signal)``: ``(n, 2)`` features and a boolean truth label per event.
        """
        if not (np.isfinite(mu) and mu >= 0):
            raise ConfigError(f"mu={mu}: the signal strength must be finite and >= 0.")
        n = int(n)
        fraction = mu / (mu + 1.0)
        n_sig = int(round(n * fraction)) if fixed_counts else int(rng.binomial(n, fraction))
        x = np.concatenate(
            [self.sample("signal", z, n_sig, rng), self.sample("background", z, n - n_sig, rng)]
        )
        is_signal = np.arange(n) < n_sig
        order = rng.permutation(n)
        return x[order], is_signal[order]

    @staticmethod
    def _sign(kind: str) -> float:
        if kind not in _KINDS:
            raise ConfigError(f"kind={kind!r}; choose 'signal' or 'background'.")
        return 1.0 if kind == "signal" else -1.0

    @staticmethod
    def _check_x(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1:] != (2,):
            raise ShapeMismatchError(
                f"x must have the 2 toy features {GAUSSIAN_FEATURES} in its last axis; got "
                f"shape {x.shape}."
            )
        return x
