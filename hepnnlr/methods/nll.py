"""The NLL of the signal-strength mixture on a (μ, z) grid, and its profiles.

``NLL(μ, z) = -Σ_i log p(x_i | μ, z)`` of Eq. 2.5 of B. Sluijter,
*Classifiers versus Normalizing Flows for uncertainty-aware estimation of a signal ratio*,
MSc thesis, Leiden University 2024, hdl:1887/4104579, for the dataset itself or for many bootstrap
sets of it at once (:func:`nll_from_table` with ``counts``), scanned on a grid (§3.3.1,
:func:`scan_nll`) and profiled in one parameter (:func:`profile_nll`). NumPy only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hepnnlr.errors import ConfigError
from hepnnlr.methods.scans import Scan

if TYPE_CHECKING:  # only for annotations: mixture_likelihood imports this module
    from hepnnlr.methods.mixture_likelihood import MixtureLikelihood

__all__ = [
    "PARAMETERS",
    "nll_from_table",
    "profile_nll",
    "scan_nll",
]

PARAMETERS = ("mu", "z")
"""The two parameters of the model, in grid-axis order."""

# Per-event table chunks: events x mu x z-columns kept below this many float64 values.
_CHUNK_VALUES = 4_000_000


# ----------------------------------------------------------------------------- the NLL grid


def nll_from_table(
    log_sig: np.ndarray,
    log_bkg: np.ndarray,
    mu_grid: np.ndarray,
    counts: np.ndarray | None = None,
) -> np.ndarray:
    """NLL on the (μ, z) grid from per-event log densities, for one or many event sets.

    Args:
        log_sig, log_bkg: ``(n_events, n_z)`` from :meth:`MixtureLikelihood.event_log_densities`.
        mu_grid: ``(n_mu,)`` values of μ >= 0.
        counts: ``None`` for the dataset itself, or ``(n_sets, n_events)`` multiplicities of
            each event in each set (bootstrap sets: :func:`bootstrap_counts`).

    Returns:
        ``(n_mu, n_z)``, or ``(n_sets, n_mu, n_z)`` with ``counts``.
    """
    mu = np.asarray(mu_grid, dtype=np.float64)
    n, n_z = log_sig.shape
    # log[μ/(μ+1) e^{ls} + 1/(μ+1) e^{lb}] = m + log(μ e^{ls-m} + e^{lb-m}) - log(1+μ) with
    # m = max(ls, lb): one exp per (event, z) and one log per (event, μ, z).
    top = np.maximum(log_sig, log_bkg)
    e_sig = np.exp(log_sig - top)
    e_bkg = np.exp(log_bkg - top)
    weights = None if counts is None else np.asarray(counts, dtype=np.float64)
    if weights is None:
        const = -top.sum(axis=0)[None, :] + n * np.log1p(mu)[:, None]
        out = np.empty((len(mu), n_z))
    else:
        const = (-(weights @ top))[:, None, :] + (
            weights.sum(axis=1)[:, None, None] * np.log1p(mu)[None, :, None]
        )
        out = np.empty((len(weights), len(mu), n_z))
    step = max(1, _CHUNK_VALUES // max(1, n * len(mu)))
    with np.errstate(divide="ignore"):  # μ = 0 and a vanishing background density: log 0
        for j in range(0, n_z, step):
            cols = slice(j, j + step)
            per_event = np.log(mu[None, :, None] * e_sig[:, None, cols] + e_bkg[:, None, cols])
            if weights is None:
                out[:, cols] = -per_event.sum(axis=0)
            else:
                block = -(weights @ per_event.reshape(n, -1))
                out[:, :, cols] = block.reshape(len(weights), len(mu), -1)
    return out + const


def scan_nll(
    likelihood: MixtureLikelihood,
    data: Any,
    mu_grid: np.ndarray,
    z_grid: np.ndarray,
    *,
    batch_size: int = 65_536,
) -> Scan:
    """``NLL(μ, z)`` of ``data`` on the grid ``mu_grid x z_grid`` (§3.3.1 of hdl:1887/4104579).

    Returns a :class:`~hepnnlr.methods.scans.Scan` of kind ``"nll"`` over ``("mu", "z")``
    (values up to a constant; no errors) with ``extras`` ``n_events`` and ``likelihood``
    (``likelihood.name``).

    The densities are evaluated once per (event, z) in batches; the μ dependence is then
    exact arithmetic (Eq. 2.5). Grids outside the trained ranges raise :class:`ConfigError`;
    ``data`` lacking a feature raises :class:`MissingBranchError`; a NaN density raises
    :class:`NonFiniteInputError`.
    """
    mu_grid, z_grid = likelihood.check_grid(mu_grid, z_grid)
    log_sig, log_bkg = likelihood.event_log_densities(data, z_grid, batch_size=batch_size)
    nll = nll_from_table(log_sig, log_bkg, mu_grid)
    return Scan(
        PARAMETERS,
        (mu_grid, z_grid),
        nll,
        kind="nll",
        extras={"n_events": len(log_sig), "likelihood": likelihood.name},
    )


# ----------------------------------------------------------------------------- profiles


def _refined_min(values: np.ndarray, axis: int) -> np.ndarray:
    """Minimum along ``axis`` refined by a parabola through the lowest grid point and its
    neighbours (exact for a quadratic NLL; removes the grid-spacing bias of a plain min)."""
    v = np.moveaxis(values, axis, -1)
    k = np.clip(np.argmin(v, axis=-1), 1, v.shape[-1] - 2)
    left = np.take_along_axis(v, (k - 1)[..., None], -1)[..., 0]
    mid = np.take_along_axis(v, k[..., None], -1)[..., 0]
    right = np.take_along_axis(v, (k + 1)[..., None], -1)[..., 0]
    curvature = left - 2 * mid + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curvature > 0, 0.5 * (left - right) / curvature, 0.0)
    shift = np.clip(shift, -1.0, 1.0)
    refined = mid - 0.25 * (left - right) * shift
    return np.minimum(refined, v.min(axis=-1))


def profile_nll(scan: Scan, parameter: str) -> tuple[np.ndarray, np.ndarray]:
    """Profile likelihood ``NLL(θ, θ̂_1)`` in ``parameter`` of a two-parameter scan (the
    other one minimized).

    The minimum over the other parameter's grid is refined by a parabola, so the profile
    does not carry the grid spacing as an error.

    Returns:
        ``(grid of parameter, profiled NLL)``.
    """
    axis = scan.index(parameter)
    if len(scan.parameters) != 2:
        raise ConfigError(
            f"profile_nll needs a scan of two parameters (such as {PARAMETERS}); this one "
            f"scans {list(scan.parameters)}."
        )
    return scan.axis(parameter), _refined_min(scan.values, 1 - axis)
