"""Naive vs warm-started SRGN fit (SRGN paper, Eq. 5) on the same Gaussian sample.

Naive: the detector-level classifier g is trained from scratch (full schedule) at every
θ′ the optimizer visits. Warm: g starts from the previous θ′'s classifier and trains
``warm_epochs`` epochs; reweighter outputs are cached per θ′. Both fits use the same
reweighter, samples, held-out split and Powell settings.

    python benchmarks/bench_srgn.py --events 20000
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np

from hepnnlr.methods.dctr import DCTRConfig, DCTRReweighter
from hepnnlr.methods.srgn import SRGNConfig, SRGNObjective, srgn_fit
from hepnnlr.tensors import EventTensors
from hepnnlr.training import TrainingConfig


def _events(x: np.ndarray) -> EventTensors:
    return EventTensors(None, None, np.asarray(x, np.float32).reshape(-1, 1), (), ("x",))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="data and simulation events")
    parser.add_argument("--reweighter-events", type=int, default=20_000)
    parser.add_argument("--warm-epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    n = args.reweighter_events
    mu = rng.uniform(-2, 2, n)
    varied = EventTensors(None, None, rng.normal(mu, 1).astype(np.float32).reshape(-1, 1), (),
                          ("x",), theta=mu.astype(np.float32).reshape(-1, 1), theta_names=("mu",))
    rw = DCTRReweighter.train(
        _events(rng.normal(0, 1, n)), varied,
        DCTRConfig(training=TrainingConfig(epochs=40, batch_size=500, patience=6, seed=1)),
    )
    x_gen = rng.normal(0, 1, args.events)
    x_sim = x_gen + rng.normal(0, 0.5, args.events)
    data = rng.normal(1, 1, args.events) + rng.normal(0, 0.5, args.events)
    base = SRGNConfig(training=TrainingConfig(epochs=30, batch_size=1000, patience=5),
                      warm_epochs=args.warm_epochs, xtol=1e-3, ftol=1e-3, seed=args.seed)
    rows = []
    for label, config in (("naive", replace(base, naive=True)), ("warm", base)):
        objective = SRGNObjective(rw, _events(x_gen), _events(x_sim), _events(data), config)
        start = time.perf_counter()
        result = srgn_fit(objective)
        elapsed = time.perf_counter() - start
        rows.append((label, elapsed, result.theta["mu"], result.auc, result.n_evaluations))
        print(f"{label}: {elapsed:.1f} s, mu = {result.theta['mu']:.4f}", flush=True)
    print(f"\nSRGN fit of mu (truth 1.0), {args.events} data and simulation events")
    print(f"{'mode':>6} {'wall [s]':>9} {'mu fit':>8} {'AUC':>7} {'g trainings':>12}"
          f" {'s/train':>8}")
    for label, elapsed, mu_fit, auc, evals in rows:
        print(f"{label:>6} {elapsed:9.1f} {mu_fit:8.4f} {auc:7.4f} {evals:12d} "
              f"{elapsed / evals:8.2f}")
    print(f"speed-up (naive / warm): {rows[0][1] / rows[1][1]:.2f}x")


if __name__ == "__main__":
    main()
