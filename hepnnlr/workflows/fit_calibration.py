"""Calibration curves of a fit job: ``hepnnlr fit dctr|srgn CONFIG --calibrate``.

:func:`run_calibration` fits several targets of known θ with the job's simulation:

1. The nominal and varied samples of the job, and one independent target per true value
   of ``calibration.points`` (:class:`hepnnlr.workflows.fit_samples.CalibrationConfig`):
   the calibrated parameter at the point, the others at ``samples.target``, target ``k``
   generated with ``calibration.target_seed + k`` (Pythia: ``calibration_<k>.root``).
2. The reweighters are trained once (one per repeat, and one per replica of the
   simulation when ``uncertainty.simulation_bootstrap`` asks for them): they see the
   simulation only, so every target shares them. DCTR then refits θ per target (Eq. 3 of
   Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural Networks in
   the Presence of Detector Effects", arXiv:2010.03569) with its bootstrap replicas on the
   frozen reweighters; SRGN retrains its classifier ``g`` along the fit for each target and
   replica (Eq. 5), as the method requires.
3. Per target the value with ``stat``, ``stat_sim`` (if run), ``method`` and ``total``
   (:func:`hepnnlr.workflows.fit.fit_target`), then the weighted line of fitted against
   true and the pulls (fitted − true)/σ (:mod:`hepnnlr.results.calibration`), with σ the
   target's own error stat ⊕ method/√M′ (its value is the mean of M′ repeats). What the
   targets share enters the line and the decorrelated pulls as covariances, not as
   scatter: the repeats' training noise (repeat m's reweighter fits every target:
   :func:`~hepnnlr.results.calibration.training_covariance`) and the simulation's error
   (one retrained reweighter per replica for all targets: :func:`simulation_covariance`,
   with the replicas' training noise taken out).
4. ``calibration.json``, the printed table and (unless ``plots: false``)
   ``calibration_<parameter>.png`` (fitted vs true with the y = x line and the fitted line,
   the pulls below) in ``output_dir``.

``hepnnlr fit ... --calibrate --resume`` continues a killed calibration: each reweighter,
each replica of the simulation and each target's fits and replicas is a checkpoint unit
(:mod:`hepnnlr.workflows.fit_checkpoint`) whose randomness is its own seed's, so the
resumed ``calibration.json`` equals the uninterrupted one's, timings aside
(``tests/workflows/test_calibration_resume.py``).

The targets share the simulation and the reweighters, so their errors from the finite
simulation are correlated: a fluctuation of the simulation moves or tilts the whole
curve and never shows as scatter between the points (docs/fits.md).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from hepnnlr.errors import EmptySelectionError
from hepnnlr.methods.job_checkpoint import JobCheckpoint
from hepnnlr.outputs import write_text
from hepnnlr.results.calibration import (
    LineFit,
    PullSummary,
    calibration_table,
    fit_line,
    pulls,
    shared_errors,
)
from hepnnlr.results.fit_errors import ParameterError, simulation_covariance_of
from hepnnlr.results.plots import save_figure
from hepnnlr.results.style import PlotStyle, experiment_label, styled
from hepnnlr.workflows.fit import fit_target, train_simulation_replicas
from hepnnlr.workflows.fit_checkpoint import FitUnits
from hepnnlr.workflows.fit_config import FitJob
from hepnnlr.workflows.fit_inputs import Inputs, load_samples
from hepnnlr.workflows.fit_steps import train_reweighter

_LOG = logging.getLogger(__name__)

__all__ = [
    "CalibrationOutputs",
    "CalibrationPoint",
    "calibration_targets",
    "plot_calibration",
    "recorded_pairs",
    "recorded_simulation",
    "run_calibration",
    "simulation_covariance",
]


@dataclass(frozen=True)
class CalibrationPoint:
    """One target of the calibration: its truth, seed and size, and the fit's result."""

    true: float
    seed: int
    events: int
    errors: dict[str, ParameterError]
    repeats: list[dict[str, object]]
    replicas_flagged: int
    repeats_run: int = 1
    replicas_run: int = 0
    simulation_shifts: tuple[float | None, ...] = ()
    simulation_paired: tuple[float, ...] = ()

    def value(self, name: str) -> float:
        return self.errors[name].value

    def sigma(self, name: str) -> float | None:
        """The error of this target alone, ``sqrt(stat² + method²/M′)``
        (:attr:`~hepnnlr.results.fit_errors.ParameterError.of_mean`: the value is the mean
        of ``M′`` kept repeats; the training noise they share with the other targets and
        the simulation's error enter the line and the pulls as covariances,
        :func:`hepnnlr.results.calibration.shared_errors`); None when a part the job
        asked for is missing: the method spread with one kept repeat of several (the
        others flagged or outliers), the stat spread with fewer than two used replicas.
        Such an error would leave out a spread the job set out to measure, and a
        calibration would take it for the fit's error."""
        e = self.errors[name]
        if (self.repeats_run > 1 and e.method is None) or (
            self.replicas_run > 1 and e.stat is None
        ):
            return None
        return e.of_mean


def simulation_covariance(points: list[CalibrationPoint]) -> np.ndarray | None:
    """The covariance between targets of the simulation's error: replica ``b`` of the
    simulation (one reweighter retrained with repeat ``m(b)``'s seed, the same for every
    target) shifts target ``k`` by ``d_bk``. Its training noise and its repeat's are in
    ``d_bk`` too and already in the training covariance, so
    ``C_kl = Cov_b(θ_bk, θ_bl) − Cov_b(θ_{m(b)k}, θ_{m(b)l})``
    (:func:`~hepnnlr.results.fit_errors.simulation_covariance_of`) over the replicas
    used at every target, made positive semi-definite (negative eigenvalues, a spread
    within the training noise, set to 0). ``simulation_paired``: ``θ_{m(b)k}`` per
    replica. None without two such replicas."""
    shifts = np.array([[np.nan if d is None else d for d in p.simulation_shifts] for p in points])
    if shifts.size == 0:
        return None
    paired = np.array([p.simulation_paired for p in points], float)
    if paired.shape != shifts.shape:
        raise ValueError(
            "simulation_covariance: every point needs simulation_paired (the value of the "
            "repeat each simulation replica retrained) beside its simulation_shifts."
        )
    common = np.isfinite(shifts).all(axis=0)
    if common.sum() < 2:
        return None
    c = simulation_covariance_of(shifts[:, common], paired[:, common])
    w, v = np.linalg.eigh(c)
    return (v * np.clip(w, 0.0, None)) @ v.T


def recorded_pairs(point: dict, name: str, repeats: int) -> list[float]:
    """``θ_{m(b)}`` of every simulation replica of a ``calibration.json`` point: its
    ``simulation_paired``, or for records written before it, the repeat
    ``m(b) = b mod repeats`` that :func:`run_calibration` retrains for replica ``b``."""
    if "simulation_paired" in point:
        return list(point["simulation_paired"])
    values = [r["theta"][name] for r in point["repeat_fits"]]
    return [values[b % repeats] for b in range(len(point["simulation_shifts"]))]


def recorded_simulation(
    points: list[dict], name: str, repeats: int
) -> tuple[np.ndarray | None, list[tuple[float | None, float | None, bool]]]:
    """From ``calibration.json``'s points: :func:`simulation_covariance`, and per point
    ``(stat_sim, plain spread of the shifts, floored)`` with the training noise taken out
    (:func:`~hepnnlr.results.fit_errors.simulation_covariance_of` over its used
    replicas; ``(None, None, False)`` with fewer than two)."""
    per_point = []
    for pt in points:
        d = np.array([np.nan if v is None else v for v in pt["simulation_shifts"]], float)
        r = np.array(recorded_pairs(pt, name, repeats), float)
        ok = np.isfinite(d)
        if ok.sum() < 2:
            per_point.append((None, None, False))
            continue
        variance = float(simulation_covariance_of(d[ok], r[ok])[0, 0])
        per_point.append(
            (float(np.sqrt(max(variance, 0.0))), float(d[ok].std(ddof=1)), variance < 0)
        )
    covariance = simulation_covariance(
        [
            CalibrationPoint(
                0.0,
                0,
                0,
                {},
                [],
                0,
                simulation_shifts=tuple(pt["simulation_shifts"]),
                simulation_paired=tuple(recorded_pairs(pt, name, repeats)),
            )
            for pt in points
        ]
    )
    return covariance, per_point


@dataclass(frozen=True)
class CalibrationOutputs:
    """What :func:`run_calibration` measured and wrote."""

    parameter: str
    points: list[CalibrationPoint]
    line: LineFit
    pulls: PullSummary
    table: list[str]
    file: Path
    plot: Path | None  # None with ``plots: false``
    seconds: float


def calibration_targets(job: FitJob) -> tuple[str, dict[str, tuple[dict[str, float], int, int]]]:
    """The calibrated parameter and ``{sample name: (point, events, seed)}`` per target."""
    c, s = job.calibration, job.samples
    name, points = c.resolve(s)
    base = s.point("target")
    targets = {
        f"calibration_{k:02d}": ({**base, name: float(v)}, c.events(s), c.seed(s, k))
        for k, v in enumerate(points)
    }
    return name, targets


def run_calibration(
    job: FitJob, samples: dict | None = None, *, checkpoint: JobCheckpoint | None = None
) -> CalibrationOutputs:
    """Fit every calibration target of ``job`` (module docstring) and write the curve.

    ``samples``: the processed samples of ``job`` and its targets, as
    ``load_samples(job, calibration_targets(job)[1])`` returns them (a caller that kept
    them saves their processing); default: loaded here. Each repeat's reweighter, each
    replica of the simulation and each target's fits and replicas is a unit of
    ``checkpoint`` (default: the one ``hepnnlr fit --calibrate`` makes active, if any;
    :mod:`hepnnlr.workflows.fit_checkpoint`): a resumed calibration loads the units
    found there and writes the uninterrupted one's ``calibration.json``."""
    started = time.perf_counter()
    name, targets = calibration_targets(job)  # checks calibration: before any work
    out = job.output_dir
    out.mkdir(parents=True, exist_ok=True)
    # before any work: another job's checkpoint is refused, naming the differing keys
    units = FitUnits.of(job, checkpoint, kind="calibration")
    if samples is None:
        samples = load_samples(job, targets)
    elif missing := sorted({"nominal", "varied", *targets} - set(samples)):
        raise ValueError(f"run_calibration: samples lacks {missing}; pass load_samples' result")
    inputs = Inputs(samples["nominal"])
    u = job.uncertainty
    reweighters = [
        units.reweighter(
            f"reweighter-{m}",
            lambda m=m: train_reweighter(job, samples, inputs, job.training_seed + m),
        )
        for m in range(u.repeats)
    ]
    # replica b of the simulation retrains repeat b mod M once, for every target
    simulation = train_simulation_replicas(job, samples, inputs, list(range(u.repeats)), units)
    points = []
    for key, (point, _, seed) in targets.items():
        view = {"nominal": samples["nominal"], "varied": samples["varied"], "target": samples[key]}
        result = fit_target(job, view, inputs, reweighters, simulation, units.within(key))
        repeats = [
            {
                "theta": f.theta,
                "kept": bool(k),
                "flags": f.flags.to_dict(),
                "objective": f.objective,
                "curve": f.curve,  # the objective at the evaluated θ′ (scan or path)
            }
            for f, k in zip(result.fits, result.keep, strict=True)
        ]
        points.append(
            CalibrationPoint(
                point[name],
                seed,
                len(samples[key]),
                result.errors,
                repeats,
                int((~result.used).sum()),
                u.repeats,
                u.bootstrap,
                tuple(
                    r[2][name] if used else None
                    for r, used in zip(result.simulation, result.simulation_used, strict=True)
                ),
                tuple(float(result.values[name][r[0]]) for r in result.simulation),
            )
        )
        e = result.errors[name]
        _LOG.info("calibration target %s=%.6g: %.6g ± %s", name, point[name], e.value, e.total)
    # a target whose fit has no error (its repeats and replicas flagged) cannot enter
    # the line or the pulls; it is reported with the reason, never given an error
    measured = [p for p in points if p.sigma(name) is not None]
    if len(measured) < 3:
        write_text(
            out / "calibration.json",
            json.dumps(
                {
                    "method": job.method,
                    "parameter": name,
                    "line": None,
                    "reason": "fewer than 3 targets with a complete error",
                    "points": [
                        {
                            "true": p.true,
                            "seed": p.seed,
                            **p.errors[name].to_dict(),
                            "repeat_fits": p.repeats,
                        }
                        for p in points
                    ],
                },
                indent=2,
            ),
        )
        raise EmptySelectionError(
            f"calibration: only {len(measured)} of {len(points)} targets have a complete "
            "error (the others: one kept repeat, or fewer than two used replicas; the "
            "rest flagged); raise uncertainty.repeats / bootstrap or the samples' size. "
            + "; ".join(
                f"{name}={p.true:.6g}: fitted {p.value(name):.6g}, repeats "
                + ", ".join(
                    f"{r['theta'][name]:.6g}{' ' + str(sorted(r['flags'])) if r['flags'] else ''}"
                    for r in p.repeats
                )
                for p in points
            )
        )
    true = np.array([p.true for p in measured])
    fitted = np.array([p.value(name) for p in measured])
    sigma = np.array([p.sigma(name) for p in measured])
    repeat_values = np.array([[r["theta"][name] for r in p.repeats] for p in measured])
    repeat_kept = np.array([[r["kept"] for r in p.repeats] for p in measured])
    simulation = simulation_covariance(measured)
    training = shared_errors(repeat_values, repeat_kept)  # the repeats' shared noise
    correlated = shared_errors(repeat_values, repeat_kept, simulation)
    independent = fit_line(true, fitted, sigma, None, training)
    line = fit_line(true, fitted, sigma, None, correlated)
    pull = pulls(true, fitted, sigma, correlated)
    table = calibration_table(name, true, fitted, sigma, line, pull)
    table += [
        f"  excluded: {name}={p.true:.6g} fitted {p.value(name):.6g} without a complete error "
        f"({p.errors[name].repeats[0]} kept repeat, {p.errors[name].replicas[0]} used replicas)"
        for p in points
        if p.sigma(name) is None
    ]
    pull_of = dict(zip((id(p) for p in measured), pull.values, strict=True))
    plot = (
        plot_calibration(
            name,
            true,
            fitted,
            sigma,
            line,
            pull,
            out / f"calibration_{name}.png",
            style=job.plots.look("Simulation"),
            formats=job.plots.formats,
        )
        if job.plots.enabled
        else None
    )
    seconds = time.perf_counter() - started
    file = out / "calibration.json"
    write_text(
        file,
        json.dumps(
            {
                "method": job.method,
                "generator": job.samples.generator,
                "parameter": name,
                "fitted_parameters": list(job.samples.names),
                "nominal": job.samples.point("nominal"),
                "range": job.samples.parameters[name],
                "events": {
                    "nominal": len(samples["nominal"]),
                    "varied": len(samples["varied"]),
                    "target_generated": job.calibration.events(job.samples),
                },
                "repeats": u.repeats,
                "bootstrap": u.bootstrap,
                "simulation_bootstrap": u.simulation_bootstrap,
                "sigma": "each target's own error: stat (bootstrap of the target) and "
                "method/sqrt(M') (the training noise of the mean of M' kept repeats) in "
                "quadrature; the training noise the targets share (the same reweighters "
                "fit every target: training_covariance off the diagonal) and the "
                "simulation's error (replicas of the simulation, if run: "
                "simulation_covariance) enter the line and the pulls as covariances",
                "simulation_covariance": None if simulation is None else simulation.tolist(),
                "training_covariance": training.tolist(),
                "line_without_simulation": independent.to_dict(),
                "points": [
                    {
                        "true": p.true,
                        "seed": p.seed,
                        "events": p.events,
                        **p.errors[name].to_dict(),
                        "pull": pull_of.get(id(p)),
                        "in_line": id(p) in pull_of,
                        "sigma": p.sigma(name),
                        "simulation_shifts": list(p.simulation_shifts),
                        "simulation_paired": list(p.simulation_paired),
                        "others": {n: e.value for n, e in p.errors.items() if n != name},
                        "repeat_fits": p.repeats,
                        "replicas_excluded": p.replicas_flagged,
                    }
                    for p in points
                ],
                "line": line.to_dict(),
                "pulls": pull.to_dict(),
                "seconds": seconds,
            },
            indent=2,
        ),
    )
    return CalibrationOutputs(name, points, line, pull, table, file, plot, seconds)


@styled
def plot_calibration(
    name: str,
    true: np.ndarray,
    fitted: np.ndarray,
    sigma: np.ndarray,
    line: LineFit,
    pull: PullSummary,
    path: Path,
    title: str | None = None,
    *,
    style: PlotStyle,
    formats: Sequence[str] = ("png",),
) -> Path:
    """Fitted against true with the y = x line and the fitted line; the pulls below.

    ``style``: a :class:`~hepnnlr.results.PlotStyle` or a style name (default CMS);
    ``formats``: the files written (``path``'s suffix replaced); returns the first."""
    fig = Figure(figsize=(9.0, 9.0))  # the figure style's fonts need the room
    top, bottom = fig.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.3], "hspace": 0.05}
    )
    span = np.array([true.min(), true.max()])
    pad = 0.08 * (span[1] - span[0])
    x = np.linspace(span[0] - pad, span[1] + pad, 50)
    top.plot(x, x, color="grey", linestyle="--", label="fitted = true")
    top.plot(
        x,
        line.predict(x),
        color="C1",
        label=f"line: slope {line.slope:.3f} ± {line.slope_error:.3f}, "
        f"offset {line.offset:.3g} ± {line.offset_error:.2g}",
    )
    top.errorbar(
        true,
        fitted,
        yerr=sigma,
        fmt="o",
        color="C0",
        label=r"targets ($\sigma$ = stat $\oplus$ method / $M'^{1/2}$)",
    )
    top.set_ylabel(f"fitted {name}")
    top.legend(
        fontsize="x-small", title=f"χ²/ndf = {line.chi2:.2f}/{line.ndf}", title_fontsize="x-small"
    )
    if title:
        top.set_title(title, fontsize="x-small", loc="right")  # the label is on the left
    bottom.axhline(0.0, color="grey", linestyle="--")
    bottom.axhspan(-1, 1, color="grey", alpha=0.15)
    bottom.plot(true, pull.values, "o", color="C0")
    bottom.set_ylabel("(fit − true)/σ")
    bottom.set_xlabel(f"true {name}")
    bottom.text(
        0.02,
        0.92,
        f"pulls: mean {pull.mean:+.2f} ± {pull.mean_error:.2f}, "
        f"width {pull.width:.2f} ± {pull.width_error:.2f}",
        transform=bottom.transAxes,
        fontsize="x-small",
        va="top",
    )
    limit = max(3.0, 1.2 * float(np.max(np.abs(pull.values))))
    bottom.set_ylim(-limit, limit)
    experiment_label(top, style)
    return save_figure(fig, path, formats, dpi=style.dpi)[0]
