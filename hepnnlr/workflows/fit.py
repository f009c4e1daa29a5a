"""Parameter fits from a YAML job: ``hepnnlr fit dctr CONFIG`` and ``hepnnlr fit srgn CONFIG``.

A :class:`~hepnnlr.workflows.fit_config.FitJob` (:mod:`hepnnlr.workflows.fit_config`)
describes the samples, the features, the networks, their training, the fit and its
uncertainty; :func:`run_fit` runs it end to end:

1. **Samples**: a nominal sample at ``nominal`` (generator and detector level, paired), a
   *varied* sample whose parameters are drawn uniformly over ``parameters`` (per event
   for ``gaussian``; per generator run for the Pythia generators) and a target ("data")
   sample at ``target``, each with its own seed (``samples.seeds``). Pythia samples go
   through ROOT files and the job's analysis description (``analysis``, default the
   generator's own; :mod:`hepnnlr.workflows.fit_inputs`); ``samples.files`` reads the
   user's own files through it instead of generating.
2. **Features**: event-level fields of the description's ``gen`` and ``reco`` features,
   or particle sets for a set network; standardized with the nominal sample's statistics.
3. **Repeats** (``uncertainty.repeats``): a DCTR reweighter ``w(x_G, θ)`` trained on half
   of the nominal sample and the varied sample (seed ``uncertainty.seed + repeat``), then
   the fit on the other half: ``dctr``, the DCTR fit of Eq. 3 at generator level;
   ``srgn``, the SRGN fit of Eq. 5 at detector level (Andreassen, Hsu, Nachman, Suaysom,
   Suresh, "Parameter Estimation using Neural Networks in the Presence of Detector Effects",
   arXiv:2010.03569). ``powell`` or
   ``grid`` (the parabola vertex around the grid minimum). Each repeat is checked for the
   flags of :mod:`hepnnlr.methods.fit_quality` (``edge``, ``no_discrimination``,
   ``flat``); flagged repeats are excluded (``uncertainty.keep_flagged`` keeps them), then
   the leave-one-out 2σ rule removes outliers.
4. **Bootstrap** (``uncertainty.bootstrap``): replica ``b`` weights the target events
   with Poisson(1) (:func:`hepnnlr.methods.bootstrap.poisson_weights`) and refits kept
   repeat ``b mod M′``: DCTR with that repeat's frozen reweighter
   (:func:`hepnnlr.methods.bootstrap.dctr_replicas`), SRGN by rerunning the fit with the
   weighted target. The shift ``θ_b − θ_repeat`` is the replica's statistical fluctuation.
5. **Result** (:func:`hepnnlr.results.fit_errors.combine_errors`): the value is the mean
   of the kept repeats; ``method`` the repeats' spread, ``stat`` the replicas' spread,
   ``total`` both in quadrature (docs/fits.md).
6. **Outputs** in ``output_dir``: ``summary.json`` (value, stat, method, total per
   parameter, the repeats with their flags, the replicas), ``fit.json`` (everything, with
   the selection counts), ``curves.json`` (reweighter loss per epoch, objective per θ′),
   ``histograms.root`` (per feature: target, nominal and nominal reweighted to the fitted
   θ), PNG plots (reweighted distributions, loss curves, the objective vs θ′ and the
   uncertainty of each parameter with its ``stat``, ``method`` and ``total`` bands) and
   ``reweighter/`` (the first repeat's reweighter).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hepnnlr.errors import EmptySelectionError
from hepnnlr.methods.bootstrap import dctr_replicas, poisson_weights
from hepnnlr.methods.fit_quality import FitFlags, remove_outliers
from hepnnlr.methods.job_checkpoint import JobCheckpoint
from hepnnlr.outputs import write_text
from hepnnlr.results.fit_errors import ParameterError, combine_errors
from hepnnlr.results.io import write_histograms
from hepnnlr.results.plots import plot_comparison
from hepnnlr.workflows.fit_checkpoint import FitUnits
from hepnnlr.workflows.fit_config import (
    FIT_METHODS,
    GENERATORS,
    FeatureConfig,
    FitConfig,
    FitJob,
    FitTrainingConfig,
    NetworkConfig,
    SampleConfig,
    UncertaintyConfig,
    load_fit_job,
)
from hepnnlr.workflows.fit_inputs import Inputs, load_samples
from hepnnlr.workflows.fit_report import (
    feature_histograms,
    plot_curves,
    plot_uncertainty,
    write_fit_record,
    write_summary,
)
from hepnnlr.workflows.fit_steps import (
    OneFit,
    anchor,
    dctr_step,
    fit_gen,
    flags_of,
    nominal_point,
    srgn_step,
    train_reweighter,
)

_LOG = logging.getLogger(__name__)

__all__ = [
    "FIT_METHODS",
    "GENERATORS",
    "FeatureConfig",
    "FitJob",
    "FitOutputs",
    "FitConfig",
    "NetworkConfig",
    "SampleConfig",
    "FitTrainingConfig",
    "TargetFit",
    "UncertaintyConfig",
    "fit_target",
    "load_fit_job",
    "nominal_point",
    "run_fit",
    "train_simulation_replicas",
]


@dataclass(frozen=True)
class FitOutputs:
    """What :func:`run_fit` wrote, and the fitted values.

    ``errors``: per parameter the value with its ``stat``, ``method`` and ``total``
    uncertainty; ``fitted``: every repeat's value; ``kept``: the repeats in the value;
    ``flags``: per repeat ``{flag: reason}``; ``replicas``: every replica's fitted value.
    """

    fitted: dict[str, list[float]]
    errors: dict[str, ParameterError]
    kept: list[bool]
    flags: list[dict[str, str]]
    replicas: dict[str, list[float]]
    fit_file: Path
    summary_file: Path
    curves_file: Path
    histograms_file: Path
    plots: tuple[Path, ...]
    grid_minimum: dict[str, list[float]] = field(default_factory=dict)


def _replicas(job: FitJob, samples, inputs, fits: list[OneFit], reweighters, kept_ids, seed, units):
    """Every bootstrap replica: ``[(repeat, θ_b, shift, flags)]`` in replica order; a
    checkpoint unit per kept repeat (DCTR: one vectorized refit) or per replica (SRGN)."""
    B, names = job.uncertainty.bootstrap, job.samples.names
    n_target = len(samples["target"])
    out: list[tuple[int, dict[str, float], dict[str, float], FitFlags] | None] = [None] * B
    for position, m in enumerate(kept_ids):
        mine = list(range(position, B, len(kept_ids)))
        if not mine:
            continue
        weights = np.stack([poisson_weights(n_target, b, seed) for b in mine])
        if job.method == "dctr":

            def refit(m=m, mine=mine, weights=weights):
                result = dctr_replicas(
                    reweighters[m],
                    inputs.events(samples["target"].gen, "gen"),
                    fit_gen(samples, inputs),
                    weights,
                    center=fits[m].theta,
                    bounds=job.bounds,
                    extrapolate=job.fit.extrapolate,
                    xtol=job.fit.xtol,
                )
                rows = []
                for row in range(len(mine)):
                    theta = dict(zip(names, result.theta[row].tolist(), strict=True))
                    shift = dict(zip(names, result.shifts[row].tolist(), strict=True))
                    rows.append((m, theta, shift, flags_of(job, theta, None, None, None)))
                return rows

            for b, row in zip(mine, units.rows(f"replicas-{m}", refit), strict=True):
                out[b] = row
        else:
            for row, b in enumerate(mine):
                fit = units.fit(
                    f"replica-{b}",
                    lambda m=m, w=weights[row]: srgn_step(
                        job, samples, inputs, reweighters[m], job.training_seed + m, w
                    ),
                )
                shift = {n: fit.theta[n] - fits[m].theta[n] for n in names}
                out[b] = (m, fit.theta, shift, fit.flags)
                _LOG.info("replica %d (repeat %d): %s", b, m, fit.theta)
    return out


def train_simulation_replicas(job: FitJob, samples, inputs, repeat_ids: list[int], units=None):
    """The reweighters of the simulation's replicas: ``[(repeat, reweighter, nominal
    weights)]``. Replica ``b`` weights the nominal and varied events by Poisson(1)
    (streams 1 and 2 of ``(seed, b)``) and retrains the reweighter of repeat
    ``repeat_ids[b mod len]`` (its seed) on them."""
    seed = job.training_seed
    n_nominal, n_varied = len(samples["nominal"]), len(samples["varied"])
    out = []
    for b in range(job.uncertainty.simulation_bootstrap):
        m = repeat_ids[b % len(repeat_ids)]
        nominal_weights = poisson_weights(n_nominal, b, seed, stream=1)
        varied_weights = poisson_weights(n_varied, b, seed, stream=2)
        rw = (units or FitUnits()).reweighter(
            f"simulation-reweighter-{b}",
            lambda m=m, nw=nominal_weights, vw=varied_weights: train_reweighter(
                job, samples, inputs, job.training_seed + m, nw, vw
            ),
        )
        out.append((m, rw, nominal_weights))
    return out


def _simulation_replicas(job: FitJob, samples, inputs, fits: list[OneFit], trained, units):
    """Replicas of the simulation: ``[(repeat, θ_b, shift, flags)]``: the unweighted target
    refitted against the weighted nominal events with each retrained reweighter of
    :func:`train_simulation_replicas`."""
    names = job.samples.names
    out = []
    for b, (m, rw, nominal_weights) in enumerate(trained):
        repeat_seed = job.training_seed + m
        fit = units.fit(
            f"simulation-fit-{b}",
            lambda rw=rw, nw=nominal_weights, seed=repeat_seed: (
                dctr_step(job, samples, inputs, rw, nw)
                if job.method == "dctr"
                else srgn_step(job, samples, inputs, rw, seed, None, nw)
            ),
        )
        shift = {n: fit.theta[n] - fits[m].theta[n] for n in names}
        out.append((m, fit.theta, shift, fit.flags))
        _LOG.info("simulation replica %d (repeat %d): %s", b, m, fit.theta)
    return out


@dataclass
class TargetFit:
    """The repeats of one target's fit with their replicas and the quoted errors."""

    fits: list[OneFit]
    values: dict[str, np.ndarray]
    keep: np.ndarray
    candidates: np.ndarray
    none_kept: bool
    replicas: list
    used: np.ndarray
    simulation: list
    simulation_used: np.ndarray
    errors: dict[str, ParameterError]


def fit_target(
    job: FitJob, samples, inputs, reweighters, simulation_reweighters=None, units=None
) -> TargetFit:
    """Fit ``samples["target"]`` with every repeat's reweighter, apply the flags and the
    outlier rule, run the target's replicas (and the simulation's: with the reweighters
    of :func:`train_simulation_replicas` when given, else trained here for the kept
    repeats) and combine the errors. ``units``: the :class:`FitUnits` that load and save
    each repeat's fit and each replica (default: none kept)."""
    names, u = job.samples.names, job.uncertainty
    units = units or FitUnits()
    fits = []
    for repeat, rw in enumerate(reweighters):
        fit = units.fit(
            f"repeat-{repeat}",
            lambda rw=rw, repeat=repeat: (
                dctr_step(job, samples, inputs, rw)
                if job.method == "dctr"
                else srgn_step(job, samples, inputs, rw, job.training_seed + repeat)
            ),
        )
        fits.append(fit)
        flagged = f", flagged {sorted(fit.flags.reasons)}" if fit.flags.flagged else ""
        _LOG.info("repeat %d: %s (objective %.5f%s)", repeat, fit.theta, fit.objective, flagged)
    values = {n: np.array([f.theta[n] for f in fits]) for n in names}
    flagged = np.array([f.flags.flagged for f in fits])
    candidates = np.ones(len(fits), bool) if u.keep_flagged else ~flagged
    keep = remove_outliers(
        values, job.bounds, sigma=u.outlier_sigma, bound_margin=None, candidates=candidates
    )
    none_kept = not keep.any()
    if none_kept:
        keep = np.ones(len(keep), bool)  # reported: no repeat passed; all are averaged
    kept_ids = [int(i) for i in np.flatnonzero(keep)]
    replicas = (
        _replicas(job, samples, inputs, fits, reweighters, kept_ids, job.training_seed, units)
        if u.bootstrap
        else []
    )
    used = np.array([u.keep_flagged or not r[3].flagged for r in replicas], bool)
    shifts = {n: np.array([r[2][n] for r in replicas]) for n in names} if replicas else None
    if simulation_reweighters is None:
        simulation_reweighters = train_simulation_replicas(job, samples, inputs, kept_ids, units)
    sim = _simulation_replicas(job, samples, inputs, fits, simulation_reweighters, units)
    sim_used = np.array([u.keep_flagged or not r[3].flagged for r in sim], bool)
    errors = combine_errors(
        values,
        keep,
        shifts,
        used if replicas else None,
        simulation_shifts={n: np.array([r[2][n] for r in sim]) for n in names} if sim else None,
        simulation_used=sim_used if sim else None,
        # each replica's repeat value: its training noise is taken out of stat_sim
        simulation_paired={n: values[n][[r[0] for r in sim]] for n in names} if sim else None,
    )
    return TargetFit(
        fits, values, keep, candidates, none_kept, replicas, used, sim, sim_used, errors
    )


def run_fit(job: FitJob, *, checkpoint: JobCheckpoint | None = None) -> FitOutputs:
    """Run ``job`` end to end (module docstring) and write its outputs.

    Each repeat's reweighter and fit and each replica is a unit of ``checkpoint`` (default:
    the one ``hepnnlr fit`` makes active, if any; :mod:`hepnnlr.workflows.fit_checkpoint`):
    a resumed job loads the units found there and gives the uninterrupted job's result."""
    started = time.perf_counter()
    out = job.output_dir
    out.mkdir(parents=True, exist_ok=True)
    units = FitUnits.of(job, checkpoint)  # before any work: another job's is refused
    samples = load_samples(job)
    if len(samples["nominal"]) < 8:
        raise EmptySelectionError(
            f"only {len(samples['nominal'])} nominal event(s) pass the selection; raise "
            "samples.events."
        )
    inputs = Inputs(samples["nominal"])
    names = job.samples.names
    reweighters = [
        units.reweighter(
            f"reweighter-{repeat}",
            lambda repeat=repeat: train_reweighter(
                job, samples, inputs, job.training_seed + repeat
            ),
        )
        for repeat in range(job.uncertainty.repeats)
    ]
    result = fit_target(job, samples, inputs, reweighters, units=units)
    fits, values, keep, errors = result.fits, result.values, result.keep, result.errors
    candidates, none_kept = result.candidates, result.none_kept
    replicas, used, sim, sim_used = (
        result.replicas,
        result.used,
        result.simulation,
        result.simulation_used,
    )
    kept_ids = [int(i) for i in np.flatnonzero(keep)]
    value = {n: e.value for n, e in errors.items()}
    groups = feature_histograms(job, samples, inputs, reweighters[kept_ids[0]], value)
    histograms_file = write_histograms(out / "histograms.root", groups)
    reweighters[0].save(out / "reweighter")
    plots = []
    level = "generator" if job.method == "dctr" else "detector"
    fitted_label = ", ".join(f"{n}={v:.4g}" for n, v in value.items())
    # real data (no truth) are labelled as the unfolding labels them
    look = job.plots.look("Simulation" if job.target_truth else "Internal")
    formats = job.plots.formats
    for key, group in groups.items() if job.plots.enabled else ():
        plots += plot_comparison(
            {
                "target": group["target"],
                "nominal": group["nominal"],
                f"nominal reweighted to the fit ({fitted_label})": group["nominal_reweighted"],
            },
            reference="target",
            path=out / f"{key}",
            xlabel=group["target"].axes[0].label,
            as_points=("target",),
            formats=formats,
            title=f"{job.method.upper()} fit, {level} level",
            style=look,
        )
    losses = [rw.classifier.history for rw in reweighters]
    replica_theta = {n: [r[1][n] for r in replicas] for n in names}
    if job.plots.enabled:
        curves = [f.curve for f in fits]
        plots += plot_curves(job, curves, losses, errors, out, style=look, formats=formats)
        plots += plot_uncertainty(
            job,
            errors,
            values,
            keep.tolist(),
            replica_theta,
            used.tolist(),
            out,
            style=look,
            formats=formats,
        )
    repeat_rows = [
        {
            "theta": f.theta,
            "seed": job.training_seed + r,
            "objective": f.objective,
            "kept": bool(keep[r]),
            "flags": f.flags.to_dict(),
            "outlier": bool(candidates[r] and not keep[r] and not none_kept),
        }
        for r, f in enumerate(fits)
    ]
    replica_rows, sim_rows = (
        [
            {
                "repeat": r[0],
                "theta": r[1],
                "shift": r[2],
                "used": bool(mask[b]),
                "flags": r[3].to_dict(),
            }
            for b, r in enumerate(rows)
        ]
        for rows, mask in ((replicas, used), (sim, sim_used))
    )
    summary_file = write_summary(
        out / "summary.json",
        job,
        errors,
        repeat_rows,
        replica_rows,
        job.training_seed,
        simulation_rows=sim_rows,
    )
    grid_minimum = (
        {n: [f.grid_minimum[n] for f in fits] for n in names} if job.fit.method == "grid" else {}
    )
    fitted = {n: values[n].tolist() for n in names}
    fit_file = write_fit_record(
        out / "fit.json",
        job,
        samples,
        fitted,
        grid_minimum,
        keep,
        none_kept,
        errors,
        repeat_rows,
        replica_rows,
        simulation_rows=sim_rows,
        anchor=anchor(job.samples),
        anchor_share=job.training.nominal_anchor,
        seconds=time.perf_counter() - started,
    )
    curves_file = out / "curves.json"
    write_text(
        curves_file,
        json.dumps(
            {
                "reweighter_history": losses,
                "objective": [[{"theta": p, "value": v} for p, v in f.curve] for f in fits],
            },
            indent=2,
        ),
    )
    return FitOutputs(
        fitted,
        errors,
        keep.tolist(),
        [f.flags.to_dict() for f in fits],
        replica_theta,
        fit_file,
        summary_file,
        curves_file,
        histograms_file,
        tuple(plots),
        grid_minimum,
    )


# names before issue 18's naming rule (job sections end in ``Config``): still importable,
# for code written against them, but not in ``__all__``
FitSettings = FitConfig
TrainingSection = FitTrainingConfig
UncertaintySettings = UncertaintyConfig
