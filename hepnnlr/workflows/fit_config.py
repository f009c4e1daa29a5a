"""The job of ``hepnnlr fit dctr|srgn CONFIG``: typed sections, loaded strictly from YAML.

A :class:`FitJob` has the sections ``samples`` (:class:`SampleConfig`), ``features``
(:class:`FeatureConfig`), ``network`` (:class:`NetworkConfig`), ``training``
(:class:`FitTrainingConfig`), ``fit`` (:class:`FitConfig`), ``uncertainty``
(:class:`UncertaintyConfig`), ``calibration`` (:class:`CalibrationConfig`, the
targets of ``--calibrate``) and ``plots``
(:class:`~hepnnlr.workflows.config.PlotConfig`: style, label, formats of the figures);
:func:`load_fit_job` reads one from YAML, where an unknown key anywhere is an error naming
it and the valid keys. :mod:`hepnnlr.workflows.fit` runs it.

Example (``examples/configs/gaussian_srgn.yaml``)::

    output_dir: out/gaussian_srgn
    samples:
      generator: gaussian
      parameters: {mu: [-2.0, 2.0]}
      nominal: {mu: 0.0}
      target: {mu: 0.8}
      events: 20000
      seeds: {target: 7}          # a new target, the same simulation
    fit: {method: powell}
    uncertainty: {repeats: 3, bootstrap: 4}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from hepnnlr.analysis import AnalysisDescription, load
from hepnnlr.errors import ConfigError
from hepnnlr.methods.srgn import SRGN_OBJECTIVES, SRGN_STRATEGIES
from hepnnlr.models.spec import ModelSpec
from hepnnlr.training.config import TrainingConfig
from hepnnlr.workflows.config import (
    WHOLE_EXAMPLE,
    PlotConfig,
    as_plot_settings,
    from_mapping,
    merge_overrides,
    read_yaml_mapping,
)
from hepnnlr.workflows.fit_features import (
    GAUSSIAN_FEATURES,
    SET_NETWORKS,
    FeatureConfig,
)
from hepnnlr.workflows.fit_inputs import PARTICLE_FIELDS
from hepnnlr.workflows.fit_samples import (
    FILES,
    GENERATORS,
    PARAMETERS,
    SAMPLES,
    CalibrationConfig,
    SampleConfig,
    _pairs,
    _points,
    check_file_samples,
    resolve_files,
)

__all__ = [
    "FIT_METHODS",
    "CalibrationConfig",
    "GENERATORS",
    "PARAMETERS",
    "SAMPLES",
    "FeatureConfig",
    "FitJob",
    "FitConfig",
    "NetworkConfig",
    "SampleConfig",
    "FitTrainingConfig",
    "UncertaintyConfig",
    "load_fit_job",
]

FIT_METHODS = ("dctr", "srgn")


@dataclass(frozen=True)
class NetworkConfig:
    """The reweighter ``f(x_G, θ)`` and the SRGN classifier ``g``.

    The default reweighter, an MLP of 3 × 50, is that of the Gaussian examples of Andreassen,
    Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural Networks in the Presence
    of Detector Effects", arXiv:2010.03569.

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
class FitTrainingConfig:
    """Training of the reweighter and of ``g`` (the seed is set per repeat).

    Attributes:
        reweighter, classifier: Training of the reweighter ``f`` and of SRGN's ``g``.
        reweighter_members: Reweighter networks per repeat, trained on the same events
            with different seeds and averaged in ``log w``
            (:attr:`hepnnlr.methods.dctr_config.DCTRConfig.members`). On the tt̄ SRGN
            calibration curve, 4 members with ``reweighter.ema`` took the slope from
            about 0.69 (one network) to about 0.82: one network's training noise is a
            fixed mis-modelling that ``g`` sees (docs/fits.md, tt̄ SRGN items 9–11).
        nominal_draws: Parameter points drawn per nominal training event
            (:attr:`hepnnlr.methods.dctr_config.DCTRConfig.nominal_draws`). On the Gaussian job
            of ``tests/cli/test_fit_cli.py``, 4 draws with 36,000 varied events and
            ``ema: true`` bring the reweighter's error on the fit below the statistical
            error (docs/history/results-log.md).
        nominal_anchor: Share of each class of the reweighter's training that pins
            ``w(x, θ0) = 1`` with the nominal events at the nominal point
            (:attr:`hepnnlr.methods.dctr_config.DCTRConfig.nominal_anchor`, default 0.5); 0 turns
            the anchor off. On the tt̄ job, 0, 0.2 and 0.5 gave the same calibration slope
            (docs/fits.md).
    """

    reweighter: TrainingConfig = TrainingConfig(epochs=60, batch_size=1000, patience=8)
    classifier: TrainingConfig = TrainingConfig(epochs=30, batch_size=1000, patience=5)
    reweighter_members: int = 1
    nominal_draws: int = 1
    nominal_anchor: float = 0.5  # DCTRConfig's default (not imported: no TensorFlow here)

    def __post_init__(self) -> None:
        for name, what in (
            ("reweighter_members", "reweighter networks averaged per repeat"),
            ("nominal_draws", "parameter points per nominal event"),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"training.{name}={value!r} must be a positive integer ({what}).")
        a = self.nominal_anchor
        if isinstance(a, bool) or not isinstance(a, (int, float)) or not 0.0 <= a < 1.0:
            raise ConfigError(
                f"training.nominal_anchor={a!r} must be a number in [0, 1) (the share of each "
                "class that pins w(x, θ0) = 1; 0 turns the anchor off)."
            )


@dataclass(frozen=True)
class FitConfig:
    """How θ is fitted.

    Attributes:
        method: ``"powell"`` (bounded; one parameter in DCTR: bounded Brent) or ``"grid"``.
        bounds: ``{name: [low, high]}`` (default: the parameters' ranges).
        start: Powell's starting point (default: the middle of the bounds).
        grid_points: Points per parameter of the grid (``method: grid``; also the
            objective curves of ``dctr``).
        repeats: Moved to ``uncertainty.repeats``; setting it here is an error that
            says so.
        strategy: SRGN's training of ``g`` per θ′ (``"refit"``, ``"naive"``, ``"warm"``).
        objective: What SRGN minimizes: ``"auc"`` (Eq. 5 of arXiv:2010.03569) or
            ``"auc_excess"`` (the squared separation above that of identical samples,
            without the AUC's noise floor that rises as the weights spread:
            :mod:`hepnnlr.methods.srgn`).
        xtol, ftol, max_iterations: Powell's settings (``xtol`` on the unit scale of θ:
            a fraction of half the range ``samples.parameters``).
        test_fraction: Held-out fraction for the SRGN AUC.
        extrapolate: Allow bounds outside the parameters' ranges.
    """

    method: str = "powell"
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    start: dict[str, float] = field(default_factory=dict)
    grid_points: int = 11
    repeats: int | None = None
    strategy: str = "refit"
    objective: str = "auc"
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
        if self.objective not in SRGN_OBJECTIVES:
            raise ConfigError(f"fit.objective={self.objective!r}; choose one of {SRGN_OBJECTIVES}.")
        object.__setattr__(self, "bounds", _pairs(self.bounds, "fit.bounds"))
        object.__setattr__(self, "start", _points(self.start, "fit.start"))
        if self.repeats is not None:
            raise ConfigError(
                f"fit.repeats={self.repeats!r}: the repeats moved to uncertainty.repeats "
                "(their spread is the method uncertainty; uncertainty.bootstrap sets the "
                "replicas of the statistical one); write uncertainty: {repeats: "
                f"{self.repeats}}}."
            )
        for name in ("grid_points", "max_iterations"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"fit.{name}={value!r} must be a positive integer.")
        if self.grid_points < 2:
            raise ConfigError(f"fit.grid_points={self.grid_points} must be >= 2.")


@dataclass(frozen=True)
class UncertaintyConfig:
    """The uncertainty of the fitted values (docs/fits.md).

    Attributes:
        repeats: Independent fits on the same samples (training seeds ``seed + repeat``
            for the reweighter and SRGN's ``g``); their spread is the *method*
            uncertainty, their mean the fitted value. At least 2 to quote it.
        bootstrap: Bootstrap replicas of the target (Poisson(1) event weights); the
            spread of the refits is the *statistical* uncertainty. DCTR refits θ with
            the repeat's frozen reweighter (cheap); SRGN reruns the whole fit (as costly
            as a repeat's fit, without the reweighter's training). 0 switches it off;
            otherwise at least 2. Replica ``b`` refits kept repeat ``b mod M′``.
        simulation_bootstrap: Replicas of the *simulated* samples (0: none, else at least
            2): the nominal and varied events weighted by Poisson(1), the reweighter of
            kept repeat ``b mod M′`` retrained on them (its seed) and the fit rerun against
            the unweighted target; their spread with the training noise taken out
            (:func:`hepnnlr.results.fit_errors.simulation_covariance_of`) is
            ``stat_simulation``, the error from the finite simulation (each replica costs
            a repeat). Off by default; needed
            wherever the simulation is not much larger than the target (docs/fits.md).
        seed: Seed of the trainings (repeat ``r``: ``seed + r``) and of the replicas'
            weights (replica ``b``: the stream ``(seed, b)``; the simulation's replicas
            ``(seed, b, 1)`` and ``(seed, b, 2)``); default ``samples.seed``.
        keep_flagged: Keep flagged repeats and replicas (``edge``, ``no_discrimination``,
            ``flat``; :mod:`hepnnlr.methods.fit_quality`) in the averages; they are
            reported either way.
        outlier_sigma: The leave-one-out outlier window over repeats, in standard
            deviations of the other repeats.
        bound_margin: Share of the bound range that counts as a bound (flag ``edge``).
        flag_sigma: Significance, in statistical errors, below which an AUC equals 0.5
            or an objective's curvature counts as flat.
    """

    repeats: int = 2
    bootstrap: int = 4
    simulation_bootstrap: int = 0
    seed: int | None = None
    keep_flagged: bool = False
    outlier_sigma: float = 2.0
    bound_margin: float = 0.05
    flag_sigma: float = 3.0

    def __post_init__(self) -> None:
        for name in ("repeats", "bootstrap", "simulation_bootstrap"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"uncertainty.{name}={value!r} must be an integer >= 0.")
        if self.repeats < 1:
            raise ConfigError(
                f"uncertainty.repeats={self.repeats}: need at least 1 fit (2 or more to "
                "quote the method uncertainty)."
            )
        for name in ("bootstrap", "simulation_bootstrap"):
            if getattr(self, name) == 1:
                raise ConfigError(
                    f"uncertainty.{name}=1: a spread needs at least 2 replicas; give 0 (no "
                    "such uncertainty) or 2 or more."
                )
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0
        ):
            raise ConfigError(f"uncertainty.seed={self.seed!r} must be an integer >= 0.")
        if not isinstance(self.keep_flagged, bool):
            raise ConfigError(
                f"uncertainty.keep_flagged={self.keep_flagged!r} must be true or false."
            )
        for name in ("outlier_sigma", "flag_sigma"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"uncertainty.{name}={value!r} must be a number > 0.")
        if (
            isinstance(self.bound_margin, bool)
            or not isinstance(self.bound_margin, (int, float))
            or not 0 <= self.bound_margin < 0.5
        ):
            raise ConfigError(
                f"uncertainty.bound_margin={self.bound_margin!r} must be a number in [0, 0.5)."
            )


@dataclass(frozen=True)
class FitJob:
    """One ``hepnnlr fit`` job (see the module docstring); built from YAML by
    :func:`load_fit_job`.

    ``analysis``: the description the Pythia samples are processed with (a registered
    name or the path of a YAML, relative to the job file; default the generator's own,
    ``zjets`` or ``ttbar``); the features are fields of its levels' columns
    (``jet1.multiplicity``, ``m_b1munu``)."""

    method: str = "srgn"
    output_dir: Path = Path("hepnnlr-fit")
    # an example of a whole samples section: a section given in YAML does not merge into it
    samples: SampleConfig = field(
        default=SampleConfig(parameters={"mu": (-2.0, 2.0)}, target={"mu": 1.0}),
        metadata={WHOLE_EXAMPLE: True},
    )
    features: FeatureConfig = FeatureConfig()
    network: NetworkConfig = NetworkConfig()
    training: FitTrainingConfig = FitTrainingConfig()
    fit: FitConfig = FitConfig()
    uncertainty: UncertaintyConfig = UncertaintyConfig()
    calibration: CalibrationConfig = CalibrationConfig()
    progress: bool = False
    analysis: str | None = None
    # the figures: on/off, style, label (default "Simulation"), formats
    plots: PlotConfig | bool = PlotConfig()

    def __post_init__(self) -> None:
        if self.method not in FIT_METHODS:
            raise ConfigError(f"method={self.method!r}; choose one of {FIT_METHODS}.")
        if self.analysis is not None and (not isinstance(self.analysis, str) or not self.analysis):
            raise ConfigError(
                f"analysis={self.analysis!r} must name an analysis (hepnnlr.analysis.names()) "
                "or the path of a description YAML."
            )
        if self.analysis is not None and self.samples.generator == "gaussian":
            raise ConfigError(
                f"analysis={self.analysis!r}: the gaussian generator draws its samples in "
                "memory, with no files to run an analysis on; remove analysis."
            )
        if self.samples.generator == FILES:
            self._check_files()
        self.description  # noqa: B018 (loads it: a bad name or file fails here)
        object.__setattr__(self, "output_dir", Path(self.output_dir))
        object.__setattr__(self, "plots", as_plot_settings(self.plots))
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
        particles = {"generator": self.generator_particles, "simulation": self.simulation_particles}
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
            self.simulation_features or self.simulation_particles
        ):
            raise ConfigError("features: give at least one feature per level.")
        if self.samples.generator == "gaussian":
            for level, names_ in (
                ("generator", self.generator_features),
                ("simulation", self.simulation_features),
            ):
                if names_ != ("x",):
                    raise ConfigError(
                        f"features.{level}={list(names_)}: the gaussian generator has the "
                        "single feature 'x' at each level."
                    )

    def _check_files(self) -> None:
        """``samples.files``: read with the job's analysis (:func:`check_file_samples`)."""
        if self.analysis is None:
            raise ConfigError(
                "samples.files needs analysis: the description your files are read with "
                "(a registered name or the path of its YAML)."
            )
        named = all(  # the job's, or the defaults of its description (inputs, features)
            getattr(self, f"{level}_features") or getattr(self.features, f"{level}_particles")
            for level in ("generator", "simulation")
        )
        samples = check_file_samples(self.samples, self.description, self.analysis, named)
        object.__setattr__(self, "samples", samples)
        if samples.target_marked_data:  # real data by the job's word: refused before any run
            from hepnnlr.workflows.fit_data import check_real_data_target

            check_real_data_target(self)

    @cached_property
    def target_truth(self) -> bool:
        """Whether the target carries its generator level: false for real data among
        ``samples.files`` (:func:`hepnnlr.workflows.fit_data.resolve_target_truth`, which
        may read the target files' fields once)."""
        from hepnnlr.workflows.fit_data import resolve_target_truth

        return resolve_target_truth(self)

    def target_point(self) -> dict[str, float]:
        """The target's true θ, as reported: ``samples.point("target")``, or ``{}`` for
        real data (no truth to report)."""
        return self.samples.point("target") if self.target_truth else {}

    @cached_property
    def description(self) -> AnalysisDescription | None:
        """The analysis the Pythia samples' files run through
        (:func:`hepnnlr.processors.analysis.run_analysis`): ``analysis`` (a registered name
        or a description YAML), by default the generator's namesake (``zjets``,
        ``ttbar``); None for ``gaussian``."""
        if self.samples.generator == "gaussian":
            return None
        return load(self.analysis or self.samples.generator)

    @property
    def training_seed(self) -> int:
        """Seed of repeat 0's trainings (``uncertainty.seed``, default ``samples.seed``)."""
        u = self.uncertainty.seed
        return self.samples.seed if u is None else u

    @property
    def bounds(self) -> dict[str, tuple[float, float]]:
        """The fit bounds of every fitted parameter."""
        return {n: self.fit.bounds.get(n, self.samples.parameters[n]) for n in self.samples.names}

    @property
    def generator_features(self) -> tuple[str, ...]:
        """Event features at generator level (defaults without particle features)."""
        if self.features.generator or self.features.generator_particles:
            return tuple(self.features.generator)
        return self._default_features("gen")

    @property
    def simulation_features(self) -> tuple[str, ...]:
        """Event features at detector level (defaults without particle features)."""
        if self.features.simulation or self.features.simulation_particles:
            return tuple(self.features.simulation)
        return self._default_features("reco")

    def _default_features(self, level: str) -> tuple[str, ...]:
        """The description's ``inputs`` of ``level``, else its ``features``: a job naming
        only ``samples.generator: zjets|ttbar`` reads its namesake description's, the
        features these generators always had."""
        if self.description is None:
            return GAUSSIAN_FEATURES
        spec = self.description.levels.get(level)
        if spec is None:
            return ()
        return tuple(spec.inputs) or tuple(spec.features)

    @property
    def generator_particles(self) -> tuple[str, ...]:
        return tuple(self.features.generator_particles)

    @property
    def simulation_particles(self) -> tuple[str, ...]:
        return tuple(self.features.simulation_particles)


def load_fit_job(path: str | Path, method: str | None = None, **overrides: Any) -> FitJob:
    """Read a YAML fit job; ``method`` (the CLI's sub-command) must agree with the file's.

    A relative ``output_dir`` is taken from the YAML's folder; ``overrides`` (the command
    line's options, e.g. ``output_dir`` or ``uncertainty={"repeats": 3}``) are merged in
    by :func:`~hepnnlr.workflows.config.merge_overrides` after that.
    """
    path = Path(path)
    data = read_yaml_mapping(path, "fit config", FitJob, "start from one in examples/configs/.")
    if method is not None:
        if data.get("method", method) != method:
            raise ConfigError(
                f"fit config {path} says method: {data['method']} but the command is "
                f"'hepnnlr fit {method}'; run 'hepnnlr fit {data['method']}' or change it."
            )
        data["method"] = method
    if "output_dir" in data and not Path(str(data["output_dir"])).is_absolute():
        data["output_dir"] = str(path.parent / str(data["output_dir"]))
    analysis = data.get("analysis")
    if isinstance(analysis, str) and analysis.endswith((".yaml", ".yml")):
        if not Path(analysis).is_absolute():  # a description's path; a name stays a name
            data["analysis"] = str(path.parent / analysis)
    if isinstance(data.get("samples"), dict):
        resolve_files(data["samples"], path.parent)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return from_mapping(FitJob, merge_overrides(data, overrides), where=str(path))


# names before issue 18's naming rule (job sections end in ``Config``): still importable,
# for code written against them, but not in ``__all__``
CalibrationSettings = CalibrationConfig
FitSettings = FitConfig
TrainingSection = FitTrainingConfig
UncertaintySettings = UncertaintyConfig
