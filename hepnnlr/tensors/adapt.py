"""Plain arrays to :class:`EventTensors`: the one adapter every method calls on its inputs.

The methods (:func:`hepnnlr.omnifold`, :meth:`hepnnlr.DCTRReweighter.train`,
:func:`hepnnlr.dctr_fit`, the SRGN objective, :meth:`hepnnlr.DCTRGANReweighter.train`,
:meth:`hepnnlr.ResponseModel.fit`) take their events as :class:`EventTensors` or as the
arrays a user of the ``omnifold`` package or of sbi already holds; the method calls
:func:`as_events` first, so plain arrays and hand-built tensors give the same result.

What is accepted, and what it becomes:

* a NumPy array ``(events,)`` or ``(events, features)``: event-level features
  (``globals``), named ``features`` or ``x0``, ``x1``, …;
* a NumPy array ``(events, slots, features)``: zero-padded particles, with ``mask``
  ``(events, slots)`` or, without one, a slot counted as a particle where any of its
  features is non-zero (the zero padding of the ``omnifold`` package's PET inputs);
* a mapping ``{name: (events,) column}``, a NumPy record array, or an awkward array of
  one record per event: event-level features named after the columns;
* an awkward array of particle lists (``events * var * record`` or ``events * var *
  number``): particles padded to ``max_particles`` (default: the largest multiplicity)
  with a mask, as :func:`~hepnnlr.tensors.padding.pad_particles` pads them.

Event records that hold a particle list next to event-level fields need the names of both
kinds of feature: build those with :func:`~hepnnlr.tensors.events.from_awkward`.
NumPy and awkward only: TensorFlow is not imported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.tensors.events import EventTensors, from_awkward
from hepnnlr.tensors.padding import pad_particles

__all__ = ["EventsLike", "as_columns", "as_events"]

EventsLike = EventTensors | np.ndarray | Mapping[str, Any] | ak.Array
"""What a method takes as events: tensors or the plain arrays :func:`as_events` adapts."""


def _names(features: Sequence[str] | None, count: int, argument: str) -> tuple[str, ...]:
    if features is None:
        return tuple(f"x{k}" for k in range(count))
    names = (features,) if isinstance(features, str) else tuple(features)
    if len(names) != count:
        raise ShapeMismatchError(
            f"{argument}: `features` gives {len(names)} name(s) {names} for {count} column(s); "
            "give one name per column, in column order."
        )
    return names


def _mapping_columns(
    columns: Mapping[str, Any], features: Sequence[str] | None, argument: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    names = tuple(columns) if features is None else tuple(features)
    if not names:
        raise ConfigError(f"{argument}: no columns given; pass at least one named column.")
    values, n = [], None
    for name in names:
        if name not in columns:
            raise ShapeMismatchError(
                f"{argument}: no column {name!r}; the columns are {sorted(columns)}."
            )
        column = np.asarray(columns[name], dtype=np.float64)
        if column.ndim != 1 or (n is not None and len(column) != n):
            raise ShapeMismatchError(
                f"{argument}: column {name!r} has shape {column.shape}; every column must be "
                f"one value per event{f', ({n},)' if n is not None else ''}."
            )
        n = len(column)
        values.append(column)
    return np.stack(values, axis=1), names


def as_columns(
    x: Any, *, features: Sequence[str] | None = None, argument: str = "x"
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Event-level columns as a float64 ``(events, features)`` array and their names.

    Args:
        x: ``(events,)`` or ``(events, features)`` array, a ``{name: column}`` mapping, a
            NumPy record array or an awkward array of one flat record per event.
        features: Column names (a mapping's or record's columns to take, in this order;
            an array's names, default ``x0``, ``x1``, …).
        argument: The caller's argument name, for error messages.

    Raises:
        ShapeMismatchError: not one row per event, or names that do not fit the columns.
    """
    if isinstance(x, ak.Array) and ak.fields(x):
        x = {name: x[name] for name in ak.fields(x)}
    elif isinstance(x, np.ndarray) and x.dtype.names:
        x = {name: x[name] for name in x.dtype.names}
    if isinstance(x, Mapping):
        return _mapping_columns(x, features, argument)
    values = np.asarray(x, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise ShapeMismatchError(
            f"{argument}: event-level columns must be (events,) or (events, features); got "
            f"shape {values.shape}."
        )
    return values, _names(features, values.shape[1], argument)


def _particles(
    values: np.ndarray, mask: Any, features: Sequence[str] | None, argument: str
) -> EventTensors:
    values = values.astype(np.float32)
    if mask is None:
        mask = (values != 0).any(axis=2)
    else:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != values.shape[:2]:
            raise ShapeMismatchError(
                f"{argument}: mask must be (events, slots) = {values.shape[:2]} to match "
                f"the particles {values.shape}; got {mask.shape}."
            )
        # hepnnlr's networks expect zeros in padded slots (hepnnlr.tensors docstring)
        values = np.where(mask[..., None], values, np.float32(0))
    names = _names(features, values.shape[2], argument)
    return EventTensors(values, mask, None, particle_features=names)


def _padded(x: ak.Array, features, max_particles, argument: str) -> EventTensors:
    if not ak.fields(x):
        name = _names(features, 1, argument)
        x, features = ak.zip({name[0]: x}), name
    names = tuple(ak.fields(x)) if features is None else tuple(features)
    values, mask = pad_particles(x, names, max_particles=max_particles, where=argument)
    return EventTensors(values, mask, None, particle_features=names)


def _named(x: Any) -> bool:
    """Whether ``x`` names its columns (a mapping, a record array, awkward records)."""
    if isinstance(x, ak.Array):
        return bool(ak.fields(x))
    return isinstance(x, Mapping) or bool(getattr(getattr(x, "dtype", None), "names", None))


def _jagged(x: Any) -> bool:
    """Whether ``x`` is an awkward array of variable-length lists (particles per event)."""
    if not isinstance(x, ak.Array) or x.ndim != 2:
        return False
    inner = x.type.content
    inner = inner.content if isinstance(inner, ak.types.OptionType) else inner
    return isinstance(inner, ak.types.ListType)


def _theta(theta: Any, n: int, argument: str) -> tuple[np.ndarray, tuple[str, ...]]:
    values, names = as_columns(theta, argument=f"{argument} theta")
    if not _named(theta):
        names = tuple(f"theta{k}" for k in range(len(names)))
    if len(values) != n:
        raise ShapeMismatchError(
            f"{argument}: theta has {len(values)} rows for {n} events; give the parameters "
            "each event was generated with, one row per event."
        )
    return values.astype(np.float32), names


def as_events(
    x: Any,
    *,
    features: Sequence[str] | None = None,
    mask: Any = None,
    theta: Any = None,
    max_particles: int | None = None,
    argument: str = "x",
) -> EventTensors:
    """The :class:`EventTensors` of plain arrays (see the module docstring for the forms).

    :class:`EventTensors` pass through unchanged (with ``theta`` attached, if given), so a
    method can call this on whatever it receives.

    Args:
        x: The events (an array, a mapping of columns, an awkward array, or tensors).
        features: Names of the features, in column order (default ``x0``, ``x1``, … for
            unnamed columns; a mapping's or record's own names otherwise).
        mask: ``(events, slots)`` booleans of a 3-D NumPy ``x``: ``True`` for a particle.
        theta: Per-event generator parameters (DCTR's ``θ``): ``(events,)`` or
            ``(events, k)`` (named ``theta0``, …) or a ``{name: column}`` mapping.
        max_particles: Padding length of awkward particle lists.
        argument: The caller's argument name, used in error messages.

    Raises:
        ShapeMismatchError: a shape that is none of the accepted forms (named with the
            argument and the shape received), or names that do not fit the columns.
        ConfigError: ``features``/``mask`` given with tensors, or ``theta`` given twice.
        NonFiniteInputError: NaN or inf in a feature (named).
    """
    if isinstance(x, EventTensors):
        if features is not None or mask is not None or max_particles is not None:
            raise ConfigError(
                f"{argument}: features, mask and max_particles describe plain arrays; the "
                "EventTensors given carry their own. Drop them, or pass the arrays."
            )
        if theta is None:
            return x  # checked where it was built; the method sees the very same object
        events = x
    elif mask is not None and (isinstance(x, ak.Array) or _named(x)):
        raise ConfigError(
            f"{argument}: a mask goes with zero-padded (events, slots, features) NumPy "
            "particles; awkward lists and named columns carry their own structure."
        )
    elif _jagged(x):
        events = _padded(x, features, max_particles, argument)
    elif isinstance(x, ak.Array) and any(x[f].ndim > 1 for f in ak.fields(x)):
        lists = [f for f in ak.fields(x) if x[f].ndim > 1]
        raise ShapeMismatchError(
            f"{argument}: the event records hold lists ({lists}) "
            "next to event-level fields; build the tensors with hepnnlr.tensors.from_awkward("
            "events, particle_features=..., global_features=...), which names both."
        )
    elif isinstance(x, ak.Array) and ak.fields(x):
        events = from_awkward(x, global_features=features or ak.fields(x), where=argument)
    elif _named(x):
        values, names = as_columns(x, features=features, argument=argument)
        events = EventTensors(None, None, values.astype(np.float32), (), names)
    else:
        try:
            values = np.asarray(x)
        except ValueError as err:  # NumPy refuses ragged nested lists
            raise ShapeMismatchError(
                f"{argument}: the nested lists have different lengths ({err}); pass particle "
                "lists as an awkward array, ak.Array(lists), which this pads with a mask."
            ) from err
        if values.dtype == object or values.ndim not in (1, 2, 3):
            raise ShapeMismatchError(
                f"{argument}: expected (events,), (events, features) or (events, slots, "
                f"features) numbers, a mapping of columns or an awkward array; got "
                f"{type(x).__name__} of shape {values.shape} and dtype {values.dtype}."
            )
        if values.ndim == 3:
            events = _particles(values, mask, features, argument)
        else:
            if mask is not None:
                raise ConfigError(
                    f"{argument}: a mask goes with (events, slots, features) particles; "
                    f"the array is {values.shape}."
                )
            values, names = as_columns(values, features=features, argument=argument)
            events = EventTensors(None, None, values.astype(np.float32), (), names)
    if theta is not None:
        if events.theta is not None:
            raise ConfigError(
                f"{argument}: the tensors carry parameters {events.theta_names} already; "
                "pass theta once."
            )
        values, names = _theta(theta, len(events), argument)
        events = EventTensors(
            events.particles,
            events.mask,
            events.globals,
            events.particle_features,
            events.global_features,
            values,
            names,
        )
    events.check_finite(argument)
    return events
