"""Why the generator-level DCTR m_t calibration of the tt̄ job is compressed (issue 15).

Trains the tt̄ job's reweighter (``examples/configs/ttbar_srgn.yaml``, fitted with DCTR at generator
level, Eq. 3 of Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural
Networks in the Presence of Detector Effects", arXiv:2010.03569) with one setting changed at a time,
fits the five calibration targets with each, and records per variant and training seed the fitted
values, the slope of fitted against true (unweighted least squares; 1 if calibrated) and the best
validation loss; for the first seed also the reweighted nominal sample's mean triplet masses in the
peak window 150-190 GeV at m_t = 179 GeV against those of the target at 179 GeV (where the
reweighter over- or undershoots). Writes ``docs/results/<--name>.json``::

    nice -n 10 python examples/ttbar_dctr_diagnosis.py --seeds 4 \\
        --variants baseline "nominal_draws 4" "nominal_anchor 0"
    nice -n 10 python examples/ttbar_dctr_diagnosis.py --events 60000 \\
        --varied-events 60000 --runs 60 --output out/calibration_ttbar_large \\
        --name calibration_ttbar_mt_dctr_diagnosis_60k --variants baseline "nominal_draws 4"

The samples are those of ``examples/calibration_curves.py ttbar`` (the same recipes and
seeds, so its files under ``--output`` are reused); no bootstrap, no repeats' averaging:
each line is one trained reweighter.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import RESULTS_DIR, ROOT, load_average, show_progress, table, write_result  # noqa: E402
from calibration_curves import load_cached_samples, replace_given  # noqa: E402

VARIANTS = {
    "baseline": {},
    "nominal_anchor 0": {"nominal_anchor": 0.0},
    "nominal_anchor 0.2": {"nominal_anchor": 0.2},
    "nominal_draws 4": {"nominal_draws": 4},
    "nominal_draws 8": {"nominal_draws": 8},
    "learning_rate 3e-4, 200 epochs": {"reweighter": {"learning_rate": 3e-4, "epochs": 200}},
    "batch 2000, 200 epochs": {"reweighter": {"batch_size": 2000, "epochs": 200}},
    "batch 100": {"reweighter": {"batch_size": 100}},
    "patience 50, 200 epochs": {"reweighter": {"patience": 50, "epochs": 200}},
}
"""Changes to the job's ``training`` section, by name (``reweighter``: its TrainingConfig)."""

WINDOW = (150.0, 190.0)


def _arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=None, help="nominal events")
    parser.add_argument("--varied-events", type=int, default=None)
    parser.add_argument("--runs", type=int, default=None, help="varied generator runs")
    parser.add_argument("--seeds", type=int, default=2, help="training seeds per variant")
    parser.add_argument("--variants", nargs="+", default=["baseline"], choices=sorted(VARIANTS))
    parser.add_argument("--output", type=Path, default=None, help="default out/calibration_ttbar")
    parser.add_argument("--name", default="calibration_ttbar_mt_dctr_diagnosis")
    parser.add_argument(
        "--checks",
        action="store_true",
        help="instead of the variants: the error checks of the calibration (the target's "
        "bootstrap against disjoint quarters of each target, the flat test on the whole "
        "scan against a window around its minimum; writes <--name>_checks.json)",
    )
    parser.add_argument(
        "--cache",
        action="store_true",
        help="keep the processed samples in <output>/samples_cache.pkl and read them from "
        "there when present (the same files and job: processing 170,000 events costs minutes)",
    )
    return parser.parse_args(argv)


def _job(args: argparse.Namespace):
    from hepnnlr.workflows.fit import load_fit_job

    output = args.output or ROOT / "out" / "calibration_ttbar"
    job = load_fit_job(
        ROOT / "examples" / "configs" / "ttbar_srgn.yaml", "srgn", output_dir=str(output)
    )
    samples = replace_given(
        job.samples, events=args.events, varied_events=args.varied_events, runs=args.runs
    )
    return replace(job, method="dctr", samples=samples)


def _variant(job, change: dict):
    training = job.training
    for key, value in change.items():
        if key == "reweighter":
            training = replace(training, reweighter=replace(training.reweighter, **value))
        else:
            training = replace(training, **{key: value})
    return replace(job, training=training)


def _window_means(g, weights=None):
    """Mean of each triplet mass of the events ``g`` (generator level, raw) over the
    selected ones inside :data:`WINDOW`."""
    import numpy as np

    w = np.ones(len(g)) if weights is None else weights
    selected = g.globals[:, g.global_features.index("selected")] > 0
    out = {}
    for k, feature in enumerate(g.global_features):
        if feature == "selected":
            continue
        x = g.globals[:, k]
        inside = selected & (x > WINDOW[0]) & (x < WINDOW[1])
        out[feature] = float(np.sum(w * x * inside) / np.sum(w * inside))
    return out


def main(argv=None) -> int:
    show_progress()
    import numpy as np

    from hepnnlr.workflows.fit_calibration import calibration_targets
    from hepnnlr.workflows.fit_inputs import Inputs
    from hepnnlr.workflows.fit_steps import dctr_step, fit_gen, train_reweighter

    args = _arguments(argv)
    load_before = load_average()
    started = time.perf_counter()
    job = _job(args)
    if args.checks:
        from ttbar_dctr_checks import error_checks

        return error_checks(args, job, load_before, started)
    name, targets = calibration_targets(job)
    samples = load_cached_samples(job, cache=args.cache)
    inputs = Inputs(samples["nominal"])
    true = np.array([point[name] for point, _, _ in targets.values()])
    top = list(targets)[-1]  # the target farthest above the nominal point
    target_means = _window_means(samples[top].gen)
    rows, summary, window_rows = [], [], []
    for label in args.variants:
        job_v = _variant(job, VARIANTS[label])
        slopes = []
        for m in range(args.seeds):
            t0 = time.perf_counter()
            rw = train_reweighter(job_v, samples, inputs, job.training_seed + m)
            fitted = []
            for key in targets:
                view = {
                    "nominal": samples["nominal"],
                    "varied": samples["varied"],
                    "target": samples[key],
                }
                fitted.append(dctr_step(job_v, view, inputs, rw).theta[name])
            slope = float(np.polyfit(true, fitted, 1)[0])
            slopes.append(slope)
            history = rw.classifier.history["val_loss"]
            rows.append(
                [
                    label,
                    job.training_seed + m,
                    *(f"{v:.2f}" for v in fitted),
                    f"{slope:.3f}",
                    f"{min(history):.4f}",
                    len(history),
                    f"{time.perf_counter() - t0:.0f}",
                ]
            )
            print(rows[-1], flush=True)
            if m == 0:
                half = len(samples["nominal"]) // 2
                raw = samples["nominal"].gen.subset(slice(half, None))
                w = rw.weights(fit_gen(samples, inputs), true[-1])
                means = _window_means(raw, w)
                window_rows.append(
                    [label]
                    + [f"{means[f]:.2f} ({means[f] - target_means[f]:+.2f})" for f in target_means]
                )
        spread = np.std(slopes, ddof=1) if len(slopes) > 1 else float("nan")
        summary.append(
            [
                label,
                len(slopes),
                f"{np.mean(slopes):.3f}",
                f"{spread:.3f}",
                f"{spread / np.sqrt(len(slopes)):.3f}",
            ]
        )
    s = job.samples
    write_result(
        RESULTS_DIR / f"{args.name}.json",
        title="tt̄ m_t at generator level (DCTR): what compresses the calibration, "
        f"{s.events:,} nominal events",
        scale=(
            f"nominal {s.events:,} events (half trains the reweighter, half is fitted), "
            f"varied {s.varied_events or s.events // 2:,} events in {s.runs} generator "
            f"runs, 5 targets of {job.calibration.events(s):,} events (seeds "
            f"{job.calibration.target_seed}..{job.calibration.target_seed + 4}); "
            f"{args.seeds} training seeds per variant, one reweighter each, no bootstrap; "
            f"{time.perf_counter() - started:.0f} s niced on the shared 2-core machine"
        ),
        tables=[
            table(
                "Slope of fitted against true m_t per variant (1 if calibrated): mean over "
                "training seeds, their spread and the error of the mean",
                ["variant", "seeds", "mean slope", "spread", "error of mean"],
                summary,
            ),
            table(
                f"Fitted m_t per target and training seed ({name} = "
                + ", ".join(f"{v:g}" for v in true)
                + " GeV); slope; best validation loss (ln 2 = 0.6931); epochs run; seconds",
                ["variant", "seed", *(f"{v:g}" for v in true), "slope", "val loss", "epochs", "s"],
                rows,
            ),
            table(
                f"Reweighted nominal (fit half) at m_t = {true[-1]:g} GeV, first seed: mean of "
                f"each triplet mass over the selected events in {WINDOW[0]:g}-{WINDOW[1]:g} "
                f"GeV (GeV; in brackets minus the target at {true[-1]:g} GeV: "
                + ", ".join(f"{f} {v:.2f}" for f, v in target_means.items())
                + ")",
                ["variant", *target_means],
                window_rows,
            ),
        ],
        load_before=load_before,
    )
    print(f"wrote {RESULTS_DIR / f'{args.name}.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
