"""A compact description of a calorimeter shower, and a renderer that turns it into cells.

The image half of the DCTRGAN calorimeter surrogate (Sec. III B of Diefenbacher et al.,
JINST 15 (2020) P11004, reweights BIB-AE/GAN *images*). A 27,000-cell image generator
does not train on a shared CPU, so the surrogate splits the job:

1. :func:`describe_showers` measures six numbers per reference shower from its cells
   (no hidden generator parameter is used):

   * ``log_energy``: log of the visible energy Σ E (MeV);
   * ``t0``, ``log_alpha``, ``log_beta``: a shifted Gamma profile t0 + Gamma(α, rate β)
     (depth in X₀) whose moments, cut at the back of the calorimeter, match the
     energy-weighted layer depths of the shower: mean, variance (minus the layer width²/12,
     Sheppard's correction) and skewness (:func:`_fit_profile`);
   * ``x_mm``, ``y_mm``: the energy-weighted lateral centroid (the impact point).

   A generative model (:class:`hepnnlr.methods.calo_surrogate.CaloSurrogate`: a GAN)
   learns the joint distribution of these six numbers.
2. :class:`ShowerRenderer` turns descriptions into 30 × 30 × 30 showers with the spot
   sampler of :mod:`hepnnlr.samples.calo`: round(κ E / E_spot) spots, each at a depth
   t0 + Gamma(α, β) drawn inside the calorimeter (redrawn up to ``_REDRAWS`` times if it
   falls in front of or behind it: the described energy already lacks the leakage),
   laterally at the Grindhammer–Peters two-component radius at τ = (t − t0)/T,
   T = (α − 1)/β, with the config's Molière radius, then the config's cell noise. The
   noisy cells of a shower are scaled so that they sum to the described energy (which
   already holds the cell noise of the reference shower; without this the noise would
   enter twice), and the cell threshold is applied. κ (the spots lost at the grid edge
   and below threshold) and a linear map that takes the moment fit's own noise out of
   the profile columns (:meth:`ShowerRenderer.describe`: rendering samples the spots
   again, so that noise would otherwise enter twice) are calibrated on reference
   showers (:meth:`ShowerRenderer.calibrated`).

The lateral shape is not learned: a per-shower lateral size (log of the mean cell
distance from the centroid) was tried as a seventh number, but rendering the reference's
own descriptions at a fixed Molière radius already spreads it more (0.083 in the log)
than the reference has (0.065), so it carried no information the renderer lacks.

This is a *surrogate*, not a copy of the reference: the moment fit is noisy (a few
thousand spots per shower; :meth:`ShowerRenderer.calibrated` removes its covariance
only on average), the lateral shape is the renderer's, and the generator of the
descriptions is imperfect; the DCTRGAN weights are meant to correct what is left.

The output has the layout of :func:`hepnnlr.samples.calo.generate_calo` (``event``,
``weight``, ``E_true``, jagged ``Hit``), so it is written with
:func:`hepnnlr.samples.calo_io.write_calo_events` and read by the coffea
``CaloProcessor`` like the reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import awkward as ak
import numpy as np
from scipy.special import gammainc

from hepnnlr.errors import (
    ConfigError,
    EmptySelectionError,
    MissingBranchError,
    NonFiniteInputError,
    ShapeMismatchError,
)
from hepnnlr.samples.calo import ShowerConfig, _radial_parameters
from hepnnlr.samples.calo_io import HIT_FIELDS

__all__ = ["DESCRIPTION_NAMES", "ShowerRenderer", "describe_showers"]

DESCRIPTION_NAMES: tuple[str, ...] = (
    "log_energy",
    "t0",
    "log_alpha",
    "log_beta",
    "x_mm",
    "y_mm",
)
"""Columns of :func:`describe_showers` (module docstring)."""

_ALPHA_RANGE = (1.01, 400.0)  # the reference clamps α at 1.01; 400: a nearly symmetric profile
_SPOT_BATCH = 200  # showers whose spots are held in memory at once
_REDRAWS = 20  # redraws of a spot depth outside the calorimeter before the spot is lost


def _truncated_moments(
    theta: np.ndarray, depth_max: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, variance and skewness of t0 + Gamma(α, rate β) cut at ``depth_max``;
    ``theta`` = (t0, ln α, ln β) per row."""
    t0, alpha, beta = theta[:, 0], np.exp(theta[:, 1]), np.exp(theta[:, 2])
    x = beta * np.maximum(depth_max - t0, 1e-6)
    p = [np.maximum(gammainc(alpha + k, x), 1e-300) for k in range(4)]
    mu1 = alpha * p[1] / p[0] / beta
    mu2 = alpha * (alpha + 1) * p[2] / p[0] / beta**2
    mu3 = alpha * (alpha + 1) * (alpha + 2) * p[3] / p[0] / beta**3
    var = np.maximum(mu2 - mu1**2, 1e-12)
    return t0 + mu1, var, (mu3 - 3 * mu1 * mu2 + 2 * mu1**3) / var**1.5


def _fit_profile(
    mean: np.ndarray, var: np.ndarray, skew: np.ndarray, depth_max: float, iterations: int = 40
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t0, α, β) whose truncated moments match the observed mean, variance and skewness.

    Damped Newton steps in (t0, ln α, ln β) from the untruncated moment solution
    (α = 4/γ², clamped to [2, 50]); α stays in ``_ALPHA_RANGE``. Where the observed
    skewness cannot be reached (it is noisy), the fit stops at the closest α in range.
    """
    alpha = np.clip(4.0 / np.maximum(skew, 0.2) ** 2, 2.0, 50.0)
    beta = np.sqrt(alpha / var)
    theta = np.column_stack([mean - alpha / beta, np.log(alpha), np.log(beta)])
    target = np.column_stack([mean, np.log(var), skew])
    log_alpha_range = np.log(_ALPHA_RANGE)
    step_max = np.array([1.0, 0.3, 0.3])
    for _ in range(iterations):
        def residual(th: np.ndarray) -> np.ndarray:
            m, v, s = _truncated_moments(th, depth_max)
            return np.column_stack([m, np.log(v), s]) - target

        r = residual(theta)
        jac = np.empty((len(theta), 3, 3))
        for j, h in enumerate((1e-4, 1e-5, 1e-5)):
            shifted = theta.copy()
            shifted[:, j] += h
            jac[:, :, j] = (residual(shifted) - r) / h
        # Levenberg damping keeps the step finite where the skewness does not constrain α
        normal = np.einsum("nij,nik->njk", jac, jac) + 1e-6 * np.eye(3)
        step = np.linalg.solve(normal, np.einsum("nij,ni->nj", jac, r)[..., None])[..., 0]
        theta = theta - np.clip(step, -step_max, step_max)
        theta[:, 1] = np.clip(theta[:, 1], *log_alpha_range)
    return theta[:, 0], np.exp(theta[:, 1]), np.exp(theta[:, 2])


def _hits(showers: ak.Array) -> ak.Array:
    hits = showers.Hit if "Hit" in ak.fields(showers) else showers
    missing = [f for f in HIT_FIELDS if f not in ak.fields(hits)]
    if missing:
        raise MissingBranchError(
            f"describe_showers: the showers lack hit field {missing[0]!r}; pass the events "
            "of read_calo_events / generate_calo (with a Hit collection) or their .Hit."
        )
    return hits


def describe_showers(showers: ak.Array, config: ShowerConfig | None = None) -> np.ndarray:
    """The six-number description of every shower (``DESCRIPTION_NAMES``, module docstring).

    Args:
        showers: events with a ``Hit`` collection (or the hits), every shower with at
            least one cell.
        config: the grid (``ShowerConfig()`` if not given).

    Returns:
        ``(n, 6)`` float64 array.

    Raises:
        EmptySelectionError: a shower without cells (drop them first, e.g.
            ``showers[ak.num(showers.Hit) > 0]``).

    Example:
        >>> from hepnnlr.samples.calo import generate_calo
        >>> describe_showers(generate_calo(3, seed=1)).shape
        (3, 6)
    """
    config = ShowerConfig() if config is None else config
    hits = _hits(showers)
    counts = ak.to_numpy(ak.num(hits, axis=1))
    if len(counts) == 0 or (counts == 0).any():
        where = "no showers" if len(counts) == 0 else f"shower {int(np.argmin(counts))} has no cell"
        raise EmptySelectionError(
            f"describe_showers: {where}; pass non-empty showers, e.g. "
            "showers[ak.num(showers.Hit) > 0]."
        )
    n = len(counts)
    event = np.repeat(np.arange(n), counts)
    flat = {f: ak.to_numpy(ak.flatten(hits[f])).astype(np.float64) for f in HIT_FIELDS}
    energy = flat["E"]
    total = np.bincount(event, energy, n)

    def mean(values: np.ndarray) -> np.ndarray:
        return np.bincount(event, energy * values, n) / total

    depth = (flat["layer"] + 0.5) * config.layer_x0
    m = mean(depth)
    offset = depth - m[event]
    bin_var = config.layer_x0**2 / 12.0
    var = np.maximum(mean(offset**2) - bin_var, bin_var / 10.0)
    skew = mean(offset**3) / var**1.5
    depth_max = config.n_layers * config.layer_x0
    t0, alpha, beta = _fit_profile(m, var, skew, depth_max)
    x = (flat["ix"] + 0.5 - config.n_x / 2) * config.cell_size_mm
    y = (flat["iy"] + 0.5 - config.n_y / 2) * config.cell_size_mm
    return np.column_stack([np.log(total), t0, np.log(alpha), np.log(beta), mean(x), mean(y)])


_PROFILE = slice(1, 4)  # the (t0, ln α, ln β) columns


def _square_root(matrix: np.ndarray, power: float) -> np.ndarray:
    """``matrix ** power`` of a symmetric matrix, eigenvalues floored at 1e-6 of the largest."""
    values, vectors = np.linalg.eigh(matrix)
    values = np.maximum(values, 1e-6 * values.max())
    return (vectors * values**power) @ vectors.T


def _robust_cov(values: np.ndarray) -> np.ndarray:
    """Covariance of the rows inside the 0.5–99.5% quantiles of every column (the moment
    fit has rare wild solutions that would dominate a plain covariance)."""
    low, high = np.quantile(values, [0.005, 0.995], axis=0)
    inside = ((values >= low) & (values <= high)).all(axis=1)
    return np.cov(values[inside], rowvar=False)


@dataclass(frozen=True)
class ShowerRenderer:
    """Renders shower descriptions into cells (module docstring).

    Attributes:
        config: grid, spot energy, Molière radius, cell noise and threshold.
        spot_scale: κ: a description of visible energy E renders round(κ E / E_spot)
            spots (κ > 1 makes up for the spots that fall outside the grid).
        profile_center, profile_map: the fit-noise correction of :meth:`describe`:
            the profile columns (t0, ln α, ln β) p of a measured description become
            c + M (p − c), with c = ``profile_center`` and M = ``profile_map`` (3 × 3,
            row-major); identity by default.
    """

    config: ShowerConfig = field(default_factory=ShowerConfig)
    spot_scale: float = 1.0
    profile_center: tuple[float, ...] = (0.0, 0.0, 0.0)
    profile_map: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)

    def __post_init__(self) -> None:
        if not isinstance(self.config, ShowerConfig):
            raise ConfigError(
                f"ShowerRenderer.config must be a ShowerConfig, got {type(self.config).__name__}."
            )
        if (
            isinstance(self.spot_scale, bool)
            or not isinstance(self.spot_scale, int | float | np.number)
            or not 0 < self.spot_scale < math.inf
        ):
            raise ConfigError(
                f"ShowerRenderer.spot_scale must be a finite number > 0, got {self.spot_scale!r}."
            )
        for name, size in (("profile_center", 3), ("profile_map", 9)):
            values = np.asarray(getattr(self, name), dtype=np.float64)
            if values.shape != (size,) or not np.isfinite(values).all():
                raise ConfigError(
                    f"ShowerRenderer.{name} must be {size} finite numbers, got "
                    f"{getattr(self, name)!r}."
                )

    def describe(self, showers: ak.Array) -> np.ndarray:
        """Descriptions to train a generator on: :func:`describe_showers` with the
        profile's fit noise taken out (``profile_center``, ``profile_map``), so that
        rendering, which fits nothing but samples spots again, does not add it twice."""
        description = describe_showers(showers, self.config)
        center = np.asarray(self.profile_center)
        matrix = np.asarray(self.profile_map).reshape(3, 3)
        description[:, _PROFILE] = center + (description[:, _PROFILE] - center) @ matrix.T
        return description

    @classmethod
    def calibrated(
        cls, showers: ak.Array, config: ShowerConfig | None = None, *, seed: int = 0
    ) -> ShowerRenderer:
        """A renderer calibrated on reference ``showers`` (non-empty ones).

        The showers' descriptions d are rendered once at κ = 1 and described again (d′):

        * κ = Σ E_reference / Σ E_rendered (before the energy scaling of :meth:`render`):
          the spots lost at the grid edge and below threshold;
        * the profile columns carry the noise of the moment fit, N = d′ − d, once in the
          reference and once more after rendering. With covariances Σ_X of d and Σ_N of
          N (0.5–99.5% quantiles), the noise-free covariance is Σ_S = Σ_X − Σ_N
          (eigenvalues floored), and :meth:`describe` maps the profile p to
          c + Σ_S^{1/2} Σ_X^{-1/2} (p − c) (c: the mean), which has covariance Σ_S.
        """
        config = ShowerConfig() if config is None else config
        description = describe_showers(showers, config)
        rendered = cls(config)._render(description, seed, normalize=False)
        deposited = float(ak.sum(rendered.Hit.E))
        filled = ak.to_numpy(ak.num(rendered.Hit, axis=1)) > 0
        if filled.sum() < 10:
            raise EmptySelectionError(
                f"ShowerRenderer.calibrated: {int(filled.sum())} rendered calibration showers "
                "have cells; pass more (hundreds of) reference showers made on this config's "
                "grid."
            )
        again = describe_showers(rendered[filled], config)
        profile = description[filled][:, _PROFILE]
        cov_x = _robust_cov(profile)
        cov_n = _robust_cov(again[:, _PROFILE] - profile)
        cov_s = _square_root(cov_x - cov_n, 1.0)  # floors the eigenvalues
        matrix = _square_root(cov_s, 0.5) @ _square_root(cov_x, -0.5)
        return cls(
            config,
            float(ak.sum(_hits(showers).E)) / deposited,
            tuple(float(v) for v in np.median(profile, axis=0)),
            tuple(float(v) for v in matrix.reshape(-1)),
        )

    def render(self, descriptions: np.ndarray, *, seed: int) -> ak.Array:
        """Showers of ``(n, 6)`` descriptions, in the layout of ``generate_calo``.

        Seeded: the same descriptions and ``seed`` give the same showers. α is clamped to
        [1.01, 400] (the reference clamps at 1.01); the spot count to at most 10× the
        reference's mean; a spot still outside the calorimeter after ``_REDRAWS`` redraws
        of its depth, or outside the grid laterally, is lost.

        Raises:
            ShapeMismatchError: not ``(n, 6)``.
            NonFiniteInputError: NaN or infinity in ``descriptions``.
        """
        return self._render(descriptions, seed, normalize=True)

    def _render(self, descriptions: np.ndarray, seed: int, *, normalize: bool) -> ak.Array:
        descriptions = np.asarray(descriptions, np.float64)
        if descriptions.ndim != 2 or descriptions.shape[1] != len(DESCRIPTION_NAMES):
            raise ShapeMismatchError(
                f"ShowerRenderer.render needs descriptions of shape (n, "
                f"{len(DESCRIPTION_NAMES)}) with columns {DESCRIPTION_NAMES}, got "
                f"{descriptions.shape}."
            )
        bad = ~np.isfinite(descriptions)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise NonFiniteInputError(
                f"ShowerRenderer.render: description {row} has {descriptions[row, col]} in "
                f"column {DESCRIPTION_NAMES[col]!r}; pass finite descriptions."
            )
        n = len(descriptions)
        rng = np.random.default_rng(seed)
        c = self.config
        alpha = np.clip(np.exp(descriptions[:, 2]), *_ALPHA_RANGE)
        beta = np.exp(descriptions[:, 3])
        # at most 10x the reference's spots per shower (bounds the memory for a wild sample)
        max_spots = 10.0 * c.spots_per_gev * c.energy_gev
        # exp of a wild log energy must not overflow: cap it where the spots are capped
        energy_mev = np.exp(np.minimum(descriptions[:, 0],
                                       math.log(max_spots * c.spot_energy_mev)))
        showers = {
            "n_spots": np.rint(np.minimum(self.spot_scale * energy_mev / c.spot_energy_mev,
                                          max_spots)).astype(np.int64),
            "t0": descriptions[:, 1],
            "alpha": alpha,
            "beta": beta,
            "t_max": (alpha - 1.0) / beta,
            "x0": descriptions[:, 4],
            "y0": descriptions[:, 5],
        }
        nl, nx, ny = c.shape
        keys, spots = [], []
        for start in range(0, n, _SPOT_BATCH):
            batch = {name: v[start : start + _SPOT_BATCH] for name, v in showers.items()}
            cells, n_in_cell = self._deposit(rng, batch)
            keys.append(cells + start * nl * nx * ny)
            spots.append(n_in_cell)
        cells = np.concatenate(keys) if keys else np.zeros(0, np.int64)
        energy = (np.concatenate(spots) if spots else np.zeros(0)) * c.spot_energy_mev
        if c.cell_noise > 0:
            shape = 1.0 / c.cell_noise**2
            energy = energy * rng.gamma(shape, 1.0 / shape, energy.size)
        if normalize and energy.size:
            owner = cells // (nl * nx * ny)
            deposited = np.bincount(owner, energy, n)
            factor = np.divide(energy_mev, deposited, out=np.zeros(n), where=deposited > 0)
            energy = energy * factor[owner]
        energy = energy.astype(np.float32)
        keep = energy >= np.float32(c.threshold_mev)
        cells, energy = cells[keep], energy[keep]
        cells, iy = np.divmod(cells, ny)
        cells, ix = np.divmod(cells, nx)
        event, layer = np.divmod(cells, nl)
        hits = ak.zip({"layer": layer.astype(np.int16), "ix": ix.astype(np.int16),
                       "iy": iy.astype(np.int16), "E": energy})
        return ak.zip(
            {
                "event": np.arange(n, dtype=np.uint64),
                "weight": np.ones(n),
                "E_true": np.full(n, float(c.energy_gev)),
                "Hit": ak.unflatten(hits, np.bincount(event, minlength=n)),
            },
            depth_limit=1,
        )

    def _deposit(self, rng: np.random.Generator, showers: dict) -> tuple[np.ndarray, np.ndarray]:
        """Spots of a batch of showers → sorted unique cell keys and spot counts per cell.

        A key is ``((shower · layers + layer) · n_x + ix) · n_y + iy``.
        """
        c = self.config
        owner = np.repeat(np.arange(len(showers["t0"])), showers["n_spots"])
        alpha, beta, t0 = (showers[k][owner] for k in ("alpha", "beta", "t0"))
        depth = rng.standard_gamma(alpha) / beta
        depth_max = c.n_layers * c.layer_x0
        outside = np.flatnonzero((depth + t0 < 0) | (depth + t0 >= depth_max))
        for _ in range(_REDRAWS):
            if outside.size == 0:
                break
            depth[outside] = rng.standard_gamma(alpha[outside]) / beta[outside]
            total = depth[outside] + t0[outside]
            outside = outside[(total < 0) | (total >= depth_max)]
        core, tail, p_core = _radial_parameters(c, depth / showers["t_max"][owner])
        u = rng.random((3, owner.size))
        radius = np.where(u[0] < p_core, core, tail) * c.moliere_radius_mm
        radius *= np.sqrt(u[1] / (1.0 - u[1]))
        phi = 2.0 * np.pi * u[2]
        nl, nx, ny = c.shape
        layer = np.floor((depth + t0) / c.layer_x0)
        ix = np.floor((showers["x0"][owner] + radius * np.cos(phi)) / c.cell_size_mm + nx / 2)
        iy = np.floor((showers["y0"][owner] + radius * np.sin(phi)) / c.cell_size_mm + ny / 2)
        inside = (layer >= 0) & (layer < nl) & (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        key = (owner[inside] * nl + layer[inside].astype(np.int64)) * nx + ix[inside].astype(
            np.int64
        )
        return np.unique(key * ny + iy[inside].astype(np.int64), return_counts=True)
