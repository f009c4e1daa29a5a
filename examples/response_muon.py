"""Muon-momentum resolution by quantile learning (Sec. 4.2, Fig. 5 of arXiv:1910.03773).

Reference: Cheong, Cukierman, Nachman, Safdari, Schwartzman, "Parametrizing the Detector
Response with Neural Networks", arXiv:1910.03773.

y = 1 + sigma(x) z with z a standard Crystal Ball (m = 2, low tail below -beta) and sigma(x)
of Eq. 4.4; log10 x uniform between log10 7 and 2. Networks (one hidden layer of 50 PReLU
nodes, input x) learn the 16% and 84% quantiles with the GAE loss; half their difference
estimates the width of the Gaussian core.

(a) beta = 2: the learned half range against sigma(x), next to the second-moment route
    (MSE networks for E[y] and E[y^2], sigma = sqrt(E[y^2] - E[y]^2), Sec. 3.4).
(b) beta scan: the average of half-range / sigma(x) over the sample, and the sample
    standard deviation of (y - 1) / sigma(x), which the heavy tail (infinite variance for
    m = 2) drives far above 1 for small beta.

Scale: arXiv:1910.03773 trains 25 networks per quantile on its samples; the defaults here are
100,000 examples and 3 networks per quantile for (a), 40,000 examples and one network per
quantile for each beta of (b) (~10 minutes on one core of a loaded 2-core machine).

    nice -n 19 python examples/response_muon.py -o out/response_muon
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from _results import show_progress
from matplotlib.figure import Figure

from hepnnlr.errors import HepnnlrWarning
from hepnnlr.results.plots import save_figure
from hepnnlr.results.style import figure_style
from hepnnlr.samples.response_toys import MuonResolutionToy, crystal_ball_ppf
from hepnnlr.training import TrainingConfig
from hepnnlr.training.regression import train_moment_spread, train_quantile_spread


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=100_000, help="examples for panel (a)")
    p.add_argument("--members", type=int, default=3, help="networks per quantile in (a)")
    p.add_argument("--scan-events", type=int, default=40_000, help="examples per beta in (b)")
    p.add_argument("--betas", type=float, nargs="+", default=[1.0, 1.5, 2.0, 3.0, 5.0])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("-o", "--output", type=Path, default=Path("out/response_muon"))
    p.add_argument("--figures", type=Path, default=Path("docs/figures"))
    return p.parse_args()


def _config(args, seed):
    return TrainingConfig(
        epochs=args.epochs, batch_size=512, learning_rate=2e-3, patience=5, seed=seed
    )


def _exact_half_range(beta: float, m: float = 2.0) -> float:
    """Half the 16-84% range of the standard Crystal Ball, in units of sigma."""
    return float(0.5 * (crystal_ball_ppf(0.84, beta, m) - crystal_ball_ppf(0.16, beta, m)))


def main() -> None:
    show_progress()
    args = _parse()
    start = time.time()
    toy = MuonResolutionToy(beta=2.0)
    x, y = toy.sample(args.events, seed=args.seed)
    grid = np.logspace(toy.log10_x_min, toy.log10_x_max, 120)
    quantiles = train_quantile_spread(
        x, y, _config(args, args.seed), members=args.members, name="muon"
    )
    members = 0.5 * (quantiles.high.predict_members(grid) - quantiles.low.predict_members(grid))
    moments = train_moment_spread(x, y, _config(args, args.seed), members=1, name="moments")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HepnnlrWarning)
        moment_sigma = moments.sigma(grid)
    negative = int(np.isnan(moment_sigma).sum())
    print(
        f"(a) beta = 2 trained in {time.time() - start:.0f} s; second-moment route: "
        f"{negative} of {len(grid)} grid points with a negative variance"
        + (f" ({caught[0].message})" if caught else "")
    )
    sigma = toy.sigma(grid)
    ratio_nn = members.mean(axis=0) / sigma
    print(
        f"    NN half range / sigma(x): mean {ratio_nn.mean():.3f}, range "
        f"[{ratio_nn.min():.3f}, {ratio_nn.max():.3f}]; exact CB value "
        f"{_exact_half_range(2.0):.3f}; second-moment route / sigma: median "
        f"{np.nanmedian(moment_sigma / sigma):.2f}"
    )

    scan = []
    for k, beta in enumerate(args.betas):
        toy_b = MuonResolutionToy(beta=beta)
        xb, yb = toy_b.sample(args.scan_events, seed=args.seed + 10 + k)
        spread = train_quantile_spread(
            xb, yb, _config(args, args.seed + 100 * k), name=f"beta={beta}"
        )
        row = {
            "beta": beta,
            "nn_half_range_over_sigma": float(np.mean(spread.half_range(xb) / toy_b.sigma(xb))),
            "sample_std_over_sigma": float(np.std((yb - 1.0) / toy_b.sigma(xb))),
            "exact_half_range_over_sigma": _exact_half_range(beta),
        }
        scan.append(row)
        print(
            f"(b) beta = {beta:4.1f}: NN {row['nn_half_range_over_sigma']:.3f}  exact CB "
            f"{row['exact_half_range_over_sigma']:.3f}  sample std "
            f"{row['sample_std_over_sigma']:.2f}   ({time.time() - start:.0f} s)"
        )

    with figure_style("atlas"):
        fig = Figure(figsize=(14, 7))
        left, right = fig.subfigures(1, 2)
        top, bottom = left.subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1), "hspace": 0.05}
        )
        top.plot(grid, sigma, "k--", lw=1.5, label=r"$\sigma(x)$ (Eq. 4.4)")
        mean = members.mean(axis=0)
        top.fill_between(
            grid,
            members.min(axis=0),
            members.max(axis=0),
            color="tab:blue",
            alpha=0.3,
            label=f"spread of {args.members} networks",
        )
        top.plot(
            grid,
            mean,
            color="tab:blue",
            lw=2,
            label=r"$\frac{1}{2}(\nu_{q=0.84}-\nu_{q=0.16})$, GAE",
        )
        top.plot(
            grid,
            moment_sigma,
            color="tab:red",
            lw=1.5,
            label=r"$(\nu_{y^2}-\nu_y^{\,2})^{1/2}$, MSE (2nd moment)",
        )
        top.set_yscale("log")
        top.set_ylim(0.5 * sigma.min(), 3 * max(np.nanmax(moment_sigma), sigma.max()))
        top.set_ylabel(r"resolution of $y$")
        top.set_title(r"(a) $\beta = 2$, $m = 2$", loc="left", fontsize=14)
        top.legend(loc="upper left", fontsize=12)
        bottom.plot(grid, mean / sigma, color="tab:blue", lw=2)
        bottom.plot(grid, moment_sigma / sigma, color="tab:red", lw=1.5)
        bottom.axhline(_exact_half_range(2.0), color="k", ls=":", lw=1)
        bottom.axhline(1.0, color="k", lw=0.8)
        bottom.set_ylim(0.8, 1.3)
        bottom.set_ylabel(r"$/\sigma(x)$", fontsize=14)
        bottom.set_xscale("log")
        bottom.set_xlim(grid[0], grid[-1])
        bottom.set_xlabel("muon momentum $x$ [GeV]")

        ax = right.subplots()
        betas = [r["beta"] for r in scan]
        ax.plot(
            betas,
            [r["nn_half_range_over_sigma"] for r in scan],
            "o-",
            color="tab:blue",
            label="NN: mean of half 16-84% range / $\\sigma(x)$",
        )
        ax.plot(
            betas,
            [r["exact_half_range_over_sigma"] for r in scan],
            "k:",
            label="exact half 16-84% range of the Crystal Ball",
        )
        ax.plot(
            betas,
            [r["sample_std_over_sigma"] for r in scan],
            "s-",
            color="tab:red",
            label="sample std of $(y-1)/\\sigma(x)$",
        )
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"Crystal Ball $\beta$")
        ax.set_ylabel(r"measured spread / $\sigma(x)$")
        ax.set_title(f"(b) {args.scan_events} examples per $\\beta$", loc="left", fontsize=14)
        ax.legend(loc="upper right", fontsize=12)
        figure = args.figures / "response_muon.png"
        figure.parent.mkdir(parents=True, exist_ok=True)
        save_figure(fig, figure, ("png",))

    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "summary.json").write_text(
        json.dumps(
            {
                "events": args.events,
                "members": args.members,
                "scan_events": args.scan_events,
                "nn_over_sigma_beta2": {
                    "mean": float(ratio_nn.mean()),
                    "min": float(ratio_nn.min()),
                    "max": float(ratio_nn.max()),
                },
                "moment_route_negative_points": negative,
                "scan": scan,
                "seconds": time.time() - start,
            },
            indent=1,
        )
    )
    print(f"wrote {figure}; {time.time() - start:.0f} s in total")


if __name__ == "__main__":
    main()
