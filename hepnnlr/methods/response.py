"""Detector-response parametrization, numerical inversion and correctionlib export.

The method of Cheong, Cukierman, Nachman, Safdari, Schwartzman, "Parametrizing the Detector
Response with Neural Networks", arXiv:1910.03773:

* :class:`ResponseModel` learns the central tendency ν(x) of ``p(y|x)`` — mean, median,
  mode (LGK loss, Eq. 3.3) or a Huber centre — with an ensemble of networks averaged as in
  Sec. 4.1, and the resolution as half the learned 16–84 % range (Sec. 3.5, Fig. 5). ``x``
  is the true quantity (e.g. the true jet energy), optionally with *conditions* (other
  features the response depends on, e.g. |η|); the network sees ``x^p`` for every power
  ``p`` of :attr:`ResponseConfig.powers` (arXiv:1910.03773 feeds x and x³, Sec. 4.1) and the
  conditions.
* Calibration by **numerical inversion** (Sec. 5): a measured ``y`` is mapped to the ``x``
  with ν(x) = y. With conditions this is **generalized numerical inversion** (Ref. [36]):
  ν(x, c) = y is solved in ``x`` for each object at its own conditions ``c``.
  :func:`numerical_inversion` and :func:`generalized_numerical_inversion` work on any
  callable, so analytic responses can be inverted (and tested) the same way. For a median
  response the calibration closes exactly: a monotone map preserves medians, so the median
  of ν⁻¹(Y) given x is x.
* :func:`correction_from_function` exports a function of a few inputs (a learned response,
  resolution or calibration) as a ``correctionlib`` correction: multilinear interpolation
  between the values at the grid nodes (one TFormula per cell, exact at the nodes) or
  piecewise-constant bins.

This module imports no TensorFlow itself; the networks come from :mod:`hepnnlr.training`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import correctionlib.schemav2 as cs
import numpy as np

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.tensors.adapt import as_columns
from hepnnlr.training.config import TrainingConfig
from hepnnlr.training.losses import LossSpec
from hepnnlr.training.regression import (
    QuantileSpread,
    RegressorEnsemble,
    train_quantile_spread,
    train_regressor_ensemble,
)

__all__ = [
    "ResponseConfig",
    "ResponseModel",
    "correction_from_function",
    "generalized_numerical_inversion",
    "numerical_inversion",
]

_OUT_OF_RANGE = ("raise", "clip")
_TFORMULA_VARIABLES = ("x", "y", "z", "t")


@dataclass(frozen=True)
class ResponseConfig:
    """How to learn a response.

    Attributes:
        central: Loss of the central-tendency network (default: the mode, LGK with
            bandwidth 1 and leakiness 1e-4 in target units — set the bandwidth to a
            fraction of the resolution).
        quantiles: The two quantiles whose half range is the resolution; ``None`` skips the
            resolution networks.
        powers: Powers of the true variable given to the networks (arXiv:1910.03773: (1, 3)).
        members: Networks per ensemble (arXiv:1910.03773: 25).
        hidden, activation: Network shape (arXiv:1910.03773: one hidden layer of 50 PReLU
            nodes).
        training: Optimizer, epochs, early stopping, seed (members use seed + 1000 k).
    """

    central: LossSpec = LossSpec("lgk", bandwidth=1.0, leakiness=1e-4)
    quantiles: tuple[float, float] | None = (0.16, 0.84)
    powers: tuple[int, ...] = (1,)
    members: int = 5
    hidden: tuple[int, ...] = (50,)
    activation: str = "prelu"
    training: TrainingConfig = field(default_factory=TrainingConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.central, LossSpec):
            raise ConfigError(
                f"ResponseConfig.central must be a LossSpec, got {type(self.central).__name__}."
            )
        if self.central.kind == "gae":
            raise ConfigError(
                "ResponseConfig.central=LossSpec('gae', ...) learns a quantile, not a "
                "central value; use 'mae' for the median or set the quantiles field."
            )
        if self.quantiles is not None:
            lo, hi = self.quantiles
            if not 0.0 < lo < hi < 1.0:
                raise ConfigError(
                    f"ResponseConfig.quantiles={self.quantiles} must satisfy 0 < low < high "
                    "< 1; arXiv:1910.03773 uses (0.16, 0.84)."
                )
        if not self.powers or any(
            isinstance(p, bool) or not isinstance(p, int) or p < 1 for p in self.powers
        ):
            raise ConfigError(
                f"ResponseConfig.powers={self.powers} must be positive integers, e.g. (1, 3)."
            )
        if isinstance(self.members, bool) or not isinstance(self.members, int) or self.members < 1:
            raise ConfigError(f"ResponseConfig.members={self.members!r} must be an integer >= 1.")


def _conditions(conditions, n: int, expected: int | None, where: str) -> np.ndarray:
    if conditions is None:
        c = np.zeros((n, 0))
    else:
        # a (n, k) array, a {name: column} mapping or awkward records, in column order
        c = as_columns(conditions, argument=f"{where} conditions")[0]
    if c.ndim != 2 or len(c) != n:
        raise ShapeMismatchError(
            f"{where}: conditions must have shape ({n}, n_conditions), got {c.shape}."
        )
    if expected is not None and c.shape[1] != expected:
        raise ShapeMismatchError(
            f"{where}: the response was learned with {expected} condition(s), got "
            f"{c.shape[1]}; pass the same conditions, in the same order."
        )
    return c


@dataclass
class ResponseModel:
    """A learned response ν(x[, c]) and resolution, with calibration and export.

    Attributes:
        config: The settings it was trained with.
        central: The central-tendency ensemble.
        spread: The quantile ensembles (``None`` when ``config.quantiles`` is ``None``).
        true_range: Range of the true variable in training (the inversion's search range).
        n_conditions: Number of condition features.
    """

    config: ResponseConfig
    central: RegressorEnsemble
    spread: QuantileSpread | None
    true_range: tuple[float, float]
    n_conditions: int = 0

    @classmethod
    def fit(
        cls,
        true: np.ndarray,
        measured: np.ndarray,
        config: ResponseConfig = ResponseConfig(),
        *,
        conditions: np.ndarray | None = None,
        weights: np.ndarray | None = None,
        name: str = "response",
    ) -> ResponseModel:
        """Train the central and quantile ensembles on pairs (x[, c], y).

        Args:
            true: ``(n,)`` true values x.
            measured: ``(n,)`` measured values y.
            config: What to learn and how.
            conditions: Optional ``(n, k)`` further features the response depends on (or
                a ``{name: column}`` mapping or awkward records:
                :func:`hepnnlr.tensors.as_columns`).
            weights: Optional non-negative per-example weights.
            name: Used in messages.
        """
        x = np.asarray(true, dtype=np.float64).reshape(-1)
        c = _conditions(conditions, len(x), None, name)
        features = _features(x, c, config.powers)
        common = dict(
            weights=weights,
            members=config.members,
            hidden=config.hidden,
            activation=config.activation,
        )
        central = train_regressor_ensemble(
            features, measured, config.central, config.training, name=f"{name} centre", **common
        )
        spread = None
        if config.quantiles is not None:
            spread = train_quantile_spread(
                features,
                measured,
                config.training,
                quantiles=config.quantiles,
                name=f"{name} spread",
                **common,
            )
        return cls(config, central, spread, (float(x.min()), float(x.max())), c.shape[1])

    def _inputs(self, true, conditions) -> np.ndarray:
        x = np.asarray(true, dtype=np.float64).reshape(-1)
        c = _conditions(conditions, len(x), self.n_conditions, "ResponseModel")
        return _features(x, c, self.config.powers)

    def response(self, true: np.ndarray, conditions: np.ndarray | None = None) -> np.ndarray:
        """ν(x[, c]): the learned central value of y (ensemble mean)."""
        return self.central.predict(self._inputs(true, conditions))

    def resolution(self, true: np.ndarray, conditions: np.ndarray | None = None) -> np.ndarray:
        """Half the learned quantile range (16–84 %: the Gaussian core width, Fig. 5)."""
        if self.spread is None:
            raise ConfigError(
                "this ResponseModel was trained with quantiles=None; retrain with "
                "ResponseConfig(quantiles=(0.16, 0.84)) to get a resolution."
            )
        return self.spread.half_range(self._inputs(true, conditions))

    def calibrate(
        self,
        measured: np.ndarray,
        conditions: np.ndarray | None = None,
        *,
        out_of_range: str = "raise",
        tolerance: float = 1e-6,
    ) -> np.ndarray:
        """Calibrated values x̂ with ν(x̂[, c]) = y, searched in :attr:`true_range`.

        Numerical inversion without conditions, generalized numerical inversion with them.
        """
        y = np.asarray(measured, dtype=np.float64).reshape(-1)
        if self.n_conditions == 0:
            if conditions is not None:
                raise ShapeMismatchError(
                    "the response was learned without conditions; do not pass any."
                )
            return numerical_inversion(
                lambda t: self.response(t), y, self.true_range, out_of_range=out_of_range
            )
        c = _conditions(conditions, len(y), self.n_conditions, "ResponseModel.calibrate")
        return generalized_numerical_inversion(
            self.response, y, c, self.true_range, out_of_range=out_of_range, tolerance=tolerance
        )


def _features(x: np.ndarray, c: np.ndarray, powers: Sequence[int]) -> np.ndarray:
    return np.column_stack([x**p for p in powers] + [c])


def _check_range(true_range: tuple[float, float], where: str) -> tuple[float, float]:
    lo, hi = (float(v) for v in true_range)
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        raise ConfigError(f"{where}: true_range={true_range} must be finite with low < high.")
    return lo, hi


def _outside(y, low, high, out_of_range, where, true_range) -> None:
    if out_of_range not in _OUT_OF_RANGE:
        raise ConfigError(f"{where}: out_of_range={out_of_range!r}; choose one of {_OUT_OF_RANGE}.")
    bad = (y < low) | (y > high)
    if out_of_range == "raise" and np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        lo_k, hi_k = np.broadcast_to(low, y.shape)[k], np.broadcast_to(high, y.shape)[k]
        raise ConfigError(
            f"{where}: {int(bad.sum())} measured value(s) lie outside the response's range "
            f"over true_range={true_range} (the first: y={y[k]:g} outside [{lo_k:g}, "
            f"{hi_k:g}]); widen true_range or pass out_of_range='clip' to map them to the "
            "range's ends."
        )


def numerical_inversion(
    response: Callable[[np.ndarray], np.ndarray],
    measured: np.ndarray,
    true_range: tuple[float, float],
    *,
    grid_points: int = 4001,
    out_of_range: str = "raise",
) -> np.ndarray:
    """Calibrate ``y ↦ ν⁻¹(y)`` for a response of one true variable (arXiv:1910.03773,
    Sec. 5).

    ν is tabulated on ``grid_points`` equidistant points of ``true_range`` and inverted by
    linear interpolation (error ≤ Δx² max|ν''| / (8 min|ν'|) for a smooth ν).

    Args:
        response: ν(x), vectorized.
        measured: Values y to calibrate.
        true_range: Where to search for x.
        grid_points: Tabulation points.
        out_of_range: ``"raise"`` for y outside ν(true_range), or ``"clip"`` to the ends.

    Raises:
        ConfigError: if ν is not strictly monotone on ``true_range`` (naming where), or for
            out-of-range values with ``out_of_range="raise"``.
    """
    lo, hi = _check_range(true_range, "numerical_inversion")
    if grid_points < 2:
        raise ConfigError(f"numerical_inversion: grid_points={grid_points} must be >= 2.")
    grid = np.linspace(lo, hi, int(grid_points))
    values = np.asarray(response(grid), dtype=np.float64).reshape(-1)
    if values.shape != grid.shape or not np.all(np.isfinite(values)):
        raise ConfigError(
            "numerical_inversion: the response must return one finite value per input."
        )
    step = np.diff(values)
    sign = 1.0 if values[-1] > values[0] else -1.0
    if np.any(sign * step <= 0):
        k = int(np.flatnonzero(sign * step <= 0)[0])
        raise ConfigError(
            f"numerical_inversion: the response is not strictly monotone on true_range="
            f"{true_range} (it turns near x={grid[k]:g}, value {values[k]:g}); a calibration "
            "needs an invertible response. Restrict true_range to where it is monotone."
        )
    y = np.asarray(measured, dtype=np.float64).reshape(-1)
    low, high = min(values[0], values[-1]), max(values[0], values[-1])
    _outside(y, low, high, out_of_range, "numerical_inversion", true_range)
    y = np.clip(y, low, high)
    if sign > 0:
        return np.interp(y, values, grid)
    return np.interp(y, values[::-1], grid[::-1])


def generalized_numerical_inversion(
    response: Callable[[np.ndarray, np.ndarray], np.ndarray],
    measured: np.ndarray,
    conditions: np.ndarray,
    true_range: tuple[float, float],
    *,
    tolerance: float = 1e-6,
    out_of_range: str = "raise",
) -> np.ndarray:
    """Solve ν(x, c_i) = y_i in x for each object i (generalized numerical inversion).

    Vectorized bisection over all objects at once (one call of ``response`` per step), to
    ``tolerance × (range width)``. ν must be monotone in x on ``true_range`` at each c_i
    (increasing or decreasing; the direction is taken from the range's ends).

    Args:
        response: ν(x, c) with ``x`` of shape (n,) and ``c`` of shape (n, k).
        measured: ``(n,)`` values y.
        conditions: ``(n, k)`` conditions c.
        true_range: Where to search for x.
        tolerance: Relative precision of the solution.
        out_of_range: ``"raise"`` or ``"clip"`` (to the end of the range nearest in ν).
    """
    lo, hi = _check_range(true_range, "generalized_numerical_inversion")
    y = np.asarray(measured, dtype=np.float64).reshape(-1)
    c = _conditions(conditions, len(y), None, "generalized_numerical_inversion")
    if not 0 < tolerance < 1:
        raise ConfigError(f"generalized_numerical_inversion: tolerance={tolerance} not in (0, 1).")
    n = len(y)
    v_lo = np.asarray(response(np.full(n, lo), c), dtype=np.float64).reshape(-1)
    v_hi = np.asarray(response(np.full(n, hi), c), dtype=np.float64).reshape(-1)
    increasing = v_hi >= v_lo
    low, high = np.minimum(v_lo, v_hi), np.maximum(v_lo, v_hi)
    _outside(y, low, high, out_of_range, "generalized_numerical_inversion", true_range)
    target = np.clip(y, low, high)
    a, b = np.full(n, lo), np.full(n, hi)
    for _ in range(int(math.ceil(math.log2(1.0 / tolerance))) + 1):
        mid = 0.5 * (a + b)
        above = np.asarray(response(mid, c), dtype=np.float64).reshape(-1) > target
        go_left = above == increasing
        b = np.where(go_left, mid, b)
        a = np.where(go_left, a, mid)
    return 0.5 * (a + b)


def _cell_formula(names, edges_lo, edges_hi, corner_values) -> cs.Formula:
    """Multilinear interpolation in one cell: Σ_corners v Π_k (weight of the corner)."""
    d = len(names)
    terms = []
    for corner, value in zip(itertools.product((0, 1), repeat=d), corner_values, strict=True):
        factors = []
        for k, side in enumerate(corner):
            var = _TFORMULA_VARIABLES[k]
            factors.append(
                f"({var}-({float(edges_lo[k])!r}))"
                if side
                else f"(({float(edges_hi[k])!r})-{var})"
            )
        terms.append(f"({float(value)!r})*" + "*".join(factors))
    norm = float(np.prod([h - lo for lo, h in zip(edges_lo, edges_hi, strict=True)]))
    expression = f"({'+'.join(terms)})/({norm!r})"
    return cs.Formula(nodetype="formula", expression=expression, parser="TFormula",
                      variables=list(names))


def correction_from_function(
    function: Callable[..., np.ndarray],
    nodes: Mapping[str, Sequence[float]],
    *,
    name: str,
    output: str = "value",
    description: str = "",
    kind: str = "multilinear",
    flow: str = "clamp",
    version: int = 1,
) -> cs.Correction:
    """A ``correctionlib`` correction reproducing ``function`` of a few inputs.

    Args:
        function: ``f(*columns)`` taking one array per input (equal lengths), vectorized.
        nodes: ``{input name: increasing grid nodes}``, in the order of ``function``'s
            arguments (1 to 4 inputs).
        name, output, description, version: Correction metadata.
        kind: ``"multilinear"`` (f evaluated at the nodes, multilinear between them: exact
            at the nodes, error ≤ Σ_k Δ_k² max|∂²f/∂x_k²| / 8 inside a cell) or
            ``"binned"`` (cells between the nodes, each holding f at the cell centre).
        flow: Outside the grid: ``"clamp"`` (inputs clamped to the grid range first) or
            ``"error"`` (correctionlib raises).

    Returns:
        A ``correctionlib.schemav2.Correction``; ``.to_evaluator().evaluate(*inputs)``.
    """
    names = list(nodes)
    if not 1 <= len(names) <= len(_TFORMULA_VARIABLES):
        raise ConfigError(
            f"correction_from_function: {len(names)} inputs given; 1 to 4 are supported "
            "(a grid in more dimensions grows too large — export a lower-dimensional slice)."
        )
    if kind not in ("multilinear", "binned"):
        raise ConfigError(
            f"correction_from_function: kind={kind!r}; use 'multilinear' or 'binned'."
        )
    if flow not in ("clamp", "error"):
        raise ConfigError(f"correction_from_function: flow={flow!r}; use 'clamp' or 'error'.")
    grids = []
    for key in names:
        g = np.asarray(nodes[key], dtype=np.float64).reshape(-1)
        if len(g) < 2 or not np.all(np.diff(g) > 0) or not np.all(np.isfinite(g)):
            raise ConfigError(
                f"correction_from_function: nodes[{key!r}] must be at least 2 finite, strictly "
                "increasing values."
            )
        grids.append(g)
    points = grids if kind == "multilinear" else [0.5 * (g[1:] + g[:-1]) for g in grids]
    mesh = np.meshgrid(*points, indexing="ij")
    values = np.asarray(function(*[m.ravel() for m in mesh]), dtype=np.float64)
    if values.shape != (mesh[0].size,) or not np.all(np.isfinite(values)):
        raise ConfigError(
            "correction_from_function: the function must return one finite value per grid "
            f"point ({mesh[0].size}); check the grid lies where the function is defined."
        )
    values = values.reshape(mesh[0].shape)
    cells = [len(g) - 1 for g in grids]
    if kind == "binned":
        content: list = [float(v) for v in values.ravel()]
    else:
        content = []
        for index in itertools.product(*[range(n) for n in cells]):
            corners = [
                values[tuple(i + s for i, s in zip(index, corner, strict=True))]
                for corner in itertools.product((0, 1), repeat=len(names))
            ]
            content.append(
                _cell_formula(
                    names,
                    [g[i] for g, i in zip(grids, index, strict=True)],
                    [g[i + 1] for g, i in zip(grids, index, strict=True)],
                    corners,
                )
            )
    data = cs.MultiBinning(
        nodetype="multibinning",
        inputs=names,
        edges=[[float(e) for e in g] for g in grids],
        content=content,
        flow=flow,  # with "clamp", the inputs are clamped before: exact at the last node
    )
    if flow == "clamp":
        for key, g in zip(reversed(names), reversed(grids), strict=True):
            rule = cs.Formula(
                nodetype="formula",
                expression=f"max(min(x,{float(g[-1])!r}),{float(g[0])!r})",
                parser="TFormula",
                variables=[key],
            )
            data = cs.Transform(nodetype="transform", input=key, rule=rule, content=data)
    return cs.Correction(
        name=name,
        description=description or f"{name}: {kind} interpolation of a learned function",
        version=version,
        inputs=[cs.Variable(name=key, type="real") for key in names],
        output=cs.Variable(name=output, type="real"),
        data=data,
    )
