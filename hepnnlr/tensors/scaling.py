"""Per-feature standardization, fitted on a reference sample and saved with a model."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.outputs import write_json
from hepnnlr.tensors.events import EventTensors
from hepnnlr.tensors.jagged import JaggedEventTensors

__all__ = ["Standardizer"]


@dataclass(frozen=True)
class Standardizer:
    """Shift and scale each feature to zero mean and unit variance.

    Particle features are averaged over real particles only (padded slots are ignored and
    stay zero after :meth:`transform`). A feature with zero spread in the reference keeps
    scale 1, so it passes through shifted but never divided by zero.

    Attributes:
        particle_features, global_features, theta_names: Names the statistics belong to.
        particle_mean, particle_scale, global_mean, global_scale, theta_mean, theta_scale:
            The statistics (parameters θ are standardized like event features).
    """

    particle_features: tuple[str, ...]
    global_features: tuple[str, ...]
    particle_mean: tuple[float, ...]
    particle_scale: tuple[float, ...]
    global_mean: tuple[float, ...]
    global_scale: tuple[float, ...]
    theta_names: tuple[str, ...] = ()
    theta_mean: tuple[float, ...] = ()
    theta_scale: tuple[float, ...] = ()

    @classmethod
    def fit(
        cls,
        reference: EventTensors | JaggedEventTensors,
        weights: np.ndarray | None = None,
        *,
        keep: tuple[str, ...] = (),
    ) -> Standardizer:
        """Fit on ``reference`` (optionally weighted per event; weights must be >= 0).

        Features named in ``keep`` pass unchanged (mean 0, scale 1), e.g. the energy
        fraction an Energy Flow Network must see as it is.
        """
        names = set(reference.particle_features) | set(reference.global_features)
        unknown = sorted(set(keep) - names)
        if unknown:
            raise ConfigError(
                f"Standardizer.fit(keep=...) names {unknown}, which are not features of the "
                f"reference ({sorted(names)})."
            )
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64)
            if len(weights) != len(reference):
                raise ShapeMismatchError(
                    f"Standardizer.fit got {len(weights)} weights for {len(reference)} events."
                )
        p_mean: tuple[float, ...] = ()
        p_scale: tuple[float, ...] = ()
        g_mean: tuple[float, ...] = ()
        g_scale: tuple[float, ...] = ()
        if isinstance(reference, JaggedEventTensors):
            w = np.ones(len(reference)) if weights is None else np.abs(weights)
            per_particle = np.repeat(w, reference.counts)
            values = reference.values.astype(np.float64)
            p_mean, p_scale = _kept(
                _moments(values, per_particle, reference.particle_features),
                reference.particle_features,
                keep,
            )
        elif reference.particles is not None:
            w = np.ones(len(reference)) if weights is None else np.abs(weights)
            per_particle = np.broadcast_to(w[:, None], reference.mask.shape)[reference.mask]
            values = reference.particles[reference.mask].astype(np.float64)
            p_mean, p_scale = _kept(
                _moments(values, per_particle, reference.particle_features),
                reference.particle_features,
                keep,
            )
        if reference.globals is not None:
            w = np.ones(len(reference)) if weights is None else np.abs(weights)
            g_mean, g_scale = _kept(
                _moments(reference.globals.astype(np.float64), w, reference.global_features),
                reference.global_features,
                keep,
            )
        t_mean: tuple[float, ...] = ()
        t_scale: tuple[float, ...] = ()
        if reference.theta is not None:
            w = np.ones(len(reference)) if weights is None else np.abs(weights)
            t_mean, t_scale = _moments(reference.theta.astype(np.float64), w, reference.theta_names)
        return cls(
            reference.particle_features,
            reference.global_features,
            p_mean,
            p_scale,
            g_mean,
            g_scale,
            reference.theta_names,
            t_mean,
            t_scale,
        )

    def transform(self, inputs: EventTensors | JaggedEventTensors):
        """Return standardized copies of ``inputs`` (padded slots stay zero).

        Jagged inputs (:class:`JaggedEventTensors`) stay jagged.
        """
        if (inputs.particle_features, inputs.global_features, inputs.theta_names) != (
            self.particle_features,
            self.global_features,
            self.theta_names,
        ):
            raise ShapeMismatchError(
                "the inputs' features differ from those the Standardizer was fitted on: "
                f"{inputs.particle_features}/{inputs.global_features} vs "
                f"{self.particle_features}/{self.global_features}."
            )
        particles = globals_ = theta = None
        jagged = isinstance(inputs, JaggedEventTensors)
        if jagged:
            mean = np.asarray(self.particle_mean, np.float32)
            scale = np.asarray(self.particle_scale, np.float32)
            values = ((inputs.values - mean) / scale).astype(np.float32)
        elif inputs.particles is not None:
            mean = np.asarray(self.particle_mean, np.float32)
            scale = np.asarray(self.particle_scale, np.float32)
            particles = ((inputs.particles - mean) / scale) * inputs.mask[..., None]
            particles = particles.astype(np.float32)
        if inputs.globals is not None:
            mean = np.asarray(self.global_mean, np.float32)
            scale = np.asarray(self.global_scale, np.float32)
            globals_ = ((inputs.globals - mean) / scale).astype(np.float32)
        if inputs.theta is not None:
            theta = (
                (inputs.theta - np.asarray(self.theta_mean, np.float32))
                / np.asarray(self.theta_scale, np.float32)
            ).astype(np.float32)
        if jagged:
            return replace(inputs, values=values, globals=globals_, theta=theta)
        return replace(inputs, particles=particles, globals=globals_, theta=theta)

    def to_dict(self) -> dict:
        """A JSON-serializable description (saved next to a trained model)."""
        return {k: list(v) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: dict) -> Standardizer:
        """Inverse of :meth:`to_dict`; unknown or missing keys are an error."""
        expected = set(cls.__dataclass_fields__)
        if set(data) != expected:
            raise ConfigError(
                f"a saved Standardizer must have exactly the keys {sorted(expected)}; "
                f"got {sorted(data)}."
            )
        return cls(**{k: tuple(v) for k, v in data.items()})

    def save(self, path: str | Path) -> None:
        """Write the statistics as JSON (atomically: :func:`hepnnlr.outputs.write_json`)."""
        write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> Standardizer:
        """Read statistics written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text()))


def _kept(moments, names, keep):
    mean, scale = moments
    mean = tuple(0.0 if n in keep else m for n, m in zip(names, mean, strict=True))
    scale = tuple(1.0 if n in keep else s for n, s in zip(names, scale, strict=True))
    return mean, scale


def _moments(
    values: np.ndarray, weights: np.ndarray, names: tuple[str, ...]
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    total = weights.sum()
    if total <= 0:
        raise ConfigError(
            f"cannot fit a Standardizer for features {names}: the reference has no entries "
            "(or all-zero weights)."
        )
    mean = (weights[:, None] * values).sum(axis=0) / total
    var = (weights[:, None] * (values - mean) ** 2).sum(axis=0) / total
    scale = np.sqrt(var)
    scale[scale == 0] = 1.0
    return tuple(float(m) for m in mean), tuple(float(s) for s in scale)
