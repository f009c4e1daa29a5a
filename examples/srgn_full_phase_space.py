"""Full phase space (arXiv:2010.03569, Sec. III A, Fig. 4): the fit needs every feature the detector
response depends on.

Reference: Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural
Networks in the Presence of Detector Effects", arXiv:2010.03569.

Generator level, two features: primary x_G,0 ~ N(μ, 1) and secondary x_G,1 ~ N(0, ν²),
ν = (ω0 + ω1 μ)², ω0 = 0.7, ω1 = 0.2. Simulation level: x_S = x_G,0 + Z with
Z ~ N(4|x_G,1|, x_G,1⁴): the detector's shift and smearing depend on the secondary feature,
whose spread depends on μ, so p(x_S | x_G,0, μ) changes with μ.

Two DCTR reweighters w(x_G, μ) are trained on the same events (μ uniform over [0, 3],
nominal μ0 = 1): "Ω" on (x_G,0, x_G,1), the full phase space, and "primary" on x_G,0
alone. With each, the simulated sample is reweighted and SRGN fits μ at simulation level
(held-out AUC of g, bounded Powell, g refitted on one compiled network) against target
data at μ = 1.5 (the μ of Fig. 4). Eqs. 7-9: with Ω the fit is unbiased; with the primary
feature alone the reweighted simulation keeps the nominal detector response, and the fit
moves μ to mimic the data's larger shift (biased high).

Writes Fig. 4-style plots (target vs nominal reweighted with each reweighter, ratio
panels, for x_G,0, x_G,1 and x_S), the AUC vs μ′ scan of both and a JSON summary.
Measured: --events 8000 --reweighter-events 16000 --fits 2 took 33 minutes under
nice -n 19 on 2 cores shared with a load of 20-30 (a few minutes of CPU); the defaults
(3·10^4 events per class for the reweighters, 2·10^4 data and simulation events, 3 fits
per reweighter) are about 3 times that CPU (arXiv:2010.03569: 10^7 events):

    python examples/srgn_full_phase_space.py --events 8000 --reweighter-events 16000 --fits 2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import hist
import numpy as np
from _results import show_progress
from _srgn_gaussian import refit_config
from matplotlib.figure import Figure

from hepnnlr.methods.dctr import DCTRConfig, DCTRReweighter
from hepnnlr.methods.srgn import SRGNConfig, SRGNObjective, srgn_fit, srgn_scan, summarize
from hepnnlr.results.plots import plot_comparison, save_figure
from hepnnlr.results.style import experiment_label, in_default_style
from hepnnlr.samples.gaussian import full_phase_space_sample
from hepnnlr.tensors import EventTensors
from hepnnlr.training import TrainingConfig

RANGE = (0.0, 3.0)
NOMINAL = 1.0
TRUTH = 1.5
FEATURES = {"omega": ("x_G0", "x_G1"), "primary": ("x_G0",)}
LABELS = {"omega": r"DCTR$_\Omega$ (both features)", "primary": "DCTR (primary only)"}


def _events(x: np.ndarray, names: tuple[str, ...], theta: np.ndarray | None = None):
    x = np.asarray(x, np.float32).reshape(len(x), -1)[:, : len(names)]
    if theta is None:
        return EventTensors(None, None, x, (), names)
    return EventTensors(
        None, None, x, (), names, theta=theta.astype(np.float32).reshape(-1, 1), theta_names=("mu",)
    )


def _varied(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """x_G at μ drawn uniformly over RANGE, one μ per event."""
    rng = np.random.default_rng(seed)
    mu = rng.uniform(*RANGE, n)
    nu = (0.7 + 0.2 * mu) ** 2
    return np.stack([rng.normal(mu, 1.0), rng.normal(0.0, nu)], axis=1), mu


def _reweighters(n: int, seed: int) -> dict[str, DCTRReweighter]:
    x_varied, mu = _varied(n, seed)
    x_nominal, _ = full_phase_space_sample(n, NOMINAL, seed=seed + 1)
    out = {}
    for key, names in FEATURES.items():
        config = DCTRConfig(
            training=TrainingConfig(epochs=60, batch_size=1000, patience=8, seed=seed)
        )
        out[key] = DCTRReweighter.train(
            _events(x_nominal, names),
            _events(x_varied, names, mu),
            config,
            name=f"DCTR reweighter ({key})",
        )
    return out


def _srgn_config(seed: int) -> SRGNConfig:
    return refit_config(seed, xtol=1e-2, max_iterations=20)


def _objective(rw, key, sim, data, seed) -> SRGNObjective:
    x_gen, x_sim = sim
    return SRGNObjective(
        rw,
        _events(x_gen, FEATURES[key]),
        _events(x_sim, ("x_S",)),
        _events(data, ("x_S",)),
        _srgn_config(seed),
    )


def _reweighting_figures(rws, sim, target, out: Path) -> list[Path]:
    x_gen, x_sim = sim
    t_gen, t_sim = target
    weights = {k: rw.weights(_events(x_gen, FEATURES[k]), TRUTH) for k, rw in rws.items()}
    paths = []
    for label, nominal, data, edges in (
        ("x_G0", x_gen[:, 0], t_gen[:, 0], (40, -3.0, 5.5)),
        ("x_G1", x_gen[:, 1], t_gen[:, 1], (40, -4.0, 4.0)),
        ("x_S", x_sim, t_sim, (40, -3.0, 16.0)),
    ):

        def h(values, w=None, edges=edges, label=label):
            return hist.Hist.new.Reg(*edges, name=label).Weight().fill(values, weight=w)

        groups = {f"target (mu={TRUTH})": h(data), f"nominal (mu={NOMINAL})": h(nominal)}
        for key, w in weights.items():
            groups[f"nominal x {LABELS[key]}"] = h(nominal, w)
        paths += plot_comparison(
            groups,
            reference=next(iter(groups)),
            path=out / f"srgn_fps_reweight_{label}",
            xlabel={"x_G0": "$x_{G,0}$", "x_G1": "$x_{G,1}$", "x_S": "$x_S$"}[label],
            formats=("png",),
            as_points=(next(iter(groups)),),
            title="Full phase space: reweighting at generator level",
        )
    return paths


@in_default_style
def _auc_figure(grid: np.ndarray, aucs: dict, events: int, path: Path) -> Path:
    """The held-out AUC of g against mu' for each reweighter."""
    fig = Figure(figsize=(9, 6.75))  # the figure style's fonts need the room
    ax = fig.add_subplot()
    for key, auc in aucs.items():
        ax.plot(grid, auc, "o-", label=LABELS[key])
    ax.axvline(TRUTH, color="k", ls="--", label=r"true $\mu$")
    ax.set_xlabel(r"$\mu'$")
    ax.set_ylabel("AUC of g (simulation level, held out)")
    title = f"SRGN with and without the full phase space ({events} events)"
    ax.legend(title=title, fontsize="x-small", title_fontsize="x-small")
    experiment_label(ax)
    save_figure(fig, path, ("png",))
    return path


def main(argv: list[str] | None = None) -> None:
    show_progress()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="data and simulation events")
    parser.add_argument(
        "--reweighter-events",
        type=int,
        default=30_000,
        help="events per class to train each reweighter",
    )
    parser.add_argument("--fits", type=int, default=3, help="SRGN fits per reweighter (g seeds)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-figures", action="store_true")
    parser.add_argument("-o", "--output", type=Path, default=Path("srgn_fps_out"))
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    start = time.time()

    rws = _reweighters(args.reweighter_events, args.seed)
    print(f"reweighters trained [{time.time() - start:.0f} s]", flush=True)
    sim = full_phase_space_sample(args.events, NOMINAL, seed=args.seed + 2)
    target = full_phase_space_sample(args.events, TRUTH, seed=args.seed + 3)
    summary: dict = {
        "truth": TRUTH,
        "nominal": NOMINAL,
        "range": RANGE,
        "events": args.events,
        "reweighter_events": args.reweighter_events,
        "fits": {},
    }
    if not args.no_figures:
        for path in _reweighting_figures(rws, sim, target, args.output):
            print(f"figure: {path}")
        grid = np.linspace(0.5, 2.9, 9)
        for key, rw in rws.items():
            scan = srgn_scan(_objective(rw, key, sim, target[1], args.seed), {"mu": grid})
            summary.setdefault("scan", {})[key] = scan.flat_values.tolist()
        summary["scan_grid"] = grid.tolist()
        path = _auc_figure(grid, summary["scan"], args.events, args.output / "srgn_fps_auc.png")
        print(f"figure: {path}  [{time.time() - start:.0f} s]", flush=True)

    for key, rw in rws.items():
        values = []
        for k in range(args.fits):
            result = srgn_fit(_objective(rw, key, sim, target[1], args.seed + k))
            values.append(result.theta["mu"])
            print(
                f"{key:>8} fit {k}: mu = {result.theta['mu']:.4f} (AUC {result.auc:.4f}, "
                f"{result.n_evaluations} g trainings) [{time.time() - start:.0f} s]",
                flush=True,
            )
        ((mean, std),) = summarize({"mu": np.array(values)}).values()
        summary["fits"][key] = {"values": values, "mean": mean, "std": std}

    print(
        f"\nFull phase space, SRGN at simulation level, target mu = {TRUTH} "
        f"({args.events} events, {args.fits} fits per reweighter):"
    )
    for key in rws:
        fit = summary["fits"][key]
        print(f"  {LABELS[key]:<32} mu = {fit['mean']:.3f} ± {fit['std']:.3f}")
    summary["seconds"] = time.time() - start
    (args.output / "full_phase_space.json").write_text(json.dumps(summary, indent=2))
    print(f"total time {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
