"""What ``hepnnlr fit`` writes: histograms, plots and the JSON files of a fit job.

* :func:`feature_histograms`: per feature, the target, the nominal sample and the nominal
  sample reweighted to the fitted θ.
* :func:`plot_curves`: the reweighter's loss per epoch, and the objective (AUC for SRGN,
  the loss of Eq. 3 for DCTR) against θ′ per repeat, with the fitted value and its
  ``stat``, ``method`` and ``total`` bands.
* :func:`plot_uncertainty`: per parameter, the bootstrap replicas (``stat``) and the
  repeats (``method``) that make up the quoted error.
* :func:`write_summary`: ``summary.json``, the fitted values with ``stat``, ``method`` and
  ``total`` and how each was obtained; :func:`write_fit_record`: ``fit.json``, everything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hist
import numpy as np
from matplotlib.figure import Figure

from hepnnlr.outputs import write_json, write_text
from hepnnlr.results.fit_errors import ParameterError
from hepnnlr.results.plots import save_figure
from hepnnlr.results.style import PlotStyle, experiment_label, styled
from hepnnlr.tensors.events import EventTensors
from hepnnlr.workflows.fit_inputs import SELECTED, Inputs, Level

if TYPE_CHECKING:
    from hepnnlr.workflows.fit_config import FitJob

__all__ = [
    "ERROR_MODEL",
    "feature_histograms",
    "plot_curves",
    "plot_uncertainty",
    "write_fit_record",
    "write_summary",
]

ERROR_MODEL = {
    "value": "mean of the kept repeats (uncertainty.repeats fits, training seeds seed + r)",
    "stat": "standard deviation of the fit over bootstrap replicas of the target "
    "(Poisson(1) event weights; DCTR: refit with the repeat's frozen reweighter; "
    "SRGN: the whole fit rerun with the weighted target), shifts theta_b - "
    "theta_repeat",
    "method": "standard deviation of the kept repeats (trainings with different seeds on "
    "the same samples); the spread of one fit, not of their mean",
    "stat_simulation": "with uncertainty.simulation_bootstrap > 0: the spread over "
    "replicas of the simulated samples (nominal and varied events Poisson(1)-weighted, "
    "the reweighter of repeat m(b) retrained with its seed, the fit against the "
    "unweighted target) with the training noise taken out: sqrt(Var_b(theta_b) - "
    "Var_b(theta_m(b))), floored at 0 (stat_simulation_floored); the plain spread of "
    "the shifts theta_b - theta_m(b), which holds the training noise again, is "
    "simulation_shift_spread",
    "total": "sqrt(stat^2 + stat_simulation^2 + method^2) of the parts there are",
    "not_included": "without uncertainty.simulation_bootstrap: the finite size of the "
    "simulated samples (nominal and varied)",
}
"""What each quoted number is (written into ``summary.json``; docs/fits.md)."""


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


def feature_histograms(
    job: FitJob, samples: dict[str, Level], inputs: Inputs, rw, theta: Mapping[str, float]
) -> dict[str, dict[str, hist.Hist]]:
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
    w = rw.weights(
        inputs.events(nominal.gen.subset(rows), "gen"),
        [theta[n] for n in job.samples.names],
        extrapolate=job.fit.extrapolate,
    )
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
        for label, values, weights in (
            ("target", x_tar, None),
            ("nominal", x_nom, None),
            ("nominal_reweighted", x_nom, w[event]),
        ):
            h = hist.Hist.new.Reg(30, low, high, name=key, label=name).Weight()
            groups[key][label] = h.fill(values, weight=weights)  # tails: flow bins
    return groups


def _bands(ax, error: ParameterError, vertical: bool = True) -> None:
    """The fitted value with its total, method and stat bands, labelled."""
    span = ax.axvspan if vertical else ax.axhspan
    line = ax.axvline if vertical else ax.axhline
    for width, colour, alpha, label in (
        (error.total, "0.5", 0.25, "total"),
        (error.method, "C1", 0.3, "method (repeats)"),
        (error.stat_simulation, "C4", 0.3, "stat_sim (simulation replicas)"),
        (error.stat, "C2", 0.3, "stat (bootstrap)"),
    ):
        if width is not None:
            span(
                error.value - width,
                error.value + width,
                color=colour,
                alpha=alpha,
                label=f"{label} ±{width:.3g}",
            )
    line(error.value, color="k", lw=1.2, label=f"fit {error.value:.5g}")


@styled
def plot_curves(
    job: FitJob,
    curves: Sequence[list],
    losses: Sequence[dict],
    errors: Mapping[str, ParameterError],
    out: Path,
    *,
    style: PlotStyle,
    formats: Sequence[str] = ("png",),
) -> list[Path]:
    """The reweighter's loss per epoch; the objective against θ′ per repeat with bands.

    ``style``: a :class:`~hepnnlr.results.PlotStyle` or a style name (default CMS style);
    ``formats``: the files of each figure."""
    paths: list[Path] = []
    fig = Figure(figsize=(9, 6.75))
    ax = fig.add_subplot()
    for repeat, history in enumerate(losses):
        ax.plot(history["loss"], color=f"C{repeat % 10}", label=f"repeat {repeat} train")
        ax.plot(history["val_loss"], color=f"C{repeat % 10}", ls="--", label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("weighted BCE")
    ax.set_title("DCTR reweighter training", fontsize="small")
    ax.legend(fontsize="x-small")
    experiment_label(ax, style)
    paths += save_figure(fig, out / "reweighter_loss", formats, dpi=style.dpi)
    label = "DCTR loss (Eq. 3)"
    if job.method == "srgn":
        label = (
            "held-out AUC of g (Eq. 5)"
            if job.fit.objective == "auc"
            else r"(AUC $-$ ½)² $-$ identical-sample variance"
        )
    for k, name in enumerate(job.samples.names):
        fig = Figure(figsize=(9, 6.75))
        ax = fig.add_subplot()
        for repeat, curve in enumerate(curves):
            x = [p[k] for p, _ in curve]
            y = [v for _, v in curve]
            order = np.argsort(x)
            ax.plot(
                np.array(x)[order],
                np.array(y)[order],
                "o-",
                ms=3,
                label=f"repeat {repeat}",
                color=f"C{repeat % 10}",
            )
        _bands(ax, errors[name])
        target = job.target_point().get(name)
        if target is not None:
            ax.axvline(target, color="k", ls="--", label=f"target {name}")
        ax.set_xlabel(f"{name}'")  # ASCII: the style's fonts have no ′
        ax.set_ylabel(label)
        ax.legend(fontsize="x-small")
        experiment_label(ax, style)
        paths += save_figure(fig, out / f"objective_vs_{name}", formats, dpi=style.dpi)
    return paths


@styled
def plot_uncertainty(
    job: FitJob,
    errors: Mapping[str, ParameterError],
    repeats: Mapping[str, Sequence[float]],
    kept: Sequence[bool],
    replicas: Mapping[str, Sequence[float]],
    used: Sequence[bool],
    out: Path,
    *,
    style: PlotStyle,
    formats: Sequence[str] = ("png",),
) -> list[Path]:
    """Per parameter: the replicas' fits (stat) and the repeats' fits (method); ``style``
    and ``formats`` as in :func:`plot_curves`."""
    paths: list[Path] = []
    for name, error in errors.items():
        fig = Figure(figsize=(9, 6.75))
        ax = fig.add_subplot()
        values = np.asarray(replicas.get(name, []), float)
        mask = np.asarray(used, bool) if len(values) else np.zeros(0, bool)
        if mask.any():
            ax.hist(
                values[mask],
                bins=max(5, min(40, int(mask.sum()) // 3)),
                color="C2",
                alpha=0.6,
                label=f"bootstrap replicas ({int(mask.sum())})",
            )
        top = ax.get_ylim()[1] if mask.any() else 1.0
        for r, (v, k) in enumerate(zip(repeats[name], kept, strict=True)):
            ax.plot(
                [v, v],
                [0, 0.3 * top],
                color="C1" if k else "r",
                lw=2,
                label=("repeats (kept)" if k else "repeat excluded") if r < 2 else None,
            )
        _bands(ax, error)
        target = job.target_point().get(name)
        if target is not None:
            ax.axvline(target, color="k", ls="--", label=f"target {target:g}")
        ax.set_xlabel(name)
        ax.set_ylabel("replicas")
        ax.set_title(
            f"{job.method.upper()} fit of {name}: stat, method and total", fontsize="small"
        )
        ax.legend(fontsize="x-small")
        experiment_label(ax, style)
        paths += save_figure(fig, out / f"uncertainty_{name}", formats, dpi=style.dpi)
    return paths


def write_summary(
    path: Path,
    job: FitJob,
    errors: Mapping[str, ParameterError],
    repeats: list[dict[str, Any]],
    replicas: list[dict[str, Any]],
    bootstrap_seed: int,
    *,
    simulation_rows: Sequence[dict[str, Any]] = (),
) -> Path:
    """``summary.json``: each parameter's value, ``stat``, ``method``, ``total`` (and
    ``stat_simulation``), the repeats and replicas behind them, and :data:`ERROR_MODEL`."""
    target = job.target_point()
    write_text(
        path,
        json.dumps(
            {
                "method": job.method,
                "parameters": {
                    n: {**e.to_dict(), "target": target.get(n)} for n, e in errors.items()
                },
                "error_model": ERROR_MODEL,
                "repeats": repeats,
                "bootstrap": {
                    "replicas": job.uncertainty.bootstrap,
                    "seed": bootstrap_seed,
                    "weights": "Poisson(1) per target event, stream (seed, replica)",
                    "fits": replicas,
                },
                "simulation_bootstrap": {
                    "replicas": job.uncertainty.simulation_bootstrap,
                    "weights": "Poisson(1) per nominal (stream 1) and varied (stream 2) event; "
                    "reweighter retrained, fit against the unweighted target",
                    "fits": list(simulation_rows),
                },
                "keep_flagged": job.uncertainty.keep_flagged,
            },
            indent=2,
        ),
    )
    return path


def write_fit_record(
    path: Path,
    job: FitJob,
    samples,
    fitted,
    grid_minimum,
    keep,
    none_kept,
    errors,
    repeat_rows,
    replica_rows,
    *,
    simulation_rows: Sequence[dict[str, Any]] = (),
    anchor: dict[str, float] | None,
    anchor_share: float,
    seconds: float,
) -> Path:
    """``fit.json``: the job's samples, seeds, every repeat and replica, the summary."""
    names = job.samples.names
    record: dict[str, Any] = {
        "method": job.method,
        "generator": job.samples.generator,
        "parameters": list(names),
        "target": job.target_point() or None,  # None: real data, no true θ
        "data_truth": job.target_truth,
        "nominal": job.samples.point("nominal"),
        "bounds": job.bounds,
        "seeds": {k: job.samples.seed_of(k) for k in ("nominal", "target", "varied")},
        "training_seed": job.training_seed,
        "nominal_anchor": (None if anchor is None else {"theta": anchor, "share": anchor_share}),
        "reweighter_members": job.training.reweighter_members,
        "nominal_draws": job.training.nominal_draws,
        "fitted": fitted,
        "fitted_from": (
            "parabola vertex around the grid minimum"
            if job.fit.method == "grid"
            else f"{job.fit.method} minimum"
        ),
        "grid_minimum": grid_minimum,
        "kept": keep.tolist(),
        "no_repeat_kept": none_kept,
        "summary": {n: e.to_dict() for n, e in errors.items()},
        "repeats": repeat_rows,
        "replicas": replica_rows,
        "simulation_replicas": list(simulation_rows),
        "objective": [r["objective"] for r in repeat_rows],
        "events": {
            k: {"used": len(v), "selected": v.selected, "generated": v.total}
            for k, v in samples.items()
        },
        "reused_sample_files": sorted(f for v in samples.values() for f in v.reused),
        "features": {
            "generator": list(job.generator_features),
            "simulation": list(job.simulation_features),
            "generator_particles": list(job.generator_particles),
            "simulation_particles": list(job.simulation_particles),
            "particle_slots": {
                lv: (
                    None
                    if getattr(samples["nominal"], lv).particles is None
                    else int(getattr(samples["nominal"], lv).particles.shape[1])
                )
                for lv in ("gen", "reco")
            },
        },
        "reweighter": str(job.output_dir / "reweighter"),
        "seconds": seconds,
    }
    write_json(path, record)
    return path
