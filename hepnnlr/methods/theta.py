"""Parameters θ as network inputs: points, per-event columns and the unit scale.

A parameterized reweighter (DCTR and SRGN: Andreassen, Hsu, Nachman, Suaysom, Suresh,
"Parameter estimation using neural networks in the presence of detector effects",
arXiv:2010.03569) takes θ next to the event's features. :func:`with_theta` attaches a
point (or one point per event) to events, :class:`ThetaScale` maps each parameter's
training range onto ``[-1, 1]`` before it enters the network, and :func:`check_features`
refuses events whose features are not those the network was trained on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.tensors.events import EventTensors
from hepnnlr.tensors.scaling import Standardizer

__all__ = ["ThetaScale", "check_features", "with_theta"]


def theta_row(theta: float | Sequence[float] | Mapping[str, float], names: tuple[str, ...]):
    """One parameter point as a float array in the order of ``names``."""
    if isinstance(theta, Mapping):
        missing = [n for n in names if n not in theta]
        extra = [n for n in theta if n not in names]
        if missing or extra:
            raise ConfigError(
                f"parameter point {dict(theta)} does not match the reweighter's parameters "
                f"{names}: missing {missing}, unknown {extra}."
            )
        return np.array([float(theta[n]) for n in names])
    row = np.atleast_1d(np.asarray(theta, dtype=np.float64)).reshape(-1)
    if len(row) != len(names):
        raise ConfigError(
            f"parameter point {row.tolist()} has {len(row)} value(s) but the reweighter is "
            f"parameterized in {len(names)}: {names}; give one value per parameter."
        )
    return row


def with_theta(
    events: EventTensors,
    theta: float | Sequence[float] | Mapping[str, float] | np.ndarray,
    names: Sequence[str],
) -> EventTensors:
    """``events`` carrying parameters: one point for every event, or a ``(n, k)`` array."""
    names = tuple(names)
    theta_array = np.asarray(theta if not isinstance(theta, Mapping) else [], dtype=np.float64)
    if theta_array.ndim == 2:
        values = theta_array
    else:
        values = np.broadcast_to(theta_row(theta, names), (len(events), len(names)))
    return EventTensors(
        events.particles,
        events.mask,
        events.globals,
        events.particle_features,
        events.global_features,
        np.ascontiguousarray(values, dtype=np.float32),
        names,
    )


def check_features(events: EventTensors, reference: EventTensors | tuple, what: str) -> None:
    """Raise if ``events`` lacks the features (names, in order) the network was trained on."""
    if isinstance(reference, EventTensors):
        expected = (reference.particle_features, reference.global_features)
    else:
        expected = reference
    got = (events.particle_features, events.global_features)
    if got != expected:
        missing = [f for f in expected[0] + expected[1] if f not in got[0] + got[1]]
        raise MissingBranchError(
            f"{what} has particle features {got[0]} and event features {got[1]}, but the "
            f"network was trained on {expected[0]} and {expected[1]}"
            f"{f' (missing {missing})' if missing else ''}; build {what} with the same "
            "features, in the same order."
        )


@dataclass(frozen=True)
class ThetaScale:
    """The linear map ``u = (θ − c) / h`` of each parameter onto the network's scale.

    Attributes:
        names: Parameter names, in column order.
        center: ``c`` per parameter (the middle of the training range).
        half_width: ``h`` per parameter (half the training range; 1 for a range of zero
            width, which then only shifts).
    """

    names: tuple[str, ...]
    center: tuple[float, ...]
    half_width: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(str(n) for n in self.names))
        object.__setattr__(self, "center", tuple(float(c) for c in self.center))
        object.__setattr__(self, "half_width", tuple(float(h) for h in self.half_width))
        if not len(self.names) == len(self.center) == len(self.half_width):
            raise ConfigError(
                f"ThetaScale: {len(self.names)} names, {len(self.center)} centers and "
                f"{len(self.half_width)} half widths; give one of each per parameter."
            )
        bad = [
            n
            for n, h in zip(self.names, self.half_width, strict=True)
            if not (np.isfinite(h) and h > 0)
        ]
        if bad or not np.all(np.isfinite(self.center)):
            raise ConfigError(
                f"ThetaScale: parameters {bad or list(self.names)} have center "
                f"{self.center} / half width {self.half_width}; need finite centers and "
                "half widths > 0."
            )

    @classmethod
    def from_range(
        cls, theta_range: Mapping[str, tuple[float, float]], names: Sequence[str]
    ) -> ThetaScale:
        """The map taking each ``[low, high]`` of ``theta_range`` onto ``[-1, 1]``."""
        center, half = [], []
        for name in names:
            low, high = (float(v) for v in theta_range[name])
            center.append(0.5 * (low + high))
            half.append(0.5 * (high - low) if high > low else 1.0)
        return cls(tuple(names), tuple(center), tuple(half))

    @classmethod
    def identity(cls, names: Sequence[str]) -> ThetaScale:
        """``u = θ`` (no scaling)."""
        return cls(tuple(names), (0.0,) * len(names), (1.0,) * len(names))

    def to_unit(self, theta: np.ndarray) -> np.ndarray:
        """``u`` for ``θ`` of shape ``(..., k)`` (float64)."""
        return (np.asarray(theta, np.float64) - np.asarray(self.center)) / np.asarray(
            self.half_width
        )

    def from_unit(self, unit: np.ndarray) -> np.ndarray:
        """``θ`` for ``u`` of shape ``(..., k)`` (float64)."""
        return np.asarray(unit, np.float64) * np.asarray(self.half_width) + np.asarray(self.center)


def scaled_standardizer(
    features: tuple[tuple[str, ...], tuple[str, ...]], scale: ThetaScale
) -> Standardizer:
    """A Standardizer that passes the features unchanged and maps θ to ``u``."""
    particle, event = features
    return Standardizer(
        particle,
        event,
        (0.0,) * len(particle),
        (1.0,) * len(particle),
        (0.0,) * len(event),
        (1.0,) * len(event),
        scale.names,
        scale.center,
        scale.half_width,
    )
