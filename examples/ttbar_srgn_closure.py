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
2. A moment fit per target: the θ′ at which the reweighted means of the detector-level
   features agree best with the target's (χ² of the mean differences with their
   statistical errors, minimum by a parabola), and the line of those values against the
   truth. A calibrated moment fit with a compressed SRGN curve points at the objective.

It writes ``docs/results/<name>_closure.json``::

    python examples/ttbar_srgn_closure.py ttbar --events 60000 --varied-events 60000 \\
        --runs 60 --parameter-range 167 183 --targets 169 172 175 178 181 \\
        --target-events 40000 --output out/calibration_ttbar_srgn_wide
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import RESULTS_DIR, load_average, show_progress, table, write_result  # noqa: E402
from calibration_curves import CASES, _arguments, _job, _name, load_cached_samples  # noqa: E402

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
    neighbours: (θ̂, error from Δχ² = 1 or None where the parabola opens down, χ²_min,
    whether the minimum lies on the grid's edge)."""
    k = int(np.argmin(chi2))
    edge = k in (0, len(grid) - 1)
    lo, hi = max(0, k - 2), min(len(grid), k + 3)
    a, b, c = np.polyfit(grid[lo:hi], chi2[lo:hi], 2)
    if a <= 0 or edge:
        return float(grid[k]), None, float(chi2[k]), edge
    vertex = -b / (2 * a)
    return float(vertex), float(1 / np.sqrt(a)), float(c - b**2 / (4 * a)), edge


def weighted_line(x: np.ndarray, y: np.ndarray, s: np.ndarray) -> tuple[float, float, float]:
    """Slope, its error and the offset at the weighted mean of ``x`` of the weighted
    straight line y(x) with independent errors ``s``."""
    w = 1 / s**2
    pivot = (w * x).sum() / w.sum()
    dx = x - pivot
    slope = (w * dx * (y - pivot)).sum() / (w * dx**2).sum()
    offset = (w * (y - pivot)).sum() / w.sum()
    return float(slope), float(1 / np.sqrt((w * dx**2).sum())), float(offset)


def main(argv=None) -> int:
    from hepnnlr.workflows.fit_calibration import calibration_targets
    from hepnnlr.workflows.fit_inputs import Inputs
    from hepnnlr.workflows.fit_steps import train_reweighter

    args = _arguments(argv)
    show_progress()
    load_before = load_average()
    job = _job(args)
    _, _, name, title = CASES[args.case]
    name = _name(args, name)
    parameter, targets = calibration_targets(job)
    samples = load_cached_samples(job, cache=args.cache)
    inputs = Inputs(samples["nominal"])
    nominal = samples["nominal"]
    rows = nominal.reco_rows(np.arange(len(nominal) // 2, len(nominal)))  # the fit half
    gen = inputs.events(nominal.gen.subset(rows), "gen")
    reco = inputs.events(nominal.reco.subset(rows), "reco")
    features = list(reco.global_features)
    low, high = job.samples.parameters[parameter]
    grid = np.arange(low, high + GRID_STEP / 2, GRID_STEP)
    data = {}
    for key, (point, _, _) in targets.items():
        t = samples[key]
        x = inputs.events(t.reco.subset(t.reco_rows()), "reco").globals
        data[point[parameter]] = (x.mean(axis=0), x.std(axis=0) / np.sqrt(len(x)), len(x))
    repeats = job.uncertainty.repeats
    neff_rows, fit_rows, lines = [], [], []
    for m in range(repeats):
        rw = train_reweighter(job, samples, inputs, job.training_seed + m)
        means, errors, neff = [], [], []
        for theta in grid:
            w = rw.weights(gen, (float(theta),))
            mean, error = weighted_means(reco.globals, w)
            means.append(mean)
            errors.append(error)
            neff.append(w.sum() ** 2 / (w**2).sum() / len(w))
        means, errors = np.array(means), np.array(errors)
        neff_rows.append([m, *(f"{v:.3f}" for v in neff[:: int(round(2 / GRID_STEP))])])
        true, fitted, sigma = [], [], []
        for value, (t_mean, t_error, n) in data.items():
            chi2 = (((means - t_mean) / np.hypot(errors, t_error)) ** 2).sum(axis=1)
            at_truth = float(np.interp(value, grid, chi2))
            at_nominal = float(np.interp(job.samples.point("nominal")[parameter], grid, chi2))
            theta_hat, error, chi2_min, edge = moment_fit(grid, chi2)
            fit_rows.append(
                [
                    m,
                    f"{value:g}",
                    n,
                    f"{theta_hat:.2f}",
                    "n/a" if error is None else f"{error:.2f}",
                    f"{chi2_min:.2f}/{len(features) - 1}",
                    f"{at_truth:.2f}/{len(features)}",
                    f"{at_nominal:.2f}/{len(features)}",
                    "yes" if edge else "no",
                ]
            )
            if error is not None:
                true.append(value)
                fitted.append(theta_hat)
                sigma.append(error)
        if len(true) >= 3:
            slope, slope_error, offset = weighted_line(
                np.array(true), np.array(fitted), np.array(sigma)
            )
            lines.append(
                [
                    m,
                    len(true),
                    f"{slope:.3f} ± {slope_error:.3f}",
                    f"{(slope - 1) / slope_error:+.2f} σ",
                    f"{offset:+.2f}",
                ]
            )
    shown = grid[:: int(round(2 / GRID_STEP))]
    s = job.samples
    write_result(
        RESULTS_DIR / f"{name}_closure.json",
        title=f"Calibration curve: {title}, closure of the reweighting at detector level",
        scale=(
            f"the samples of the curve {name}: nominal {s.events:,} events (fit half: "
            f"{len(rows):,} pass the detector-level selection), varied "
            f"{s.varied_events or s.events // 2:,} in {s.runs} runs on {parameter} "
            f"[{low:g}, {high:g}], {len(targets)} targets of "
            f"{job.calibration.events(s):,} events; {repeats} reweighter(s) (seeds "
            f"{job.training_seed}..{job.training_seed + repeats - 1}, as the curve's "
            f"repeats); detector-level features {', '.join(features)}; no g is trained"
        ),
        tables=[
            table(
                f"n_eff / N of the nominal fit half at detector level reweighted to "
                f"{parameter} = θ′ ((Σw)² / Σw² / N); the statistics the weighted "
                "simulation keeps, which set the AUC's noise at each θ′",
                ["reweighter", *(f"{v:g}" for v in shown)],
                neff_rows,
            ),
            table(
                "Moment fit per target: θ̂ minimizes χ²(θ′) of the differences between the "
                "target's and the reweighted simulation's detector-level feature means "
                "(statistical errors of both; the simulation is shared by the targets); "
                "χ² also at θ′ = true and at θ′ = nominal (no reweighting)",
                [
                    "reweighter",
                    "true",
                    "target events (detector level)",
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
                "Line of the moment fits' θ̂ against the truth (independent errors: the "
                "shared simulation's fluctuation is not in them, so the slope's error is "
                "a lower bound)",
                ["reweighter", "targets", "slope (1 if calibrated)", "from 1", "offset"],
                lines,
            ),
        ],
        load_before=load_before,
    )
    print(f"wrote {RESULTS_DIR / f'{name}_closure.json'}")
    for row in [*neff_rows, *fit_rows, *lines]:
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
