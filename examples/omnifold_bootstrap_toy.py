"""Is the statistical error of ``hepnnlr unfold`` honest? Bootstrap vs independent data.

The 1-D Gaussian toy of ``tests/methods/test_omnifold_ensembles.py`` at a larger scale:
truth z ~ N(0, 1) in the simulation and N(0.3, 1) in the data, detector x = z + N(0, 0.5²),
full acceptance, a one-iteration MLP OmniFold (A. Andreassen, P. T. Komiske,
E. M. Metodiev, B. Nachman, J. Thaler, "OmniFold: A Method to Simultaneously Unfold All
Observables", arXiv:1911.09107). The statistical error from Poisson(1) bootstrap replicas
of one data sample (:func:`hepnnlr.methods.bootstrap_omnifold`, every classifier retrained;
what ``hepnnlr unfold --bootstrap B`` quotes) is compared with the spread over independent
data samples of Poisson(N) events, all unfolded with the same network seed; the method
error (runs with other training seeds on the same data) is shown beside them. Writes
``docs/results/omnifold_bootstrap_toy.json``.

Usage::

    nice -n 10 python examples/omnifold_bootstrap_toy.py            # ~5 min on 2 cores
    python examples/omnifold_bootstrap_toy.py --samples 4 --json /tmp/o.json
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

import numpy as np
from _results import RESULTS_DIR, load_average, print_result, show_progress, table, write_result

from hepnnlr.methods import OmniFoldConfig, omnifold
from hepnnlr.methods.omnifold_ensembles import bootstrap_omnifold, parallel_omnifold
from hepnnlr.models import ModelSpec
from hepnnlr.tensors import EventTensors
from hepnnlr.training import TrainingConfig

N_SIM, N_DATA = 3000, 1000
CONFIG = OmniFoldConfig(
    iterations=1,
    step1_model=ModelSpec("mlp", hidden=(8,)),
    step2_model=ModelSpec("mlp", hidden=(8,)),
    training=TrainingConfig(
        epochs=2, batch_size=500, learning_rate=5e-3, patience=3, seed=1, progress=False
    ),
)
EDGES = np.linspace(-3.0, 3.0, 13)
BINS = ((-1.0, -0.5), (0.0, 0.5), (1.0, 1.5))


def _events(v: np.ndarray) -> EventTensors:
    return EventTensors(None, None, v[:, None].astype(np.float32), (), ("v",))


def _level(rng, n, mu):
    z = rng.normal(mu, 1.0, n)
    return z, z + rng.normal(0.0, 0.5, n)


def _quantities(z_sim: np.ndarray, weights: np.ndarray) -> list[float]:
    """The unfolded mean of z and the unfolded contents of :data:`BINS`."""
    contents = np.histogram(z_sim, EDGES, weights=weights)[0]
    picked = [contents[np.searchsorted(EDGES, low)] for low, _ in BINS]
    return [float(np.average(z_sim, weights=weights)), *map(float, picked)]


def main(argv: list[str] | None = None) -> None:
    show_progress()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--samples", type=int, default=30, help="bootstrap replicas, and independent data samples"
    )
    parser.add_argument("--repeats", type=int, default=5, help="runs with other seeds")
    parser.add_argument(
        "--epochs", type=int, default=20, help="maximum epochs per step (the test: 2)"
    )
    parser.add_argument("--json", default=RESULTS_DIR / "omnifold_bootstrap_toy.json")
    args = parser.parse_args(argv)
    config = replace(CONFIG, training=replace(CONFIG.training, epochs=args.epochs))
    load_before, started = load_average(), time.perf_counter()
    rng = np.random.default_rng(20)
    z_sim, x_sim = _level(rng, N_SIM, 0.0)
    reco, gen = _events(x_sim), _events(z_sim)
    flags = {"pass_reco": np.ones(N_SIM, bool), "pass_gen": np.ones(N_SIM, bool)}
    data_rng = np.random.default_rng(21)
    _, data_x = _level(data_rng, N_DATA, 0.3)
    runs = parallel_omnifold(_events(data_x), reco, gen, runs=args.repeats, config=config, **flags)
    replicas = bootstrap_omnifold(
        _events(data_x), reco, gen, replicas=args.samples, seed=4, config=config, **flags
    )
    independent = [
        omnifold(
            _events(_level(data_rng, data_rng.poisson(N_DATA), 0.3)[1]),
            reco,
            gen,
            config=config,
            **flags,
        ).weights
        for _ in range(args.samples)
    ]
    central = np.array(_quantities(z_sim, runs.members[0].weights))
    boot = np.array([_quantities(z_sim, w) for w in replicas.member_weights()]) - central
    indep = np.array([_quantities(z_sim, w) for w in independent])
    method = np.array([_quantities(z_sim, w) for w in runs.member_weights()])
    names = ["unfolded mean", *[f"bin [{lo:g}, {hi:g})" for lo, hi in BINS]]
    # relative error of a standard deviation from n draws: 1/sqrt(2 (n - 1))
    rel = np.sqrt(2.0) / np.sqrt(2 * (args.samples - 1))
    rows = []
    for k, name in enumerate(names):
        s_boot, s_indep = boot[:, k].std(ddof=1), indep[:, k].std(ddof=1)
        ratio = s_boot / s_indep
        rows.append(
            [
                name,
                f"{central[k]:.4g}",
                f"{s_boot:.4g}",
                f"{s_indep:.4g}",
                f"{ratio:.2f} ± {ratio * rel:.2f}",
                f"{method[:, k].std(ddof=1):.4g}",
            ]
        )
    path = write_result(
        args.json,
        title="OmniFold: bootstrap statistical error vs the spread over independent data",
        scale=(
            f"1-D Gaussian toy, {N_SIM:,} simulated events, {N_DATA:,} data events "
            f"(independent samples: Poisson({N_DATA:,})); one-iteration MLP OmniFold "
            f"(8 hidden units, at most {args.epochs} epochs, patience 3); "
            f"{args.samples} bootstrap replicas, {args.samples} independent samples, "
            f"{args.repeats} runs"
        ),
        tables=[
            table(
                "stat (bootstrap of one data sample) against the spread over independent data "
                "samples, same network seed; method: spread of runs with other training seeds "
                "on the same data",
                [
                    "quantity",
                    "value",
                    "stat (bootstrap)",
                    "spread, independent data",
                    "ratio",
                    "method (runs)",
                ],
                rows,
            )
        ],
        load_before=load_before,
        notes=[
            f"ratio error: the two standard deviations each known to "
            f"1/sqrt(2 (n - 1)) with n = {args.samples}; "
            f"{time.perf_counter() - started:.0f} s wall"
        ],
        script="examples/omnifold_bootstrap_toy.py",
        argv=sys.argv[1:] if argv is None else argv,
    )
    print_result(path, rows)


if __name__ == "__main__":
    main()
