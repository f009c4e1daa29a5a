"""The DCTR fit (Eq. 3 of arXiv:2010.03569): the loss of a frozen reweighter, its fit, its scan.

Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural Networks in
the Presence of Detector Effects", arXiv:2010.03569, Eq. 3:

    θ* = argmax_θ′ Σ_{x ∈ data} log f(x, θ′) + Σ_{x ∈ θ0} log(1 − f(x, θ′))

with the parameterized classifier ``f`` of :class:`hepnnlr.methods.dctr.DCTRReweighter`
frozen. :func:`dctr_loss` is the (negated, per-sample normalized) sum, :func:`dctr_fit`
minimizes it, :func:`dctr_scan` evaluates it on a grid. Every function takes optional
per-event ``data_weights``: a bootstrap replica of the data (Poisson(1) weights,
:mod:`hepnnlr.methods.bootstrap`) refits θ with the same ``f`` on the reweighted data.

NumPy and scipy; the network is reached through the reweighter's logits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np
from scipy.optimize import minimize, minimize_scalar

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.methods.dctr import DCTRReweighter
from hepnnlr.methods.scans import Scan
from hepnnlr.methods.theta import check_features
from hepnnlr.tensors.adapt import EventsLike, as_events
from hepnnlr.tensors.events import EventTensors

__all__ = [
    "DCTRFitResult",
    "dctr_fit",
    "dctr_loss",
    "dctr_scan",
    "loss_covariance",
    "scan_axes",
]


@dataclass(frozen=True)
class DCTRFitResult:
    """Result of :func:`dctr_fit`: the fitted point, its loss, and the scipy result."""

    theta: dict[str, float]
    loss: float
    n_evaluations: int
    success: bool


def _terms(logits: np.ndarray, label: int) -> np.ndarray:
    """Per-event binary cross entropy of ``sigmoid(logit)`` for events of one label."""
    z = -logits if label == 1 else logits
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _mean_and_error(terms: np.ndarray, weights: np.ndarray | None) -> tuple[float, float]:
    """Weighted mean of ``terms`` and its statistical error ``sqrt(Σw²(t − t̄)²) / Σw``."""
    w = np.ones(len(terms)) if weights is None else weights
    total = w.sum()
    mean = float((w * terms).sum() / total)
    return mean, float(np.sqrt((w**2 * (terms - mean) ** 2).sum()) / total)


def _checked_weights(weights: np.ndarray | None, n: int, what: str) -> np.ndarray | None:
    if weights is None:
        return None
    weights = np.asarray(weights, np.float64).reshape(-1)
    if len(weights) != n:
        raise ShapeMismatchError(
            f"{what}: {len(weights)} weights for {n} events; give one weight per event."
        )
    if not (np.all(np.isfinite(weights)) and np.all(weights >= 0) and weights.sum() > 0):
        raise ConfigError(
            f"{what}: weights must be finite, >= 0 and not all zero (sum {weights.sum():g})."
        )
    return weights


def _unit_box(
    reweighter: DCTRReweighter,
    bounds: Mapping[str, tuple[float, float]],
    where: str,
    extrapolate: bool,
) -> list[tuple[float, float]]:
    """``bounds`` (parameter units) checked against the training range, on the unit scale."""
    names = reweighter.theta_names
    for name in names:
        if name not in bounds:
            raise ConfigError(f"{where}: no bounds for parameter {name!r}; give {names}.")
        low, high = (float(v) for v in bounds[name])
        if not low < high:
            raise ConfigError(
                f"{where}: bounds of {name} are ({low:g}, {high:g}); need low < high."
            )
        r_low, r_high = reweighter.theta_range.get(name, (-np.inf, np.inf))
        if not extrapolate and (low < r_low or high > r_high):
            raise ConfigError(
                f"{where}: bounds ({low:g}, {high:g}) of {name} reach outside the "
                f"reweighter's training range [{r_low:g}, {r_high:g}]; narrow the bounds "
                "(or pass extrapolate=True)."
            )
    lows = reweighter.scale.to_unit([float(bounds[n][0]) for n in names])
    highs = reweighter.scale.to_unit([float(bounds[n][1]) for n in names])
    return [(float(lo), float(hi)) for lo, hi in zip(lows, highs, strict=True)]


def _from_unit(reweighter: DCTRReweighter, unit, bounds: Mapping[str, tuple[float, float]]):
    """``θ`` for a unit-scale point, kept inside ``bounds`` (the round trip may round)."""
    theta = reweighter.scale.from_unit(np.atleast_1d(np.asarray(unit, np.float64)))
    low = [float(bounds[n][0]) for n in reweighter.theta_names]
    high = [float(bounds[n][1]) for n in reweighter.theta_names]
    return np.clip(theta, low, high)


def dctr_fit(
    reweighter: DCTRReweighter,
    data: EventsLike,
    nominal: EventsLike,
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    xtol: float = 1e-4,
    max_iterations: int = 100,
    start: Sequence[float] | None = None,
    extrapolate: bool = False,
    data_weights: np.ndarray | None = None,
    nominal_weights: np.ndarray | None = None,
) -> DCTRFitResult:
    """The DCTR fit of Eq. 3 of arXiv:2010.03569: ``θ* = argmax_θ′ L(θ′)`` with ``f`` frozen.

    ``L(θ′) = Σ_data log f(x, θ′) + Σ_nominal log(1 − f(x, θ′))`` (each sum normalized
    by its sample size). arXiv:2010.03569 performs this maximization by gradient descent on
    ``θ′`` with the network weights frozen; here the same loss, evaluated through the
    frozen classifier's logits, is minimized (its negative) with scipy: a bounded
    Brent search for one parameter, bounded Powell for several. Both searches look for
    the same optimum of the same function of ``θ′``; the loss is smooth in ``θ′`` (the
    network is), so a derivative-free search converges to the minimum that gradient
    descent would reach, without needing TensorFlow gradients in the method layer. For
    the optimal classifier ``f = p(x|θ′) / (p(x|θ′) + p(x|θ0))``, ``L`` is maximal (the
    cross entropy minimal) where ``p(x|θ′) / p(x|θ0)`` equals the data's ratio
    ``p(x|θ_true) / p(x|θ0)``, i.e. at ``θ′ = θ_true``.

    The search runs on the reweighter's unit scale ``u``
    (:class:`~hepnnlr.methods.theta.ThetaScale`), so parameters of very different sizes
    converge alike; bounds, ``start`` and the result are in the parameters' own units.

    Args:
        reweighter: The trained ``f(x, θ)``.
        data: Events of the unknown sample (same features as the reweighter's):
            :class:`EventTensors` or plain arrays (:func:`hepnnlr.tensors.as_events`).
        nominal: Events of the nominal sample (ideally not those ``f`` was trained on).
        bounds: Search range per parameter (default: the training range).
        xtol: Convergence tolerance on ``u``: a fraction of the half width of the
            training range (on θ itself for a reweighter trained with
            ``scale_theta=False``).
        max_iterations: Iteration limit of the optimizer.
        start: Starting point of Powell (several parameters; default: the middle of the
            bounds).
        extrapolate: Allow bounds outside the reweighter's training range (the network is
            then evaluated where it was never trained).
        data_weights: Per-event weights of ``data`` (a bootstrap replica; default 1).
        nominal_weights: Per-event weights of ``nominal`` (a replica of the simulation).
    """
    names = reweighter.theta_names
    bounds = dict(reweighter.theta_range if bounds is None else bounds)
    box = _unit_box(reweighter, bounds, "dctr_fit", extrapolate)
    data = as_events(data, argument="data")
    nominal = as_events(nominal, argument="nominal")
    check_features(data, reweighter.features, "the data")
    check_features(nominal, reweighter.features, "the nominal sample")
    weights = (
        _checked_weights(data_weights, len(data), "dctr_fit data_weights"),
        _checked_weights(nominal_weights, len(nominal), "dctr_fit nominal_weights"),
    )
    both = EventTensors.concatenate([data, nominal])
    evaluations = 0

    def loss(unit) -> float:
        nonlocal evaluations
        evaluations += 1
        theta = _from_unit(reweighter, unit, bounds)
        return _loss_and_error(reweighter, both, len(data), theta, extrapolate, *weights)[0]

    if len(names) == 1:
        result = minimize_scalar(
            loss,
            bounds=box[0],
            method="bounded",
            options={"xatol": xtol, "maxiter": max_iterations},
        )
    else:
        x0 = (
            np.array([0.5 * (lo + hi) for lo, hi in box])
            if start is None
            else reweighter.scale.to_unit(np.asarray(start, float))
        )
        result = minimize(
            loss,
            x0,
            method="Powell",
            bounds=box,
            options={"xtol": xtol, "ftol": xtol, "maxiter": max_iterations},
        )
    x = _from_unit(reweighter, result.x, bounds)
    return DCTRFitResult(
        {n: float(v) for n, v in zip(names, x, strict=True)},
        float(result.fun),
        evaluations,
        bool(result.success),
    )


def _loss_and_error(
    reweighter: DCTRReweighter,
    both: EventTensors,
    n_data: int,
    theta,
    extrapolate: bool,
    data_weights: np.ndarray | None,
    nominal_weights: np.ndarray | None = None,
) -> tuple[float, float]:
    """Loss of Eq. 3 and its error; ``both``: the data, then the nominal events (one
    network call for both: each call has a fixed cost)."""
    logits = reweighter.logits(both, theta, extrapolate=extrapolate)
    data_loss, data_error = _mean_and_error(_terms(logits[:n_data], 1), data_weights)
    nominal_loss, nominal_error = _mean_and_error(_terms(logits[n_data:], 0), nominal_weights)
    return data_loss + nominal_loss, float(np.hypot(data_error, nominal_error))


def dctr_loss(
    reweighter: DCTRReweighter,
    data: EventsLike,
    nominal: EventsLike,
    theta: float | Sequence[float] | Mapping[str, float],
    *,
    extrapolate: bool = False,
    data_weights: np.ndarray | None = None,
    nominal_weights: np.ndarray | None = None,
) -> float:
    """The cross entropy of Eq. 3 at one ``θ′`` (minimal at the fitted point).

    ``-(Σ_data w log f(x, θ′)) / Σ_data w - (Σ_nominal v log(1 - f(x, θ′))) / Σ_nominal v``
    (``w``: ``data_weights``, ``v``: ``nominal_weights``, default 1).
    """
    data = as_events(data, argument="data")
    nominal = as_events(nominal, argument="nominal")
    check_features(data, reweighter.features, "the data")
    check_features(nominal, reweighter.features, "the nominal sample")
    weights = (
        _checked_weights(data_weights, len(data), "dctr_loss data_weights"),
        _checked_weights(nominal_weights, len(nominal), "dctr_loss nominal_weights"),
    )
    both = EventTensors.concatenate([data, nominal])
    return _loss_and_error(reweighter, both, len(data), theta, extrapolate, *weights)[0]


def scan_axes(
    reweighter: DCTRReweighter,
    grid: Mapping[str, Sequence[float]],
    *,
    extrapolate: bool = False,
    clip: bool = False,
    where: str = "scan",
) -> list[np.ndarray]:
    """The grid axes in the reweighter's parameter order, checked against its range.

    Points outside the training range are an error naming them and the range, unless
    ``extrapolate`` (evaluate them anyway) or ``clip`` (move them onto the range's edge
    and drop the repeats this makes; the axis order is kept).
    """
    names = reweighter.theta_names
    missing = [n for n in names if n not in grid]
    if missing:
        raise ConfigError(f"{where}: no grid for parameter(s) {missing}; give {names}.")
    unknown = [n for n in grid if n not in names]
    if unknown:
        raise ConfigError(
            f"{where}: grid for unknown parameter(s) {unknown}; the reweighter's "
            f"parameters are {names}."
        )
    axes = []
    for name in names:
        axis = np.asarray(grid[name], dtype=float).reshape(-1)
        if len(axis) == 0:
            raise ConfigError(f"{where}: the grid of {name} is empty; give at least one value.")
        if not np.all(np.isfinite(axis)):
            raise ConfigError(f"{where}: the grid of {name} holds non-finite values {axis}.")
        low, high = reweighter.theta_range.get(name, (-np.inf, np.inf))
        outside = (axis < low) | (axis > high)
        if outside.any() and not extrapolate:
            if not clip:
                raise ConfigError(
                    f"{where}: grid value(s) {axis[outside].tolist()} of {name} lie outside "
                    f"the reweighter's training range [{low:g}, {high:g}]; scan inside it, "
                    "pass clip=True to move them onto its edge, or extrapolate=True to "
                    "evaluate the network there anyway."
                )
            axis = np.clip(axis, low, high)
            _, first = np.unique(axis, return_index=True)
            axis = axis[np.sort(first)]
        axes.append(axis)
    return axes


def dctr_scan(
    reweighter: DCTRReweighter,
    data: EventsLike,
    nominal: EventsLike,
    grid: Mapping[str, Sequence[float]],
    *,
    extrapolate: bool = False,
    clip: bool = False,
    data_weights: np.ndarray | None = None,
    nominal_weights: np.ndarray | None = None,
) -> Scan:
    """Evaluate the loss of Eq. 3 on the product grid of ``grid`` (one axis per parameter).

    Grid values outside the training range: see :func:`scan_axes`. Returns a
    :class:`~hepnnlr.methods.scans.Scan` of kind ``"dctr loss"`` whose ``errors`` are each
    value's statistical error from the spread of the per-event terms,
    ``sqrt(Σ_data w²(ℓ − L̄)²) / Σ_data w ⊕ std_nominal(ℓ) / √N_nom`` (points are
    correlated: the same events enter every point; :func:`loss_covariance`).
    ``data_weights``, ``nominal_weights``: per-event weights (default 1), as in
    :func:`dctr_fit`.
    """
    axes = scan_axes(reweighter, grid, extrapolate=extrapolate, clip=clip, where="dctr_scan")
    data = as_events(data, argument="data")
    nominal = as_events(nominal, argument="nominal")
    check_features(data, reweighter.features, "the data")
    check_features(nominal, reweighter.features, "the nominal sample")
    weights = (
        _checked_weights(data_weights, len(data), "dctr_scan data_weights"),
        _checked_weights(nominal_weights, len(nominal), "dctr_scan nominal_weights"),
    )
    points = np.array(list(product(*axes)))
    both = EventTensors.concatenate([data, nominal])
    values = np.array(
        [_loss_and_error(reweighter, both, len(data), p, extrapolate, *weights) for p in points]
    )
    return Scan(reweighter.theta_names, axes, values[:, 0], values[:, 1], kind="dctr loss")


def _centred_terms(logits: np.ndarray, label: int, weights: np.ndarray | None) -> np.ndarray:
    """``w (ℓ − L̄) / Σw`` per event: the loss's fluctuation carried by each event."""
    terms = _terms(logits, label)
    w = np.ones(len(terms)) if weights is None else weights
    return w * (terms - (w * terms).sum() / w.sum()) / w.sum()


def loss_covariance(
    reweighter: DCTRReweighter,
    data: EventsLike,
    nominal: EventsLike,
    points: np.ndarray,
    *,
    extrapolate: bool = False,
    data_weights: np.ndarray | None = None,
    nominal_weights: np.ndarray | None = None,
) -> np.ndarray:
    """``(n, n)`` covariance of the loss of Eq. 3 at ``points`` ``(n, k)``.

    The same events enter every point, so the values' fluctuations are correlated:
    ``C_jl = Σ_i w_i² (ℓ_ij − L̄_j)(ℓ_il − L̄_l) / (Σ w)²`` over the data events, plus the
    same over the nominal events (its diagonal is the squared ``errors`` of :func:`dctr_scan`). A
    second difference of the loss, a curvature, has a far smaller error than independent
    points would give (:func:`hepnnlr.methods.fit_quality.flat_reason`).
    """
    data = as_events(data, argument="data")
    nominal = as_events(nominal, argument="nominal")
    weights = (
        _checked_weights(data_weights, len(data), "loss_covariance data_weights"),
        _checked_weights(nominal_weights, len(nominal), "loss_covariance nominal_weights"),
    )
    both = EventTensors.concatenate([data, nominal])
    n = len(data)
    rows_data, rows_nominal = [], []
    for p in np.asarray(points, np.float64).reshape(len(points), -1):
        logits = reweighter.logits(both, p, extrapolate=extrapolate)
        rows_data.append(_centred_terms(logits[:n], 1, weights[0]))
        rows_nominal.append(_centred_terms(logits[n:], 0, weights[1]))
    a, b = np.array(rows_data), np.array(rows_nominal)
    return a @ a.T + b @ b.T
