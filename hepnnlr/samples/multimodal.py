"""Gaussian mixtures of the toy examples of arXiv:2009.03796 (Eqs. 12–14), as NumPy samplers.

Diefenbacher et al., "DCTRGAN: improving the precision of generative models with
reweighting", JINST 15 (2020) P11004, arXiv:2009.03796, Sec. III A:

* :func:`bimodal` (Eq. 12): ``1/2 N(x; -1, 0.4) + 1/2 N(x; 1, 0.4)`` in one dimension;
* :func:`ring` (Eq. 13): eight Gaussians of width 0.1 at ``(cos 2πi/8, sin 2πi/8)``;
* :func:`grid` (Eq. 14): 25 Gaussians of width 0.1 at ``(i + 0.1, j + 0.1)``,
  ``i, j = 1 … 5``.

Each returns a :class:`GaussianMixture` with an exact :meth:`~GaussianMixture.density`, so
the ideal DCTRGAN weight ``W = p_T / p_G`` (Eq. 3) between two mixtures is known. Their
keyword arguments make deliberately wrong generators (mis-weighted modes, wrong widths,
shifted centres) for closure tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hepnnlr.errors import ConfigError, ShapeMismatchError

__all__ = ["GaussianMixture", "bimodal", "grid", "ring"]


@dataclass(frozen=True, eq=False)
class GaussianMixture:
    """A mixture of axis-aligned Gaussians in ``d`` dimensions.

    Attributes:
        means: ``(k, d)`` centres of the ``k`` components.
        sigmas: ``(k, d)`` standard deviations (> 0).
        fractions: ``(k,)`` component probabilities (>= 0, summing to 1).
        name: Label for plots and messages.
    """

    means: np.ndarray
    sigmas: np.ndarray
    fractions: np.ndarray
    name: str = "mixture"

    def __post_init__(self) -> None:
        means = np.atleast_2d(np.asarray(self.means, float))
        sigmas = np.broadcast_to(np.asarray(self.sigmas, float), means.shape).copy()
        fractions = np.asarray(self.fractions, float).reshape(-1)
        if len(fractions) != len(means):
            raise ShapeMismatchError(
                f"GaussianMixture {self.name!r}: {len(means)} means but {len(fractions)} "
                "fractions; give one fraction per component."
            )
        for label, values in (("means", means), ("sigmas", sigmas), ("fractions", fractions)):
            if not np.isfinite(values).all():
                raise ConfigError(f"GaussianMixture {self.name!r}: {label} must be finite.")
        if (sigmas <= 0).any():
            raise ConfigError(
                f"GaussianMixture {self.name!r}: sigmas must be > 0, got {sigmas.min():g}."
            )
        if (fractions < 0).any() or not np.isclose(fractions.sum(), 1.0, rtol=0, atol=1e-9):
            raise ConfigError(
                f"GaussianMixture {self.name!r}: fractions must be >= 0 and sum to 1, got "
                f"{fractions.tolist()} (sum {fractions.sum():g})."
            )
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "sigmas", sigmas)
        object.__setattr__(self, "fractions", fractions)

    @property
    def dim(self) -> int:
        """Dimension ``d`` of the space."""
        return int(self.means.shape[1])

    def sample(self, n: int, seed: int | np.random.Generator) -> np.ndarray:
        """``(n, d)`` float64 draws; ``seed`` is an integer or a NumPy generator."""
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ConfigError(f"sample(n={n!r}): n must be a non-negative integer.")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        component = rng.choice(len(self.fractions), size=int(n), p=self.fractions)
        noise = rng.standard_normal((int(n), self.dim))
        return self.means[component] + self.sigmas[component] * noise

    def density(self, x: np.ndarray) -> np.ndarray:
        """Probability density at ``x`` (``(n, d)``, or ``(n,)`` in one dimension)."""
        x = np.asarray(x, float)
        if x.ndim == 1 and self.dim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ShapeMismatchError(
                f"density of the {self.dim}-D mixture {self.name!r} needs points of shape "
                f"(n, {self.dim}), got {x.shape}."
            )
        z = (x[:, None, :] - self.means[None]) / self.sigmas[None]
        norm = np.prod(np.sqrt(2 * np.pi) * self.sigmas, axis=1)
        return (self.fractions * np.exp(-0.5 * (z**2).sum(axis=2)) / norm).sum(axis=1)


def _fractions(fractions: np.ndarray | None, k: int, name: str) -> np.ndarray:
    if fractions is None:
        return np.full(k, 1.0 / k)
    fractions = np.asarray(fractions, float).reshape(-1)
    if len(fractions) != k:
        raise ShapeMismatchError(
            f"{name}: {k} components need {k} fractions, got {len(fractions)}."
        )
    return fractions


def bimodal(
    *,
    centres: tuple[float, float] = (-1.0, 1.0),
    sigma: float | tuple[float, float] = 0.4,
    fractions: tuple[float, float] | None = None,
) -> GaussianMixture:
    """The 1-D bimodal density of Eq. 12 (defaults) or a variant of it."""
    means = np.asarray(centres, float).reshape(2, 1)
    sigmas = np.broadcast_to(np.asarray(sigma, float).reshape(-1, 1), (2, 1))
    return GaussianMixture(means, sigmas, _fractions(fractions, 2, "bimodal"), "bimodal")


def ring(
    *,
    modes: int = 8,
    radius: float = 1.0,
    sigma: float = 0.1,
    fractions: np.ndarray | None = None,
) -> GaussianMixture:
    """The 2-D ring of Eq. 13: ``modes`` Gaussians at ``radius (cos 2πi/modes, sin …)``."""
    if isinstance(modes, bool) or not isinstance(modes, int) or modes < 1:
        raise ConfigError(f"ring(modes={modes!r}) must be a positive integer.")
    angle = 2 * np.pi * np.arange(1, modes + 1) / modes
    means = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return GaussianMixture(means, sigma, _fractions(fractions, modes, "ring"), "ring")


def grid(
    *,
    size: int = 5,
    offset: float = 0.1,
    sigma: float = 0.1,
    fractions: np.ndarray | None = None,
) -> GaussianMixture:
    """The 2-D grid of Eq. 14: Gaussians at ``(i + offset, j + offset)``, ``i, j = 1 … size``.

    Components are ordered with ``j`` fastest (component ``5 (i - 1) + (j - 1)``).
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ConfigError(f"grid(size={size!r}) must be a positive integer.")
    i, j = np.meshgrid(np.arange(1, size + 1), np.arange(1, size + 1), indexing="ij")
    means = np.stack([i.reshape(-1), j.reshape(-1)], axis=1) + offset
    return GaussianMixture(means, sigma, _fractions(fractions, size * size, "grid"), "grid")
