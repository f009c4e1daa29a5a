"""Quality of repeated fits: the outlier rule, flags for failed fits, the AUC's error.

The SRGN fits of Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using
Neural Networks in the Presence of Detector Effects", arXiv:2010.03569, Sec. III A
report the mean and standard deviation of 40 runs after removing the runs "within 5% of
the range of the bounds" and those "outside a 2σ window" of the mean. Here:

* :func:`remove_outliers`: that rule with the 2σ window taken *leave-one-out* (the mean
  and spread of the other runs). Tested against all runs including itself, a run can lie
  at most ``(n − 1)/√n`` sample standard deviations (``√(n − 1)`` population ones) from
  the mean (Samuelson's inequality: 1.79 and 2 for ``n = 5``), so no run of five could
  ever leave a 2σ window.
* :func:`flag_fit`: a repeat (or a bootstrap replica) whose fit carries no information
  is flagged, with the reason:

  - ``edge``: the fitted value lies within ``bound_margin`` of the range from a bound
    (a fit that ran into the bound or ends on the grid's edge);
  - ``no_discrimination``: SRGN's classifier ``g`` never told the target from the
    reweighted simulation: the largest AUC over the evaluated ``θ′`` lies within ``z``
    of its statistical errors of 0.5 (:func:`auc_error`), or ``g`` at the lowest AUC
    gave every event the same score (AUC exactly 0.5 by ties, a minimum made by a ``g``
    that did not train);
  - ``flat``: the objective's curvature is not significant: a weighted least-squares
    quadratic through the evaluated points (:func:`quadratic_curvature`) has a
    curvature below ``z`` times its error for some parameter. Where the points are the
    nodes of a scan with the covariance of their values (DCTR: the same events enter
    every node, so their fluctuations are correlated and largely cancel in a second
    difference), the quadratic is the generalized least-squares one through the nodes
    around the lowest (:func:`local_window`): the loss of Eq. 3 is quadratic near its
    minimum only (it passes through 2 ln 2 at the nominal point for every target), and
    independent errors overstate a curvature's error many times.

NumPy only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from hepnnlr.errors import ConfigError, EmptySelectionError, ShapeMismatchError

__all__ = [
    "FLAGS",
    "FitFlags",
    "auc_error",
    "edge_reason",
    "flag_fit",
    "flat_reason",
    "local_window",
    "no_discrimination_reason",
    "quadratic_curvature",
    "remove_outliers",
    "summarize",
]

FLAGS = ("edge", "no_discrimination", "flat")
"""The flags a fit can carry (module docstring)."""


def auc_error(auc: float, n_positive: float, n_negative: float) -> float:
    """Standard error of an AUC from ``n_positive`` and ``n_negative`` events.

    Hanley and McNeil, "The meaning and use of the area under a receiver operating
    characteristic (ROC) curve", Radiology 143 (1982) 29:

        SE² = [A(1 − A) + (n₁ − 1)(Q₁ − A²) + (n₀ − 1)(Q₂ − A²)] / (n₁ n₀),
        Q₁ = A / (2 − A),   Q₂ = 2A² / (1 + A).

    At ``A = 0.5`` (``Q₁ = Q₂ = 1/3``) this is ``(n₁ + n₀ + 1) / (12 n₁ n₀)``, the
    Mann–Whitney variance under the null. For weighted events pass Kish's effective sizes
    ``(Σw)² / Σw²``.
    """
    a = float(auc)
    n1, n0 = float(n_positive), float(n_negative)
    if not (n1 > 0 and n0 > 0):
        raise EmptySelectionError(f"auc_error needs events in both classes, got {n1}, {n0}.")
    if not 0.0 <= a <= 1.0:
        raise ConfigError(f"auc_error: AUC={a} must lie in [0, 1].")
    q1, q2 = a / (2.0 - a), 2.0 * a * a / (1.0 + a)
    variance = (a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0)
    return float(np.sqrt(max(variance, 0.0)))


def remove_outliers(
    values: Mapping[str, np.ndarray],
    bounds: Mapping[str, tuple[float, float]],
    *,
    sigma: float = 2.0,
    bound_margin: float | None = 0.05,
    candidates: np.ndarray | None = None,
) -> np.ndarray:
    """The outlier rule of arXiv:2010.03569 for repeated fits (Sec. III A); ``True`` for kept runs.

    A run is dropped when any parameter lies within ``bound_margin`` of the bound range
    from a bound (a fit that ran into the bound), and then when any parameter lies more
    than ``sigma`` standard deviations from the mean of the remaining runs: for each run,
    the mean and the standard deviation (``ddof=1``) of the *other* runs that passed the
    bound cut (leave-one-out; at least two others, and a spread above zero, are needed to
    judge a run). ``candidates`` (default all) are the runs considered at all; the others
    are dropped. ``bound_margin=None`` skips the bound cut (a caller that flags bound hits
    itself, :func:`flag_fit`).
    """
    names = list(values)
    if not names:
        raise ConfigError("remove_outliers: no parameters given.")
    n = len(values[names[0]])
    keep = np.ones(n, bool) if candidates is None else np.asarray(candidates, bool).copy()
    if len(keep) != n:
        raise ShapeMismatchError(f"remove_outliers: {len(keep)} candidates for {n} runs.")
    for name in names:
        if bound_margin is None:
            continue
        if name not in bounds:
            raise ConfigError(f"remove_outliers: no bounds for {name!r}.")
        low, high = bounds[name]
        margin = bound_margin * (high - low)
        v = np.asarray(values[name], float)
        keep &= (v > low + margin) & (v < high - margin)
    inside = keep.copy()
    for i in np.flatnonzero(inside):
        others = inside.copy()
        others[i] = False
        if others.sum() < 2:
            continue
        for name in names:
            v = np.asarray(values[name], float)
            mean, std = v[others].mean(), v[others].std(ddof=1)
            if std > 0 and abs(v[i] - mean) > sigma * std:
                keep[i] = False
    return keep


def summarize(values: Mapping[str, np.ndarray], keep: np.ndarray | None = None):
    """``{name: (mean, std)}`` over the kept runs (std with ``ddof=1`` when > 1 run)."""
    out = {}
    for name, v in values.items():
        v = np.asarray(v, float) if keep is None else np.asarray(v, float)[keep]
        if len(v) == 0:
            raise EmptySelectionError(f"summarize: no runs left for {name!r}.")
        out[name] = (float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0)
    return out


def local_window(points: np.ndarray, values: np.ndarray, steps: int = 2) -> np.ndarray:
    """Indices of the nodes of a product grid within ``steps`` nodes of the lowest value
    along every axis (``2 steps + 1`` per axis, shifted inward at the grid's ends; all of
    an axis with fewer nodes)."""
    points = np.asarray(points, np.float64)
    points = points.reshape(len(points), -1)
    best = points[int(np.argmin(np.asarray(values, np.float64).reshape(-1)))]
    inside = np.ones(len(points), bool)
    for j in range(points.shape[1]):
        axis = np.unique(points[:, j])
        width = min(2 * steps + 1, len(axis))
        at = int(np.searchsorted(axis, best[j]))
        start = min(max(at - steps, 0), len(axis) - width)
        inside &= np.isin(points[:, j], axis[start : start + width])
    return np.flatnonzero(inside)


def quadratic_curvature(
    points: np.ndarray,
    values: np.ndarray,
    errors: np.ndarray | None = None,
    covariance: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Curvature of a least-squares quadratic through ``values`` at ``points``, per parameter.

    The model ``v = a + Σ b_j θ_j + Σ_{j≤l} c_jl θ_j θ_l`` is fitted by generalized least
    squares with the ``covariance`` of the values (given), with weights ``1 / errors²``
    (``errors`` given; the points are treated as independent) or, without either,
    unweighted with the residual variance as the error. Returns ``(c, σ_c)``: the second
    derivatives ``∂²v/∂θ_j² = 2 c_jj`` and their errors, or ``None`` when there are fewer
    distinct points than terms. Repeated points count once.
    """
    points = np.asarray(points, np.float64)
    points = points.reshape(len(points), -1)
    values = np.asarray(values, np.float64).reshape(-1)
    if len(points) != len(values):
        raise ShapeMismatchError(
            f"quadratic_curvature: {len(points)} points but {len(values)} values."
        )
    _, first = np.unique(points, axis=0, return_index=True)
    first = np.sort(first)
    n_given = len(values)
    points, values = points[first], values[first]
    errors = None if errors is None else np.asarray(errors, np.float64).reshape(-1)[first]
    if covariance is not None:
        covariance = np.asarray(covariance, np.float64)
        if covariance.shape != (n_given, n_given):
            raise ShapeMismatchError(
                f"quadratic_curvature: covariance {covariance.shape} for {n_given} "
                "points; give (points, points)."
            )
        covariance = covariance[np.ix_(first, first)]
    k = points.shape[1]
    # centred and scaled, for conditioning; the curvature is scaled back below
    center, scale = points.mean(axis=0), points.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    u = (points - center) / scale
    pairs = [(j, m) for j in range(k) for m in range(j, k)]
    design = np.column_stack(
        [np.ones(len(u))] + [u[:, j] for j in range(k)] + [u[:, j] * u[:, m] for j, m in pairs]
    )
    if len(u) <= design.shape[1] or np.linalg.matrix_rank(design) < design.shape[1]:
        return None
    if covariance is not None:
        # whitened with the Cholesky factor: the nodes' values are nearly collinear
        root = np.linalg.cholesky(covariance)
        white = np.linalg.solve(root, design)
        coefficients, *_ = np.linalg.lstsq(white, np.linalg.solve(root, values), rcond=None)
        covariance = np.linalg.inv(white.T @ white)
    elif errors is not None and np.all(errors > 0):
        w = 1.0 / errors**2
        normal = design.T @ (design * w[:, None])
        coefficients = np.linalg.solve(normal, design.T @ (w * values))
        covariance = np.linalg.inv(normal)
    else:
        coefficients, *_ = np.linalg.lstsq(design, values, rcond=None)
        residual = values - design @ coefficients
        variance = (residual**2).sum() / (len(values) - design.shape[1])
        covariance = variance * np.linalg.inv(design.T @ design)
    diagonal = [1 + k + pairs.index((j, j)) for j in range(k)]
    c = np.array([2 * coefficients[i] for i in diagonal]) / scale**2
    error = np.array([2 * np.sqrt(covariance[i, i]) for i in diagonal]) / scale**2
    return c, error


def edge_reason(
    theta: Mapping[str, float], bounds: Mapping[str, tuple[float, float]], margin: float = 0.05
) -> str | None:
    """Why ``theta`` counts as a fit at a bound (within ``margin`` of the range), or None."""
    hits = []
    for name, value in theta.items():
        low, high = bounds[name]
        width = margin * (high - low)
        if not low + width < value < high - width:
            hits.append(f"{name}={value:.6g} within {margin:.0%} of [{low:g}, {high:g}]")
    return "; ".join(hits) or None


def no_discrimination_reason(
    auc: np.ndarray, errors: np.ndarray, *, constant_at_minimum: bool = False, z: float = 3.0
) -> str | None:
    """Why SRGN's ``g`` counts as blind (module docstring), or None.

    Args:
        auc: Held-out AUC at every evaluated ``θ′``.
        errors: Their errors (:func:`auc_error`).
        constant_at_minimum: ``g`` at the lowest AUC scored every event alike.
        z: Errors within which an AUC is indistinguishable from 0.5.
    """
    auc = np.asarray(auc, float)
    errors = np.asarray(errors, float)
    if constant_at_minimum:
        return (
            "g at the lowest AUC gave every held-out event the same score (AUC exactly "
            "0.5 by ties: g did not train there)"
        )
    if len(auc) == 0:
        return None
    top = int(np.argmax(auc))
    if auc[top] - 0.5 <= z * errors[top]:
        return (
            f"the largest AUC over {len(auc)} evaluated points, {auc[top]:.4f}, lies "
            f"within {z:g} x {errors[top]:.4f} (Hanley-McNeil) of 0.5: g never "
            "separated the target from the reweighted simulation"
        )
    return None


def flat_reason(
    names: Sequence[str],
    points: np.ndarray,
    values: np.ndarray,
    errors: np.ndarray | None,
    *,
    z: float = 3.0,
    covariance: np.ndarray | None = None,
) -> str | None:
    """Why the objective counts as flat (curvature below ``z`` errors), or None; with the
    ``covariance`` of the values, on the nodes of :func:`local_window` (module docstring)."""
    if covariance is not None:
        window = local_window(points, values)
        points, values = np.asarray(points)[window], np.asarray(values)[window]
        covariance = np.asarray(covariance)[np.ix_(window, window)]
    result = quadratic_curvature(points, values, errors, covariance)
    if result is None:
        return None
    c, error = result
    flat = [
        f"{n}: curvature {ci:.3g} ± {ei:.2g}"
        for n, ci, ei in zip(names, c, error, strict=True)
        if not ci > z * ei
    ]
    if not flat:
        return None
    return "objective not significantly curved (" + "; ".join(flat) + f"; need > {z:g} σ)"


@dataclass(frozen=True)
class FitFlags:
    """The flags of one fit: ``{flag: reason}`` (flags of :data:`FLAGS`)."""

    reasons: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.reasons) - set(FLAGS))
        if unknown:
            raise ConfigError(f"FitFlags: unknown flag(s) {unknown}; flags are {FLAGS}.")

    @property
    def flagged(self) -> bool:
        """Whether any flag is raised."""
        return bool(self.reasons)

    def to_dict(self) -> dict[str, str]:
        """``{flag: reason}``, JSON-ready."""
        return dict(self.reasons)


def flag_fit(
    theta: Mapping[str, float],
    bounds: Mapping[str, tuple[float, float]],
    *,
    points: np.ndarray | None = None,
    values: np.ndarray | None = None,
    errors: np.ndarray | None = None,
    auc: bool = False,
    constant_at_minimum: bool = False,
    bound_margin: float = 0.05,
    z: float = 3.0,
    covariance: np.ndarray | None = None,
) -> FitFlags:
    """The flags of one fit (module docstring).

    Args:
        theta: The fitted point.
        bounds: The fit range per parameter.
        points, values, errors: The objective at the evaluated points ``(n, k)`` and its
            statistical errors (``None``: the flat test uses the residual spread).
        auc: The values are SRGN's AUC: also test ``no_discrimination``.
        constant_at_minimum: SRGN: ``g`` at the lowest AUC scored every event alike.
        bound_margin: Share of the range that counts as the edge.
        z: Significance (in errors) below which an AUC equals 0.5 or a curvature is flat.
        covariance: The covariance of ``values`` (a DCTR scan's nodes): the flat test
            then fits the nodes around the lowest by generalized least squares.
    """
    reasons: dict[str, str] = {}
    edge = edge_reason(theta, bounds, bound_margin)
    if edge:
        reasons["edge"] = edge
    if values is not None and points is not None and len(values):
        if auc:
            blind = no_discrimination_reason(
                values,
                errors if errors is not None else np.zeros(len(values)),
                constant_at_minimum=constant_at_minimum,
                z=z,
            )
            if blind:
                reasons["no_discrimination"] = blind
        flat = flat_reason(list(theta), points, values, errors, z=z, covariance=covariance)
        if flat:
            reasons["flat"] = flat
    return FitFlags(reasons)
