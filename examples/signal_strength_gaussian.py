"""Reproduce Table 4.2 and §4.1 of hdl:1887/4104579 on the 2-D Gaussian toy, at CPU scale.

Reference: B. Sluijter, "Classifiers versus Normalizing Flows for uncertainty-aware
estimation of a signal ratio", MSc thesis, Leiden University 2024, hdl:1887/4104579.

Two studies:

* ``--radius R`` (2.0: large distance, 0.5: small distance): train the classifier route
  (f_sig, f_bkg; MLP 3 x 120, §3.2.1 batches) and the flow route (conditional MAF), then on
  the 3 x 3 grid of true (μ, z) of hdl:1887/4104579 make test sets of N = 9000 events, 100 bootstrap
  sets of n = 1000 each (k = 9), and report μ and z coverage, mean widths and the μ, z and
  total overlaps (Eq. 3.4) against the true likelihood, averaged over the test sets: the
  metrics of Table 4.2. Contours of the 0.5 and 2.0 levels (NLL x n/N, as figure 4.4) and
  profiles are drawn.
* ``--k-study``: coverage of the *true*-likelihood intervals from bootstrap sets as a
  function of k = N/n, and from independent toys (figure 4.1).

Scale of the committed numbers (docs/fragments/issue8.md): 20,000 training events per sample
(hdl:1887/4104579: 500,000), 15 epochs of batch 256 with cosine decay and no early stopping (~1,900
steps; hdl:1887/4104579: 30,000 iterations of 512), one model per route (hdl:1887/4104579: 30 per
learning rate), 9 test sets (hdl:1887/4104579: 45). About 15 minutes per radius at ~5 % of a shared
core; the k study about 25 minutes. The classifier ratios are divided by their mean over the
reference events at each z (``train_classifier_route``'s default, which halves the classifier's z
bias at this scale); ``--n-train 100000 --epochs 3`` trains on five times more events in the same
number of steps (docs/fragments/h2-sigstrength.md).

    TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 OMP_NUM_THREADS=1 \\
        nice -n 19 python examples/signal_strength_gaussian.py --radius 2.0 -o out/r2
    nice -n 19 python examples/signal_strength_gaussian.py --k-study -o out/k
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
from _results import show_progress

from hepnnlr.methods.signal_strength import (
    MixtureLikelihood,
    bootstrap_coverage,
    coverage_from_toys,
)
from hepnnlr.models.flows import FlowSpec
from hepnnlr.models.spec import ModelSpec
from hepnnlr.samples.gaussian_signal import GaussianSignalToy
from hepnnlr.training.config import TrainingConfig
from hepnnlr.workflows.infer import (
    CoverageConfig,
    DatasetConfig,
    GridConfig,
    InferenceJob,
    ToyConfig,
    run_inference,
)

TRUTHS_MU = (0.1, 0.2, 0.3)
TRUTHS_Z_PI = (0.15, 0.25, 0.35)


def table_study(args: argparse.Namespace) -> dict:
    """Both routes on one Gaussian case: the Table 4.2 metrics."""
    job = InferenceJob(
        output_dir=args.output,
        toy=ToyConfig(radius=args.radius, n_train=args.n_train, seed=args.seed),
        routes=("exact", "classifier", "flow"),
        classifier=ModelSpec("mlp", hidden=(64, 64, 64)),
        flow=FlowSpec(layers=3, hidden=(32, 32)),
        # cosine decay over all epochs, no early stopping: the validation BCE is flat to
        # ~1e-3 while the z dependence is still being learned, so patience stops too early
        training=TrainingConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            schedule=args.schedule,
            patience=args.patience or args.epochs,
            seed=args.seed,
        ),
        grid=GridConfig(mu=(0.0, 0.5, 101), z=(0.1, 0.4, 61), z_in_pi=True),
        dataset=DatasetConfig(mu=0.2, z=0.25, n_events=9000, seed=args.seed + 2),
        coverage=CoverageConfig(
            mu=TRUTHS_MU,
            z=TRUTHS_Z_PI,
            test_sets=args.test_sets,
            n_events=9000,
            bootstrap_sets=100,
            bootstrap_size=1000,
            independent_toys=0,
            seed=args.seed + 4,
        ),
    )
    outputs = run_inference(job)
    tag = "r2" if args.radius == 2.0 else "r05" if args.radius == 0.5 else f"r{args.radius:g}"
    if args.figures is not None:
        args.figures.mkdir(parents=True, exist_ok=True)
        for path in outputs.plots:
            shutil.copy(path, args.figures / f"signal_strength_{tag}_{path.name}")
    return outputs.summary


def k_study(args: argparse.Namespace) -> dict:
    """True-likelihood coverage vs k = N/n (bootstrap) and from independent toys (§4.1)."""
    mu_grid = np.linspace(0.0, 0.5, 101)
    z_grid = np.linspace(0.1, 0.4, 81) * np.pi
    results = {}
    for radius in (2.0, 0.5):
        toy = GaussianSignalToy(radius)
        like = MixtureLikelihood.exact_gaussian(toy)
        rng = np.random.default_rng(args.seed)
        truths = [(m, z * np.pi) for z in TRUTHS_Z_PI for m in TRUTHS_MU]
        entry: dict = {"bootstrap": {}, "independent": {}}
        for k in args.k_values:
            covered = {"mu": [], "z": []}
            for mu, z in truths:
                data, _ = toy.mixture(mu, z, int(k * args.set_size), rng)
                cov = bootstrap_coverage(
                    like,
                    data,
                    {"mu": mu, "z": z},
                    mu_grid,
                    z_grid,
                    n_sets=100,
                    set_size=args.set_size,
                    rng=rng,
                )
                for p in covered:
                    covered[p].extend(cov[p].covered.tolist())
            entry["bootstrap"][str(k)] = {p: float(np.mean(v)) for p, v in covered.items()}
            print(f"r={radius} k={k}: {entry['bootstrap'][str(k)]}", flush=True)
        covered = {"mu": [], "z": []}
        for mu, z in truths:
            cov = coverage_from_toys(
                like,
                lambda r, mu=mu, z=z, toy=toy: toy.mixture(
                    mu, z, args.set_size, r, fixed_counts=False
                )[0],
                {"mu": mu, "z": z},
                mu_grid,
                z_grid,
                n_toys=args.toys,
                rng=rng,
            )
            for p in covered:
                covered[p].extend(cov[p].covered.tolist())
        n = len(covered["mu"])
        entry["independent"] = {p: float(np.mean(v)) for p, v in covered.items()}
        entry["independent"]["n"] = n
        entry["independent"]["binomial_error"] = float(np.sqrt(0.6827 * 0.3173 / n))
        print(f"r={radius} independent: {entry['independent']}", flush=True)
        results[str(radius)] = entry
    return results


def main() -> None:
    show_progress()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    parser.add_argument("--radius", type=float, default=2.0, help="2.0 or 0.5")
    parser.add_argument("--k-study", action="store_true", help="run the §4.1 k study instead")
    parser.add_argument("--n-train", type=int, default=20_000, help="events per training sample")
    parser.add_argument("--epochs", type=int, default=15, help="maximum epochs per model")
    parser.add_argument("--schedule", default="cosine", help="learning-rate schedule")
    parser.add_argument(
        "--patience",
        type=int,
        default=0,
        help="early-stopping patience (0: none, train all epochs)",
    )
    parser.add_argument("--learning-rate", type=float, default=2e-3, help="Adam learning rate")
    parser.add_argument("--batch-size", type=int, default=256, help="events per step")
    parser.add_argument("--test-sets", type=int, default=1, help="test sets per true (mu, z)")
    parser.add_argument("--k-values", type=float, nargs="+", default=[1, 3, 9])
    parser.add_argument("--set-size", type=int, default=1000, help="bootstrap/toy size n")
    parser.add_argument("--toys", type=int, default=30, help="independent toys per (mu, z)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--figures", type=Path, default=None, help="copy the figures here (docs/figures)"
    )
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = k_study(args) if args.k_study else table_study(args)
    name = "k_study.json" if args.k_study else "table_4_2.json"
    (args.output / name).write_text(json.dumps(result, indent=2, default=float))
    print(f"done in {time.perf_counter() - started:.0f} s -> {args.output / name}")
    if not args.k_study:
        print(json.dumps(result["coverage"]["mean"], indent=2))


if __name__ == "__main__":
    main()
