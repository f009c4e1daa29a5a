"""Flat four-momentum buffers back to jagged vector records, and the finiteness check.

:func:`momentum4d` turns flat jet (or particle) buffers and their offsets into ``var *
Momentum4D`` records with `vector <https://vector.readthedocs.io>`_'s awkward behaviour,
the inverse of :func:`hepnnlr.observables.fourvectors.flat_momenta` (which re-exports it).
:func:`_check_finite` is the one check both directions share: a non-finite value is named
with its field, its kind and its first event.
"""

from __future__ import annotations

from collections.abc import Mapping

import awkward as ak
import numpy as np
import vector.backends.awkward

from hepnnlr.errors import (
    ConfigError,
    MissingBranchError,
    NonFiniteInputError,
    ShapeMismatchError,
)

__all__ = ["momentum4d"]


def _first_event(offsets: np.ndarray, index: int) -> int:
    return int(np.searchsorted(offsets, index, side="right") - 1)


def _check_finite(values: np.ndarray, name: str, what: str, offsets: np.ndarray) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        k = int(np.argmax(bad))
        kind = "NaN" if np.isnan(values[k]) else "infinite"
        raise NonFiniteInputError(
            f"{what}: {name} has {int(bad.sum())} non-finite value(s) ({kind} first in event "
            f"{_first_event(offsets, k)}, value {values[k]}). hepnnlr does not replace them: "
            "find where they come from and remove those particles or events."
        )


# Names vector reads as coordinates or serves as properties of a Momentum4D record: an
# extra field with one of them would be refused (a second representation) or hidden
# (``jets.tau2`` is vector's τ² = mass², not a field called tau2).
def _reserved(name: str) -> bool:
    return hasattr(vector.backends.awkward.MomentumArray4D, name) or name in {
        "x", "y", "z", "t", "rho", "tau", "px", "py", "pz", "pt", "phi", "eta", "theta",
        "E", "e", "energy", "M", "m", "mass",
    }  # fmt: skip


def momentum4d(fields: Mapping[str, np.ndarray | ak.Array], offsets: np.ndarray) -> ak.Array:
    """``var * Momentum4D`` records (vector's awkward behaviour) from flat buffers.

    The records store ``px, py, pz, E`` and the extra fields, in the order given. vector
    refuses records with two coordinate systems (``px`` next to ``pt`` raises its
    ``TypeError``), so ``pt``, ``eta``, ``phi``, ``mass`` (and ``rapidity``, ``p``, ``mt``,
    ``deltaR``, ``boost_p4``, …) are vector's properties and methods, computed on access:
    ``jets.pt`` works, ``jets["pt"]`` and ``ak.fields(jets)`` do not show them. The
    behaviour travels with the array (``vector.backends.awkward.behavior``); nothing is
    registered globally.

    Args:
        fields: ``px``, ``py``, ``pz``, ``E`` (flat, finite, one entry per object) and any
            extra per-object fields (NumPy arrays or awkward arrays of the same length, e.g.
            ``n_constituents``, ``tau21``), whose names must not be vector coordinates or
            properties.
        offsets: ``n_events + 1`` non-decreasing integers from 0 to the number of objects
            (:attr:`FlatMomenta.offsets`).

    Returns:
        An awkward array of type ``n_events * var * Momentum4D[px, py, pz, E, ...]``.

    Raises:
        MissingBranchError: a coordinate is missing from ``fields``.
        ConfigError: an extra field's name is a vector coordinate or property.
        ShapeMismatchError: lengths or offsets that do not fit together.
        NonFiniteInputError: a NaN or infinite coordinate.

    Example:
        >>> import numpy as np
        >>> jets = momentum4d({"px": np.array([3.0]), "py": np.array([0.0]),
        ...                    "pz": np.array([0.0]), "E": np.array([5.0])}, np.array([0, 1]))
        >>> float(jets.mass[0, 0])
        4.0
    """
    coordinates = ("px", "py", "pz", "E")
    missing = [c for c in coordinates if c not in fields]
    if missing:
        raise MissingBranchError(
            f"momentum4d: fields {missing} missing; got {list(fields)}. Pass flat px, py, "
            "pz and E (e.g. from flat_momenta()) plus any extra fields."
        )
    for name in fields:
        if name not in coordinates and _reserved(name):
            raise ConfigError(
                f"momentum4d: extra field {name!r} is a coordinate or property of vector's "
                f"Momentum4D; as a field it would make vector refuse the records or hide it "
                f"behind the property (jets.{name} would not return your values). Rename it "
                f"(e.g. {name + '_value'!r}); pt, eta, phi and mass come from px, py, pz, E."
            )
    offsets = np.asarray(offsets)
    if (
        offsets.ndim != 1
        or len(offsets) == 0
        or not np.issubdtype(offsets.dtype, np.integer)
        or offsets[0] != 0
        or (np.diff(offsets) < 0).any()
    ):
        raise ShapeMismatchError(
            f"momentum4d: offsets must be 1-D non-decreasing integers starting at 0, got "
            f"{offsets.dtype} of shape {offsets.shape} starting at "
            f"{offsets[:1].tolist()}; pass FlatMomenta.offsets or cumsum of the counts with a "
            "leading 0."
        )
    total = int(offsets[-1])
    contents = []
    for name, value in fields.items():
        if name in coordinates:
            value = np.ascontiguousarray(value, dtype=np.float64)
            if value.ndim == 1 and len(value) == total:
                _check_finite(value, f"{name!r}", "momentum4d", offsets)
            content = ak.contents.NumpyArray(value)
        elif isinstance(value, ak.Array):
            content = value.layout
        else:
            content = ak.to_layout(np.ascontiguousarray(value))
        if len(content) != total or content.purelist_depth < 1:
            raise ShapeMismatchError(
                f"momentum4d: field {name!r} has {len(content)} entries but the offsets "
                f"describe {total} objects; pass one entry per object."
            )
        if name in coordinates and content.purelist_depth != 1:
            raise ShapeMismatchError(
                f"momentum4d: {name!r} has shape {np.shape(value)}; pass a flat array."
            )
        contents.append(content)
    records = ak.contents.RecordArray(
        contents, list(fields), length=total, parameters={"__record__": "Momentum4D"}
    )
    layout = ak.contents.ListOffsetArray(ak.index.Index64(offsets.astype(np.int64)), records)
    return ak.Array(layout, behavior=vector.backends.awkward.behavior)
