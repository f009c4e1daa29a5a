"""Parametric electromagnetic showers: a stand-in for the Geant4 calorimeter of DCTRGAN.

Reference: Diefenbacher, Eren, Kasieczka, Korol, Nachman, Shih, "DCTRGAN: Improving the
Precision of Generative Models with Reweighting", JINST 15 (2020) P11004, arXiv:2009.03796.

Sec. III B of arXiv:2009.03796 reweights GAN showers of 50 GeV photons in a 30-layer
silicon–tungsten calorimeter (ILD), each layer read out as 30 × 30 cells, with hits below
0.1 MeV removed. Full simulation is out of reach here, so :func:`generate_calo` draws
showers from the Grindhammer–Peters (GP) parametrization [Grindhammer & Peters,
hep-ex/0001020; the GFlash model of Geant4], sampled with energy spots:

1. **Conversion.** The photon converts at depth t₀ ~ Exponential(mean
   ``conversion_x0`` = 9/7 X₀); the shower starts there.
2. **Longitudinal profile** (per shower): dE/dt ∝ Gamma(t − t₀; α, β), i.e.
   ``(β t)^(α−1) β e^(−β t) / Γ(α)``, with T = (α − 1)/β the depth of the maximum. As in
   GP for a homogeneous medium with y = E/E_c, (ln T, ln α) is bivariate normal with
   ⟨ln T⟩ = ln(ln y − 0.812), ⟨ln α⟩ = ln(0.81 + (0.458 + 2.26/Z) ln y),
   σ(ln T) = 1/(−1.4 + 1.26 ln y), σ(ln α) = 1/(−0.58 + 0.86 ln y) and correlation
   ρ = 0.705 − 0.023 ln y. ``profile_fluctuations`` scales both σ (0: every shower has
   the average parameters). Draws with α < 1.01 (no maximum; beyond 4σ even at 1 GeV) are
   set to 1.01.
3. **Spots.** A shower deposits N ~ Poisson(``spots_per_gev`` × E) spots of equal
   visible energy ``sampling_fraction`` × E / ⟨N⟩. Each spot gets a depth t − t₀ drawn
   from the shower's Gamma, so a layer receives on average the Gamma integral over its
   depth interval [k, k + 1) × ``layer_x0``; spots beyond the last layer leak out.
4. **Lateral profile** (per spot, at τ = (t − t₀)/T): the GP two-component radial density
   f(r) = p·2r R_C²/(r² + R_C²)² + (1 − p)·2r R_T²/(r² + R_T²)² in units of the
   Molière radius, with R_C = z₁ + z₂ τ, R_T = k₁(e^{k₃(τ−k₂)} + e^{k₄(τ−k₂)}),
   p = p₁ exp((p₂ − τ)/p₃ − e^{(p₂−τ)/p₃}) and GP's coefficients (z₁ = 0.0251 +
   0.00319 ln E, z₂ = 0.1162 − 0.000381 Z, k₁ = 0.659 − 0.00309 Z, k₂ = 0.645,
   k₃ = −2.59, k₄ = 0.3585 + 0.0412 ln E, p₁ = 2.632 − 0.00094 Z, p₂ = 0.401 + 0.00187 Z,
   p₃ = 1.313 − 0.0686 ln E; E in GeV). The core width grows linearly with depth and the
   tail dominates late in the shower. Radii are sampled by inverting the CDF
   r²/(r² + R²); azimuths are uniform. Spots outside the 30 × 30 grid are lost.
5. **Impact point.** The shower axis is shifted from the grid centre by a Gaussian
   jitter of ``impact_sigma_mm`` in x and y (the grid centre is a cell corner).
6. **Cells.** Spot energies are summed per cell, each cell is multiplied by Gamma noise of
   mean 1 and relative width ``cell_noise`` (sensor and electronics fluctuations), cast to
   float32, and cells below ``threshold_mev`` are dropped (the MIP cut of arXiv:2009.03796).

Simplifications against GP/GFlash, on purpose: one profile for energy and spots (GFlash
draws the spots from a slightly different Gamma than the energy), τ measured with the
shower's own T, homogeneous parameters for the whole Si–W stack (Z = 74, E_c = 7.97 MeV,
an effective Molière radius larger than tungsten's 9.3 mm because of the sensor gaps)
and uniform layers of ``layer_x0`` radiation lengths (ILD has 20 × 0.6 X₀ then
10 × 1.2 X₀; 30 × 0.8 X₀ has the same 24 X₀ depth and puts the mean shower maximum just
beyond the tenth layer, as arXiv:2009.03796 reports for its Geant4 showers).

``spots_per_gev`` (80) and ``sampling_fraction`` (1.5%) are tuned, not derived: with
them the default showers (2,000, seed 1) activate 780 ± 54 cells (the Geant4 showers of
arXiv:2009.03796 peak around 780), deposit 733 ± 29 MeV of visible energy (98% of 750 MeV: the
rest leaks out or falls below threshold), peak in layer 12 and have a mean longitudinal
centroid of 14.2 (layers counted from 1).

Units: hit energies are visible (sensor) energies in MeV; ``E_true`` is in GeV; lengths in
mm. The storage layout (sparse ``Hit`` collection) is described in
:mod:`hepnnlr.samples.calo_io`.

Reproducibility: showers come in blocks of ``block_size``; block b draws from
``numpy.random.default_rng(SeedSequence([seed, b]))``, so the output depends on ``seed``,
``block_size`` and the config only, never on ``workers``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields
from pathlib import Path

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError
from hepnnlr.samples.blocks import run_blocks
from hepnnlr.samples.calo_io import (
    GRID_SHAPE,
    check_calo_file,
    hits_to_images,
    images_to_hits,
    read_calo_events,
    write_calo_events,
)
from hepnnlr.samples.dis import BLOCK_SIZE, _block_sizes, _validate_counts

__all__ = [
    "ShowerConfig",
    "check_calo_file",
    "generate_calo",
    "hits_to_images",
    "images_to_hits",
    "make_calo_sample",
    "read_calo_events",
    "write_calo_events",
]

_ALPHA_MIN = 1.01
_SPOT_BATCH = 200  # showers whose spots are held in memory at once


@dataclass(frozen=True)
class ShowerConfig:
    """Settings of the parametric photon showers (model in the module docstring).

    Attributes:
        energy_gev: incident photon energy, GeV (arXiv:2009.03796: 50 GeV). At least 1 GeV,
            where the GP parametrization stops being valid.
        n_layers, n_x, n_y: the grid: layers along the photon, cells along x and y.
        layer_x0: thickness of one layer in radiation lengths.
        cell_size_mm: cell pitch in x and y (ILD: 5 mm).
        moliere_radius_mm: effective Molière radius of the stack.
        z: atomic number used by the GP formulas (tungsten: 74).
        critical_energy_mev: critical energy E_c (tungsten: 7.97 MeV).
        conversion_x0: mean photon conversion depth in X₀ (9/7); 0 starts every shower
            at the front face.
        profile_fluctuations: scale of GP's shower-to-shower spreads of ln T and ln α
            (1: GP; 0: every shower has the average profile).
        spots_per_gev: mean number of energy spots per GeV of incident energy.
        sampling_fraction: visible (sensor) energy over incident energy.
        impact_sigma_mm: Gaussian spread of the impact point in x and y.
        cell_noise: relative width of the multiplicative Gamma noise per cell (0: none).
        threshold_mev: cells with less visible energy are dropped (arXiv:2009.03796: 0.1
            MeV).
    """

    energy_gev: float = 50.0
    n_layers: int = GRID_SHAPE[0]
    n_x: int = GRID_SHAPE[1]
    n_y: int = GRID_SHAPE[2]
    layer_x0: float = 0.8
    cell_size_mm: float = 5.0
    moliere_radius_mm: float = 15.0
    z: float = 74.0
    critical_energy_mev: float = 7.97
    conversion_x0: float = 9.0 / 7.0
    profile_fluctuations: float = 1.0
    spots_per_gev: float = 80.0
    sampling_fraction: float = 0.015
    impact_sigma_mm: float = 1.0
    cell_noise: float = 0.3
    threshold_mev: float = 0.1

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name in ("n_layers", "n_x", "n_y"):
                if isinstance(value, bool) or not isinstance(value, int | np.integer):
                    raise ConfigError(
                        f"ShowerConfig.{field.name} must be an integer, got {value!r}."
                    )
                if not 1 <= value <= np.iinfo(np.int16).max:
                    raise ConfigError(
                        f"ShowerConfig.{field.name} must be between 1 and 32767 (cell indices "
                        f"are stored as int16), got {value}."
                    )
                continue
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                raise ConfigError(f"ShowerConfig.{field.name} must be a number, got {value!r}.")
            if not math.isfinite(value):
                raise ConfigError(f"ShowerConfig.{field.name} must be finite, got {value!r}.")
        positive = (
            "layer_x0",
            "cell_size_mm",
            "moliere_radius_mm",
            "z",
            "critical_energy_mev",
            "spots_per_gev",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(
                    f"ShowerConfig.{name} must be positive, got {getattr(self, name)!r}."
                )
        for name in ("conversion_x0", "profile_fluctuations", "impact_sigma_mm", "cell_noise"):
            if getattr(self, name) < 0:
                raise ConfigError(
                    f"ShowerConfig.{name} must be zero or positive, got {getattr(self, name)!r}."
                )
        if self.energy_gev < 1.0:
            raise ConfigError(
                f"ShowerConfig.energy_gev={self.energy_gev!r}: the Grindhammer-Peters "
                "parametrization holds from about 1 GeV up; choose energy_gev >= 1."
            )
        if not 0 < self.sampling_fraction <= 1:
            raise ConfigError(
                "ShowerConfig.sampling_fraction must lie in (0, 1], got "
                f"{self.sampling_fraction!r}."
            )
        if self.threshold_mev < 0:
            raise ConfigError(
                f"ShowerConfig.threshold_mev must be zero or positive, got {self.threshold_mev!r}."
            )

    @property
    def shape(self) -> tuple[int, int, int]:
        """(layers, x cells, y cells) of the grid."""
        return (self.n_layers, self.n_x, self.n_y)

    @property
    def spot_energy_mev(self) -> float:
        """Visible energy of one spot, MeV."""
        return self.sampling_fraction * 1000.0 / self.spots_per_gev

    def profile_parameters(self) -> dict[str, float]:
        """GP means, spreads and correlation of (ln T, ln α) at this energy (T in X₀)."""
        log_y = math.log(self.energy_gev * 1000.0 / self.critical_energy_mev)
        return {
            "mean_log_T": math.log(log_y - 0.812),
            "mean_log_alpha": math.log(0.81 + (0.458 + 2.26 / self.z) * log_y),
            "sigma_log_T": self.profile_fluctuations / (-1.4 + 1.26 * log_y),
            "sigma_log_alpha": self.profile_fluctuations / (-0.58 + 0.86 * log_y),
            "rho": 0.705 - 0.023 * log_y,
        }


def _radial_parameters(config: ShowerConfig, tau: np.ndarray) -> tuple[np.ndarray, ...]:
    """GP core radius, tail radius (Molière units) and core probability at depths τ."""
    log_e = math.log(config.energy_gev)
    z = config.z
    core = (0.0251 + 0.00319 * log_e) + (0.1162 - 0.000381 * z) * tau
    k1, k2, k3, k4 = 0.659 - 0.00309 * z, 0.645, -2.59, 0.3585 + 0.0412 * log_e
    tail = k1 * (np.exp(k3 * (tau - k2)) + np.exp(k4 * (tau - k2)))
    p1, p2, p3 = 2.632 - 0.00094 * z, 0.401 + 0.00187 * z, 1.313 - 0.0686 * log_e
    u = (p2 - tau) / p3
    return core, tail, p1 * np.exp(u - np.exp(u))


def _draw_showers(config: ShowerConfig, rng: np.random.Generator, n: int) -> dict:
    """Per-shower randomness: profile, conversion depth, impact point, number of spots."""
    par = config.profile_parameters()
    g1, g2 = rng.standard_normal((2, n))
    c1, c2 = math.sqrt((1 + par["rho"]) / 2), math.sqrt((1 - par["rho"]) / 2)
    t_max = np.exp(par["mean_log_T"] + par["sigma_log_T"] * (c1 * g1 + c2 * g2))
    alpha = np.exp(par["mean_log_alpha"] + par["sigma_log_alpha"] * (c1 * g1 - c2 * g2))
    alpha = np.maximum(alpha, _ALPHA_MIN)
    t0 = rng.exponential(config.conversion_x0, n) if config.conversion_x0 > 0 else np.zeros(n)
    return {
        "t_max": t_max,
        "alpha": alpha,
        "beta": (alpha - 1.0) / t_max,
        "t0": t0,
        "x0": rng.normal(0.0, config.impact_sigma_mm, n),
        "y0": rng.normal(0.0, config.impact_sigma_mm, n),
        "n_spots": rng.poisson(config.spots_per_gev * config.energy_gev, n),
    }


def _deposit(
    config: ShowerConfig, rng: np.random.Generator, showers: dict
) -> tuple[np.ndarray, np.ndarray]:
    """Spots of the given showers → sorted unique cell keys and their spot counts.

    A key is ``((event · layers + layer) · n_x + ix) · n_y + iy`` with ``event`` counted
    within ``showers``.
    """
    owner = np.repeat(np.arange(len(showers["t_max"])), showers["n_spots"])
    depth = rng.standard_gamma(showers["alpha"][owner]) / showers["beta"][owner]  # X0
    core, tail, p_core = _radial_parameters(config, depth / showers["t_max"][owner])
    u = rng.random((3, owner.size))
    radius = np.where(u[0] < p_core, core, tail) * config.moliere_radius_mm
    del core, tail, p_core
    radius *= np.sqrt(u[1] / (1.0 - u[1]))
    phi = 2.0 * np.pi * u[2]
    del u
    nl, nx, ny = config.shape
    layer = np.floor((depth + showers["t0"][owner]) / config.layer_x0).astype(np.int64)
    ix = np.floor((showers["x0"][owner] + radius * np.cos(phi)) / config.cell_size_mm + nx / 2)
    iy = np.floor((showers["y0"][owner] + radius * np.sin(phi)) / config.cell_size_mm + ny / 2)
    del depth, radius, phi
    inside = (layer < nl) & (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    key = (owner[inside] * nl + layer[inside]) * nx + ix[inside].astype(np.int64)
    return np.unique(key * ny + iy[inside].astype(np.int64), return_counts=True)


def _generate_block(config: ShowerConfig, seed: int, block: int, n_events: int) -> dict:
    """Showers of one block as flat arrays (``counts`` per event and the hit fields).

    The spots are deposited ``_SPOT_BATCH`` showers at a time (a fixed number, so the
    random stream and the output do not change), which bounds the memory to ~150 MB.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, block]))
    showers = _draw_showers(config, rng, n_events)
    nl, nx, ny = config.shape
    keys, spots = [], []
    for start in range(0, n_events, _SPOT_BATCH):
        batch = {name: values[start : start + _SPOT_BATCH] for name, values in showers.items()}
        cells, n_in_cell = _deposit(config, rng, batch)
        keys.append(cells + start * nl * nx * ny)
        spots.append(n_in_cell)
    cells, n_in_cell = np.concatenate(keys), np.concatenate(spots)
    # per cell: noise and threshold
    energy = n_in_cell * config.spot_energy_mev
    if config.cell_noise > 0:
        shape = 1.0 / config.cell_noise**2
        energy = energy * rng.gamma(shape, 1.0 / shape, energy.size)
    energy = energy.astype(np.float32)
    keep = energy >= np.float32(config.threshold_mev)
    cells, energy = cells[keep], energy[keep]
    cells, cell_iy = np.divmod(cells, ny)
    cells, cell_ix = np.divmod(cells, nx)
    event, cell_layer = np.divmod(cells, nl)
    return {
        "counts": np.bincount(event, minlength=n_events),
        "layer": cell_layer.astype(np.int16),
        "ix": cell_ix.astype(np.int16),
        "iy": cell_iy.astype(np.int16),
        "E": energy,
    }


def generate_calo(
    n_events: int,
    *,
    seed: int,
    config: ShowerConfig | None = None,
    workers: int = 1,
    progress: bool = False,
    block_size: int = BLOCK_SIZE,
) -> ak.Array:
    """Generate photon showers (model in the module docstring).

    Args:
        n_events: number of showers, at least 1.
        seed: non-negative integer; with ``block_size`` and ``config`` it fixes the output.
        config: shower settings; ``ShowerConfig()`` (50 GeV photons, 30 × 30 × 30) if not
            given.
        workers: processes; the output does not depend on it.
        progress: show a progress bar (one step per block).
        block_size: showers per independently seeded block.

    Returns:
        One record per shower: ``event`` (uint64, 0 … N−1), ``weight`` (1.0), ``E_true``
        (GeV) and ``Hit``, the jagged cells above threshold (``layer``, ``ix``, ``iy``
        int16, ``E`` float32 in MeV), sorted by (layer, ix, iy). A shower may have no hit.

    Raises:
        ConfigError: for a bad argument.

    Example:
        >>> showers = generate_calo(100, seed=1)
        >>> int(ak.max(showers.Hit.layer)) < 30
        True
    """
    _validate_counts(n_events, block_size, workers, seed)
    config = ShowerConfig() if config is None else config
    if not isinstance(config, ShowerConfig):
        raise ConfigError(
            f"config must be a ShowerConfig or None, got {type(config).__name__}; build one "
            "with ShowerConfig(energy_gev=..., ...)."
        )
    sizes = _block_sizes(int(n_events), int(block_size))
    blocks = run_blocks(
        _generate_block,
        [(config, int(seed), b, n) for b, n in enumerate(sizes)],
        workers=workers,
        progress=progress,
        description="calo showers",
    )
    counts = np.concatenate([b["counts"] for b in blocks])
    hits = ak.zip({f: np.concatenate([b[f] for b in blocks]) for f in ("layer", "ix", "iy", "E")})
    return ak.zip(
        {
            "event": np.arange(int(n_events), dtype=np.uint64),
            "weight": np.ones(int(n_events)),
            "E_true": np.full(int(n_events), float(config.energy_gev)),
            "Hit": ak.unflatten(hits, counts),
        },
        depth_limit=1,
    )


def make_calo_sample(
    path: str | os.PathLike[str],
    *,
    n_events: int,
    seed: int,
    config: ShowerConfig | None = None,
    workers: int = 1,
    progress: bool = True,
    tree: str = "events",
    block_size: int = BLOCK_SIZE,
) -> Path:
    """Generate photon showers and write them to a ROOT file (sparse ``Hit`` layout).

    Args:
        path: output ``.root`` file (replaced if it exists; parent folders are created).
        n_events, seed, config, workers, progress, block_size: as :func:`generate_calo`.
        tree: tree name.

    Returns:
        The path written.

    Example:
        >>> make_calo_sample("g4.root", n_events=10_000, seed=1)  # doctest: +SKIP
        PosixPath('g4.root')
    """
    showers = generate_calo(
        n_events,
        seed=seed,
        config=config,
        workers=workers,
        progress=progress,
        block_size=block_size,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_calo_events(path, showers, tree)
