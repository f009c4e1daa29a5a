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
   :mod:`hepnnlr.processors.ttbar`) with :func:`hepnnlr.schema.run_processor`.
2. **Features** (:class:`FeatureConfig`): event-level fields of the processors' ``gen`` and
   ``reco`` records (dotted paths such as ``jet1.multiplicity``); events where any of them
   is undefined are not used (the counts are reported). Features are standardized with the
   nominal sample's mean and spread, parameters mapped linearly onto [-1, 1].
3. **Repeats** (``fit.repeats``): a DCTR reweighter ``w(x_G, θ)`` trained on half of the
   nominal sample and the varied sample, then the fit on the other half: ``dctr``, the DCTR
   fit of Eq. 3 at generator level against the target's generator level; ``srgn``, the
   SRGN fit of Eq. 5 at detector level against the target's detector level. ``powell``
   (bounded) or ``grid`` (``grid_points`` per parameter). The paper's outlier rule is
   applied over repeats, then mean ± standard deviation.
4. **Outputs** in ``output_dir``: ``fit.json`` (fitted values per repeat, summary,
   selection counts), ``curves.json`` (reweighter loss per epoch, objective per θ′
   evaluated), ``histograms.root`` (per feature: target, nominal and nominal reweighted to
   the fitted θ), and PNG plots (reweighted distributions with a ratio panel, the loss
   curves, the objective (AUC for SRGN) vs θ′).

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

import awkward as ak
import hist
import numpy as np
import yaml
from matplotlib.figure import Figure

from hepnnlr.errors import ConfigError, EmptySelectionError, InputFileError, MissingBranchError
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

    def __post_init__(self) -> None:
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
    """Event-level features at generator (``gen``) and detector (``reco``) level.

    Empty: the generator's defaults (``gaussian``: ``x``; ``zjets``: multiplicity,
    strange-hadron count, τ21, e_3^(β=4) and mass of both leading jets; ``ttbar``: the
    four triplet masses). Dotted names reach into records (``jet1.multiplicity``).
    """

    generator: tuple[str, ...] = ()
    simulation: tuple[str, ...] = ()


@dataclass(frozen=True)
class NetworkConfig:
    """The reweighter ``f(x_G, θ)`` (the paper: 3 × 50) and the SRGN classifier ``g``."""

    reweighter: ModelSpec = ModelSpec("mlp", hidden=(50, 50, 50))
    classifier: ModelSpec = ModelSpec("mlp", hidden=(128, 128))

    def __post_init__(self) -> None:
        for name in ("reweighter", "classifier"):
            if getattr(self, name).kind != "mlp":
                raise ConfigError(
                    f"network.{name}.kind={getattr(self, name).kind!r}: fit jobs use "
                    "event-level features, so the network must be an 'mlp'."
                )


@dataclass(frozen=True)
class TrainingSection:
    """Training of the reweighter and of ``g`` (the seed is set per repeat)."""

    reweighter: TrainingConfig = TrainingConfig(epochs=60, batch_size=1000, patience=8)
    classifier: TrainingConfig = TrainingConfig(epochs=30, batch_size=1000, patience=5)


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
        xtol, ftol, max_iterations: Powell's settings.
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
        if self.generator_features == () or self.simulation_features == ():
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
        return tuple(self.features.generator) or DEFAULT_FEATURES[self.samples.generator]

    @property
    def simulation_features(self) -> tuple[str, ...]:
        return tuple(self.features.simulation) or DEFAULT_FEATURES[self.samples.generator]


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


# --- samples -----------------------------------------------------------------------------


@dataclass
class _Level:
    """Feature matrix of paired events: generator ``gen`` ``(n, k)``, detector ``reco``."""

    gen: np.ndarray
    reco: np.ndarray
    theta: np.ndarray | None = None
    selected: int = 0
    total: int = 0


def _gaussian_samples(job: FitJob) -> dict[str, _Level]:
    from hepnnlr.samples.gaussian import gaussian_sample, varied_gaussian_sample

    s = job.samples
    nominal, target = s.point("nominal"), s.point("target")
    out = {}
    for key, point, n, seed in (("nominal", nominal, s.events, s.seed),
                                ("target", target, s.target_events or s.events // 2,
                                 s.seed + 1)):
        gen, reco = gaussian_sample(n, point, epsilon=s.epsilon, seed=seed)
        out[key] = _Level(gen[:, None], reco[:, None], None, n, n)
    n = s.varied_events or s.events // 2
    gen, theta = varied_gaussian_sample(n, s.parameters, seed=s.seed + 2, fixed=nominal)
    out["varied"] = _Level(gen[:, None], gen[:, None], theta, n, n)
    return out


def _field(record: ak.Array, path: str, where: str) -> ak.Array:
    value = record
    for part in path.split("."):
        fields = ak.fields(value)
        if part not in fields:
            raise MissingBranchError(
                f"feature {path!r}: {where} has no field {part!r} (fields there: "
                f"{sorted(fields)}); use one of those in features."
            )
        value = value[part]
    return value


def _columns_to_level(columns: ak.Array, job: FitJob, where: str) -> _Level:
    """Feature matrices of the events where every feature is defined at both levels."""
    arrays, defined = {}, np.ones(len(columns), bool)
    for level, names in (("gen", job.generator_features), ("reco", job.simulation_features)):
        cols = []
        for name in names:
            value = _field(columns[level], name, f"the {level} records of {where}")
            defined &= ~ak.to_numpy(ak.is_none(value, axis=0))
            cols.append(value)
        arrays[level] = cols
    if "pass_gen" in ak.fields(columns):
        defined &= ak.to_numpy(columns.pass_gen) & ak.to_numpy(columns.pass_reco)
    if not defined.any():
        raise EmptySelectionError(
            f"{where}: no event has every feature defined at both levels "
            f"({list(job.generator_features)} / {list(job.simulation_features)}); generate "
            "more events or choose features the events have."
        )
    mats = {
        level: np.stack([ak.to_numpy(ak.fill_none(c, 0.0))[defined].astype(np.float64)
                         for c in cols], axis=1)
        for level, cols in arrays.items()
    }
    for level, mat in mats.items():
        bad = ~np.isfinite(mat).all(axis=0)
        if bad.any():
            names = job.generator_features if level == "gen" else job.simulation_features
            raise MissingBranchError(
                f"{where}: feature(s) {[n for n, b in zip(names, bad, strict=True) if b]} at "
                f"{level} level are not finite in selected events; choose other features."
            )
    return _Level(mats["gen"], mats["reco"], None, int(defined.sum()), len(columns))


def _pythia_file(job: FitJob, name: str, point: dict[str, float], n: int, seed: int) -> Path:
    s = job.samples
    path = job.output_dir / "samples" / f"{name}.root"
    if s.generator == "zjets":
        from hepnnlr.samples import ZJetsTheta, make_zjets_sample

        return make_zjets_sample(path, n_events=n, seed=seed, theta=ZJetsTheta(**point),
                                 workers=s.workers, progress=job.progress)
    from hepnnlr.samples import make_ttbar_sample

    return make_ttbar_sample(path, n_events=n, seed=seed, top_mass=point.get("top_mass", 172.5),
                             mpi=s.mpi, workers=s.workers, progress=job.progress)


def _process(job: FitJob, path: Path) -> ak.Array:
    from hepnnlr.schema import run_processor

    if job.samples.generator == "zjets":
        from hepnnlr.processors.zjets import ZJetsProcessor as processor
        from hepnnlr.processors.zjets import collect_columns
    else:
        from hepnnlr.processors.ttbar import TTbarProcessor as processor
        from hepnnlr.processors.ttbar import collect_columns
    s = job.samples
    output = run_processor(processor(), {path.stem: [str(path)]}, executor=s.executor,
                           workers=s.workers, chunksize=s.chunksize, progress=job.progress)
    return collect_columns(output, path.stem)


def _pythia_samples(job: FitJob) -> dict[str, _Level]:
    s = job.samples
    nominal, target = s.point("nominal"), s.point("target")
    out = {}
    for key, point, n, seed in (("nominal", nominal, s.events, s.seed),
                                ("target", target, s.target_events or s.events // 2,
                                 s.seed + 1)):
        path = _pythia_file(job, key, point, n, seed)
        out[key] = _columns_to_level(_process(job, path), job, str(path))
    rng = np.random.default_rng(s.seed + 2)
    n_varied = s.varied_events or s.events // 2
    parts, thetas = [], []
    for run in range(s.runs):
        drawn = {name: float(rng.uniform(*r)) for name, r in s.parameters.items()}
        n = n_varied // s.runs + (1 if run < n_varied % s.runs else 0)
        path = _pythia_file(job, f"varied_{run:03d}", {**nominal, **drawn}, n, s.seed + 10 + run)
        level = _columns_to_level(_process(job, path), job, str(path))
        parts.append(level)
        thetas.append(np.tile([drawn[name] for name in s.names], (len(level.gen), 1)))
    out["varied"] = _Level(np.concatenate([p.gen for p in parts]),
                           np.concatenate([p.reco for p in parts]), np.concatenate(thetas),
                           sum(p.selected for p in parts), sum(p.total for p in parts))
    return out


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


class _Scale:
    """Features standardized to the nominal sample; θ mapped from its range onto [-1, 1]."""

    def __init__(self, job: FitJob, nominal: _Level) -> None:
        self.names = job.samples.names
        ranges = job.samples.parameters
        self.center = np.array([0.5 * (ranges[n][0] + ranges[n][1]) for n in self.names])
        self.half = np.array([0.5 * (ranges[n][1] - ranges[n][0]) for n in self.names])
        self.stats = {}
        for level in ("gen", "reco"):
            x = getattr(nominal, level)
            std = x.std(axis=0)
            self.stats[level] = (x.mean(axis=0), np.where(std > 0, std, 1.0))
        self.features = {"gen": job.generator_features, "reco": job.simulation_features}

    def events(self, x: np.ndarray, level: str, theta: np.ndarray | None = None):
        mean, std = self.stats[level]
        u = None if theta is None else self.to_u(theta).astype(np.float32)
        return EventTensors(None, None, ((x - mean) / std).astype(np.float32), (),
                            self.features[level], theta=u,
                            theta_names=self.names if u is not None else ())

    def to_u(self, theta):
        return (np.asarray(theta, float) - self.center) / self.half

    def to_theta(self, u):
        return self.center + self.half * np.asarray(u, float)

    def box(self, bounds: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        return {n: tuple(self.to_u_one(n, v) for v in bounds[n]) for n in self.names}

    def to_u_one(self, name: str, value: float) -> float:
        k = self.names.index(name)
        return float((value - self.center[k]) / self.half[k])


def _grid(job: FitJob, scale: _Scale) -> dict[str, np.ndarray]:
    bounds = job.bounds
    return {n: np.linspace(*scale.box(bounds)[n], job.fit.grid_points) for n in scale.names}


def _one_repeat(job: FitJob, samples: dict[str, _Level], scale: _Scale, repeat: int):
    s, f = job.samples, job.fit
    seed = s.seed + repeat
    nominal = samples["nominal"]
    half = len(nominal.gen) // 2
    train_gen = scale.events(nominal.gen[:half], "gen")
    varied = samples["varied"]
    rw = DCTRReweighter.train(
        train_gen, scale.events(varied.gen, "gen", varied.theta),
        DCTRConfig(job.network.reweighter, replace(job.training.reweighter, seed=seed,
                                                   progress=job.progress)),
        theta_range={n: (-1.0, 1.0) for n in scale.names},
    )
    fit_gen = scale.events(nominal.gen[half:], "gen")
    fit_reco = scale.events(nominal.reco[half:], "reco")
    box = scale.box(job.bounds)
    start = None
    if f.start:
        mid = {n: 0.5 * (lo + hi) for n, (lo, hi) in box.items()}
        start = [scale.to_u_one(n, f.start[n]) if n in f.start else mid[n] for n in scale.names]
    curve: list[tuple[list[float], float]] = []
    if job.method == "dctr":
        data = scale.events(samples["target"].gen, "gen")
        if f.method == "grid":
            scan = dctr_scan(rw, data, fit_gen, _grid(job, scale), extrapolate=f.extrapolate)
            u = np.array([scan.best[n] for n in scale.names])
            objective = float(scan.loss.min())
        else:
            result = dctr_fit(rw, data, fit_gen, bounds=box, xtol=f.xtol,
                              max_iterations=f.max_iterations, start=start,
                              extrapolate=f.extrapolate)
            u = np.array([result.theta[n] for n in scale.names])
            objective = result.loss
            scan = dctr_scan(rw, data, fit_gen, _grid(job, scale), extrapolate=f.extrapolate)
        curve = [(scale.to_theta(p).tolist(), float(v)) for p, v in zip(scan.points, scan.loss,
                                                                         strict=True)]
    else:
        config = SRGNConfig(
            model=job.network.classifier, training=job.training.classifier,
            strategy=f.strategy, xtol=f.xtol, ftol=f.ftol, max_iterations=f.max_iterations,
            test_fraction=f.test_fraction, seed=seed,
        )
        data = scale.events(samples["target"].reco, "reco")
        objective_fn = SRGNObjective(rw, fit_gen, fit_reco, data, config,
                                     extrapolate=f.extrapolate)
        if f.method == "grid":
            scan = srgn_scan(objective_fn, _grid(job, scale))
            u = np.array([scan.best[n] for n in scale.names])
            objective = float(scan.auc.min())
        else:
            result = srgn_fit(objective_fn, bounds=box, start=start)
            u = np.array([result.theta[n] for n in scale.names])
            objective = result.auc
        curve = [(scale.to_theta(p).tolist(), float(v)) for p, v in objective_fn.history]
    theta = scale.to_theta(u)
    return rw, {n: float(v) for n, v in zip(scale.names, theta, strict=True)}, objective, curve


def _histograms(job, samples, scale, rw, theta) -> dict[str, dict[str, hist.Hist]]:
    """Per feature: target, nominal, and nominal reweighted to ``theta`` (fit half).

    30 bins over the central 99% of target and nominal together; the tails beyond are in
    the histograms' under- and overflow bins (written to ROOT with them).
    """
    nominal, target = samples["nominal"], samples["target"]
    half = len(nominal.gen) // 2
    u = scale.to_u([theta[n] for n in scale.names])
    w = rw.weights(scale.events(nominal.gen[half:], "gen"), u, extrapolate=job.fit.extrapolate)
    level = "gen" if job.method == "dctr" else "reco"
    x_nom, x_tar = getattr(nominal, level)[half:], getattr(target, level)
    groups: dict[str, dict[str, hist.Hist]] = {}
    for k, name in enumerate(scale.features[level]):
        both = np.concatenate([x_nom[:, k], x_tar[:, k]])
        low, high = np.quantile(both, [0.005, 0.995])
        if not high > low:
            low, high = low - 0.5, high + 0.5
        key = name.replace(".", "_")
        groups[key] = {}
        for label, values, weights in (("target", x_tar[:, k], None),
                                       ("nominal", x_nom[:, k], None),
                                       ("nominal_reweighted", x_nom[:, k], w)):
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
    samples = _gaussian_samples(job) if job.samples.generator == "gaussian" else (
        _pythia_samples(job))
    if len(samples["nominal"].gen) < 8:
        raise EmptySelectionError(
            f"only {len(samples['nominal'].gen)} nominal event(s) pass the selection; raise "
            "samples.events."
        )
    scale = _Scale(job, samples["nominal"])
    names = job.samples.names
    fitted: dict[str, list[float]] = {n: [] for n in names}
    curves, losses, objectives, first_rw = [], [], [], None
    for repeat in range(job.fit.repeats):
        rw, theta, objective, curve = _one_repeat(job, samples, scale, repeat)
        first_rw = first_rw or rw
        for n in names:
            fitted[n].append(theta[n])
        curves.append(curve)
        losses.append(rw.classifier.history)
        objectives.append(objective)
        if job.progress:
            print(f"[hepnnlr] repeat {repeat}: {theta} (objective {objective:.5f})", flush=True)
    values = {n: np.array(v) for n, v in fitted.items()}
    keep = remove_outliers(values, job.bounds)
    if not keep.any():
        keep = np.ones(len(keep), bool)  # reported below: every repeat hit a bound
    summary = summarize(values, keep)
    mean_theta = {n: summary[n][0] for n in names}
    groups = _histograms(job, samples, scale, first_rw, mean_theta)
    histograms_file = write_histograms(out / "histograms.root", groups)
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
        "fitted": fitted, "kept": keep.tolist(),
        "all_repeats_hit_a_bound": bool(not remove_outliers(values, job.bounds).any()),
        "summary": {n: {"mean": m, "std": sd} for n, (m, sd) in summary.items()},
        "objective": objectives,
        "events": {k: {"used": len(v.gen), "selected": v.selected, "generated": v.total}
                   for k, v in samples.items()},
        "features": {"generator": list(job.generator_features),
                     "simulation": list(job.simulation_features)},
        "seconds": time.perf_counter() - started,
    }, indent=2))
    curves_file = out / "curves.json"
    curves_file.write_text(json.dumps({
        "reweighter_history": losses,
        "objective": [[{"theta": p, "value": v} for p, v in c] for c in curves],
    }, indent=2))
    return FitOutputs(fitted, summary, keep.tolist(), fit_file, curves_file, histograms_file,
                      tuple(plots))
