"""Network inputs kept jagged: flat particle values plus offsets, padded only per batch.

:class:`JaggedEventTensors` holds the same events as :class:`EventTensors` without the
padded ``(events, slots, features)`` array: the particles of all events are stored back to
back in ``values`` (``(total particles, features)``) and event ``i`` owns the rows
``offsets[i]:offsets[i + 1]``. :func:`hepnnlr.tensors.make_dataset` pads each batch to the
slots its busiest event needs, so the fully padded sample never exists in memory; training
on it gives the same batches (same events, same padding) as on the padded inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError, MissingBranchError, ShapeMismatchError
from hepnnlr.tensors.checks import check_finite
from hepnnlr.tensors.events import EventTensors, from_awkward

__all__ = ["JaggedEventTensors", "from_awkward_jagged"]


@dataclass(frozen=True, eq=False)
class JaggedEventTensors:
    """Inputs of ``n`` events with the particles stored flat (no padding).

    Attributes:
        values: ``(total particles, len(particle_features))`` float32, the particles of
            event 0, then of event 1, ...
        offsets: ``(n + 1,)`` int64, non-decreasing, ``offsets[0] == 0`` and
            ``offsets[-1] == len(values)``: event ``i`` has particles
            ``values[offsets[i]:offsets[i + 1]]``.
        globals, particle_features, global_features, theta, theta_names: As in
            :class:`EventTensors`.
    """

    values: np.ndarray
    offsets: np.ndarray
    globals: np.ndarray | None = None
    particle_features: tuple[str, ...] = ()
    global_features: tuple[str, ...] = ()
    theta: np.ndarray | None = None
    theta_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        offsets = np.asarray(self.offsets)
        if offsets.ndim != 1 or len(offsets) < 1 or not np.issubdtype(offsets.dtype, np.integer):
            raise ShapeMismatchError(
                f"offsets must be a 1-D integer array of n_events + 1 entries; got "
                f"{offsets.dtype} with shape {offsets.shape}."
            )
        object.__setattr__(self, "offsets", offsets.astype(np.int64, copy=False))
        if self.values.ndim != 2 or self.values.shape[1] != len(self.particle_features):
            raise ShapeMismatchError(
                f"values must be (particles, {len(self.particle_features)}) to match "
                f"particle_features; got {self.values.shape}."
            )
        if offsets[0] != 0 or offsets[-1] != len(self.values) or np.any(np.diff(offsets) < 0):
            raise ShapeMismatchError(
                f"offsets must start at 0, never decrease and end at len(values)="
                f"{len(self.values)}; got first {offsets[0]}, last {offsets[-1]}."
            )
        if (self.theta is None) != (not self.theta_names):
            raise ConfigError("JaggedEventTensors: `theta` and `theta_names` come together.")
        n = len(offsets) - 1
        for name, array, names in (("globals", self.globals, self.global_features),
                                   ("theta", self.theta, self.theta_names)):
            if array is None:
                continue
            if array.ndim != 2 or array.shape != (n, len(names)):
                raise ShapeMismatchError(
                    f"{name} must be ({n}, {len(names)}) for {n} events; got {array.shape}."
                )

    # -- the EventTensors interface -------------------------------------------------------
    @property
    def counts(self) -> np.ndarray:
        """Particles per event."""
        return np.diff(self.offsets)

    @property
    def max_particles(self) -> int:
        """Largest multiplicity (at least 1): the padding width of :meth:`to_padded`."""
        return max(int(self.counts.max()) if len(self) else 0, 1)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def check_finite(self, where: str = "") -> None:
        """Raise :class:`NonFiniteInputError` naming the first feature with NaN or inf."""
        for k, name in enumerate(self.particle_features):
            check_finite(f"particle feature {name}", self.values[:, k], where=where,
                         counts=self.counts)
        if self.globals is not None:
            for k, name in enumerate(self.global_features):
                check_finite(f"event feature {name}", self.globals[:, k], where=where)
        if self.theta is not None:
            for k, name in enumerate(self.theta_names):
                check_finite(f"parameter {name}", self.theta[:, k], where=where)

    def subset(self, index: np.ndarray | slice) -> JaggedEventTensors:
        """The same inputs for a subset of events (a boolean mask, indices or a slice)."""
        events = np.arange(len(self))[index]
        counts = self.counts[events]
        offsets = np.zeros(len(events) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        # Row of each kept particle in ``values``: its event's start plus its rank.
        rows = np.repeat(self.offsets[:-1][events] - offsets[:-1], counts) + np.arange(offsets[-1])
        return JaggedEventTensors(
            self.values[rows], offsets,
            None if self.globals is None else self.globals[events],
            self.particle_features, self.global_features,
            None if self.theta is None else self.theta[events], self.theta_names,
        )

    def to_padded(self, max_particles: int | None = None) -> EventTensors:
        """The padded :class:`EventTensors` of these events (allocates the full array)."""
        slots = self.max_particles if max_particles is None else int(max_particles)
        if slots < (int(self.counts.max()) if len(self) else 0):
            raise ConfigError(
                f"max_particles={max_particles} but an event has {int(self.counts.max())} "
                "particles; hepnnlr does not drop particles. Raise max_particles."
            )
        counts = self.counts
        mask = np.arange(slots)[None, :] < counts[:, None]
        particles = np.zeros((len(self), slots, self.values.shape[1]), np.float32)
        particles[mask] = self.values
        return EventTensors(particles, mask, self.globals, self.particle_features,
                            self.global_features, self.theta, self.theta_names)

    @classmethod
    def from_padded(cls, inputs: EventTensors) -> JaggedEventTensors:
        """Flatten padded inputs (real particles only, in slot order)."""
        if inputs.particles is None:
            raise ConfigError(
                "JaggedEventTensors needs particles; event-level inputs have nothing to keep "
                "jagged: use EventTensors."
            )
        counts = inputs.mask.sum(axis=1)
        if np.any(inputs.mask != (np.arange(inputs.mask.shape[1])[None, :] < counts[:, None])):
            raise ShapeMismatchError(
                "the mask has real particles after padded slots; hepnnlr masks list the real "
                "particles first (build the inputs with from_awkward or pad_particles)."
            )
        offsets = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        return cls(inputs.particles[inputs.mask].astype(np.float32, copy=False), offsets,
                   inputs.globals, inputs.particle_features, inputs.global_features,
                   inputs.theta, inputs.theta_names)

    @staticmethod
    def concatenate(parts: Sequence[JaggedEventTensors | EventTensors]) -> JaggedEventTensors:
        """Stack the events of several inputs with the same features (padded ones flattened)."""
        parts = [p if isinstance(p, JaggedEventTensors) else JaggedEventTensors.from_padded(p)
                 for p in parts]
        first = parts[0]
        for part in parts[1:]:
            if (part.particle_features, part.global_features, part.theta_names) != (
                first.particle_features, first.global_features, first.theta_names
            ):
                raise ShapeMismatchError(
                    "cannot concatenate inputs with different features: "
                    f"{first.particle_features}/{first.global_features} vs "
                    f"{part.particle_features}/{part.global_features}."
                )
        counts = np.concatenate([p.counts for p in parts])
        offsets = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        globals_ = None if first.globals is None else np.concatenate([p.globals for p in parts])
        theta = None if first.theta is None else np.concatenate([p.theta for p in parts])
        return JaggedEventTensors(
            np.concatenate([p.values for p in parts]), offsets, globals_,
            first.particle_features, first.global_features, theta, first.theta_names,
        )


def from_awkward_jagged(
    level: ak.Array,
    *,
    particle_features: Sequence[str],
    global_features: Sequence[str] = (),
    particles_field: str = "particles",
    select: np.ndarray | None = None,
    where: str = "",
) -> JaggedEventTensors:
    """Like :func:`hepnnlr.tensors.from_awkward`, keeping the particles jagged (no padding).

    The flat values are read straight from the awkward buffers; events that are ``None``
    or not selected have no particles (and zero event features, unchecked).
    """
    particle_features = tuple(particle_features)
    if not particle_features:
        raise ConfigError(
            "from_awkward_jagged needs particle_features; for event-level inputs use "
            "from_awkward(..., global_features=...)."
        )
    fields = ak.fields(level)
    if particles_field not in fields:
        raise MissingBranchError(
            f"no particle list {particles_field!r} in the event records"
            f"{' of ' + where if where else ''}; fields are {sorted(fields)}."
        )
    events = from_awkward(level, global_features=global_features, select=select,
                          where=where) if global_features else None
    if select is not None:
        level = ak.mask(level, np.asarray(select, dtype=bool))
    particles = ak.fill_none(level[particles_field], [], axis=0)
    available = ak.fields(particles)
    for field in particle_features:
        if field not in available:
            raise MissingBranchError(
                f"particle feature {field!r} is not a field of the particle records"
                f"{' of ' + where if where else ''}; available fields: {sorted(available)}."
            )
    counts = ak.to_numpy(ak.num(particles, axis=1)).astype(np.int64)
    offsets = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    columns = []
    for field in particle_features:
        flat = ak.to_numpy(ak.flatten(particles[field], axis=1)).astype(np.float32, copy=False)
        check_finite(f"particle feature {field}", flat, where=where, counts=counts)
        columns.append(flat)
    values = np.stack(columns, axis=1) if columns else np.zeros((0, 0), np.float32)
    return JaggedEventTensors(
        values, offsets, None if events is None else events.globals, particle_features,
        tuple(global_features),
    )
