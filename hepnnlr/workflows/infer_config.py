"""The job of ``hepnnlr infer``: the typed sections of an :class:`InferenceJob`, from YAML.

Reference: B. Sluijter, "Classifiers versus Normalizing Flows for uncertainty-aware
estimation of a signal ratio", MSc thesis, Leiden University 2024, hdl:1887/4104579.

:class:`GridConfig` (the scan grid), :class:`DatasetConfig` (the fitted dataset),
:class:`CoverageConfig` (the coverage study), the toy
(:class:`~hepnnlr.workflows.infer_toy.ToyConfig`) or samples
(:class:`~hepnnlr.workflows.infer_samples.SamplesConfig`) section and the uncertainty
settings (:class:`~hepnnlr.workflows.infer_errors.InferUncertaintyConfig`);
:func:`load_inference_job` reads one strictly (unknown keys are errors that name them).
:mod:`hepnnlr.workflows.infer` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from hepnnlr.errors import ConfigError
from hepnnlr.models.spec import FlowSpec, ModelSpec
from hepnnlr.training.config import TrainingConfig
from hepnnlr.workflows.config import PlotConfig, as_plot_settings
from hepnnlr.workflows.infer_errors import InferUncertaintyConfig
from hepnnlr.workflows.infer_samples import SamplesConfig
from hepnnlr.workflows.infer_toy import ToyConfig

__all__ = [
    "ROUTES",
    "CoverageConfig",
    "DatasetConfig",
    "GridConfig",
    "InferenceJob",
    "load_inference_job",
]

ROUTES = ("exact", "classifier", "flow")


@dataclass(frozen=True)
class GridConfig:
    """The (μ, z) scan grid: ``[low, high, points]`` per parameter.

    Attributes:
        mu: μ grid (hdl:1887/4104579: 0 to 0.5).
        z: z grid (hdl:1887/4104579: 0.1π to 0.4π, inside the training range 0 to
            π/2).
        z_in_pi: ``z`` (here, in ``dataset`` and in ``coverage``) is given, and drawn, in
            units of π; ``None``: true for the Gaussian toy, false for samples.
        z_label: Axis label of z in the plots (``None``: ``z / π`` or the processor's).
    """

    mu: tuple[float, float, int] = (0.0, 0.5, 101)
    z: tuple[float, float, int] = (0.1, 0.4, 61)
    z_in_pi: bool | None = None
    z_label: str | None = None

    def __post_init__(self) -> None:
        for name in ("mu", "z"):
            values = getattr(self, name)
            if len(values) != 3 or int(values[2]) < 3 or not values[0] < values[1]:
                raise ConfigError(
                    f"grid.{name}={list(values)}: give [low, high, points] with low < high and "
                    "at least 3 points."
                )

    @property
    def mu_grid(self) -> np.ndarray:
        return np.linspace(float(self.mu[0]), float(self.mu[1]), int(self.mu[2]))

    @property
    def z_unit(self) -> float:
        """π where z is given in units of π (the default), else 1."""
        return np.pi if self.z_in_pi in (True, None) else 1.0

    @property
    def z_grid(self) -> np.ndarray:
        return np.linspace(float(self.z[0]), float(self.z[1]), int(self.z[2])) * self.z_unit


@dataclass(frozen=True)
class DatasetConfig:
    """The dataset fitted by the job: ``n_events`` at ``(mu, z)`` (z in units of π when the
    grid's ``z_in_pi``), fixed class counts as the test sets of
    hdl:1887/4104579."""

    mu: float = 0.2
    z: float = 0.25
    n_events: int = 9000
    seed: int = 3

    def __post_init__(self) -> None:
        if int(self.n_events) < 10:
            raise ConfigError(f"dataset.n_events={self.n_events}: give at least 10 events.")


@dataclass(frozen=True)
class CoverageConfig:
    """The coverage study of §3.3 of hdl:1887/4104579 on the grid ``mu x z`` of true values.

    Attributes:
        mu, z: True values (z in units of π when the grid's ``z_in_pi``).
        test_sets: Independent test sets per true (μ, z) (hdl:1887/4104579: 5).
        n_events: Events per test set ``N`` (hdl:1887/4104579: 9000).
        bootstrap_sets: Bootstrap sets per test set (hdl:1887/4104579: 100).
        bootstrap_size: Events per bootstrap set ``n`` (hdl:1887/4104579: 1000;
            ``k = N/n``).
        independent_toys: Toys of ``bootstrap_size`` events per true (μ, z) for the coverage
            of the true likelihood without bootstrapping (0: skip).
        seed: Seed of the test sets and bootstrap draws.
    """

    mu: tuple[float, ...] = (0.1, 0.2, 0.3)
    z: tuple[float, ...] = (0.15, 0.25, 0.35)
    test_sets: int = 1
    n_events: int = 9000
    bootstrap_sets: int = 100
    bootstrap_size: int = 1000
    independent_toys: int = 0
    seed: int = 5

    def __post_init__(self) -> None:
        if not self.mu or not self.z:
            raise ConfigError("coverage.mu and coverage.z need at least one value each.")
        for name in ("test_sets", "n_events", "bootstrap_sets", "bootstrap_size"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"coverage.{name}={getattr(self, name)} must be >= 1.")
        if int(self.independent_toys) < 0:
            raise ConfigError(f"coverage.independent_toys={self.independent_toys} must be >= 0.")


@dataclass(frozen=True)
class InferenceJob:
    """One signal-strength inference (fields map to YAML keys).

    Attributes:
        output_dir: Where scans, intervals, metrics and plots go.
        toy: The Gaussian toy and its training samples (the default when ``samples`` is
            not given).
        samples: ROOT files, processor and features instead of the toy
            (:class:`~hepnnlr.workflows.infer_samples.SamplesConfig`).
        routes: Likelihoods to build: any of ``"exact"`` (the true likelihood, toy only),
            ``"classifier"``, ``"flow"`` (default: all the case has).
        classifier: Network of f_sig and f_bkg (hdl:1887/4104579: MLP 3 x 120).
        flow: The conditional flow.
        training: Training settings shared by both routes.
        grid: The scan grid.
        dataset: The dataset fitted (toy: drawn from the toy; samples: drawn from the test
            files at one of their z; not with ``samples.data``).
        coverage: The coverage study (``None``: skip).
        uncertainty: Repeats (the routes retrained with the seeds ``training.seed + r``:
            the method error) and bootstrap replicas of the fitted dataset (Poisson(1)
            weights, densities frozen: the statistical error) of every fitted number
            (:class:`~hepnnlr.workflows.infer_errors.InferUncertaintyConfig`; ``seed`` replaces
            ``training.seed``).
        plots: The contour, profile and uncertainty figures
            (:class:`~hepnnlr.workflows.config.PlotConfig`: ``enabled``, ``style``,
            ``label``, default ``Simulation``, ``formats``; ``plots: false`` draws none).
        progress: Progress bars of the processor runs.
    """

    output_dir: Path
    toy: ToyConfig | None = None
    samples: SamplesConfig | None = None
    routes: tuple[str, ...] | None = None
    classifier: ModelSpec = ModelSpec("mlp", hidden=(120, 120, 120))
    flow: FlowSpec = FlowSpec()
    training: TrainingConfig = TrainingConfig(
        epochs=15, batch_size=256, learning_rate=2e-3, schedule="cosine", patience=15
    )
    grid: GridConfig = GridConfig()
    dataset: DatasetConfig | None = None
    coverage: CoverageConfig | None = None
    uncertainty: InferUncertaintyConfig = InferUncertaintyConfig()
    plots: PlotConfig | bool = PlotConfig()
    progress: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "output_dir", Path(self.output_dir))
        object.__setattr__(self, "plots", as_plot_settings(self.plots))
        seed = self.uncertainty.seed
        if seed is not None and seed != self.training.seed:
            object.__setattr__(self, "training", replace(self.training, seed=seed))
        if self.samples is not None:
            self._check_samples()
            return
        defaults = (("toy", ToyConfig()), ("routes", ROUTES), ("dataset", DatasetConfig()))
        for name, default in defaults:
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        if self.grid.z_in_pi is None:
            object.__setattr__(self, "grid", replace(self.grid, z_in_pi=True))
        unknown = [r for r in self.routes if r not in ROUTES]
        if unknown or not self.routes:
            raise ConfigError(f"routes={list(self.routes)}: choose from {list(ROUTES)}.")
        if self.coverage is not None and "exact" not in self.routes:
            raise ConfigError(
                "a coverage study compares with the true likelihood (overlaps): add 'exact' to "
                "routes."
            )

    def _check_samples(self) -> None:
        samples = self.samples
        if self.toy is not None:
            raise ConfigError(
                "the job has both a toy and a samples section; keep one (toy: the Gaussian "
                "toy, samples: ROOT files)."
            )
        if samples.relative_to == "output_dir":
            object.__setattr__(self, "samples", samples.resolved(self.output_dir))
        routes = self.routes if self.routes is not None else ("classifier", "flow")
        allowed = [r for r in ROUTES if r != "exact"]
        if not routes or any(r not in allowed for r in routes):
            raise ConfigError(
                f"routes={list(routes)}: with samples choose from {allowed} (no true "
                "likelihood exists for simulated samples; 'exact' is the Gaussian toy's)."
            )
        object.__setattr__(self, "routes", tuple(routes))
        if self.grid.z_in_pi:
            raise ConfigError(
                "grid.z_in_pi: true draws z in units of π (the Gaussian toy's angle); with "
                "samples give the grid and the truths in the units of z and drop z_in_pi."
            )
        object.__setattr__(
            self,
            "grid",
            replace(self.grid, z_in_pi=False, z_label=self.grid.z_label or samples.z_label),
        )
        if samples.data and self.dataset is not None:
            raise ConfigError(
                "samples.data and dataset both name the fitted dataset; keep samples.data "
                "(fit those files) or dataset (drawn from the test files)."
            )
        if not samples.data and self.dataset is None:
            raise ConfigError(
                "with samples the fitted dataset is either samples.data (files) or dataset: "
                "{mu: ..., z: ..., n_events: ...} drawn from the test files; give one."
            )
        wanted = [] if self.dataset is None else [self.dataset.z]
        if self.coverage is not None:
            wanted += list(self.coverage.z)
            if self.coverage.independent_toys:
                raise ConfigError(
                    f"coverage.independent_toys={self.coverage.independent_toys}: toys of "
                    "the true likelihood exist for the Gaussian toy only; set 0 or drop it."
                )
        missing = [
            z
            for z in wanted
            if not any(np.isclose(z, t, rtol=0, atol=1e-9) for t in samples.test_z)
        ]
        if missing:
            raise ConfigError(
                f"z value(s) {missing} of dataset/coverage have no test files: "
                f"samples.signal_test and background_test hold z {list(samples.test_z)}; "
                "choose among those or add files."
            )


def load_inference_job(path: str | Path, **overrides: Any) -> InferenceJob:
    """Read a YAML :class:`InferenceJob`; a relative ``output_dir`` is taken from the
    YAML's folder, and ``overrides`` (the command line's options) are merged in after that
    (:func:`~hepnnlr.workflows.config.merge_overrides`)."""
    from hepnnlr.workflows.config import from_mapping, merge_overrides, read_yaml_mapping

    path = Path(path)
    data = read_yaml_mapping(
        path,
        "config file",
        InferenceJob,
        "write one (see examples/configs/infer_gaussian.yaml).",
    )
    if isinstance(data.get("output_dir"), str) and not Path(data["output_dir"]).is_absolute():
        data["output_dir"] = str(path.parent / data["output_dir"])
    samples = data.get("samples")
    for key in ("analysis", "processor"):  # a description's path is the job file's
        name = samples.get(key) if isinstance(samples, dict) else None
        if isinstance(name, str) and name.endswith((".yaml", ".yml")):
            if not Path(name).is_absolute():
                samples[key] = str(path.parent / name)
    data = merge_overrides(data, overrides)
    if "output_dir" not in data:
        raise ConfigError(
            f"{path}: output_dir is required (where the results go); add it or give -o."
        )
    job = from_mapping(InferenceJob, data, where=str(path))
    if job.samples is not None and job.samples.relative_to == "config":
        job = replace(job, samples=job.samples.resolved(path.parent))
    return job


# names before issue 18's naming rule (job sections end in ``Config``): still importable,
# for code written against them, but not in ``__all__``
CoverageSpec = CoverageConfig
DatasetSpec = DatasetConfig
GridSpec = GridConfig
