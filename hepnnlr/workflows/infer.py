"""Signal-strength inference job: train the routes, scan a dataset, measure coverage.

``hepnnlr infer CONFIG`` reads an :class:`InferenceJob` from YAML (strict keys, see
:mod:`hepnnlr.workflows.config`) and calls :func:`run_inference`:

1. training samples: the Gaussian toy (thesis §3.1.1; ``toy:``), signal and background with
   z uniform on the toy's range and both at z0 for the classifiers' negative class; or a
   physicist's ROOT files through a coffea processor (``samples:``, the Pythia H → ττ vs
   Z → ττ case with the τ_h energy scale z, see :mod:`hepnnlr.workflows.infer_samples`);
2. the routes: ``exact`` (the true likelihood; toy only), ``classifier`` (Eq. 2.8),
   ``flow`` (§2.2);
3. one dataset at the true ``(μ, z)`` (with ``samples:``, drawn from the held-out test
   files, or the ``samples.data`` files as they are): NLL grid per route, 68.27 % / 95.45 %
   Wilks intervals, an iminuit fit, contour and profile plots (z drawn in units of π for
   the toy, in its own units for samples: ``grid.z_in_pi``, ``grid.z_label``);
4. with a ``coverage`` section: test sets at every true ``(μ, z)``, bootstrap sets of each,
   and the metrics of thesis §3.3 (coverage, mean width, overlaps against the true
   likelihood) averaged per route, plus coverage of the true likelihood over independent
   toys (toy only; on samples the test sets come from the held-out files and no true
   likelihood exists, so no overlaps).

For a physicist's own samples, the pieces are the public functions
:func:`scan_and_report` (a trained :class:`MixtureLikelihood` + a dataset -> scans,
intervals, fits, plots) and :func:`coverage_study` (a test-set maker -> metrics).

Example config (``examples/configs/infer_gaussian.yaml``)::

    output_dir: infer-gaussian
    toy: {radius: 2.0, n_train: 50000, seed: 1}
    routes: [exact, classifier, flow]
    training: {epochs: 20, batch_size: 512, learning_rate: 0.001, patience: 3}
    grid: {mu: [0.0, 0.5, 101], z: [0.1, 0.4, 61], z_in_pi: true}
    dataset: {mu: 0.2, z: 0.25, n_events: 9000, seed: 3}
    coverage: {mu: [0.1, 0.2, 0.3], z: [0.15, 0.25, 0.35], n_events: 9000,
               bootstrap_sets: 100, bootstrap_size: 1000, independent_toys: 50}

The ττ case (``examples/configs/infer_tautau.yaml``) replaces ``toy:`` by ``samples:``
(files, processor, features, executor, optionally ``generate:``) and gives the grid and the
truths in the units of z (``z_in_pi`` is false there).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from hepnnlr.errors import ConfigError, InputFileError, NonFiniteInputError
from hepnnlr.methods.signal_strength import (
    MixtureLikelihood,
    NLLScan,
    evaluate_test_set,
    minimize_nll,
    scan_nll,
    wilks_intervals,
)
from hepnnlr.models.flows import FlowSpec
from hepnnlr.models.spec import ModelSpec
from hepnnlr.results.contours import plot_nll_contours, plot_profiles
from hepnnlr.training.config import TrainingConfig
from hepnnlr.workflows.infer_errors import InferUncertainty, infer_uncertainties, plot_errors
from hepnnlr.workflows.infer_samples import SamplesSpec, prepare_samples
from hepnnlr.workflows.infer_toy import (
    ToySpec,
    independent_toy_coverage,
    toy_inputs,
    train_gaussian_routes,
)

__all__ = [
    "ROUTES",
    "CoverageSpec",
    "DatasetSpec",
    "GridSpec",
    "InferenceJob",
    "InferenceOutputs",
    "InferUncertainty",
    "SamplesSpec",
    "ToySpec",
    "coverage_study",
    "load_inference_job",
    "run_inference",
    "scan_and_report",
    "train_gaussian_routes",
]

ROUTES = ("exact", "classifier", "flow")


@dataclass(frozen=True)
class GridSpec:
    """The (μ, z) scan grid: ``[low, high, points]`` per parameter.

    Attributes:
        mu: μ grid (the thesis: 0 to 0.5).
        z: z grid (the thesis: 0.1π to 0.4π, inside the training range 0 to π/2).
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
class DatasetSpec:
    """The dataset fitted by the job: ``n_events`` at ``(mu, z)`` (z in units of π when the
    grid's ``z_in_pi``), fixed class counts as the thesis's test sets."""

    mu: float = 0.2
    z: float = 0.25
    n_events: int = 9000
    seed: int = 3

    def __post_init__(self) -> None:
        if int(self.n_events) < 10:
            raise ConfigError(f"dataset.n_events={self.n_events}: give at least 10 events.")


@dataclass(frozen=True)
class CoverageSpec:
    """The coverage study of thesis §3.3 on the grid ``mu x z`` of true values.

    Attributes:
        mu, z: True values (z in units of π when the grid's ``z_in_pi``).
        test_sets: Independent test sets per true (μ, z) (the thesis: 5).
        n_events: Events per test set ``N`` (the thesis: 9000).
        bootstrap_sets: Bootstrap sets per test set (the thesis: 100).
        bootstrap_size: Events per bootstrap set ``n`` (the thesis: 1000; ``k = N/n``).
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
            (:class:`~hepnnlr.workflows.infer_samples.SamplesSpec`).
        routes: Likelihoods to build: any of ``"exact"`` (the true likelihood, toy only),
            ``"classifier"``, ``"flow"`` (default: all the case has).
        classifier: Network of f_sig and f_bkg (thesis: MLP 3 x 120).
        flow: The conditional flow.
        training: Training settings shared by both routes.
        grid: The scan grid.
        dataset: The dataset fitted (toy: drawn from the toy; samples: drawn from the test
            files at one of their z; not with ``samples.data``).
        coverage: The coverage study (``None``: skip).
        uncertainty: Repeats (the routes retrained with the seeds ``training.seed + r``:
            the method error) and bootstrap replicas of the fitted dataset (Poisson(1)
            weights, densities frozen: the statistical error) of every fitted number
            (:class:`~hepnnlr.workflows.infer_errors.InferUncertainty`; ``seed`` replaces
            ``training.seed``).
        plots: Write contour and profile plots.
        progress: Progress bars of the processor runs.
    """

    output_dir: Path
    toy: ToySpec | None = None
    samples: SamplesSpec | None = None
    routes: tuple[str, ...] | None = None
    classifier: ModelSpec = ModelSpec("mlp", hidden=(120, 120, 120))
    flow: FlowSpec = FlowSpec()
    training: TrainingConfig = TrainingConfig(
        epochs=15, batch_size=256, learning_rate=2e-3, schedule="cosine", patience=15
    )
    grid: GridSpec = GridSpec()
    dataset: DatasetSpec | None = None
    coverage: CoverageSpec | None = None
    uncertainty: InferUncertainty = InferUncertainty()
    plots: bool = True
    progress: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "output_dir", Path(self.output_dir))
        seed = self.uncertainty.seed
        if seed is not None and seed != self.training.seed:
            object.__setattr__(self, "training", replace(self.training, seed=seed))
        if self.samples is not None:
            self._check_samples()
            return
        for name, default in (("toy", ToySpec()), ("routes", ROUTES), ("dataset", DatasetSpec())):
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
            replace(self.grid, z_in_pi=False, z_label=self.grid.z_label or samples.entry.z_label),
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


@dataclass
class InferenceOutputs:
    """What :func:`run_inference` wrote and computed."""

    summary: dict[str, Any]
    summary_file: Path
    plots: list[Path] = field(default_factory=list)


def load_inference_job(path: str | Path, **overrides: Any) -> InferenceJob:
    """Read a YAML :class:`InferenceJob`; a relative ``output_dir`` is taken from the
    YAML's folder."""
    from hepnnlr.workflows.config import from_mapping

    path = Path(path)
    if not path.is_file():
        raise InputFileError(
            f"config file {path} does not exist; write one (see "
            "examples/configs/infer_gaussian.yaml)."
        )
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of InferenceJob fields.")
    if "output_dir" not in data:
        raise ConfigError(f"{path}: output_dir is required (where the results go).")
    if not Path(str(data["output_dir"])).is_absolute():
        data["output_dir"] = str(path.parent / str(data["output_dir"]))
    data.update(overrides)
    job = from_mapping(InferenceJob, data, where=str(path))
    if job.samples is not None and job.samples.relative_to == "config":
        job = replace(job, samples=job.samples.resolved(path.parent))
    return job


def _interval_dict(intervals) -> list[dict[str, Any]]:
    return [
        {
            "level": i.level,
            "delta_nll": i.delta_nll,
            "best": i.best,
            "low": i.low,
            "high": i.high,
            "closed": i.closed,
        }
        for i in intervals
    ]


def scan_and_report(
    likelihoods: Mapping[str, MixtureLikelihood],
    data: Any,
    mu_grid: np.ndarray,
    z_grid: np.ndarray,
    output_dir: str | Path,
    *,
    truth: Mapping[str, float] | None = None,
    plots: bool = True,
    tag: str = "dataset",
    z_unit: float = np.pi,
    z_label: str | None = None,
) -> tuple[dict[str, Any], dict[str, NLLScan], list[Path]]:
    """Scan ``data`` with every likelihood, fit it with iminuit and write the results.

    Writes ``scan_<tag>_<name>.npz`` (grid and NLL) per likelihood and, with ``plots``,
    ``contours_<tag>.png`` and ``profiles_<tag>.png``, z drawn in units of ``z_unit`` (π:
    the Gaussian toy's angle; 1.0 for a nuisance in its own units) and labelled ``z_label``
    (default ``z / π`` or ``z``). Scans, intervals and fits keep z as given.

    Returns:
        ``(summary, scans, plot paths)``; the summary holds per likelihood the grid minimum,
        the Wilks intervals of μ and z (68.27 %, 95.45 %) and the iminuit fit.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {}
    scans: dict[str, NLLScan] = {}
    for name, likelihood in likelihoods.items():
        started = time.perf_counter()
        scan = scan_nll(likelihood, data, mu_grid, z_grid)
        scans[name] = scan
        intervals = wilks_intervals(scan)
        fit, minos_error = _minuit(
            likelihood, data, (intervals["mu"][0].best, intervals["z"][0].best)
        )
        np.savez(output_dir / f"scan_{tag}_{name}.npz", mu=scan.mu, z=scan.z, nll=scan.nll)
        summary[name] = {
            "mu": _interval_dict(intervals["mu"]),
            "z": _interval_dict(intervals["z"]),
            "minuit": {
                "mu": fit.mu,
                "z": fit.z,
                "mu_interval": list(fit.mu_interval),
                "z_interval": list(fit.z_interval),
                "valid": fit.valid,
                "minos_error": minos_error,
            },
            "seconds": time.perf_counter() - started,
        }
    written: list[Path] = []
    if plots:
        truths = [(truth["mu"], truth["z"])] if truth else [(np.nan, np.nan)]
        written += plot_nll_contours(
            [scans],
            truths,
            output_dir / f"contours_{tag}",
            title=f"{tag}: ΔNLL = 0.5, 2.0",
            z_unit=z_unit,
            z_label=z_label,
        )
        written += plot_profiles(
            scans,
            output_dir / f"profiles_{tag}",
            truth=truth,
            title=tag,
            z_unit=z_unit,
            z_label=z_label,
        )
    return summary, scans, written


def _minuit(
    likelihood: MixtureLikelihood, data: Any, start: tuple[float, float]
) -> tuple[Any, str | None]:
    """iminuit's fit from the grid minimum, and MINOS's error where it failed.

    MINOS can step to z = NaN on a trained model's rough NLL (the model then refuses the
    point); MIGRAD's minimum is kept, the MINOS intervals are NaN and the error message goes
    to the summary (``minos_error``).
    """
    try:
        return minimize_nll(likelihood, data, start=start), None
    except NonFiniteInputError as error:
        fit = minimize_nll(likelihood, data, start=start, minos=False)
        return fit, f"{type(error).__name__}: {error}"


def coverage_study(
    likelihoods: Mapping[str, MixtureLikelihood],
    make_test_set: Callable[[float, float, int, np.random.Generator], Any],
    truths: Sequence[tuple[float, float]],
    mu_grid: np.ndarray,
    z_grid: np.ndarray,
    *,
    reference: str | None = "exact",
    test_sets: int = 1,
    n_events: int = 9000,
    bootstrap_sets: int = 100,
    bootstrap_size: int = 1000,
    seed: int = 5,
    contour_path: str | Path | None = None,
    z_unit: float = np.pi,
    z_label: str | None = None,
) -> dict[str, Any]:
    """Thesis §3.3 metrics of every likelihood over test sets at each true ``(μ, z)``.

    Args:
        likelihoods: ``{name: MixtureLikelihood}``.
        make_test_set: ``(μ, z, n_events, rng) -> dataset`` (e.g. mixing a physicist's
            signal and background test events by μ and applying z).
        truths: The true ``(μ, z)`` values.
        mu_grid, z_grid: The scan grid.
        reference: Name of the true likelihood in ``likelihoods`` for the overlaps (Eq. 3.4),
            or ``None`` where none exists.
        test_sets, n_events: Independent test sets per truth and their size ``N``.
        bootstrap_sets, bootstrap_size: Bootstrap sets per test set and their size ``n``.
        seed: Seed of the test sets and the bootstrap draws.
        contour_path: If given, contours of the first test set of every truth (NLL scaled
            by ``n / N``, as the thesis's figure 4.4) are drawn there.
        z_unit, z_label: z axis of the contours (see :func:`scan_and_report`).

    Returns:
        ``{"per_truth": {name: [metrics per truth]}, "mean": {name: metrics}}``.
    """
    if reference is not None and reference not in likelihoods:
        raise ConfigError(
            f"reference={reference!r} is not one of the likelihoods {list(likelihoods)}; pass "
            "reference=None where no true likelihood exists."
        )
    rng = np.random.default_rng(seed)
    per_truth: dict[str, list[dict[str, float]]] = {name: [] for name in likelihoods}
    contour_sets, contour_truths = [], []
    ref = likelihoods[reference] if reference is not None else None
    for mu, z in truths:
        rows: dict[str, list[dict[str, float]]] = {name: [] for name in likelihoods}
        for k in range(int(test_sets)):
            data = make_test_set(mu, z, int(n_events), rng)
            set_seed = int(rng.integers(2**31))
            scans = {}
            for name, likelihood in likelihoods.items():
                metrics = evaluate_test_set(
                    likelihood,
                    data,
                    {"mu": mu, "z": z},
                    mu_grid,
                    z_grid,
                    reference=None if name == reference else ref,
                    n_sets=bootstrap_sets,
                    set_size=bootstrap_size,
                    rng=np.random.default_rng(set_seed),
                )
                rows[name].append(metrics.as_dict())
                scans[name] = metrics.scan
            if k == 0 and contour_path is not None:
                contour_sets.append(scans)
                contour_truths.append((mu, z))
        for name in likelihoods:
            entry = {key: float(np.mean([r[key] for r in rows[name]])) for key in rows[name][0]}
            entry.update(mu_true=float(mu), z_true=float(z))
            per_truth[name].append(entry)
    mean = {
        name: {
            key: float(np.mean([e[key] for e in entries]))
            for key in entries[0]
            if key not in ("mu_true", "z_true")
        }
        for name, entries in per_truth.items()
    }
    out: dict[str, Any] = {
        "per_truth": per_truth,
        "mean": mean,
        "k": float(n_events) / float(bootstrap_size),
    }
    if contour_path is not None:
        out["contours"] = [
            str(p)
            for p in plot_nll_contours(
                contour_sets,
                contour_truths,
                contour_path,
                scale=bootstrap_size / n_events,
                title=f"ΔNLL = 0.5, 2.0 (NLL × n/N = {bootstrap_size}/{n_events})",
                z_unit=z_unit,
                z_label=z_label,
            )
        ]
    return out


@dataclass
class _Case:
    """What the toy or the samples give the common steps of :func:`run_inference`."""

    likelihoods: dict[str, MixtureLikelihood]
    data: Any
    truth: dict[str, float] | None
    make_test_set: Callable[[float, float, int, np.random.Generator], Any]
    summary: dict[str, Any]
    tag: str = "dataset"
    retrain: Callable[[int], dict[str, MixtureLikelihood]] | None = None


def _toy_case(job: InferenceJob) -> _Case:
    return _Case(*toy_inputs(job))


def _samples_case(job: InferenceJob) -> _Case:
    return _Case(*prepare_samples(job))


def run_inference(job: InferenceJob) -> InferenceOutputs:
    """Run an :class:`InferenceJob` (see the module docstring); writes ``summary.json``."""
    started = time.perf_counter()
    out_dir = job.output_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    case = _samples_case(job) if job.samples is not None else _toy_case(job)
    likelihoods = case.likelihoods
    mu_grid, z_grid = job.grid.mu_grid, job.grid.z_grid
    unit, label = job.grid.z_unit, job.grid.z_label
    summary: dict[str, Any] = {**case.summary, "fitted": case.tag, "z_unit": unit, "z_label": label}
    summary[case.tag], _, plots = scan_and_report(
        likelihoods,
        case.data,
        mu_grid,
        z_grid,
        out_dir,
        truth=case.truth,
        plots=job.plots,
        tag=case.tag,
        z_unit=unit,
        z_label=label,
    )
    errors, section = infer_uncertainties(
        likelihoods, case.retrain, case.data, mu_grid, z_grid, job.uncertainty, job.training.seed
    )
    summary.update(section)
    if job.plots:
        plots += plot_errors(
            errors, case.truth, out_dir / f"uncertainties_{case.tag}", z_unit=unit, z_label=label
        )
    if job.coverage is not None:
        cov = job.coverage
        truths = [(float(m), float(z) * unit) for z in cov.z for m in cov.mu]
        study = coverage_study(
            likelihoods,
            case.make_test_set,
            truths,
            mu_grid,
            z_grid,
            reference="exact" if "exact" in likelihoods else None,
            test_sets=cov.test_sets,
            n_events=cov.n_events,
            bootstrap_sets=cov.bootstrap_sets,
            bootstrap_size=cov.bootstrap_size,
            seed=cov.seed,
            contour_path=out_dir / "contours_coverage" if job.plots else None,
            z_unit=unit,
            z_label=label,
        )
        plots += [Path(p) for p in study.get("contours", [])]
        if cov.independent_toys:
            study["exact_independent_toys"] = independent_toy_coverage(
                job, likelihoods["exact"], truths
            )
        summary["coverage"] = study
    summary["seconds"] = time.perf_counter() - started
    summary_file = out_dir / "summary.json"
    summary_file.write_text(json.dumps(summary, indent=2, default=float))
    return InferenceOutputs(summary, summary_file, plots)
