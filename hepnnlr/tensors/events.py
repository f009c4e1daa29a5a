"""Network inputs of a set of events: padded particles, mask and event-level features."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError, MissingBranchError, ShapeMismatchError
from hepnnlr.tensors.checks import check_finite
from hepnnlr.tensors.padding import pad_particles

__all__ = ["EventTensors", "from_awkward"]


@dataclass(frozen=True, eq=False)
class EventTensors:
    """Inputs of ``n`` events for the networks of :mod:`hepnnlr.models`.

    Attributes:
        particles: ``(n, slots, len(particle_features))`` float32, zeros in padded slots,
            or ``None`` for event-level-only inputs.
        mask: ``(n, slots)`` bool, ``True`` for real particles (``None`` with ``particles``).
        globals: ``(n, len(global_features))`` float32, or ``None``.
        particle_features: Names of the particle features, in column order.
        global_features: Names of the event-level features, in column order.
        theta: ``(n, len(theta_names))`` float32 generator parameters of each event (the
            DCTR parameterization), or ``None``. Networks concatenate them per event or per
            particle (:class:`hepnnlr.models.ModelSpec` ``theta_mode``).
        theta_names: Names of the parameters, in column order.
    """

    particles: np.ndarray | None
    mask: np.ndarray | None
    globals: np.ndarray | None
    particle_features: tuple[str, ...] = ()
    global_features: tuple[str, ...] = ()
    theta: np.ndarray | None = None
    theta_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.particles is None and self.globals is None:
            raise ConfigError("EventTensors needs particle features, global features or both.")
        if (self.theta is None) != (not self.theta_names):
            raise ConfigError("EventTensors: `theta` and `theta_names` come together.")
        if (self.particles is None) != (self.mask is None):
            raise ConfigError("EventTensors: `particles` and `mask` come together.")
        if self.particles is not None:
            if self.particles.ndim != 3 or self.mask.shape != self.particles.shape[:2]:
                raise ShapeMismatchError(
                    f"particles must be (events, slots, features) with a (events, slots) mask; "
                    f"got particles {self.particles.shape} and mask {self.mask.shape}."
                )
            if self.particles.shape[2] != len(self.particle_features):
                raise ShapeMismatchError(
                    f"particles have {self.particles.shape[2]} feature columns but "
                    f"{len(self.particle_features)} particle_features names."
                )
        if self.globals is not None:
            if self.globals.ndim != 2 or self.globals.shape[1] != len(self.global_features):
                raise ShapeMismatchError(
                    f"globals must be (events, {len(self.global_features)}) to match "
                    f"global_features; got {self.globals.shape}."
                )
            if self.particles is not None and len(self.globals) != len(self.particles):
                raise ShapeMismatchError(
                    f"particles describe {len(self.particles)} events but globals "
                    f"{len(self.globals)}; pass both for the same events."
                )

        if self.theta is not None:
            if self.theta.ndim != 2 or self.theta.shape[1] != len(self.theta_names):
                raise ShapeMismatchError(
                    f"theta must be (events, {len(self.theta_names)}) to match theta_names; "
                    f"got {self.theta.shape}."
                )
            n = len(self.particles) if self.particles is not None else len(self.globals)
            if len(self.theta) != n:
                raise ShapeMismatchError(
                    f"theta describes {len(self.theta)} events but the features {n}; give "
                    "one parameter row per event."
                )

    def __len__(self) -> int:
        return len(self.particles) if self.particles is not None else len(self.globals)

    def check_finite(self, where: str = "") -> None:
        """Raise :class:`NonFiniteInputError` naming the first feature with NaN or inf."""
        if self.particles is not None:
            for k, name in enumerate(self.particle_features):
                check_finite(f"particle feature {name}", self.particles[..., k], where=where)
        if self.globals is not None:
            for k, name in enumerate(self.global_features):
                check_finite(f"event feature {name}", self.globals[:, k], where=where)
        if self.theta is not None:
            for k, name in enumerate(self.theta_names):
                check_finite(f"parameter {name}", self.theta[:, k], where=where)

    def subset(self, index: np.ndarray | slice) -> EventTensors:
        """The same inputs for a subset of events (a boolean mask, indices or a slice)."""
        return EventTensors(
            particles=None if self.particles is None else self.particles[index],
            mask=None if self.mask is None else self.mask[index],
            globals=None if self.globals is None else self.globals[index],
            particle_features=self.particle_features,
            global_features=self.global_features,
            theta=None if self.theta is None else self.theta[index],
            theta_names=self.theta_names,
        )

    def as_inputs(self) -> dict[str, np.ndarray]:
        """The dict of arrays the Keras models of :mod:`hepnnlr.models` take."""
        inputs: dict[str, np.ndarray] = {}
        if self.particles is not None:
            inputs["particles"] = self.particles
            inputs["mask"] = self.mask.astype(np.float32)
        if self.globals is not None:
            inputs["globals"] = self.globals
        if self.theta is not None:
            inputs["theta"] = self.theta
        return inputs

    @staticmethod
    def concatenate(parts: Sequence[EventTensors]) -> EventTensors:
        """Stack the events of several inputs with the same features (padding to the widest)."""
        first = parts[0]
        for part in parts[1:]:
            if (part.particle_features, part.global_features, part.theta_names) != (
                first.particle_features,
                first.global_features,
                first.theta_names,
            ):
                raise ShapeMismatchError(
                    "cannot concatenate EventTensors with different features: "
                    f"{first.particle_features}/{first.global_features} vs "
                    f"{part.particle_features}/{part.global_features}."
                )
        particles = mask = globals_ = None
        if first.particles is not None:
            slots = max(p.particles.shape[1] for p in parts)
            particles = np.concatenate([_widen(p.particles, slots) for p in parts])
            mask = np.concatenate([_widen(p.mask, slots) for p in parts])
        if first.globals is not None:
            globals_ = np.concatenate([p.globals for p in parts])
        theta = None if first.theta is None else np.concatenate([p.theta for p in parts])
        return EventTensors(
            particles, mask, globals_, first.particle_features, first.global_features,
            theta, first.theta_names,
        )


def _none_mask(array: ak.Array) -> np.ndarray:
    """``True`` where an event-level entry is ``None`` (all ``False`` for non-option arrays)."""
    if not array.layout.is_option:
        return np.zeros(len(array), dtype=bool)
    return ak.to_numpy(ak.is_none(array, axis=0))


def _widen(array: np.ndarray, slots: int) -> np.ndarray:
    missing = slots - array.shape[1]
    if missing == 0:
        return array
    pad = [(0, 0), (0, missing)] + [(0, 0)] * (array.ndim - 2)
    return np.pad(array, pad)


def from_awkward(
    level: ak.Array,
    *,
    particle_features: Sequence[str] = (),
    global_features: Sequence[str] = (),
    particles_field: str = "particles",
    select: np.ndarray | None = None,
    max_particles: int | None = None,
    where: str = "",
) -> EventTensors:
    """Build :class:`EventTensors` from one level (``gen`` or ``reco``) of event columns.

    Args:
        level: One record per event holding event-level fields and a list of particle
            records in ``particles_field``. Events that are ``None`` become empty rows
            (all-``False`` mask, zero globals): callers select events with the pass flags.
        particle_features: Particle record fields to use, in order.
        global_features: Event-level fields to use, in order.
        particles_field: Name of the particle list inside each event record.
        select: Optional boolean per event. Rows of unselected events are empty (all-
            ``False`` mask, zero features) and are not checked, so the result keeps one
            row per input event while only selected events need valid features.
        max_particles: Padding length (``None``: the largest multiplicity).
        where: Sample name for error messages.
    """
    particle_features = tuple(particle_features)
    global_features = tuple(global_features)
    particles = mask = globals_ = None
    fields = ak.fields(level)
    if select is not None:
        select = np.asarray(select, dtype=bool)
        if len(select) != len(level):
            raise ShapeMismatchError(
                f"select has {len(select)} entries for {len(level)} events"
                f"{' of ' + where if where else ''}."
            )
        level = ak.mask(level, select)
    if particle_features:
        if particles_field not in fields:
            raise MissingBranchError(
                f"no particle list {particles_field!r} in the event records"
                f"{' of ' + where if where else ''}; fields are {sorted(fields)}."
            )
        particles, mask = pad_particles(
            level[particles_field], particle_features, max_particles=max_particles, where=where
        )
    if global_features:
        columns = []
        present = ~_none_mask(level)
        for name in global_features:
            if name not in fields:
                raise MissingBranchError(
                    f"event feature {name!r} is not a field of the event records"
                    f"{' of ' + where if where else ''}; fields are {sorted(fields)}."
                )
            column = level[name]
            missing = _none_mask(column) & present
            if missing.any():
                raise MissingBranchError(
                    f"event feature {name!r}{' of ' + where if where else ''} is missing (None) "
                    f"in {int(missing.sum())} selected event(s), first at event "
                    f"{int(np.argmax(missing))}; select events where it is defined first."
                )
            values = ak.to_numpy(ak.fill_none(column, 0.0)).astype(np.float32)
            check_finite(f"event feature {name}", values, where=where)
            columns.append(values)
        globals_ = np.stack(columns, axis=1)
    return EventTensors(particles, mask, globals_, particle_features, global_features)
