"""Is the statistical error of ``hepnnlr infer`` honest? Bootstrap vs independent datasets.

The Gaussian signal-strength toy (radius 2) with its true likelihood (the ``exact`` route of
``hepnnlr infer``; §3.1.1 of B. Sluijter, "Classifiers versus Normalizing Flows for
uncertainty-aware estimation of a signal ratio", MSc thesis, Leiden University 2024,
hdl:1887/4104579): the fitted numbers μ̂ and ẑ of
datasets of ``N`` events at μ = 0.2, z = 0.25π. Three estimates of their statistical
error: the spread of the Poisson(1) bootstrap replicas of one dataset (what
``hepnnlr infer --bootstrap B`` quotes, :func:`hepnnlr.workflows.infer_errors.route_errors`),
the half-width of the 68.27 % Wilks interval, and the spread over independent datasets of
Poisson(N) events (the truth the two estimate). Writes
``docs/results/infer_bootstrap_gaussian.json``.

Usage::

    nice -n 10 python examples/infer_bootstrap_gaussian.py          # ~2 min on 2 cores
    python examples/infer_bootstrap_gaussian.py --datasets 10 --json /tmp/i.json
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _results import RESULTS_DIR, load_average, print_result, show_progress, table, write_result

from hepnnlr.methods.signal_strength import MixtureLikelihood
from hepnnlr.samples.gaussian_signal import GaussianSignalToy
from hepnnlr.workflows.infer_errors import route_errors

MU, Z, N = 0.2, 0.25 * np.pi, 3000


def main(argv: list[str] | None = None) -> None:
    show_progress()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=200, help="independent datasets")
    parser.add_argument("--replicas", type=int, default=200, help="bootstrap replicas")
    parser.add_argument(
        "--bootstrapped",
        type=int,
        default=5,
        help="datasets whose replicas are drawn (the mean stat is quoted)",
    )
    parser.add_argument("--json", default=RESULTS_DIR / "infer_bootstrap_gaussian.json")
    args = parser.parse_args(argv)
    load_before, started = load_average(), time.perf_counter()
    toy = GaussianSignalToy(2.0)
    exact = MixtureLikelihood.exact_gaussian(toy)
    mu_grid = np.linspace(0.0, 0.5, 51)
    z_grid = np.linspace(0.1, 0.4, 31) * np.pi
    rng = np.random.default_rng(11)
    fitted, stat, half = {"mu": [], "z": []}, {"mu": [], "z": []}, {"mu": [], "z": []}
    for d in range(args.datasets):
        data, _ = toy.mixture(MU, Z, int(rng.poisson(N)), rng, fixed_counts=False)
        replicas = args.replicas if d < args.bootstrapped else 0
        errors, _ = route_errors([exact], data, mu_grid, z_grid, bootstrap=replicas, seed=d)
        for p in ("mu", "z"):
            fitted[p].append(errors[p].value)
            half[p].append(0.5 * (errors[f"{p}_high"].value - errors[f"{p}_low"].value))
            if replicas:
                stat[p].append(errors[p].stat)
    rows = []
    for p, unit, name in (("mu", 1.0, "μ"), ("z", np.pi, "z / π")):
        spread = np.std(fitted[p], ddof=1) / unit
        known = spread / np.sqrt(2 * (args.datasets - 1))
        boot = np.mean(stat[p]) / unit
        wilks = np.mean(half[p]) / unit
        rows.append(
            [
                name,
                f"{np.mean(fitted[p]) / unit:.4f}",
                f"{spread:.5f} ± {known:.5f}",
                f"{boot:.5f}",
                f"{boot / spread:.3f}",
                f"{wilks:.5f}",
                f"{wilks / spread:.3f}",
            ]
        )
    path = write_result(
        args.json,
        title="hepnnlr infer: bootstrap statistical error vs independent datasets (exact route)",
        scale=(
            f"Gaussian toy (radius 2), datasets of Poisson({N:,}) events at μ = {MU}, "
            f"z = 0.25π; {args.datasets} independent datasets; {args.replicas} Poisson(1) "
            f"replicas of each of the first {args.bootstrapped}; grid 51 × 31"
        ),
        tables=[
            table(
                "the fitted value's spread over independent datasets against the bootstrap "
                "(mean over the bootstrapped datasets) and the Wilks 68.27 % half-width (mean)",
                [
                    "parameter",
                    "mean fitted",
                    "spread, independent",
                    "stat (bootstrap)",
                    "ratio",
                    "Wilks half-width",
                    "ratio",
                ],
                rows,
            )
        ],
        load_before=load_before,
        notes=[
            f"the spread's error: spread / sqrt(2 (n - 1)), n = {args.datasets}; "
            f"{time.perf_counter() - started:.0f} s wall"
        ],
        script="examples/infer_bootstrap_gaussian.py",
        argv=sys.argv[1:] if argv is None else argv,
    )
    print_result(path, rows)


if __name__ == "__main__":
    main()
