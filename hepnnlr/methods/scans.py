"""One type for every scanned objective, and reading a fitted value off it.

:class:`Scan` holds an objective that is minimized, evaluated on a product grid of parameter
values: the DCTR loss of Eq. 3 (:func:`hepnnlr.methods.dctr_fits.dctr_scan`), the SRGN AUC of
Eq. 5 (:func:`hepnnlr.methods.srgn.srgn_scan`), both of Andreassen, Hsu, Nachman, Suaysom,
Suresh, "Parameter Estimation using Neural Networks in the Presence of Detector Effects",
arXiv:2010.03569, and the signal-strength NLL (:func:`hepnnlr.methods.nll.scan_nll`).

arXiv:2010.03569 reads θ* off the minimum of the AUC curve of a θ′ scan (Sec. III). With a few
noisy points the vertex of a parabola through the lowest point and its neighbours is steadier
than the lowest point, and it is not tied to the grid step: :attr:`Scan.fitted` uses
:func:`scan_vertex`. NumPy only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np

from hepnnlr.errors import ConfigError, ShapeMismatchError

__all__ = ["Scan", "parabola_vertex", "scan_vertex"]


def parabola_vertex(x: Sequence[float], y: Sequence[float], *, window: int = 2) -> float | None:
    """Vertex of the parabola through the lowest point of ``y(x)`` and its neighbours.

    A least-squares parabola through the lowest point and up to ``window`` points on
    each side (``x`` ordered). ``None`` when that is not a minimum inside those points:
    fewer than 3 points, a parabola that opens downwards, or a vertex outside them (the
    lowest point is then the best estimate). With few, noisy scan points the vertex is
    steadier than the lowest point, and it is not tied to the grid step.
    """
    x = np.asarray(x, np.float64).reshape(-1)
    y = np.asarray(y, np.float64).reshape(-1)
    if len(x) != len(y):
        raise ConfigError(f"parabola_vertex: {len(x)} x values but {len(y)} y values.")
    if int(window) < 1:
        raise ConfigError(f"parabola_vertex: window={window} must be >= 1.")
    if not np.all(np.isfinite(y)):
        raise ConfigError(f"parabola_vertex: non-finite values {y[~np.isfinite(y)]}.")
    best = int(np.argmin(y))
    low, high = max(0, best - window), min(len(x), best + window + 1)
    if high - low < 3:
        return None
    a, b, _ = np.polyfit(x[low:high], y[low:high], 2)
    if not a > 0:
        return None
    vertex = -b / (2 * a)
    if not min(x[low], x[high - 1]) <= vertex <= max(x[low], x[high - 1]):
        return None
    return float(vertex)


def scan_vertex(
    theta_names: Sequence[str], points: np.ndarray, values: np.ndarray, *, window: int = 2
) -> dict[str, float]:
    """Per parameter, the :func:`parabola_vertex` along its grid line through the minimum.

    ``points`` ``(n, k)`` is a product grid (as :func:`hepnnlr.methods.dctr.dctr_scan` and
    :func:`hepnnlr.methods.srgn.srgn_scan` make it); a parameter without a vertex (see
    :func:`parabola_vertex`) keeps its value at the lowest grid point.
    """
    points = np.asarray(points, np.float64)
    values = np.asarray(values, np.float64)
    best = int(np.argmin(values))
    out = {}
    for k, name in enumerate(theta_names):
        others = np.delete(np.arange(points.shape[1]), k)
        line = np.all(points[:, others] == points[best, others], axis=1)
        x, y = points[line, k], values[line]
        order = np.argsort(x, kind="stable")
        vertex = parabola_vertex(x[order], y[order], window=window)
        out[name] = float(points[best, k]) if vertex is None else vertex
    return out


@dataclass(frozen=True, eq=False)
class Scan:
    """An objective to be minimized, evaluated on the product grid of ``axes``.

    ``dctr_scan``, ``srgn_scan`` and ``scan_nll`` return it. It replaces ``DCTRScan``,
    ``SRGNScan`` and ``NLLScan`` (issue 18), whose fields it renames: ``theta_names`` and
    ``("mu", "z")`` are :attr:`parameters`; ``loss``, ``auc`` and ``nll`` are :attr:`values`
    (on the grid; :attr:`flat_values` in :attr:`points` order); ``error`` is :attr:`errors`;
    ``mu`` and ``z`` are ``axis("mu")`` and ``axis("z")``; ``best`` is :attr:`minimum`;
    ``n_events`` and ``name`` are ``extras["n_events"]`` and ``extras["likelihood"]``.

    Attributes:
        parameters: The scanned parameters' names, one per axis.
        axes: The grid of each parameter (1-D, in the order of ``parameters``).
        values: The objective on the grid, shape ``(len(axes[0]), len(axes[1]), ...)``; a
            flat ``(n,)`` array in :attr:`points` order (the last axis fastest) is reshaped.
        errors: The statistical error of each value (the shape of ``values``), ``None``
            where the producer computes none (``scan_nll``).
        kind: What the values are: ``"dctr loss"``, ``"srgn auc"``, ``"nll"`` from the
            producers, or a label of the caller's.
        extras: Method-specific facts that are not on every scan; ``scan_nll`` sets
            ``n_events`` (events in the scanned dataset) and ``likelihood`` (the name of the
            :class:`~hepnnlr.methods.mixture_likelihood.MixtureLikelihood`).

    Example::

        scan = Scan(("mu",), (np.linspace(-1, 1, 5),), np.linspace(-1, 1, 5) ** 2)
        scan.minimum  # {"mu": 0.0}
    """

    parameters: tuple[str, ...]
    axes: tuple[np.ndarray, ...]
    values: np.ndarray
    errors: np.ndarray | None = None
    kind: str = ""
    extras: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parameters = (self.parameters,) if isinstance(self.parameters, str) else self.parameters
        parameters = tuple(str(p) for p in parameters)
        if len(set(parameters)) != len(parameters) or not parameters:
            raise ConfigError(
                f"Scan: parameters={parameters}; give each scanned parameter's name once."
            )
        axes = tuple(np.asarray(a, dtype=np.float64) for a in self.axes)
        if len(axes) != len(parameters) or any(a.ndim != 1 or len(a) == 0 for a in axes):
            raise ShapeMismatchError(
                f"Scan: {len(parameters)} parameter(s) {parameters} but axes of shapes "
                f"{[a.shape for a in axes]}; give one non-empty 1-D grid per parameter (a "
                "list of grid points (n, k) goes through Scan.from_points)."
            )
        shape = tuple(len(a) for a in axes)
        object.__setattr__(self, "parameters", parameters)
        object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "values", _on_grid(self.values, shape, "values"))
        if self.errors is not None:
            object.__setattr__(self, "errors", _on_grid(self.errors, shape, "errors"))
        object.__setattr__(self, "extras", dict(self.extras))

    @classmethod
    def from_points(
        cls,
        parameters: Sequence[str],
        points: np.ndarray,
        values: np.ndarray,
        errors: np.ndarray | None = None,
        *,
        kind: str = "",
        extras: Mapping[str, Any] | None = None,
    ) -> Scan:
        """The scan of ``values`` ``(n,)`` at ``points`` ``(n, k)``, a product grid in
        :attr:`points` order (as ``itertools.product`` of the axes makes it)."""
        points = np.asarray(points, dtype=np.float64)
        if points.ndim == 1:
            points = points[:, None]
        axes = tuple(_first_seen(points[:, k]) for k in range(points.shape[1]))
        grid = np.array(list(product(*axes)), dtype=np.float64).reshape(-1, points.shape[1])
        if grid.shape != points.shape or not np.array_equal(grid, points):
            raise ConfigError(
                f"Scan.from_points: the {len(points)} points are not the product grid of "
                f"their values per parameter ({[len(a) for a in axes]} values) in order, the "
                "last parameter fastest; build the Scan from its axes instead."
            )
        return cls(tuple(parameters), axes, values, errors, kind, extras or {})

    @property
    def shape(self) -> tuple[int, ...]:
        """The grid's shape: one length per parameter."""
        return self.values.shape

    @property
    def points(self) -> np.ndarray:
        """``(n, k)`` grid points, the last parameter varying fastest."""
        return np.array(list(product(*self.axes)), dtype=np.float64).reshape(
            -1, len(self.parameters)
        )

    @property
    def flat_values(self) -> np.ndarray:
        """``(n,)`` values in :attr:`points` order."""
        return self.values.reshape(-1)

    @property
    def flat_errors(self) -> np.ndarray | None:
        """``(n,)`` errors in :attr:`points` order, ``None`` without errors."""
        return None if self.errors is None else self.errors.reshape(-1)

    @property
    def minimum(self) -> dict[str, float]:
        """The grid point of the lowest value."""
        row = self.points[int(np.argmin(self.flat_values))]
        return {n: float(v) for n, v in zip(self.parameters, row, strict=True)}

    @property
    def minimum_value(self) -> float:
        """The lowest value on the grid."""
        return float(self.values.min())

    @property
    def fitted(self) -> dict[str, float]:
        """Per parameter, the parabola vertex around the lowest point along its grid line
        (:func:`scan_vertex`; the grid value where there is no minimum inside the points)."""
        return scan_vertex(self.parameters, self.points, self.flat_values)

    @property
    def delta(self) -> np.ndarray:
        """``values - min(values)`` on the grid."""
        return self.values - self.values.min()

    def axis(self, parameter: str) -> np.ndarray:
        """The grid of ``parameter``."""
        return self.axes[self.index(parameter)]

    def index(self, parameter: str) -> int:
        """The grid axis of ``parameter``."""
        if parameter not in self.parameters:
            raise ConfigError(
                f"parameter={parameter!r} is not scanned; choose one of {list(self.parameters)}."
            )
        return self.parameters.index(parameter)

    def scaled(self, factor: float) -> Scan:
        """The scan with values (and errors) multiplied by ``factor``."""
        errors = None if self.errors is None else self.errors * abs(factor)
        return Scan(
            self.parameters, self.axes, self.values * factor, errors, self.kind, self.extras
        )


def _first_seen(column: np.ndarray) -> np.ndarray:
    """The distinct values of ``column`` in the order they first appear."""
    _, first = np.unique(column, return_index=True)
    return column[np.sort(first)]


def _on_grid(array: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    array = np.asarray(array, dtype=np.float64)
    size = int(np.prod(shape))
    if array.shape == shape:
        return array
    if array.shape == (size,):
        return array.reshape(shape)
    raise ShapeMismatchError(
        f"Scan: {what} of shape {array.shape} on a grid of shape {shape}; give one value per "
        f"grid point, shaped {shape} or flat ({size},) in points order."
    )
