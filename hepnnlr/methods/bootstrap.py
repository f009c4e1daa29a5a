"""Bootstrap replicas of the target: Poisson(1) event weights, and the DCTR refit per replica.

The statistical uncertainty of a fitted parameter from the finite target ("data") sample
is the spread of the fit over bootstrap replicas of that sample. A replica gives every
target event a weight drawn from Poisson(1) — the large-sample limit of resampling ``N``
events with replacement, which keeps the events and only changes their multiplicities
(Efron, "Bootstrap methods: another look at the jackknife", Ann. Statist. 7 (1979) 1; the
Poisson form as in ATLAS's BootstrapGenerator and the OmniFold replicas of
:func:`hepnnlr.methods.bootstrap_omnifold`).

* :func:`poisson_weights`: the weights of replica ``b``, drawn from the seed sequence
  ``(seed, b)``: replica ``b`` is the same however many replicas run.
* :func:`dctr_replicas`: the DCTR fit (Eq. 3 of Andreassen, Hsu, Nachman, Suaysom, Suresh,
  "Parameter Estimation using Neural Networks in the Presence of Detector Effects",
  arXiv:2010.03569) of every replica with the *same* frozen reweighter ``f(x, θ)``, which is
  trained on simulation only. The loss is linear in the target's weights,
  ``L_b(θ) = Σ_i w_bi ℓ_i(θ) / Σ_i w_bi + L_nominal(θ)``, so the network is evaluated
  once per node of a grid around the fit and every replica's loss on the nodes is one
  matrix product; each replica's θ is the minimum of the cubic interpolation of its loss
  between the nodes (:class:`DCTRReplicas`).

SRGN's classifier ``g`` is trained on the target, so an SRGN replica reruns the whole fit
with the target weights (``data_weights`` of :class:`hepnnlr.methods.srgn.SRGNObjective`).
NumPy and scipy; the network is reached through the reweighter's logits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import product

import numpy as np
from scipy.interpolate import CubicSpline, RegularGridInterpolator

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.methods.dctr import DCTRReweighter
from hepnnlr.methods.dctr_fits import _terms, dctr_fit
from hepnnlr.methods.theta import check_features
from hepnnlr.tensors.events import EventTensors

__all__ = ["DCTRReplicas", "dctr_replicas", "poisson_weights", "replica_weights"]

_NODES = {1: 17, 2: 9}
"""Grid nodes per parameter around the fit (7 for three or more parameters)."""
_DENSE = {1: 2001, 2: 201}
"""Points per parameter of the interpolated loss (31 for three or more parameters)."""
_CHUNK = 64
"""Replicas interpolated at once (bounds the memory of the dense grid)."""


def _seed(seed: int, where: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"{where}: seed={seed!r} must be an integer >= 0.")
    return int(seed)


def poisson_weights(n: int, replica: int, seed: int, stream: int | None = None) -> np.ndarray:
    """Poisson(1) weights of ``n`` events for bootstrap replica ``replica`` (float64).

    Drawn from ``numpy.random.default_rng([seed, replica])`` (the target's replicas), or
    ``[seed, replica, stream]`` for another sample's (independent of the target's): a
    replica's weights do not depend on how many replicas are drawn, nor on their order.
    """
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ConfigError(f"poisson_weights: n={n!r} must be a positive integer (events).")
    key = [_seed(seed, "poisson_weights"), _seed(replica, "poisson_weights replica")]
    if stream is not None:
        key.append(_seed(stream, "poisson_weights stream"))
    return np.random.default_rng(key).poisson(1.0, int(n)).astype(np.float64)


def replica_weights(n: int, replicas: int, seed: int, *, first: int = 0) -> np.ndarray:
    """``(replicas, n)`` :func:`poisson_weights` of replicas ``first, first + 1, …``."""
    if isinstance(replicas, bool) or int(replicas) != replicas or replicas < 1:
        raise ConfigError(f"replica_weights: replicas={replicas!r} must be >= 1.")
    return np.stack([poisson_weights(n, first + b, seed) for b in range(int(replicas))])


@dataclass(frozen=True)
class DCTRReplicas:
    """The DCTR fits of bootstrap replicas of the target with one frozen reweighter.

    Attributes:
        theta_names: Parameters, in column order.
        central: ``(k,)`` the same estimator on the unweighted target (the reference of
            the shifts).
        theta: ``(B, k)`` the fitted θ of each replica.
        refit: ``(B,)`` replicas whose minimum lay on the node window's edge inside the
            bounds, refitted with :func:`~hepnnlr.methods.dctr_fits.dctr_fit` instead.
        linearized: ``(k,)`` the pilot error of the window: the sandwich (delta-method)
            error of θ from the target alone, ``sqrt(Var_i(∂ℓ_i/∂θ) / N_eff) / (∂²L/∂θ²)``
            from finite differences at the fit (diagonal; NaN where the loss is not
            curved there).
        window: ``{name: (low, high)}`` of the nodes.
        nodes: Nodes per parameter (the network is evaluated ``nodes^k + 1 + 2k`` times).
    """

    theta_names: tuple[str, ...]
    central: np.ndarray
    theta: np.ndarray
    refit: np.ndarray
    linearized: np.ndarray
    window: dict[str, tuple[float, float]]
    nodes: int

    @property
    def shifts(self) -> np.ndarray:
        """``(B, k)``: each replica's θ minus :attr:`central`."""
        return self.theta - self.central


def _losses(
    reweighter: DCTRReweighter,
    both: EventTensors,
    n_data: int,
    theta: np.ndarray,
    extrapolate: bool,
) -> tuple[np.ndarray, float]:
    """Per data event ``ℓ_i(θ)`` and the nominal sample's mean loss at one θ."""
    logits = reweighter.logits(both, theta, extrapolate=extrapolate)
    return _terms(logits[:n_data], 1), float(_terms(logits[n_data:], 0).mean())


def _linearized(reweighter, both, n_data, center, bounds, extrapolate) -> np.ndarray:
    """Sandwich error per parameter from central differences at ``center``."""
    names = reweighter.theta_names
    data0, nominal0 = _losses(reweighter, both, n_data, center, extrapolate)
    out = np.full(len(names), np.nan)
    for j, name in enumerate(names):
        low, high = bounds[name]
        step = 0.01 * (high - low)
        mid = float(np.clip(center[j], low + step, high - step))
        up, down = center.copy(), center.copy()
        # clipped: mid - step can round below the bound it was kept from
        up[j], down[j] = min(mid + step, high), max(mid - step, low)
        d_up, n_up = _losses(reweighter, both, n_data, up, extrapolate)
        d_down, n_down = _losses(reweighter, both, n_data, down, extrapolate)
        at = center.copy()
        at[j] = mid
        d_mid, n_mid = (
            (data0, nominal0)
            if mid == center[j]
            else _losses(reweighter, both, n_data, at, extrapolate)
        )
        h_up, h_down = up[j] - mid, mid - down[j]
        gradient = (d_up - d_down) / (h_up + h_down)
        curvature = (
            2
            * (
                (d_up.mean() + n_up - d_mid.mean() - n_mid) / h_up
                - (d_mid.mean() + n_mid - d_down.mean() - n_down) / h_down
            )
            / (h_up + h_down)
        )
        if curvature > 0:
            out[j] = gradient.std(ddof=1) / np.sqrt(n_data) / curvature
    return out


def _minima(axes: list[np.ndarray], losses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum of the cubic interpolation of each replica's loss on the nodes.

    ``losses`` ``(B, G1, …, Gk)``. Returns ``(B, k)`` minima and ``(B,)`` whether a
    minimum lies on the window's edge (per parameter it refines the dense grid minimum
    by the parabola through it and its two neighbours).
    """
    k = len(axes)
    dense = [np.linspace(a[0], a[-1], _DENSE.get(k, 31)) for a in axes]
    out = np.empty((len(losses), k))
    edge = np.zeros(len(losses), bool)
    for start in range(0, len(losses), _CHUNK):
        block = losses[start : start + _CHUNK]
        if k == 1:
            values = CubicSpline(axes[0], block.T)(dense[0]).T  # (b, dense)
        else:
            moved = np.moveaxis(block, 0, -1)  # (G1, …, Gk, b)
            mesh = np.stack(np.meshgrid(*dense, indexing="ij"), axis=-1).reshape(-1, k)
            values = RegularGridInterpolator(tuple(axes), moved, method="cubic")(mesh).T
            values = values.reshape((len(block), *[len(d) for d in dense]))
        flat = values.reshape(len(block), -1)
        index = np.array(np.unravel_index(np.argmin(flat, axis=1), values.shape[1:])).T
        for r, idx in enumerate(index):
            for j in range(k):
                i = idx[j]
                x = dense[j][i]
                if 0 < i < len(dense[j]) - 1:
                    below, above = list(idx), list(idx)
                    below[j], above[j] = i - 1, i + 1
                    y0 = values[(r, *idx)]
                    ym, yp = values[(r, *below)], values[(r, *above)]
                    denominator = ym - 2 * y0 + yp
                    if denominator > 0:
                        x += 0.5 * (dense[j][1] - dense[j][0]) * (ym - yp) / denominator
                else:
                    edge[start + r] = True
                out[start + r, j] = x
    return out, edge


def dctr_replicas(
    reweighter: DCTRReweighter,
    data: EventTensors,
    nominal: EventTensors,
    weights: np.ndarray,
    *,
    center: Mapping[str, float],
    bounds: Mapping[str, tuple[float, float]] | None = None,
    extrapolate: bool = False,
    width: float = 5.0,
    nodes: int | None = None,
    xtol: float = 1e-4,
) -> DCTRReplicas:
    """Refit θ (Eq. 3, ``f`` frozen) on every bootstrap replica of ``data``.

    The nodes span ``center ± width × σ_lin`` per parameter (σ_lin: the sandwich error of
    :attr:`DCTRReplicas.linearized`; the whole bound range where the loss is not curved),
    cut to ``bounds``. A replica whose minimum lies on the window's edge inside the bounds
    is refitted by :func:`~hepnnlr.methods.dctr_fits.dctr_fit` with its weights; on a
    bound it stays there (a fit at the bound).

    Args:
        reweighter: The trained ``f(x, θ)`` (the one of the fit being bootstrapped).
        data: The target events (the reweighter's features).
        nominal: The nominal events of the fit.
        weights: ``(B, len(data))`` replica weights (:func:`replica_weights`).
        center: The fitted θ the window is centred on.
        bounds: The fit range (default: the reweighter's training range).
        extrapolate: Allow bounds outside the training range.
        width: Half width of the window in units of σ_lin.
        nodes: Nodes per parameter (default 17 for one parameter, 9 for two, 7 beyond).
        xtol: Tolerance of the refits of edge replicas (:func:`dctr_fit`).
    """
    names = reweighter.theta_names
    bounds = dict(reweighter.theta_range if bounds is None else bounds)
    missing = [n for n in names if n not in bounds or n not in center]
    if missing:
        raise ConfigError(f"dctr_replicas: no bounds or center for {missing}; give {names}.")
    check_features(data, reweighter.features, "the data")
    check_features(nominal, reweighter.features, "the nominal sample")
    weights = np.atleast_2d(np.asarray(weights, np.float64))
    if weights.shape[1] != len(data):
        raise ShapeMismatchError(
            f"dctr_replicas: weights of shape {weights.shape} for {len(data)} data events; "
            "give (replicas, events)."
        )
    if not (np.all(weights >= 0) and np.all(weights.sum(axis=1) > 0)):
        raise ConfigError("dctr_replicas: replica weights must be >= 0 with a positive sum.")
    k = len(names)
    nodes = int(nodes or _NODES.get(k, 7))
    if nodes < 4:
        raise ConfigError(f"dctr_replicas: nodes={nodes} must be >= 4 (cubic interpolation).")
    n_data = len(data)
    both = EventTensors.concatenate([data, nominal])
    c = np.array([float(center[n]) for n in names])
    linearized = _linearized(reweighter, both, n_data, c, bounds, extrapolate)
    axes, window = [], {}
    for j, name in enumerate(names):
        low, high = (float(v) for v in bounds[name])
        half = width * linearized[j] if np.isfinite(linearized[j]) else high - low
        lo, hi = max(low, c[j] - half), min(high, c[j] + half)
        if not hi > lo:
            lo, hi = low, high
        axes.append(np.linspace(lo, hi, nodes))
        window[name] = (float(lo), float(hi))
    grid = np.array(list(product(*axes)))
    data_terms = np.empty((n_data, len(grid)))
    nominal_loss = np.empty(len(grid))
    for g, point in enumerate(grid):
        data_terms[:, g], nominal_loss[g] = _losses(reweighter, both, n_data, point, extrapolate)
    all_weights = np.vstack([np.ones(n_data), weights])
    losses = all_weights @ data_terms / all_weights.sum(axis=1)[:, None] + nominal_loss
    minima, on_edge = _minima(axes, losses.reshape((len(all_weights), *[nodes] * k)))
    refit = np.zeros(len(all_weights), bool)
    for r in np.flatnonzero(on_edge):
        at_bound = any(
            np.isclose(minima[r, j], float(bounds[n][0]))
            or np.isclose(minima[r, j], float(bounds[n][1]))
            for j, n in enumerate(names)
        )
        if at_bound:
            continue
        result = dctr_fit(
            reweighter,
            data,
            nominal,
            bounds=bounds,
            xtol=xtol,
            extrapolate=extrapolate,
            start=list(c),
            data_weights=all_weights[r],
        )
        minima[r] = [result.theta[n] for n in names]
        refit[r] = True
    return DCTRReplicas(tuple(names), minima[0], minima[1:], refit[1:], linearized, window, nodes)
