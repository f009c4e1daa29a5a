"""Does reweighting on x_G carry m_t to the detector level? A check of the SRGN curve (issue 15).

SRGN (Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural
Networks in the Presence of Detector Effects", arXiv:2010.03569, Eqs. 7–9) returns the
truth only when the generator-level features x_G carry all of θ's effect on the
detector-level ones, ``p(x_S | x_G, θ) = p(x_S | x_G)``. On hepnnlr's tt̄ samples x_G is the
four generator-level triplet masses; the detector-level triplets are built from smeared,
b-tagged reco jets that need not be the same jets. This script asks, per target, whether
the nominal simulation reweighted at generator level to the target's θ reproduces the
target at detector level, with three weightings of the nominal fit half:

* ``none``: no reweighting (how far the target is from the nominal there);
* ``single θ``: a plain classifier trained at generator level between the first half of
  the target and the nominal training half (the curve's reweighter network and training,
  no θ input): the best a reweighting on x_G can do at this θ with these events;
* ``parameterized``: the curve's own reweighter ``f(x_G, θ)`` at the target's θ (repeat
  ``m``: training seed ``seed + m``, as the curve's repeats).

Each is compared with the target's second half (the events the single-θ classifier did not
see), at detector level: χ² of the four mean differences (statistical errors of both, the
weighted ones as ratio estimators) and, per feature, the closure (reweighted − nominal) /
(target − nominal), 1 when the reweighting moves the mean as θ does. A single-θ χ² near
its 4 degrees of freedom with a parameterized one far above says that x_G suffices and
the parameterized reweighter does not close; a single-θ χ² far above says x_G does not
carry θ to the detector level.

It takes the curve's arguments and samples (``--cache``) and writes
``docs/results/<name>_oracle.json``; with the config's reweighter (4 networks, EMA) on the
samples of docs/fits.md tt̄ SRGN item 12::

    python examples/ttbar_srgn_oracle.py ttbar --events 150000 --varied-events 60000 \\
        --runs 60 --parameter-range 165 185 --targets 169 172 175 178 181 \\
        --target-events 120000 --repeats 1 --tag nominal150k-members4ema --cache \\
        --output out/calibration_ttbar_srgn_w165_185_n150k

Item 10's file of one network without EMA (``--tag nominal150k``) needs
``--reweighter-members 1 --no-reweighter-ema`` since the config sets both.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import RESULTS_DIR, table, write_result  # noqa: E402
from calibration_curves import titled  # noqa: E402
from ttbar_srgn_closure import curve_setup, weighted_means  # noqa: E402

from hepnnlr.weighted import kish_effective_size  # noqa: E402

ORACLE_SEED = 7
"""Training seed of the single-θ classifiers (one per target)."""


def closure_row(
    simulation: np.ndarray, weights: np.ndarray, nominal: tuple, target: tuple
) -> tuple[float, list[str], float]:
    """χ² of the weighted simulation's means against the target's (``(mean, error)``),
    the closure per feature against the unweighted simulation's ``nominal`` means, and
    ``n_eff / N`` of the weights."""
    mean, error = weighted_means(simulation, weights)
    t_mean, t_error = target
    chi2 = float((((mean - t_mean) / np.hypot(error, t_error)) ** 2).sum())
    shift = t_mean - nominal[0]
    closure = (mean - nominal[0]) / shift
    closure_error = np.hypot(error, t_error) / np.abs(shift)
    cells = [f"{c:.2f} ± {e:.2f}" for c, e in zip(closure, closure_error, strict=True)]
    return chi2, cells, kish_effective_size(weights) / len(weights)


def main(argv=None) -> int:
    from hepnnlr.training.classifier import train_classifier
    from hepnnlr.workflows.fit_steps import train_reweighter

    c = curve_setup(argv)
    args, job, name, parameter, targets = c.args, c.job, c.name, c.parameter, c.targets
    samples, inputs, nominal = c.samples, c.inputs, c.samples["nominal"]
    n = len(nominal)
    train, half = np.arange(n // 2), np.arange(n // 2, n)  # as the curve's reweighter and fits
    rows = nominal.reco_rows(half)  # the fit half's events that pass at detector level
    simulation = nominal.reco.globals[rows]
    at_detector = rows - half[0]
    gen_train = inputs.events(nominal.gen.subset(train), "gen")
    gen_fit = inputs.events(nominal.gen.subset(half), "gen")
    unit = np.ones(len(simulation))
    reference = weighted_means(simulation, unit)
    reweighters = [
        train_reweighter(job, samples, inputs, job.training_seed + m)
        for m in range(job.uncertainty.repeats)
    ]
    features = list(nominal.reco.global_features)
    out, totals = [], {}
    for key, (point, _, _) in targets.items():
        t, value = samples[key], point[parameter]
        first, second = np.arange(len(t) // 2), np.arange(len(t) // 2, len(t))
        x_target = t.reco.globals[t.reco_rows(second)]
        target = weighted_means(x_target, np.ones(len(x_target)))
        oracle = train_classifier(
            job.network.reweighter,
            inputs.events(t.gen.subset(first), "gen"),
            np.ones(len(first)),
            gen_train,
            np.ones(len(train)),
            replace(job.training.reweighter, seed=ORACLE_SEED, progress=job.progress),
            name=f"single-θ classifier at {parameter} = {value:g}",
        )
        weightings = [("none", unit), ("single θ", np.exp(oracle.logits(gen_fit))[at_detector])]
        weightings += [
            (f"parameterized, repeat {m}", rw.weights(gen_fit, (float(value),))[at_detector])
            for m, rw in enumerate(reweighters)
        ]
        for what, w in weightings:
            chi2, cells, neff = closure_row(simulation, w, reference, target)
            out.append(
                [f"{value:g}", len(x_target), what, f"{neff:.3f}", f"{chi2:.2f}/{len(features)}"]
                + cells
            )
            totals.setdefault(what, []).append(chi2)
    # each reweighter is a weighting of its own: one total per repeat
    total_rows = [[what, f"{sum(c):.1f}/{len(features) * len(c)}"] for what, c in totals.items()]
    s = job.samples
    write_result(
        RESULTS_DIR / f"{name}_oracle.json",
        title=(
            f"Calibration curve: {titled(args, c.title, job)}, does reweighting on x_G carry "
            f"{parameter} to the detector level?"
        ),
        scale=(
            f"the samples of the curve {name}: nominal {s.events:,} events (the reweighter "
            f"trains on one half; the other, {len(rows):,} events passing at detector level, "
            f"is reweighted), varied {s.varied_events or s.events // 2:,} in {s.runs} runs, "
            f"{len(targets)} targets of {job.calibration.events(s):,} events (first half "
            f"trains the single-θ classifier, second half is compared); "
            f"{len(reweighters)} parameterized reweighter(s) (seeds {job.training_seed}.."
            f"{job.training_seed + len(reweighters) - 1}, {job.training.reweighter_members} "
            f"network(s) each{', EMA' if job.training.reweighter.ema else ''}); single-θ "
            f"classifiers: the reweighter's network and training, seed {ORACLE_SEED}"
        ),
        tables=[
            table(
                "Detector level, nominal fit half reweighted to the target's θ against the "
                "target's second half: n_eff / N of the weights, χ² of the four mean "
                "differences (statistical errors of both), and per feature the closure "
                "(reweighted − nominal) / (target − nominal), 1 if the reweighting moves the "
                "mean as θ does (large errors where θ moves a mean little)",
                ["true", "target events", "weighting", "n_eff / N", "χ²/ndf"]
                + [f"closure {f}" for f in features],
                out,
            ),
            table(
                "χ² summed over the targets, per weighting (near its degrees of freedom: "
                "the weighting closes at detector level within the statistics)",
                ["weighting", "χ²/ndf"],
                total_rows,
            ),
        ],
        load_before=c.load_before,
    )
    print(f"wrote {RESULTS_DIR / f'{name}_oracle.json'}")
    for row in out + total_rows:
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
