"""Storage of calorimeter showers: sparse hits in a TTree, dense images in memory.

A 30 × 30 × 30 shower image has 27,000 cells, of which a 50 GeV photon shower lights up
about a thousand; a dense image per event would make the ROOT files ~30 times larger
than they need to be. The files therefore store the cells above threshold only, as one
jagged collection per event (NanoAOD naming, read by :class:`hepnnlr.schema.HepnnlrSchema`
as ``events.Hit``):

=================  ===============  ===============================================
branch             type             meaning
=================  ===============  ===============================================
``event``          uint64           event number, unique within the file
``weight``         float64          event weight (1 for generated showers)
``E_true``         float64          energy of the incident photon, GeV
``nHit``           int32 counter    number of stored cells
``Hit_layer``      int16, jagged    layer (longitudinal index), 0 = front
``Hit_ix``         int16, jagged    cell column along x, 0 … n_x − 1
``Hit_iy``         int16, jagged    cell row along y, 0 … n_y − 1
``Hit_E``          float32, jagged  visible (sensor) energy of the cell, MeV
=================  ===============  ===============================================

Within an event the hits are sorted by (layer, ix, iy) and each cell appears once.
:func:`hits_to_images` and :func:`images_to_hits` convert between this layout and dense
``(events, layers, x, y)`` float32 images; the round trip is exact.
"""

from __future__ import annotations

import os
from pathlib import Path

import awkward as ak
import numpy as np

from hepnnlr.errors import (
    ConfigError,
    MissingBranchError,
    ShapeMismatchError,
)
from hepnnlr.samples.rootio import (
    BASKET_EVENTS,
    check_chunk_size,
    check_tree_file,
    read_tree_columns,
    required_branches,
    typed_columns,
    write_tree,
)

__all__ = [
    "CALO_BRANCHES",
    "CALO_FLAT_BRANCHES",
    "GRID_SHAPE",
    "HIT_FIELDS",
    "check_calo_file",
    "hits_to_images",
    "images_to_hits",
    "read_calo_events",
    "write_calo_events",
]

GRID_SHAPE: tuple[int, int, int] = (30, 30, 30)
"""Default (layers, x cells, y cells) of the calorimeter (the grid of Diefenbacher, Eren,
Kasieczka, Korol, Nachman, Shih, "DCTRGAN: Improving the Precision of Generative Models with
Reweighting", JINST 15 (2020) P11004, arXiv:2009.03796)."""

CALO_FLAT_BRANCHES: dict[str, np.dtype] = {
    "event": np.dtype(np.uint64),
    "weight": np.dtype(np.float64),
    "E_true": np.dtype(np.float64),
}
"""One value per event: name → dtype."""

HIT_FIELDS: dict[str, np.dtype] = {
    "layer": np.dtype(np.int16),
    "ix": np.dtype(np.int16),
    "iy": np.dtype(np.int16),
    "E": np.dtype(np.float32),
}
"""Fields of the jagged ``Hit`` collection: name → dtype."""

CALO_BRANCHES: tuple[str, ...] = required_branches(CALO_FLAT_BRANCHES, {"Hit": HIT_FIELDS})
"""Every branch of a calorimeter-shower file."""

_FIX = "write one with hepnnlr.samples.calo.make_calo_sample(path, n_events=N, seed=S)"


def _canonical(events: ak.Array) -> dict[str, ak.Array]:
    return typed_columns(
        events,
        CALO_FLAT_BRANCHES,
        {"Hit": HIT_FIELDS},
        what="showers",
        fix="pass the output of hepnnlr.samples.calo.generate_calo",
    )


def write_calo_events(
    path: str | os.PathLike[str],
    events: ak.Array,
    tree: str = "events",
    *,
    chunk_size: int = BASKET_EVENTS,
) -> Path:
    """Write showers to a new ROOT file (layout in the module docstring).

    Args:
        path: output ``.root`` file (replaced if it exists).
        events: output of :func:`hepnnlr.samples.calo.generate_calo`.
        tree: tree name.
        chunk_size: events per ``extend`` call (one basket per branch and chunk).

    Returns:
        The path written.

    Raises:
        MissingBranchError: a field of the format is missing.
        ConfigError: a non-positive ``chunk_size``.
    """
    check_chunk_size(chunk_size)  # before the events are checked: a config error first
    return write_tree(path, _canonical(events), tree, chunk_size=chunk_size)


def check_calo_file(path: str | os.PathLike[str], tree: str = "events") -> int:
    """Check that ``path`` is a readable shower file with every branch of the format.

    Returns:
        The number of entries of the tree.

    Raises:
        InputFileError: the file is missing, unreadable or has no TTree ``tree``.
        MissingBranchError: a branch of :data:`CALO_BRANCHES` is missing.
    """
    return check_tree_file(
        path,
        tree,
        CALO_BRANCHES,
        what="shower file",
        fix=_FIX,
        writer="hepnnlr.samples.calo.write_calo_events",
        hint="is it a DIS or jet file? ",
    )


def read_calo_events(
    path: str | os.PathLike[str],
    tree: str = "events",
    *,
    entry_start: int | None = None,
    entry_stop: int | None = None,
) -> ak.Array:
    """Read a shower file back into the layout of :func:`generate_calo`.

    For tests and small files; analyses read the files through ``hepnnlr.schema``.

    Raises:
        InputFileError, MissingBranchError: as :func:`check_calo_file`.
    """
    check_calo_file(path, tree)
    return read_tree_columns(
        path,
        tree,
        CALO_FLAT_BRANCHES,
        {"Hit": HIT_FIELDS},
        entry_start=entry_start,
        entry_stop=entry_stop,
    )


def _check_shape(shape: tuple[int, int, int]) -> tuple[int, int, int]:
    if (
        not isinstance(shape, tuple | list)
        or len(shape) != 3
        or any(isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 1 for s in shape)
    ):
        raise ConfigError(
            f"shape must be three positive integers (layers, x cells, y cells), got {shape!r}; "
            "e.g. (30, 30, 30)."
        )
    if max(shape) > np.iinfo(np.int16).max:
        raise ConfigError(f"shape {tuple(shape)} has more cells per axis than int16 indices hold.")
    return (int(shape[0]), int(shape[1]), int(shape[2]))


def hits_to_images(hits: ak.Array, shape: tuple[int, int, int] = GRID_SHAPE) -> np.ndarray:
    """Dense shower images of a chunk of events.

    Args:
        hits: jagged records with fields ``layer``, ``ix``, ``iy``, ``E`` (e.g.
            ``events.Hit``), one list per event.
        shape: (layers, x cells, y cells) of the grid.

    Returns:
        ``(events, layers, x, y)`` float32 array (4 bytes × 27,000 cells per event for
        the default grid: about 1 GB for 10,000 events, so convert a chunk at a time).
        Cells listed twice in an event are summed.

    Raises:
        MissingBranchError: a field is missing.
        ShapeMismatchError: an index lies outside ``shape``.
    """
    shape = _check_shape(shape)
    missing = [f for f in HIT_FIELDS if f not in ak.fields(hits)]
    if missing:
        raise MissingBranchError(
            f"hits lack field {missing[0]!r} (they have {ak.fields(hits)}); pass a jagged "
            f"collection with fields {list(HIT_FIELDS)}, e.g. events.Hit."
        )
    counts = ak.to_numpy(ak.num(hits, axis=1))
    n_events = len(counts)
    event = np.repeat(np.arange(n_events, dtype=np.int64), counts)
    index = [event]
    for axis, (field, size) in enumerate(zip(("layer", "ix", "iy"), shape, strict=True)):
        values = ak.to_numpy(ak.flatten(hits[field], axis=None)).astype(np.int64)
        bad = (values < 0) | (values >= size)
        if bad.any():
            raise ShapeMismatchError(
                f"hit field {field!r} holds {values[bad][0]} (event {event[bad][0]}), outside "
                f"0 … {size - 1} of axis {axis} of shape {shape}; pass the grid the hits "
                "were made on as shape=(layers, x, y)."
            )
        index.append(values)
    images = np.zeros((n_events, *shape), dtype=np.float32)
    energy = ak.to_numpy(ak.flatten(hits["E"], axis=None)).astype(np.float32)
    np.add.at(images, tuple(index), energy)
    return images


def images_to_hits(images: np.ndarray) -> ak.Array:
    """Sparse hits (the file layout) of dense ``(events, layers, x, y)`` images.

    Every non-zero cell becomes one hit; hits are sorted by (layer, ix, iy) within an
    event, as in the files, so ``images_to_hits(hits_to_images(h))`` gives ``h`` back for
    hits with unique cells and non-zero energies.

    Raises:
        ShapeMismatchError: ``images`` is not 4-dimensional.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ShapeMismatchError(
            f"images must be (events, layers, x, y), got shape {images.shape}; stack single "
            "images with images[None] or np.stack."
        )
    _check_shape(tuple(int(s) for s in images.shape[1:]))
    event, layer, ix, iy = np.nonzero(images)  # C order: sorted by event, layer, ix, iy
    counts = np.bincount(event, minlength=images.shape[0])
    flat = ak.zip(
        {
            "layer": layer.astype(np.int16),
            "ix": ix.astype(np.int16),
            "iy": iy.astype(np.int16),
            "E": images[event, layer, ix, iy].astype(np.float32),
        }
    )
    return ak.unflatten(flat, counts)
