"""The bootstrap statistical error of the Gaussian DCTR fit against its exact error (issue 15).

The job of ``tests/workflows/test_fit.py`` (A. Andreassen, S.-C. Hsu, B. Nachman,
N. Suaysom, A. Suresh, "Parameter estimation using neural networks in the presence of
detector effects", arXiv:2010.03569, Sec. III A): x ~ N(μ, 1), the DCTR fit of μ from
4,000 target events at μ = 0.5, a reweighter trained on 12,000 nominal and 96,000 varied
events. ``hepnnlr fit dctr`` quotes σ_stat from Poisson(1) bootstrap replicas of the
target; the exact error of the estimator (with the optimal classifier, the nominal sample
fixed) is the sandwich error of the M-estimator (docs/fits.md,
:mod:`hepnnlr.methods.dctr_exact`):

    σ² = Var_target[(1 − f)(x − μ)] / (N J²),
    J = E_target[f(1 − f)(x − μ)²] + E_nominal[f(1 − f)(x − μ)²],  f = sigmoid(μx − μ²/2).

The script runs the job once with 400 replicas (the test's job) and then on independent
targets (``samples.seeds.target``; the simulation and the reweighter stay the same),
whose spread of μ̂ is the error the bootstrap estimates, and writes
``docs/results/dctr_bootstrap_gaussian.json``.

Usage::

    nice -n 10 python examples/dctr_bootstrap_gaussian.py   # ~10 min at load 10 on 2 cores
    python examples/dctr_bootstrap_gaussian.py --targets 0 --replicas 100 --json /tmp/d.json
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _results import RESULTS_DIR, load_average, show_progress, table, write_result

from hepnnlr.methods.dctr_exact import dctr_gaussian_mean_error
from hepnnlr.workflows import load_fit_job, run_fit

MU, N_TARGET = 0.5, 4000
JOB = """
output_dir: out
samples:
  generator: gaussian
  parameters: {{mu: [-2.0, 2.0]}}
  target: {{mu: {mu}}}
  events: 12000
  target_events: {n}
  varied_events: 96000
  seed: 3
  seeds: {{target: {target_seed}}}
training:
  reweighter: {{epochs: 60, batch_size: 1000, patience: 8, ema: true}}
  nominal_draws: 4
fit: {{method: powell, grid_points: 9}}
uncertainty: {{repeats: 1, bootstrap: {replicas}}}
"""
"""The job of tests/workflows/test_fit.py; its default target seed is seed + 1 = 4."""


def fit(folder: Path, target_seed: int, replicas: int):
    """Run the job with this target seed; the fitted ``mu`` with its errors."""
    path = folder / f"job_{target_seed}.yaml"
    path.write_text(JOB.format(mu=MU, n=N_TARGET, target_seed=target_seed, replicas=replicas))
    job = load_fit_job(path, "dctr", output_dir=folder / f"out_{target_seed}")
    return run_fit(job).errors["mu"]


def main(argv: list[str] | None = None) -> int:
    show_progress()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--replicas",
        type=int,
        default=400,
        help="bootstrap replicas of the first (the test's) target",
    )
    parser.add_argument(
        "--targets",
        type=int,
        default=20,
        help="independent targets for the spread of the fitted value",
    )
    parser.add_argument(
        "--target-replicas",
        type=int,
        default=100,
        help="bootstrap replicas of each independent target",
    )
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "dctr_bootstrap_gaussian.json")
    args = parser.parse_args(argv)
    load_before = load_average()
    exact = dctr_gaussian_mean_error(MU, N_TARGET)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dctr-bootstrap-") as scratch:
        folder = Path(scratch)
        main_fit = fit(folder, 4, args.replicas)
        others = [fit(folder, 100 + k, args.target_replicas) for k in range(args.targets)]
    elapsed = time.perf_counter() - started

    # 400 replicas estimate a standard deviation to 1/sqrt(2 x 400) = 3.5 %
    rows = [
        [
            "test's target (seed 4)",
            f"{main_fit.value:.4f}",
            f"{main_fit.stat:.5f}",
            f"± {main_fit.stat / np.sqrt(2 * args.replicas):.5f}",
            f"{exact:.5f}",
            f"{main_fit.stat / exact:.3f}",
            "yes" if abs(main_fit.stat / exact - 1) < 0.2 else "**no**",
        ]
    ]
    tables = [
        table(
            f"σ_stat of the fitted μ from {args.replicas} Poisson(1) replicas of the target vs "
            f"the exact (sandwich) error; the test requires the ratio within 20 %",
            [
                "target",
                "μ̂ (truth 0.5)",
                "σ_stat (bootstrap)",
                "its error",
                "exact σ",
                "ratio",
                "within 20 %",
            ],
            rows,
        )
    ]
    notes = [f"{1 + args.targets} fits in {elapsed / 60:.1f} min wall."]
    if args.targets >= 2:
        values = np.array([o.value for o in others])
        spread = float(values.std(ddof=1))
        spread_error = spread / np.sqrt(2 * (args.targets - 1))
        stats = np.array([o.stat for o in others])
        tables.append(
            table(
                f"{args.targets} independent targets (samples.seeds.target = 100…"
                f"{99 + args.targets}; simulation and reweighter unchanged), "
                f"{args.target_replicas} replicas each",
                ["quantity", "value"],
                [
                    ["spread (std) of μ̂ over the targets", f"{spread:.4f} ± {spread_error:.4f}"],
                    ["mean σ_stat (bootstrap)", f"{stats.mean():.4f}"],
                    ["exact σ", f"{exact:.4f}"],
                    [
                        "mean μ̂ − 0.5",
                        f"{values.mean() - MU:+.4f} ± {spread / np.sqrt(args.targets):.4f}",
                    ],
                ],
            )
        )
        notes.append(
            "The spread over independent targets is the error the bootstrap estimates; the "
            f"spread of {args.targets} values is known to ±{100 * spread_error / spread:.0f} %: "
            f"it lies {(spread - exact) / spread_error:+.1f} of its errors from the exact σ "
            f"and {(spread - stats.mean()) / spread_error:+.1f} from the mean σ_stat."
        )
    path = write_result(
        args.json,
        title="Bootstrap statistical error of the Gaussian DCTR fit vs the exact error",
        scale=(
            f"12,000 nominal and 96,000 varied events (reweighter: 60 epochs, EMA, 4 nominal "
            f"draws), {N_TARGET:,} target events at μ = {MU}, one repeat; {args.replicas} "
            f"replicas of the test's target, {args.targets} independent targets"
        ),
        tables=tables,
        load_before=load_before,
        notes=notes,
        script="examples/dctr_bootstrap_gaussian.py",
        argv=sys.argv[1:] if argv is None else argv,
    )
    print(f"[dctr_bootstrap_gaussian] wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
