"""Parameter fits from a YAML job: ``hepnnlr fit dctr CONFIG`` and ``hepnnlr fit srgn CONFIG``.

A :class:`FitJob` describes the samples, the features, the networks, their training and the
fit; :func:`run_fit` runs it end to end:

1. **Samples** (:class:`SampleConfig`): a nominal sample at ``nominal`` (generator and
   detector level, paired), a *varied* sample whose parameters are drawn uniformly over
   ``parameters`` (per event for ``gaussian``; per generator run, ``runs`` runs, for the
   Pythia generators) and a target ("data") sample at ``target``. Pythia samples are
   generated with :func:`hepnnlr.samples.make_zjets_sample` /
   :func:`hepnnlr.samples.make_ttbar_sample` into ROOT files under ``output_dir/samples``
   and read back through the coffea processors (:mod:`hepnnlr.processors.zjets`,
   :mod:`hepnnlr.processors.ttbar`) with :func:`hepnnlr.schema.run_processor`; a ROOT
   file the same job wrote before is reused (``samples.reuse``). See
   :mod:`hepnnlr.workflows.fit_inputs`.
2. **Features** (:class:`FeatureConfig`): event-level fields of the processors' ``gen`` and
   ``reco`` records (dotted paths such as ``jet1.multiplicity``), and for ``zjets``
   particle sets: per-constituent fields of the leading jets (``generator_particles``,
   ``simulation_particles``), read by a set network (``network.reweighter`` /
   ``network.classifier`` of kind ``pfn``, ``efn`` or ``pet``; ``theta_mode: particle``
   gives θ to every particle, as the SRGN paper's PFN). Events that fail a level's
   selection or miss an event feature are not used (the counts are reported). Features
   are standardized with the nominal sample's statistics; the reweighter maps θ onto
   [-1, 1] itself (:class:`hepnnlr.methods.dctr.ThetaScale`), so θ is in its own units
   everywhere in the job and its outputs.
3. **Repeats** (``fit.repeats``): a DCTR reweighter ``w(x_G, θ)`` trained on half of the
   nominal sample and the varied sample, then the fit on the other half: ``dctr``, the DCTR
   fit of Eq. 3 at generator level against the target's generator level; ``srgn``, the
   SRGN fit of Eq. 5 at detector level against the target's detector level. When the
   nominal point lies inside ``samples.parameters``, the reweighter is anchored there
   (``w(x, θ0) = 1``, :attr:`hepnnlr.methods.dctr.DCTRConfig.nominal_anchor`). ``powell``
   (bounded) or ``grid`` (``grid_points`` per parameter; the fitted value is the parabola
   vertex around the grid minimum, the minimum itself is reported next to it). The
   paper's outlier rule is applied over repeats, then mean ± standard deviation.
4. **Outputs** in ``output_dir``: ``fit.json`` (fitted values per repeat, summary,
   selection counts), ``curves.json`` (reweighter loss per epoch, objective per θ′
   evaluated), ``histograms.root`` (per feature: target, nominal and nominal reweighted to
   the fitted θ; for particle sets the set size and each particle feature), PNG plots
   (reweighted distributions with a ratio panel, the loss curves, the objective (AUC for
   SRGN) vs θ′) and ``reweighter/`` (the first repeat's reweighter,
   :meth:`hepnnlr.methods.dctr.DCTRReweighter.load`).

Example (``examples/configs/gaussian_srgn.yaml``)::

    output_dir: out/gaussian_srgn
    samples:
      generator: gaussian
      parameters: {mu: [-2.0, 2.0]}
      nominal: {mu: 0.0}
      target: {mu: 0.8}
      events: 20000
    fit: {method: powell, repeats: 3}
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import hist
import numpy as np
import yaml
from matplotlib.figure import Figure

from hepnnlr.errors import ConfigError, EmptySelectionError, InputFileError
from hepnnlr.methods.dctr import DCTRConfig, DCTRReweighter, dctr_fit, dctr_scan
from hepnnlr.methods.srgn import (
    SRGN_STRATEGIES,
    SRGNConfig,
    SRGNObjective,
    remove_outliers,
    srgn_fit,
    srgn_scan,
    summarize,
)
from hepnnlr.models.spec import ModelSpec
from hepnnlr.results.io import write_histograms
from hepnnlr.results.plots import plot_comparison
from hepnnlr.tensors.events import EventTensors
from hepnnlr.training.config import TrainingConfig
from hepnnlr.workflows.config import from_mapping
from hepnnlr.workflows.fit_inputs import (
    PARTICLE_FIELDS,
    PARTICLE_JETS,
    SELECTED,
    Inputs,
    Level,
    load_samples,
)

__all__ = [
    "FIT_METHODS",
    "GENERATORS",
    "FeatureConfig",
    "FitJob",
    "FitOutputs",
    "FitSettings",
    "NetworkConfig",
    "SampleConfig",
    "TrainingSection",
    "load_fit_job",
    "run_fit",
]

FIT_METHODS = ("dctr", "srgn")
GENERATORS = ("gaussian", "zjets", "ttbar")
PARAMETERS = {
    "gaussian": ("mu", "sigma"),
    "zjets": ("alphaS", "aLund", "probStoUD"),
    "ttbar": ("top_mass",),
}
"""Parameters each generator can vary (zjets: :class:`hepnnlr.samples.ZJetsTheta` fields)."""
DEFAULT_FEATURES = {
    "gaussian": ("x",),
    "zjets": ("jet1.multiplicity", "jet1.n_strange", "jet1.tau21", "jet1.ecf3", "jet1.mass",
              "jet2.multiplicity", "jet2.n_strange", "jet2.tau21", "jet2.ecf3", "jet2.mass"),
    "ttbar": ("m_b1munu", "m_b2munu", "m_b1jj", "m_b2jj"),
}
EXECUTORS = ("iterative", "futures", "dask")
SET_NETWORKS = ("pfn", "efn", "pet")
"""Network kinds that read particle sets."""
UNSELECTED = ("drop", "zero")
"""What ``features.unselected`` does with events failing a level's selection."""


def _pairs(value: Any, where: str) -> dict[str, tuple[float, float]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a mapping {{name: [low, high]}}, got {value!r}.")
    out = {}
    for name, bounds in value.items():
        try:
            low, high = (float(b) for b in bounds)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"{where}.{name} must be [low, high], got {bounds!r}.") from error
        if not low < high:
            raise ConfigError(f"{where}.{name} = [{low}, {high}]: need low < high.")
        out[str(name)] = (low, high)
    return out


def _points(value: Any, where: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a mapping {{name: value}}, got {value!r}.")
    try:
        return {str(k): float(v) for k, v in value.items()}
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{where} values must be numbers, got {value!r}.") from error


@dataclass(frozen=True)
class SampleConfig:
    """The samples of a fit.

    Attributes:
        generator: ``"gaussian"`` (x_G ~ N(μ, σ²), x_S = x_G + N(0, ε²)), ``"zjets"``
            (e+e- -> Z -> jets, parameters ``alphaS``, ``aLund``, ``probStoUD``) or
            ``"ttbar"`` (parameter ``top_mass``).
        parameters: The fitted parameters and the range their values are drawn from for
            the varied sample: ``{name: [low, high]}``.
        nominal: Parameter values of the nominal sample (unset ones: the generator's
            defaults: μ = 0, σ = 1; Monash; m_t = 172.5).
        target: Parameter values of the target ("data") sample; unset ones take the
            nominal values. Fitted ones must lie inside ``parameters``.
        events: Events of the nominal sample (half trains the reweighter, half is fitted).
        target_events: Events of the target sample (default: ``events // 2``).
        varied_events: Events of the varied sample (default: ``events // 2``).
        runs: Generator runs of the varied Pythia sample, each at its own θ drawn from
            ``parameters`` (``gaussian`` draws θ per event).
        seed: Seed of every sample (each sample and run gets its own offset).
        epsilon: Detector smearing of ``gaussian``.
        workers, executor, chunksize: Generation processes and coffea execution.
        mpi: Multiparton interactions in ``ttbar`` (slower).
        reuse: Reuse a Pythia ROOT file under ``output_dir/samples`` that an earlier run
            generated with the same generator, parameter point, size and seed (recorded
            in ``<file>.json``; the reused files are listed in ``fit.json``). ``false``
            regenerates every file.
    """

    generator: str = "gaussian"
    parameters: dict[str, tuple[float, float]] = field(default_factory=dict)
    nominal: dict[str, float] = field(default_factory=dict)
    target: dict[str, float] = field(default_factory=dict)
    events: int = 20_000
    target_events: int | None = None
    varied_events: int | None = None
    runs: int = 8
    seed: int = 1
    epsilon: float = 0.5
    workers: int = 1
    executor: str = "iterative"
    chunksize: int = 25_000
    mpi: bool = False
    reuse: bool = True

    def __post_init__(self) -> None:
        for name in ("mpi", "reuse"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(
                    f"samples.{name}={getattr(self, name)!r} must be true or false."
                )
        if self.generator not in GENERATORS:
            raise ConfigError(
                f"samples.generator={self.generator!r}; choose one of {GENERATORS}."
            )
        allowed = PARAMETERS[self.generator]
        ranges = _pairs(self.parameters, "samples.parameters")
        object.__setattr__(self, "parameters", ranges)
        object.__setattr__(self, "nominal", _points(self.nominal, "samples.nominal"))
        object.__setattr__(self, "target", _points(self.target, "samples.target"))
        if not ranges:
            raise ConfigError(
                f"samples.parameters is empty; name the parameter(s) to fit with their "
                f"range, e.g. {{{allowed[0]}: [low, high]}} (allowed: {list(allowed)})."
            )
        for what, mapping in (("parameters", ranges), ("nominal", self.nominal),
                              ("target", self.target)):
            unknown = sorted(set(mapping) - set(allowed))
            if unknown:
                raise ConfigError(
                    f"samples.{what}: unknown parameter(s) {unknown} for generator "
                    f"{self.generator!r}; allowed: {list(allowed)}."
                )
        if self.generator == "gaussian" and "sigma" in ranges and ranges["sigma"][0] <= 0:
            raise ConfigError(f"samples.parameters.sigma = {ranges['sigma']}: need low > 0.")
        for name, (low, high) in ranges.items():
            value = self.target.get(name, self.nominal.get(name))
            if value is not None and not low <= value <= high:
                raise ConfigError(
                    f"samples.target.{name} = {value} lies outside samples.parameters.{name} "
                    f"= [{low}, {high}]: the reweighter is trained on that range only; widen "
                    "the range to contain the target."
                )
        for name in ("events", "runs", "workers", "chunksize"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"samples.{name}={value!r} must be a positive integer.")
        for name in ("target_events", "varied_events"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 2):
                raise ConfigError(f"samples.{name}={value!r} must be an integer >= 2.")
        if self.events < 4:
            raise ConfigError(f"samples.events={self.events}: need at least 4 events.")
        if self.executor not in EXECUTORS:
            raise ConfigError(f"samples.executor={self.executor!r}; choose one of {EXECUTORS}.")
        if not self.epsilon >= 0:
            raise ConfigError(f"samples.epsilon={self.epsilon} must be >= 0.")

    @property
    def names(self) -> tuple[str, ...]:
        """The fitted parameters, in order."""
        return tuple(self.parameters)

    def point(self, which: str) -> dict[str, float]:
        """The full parameter point of the ``"nominal"`` or ``"target"`` sample (set keys)."""
        out = dict(self.nominal)
        if which == "target":
            out.update(self.target)
        return out


@dataclass(frozen=True)
class FeatureConfig:
    """Network inputs at generator (``gen``) and detector (``reco``) level.

    Attributes:
        generator, simulation: Event-level features. Dotted names reach into records
            (``jet1.multiplicity``). Empty: the generator's defaults (``gaussian``: ``x``;
            ``zjets``: multiplicity, strange-hadron count, τ21, e_3^(β=4) and mass of both
            leading jets; ``ttbar``: the four triplet masses), or none at a level that
            has particle features.
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
        for name in ("generator", "simulation", "generator_particles", "simulation_particles",
                     "particle_jets"):
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


@dataclass(frozen=True)
class NetworkConfig:
    """The reweighter ``f(x_G, θ)`` (the paper: 3 × 50) and the SRGN classifier ``g``.

    An ``mlp`` reads event features; a set network (``pfn``, ``efn``, ``pet``) reads the
    particle features of its level (the reweighter: ``features.generator_particles``,
    ``g``: ``features.simulation_particles``) and the event features with them.
    """

    reweighter: ModelSpec = ModelSpec("mlp", hidden=(50, 50, 50))
    classifier: ModelSpec = ModelSpec("mlp", hidden=(128, 128))

    def __post_init__(self) -> None:
        for name in ("reweighter", "classifier"):
            if not isinstance(getattr(self, name), ModelSpec):
                raise ConfigError(f"network.{name} must be a mapping of ModelSpec fields.")


@dataclass(frozen=True)
class TrainingSection:
    """Training of the reweighter and of ``g`` (the seed is set per repeat).

    Attributes:
        reweighter, classifier: Training of the reweighter ``f`` and of SRGN's ``g``.
        reweighter_members: Reweighter networks per repeat, trained on the same events
            with different seeds and averaged in ``log w``
            (:attr:`hepnnlr.methods.dctr.DCTRConfig.members`).
        nominal_draws: Parameter points drawn per nominal training event
            (:attr:`hepnnlr.methods.dctr.DCTRConfig.nominal_draws`). On the Gaussian job
            of ``tests/cli/test_fit_cli.py``, 4 draws with 36,000 varied events and
            ``ema: true`` bring the reweighter's error on the fit below the statistical
            error (docs/results.md).
    """

    reweighter: TrainingConfig = TrainingConfig(epochs=60, batch_size=1000, patience=8)
    classifier: TrainingConfig = TrainingConfig(epochs=30, batch_size=1000, patience=5)
    reweighter_members: int = 1
    nominal_draws: int = 1

    def __post_init__(self) -> None:
        for name, what in (("reweighter_members", "reweighter networks averaged per repeat"),
                           ("nominal_draws", "parameter points per nominal event")):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"training.{name}={value!r} must be a positive integer ({what})."
                )


@dataclass(frozen=True)
class FitSettings:
    """How θ is fitted.

    Attributes:
        method: ``"powell"`` (bounded; one parameter in DCTR: bounded Brent) or ``"grid"``.
        bounds: ``{name: [low, high]}`` (default: the parameters' ranges).
        start: Powell's starting point (default: the middle of the bounds).
        grid_points: Points per parameter of the grid (``method: grid``; also the
            objective curves of ``dctr``).
        repeats: Independent reweighters and fits (seeds ``samples.seed + repeat``).
        strategy: SRGN's training of ``g`` per θ′ (``"refit"``, ``"naive"``, ``"warm"``).
        xtol, ftol, max_iterations: Powell's settings (``xtol`` on the unit scale of θ:
            a fraction of half the range ``samples.parameters``).
        test_fraction: Held-out fraction for the SRGN AUC.
        extrapolate: Allow bounds outside the parameters' ranges.
    """

    method: str = "powell"
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    start: dict[str, float] = field(default_factory=dict)
    grid_points: int = 11
    repeats: int = 1
    strategy: str = "refit"
    xtol: float = 1e-3
    ftol: float = 1e-3
    max_iterations: int = 30
    test_fraction: float = 0.5
    extrapolate: bool = False

    def __post_init__(self) -> None:
        if self.method not in ("powell", "grid"):
            raise ConfigError(f"fit.method={self.method!r}; choose 'powell' or 'grid'.")
        if self.strategy not in SRGN_STRATEGIES:
            raise ConfigError(f"fit.strategy={self.strategy!r}; choose one of {SRGN_STRATEGIES}.")
        object.__setattr__(self, "bounds", _pairs(self.bounds, "fit.bounds"))
        object.__setattr__(self, "start", _points(self.start, "fit.start"))
        for name in ("grid_points", "repeats", "max_iterations"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"fit.{name}={value!r} must be a positive integer.")
        if self.grid_points < 2:
            raise ConfigError(f"fit.grid_points={self.grid_points} must be >= 2.")


@dataclass(frozen=True)
class FitJob:
    """One ``hepnnlr fit`` job (see the module docstring); built from YAML by
    :func:`load_fit_job`."""

    method: str = "srgn"
    output_dir: Path = Path("hepnnlr-fit")
    samples: SampleConfig = SampleConfig(parameters={"mu": (-2.0, 2.0)}, target={"mu": 1.0})
    features: FeatureConfig = FeatureConfig()
    network: NetworkConfig = NetworkConfig()
    training: TrainingSection = TrainingSection()
    fit: FitSettings = FitSettings()
    progress: bool = False

    def __post_init__(self) -> None:
        if self.method not in FIT_METHODS:
            raise ConfigError(f"method={self.method!r}; choose one of {FIT_METHODS}.")
        object.__setattr__(self, "output_dir", Path(self.output_dir))
        names = self.samples.names
        for what, mapping in (("bounds", self.fit.bounds), ("start", self.fit.start)):
            unknown = sorted(set(mapping) - set(names))
            if unknown:
                raise ConfigError(
                    f"fit.{what}: {unknown} are not fitted parameters; the fitted parameters "
                    f"(samples.parameters) are {list(names)}."
                )
        for name, (low, high) in self.fit.bounds.items():
            r_low, r_high = self.samples.parameters[name]
            if not self.fit.extrapolate and (low < r_low or high > r_high):
                raise ConfigError(
                    f"fit.bounds.{name} = [{low}, {high}] reaches outside the reweighter's "
                    f"training range samples.parameters.{name} = [{r_low}, {r_high}]; narrow "
                    "the bounds or set fit.extrapolate: true."
                )
        for name, value in self.fit.start.items():
            low, high = self.bounds[name]
            if not low <= value <= high:
                raise ConfigError(f"fit.start.{name} = {value} lies outside [{low}, {high}].")
        particles = {"generator": self.generator_particles,
                     "simulation": self.simulation_particles}
        if any(particles.values()) and self.samples.generator != "zjets":
            raise ConfigError(
                f"features.generator_particles / simulation_particles: particle sets are the "
                f"jet constituents of the zjets generator; samples.generator="
                f"{self.samples.generator!r} has event features only."
            )
        for level, network in (("generator", "reweighter"), ("simulation", "classifier")):
            kind = getattr(self.network, network).kind
            used = network == "reweighter" or self.method == "srgn"  # g: SRGN only
            if used and particles[level] and kind not in SET_NETWORKS:
                raise ConfigError(
                    f"network.{network}.kind={kind!r} cannot read features.{level}_particles "
                    f"{list(particles[level])}; use a set network (kind: one of "
                    f"{list(SET_NETWORKS)}, e.g. pfn with theta_mode: particle) or drop the "
                    "particle features."
                )
            if used and not particles[level] and kind != "mlp":
                raise ConfigError(
                    f"network.{network}.kind={kind!r} reads particle sets, but "
                    f"features.{level}_particles is empty; name the particle features (one "
                    f"of {list(PARTICLE_FIELDS)}) or use kind: mlp."
                )
        if not (self.generator_features or self.generator_particles) or not (
                self.simulation_features or self.simulation_particles):
            raise ConfigError("features: give at least one feature per level.")
        if self.samples.generator == "gaussian":
            for level, names_ in (("generator", self.generator_features),
                                  ("simulation", self.simulation_features)):
                if names_ != ("x",):
                    raise ConfigError(
                        f"features.{level}={list(names_)}: the gaussian generator has the "
                        "single feature 'x' at each level."
                    )

    @property
    def bounds(self) -> dict[str, tuple[float, float]]:
        """The fit bounds of every fitted parameter."""
        return {n: self.fit.bounds.get(n, self.samples.parameters[n]) for n in self.samples.names}

    @property
    def generator_features(self) -> tuple[str, ...]:
        """Event features at generator level (defaults without particle features)."""
        if self.features.generator or self.features.generator_particles:
            return tuple(self.features.generator)
        return DEFAULT_FEATURES[self.samples.generator]

    @property
    def simulation_features(self) -> tuple[str, ...]:
        """Event features at detector level (defaults without particle features)."""
        if self.features.simulation or self.features.simulation_particles:
            return tuple(self.features.simulation)
        return DEFAULT_FEATURES[self.samples.generator]

    @property
    def generator_particles(self) -> tuple[str, ...]:
        return tuple(self.features.generator_particles)

    @property
    def simulation_particles(self) -> tuple[str, ...]:
        return tuple(self.features.simulation_particles)


def load_fit_job(path: str | Path, method: str | None = None, **overrides: Any) -> FitJob:
    """Read a YAML fit job; ``method`` (the CLI's sub-command) must agree with the file's.

    A relative ``output_dir`` is taken from the YAML's folder; ``overrides`` replace
    top-level keys (e.g. ``output_dir``).
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(
            f"fit config {path} does not exist; start from one in examples/configs/."
        )
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"fit config {path} is not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"fit config {path} must hold a mapping of FitJob fields.")
    if method is not None:
        if data.get("method", method) != method:
            raise ConfigError(
                f"fit config {path} says method: {data['method']} but the command is "
                f"'hepnnlr fit {method}'; run 'hepnnlr fit {data['method']}' or change it."
            )
        data["method"] = method
    if "output_dir" in data and not Path(str(data["output_dir"])).is_absolute():
        data["output_dir"] = str(path.parent / str(data["output_dir"]))
    data.update({k: v for k, v in overrides.items() if v is not None})
    return from_mapping(FitJob, data, where=str(path))


# --- fit ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FitOutputs:
    """What :func:`run_fit` wrote, and the fitted values."""

    fitted: dict[str, list[float]]
    summary: dict[str, tuple[float, float]]
    kept: list[bool]
    fit_file: Path
    curves_file: Path
    histograms_file: Path
    plots: tuple[Path, ...]
    grid_minimum: dict[str, list[float]] = field(default_factory=dict)


def nominal_point(samples: SampleConfig) -> dict[str, float]:
    """The nominal value of every fitted parameter: ``samples.nominal`` or the default."""
    if samples.generator == "gaussian":
        defaults = {"mu": 0.0, "sigma": 1.0}
    elif samples.generator == "zjets":
        from hepnnlr.samples import ZJetsTheta

        defaults = {k: float(getattr(ZJetsTheta(), k)) for k in PARAMETERS["zjets"]}
    else:
        defaults = {"top_mass": 172.5}
    return {n: float(samples.nominal.get(n, defaults[n])) for n in samples.names}


def _anchor(samples: SampleConfig) -> dict[str, float] | None:
    """The nominal point the reweighter is anchored at; ``None`` if outside the range."""
    point = nominal_point(samples)
    inside = all(low <= point[n] <= high for n, (low, high) in samples.parameters.items())
    return point if inside else None


def _grid(job: FitJob) -> dict[str, np.ndarray]:
    return {n: np.linspace(*job.bounds[n], job.fit.grid_points) for n in job.samples.names}


def _one_repeat(job: FitJob, samples: dict[str, Level], inputs: Inputs, repeat: int):
    """Train the reweighter of one repeat and fit; θ in the parameters' own units."""
    s, f = job.samples, job.fit
    seed = s.seed + repeat
    names = s.names
    nominal, varied = samples["nominal"], samples["varied"]
    half = len(nominal) // 2
    rw = DCTRReweighter.train(
        inputs.events(nominal.gen.subset(slice(0, half)), "gen"),
        inputs.events(varied.gen, "gen", varied.theta, names),
        DCTRConfig(job.network.reweighter, replace(job.training.reweighter, seed=seed,
                                                   progress=job.progress),
                   members=job.training.reweighter_members,
                   nominal_draws=job.training.nominal_draws),
        theta_range=s.parameters, nominal_theta=_anchor(s),
    )
    fit_gen = inputs.events(nominal.gen.subset(slice(half, None)), "gen")
    bounds = job.bounds
    start = [f.start.get(n, 0.5 * sum(bounds[n])) for n in names] if f.start else None
    grid_minimum: dict[str, float] = {}
    if job.method == "dctr":
        data = inputs.events(samples["target"].gen, "gen")
        scan = dctr_scan(rw, data, fit_gen, _grid(job), extrapolate=f.extrapolate)
        if f.method == "grid":
            theta, objective = scan.fitted, float(scan.loss.min())
            grid_minimum = scan.best
        else:
            result = dctr_fit(rw, data, fit_gen, bounds=bounds, xtol=f.xtol,
                              max_iterations=f.max_iterations, start=start,
                              extrapolate=f.extrapolate)
            theta, objective = result.theta, result.loss
        curve = [(p.tolist(), float(v)) for p, v in zip(scan.points, scan.loss, strict=True)]
    else:
        config = SRGNConfig(
            model=job.network.classifier, training=job.training.classifier,
            strategy=f.strategy, xtol=f.xtol, ftol=f.ftol, max_iterations=f.max_iterations,
            test_fraction=f.test_fraction, seed=seed,
        )
        # detector level: the events that pass its selection (all, unless unselected: zero)
        rows = nominal.reco_rows(np.arange(half, len(nominal)))
        target = samples["target"]
        objective_fn = SRGNObjective(
            rw, inputs.events(nominal.gen.subset(rows), "gen"),
            inputs.events(nominal.reco.subset(rows), "reco"),
            inputs.events(target.reco.subset(target.reco_rows()), "reco"), config,
            extrapolate=f.extrapolate,
        )
        if f.method == "grid":
            scan = srgn_scan(objective_fn, _grid(job))
            theta, objective = scan.fitted, float(scan.auc.min())
            grid_minimum = scan.best
        else:
            result = srgn_fit(objective_fn, bounds=bounds, start=start)
            theta, objective = result.theta, result.auc
        curve = [(list(p), float(v)) for p, v in objective_fn.history]
    return rw, theta, grid_minimum, objective, curve


def _feature_values(t: EventTensors) -> dict[str, np.ndarray]:
    """Per histogrammed quantity: values, and the event each value belongs to.

    With a ``selected`` flag the other event features are taken from selected events only.
    """
    out = {}
    rows = np.arange(len(t))
    if SELECTED in t.global_features:
        selected = rows[t.globals[:, t.global_features.index(SELECTED)] > 0.5]
    for k, name in enumerate(t.global_features):
        index = rows if name == SELECTED or SELECTED not in t.global_features else selected
        out[name] = (t.globals[index, k].astype(np.float64), index)
    if t.particles is not None:
        event = np.broadcast_to(np.arange(len(t))[:, None], t.mask.shape)[t.mask]
        out["n_particles"] = (t.mask.sum(axis=1).astype(np.float64), np.arange(len(t)))
        for k, name in enumerate(t.particle_features):
            out[f"particle_{name}"] = (t.particles[..., k][t.mask].astype(np.float64), event)
    return out


def _histograms(job, samples, inputs, rw, theta) -> dict[str, dict[str, hist.Hist]]:
    """Per feature: target, nominal, and nominal reweighted to ``theta`` (fit half).

    Event features one entry per event; particle sets their size (``n_particles``) and
    each particle feature (``particle_<name>``, one entry per particle with its event's
    weight). 30 bins over the central 99% of target and nominal together; the tails
    beyond are in the histograms' under- and overflow bins (written to ROOT with them).
    """
    nominal, target = samples["nominal"], samples["target"]
    level = "gen" if job.method == "dctr" else "reco"
    rows = np.arange(len(nominal) // 2, len(nominal))
    target_rows = np.arange(len(target))
    if level == "reco":  # the events passing the detector-level selection
        rows, target_rows = nominal.reco_rows(rows), target.reco_rows()
    w = rw.weights(inputs.events(nominal.gen.subset(rows), "gen"),
                   [theta[n] for n in job.samples.names], extrapolate=job.fit.extrapolate)
    nom = _feature_values(getattr(nominal, level).subset(rows))
    tar = _feature_values(getattr(target, level).subset(target_rows))
    groups: dict[str, dict[str, hist.Hist]] = {}
    for name, (x_nom, event) in nom.items():
        x_tar = tar[name][0]
        low, high = np.quantile(np.concatenate([x_nom, x_tar]), [0.005, 0.995])
        if not high > low:
            low, high = low - 0.5, high + 0.5
        key = name.replace(".", "_")
        groups[key] = {}
        for label, values, weights in (("target", x_tar, None), ("nominal", x_nom, None),
                                       ("nominal_reweighted", x_nom, w[event])):
            h = hist.Hist.new.Reg(30, low, high, name=key, label=name).Weight()
            groups[key][label] = h.fill(values, weight=weights)  # tails: flow bins
    return groups


def _plot_curves(job, curves, losses, out: Path) -> list[Path]:
    paths = []
    fig = Figure(figsize=(6, 4.5))
    ax = fig.add_subplot()
    for repeat, history in enumerate(losses):
        ax.plot(history["loss"], color=f"C{repeat % 10}", label=f"repeat {repeat} train")
        ax.plot(history["val_loss"], color=f"C{repeat % 10}", ls="--", label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("weighted BCE")
    ax.set_title("DCTR reweighter training")
    ax.legend(fontsize=8)
    paths.append(out / "reweighter_loss.png")
    fig.savefig(paths[-1], dpi=110)
    label = "held-out AUC of g (Eq. 5)" if job.method == "srgn" else "DCTR loss (Eq. 3)"
    for k, name in enumerate(job.samples.names):
        fig = Figure(figsize=(6, 4.5))
        ax = fig.add_subplot()
        for repeat, curve in enumerate(curves):
            x = [p[k] for p, _ in curve]
            y = [v for _, v in curve]
            order = np.argsort(x)
            ax.plot(np.array(x)[order], np.array(y)[order], "o-", ms=3,
                    label=f"repeat {repeat}", color=f"C{repeat % 10}")
        target = job.samples.point("target").get(name)
        if target is not None:
            ax.axvline(target, color="k", ls="--", label=f"target {name}")
        ax.set_xlabel(f"{name}′")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
        paths.append(out / f"objective_vs_{name}.png")
        fig.savefig(paths[-1], dpi=110)
    return paths


def run_fit(job: FitJob) -> FitOutputs:
    """Run ``job`` end to end (module docstring) and write its outputs."""
    started = time.perf_counter()
    out = job.output_dir
    out.mkdir(parents=True, exist_ok=True)
    samples = load_samples(job)
    if len(samples["nominal"]) < 8:
        raise EmptySelectionError(
            f"only {len(samples['nominal'])} nominal event(s) pass the selection; raise "
            "samples.events."
        )
    inputs = Inputs(samples["nominal"])
    names = job.samples.names
    fitted: dict[str, list[float]] = {n: [] for n in names}
    grid_minimum: dict[str, list[float]] = {n: [] for n in names}
    curves, losses, objectives, first_rw = [], [], [], None
    for repeat in range(job.fit.repeats):
        rw, theta, at_grid, objective, curve = _one_repeat(job, samples, inputs, repeat)
        first_rw = first_rw or rw
        for n in names:
            fitted[n].append(theta[n])
            if at_grid:
                grid_minimum[n].append(at_grid[n])
        curves.append(curve)
        losses.append(rw.classifier.history)
        objectives.append(objective)
        if job.progress:
            print(f"[hepnnlr] repeat {repeat}: {theta} (objective {objective:.5f})", flush=True)
    if job.fit.method != "grid":
        grid_minimum = {}
    values = {n: np.array(v) for n, v in fitted.items()}
    keep = remove_outliers(values, job.bounds)
    if not keep.any():
        keep = np.ones(len(keep), bool)  # reported below: every repeat hit a bound
    summary = summarize(values, keep)
    mean_theta = {n: summary[n][0] for n in names}
    groups = _histograms(job, samples, inputs, first_rw, mean_theta)
    histograms_file = write_histograms(out / "histograms.root", groups)
    first_rw.save(out / "reweighter")
    plots = []
    level = "generator" if job.method == "dctr" else "detector"
    fitted_label = ", ".join(f"{n}={v:.4g}" for n, v in mean_theta.items())
    for key, group in groups.items():
        plots += plot_comparison(
            {"target": group["target"], "nominal": group["nominal"],
             f"nominal reweighted to the fit ({fitted_label})": group["nominal_reweighted"]},
            reference="target", path=out / f"{key}", xlabel=group["target"].axes[0].label,
            as_points=("target",), formats=("png",),
            title=f"{job.method.upper()} fit, {level} level",
        )
    plots += _plot_curves(job, curves, losses, out)
    fit_file = out / "fit.json"
    fit_file.write_text(json.dumps({
        "method": job.method, "generator": job.samples.generator,
        "parameters": list(names), "target": job.samples.point("target"),
        "nominal": job.samples.point("nominal"), "bounds": job.bounds,
        "nominal_anchor": (None if _anchor(job.samples) is None else
                           {"theta": _anchor(job.samples),
                            "share": DCTRConfig().nominal_anchor}),
        "reweighter_members": job.training.reweighter_members,
        "nominal_draws": job.training.nominal_draws,
        "fitted": fitted,
        "fitted_from": ("parabola vertex around the grid minimum" if job.fit.method == "grid"
                        else f"{job.fit.method} minimum"),
        "grid_minimum": grid_minimum, "kept": keep.tolist(),
        "all_repeats_hit_a_bound": bool(not remove_outliers(values, job.bounds).any()),
        "summary": {n: {"mean": m, "std": sd} for n, (m, sd) in summary.items()},
        "objective": objectives,
        "events": {k: {"used": len(v), "selected": v.selected, "generated": v.total}
                   for k, v in samples.items()},
        "reused_sample_files": sorted(f for v in samples.values() for f in v.reused),
        "features": {"generator": list(job.generator_features),
                     "simulation": list(job.simulation_features),
                     "generator_particles": list(job.generator_particles),
                     "simulation_particles": list(job.simulation_particles),
                     "particle_slots": {lv: (None if getattr(samples["nominal"], lv).particles
                                             is None else int(getattr(samples["nominal"], lv)
                                                              .particles.shape[1]))
                                        for lv in ("gen", "reco")}},
        "reweighter": str(out / "reweighter"),
        "seconds": time.perf_counter() - started,
    }, indent=2))
    curves_file = out / "curves.json"
    curves_file.write_text(json.dumps({
        "reweighter_history": losses,
        "objective": [[{"theta": p, "value": v} for p, v in c] for c in curves],
    }, indent=2))
    return FitOutputs(fitted, summary, keep.tolist(), fit_file, curves_file, histograms_file,
                      tuple(plots), grid_minimum)
