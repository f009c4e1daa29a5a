"""High-level observables of calorimeter showers (Sec. III B of arXiv:2009.03796).

Reference: Diefenbacher, Eren, Kasieczka, Korol, Nachman, Shih, "DCTRGAN: Improving the
Precision of Generative Models with Reweighting", JINST 15 (2020) P11004, arXiv:2009.03796.

Every function takes the showers of a chunk in either form:

* sparse hits: a jagged awkward array of records with fields ``layer``, ``ix``, ``iy``,
  ``E`` (``events.Hit`` of a shower file, see :mod:`hepnnlr.samples.calo_io`);
* dense images: a numpy array ``(events, layers, x, y)``.

Only cells with ``E > 0`` and ``E >= threshold`` enter (``threshold=0`` keeps the
non-zero cells, the "activated" cells of arXiv:2009.03796). Everything is vectorized: the
cells of the chunk are flattened once and summed per (event, layer) with ``numpy.bincount``.

The high-level DCTR network of arXiv:2009.03796 is "built from 33 features: the number of
non-zero cells, the longitudinal centroid (energy-weighted layer index of the shower:
Σᵢ i Eᵢ / Σᵢ Eᵢ, i = 1 … 30), the total energy, and the energy in each of the thirty
layers" — 1 + 1 + 1 + 30 = 33, the names in :data:`DCTR_FEATURES`. As in arXiv:2009.03796,
layers are counted from 1 in the centroid and in the feature names (``E_layer_1`` is the
front layer, stored as ``layer = 0``). The per-layer energy-weighted second moments along
x and y (Fig. 6 of arXiv:2009.03796, not inputs of its network) are :data:`WIDTH_FEATURES`.
arXiv:2009.03796 does not say about which point its moments are taken; here they are central
moments, ⟨(x − ⟨x⟩)²⟩ with energy weights within the layer, in units of ``cell_size`` squared,
so that they measure the width and not the impact point.

An empty shower (no cell passing) has ``n_hits = 0``, zero energies and ``None``
centroid; a layer without cells has ``None`` second moments.
"""

from __future__ import annotations

from dataclasses import dataclass

import awkward as ak
import numpy as np

from hepnnlr.errors import (
    ConfigError,
    MissingBranchError,
    NonFiniteInputError,
    ShapeMismatchError,
)

__all__ = [
    "DCTR_FEATURES",
    "N_LAYERS",
    "WIDTH_FEATURES",
    "dctr_feature_names",
    "layer_energies",
    "layer_second_moments",
    "longitudinal_centroid",
    "n_hits",
    "shower_features",
    "total_energy",
    "width_feature_names",
]

N_LAYERS = 30
"""Layers of the DCTRGAN calorimeter."""

_HIT_FIELDS = ("layer", "ix", "iy", "E")


def dctr_feature_names(n_layers: int = N_LAYERS) -> tuple[str, ...]:
    """Names of the high-level DCTR inputs: ``n_hits``, ``centroid``, ``E_total``,
    ``E_layer_1`` … ``E_layer_{n_layers}``."""
    return ("n_hits", "centroid", "E_total", *(f"E_layer_{k}" for k in range(1, n_layers + 1)))


def width_feature_names(n_layers: int = N_LAYERS) -> tuple[str, ...]:
    """Names of the per-layer second moments: ``x2_layer_k`` then ``y2_layer_k``."""
    return tuple(f"{axis}2_layer_{k}" for axis in "xy" for k in range(1, n_layers + 1))


DCTR_FEATURES: tuple[str, ...] = dctr_feature_names()
"""The 33 high-level features of arXiv:2009.03796 (Sec. III B), in this order."""

WIDTH_FEATURES: tuple[str, ...] = width_feature_names()
"""The 60 per-layer energy-weighted second moments (x then y; Fig. 6 shows x)."""


@dataclass(frozen=True)
class _Cells:
    """The passing cells of a chunk, flattened: one entry per cell."""

    n_events: int
    n_layers: int
    event: np.ndarray
    layer: np.ndarray
    ix: np.ndarray
    iy: np.ndarray
    energy: np.ndarray

    @property
    def group(self) -> np.ndarray:
        """Index of the cell's (event, layer)."""
        return self.event * self.n_layers + self.layer

    def per_layer(self, values: np.ndarray) -> np.ndarray:
        """``(events, layers)`` sums of ``values`` (one per cell)."""
        size = self.n_events * self.n_layers
        sums = np.bincount(self.group, weights=values, minlength=size)
        return sums.reshape(self.n_events, self.n_layers)


def _cells(showers: ak.Array | np.ndarray, n_layers: int, threshold: float) -> _Cells:
    if isinstance(n_layers, bool) or not isinstance(n_layers, int | np.integer) or n_layers < 1:
        raise ConfigError(f"n_layers must be a positive integer, got {n_layers!r}.")
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float | np.number)
        or not np.isfinite(threshold)
        or threshold < 0
    ):
        raise ConfigError(f"threshold must be a finite energy >= 0, got {threshold!r}.")
    if isinstance(showers, np.ndarray):
        if showers.ndim != 4 or showers.shape[1] != n_layers:
            raise ShapeMismatchError(
                f"shower images must be (events, {n_layers} layers, x, y), got shape "
                f"{showers.shape}; pass n_layers=<layers of the images>."
            )
        event, layer, ix, iy = np.nonzero(showers)
        energy = showers[event, layer, ix, iy].astype(np.float64)
        n_events = showers.shape[0]
    else:
        fields = ak.fields(showers)
        missing = [f for f in _HIT_FIELDS if f not in fields]
        if missing:
            raise MissingBranchError(
                f"shower hits lack field {missing[0]!r} (they have {fields}); pass a jagged "
                "collection with layer, ix, iy, E (events.Hit) or (events, layers, x, y) "
                "images."
            )
        counts = ak.to_numpy(ak.num(showers, axis=1))
        n_events = len(counts)
        event = np.repeat(np.arange(n_events, dtype=np.int64), counts)
        layer, ix, iy = (
            ak.to_numpy(ak.flatten(showers[f], axis=None)).astype(np.int64)
            for f in ("layer", "ix", "iy")
        )
        energy = ak.to_numpy(ak.flatten(showers["E"], axis=None)).astype(np.float64)
        bad = (layer < 0) | (layer >= n_layers)
        if bad.any():
            raise ShapeMismatchError(
                f"hit layer {layer[bad][0]} (event {event[bad][0]} of the chunk) lies outside "
                f"0 … {n_layers - 1}; pass n_layers=<layers of the calorimeter>."
            )
    if not np.isfinite(energy).all():
        raise NonFiniteInputError(
            f"shower cell energies hold NaN or infinity (event "
            f"{event[~np.isfinite(energy)][0]} of the chunk); fix the step that made them."
        )
    keep = (energy > 0) & (energy >= threshold)
    return _Cells(
        n_events=int(n_events),
        n_layers=int(n_layers),
        event=event[keep].astype(np.int64),
        layer=layer[keep].astype(np.int64),
        ix=ix[keep].astype(np.float64),
        iy=iy[keep].astype(np.float64),
        energy=energy[keep],
    )


def _masked(values: np.ndarray, valid: np.ndarray) -> ak.Array:
    """1-d option array: ``values`` where ``valid``, ``None`` elsewhere."""
    return ak.mask(ak.Array(values), valid)


def layer_energies(
    showers: ak.Array | np.ndarray, n_layers: int = N_LAYERS, *, threshold: float = 0.0
) -> np.ndarray:
    """Energy per layer, ``(events, n_layers)`` float64 (layer 0 = front)."""
    cells = _cells(showers, n_layers, threshold)
    return cells.per_layer(cells.energy)


def total_energy(
    showers: ak.Array | np.ndarray, n_layers: int = N_LAYERS, *, threshold: float = 0.0
) -> np.ndarray:
    """Total energy of each shower, ``(events,)`` float64."""
    return layer_energies(showers, n_layers, threshold=threshold).sum(axis=1)


def n_hits(
    showers: ak.Array | np.ndarray, n_layers: int = N_LAYERS, *, threshold: float = 0.0
) -> np.ndarray:
    """Number of cells with ``E > 0`` and ``E >= threshold``, ``(events,)`` int64."""
    cells = _cells(showers, n_layers, threshold)
    return np.bincount(cells.event, minlength=cells.n_events).astype(np.int64)


def _centroid(cells: _Cells, per_layer: np.ndarray) -> ak.Array:
    total = per_layer.sum(axis=1)
    index = np.arange(1, cells.n_layers + 1, dtype=np.float64)
    weighted = per_layer @ index
    valid = total > 0
    return _masked(np.divide(weighted, total, out=np.zeros_like(total), where=valid), valid)


def longitudinal_centroid(
    showers: ak.Array | np.ndarray, n_layers: int = N_LAYERS, *, threshold: float = 0.0
) -> ak.Array:
    """Energy-weighted mean layer Σᵢ i Eᵢ / Σᵢ Eᵢ with i = 1 … n_layers (the convention of
    arXiv:2009.03796), ``None`` for an empty shower."""
    cells = _cells(showers, n_layers, threshold)
    return _centroid(cells, cells.per_layer(cells.energy))


def _second_moments(cells: _Cells, axis: str, cell_size: float) -> tuple[np.ndarray, np.ndarray]:
    position = (cells.ix if axis == "x" else cells.iy) * cell_size
    weight = cells.per_layer(cells.energy)
    valid = weight > 0
    mean = np.divide(
        cells.per_layer(cells.energy * position), weight, out=np.zeros_like(weight), where=valid
    )
    offset = position - mean.reshape(-1)[cells.group]
    moment = np.divide(
        cells.per_layer(cells.energy * offset**2), weight, out=np.zeros_like(weight), where=valid
    )
    return moment, valid


def layer_second_moments(
    showers: ak.Array | np.ndarray,
    n_layers: int = N_LAYERS,
    *,
    axis: str = "x",
    cell_size: float = 1.0,
    threshold: float = 0.0,
) -> ak.Array:
    """Energy-weighted central second moment ⟨(x − ⟨x⟩)²⟩ of every layer.

    Args:
        showers: hits or images (module docstring).
        n_layers: layers of the calorimeter.
        axis: ``"x"`` (along ``ix``) or ``"y"`` (along ``iy``).
        cell_size: cell pitch; the moments are in its units squared (cells² by default).
        threshold: cell energy cut.

    Returns:
        ``(events, n_layers)`` awkward array of float64, ``None`` for empty layers.
    """
    if axis not in ("x", "y"):
        raise ConfigError(f"axis must be 'x' or 'y', got {axis!r}.")
    if not isinstance(cell_size, int | float | np.number) or not 0 < cell_size < np.inf:
        raise ConfigError(f"cell_size must be a positive length, got {cell_size!r}.")
    cells = _cells(showers, n_layers, threshold)
    moment, valid = _second_moments(cells, axis, cell_size)
    flat = _masked(moment.reshape(-1), valid.reshape(-1))
    return ak.to_regular(ak.unflatten(flat, np.full(cells.n_events, cells.n_layers)), axis=1)


def shower_features(
    showers: ak.Array | np.ndarray,
    n_layers: int = N_LAYERS,
    *,
    threshold: float = 0.0,
    widths: bool = True,
    cell_size: float = 1.0,
) -> ak.Array:
    """The high-level features of every shower, one flat record per event.

    Args:
        showers: hits or images (module docstring).
        n_layers: layers of the calorimeter.
        threshold: cell energy cut applied before every feature.
        widths: also return the per-layer second moments (:data:`WIDTH_FEATURES`).
        cell_size: unit of the second moments.

    Returns:
        Records with the fields :func:`dctr_feature_names` (``n_hits`` int64,
        ``centroid`` ``?float64``, ``E_total`` and ``E_layer_k`` float64: the 33 inputs
        of the DCTRGAN high-level network for 30 layers) followed, with ``widths``, by
        :func:`width_feature_names` (``?float64``, ``None`` for empty layers).

    Example:
        >>> import numpy as np
        >>> images = np.zeros((1, 30, 30, 30)); images[0, 4, 10, 10] = 2.0
        >>> f = shower_features(images)
        >>> float(f.centroid[0]), float(f.E_layer_5[0]), int(f.n_hits[0])
        (5.0, 2.0, 1)
    """
    cells = _cells(showers, n_layers, threshold)
    per_layer = cells.per_layer(cells.energy)
    columns: dict[str, ak.Array | np.ndarray] = {
        "n_hits": np.bincount(cells.event, minlength=cells.n_events).astype(np.int64),
        "centroid": _centroid(cells, per_layer),
        "E_total": per_layer.sum(axis=1),
    }
    for k in range(n_layers):
        columns[f"E_layer_{k + 1}"] = per_layer[:, k]
    if widths:
        for axis in ("x", "y"):
            moment, valid = _second_moments(cells, axis, cell_size)
            for k in range(n_layers):
                columns[f"{axis}2_layer_{k + 1}"] = _masked(moment[:, k], valid[:, k])
    return ak.zip(columns, depth_limit=1)
