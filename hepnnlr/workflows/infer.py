"""Signal-strength inference job: train the routes, scan a dataset, measure coverage.

Reference: B. Sluijter, "Classifiers versus Normalizing Flows for uncertainty-aware
estimation of a signal ratio", MSc thesis, Leiden University 2024, hdl:1887/4104579.

``hepnnlr infer CONFIG`` reads an :class:`InferenceJob` from YAML (strict keys, see
:mod:`hepnnlr.workflows.config`) and calls :func:`run_inference`:

1. training samples: the Gaussian toy (§3.1.1 of hdl:1887/4104579; ``toy:``), signal and
   background with z uniform on the toy's range and both at z0 for the classifiers' negative
   class; or a physicist's ROOT files through a coffea processor (``samples:``, the Pythia H → ττ vs
   Z → ττ case with the τ_h energy scale z, see :mod:`hepnnlr.workflows.infer_samples`);
2. the routes: ``exact`` (the true likelihood; toy only), ``classifier`` (Eq. 2.8),
   ``flow`` (§2.2);
3. one dataset at the true ``(μ, z)`` (with ``samples:``, drawn from the held-out test
   files, or the ``samples.data`` files as they are): NLL grid per route, 68.27 % / 95.45 %
   Wilks intervals, an iminuit fit, contour and profile plots (z drawn in units of π for
   the toy, in its own units for samples: ``grid.z_in_pi``, ``grid.z_label``);
4. with a ``coverage`` section: test sets at every true ``(μ, z)``, bootstrap sets of each,
   and the metrics of §3.3 of hdl:1887/4104579 (coverage, mean width, overlaps against the true
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hepnnlr.errors import ConfigError, NonFiniteInputError
from hepnnlr.methods.coverage import evaluate_test_set
from hepnnlr.methods.intervals import wilks_intervals
from hepnnlr.methods.job_checkpoint import JobCheckpoint
from hepnnlr.methods.minuit_fit import minimize_nll
from hepnnlr.methods.mixture_likelihood import MixtureLikelihood
from hepnnlr.methods.nll import scan_nll
from hepnnlr.methods.scans import Scan
from hepnnlr.outputs import atomic_write, write_text
from hepnnlr.results.contours import plot_nll_contours, plot_profiles
from hepnnlr.results.style import PlotStyle
from hepnnlr.workflows.infer_checkpoint import InferUnits
from hepnnlr.workflows.infer_config import (
    ROUTES,
    CoverageConfig,
    DatasetConfig,
    GridConfig,
    InferenceJob,
    load_inference_job,
)
from hepnnlr.workflows.infer_errors import InferUncertaintyConfig, infer_uncertainties, plot_errors
from hepnnlr.workflows.infer_samples import SamplesConfig, prepare_samples
from hepnnlr.workflows.infer_toy import (
    ToyConfig,
    independent_toy_coverage,
    toy_inputs,
    train_gaussian_routes,
)

__all__ = [
    "ROUTES",
    "CoverageConfig",
    "DatasetConfig",
    "GridConfig",
    "InferenceJob",
    "InferenceOutputs",
    "InferUncertaintyConfig",
    "SamplesConfig",
    "ToyConfig",
    "coverage_study",
    "load_inference_job",
    "run_inference",
    "scan_and_report",
    "train_gaussian_routes",
]


@dataclass
class InferenceOutputs:
    """What :func:`run_inference` wrote and computed."""

    summary: dict[str, Any]
    summary_file: Path
    plots: list[Path] = field(default_factory=list)


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
    style: PlotStyle | str | None = None,
    formats: Sequence[str] = ("png",),
) -> tuple[dict[str, Any], dict[str, Scan], list[Path]]:
    """Scan ``data`` with every likelihood, fit it with iminuit and write the results.

    Writes ``scan_<tag>_<name>.npz`` (grid and NLL) per likelihood and, with ``plots``,
    ``contours_<tag>.png`` and ``profiles_<tag>.png``, z drawn in units of ``z_unit`` (π:
    the Gaussian toy's angle; 1.0 for a nuisance in its own units) and labelled ``z_label``
    (default ``z / π`` or ``z``), in ``style`` (a :class:`~hepnnlr.results.PlotStyle` or a
    name; default CMS, "Simulation") as ``formats``. Scans, intervals and fits keep z as
    given.

    Returns:
        ``(summary, scans, plot paths)``; the summary holds per likelihood the grid minimum,
        the Wilks intervals of μ and z (68.27 %, 95.45 %) and the iminuit fit.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {}
    scans: dict[str, Scan] = {}
    for name, likelihood in likelihoods.items():
        started = time.perf_counter()
        scan = scan_nll(likelihood, data, mu_grid, z_grid)
        scans[name] = scan
        intervals = wilks_intervals(scan)
        fit, minos_error = _minuit(
            likelihood, data, (intervals["mu"][0].best, intervals["z"][0].best)
        )
        with atomic_write(output_dir / f"scan_{tag}_{name}.npz") as tmp:
            np.savez(tmp, mu=scan.axis("mu"), z=scan.axis("z"), nll=scan.values)
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
            style=style,
            formats=formats,
        )
        written += plot_profiles(
            scans,
            output_dir / f"profiles_{tag}",
            truth=truth,
            title=tag,
            z_unit=z_unit,
            z_label=z_label,
            style=style,
            formats=formats,
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
    style: PlotStyle | str | None = None,
    formats: Sequence[str] = ("png",),
    units: InferUnits | None = None,
) -> dict[str, Any]:
    """The §3.3 metrics of hdl:1887/4104579 of every likelihood, test sets at each true ``(μ, z)``.

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
            by ``n / N``, as figure 4.4 of hdl:1887/4104579) are drawn there.
        z_unit, z_label, style, formats: the contours' z axis, look and files (see
            :func:`scan_and_report`).

        units: Loads and saves each truth's metrics (a checkpoint unit per truth, with
            the random generator's state after it:
            :mod:`hepnnlr.workflows.infer_checkpoint`); default: none kept.

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
    units = units or InferUnits()

    def one_truth(mu: float, z: float):
        rows: dict[str, list[dict[str, float]]] = {name: [] for name in likelihoods}
        drawn = None
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
                drawn = scans
        return rows, drawn

    for i, (mu, z) in enumerate(truths):
        rows, drawn = units.coverage(f"coverage-{i}", rng, lambda mu=mu, z=z: one_truth(mu, z))
        if drawn is not None:
            contour_sets.append(drawn)
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
                style=style,
                formats=formats,
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


def _toy_case(job: InferenceJob, units: InferUnits) -> _Case:
    return _Case(*toy_inputs(job, units.routes))


def _samples_case(job: InferenceJob, units: InferUnits) -> _Case:
    return _Case(*prepare_samples(job, units.routes))


def run_inference(
    job: InferenceJob, *, checkpoint: JobCheckpoint | None = None
) -> InferenceOutputs:
    """Run an :class:`InferenceJob` (see the module docstring); writes ``summary.json``.

    The trained routes, each repeat and each coverage truth is a unit of ``checkpoint``
    (default: the one ``hepnnlr infer`` makes active, if any;
    :mod:`hepnnlr.workflows.infer_checkpoint`): a resumed job loads the units found there,
    training none of them again, and gives the uninterrupted job's result."""
    started = time.perf_counter()
    out_dir = job.output_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    units = InferUnits.of(job, checkpoint)  # before any work: another job's is refused
    case = _samples_case(job, units) if job.samples is not None else _toy_case(job, units)
    likelihoods = case.likelihoods
    mu_grid, z_grid = job.grid.mu_grid, job.grid.z_grid
    unit, label = job.grid.z_unit, job.grid.z_label
    look, formats = job.plots.look("Simulation"), job.plots.formats
    summary: dict[str, Any] = {**case.summary, "fitted": case.tag, "z_unit": unit, "z_label": label}
    summary[case.tag], _, plots = scan_and_report(
        likelihoods,
        case.data,
        mu_grid,
        z_grid,
        out_dir,
        truth=case.truth,
        plots=job.plots.enabled,
        tag=case.tag,
        z_unit=unit,
        z_label=label,
        style=look,
        formats=formats,
    )
    errors, section = infer_uncertainties(
        likelihoods,
        case.retrain,
        case.data,
        mu_grid,
        z_grid,
        job.uncertainty,
        job.training.seed,
        units,
    )
    summary.update(section)
    if job.plots.enabled:
        plots += plot_errors(
            errors,
            case.truth,
            out_dir / f"uncertainties_{case.tag}",
            z_unit=unit,
            z_label=label,
            style=look,
            formats=formats,
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
            contour_path=out_dir / "contours_coverage" if job.plots.enabled else None,
            z_unit=unit,
            z_label=label,
            style=look,
            formats=formats,
            units=units,
        )
        plots += [Path(p) for p in study.get("contours", [])]
        if cov.independent_toys:
            study["exact_independent_toys"] = independent_toy_coverage(
                job, likelihoods["exact"], truths
            )
        summary["coverage"] = study
    summary["seconds"] = time.perf_counter() - started
    summary_file = out_dir / "summary.json"
    write_text(summary_file, json.dumps(summary, indent=2, default=float))
    return InferenceOutputs(summary, summary_file, plots)


# names before issue 18's naming rule (job sections end in ``Config``): still importable,
# for code written against them, but not in ``__all__``
CoverageSpec = CoverageConfig
DatasetSpec = DatasetConfig
GridSpec = GridConfig
SamplesSpec = SamplesConfig
ToySpec = ToyConfig
InferUncertainty = InferUncertaintyConfig
