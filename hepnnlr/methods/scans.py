"""Reading a fitted value off a scanned objective: the parabola vertex around its minimum.

Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural Networks in the
Presence of Detector Effects", arXiv:2010.03569, read θ* off the minimum of the AUC curve of a θ′
scan (Sec. III). With a few noisy points the vertex of a parabola through the lowest point and its
neighbours is steadier than the lowest point, and it is not tied to the grid step.
:attr:`hepnnlr.methods.dctr.DCTRScan.fitted` and :attr:`hepnnlr.methods.srgn.SRGNScan.fitted` use
:func:`scan_vertex`. NumPy only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hepnnlr.errors import ConfigError

__all__ = ["parabola_vertex", "scan_vertex"]


def parabola_vertex(x: Sequence[float], y: Sequence[float], *, window: int = 2
                    ) -> float | None:
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


def scan_vertex(theta_names: Sequence[str], points: np.ndarray, values: np.ndarray, *,
                window: int = 2) -> dict[str, float]:
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
