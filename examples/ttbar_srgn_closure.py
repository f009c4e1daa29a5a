"""Does the tt̄ reweighting close at detector level? A check of the SRGN m_t curve (issue 15).

The SRGN fit (Andreassen et al., "Parameter Estimation using Neural Networks in the
Presence of Detector Effects", arXiv:2010.03569) looks for the θ′ at which a classifier
``g`` can no longer tell the target from the nominal simulation reweighted at generator
level to θ′. Its calibration curve can be compressed for two different reasons:

* the reweighting does not carry the θ dependence through to the detector level (the
  reweighted simulation at the true θ still differs from the target there), or
* the reweighting does, and the bias comes from the AUC objective (e.g. its noise floor,
  which grows as the weights spread away from the nominal θ).

This script separates them with the same samples and reweighter as the curve
(``examples/calibration_curves.py``'s arguments and ``--cache``), without ``g``:

1. ``n_eff / N`` of the nominal fit half at detector level reweighted to θ′
   (``(Σw)² / Σw²``): how much statistics the weighted simulation keeps at each θ′.
2. A moment fit per target, at detector and at generator level: the θ′ at which the
   reweighted feature means agree best with the target's (χ² of the mean differences
   with their statistical errors, minimum by a parabola), and the line of those values
   against the truth. The generator level checks the moment fit itself (the DCTR fit is
   calibrated there); a calibrated detector-level moment fit with a compressed SRGN
   curve points at the objective, a compressed one at the reweighting's closure there.
3. The same weights read as a density ratio in a generator-level likelihood fit (the
   targets' log-likelihood under the reweighted nominal density): calibrated where the
   weights are right in the bulk of the distribution, whatever their tails do to the
   means.
4. Where the curve has run (its record in ``docs/results/records/``): per repeat fit,
   the vertex of a parabola through the AUC values it evaluated and the lowest AUC, to
   tell where the objective itself is lowest from where Powell stopped.

It writes ``docs/results/<name>_closure.json``; the recorded files ran with one reweighter
network without EMA (docs/fits.md tt̄ SRGN item 5), which now takes
``--reweighter-members 1 --no-reweighter-ema``::

    python examples/ttbar_srgn_closure.py ttbar --events 60000 --varied-events 60000 \\
        --runs 60 --parameter-range 167 183 --targets 169 172 175 178 181 \\
        --target-events 40000 --reweighter-members 1 --no-reweighter-ema \\
        --output out/calibration_ttbar_srgn_wide
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import RESULTS_DIR, load_average, show_progress, table, write_result  # noqa: E402
from calibration_curves import (  # noqa: E402
    CASES,
    RECORDS,
    _arguments,
    _job,
    _name,
    load_cached_samples,
    titled,
)

from hepnnlr.results.calibration import fit_line  # noqa: E402
from hepnnlr.weighted import kish_effective_size  # noqa: E402

GRID_STEP = 0.5
"""θ′ step (GeV) of the moment fit's scan; the parabola refines the minimum."""


def weighted_means(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column: the ``w``-weighted mean of ``x`` and its statistical error
    (``sqrt(Σ w² (x − μ)²) / Σ w``, the error of a ratio estimator)."""
    total = w.sum()
    mean = (w[:, None] * x).sum(axis=0) / total
    error = np.sqrt((w[:, None] ** 2 * (x - mean) ** 2).sum(axis=0)) / total
    return mean, error


def moment_fit(grid: np.ndarray, chi2: np.ndarray) -> tuple[float, float | None, float, bool]:
    """The minimum of ``chi2`` over ``grid`` refined by a parabola through it and its
    neighbours: (θ̂, error from Δχ² = 1 or None where the parabola opens down, χ² at the
    lowest grid point (the parabola's own minimum can fall below 0 where χ² is not
    parabolic), whether the minimum lies on the grid's edge)."""
    k = int(np.argmin(chi2))
    edge = k in (0, len(grid) - 1)
    lo, hi = max(0, k - 2), min(len(grid), k + 3)
    a, b, c = np.polyfit(grid[lo:hi], chi2[lo:hi], 2)
    if a <= 0 or edge:
        return float(grid[k]), None, float(chi2[k]), edge
    vertex = -b / (2 * a)
    return float(vertex), float(1 / np.sqrt(a)), float(chi2[k]), edge


def _scan(sim, weights, targets, grid, nominal):
    """Per target ``{true: (mean, error, n)}``: the moment fit over ``grid`` of ``sim``
    (features ``(n, k)``) under ``weights[θ′]``; rows of the fit table and the points of
    the line (true, θ̂, error)."""
    means, errors = zip(*(weighted_means(sim, w) for w in weights), strict=True)
    means, errors = np.array(means), np.array(errors)
    rows, points = [], []
    k = sim.shape[1]
    for value, (t_mean, t_error, n) in targets.items():
        chi2 = (((means - t_mean) / np.hypot(errors, t_error)) ** 2).sum(axis=1)
        theta_hat, error, chi2_min, edge = moment_fit(grid, chi2)
        rows.append(
            [
                f"{value:g}",
                n,
                f"{theta_hat:.2f}",
                "n/a" if error is None else f"{error:.2f}",
                f"{chi2_min:.2f}/{k - 1}",
                f"{np.interp(value, grid, chi2):.2f}/{k}",
                f"{np.interp(nominal, grid, chi2):.2f}/{k}",
                "yes" if edge else "no",
            ]
        )
        if error is not None:
            points.append((value, theta_hat, error))
    return rows, points


def _likelihood(rw, target, weights, grid):
    """The θ′ that maximizes the target's generator-level log-likelihood under the
    reweighted nominal density, ``Σ_target log w(x, θ′) − N log mean_nominal w(·, θ′)``
    (the weights read as a density ratio, normalized on the nominal fit half): θ̂ and its
    error from Δ(−2 log L) = 1, as :func:`moment_fit`."""
    nll = np.array(
        [
            -2 * (np.log(rw.weights(target, (float(g),))).sum() - len(target) * np.log(w.mean()))
            for g, w in zip(grid, weights, strict=True)
        ]
    )
    theta_hat, error, _, edge = moment_fit(grid, nll - nll.min())
    return theta_hat, error, edge


def _line_row(m, level, points):
    if len(points) < 3:
        return [m, level, len(points), "n/a", "", ""]
    # the weighted line of the calibration curves, with independent errors
    line = fit_line(*zip(*points, strict=True))
    return [
        m,
        level,
        len(points),
        f"{line.slope:.3f} ± {line.slope_error:.3f}",
        f"{(line.slope - 1) / line.slope_error:+.2f} σ",
        f"{line.offset:+.2f}",
    ]


def objective_rows(record: dict) -> list[list]:
    """Per repeat fit of a curve's record (``docs/results/records/<name>.json``): the
    fitted θ′, the vertex of a parabola through the objective values the fit evaluated
    (its own minimum, free of where Powell stopped), the lowest value, and the flags."""
    name = record["parameter"]
    rows = []
    for pt in record["points"]:
        for k, fit in enumerate(pt["repeat_fits"]):
            evaluated = {round(p[0][0], 3): p[1] for p in fit["curve"]}
            theta, auc = np.array(list(evaluated)), np.array(list(evaluated.values()))
            a, b, _ = np.polyfit(theta, auc, 2)
            vertex = f"{-b / (2 * a):.2f}" if a > 0 else "n/a"
            flags = [f for f, v in fit["flags"].items() if v]
            rows.append(
                [f"{pt['true']:g}", k, f"{fit['theta'][name]:.2f}", vertex]
                + [f"{auc.min():.4f}", len(theta), ", ".join(flags) or "none"]
            )
    return rows


def _target_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    return x.mean(axis=0), x.std(axis=0) / np.sqrt(len(x)), len(x)


def curve_setup(argv=None) -> SimpleNamespace:
    """What a check of a curve starts from: its arguments (those of
    ``examples/calibration_curves.py``), the load before it, its job, result name and
    title, the fitted parameter and targets, the processed samples (``--cache``) and the
    network inputs standardized on the nominal sample."""
    from hepnnlr.workflows.fit_calibration import calibration_targets
    from hepnnlr.workflows.fit_inputs import Inputs

    args = _arguments(argv)
    show_progress()
    load_before = load_average()
    job = _job(args)
    _, _, name, title = CASES[args.case]
    parameter, targets = calibration_targets(job)
    samples = load_cached_samples(job, cache=args.cache)
    return SimpleNamespace(
        args=args,
        load_before=load_before,
        job=job,
        name=_name(args, name),
        title=title,
        parameter=parameter,
        targets=targets,
        samples=samples,
        inputs=Inputs(samples["nominal"]),
    )


def main(argv=None) -> int:
    from hepnnlr.workflows.fit_steps import train_reweighter

    c = curve_setup(argv)
    args, load_before, job, name, title = c.args, c.load_before, c.job, c.name, c.title
    parameter, targets, samples, inputs = c.parameter, c.targets, c.samples, c.inputs
    nominal = samples["nominal"]
    half = np.arange(len(nominal) // 2, len(nominal))  # the fit half, as the curve's fits
    rows = nominal.reco_rows(half)
    # detector level: the events that pass there (what g sees); generator level: every
    # event of the fit half (what the DCTR fit matches), unselected ones at zero
    gen_all = inputs.events(nominal.gen.subset(half), "gen")
    levels = {
        "detector": (inputs.events(nominal.reco.subset(rows), "reco").globals, rows - half[0]),
        "generator": (gen_all.globals, np.arange(len(half))),
    }
    data = {"detector": {}, "generator": {}}
    target_gen = {}
    for key, (point, _, _) in targets.items():
        t, value = samples[key], point[parameter]
        data["detector"][value] = _target_moments(
            inputs.events(t.reco.subset(t.reco_rows()), "reco").globals
        )
        target_gen[value] = inputs.events(t.gen, "gen")
        data["generator"][value] = _target_moments(target_gen[value].globals)
    low, high = job.samples.parameters[parameter]
    grid = np.arange(low, high + GRID_STEP / 2, GRID_STEP)
    every = int(round(2 / GRID_STEP))  # the n_eff table's columns: every 2 GeV
    nominal_value = job.samples.point("nominal")[parameter]
    repeats = job.uncertainty.repeats
    neff_rows, fit_rows, lines = [], [], []
    for m in range(repeats):
        rw = train_reweighter(job, samples, inputs, job.training_seed + m)
        weights = [rw.weights(gen_all, (float(theta),)) for theta in grid]
        detector = [w[levels["detector"][1]] for w in weights]
        neff_rows.append(
            [m, *(f"{kish_effective_size(w) / len(w):.3f}" for w in detector[::every])]
        )
        for level, ws in (("detector", detector), ("generator", weights)):
            level_rows, points = _scan(levels[level][0], ws, data[level], grid, nominal_value)
            fit_rows += [[m, level, *r] for r in level_rows]
            lines.append(_line_row(m, f"{level} (means)", points))
        points = []
        for value, events in target_gen.items():
            theta_hat, error, edge = _likelihood(rw, events, weights, grid)
            fit_rows.append(
                [m, "generator (likelihood)", f"{value:g}", len(events), f"{theta_hat:.2f}"]
                + ["n/a" if error is None else f"{error:.2f}", "-", "-", "-"]
                + ["yes" if edge else "no"]
            )
            if error is not None:
                points.append((value, theta_hat, error))
        lines.append(_line_row(m, "generator (likelihood)", points))
    s = job.samples
    record = RECORDS / f"{name}.json"
    objective = []
    # the record's curves hold what the fit minimized: the AUC, or its excess
    what = "AUC" if job.fit.objective == "auc" else "(AUC − ½)² excess"
    if record.is_file():  # the curve's fits, when it has run: where its objective was lowest
        objective.append(
            table(
                f"The SRGN objective of each repeat fit of the curve (its record "
                f"docs/results/records/{name}.json): fitted θ′, the vertex of a parabola "
                f"through the {what} values the fit evaluated, the lowest {what}, the "
                "number of distinct θ′ evaluated, the flags",
                ["true", "repeat", "fitted", "parabola vertex", f"lowest {what}", "θ′", "flags"],
                objective_rows(json.loads(record.read_text())),
            )
        )
    write_result(
        RESULTS_DIR / f"{name}_closure.json",
        title=(
            f"Calibration curve: {titled(args, title, job)}, closure of the reweighting at "
            "detector level"
        ),
        scale=(
            f"the samples of the curve {name}: nominal {s.events:,} events (fit half "
            f"{len(half):,}, {len(rows):,} of them pass the detector-level selection), "
            f"varied {s.varied_events or s.events // 2:,} in {s.runs} runs on {parameter} "
            f"[{low:g}, {high:g}], {len(targets)} targets of "
            f"{job.calibration.events(s):,} events; {repeats} reweighter(s) (seeds "
            f"{job.training_seed}..{job.training_seed + repeats - 1}, as the curve's "
            f"repeats); θ′ scanned in steps of {GRID_STEP:g}; no g is trained"
        ),
        tables=[
            table(
                f"n_eff / N of the nominal fit half at detector level reweighted to "
                f"{parameter} = θ′ ((Σw)² / Σw² / N): the statistics the weighted "
                "simulation keeps at each θ′ (they set the noise of g's AUC there)",
                ["reweighter", *(f"{v:g}" for v in grid[::every])],
                neff_rows,
            ),
            table(
                "Moment fit per target and level: θ̂ minimizes χ²(θ′) of the differences "
                "between the target's and the reweighted simulation's feature means "
                "(statistical errors of both; the simulation is shared by the targets); "
                "χ² also at θ′ = true and at θ′ = nominal (no reweighting). Detector "
                "level: the events that pass its selection; generator level: all events. "
                "Generator (likelihood): θ̂ maximizes the targets' log-likelihood under "
                "the reweighted nominal density (all the weights' information, not only "
                "the means; error from Δ(−2 log L) = 1)",
                [
                    "reweighter",
                    "level",
                    "true",
                    "target events",
                    "θ̂",
                    "error (Δχ² = 1)",
                    "χ²_min/ndf",
                    "χ² at true",
                    "χ² at nominal",
                    "at a range edge",
                ],
                fit_rows,
            ),
            table(
                "Line of the moment and likelihood fits' θ̂ against the truth (weighted "
                "by their statistical errors alone: neither the shared simulation's "
                "fluctuation nor the reweighter's training noise is in them, so the "
                "slope's error is a lower bound; compare the two reweighters)",
                ["reweighter", "level", "targets", "slope (1 if calibrated)", "from 1", "offset"],
                lines,
            ),
            *objective,
        ],
        load_before=load_before,
    )
    print(f"wrote {RESULTS_DIR / f'{name}_closure.json'}")
    for row in [*neff_rows, *fit_rows, *lines]:
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
