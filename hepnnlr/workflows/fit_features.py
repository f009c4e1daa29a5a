"""The ``features`` section of a fit job: the networks' inputs at each level.

:class:`FeatureConfig` is the ``features:`` mapping of a ``hepnnlr fit`` job
(:mod:`hepnnlr.workflows.fit_config`); unset event features default to the analysis
description's (:attr:`hepnnlr.workflows.fit_config.FitJob.generator_features`).
"""

from __future__ import annotations

from dataclasses import dataclass

from hepnnlr.errors import ConfigError
from hepnnlr.workflows.fit_inputs import PARTICLE_FIELDS, PARTICLE_JETS

__all__ = ["GAUSSIAN_FEATURES", "SET_NETWORKS", "UNSELECTED", "FeatureConfig"]

GAUSSIAN_FEATURES = ("x",)
"""The one feature of the Gaussian toy at each level; every other job's default features
are its analysis description's
(:attr:`hepnnlr.workflows.fit_config.FitJob.generator_features`)."""
SET_NETWORKS = ("pfn", "efn", "pet")
"""Network kinds that read particle sets."""
UNSELECTED = ("drop", "zero")
"""What ``features.unselected`` does with events failing a level's selection."""


@dataclass(frozen=True)
class FeatureConfig:
    """Network inputs at generator (``gen``) and detector (``reco``) level.

    Attributes:
        generator, simulation: Event-level features. Dotted names reach into records
            (``jet1.multiplicity``). Empty: the analysis description's ``inputs`` of that
            level, else its ``features`` (``zjets.yaml``: multiplicity, strange-hadron
            count, τ21, e_3^(β=4) and mass of both leading jets; ``ttbar.yaml``: the four
            triplet masses; ``gaussian``: ``x``), or none at a level that has particle
            features.
        generator_particles, simulation_particles: ``zjets`` only: per-particle features
            of the constituents of ``particle_jets``, for a set network (PFN): fields of
            :data:`hepnnlr.workflows.fit_inputs.PARTICLE_FIELDS` (``pt``, ``pt_frac``,
            ``deta``, ``dphi``, ``pdgId``, ``charge``, ``log_pt``, ``is_photon``,
            ``is_neutral_hadron``, ``is_strange``).
        particle_jets: The jets whose constituents form the set (``jet1``, ``jet2``).
        unselected: Pythia events that fail a level's selection (or miss one of its event
            features): ``"drop"`` (default) uses only the events that pass both levels;
            ``"zero"`` keeps every event at generator level, with zero event features and
            a ``selected`` feature (1/0) where the generator-level selection fails, so the
            reweighter learns from the whole sample (and the acceptance's dependence on
            θ); the detector-level fit (SRGN) uses the events that pass the detector-level
            selection, as real data has no others. Standardization uses selected events.
    """

    generator: tuple[str, ...] = ()
    simulation: tuple[str, ...] = ()
    generator_particles: tuple[str, ...] = ()
    simulation_particles: tuple[str, ...] = ()
    particle_jets: tuple[str, ...] = PARTICLE_JETS
    unselected: str = "drop"

    def __post_init__(self) -> None:
        if self.unselected not in UNSELECTED:
            raise ConfigError(
                f"features.unselected={self.unselected!r}; choose one of {list(UNSELECTED)}."
            )
        for name in (
            "generator",
            "simulation",
            "generator_particles",
            "simulation_particles",
            "particle_jets",
        ):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"features.{name} must be a list of names, got {value!r}.")
            object.__setattr__(self, name, tuple(value))
            if len(set(value)) != len(value):
                raise ConfigError(f"features.{name}={list(value)} names a feature twice.")
        for name in ("generator_particles", "simulation_particles"):
            unknown = [f for f in getattr(self, name) if f not in PARTICLE_FIELDS]
            if unknown:
                raise ConfigError(
                    f"features.{name}: unknown particle feature(s) {unknown}; available: "
                    f"{list(PARTICLE_FIELDS)}."
                )
        unknown = [j for j in self.particle_jets if j not in PARTICLE_JETS]
        if unknown or not self.particle_jets:
            raise ConfigError(
                f"features.particle_jets={list(self.particle_jets)}: choose one or more of "
                f"{list(PARTICLE_JETS)}."
            )
