"""Signal-strength inference job: train the routes, scan a dataset, measure coverage.

``hepnnlr infer CONFIG`` reads an :class:`InferenceJob` from YAML (strict keys, see
:mod:`hepnnlr.workflows.config`) and calls :func:`run_inference`:

1. training samples of the Gaussian toy (thesis §3.1.1): signal and background with z
   uniform on the toy's range, and both at z0 for the classifiers' negative class;
2. the routes: ``exact`` (the true likelihood), ``classifier`` (Eq. 2.8), ``flow`` (§2.2);
3. one dataset at the true ``(μ, z)``: NLL grid per route, 68.27 % / 95.45 % Wilks
   intervals, an iminuit fit, contour and profile plots;
4. with a ``coverage`` section: test sets at every true ``(μ, z)``, bootstrap sets of each,
   and the metrics of thesis §3.3 (coverage, mean width, overlaps against the true
   likelihood) averaged per route, plus coverage of the true likelihood over independent
   toys.

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
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from hepnnlr.errors import ConfigError, InputFileError
from hepnnlr.methods.signal_strength import (
    MixtureLikelihood,
    NLLScan,
    ParameterizedSample,
    coverage_from_toys,
    evaluate_test_set,
    minimize_nll,
    scan_nll,
    train_classifier_route,
    train_flow_route,
    wilks_intervals,
)
from hepnnlr.models.flows import FlowSpec
from hepnnlr.models.spec import ModelSpec
from hepnnlr.results.contours import plot_nll_contours, plot_profiles
from hepnnlr.samples.gaussian_signal import GaussianSignalToy
from hepnnlr.training.config import TrainingConfig

__all__ = [
    "ROUTES",
    "CoverageSpec",
    "DatasetSpec",
    "GridSpec",
    "InferenceJob",
    "InferenceOutputs",
    "ToySpec",
    "coverage_study",
    "load_inference_job",
    "run_inference",
    "scan_and_report",
    "train_gaussian_routes",
]

ROUTES = ("exact", "classifier", "flow")


@dataclass(frozen=True)
class ToySpec:
    """The Gaussian toy and its training samples.

    Attributes:
        radius: 2.0 (large distance) or 0.5 (small distance).
        n_train: Events per training sample (signal, background, and each at z0).
        seed: Seed of the training samples.
    """

    radius: float = 2.0
    n_train: int = 50_000
    seed: int = 1

    def __post_init__(self) -> None:
        GaussianSignalToy(self.radius)  # validates the radius
        if int(self.n_train) < 100:
            raise ConfigError(f"toy.n_train={self.n_train}: train on at least 100 events.")


@dataclass(frozen=True)
class GridSpec:
    """The (μ, z) scan grid: ``[low, high, points]`` per parameter.

    Attributes:
        mu: μ grid (the thesis: 0 to 0.5).
        z: z grid (the thesis: 0.1π to 0.4π, inside the training range 0 to π/2).
        z_in_pi: ``z`` is given in units of π.
    """

    mu: tuple[float, float, int] = (0.0, 0.5, 101)
    z: tuple[float, float, int] = (0.1, 0.4, 61)
    z_in_pi: bool = True

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
    def z_grid(self) -> np.ndarray:
        unit = np.pi if self.z_in_pi else 1.0
        return np.linspace(float(self.z[0]), float(self.z[1]), int(self.z[2])) * unit


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
    """One signal-strength inference on the Gaussian toy (fields map to YAML keys).

    Attributes:
        output_dir: Where scans, intervals, metrics and plots go.
        toy: The toy and its training samples.
        routes: Likelihoods to build: any of ``"exact"`` (the true likelihood),
            ``"classifier"``, ``"flow"``.
        classifier: Network of f_sig and f_bkg (thesis: MLP 3 x 120).
        flow: The conditional flow.
        training: Training settings shared by both routes.
        grid: The scan grid.
        dataset: The dataset fitted.
        coverage: The coverage study (``None``: skip).
        plots: Write contour and profile plots.
    """

    output_dir: Path
    toy: ToySpec = ToySpec()
    routes: tuple[str, ...] = ROUTES
    classifier: ModelSpec = ModelSpec("mlp", hidden=(120, 120, 120))
    flow: FlowSpec = FlowSpec()
    training: TrainingConfig = TrainingConfig(epochs=15, batch_size=256, learning_rate=2e-3,
                                              schedule="cosine", patience=15)
    grid: GridSpec = GridSpec()
    dataset: DatasetSpec = DatasetSpec()
    coverage: CoverageSpec | None = None
    plots: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "output_dir", Path(self.output_dir))
        unknown = [r for r in self.routes if r not in ROUTES]
        if unknown or not self.routes:
            raise ConfigError(f"routes={list(self.routes)}: choose from {list(ROUTES)}.")
        if self.coverage is not None and "exact" not in self.routes:
            raise ConfigError(
                "a coverage study compares with the true likelihood (overlaps): add 'exact' to "
                "routes."
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
    return from_mapping(InferenceJob, data, where=str(path))


def train_gaussian_routes(
    toy: GaussianSignalToy,
    routes: Sequence[str],
    *,
    n_train: int,
    seed: int,
    classifier: ModelSpec | None = None,
    flow: FlowSpec | None = None,
    training: TrainingConfig | None = None,
) -> dict[str, MixtureLikelihood]:
    """The requested likelihoods of the toy: ``{route: MixtureLikelihood}``."""
    rng = np.random.default_rng(seed)
    out: dict[str, MixtureLikelihood] = {}
    if "exact" in routes:
        out["exact"] = MixtureLikelihood.exact_gaussian(toy)
    if "classifier" not in routes and "flow" not in routes:
        return out
    samples = {}
    for kind in ("signal", "background"):
        z = toy.uniform_z(n_train, rng)
        samples[kind] = ParameterizedSample(toy.sample(kind, z, n_train, rng), z, toy.features)
    if "classifier" in routes:
        references = [toy.sample(kind, toy.z0, n_train, rng) for kind in ("signal", "background")]
        out["classifier"] = train_classifier_route(
            samples["signal"], samples["background"], *references, spec=classifier,
            config=training,
        )
    if "flow" in routes:
        out["flow"] = train_flow_route(samples["signal"], samples["background"], spec=flow,
                                       config=training)
    return out


def _interval_dict(intervals) -> list[dict[str, Any]]:
    return [
        {"level": i.level, "delta_nll": i.delta_nll, "best": i.best, "low": i.low,
         "high": i.high, "closed": i.closed}
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
) -> tuple[dict[str, Any], dict[str, NLLScan], list[Path]]:
    """Scan ``data`` with every likelihood, fit it with iminuit and write the results.

    Writes ``scan_<tag>_<name>.npz`` (grid and NLL) per likelihood and, with ``plots``,
    ``contours_<tag>.png`` and ``profiles_<tag>.png``.

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
        fit = minimize_nll(likelihood, data,
                           start=(intervals["mu"][0].best, intervals["z"][0].best))
        np.savez(output_dir / f"scan_{tag}_{name}.npz", mu=scan.mu, z=scan.z, nll=scan.nll)
        summary[name] = {
            "mu": _interval_dict(intervals["mu"]),
            "z": _interval_dict(intervals["z"]),
            "minuit": {"mu": fit.mu, "z": fit.z, "mu_interval": list(fit.mu_interval),
                       "z_interval": list(fit.z_interval), "valid": fit.valid},
            "seconds": time.perf_counter() - started,
        }
    written: list[Path] = []
    if plots:
        truths = [(truth["mu"], truth["z"])] if truth else [(np.nan, np.nan)]
        written += plot_nll_contours([scans], truths, output_dir / f"contours_{tag}",
                                     title=f"{tag}: ΔNLL = 0.5, 2.0")
        written += plot_profiles(scans, output_dir / f"profiles_{tag}", truth=truth,
                                 title=tag)
    return summary, scans, written


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
                    likelihood, data, {"mu": mu, "z": z}, mu_grid, z_grid,
                    reference=None if name == reference else ref, n_sets=bootstrap_sets,
                    set_size=bootstrap_size, rng=np.random.default_rng(set_seed),
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
        name: {key: float(np.mean([e[key] for e in entries]))
               for key in entries[0] if key not in ("mu_true", "z_true")}
        for name, entries in per_truth.items()
    }
    out: dict[str, Any] = {"per_truth": per_truth, "mean": mean,
                           "k": float(n_events) / float(bootstrap_size)}
    if contour_path is not None:
        out["contours"] = [str(p) for p in plot_nll_contours(
            contour_sets, contour_truths, contour_path, scale=bootstrap_size / n_events,
            title=f"ΔNLL = 0.5, 2.0 (NLL × n/N = {bootstrap_size}/{n_events})")]
    return out


def run_inference(job: InferenceJob) -> InferenceOutputs:
    """Run an :class:`InferenceJob` (see the module docstring); writes ``summary.json``."""
    started = time.perf_counter()
    toy = GaussianSignalToy(job.toy.radius)
    out_dir = job.output_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    likelihoods = train_gaussian_routes(
        toy, job.routes, n_train=job.toy.n_train, seed=job.toy.seed,
        classifier=job.classifier, flow=job.flow,
        training=job.training,
    )
    mu_grid, z_grid = job.grid.mu_grid, job.grid.z_grid
    unit = np.pi if job.grid.z_in_pi else 1.0
    truth = {"mu": float(job.dataset.mu), "z": float(job.dataset.z) * unit}
    data, _ = toy.mixture(truth["mu"], truth["z"], job.dataset.n_events,
                          np.random.default_rng(job.dataset.seed))
    summary: dict[str, Any] = {"toy": {"radius": toy.radius, "z0": toy.z0},
                               "truth": truth, "n_events": int(job.dataset.n_events)}
    summary["dataset"], _, plots = scan_and_report(
        likelihoods, data, mu_grid, z_grid, out_dir, truth=truth, plots=job.plots)
    if job.coverage is not None:
        cov = job.coverage
        truths = [(float(m), float(z) * unit) for z in cov.z for m in cov.mu]
        study = coverage_study(
            likelihoods,
            lambda mu, z, n, rng: toy.mixture(mu, z, n, rng)[0],
            truths, mu_grid, z_grid, reference="exact", test_sets=cov.test_sets,
            n_events=cov.n_events, bootstrap_sets=cov.bootstrap_sets,
            bootstrap_size=cov.bootstrap_size, seed=cov.seed,
            contour_path=out_dir / "contours_coverage" if job.plots else None,
        )
        plots += [Path(p) for p in study.get("contours", [])]
        if cov.independent_toys:
            rng = np.random.default_rng(cov.seed + 1)
            hits = {"mu": [], "z": []}
            for mu, z in truths:
                result = coverage_from_toys(
                    likelihoods["exact"],
                    lambda r, mu=mu, z=z: toy.mixture(mu, z, cov.bootstrap_size, r,
                                                      fixed_counts=False)[0],
                    {"mu": mu, "z": z}, mu_grid, z_grid, n_toys=cov.independent_toys, rng=rng)
                for p in hits:
                    hits[p].extend(result[p].covered.tolist())
            study["exact_independent_toys"] = {
                p: {"coverage": float(np.mean(v)), "n": len(v),
                    "binomial_error": float(np.sqrt(0.6827 * 0.3173 / len(v)))}
                for p, v in hits.items()
            }
        summary["coverage"] = study
    summary["seconds"] = time.perf_counter() - started
    summary_file = out_dir / "summary.json"
    summary_file.write_text(json.dumps(summary, indent=2, default=float))
    return InferenceOutputs(summary, summary_file, plots)
