"""Naive vs compiled-once ("refit") SRGN fits (arXiv:2010.03569, Eq. 5) on the same Gaussian sample.

Reference: Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural
Networks in the Presence of Detector Effects", arXiv:2010.03569.

Naive: at every θ′ the optimizer visits, a new detector-level classifier g is built,
compiled and trained from scratch with the full schedule (``SRGNConfig(naive=True)``).
Refit: the same trainings, from the same initial weights with the same schedule and early
stopping, on one network compiled and traced once (``strategy="refit"``,
:class:`hepnnlr.training.refit.Refitter`). Warm (optional, ``--warm``): g continues from the
previous θ′ for ``warm_epochs`` epochs.

Every mode fits the same reweighter, samples and Powell settings; ``--repeats`` runs the
pair with different held-out splits and g seeds (``SRGNConfig.seed``), so the fitted values
of the modes can be compared with their spread. One run prints the wall times side by side.

    python benchmarks/bench_srgn.py --events 10000 --repeats 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from _timing import finish, load_average  # benchmarks/_timing.py

from hepnnlr.methods.dctr import DCTRConfig, DCTRReweighter
from hepnnlr.methods.srgn import SRGNConfig, SRGNObjective, srgn_fit
from hepnnlr.tensors import EventTensors
from hepnnlr.training import TrainingConfig


def _events(x: np.ndarray) -> EventTensors:
    return EventTensors(None, None, np.asarray(x, np.float32).reshape(-1, 1), (), ("x",))


def main(argv: list[str] | None = None) -> dict[str, float]:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000, help="data and simulation events")
    parser.add_argument("--reweighter-events", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3, help="fits per mode (g seeds)")
    parser.add_argument("--warm", action="store_true", help="also time the warm-start mode")
    parser.add_argument("--warm-epochs", type=int, default=2)
    parser.add_argument(
        "--xtol",
        type=float,
        default=1e-2,
        help="Powell's xtol and ftol (1e-2 in mu: below the statistical error)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--reweighter-epochs", type=int, default=40, help="epochs of the DCTR reweighter"
    )
    parser.add_argument("--epochs", type=int, default=30, help="epochs of every g training")
    parser.add_argument(
        "--max-iterations", type=int, default=100, help="Powell iterations (SRGNConfig)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    load_before = load_average()

    rng = np.random.default_rng(args.seed)
    n = args.reweighter_events
    mu = rng.uniform(-2, 2, n)
    varied = EventTensors(
        None,
        None,
        rng.normal(mu, 1).astype(np.float32).reshape(-1, 1),
        (),
        ("x",),
        theta=mu.astype(np.float32).reshape(-1, 1),
        theta_names=("mu",),
    )
    rw = DCTRReweighter.train(
        _events(rng.normal(0, 1, n)),
        varied,
        DCTRConfig(
            training=TrainingConfig(
                epochs=args.reweighter_epochs, batch_size=500, patience=6, seed=1
            )
        ),
    )
    x_gen = rng.normal(0, 1, args.events)
    x_sim = x_gen + rng.normal(0, 0.5, args.events)
    data = rng.normal(1, 1, args.events) + rng.normal(0, 0.5, args.events)
    modes = ["naive", "refit"] + (["warm"] if args.warm else [])
    rows: dict[str, list[tuple[float, float, float, int]]] = {m: [] for m in modes}
    for repeat in range(args.repeats):
        for mode in modes:
            config = SRGNConfig(
                training=TrainingConfig(epochs=args.epochs, batch_size=1000, patience=5),
                strategy=mode,
                warm_epochs=args.warm_epochs,
                xtol=args.xtol,
                ftol=args.xtol,
                max_iterations=args.max_iterations,
                seed=args.seed + repeat,
            )
            objective = SRGNObjective(rw, _events(x_gen), _events(x_sim), _events(data), config)
            start = time.perf_counter()
            result = srgn_fit(objective)
            elapsed = time.perf_counter() - start
            rows[mode].append((elapsed, result.theta["mu"], result.auc, result.n_evaluations))
            print(
                f"repeat {repeat} {mode:>5}: {elapsed:6.1f} s, mu = {result.theta['mu']:.4f}, "
                f"{result.n_evaluations} g trainings",
                flush=True,
            )
    print(
        f"\nSRGN fit of mu (truth 1.0), {args.events} data and simulation events, "
        f"{args.repeats} repeat(s) per mode"
    )
    print(
        f"{'mode':>6} {'wall [s] per fit':>17} {'mu fit (mean ± std)':>21} {'g trainings':>12}"
        f" {'s/train':>8}"
    )
    for mode, values in rows.items():
        wall, mus, _, evals = (np.array(v) for v in zip(*values, strict=True))
        std = mus.std(ddof=1) if len(mus) > 1 else 0.0
        print(
            f"{mode:>6} {wall.mean():17.1f} {mus.mean():12.4f} ± {std:.4f} "
            f"{evals.mean():12.1f} {wall.sum() / evals.sum():8.2f}"
        )
        print(f"{'':>6} fitted values: {', '.join(f'{m:.4f}' for m in mus)}")
    naive = sum(r[0] for r in rows["naive"])
    results: dict[str, float] = {}
    for mode, values in rows.items():
        results[f"{mode}_wall_s"] = sum(v[0] for v in values)
        results[f"{mode}_g_trainings"] = float(sum(v[3] for v in values))
        results[f"{mode}_mu_mean"] = float(np.mean([v[1] for v in values]))
    for mode in modes[1:]:
        speedup = naive / sum(r[0] for r in rows[mode])
        results[f"speedup_naive_over_{mode}"] = speedup
        print(f"speed-up (naive / {mode}): {speedup:.2f}x")
    return finish(__file__, args, argv, load_before, results)


if __name__ == "__main__":
    main()
