"""Fig. 1 of arXiv:2009.03796: GANs of multimodal Gaussians, before and after DCTR weights.

Setup of Sec. III A of Diefenbacher, Eren, Kasieczka, Korol, Nachman, Shih, "DCTRGAN: Improving
the Precision of Generative Models with Reweighting", JINST 15 (2020) P11004, arXiv:2009.03796,
per toy:

1. the truth: the 1-D bimodal (Eq. 12), the 2-D ring of 8 Gaussians (Eq. 13) or the 2-D
   5 × 5 grid (Eq. 14) (:mod:`hepnnlr.samples.multimodal`);
2. a GAN (Eq. 1; generator 2 × 15 ReLU, discriminator 2 × 25 ReLU, latent dimension 5,
   8, 25, Adam, batch 128, 10,000 steps) trained on truth examples
   (:mod:`hepnnlr.models.gan`, :mod:`hepnnlr.training.gan`);
3. the DCTRGAN classifier (three hidden ReLU layers: 20 units each for 1-D, (64, 128, 256)
   for 2-D; BCE) between new truth examples (label 1) and GAN examples (label 0), with
   temperature scaling and weights clipped at 5 (:mod:`hepnnlr.methods.dctrgan`);
4. evaluation on new GAN and truth examples: ``<S^2>`` (Eq. 15) and ``r`` in the
   legends, the weight distribution, and for the 2-D toys the three density panels of
   Fig. 1 (truth, GAN, DCTRGAN) with ``<S^2>`` of the 2-D histograms.

arXiv:2009.03796 trains the reweighter for 100 epochs; here early stopping (patience 8) on a
validation split. Defaults: 50,000 truth examples for the GAN, 50,000 per class for the
classifier, 100,000 for the evaluation; about 5 minutes per toy on 2 busy CPU cores:

    nice -n 19 python examples/dctrgan_toys.py -o out/dctrgan_toys
    nice -n 19 python examples/dctrgan_toys.py --toys bimodal --steps 3000 -o out/quick

Figures go to ``--figures`` (``docs/figures/dctrgan_<toy>_*.png``) and the numbers to
``<out>/summary.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import hist
import numpy as np
from _results import show_progress
from matplotlib.figure import Figure

from hepnnlr.methods.dctrgan import DCTRGANConfig, DCTRGANReweighter, array_tensors
from hepnnlr.models.gan import GANSpec
from hepnnlr.models.spec import ModelSpec
from hepnnlr.results.plots import plot_comparison, save_figure
from hepnnlr.results.style import experiment_label, in_default_style
from hepnnlr.samples.multimodal import GaussianMixture, bimodal, grid, ring
from hepnnlr.training import TrainingConfig
from hepnnlr.training.gan import GANConfig, train_gan
from hepnnlr.weighted import (
    kish_effective_size,
    legend_label,
    separation_power,
    uncertainty_ratio,
)

TOYS: dict[str, tuple[GaussianMixture, int, tuple[int, ...], np.ndarray]] = {
    # truth, latent dimension, reweighter hidden layers, histogram edges per axis
    "bimodal": (bimodal(), 5, (20, 20, 20), np.linspace(-2.5, 2.5, 51)),
    "ring": (ring(), 8, (64, 128, 256), np.linspace(-1.5, 1.5, 61)),
    "grid": (grid(), 25, (64, 128, 256), np.linspace(0.5, 5.7, 53)),
}


def _hist(values: np.ndarray, edges: np.ndarray, weights: np.ndarray | None = None):
    h = hist.Hist(hist.axis.Variable(edges), storage=hist.storage.Weight())
    h.fill(values, weight=np.ones(len(values)) if weights is None else weights)
    return h


def _density_2d(x: np.ndarray, edges: np.ndarray, weights: np.ndarray | None = None):
    counts, _, _ = np.histogram2d(x[:, 0], x[:, 1], bins=[edges, edges], weights=weights)
    return counts


def _figures(
    toy: str,
    truth: np.ndarray,
    gan: np.ndarray,
    weights: np.ndarray,
    edges: np.ndarray,
    figures: Path,
    stats: dict,
) -> None:
    # 1-D projections with a ratio panel (Figs. 3-6 style legends)
    for axis in range(truth.shape[1]):
        labels = {}
        for name, w in (("GAN", None), ("DCTRGAN", weights)):
            s2 = separation_power(
                _hist(gan[:, axis], edges, w).values(), _hist(truth[:, axis], edges).values()
            )
            r = uncertainty_ratio(gan[:, axis], truth[:, axis], weights=w)
            labels[name] = legend_label(name, s2, r)
            stats[f"x{axis}"][name] = {"separation_power": s2, "uncertainty_ratio": r}
        plot_comparison(
            {
                "Truth": _hist(truth[:, axis], edges),
                labels["GAN"]: _hist(gan[:, axis], edges),
                labels["DCTRGAN"]: _hist(gan[:, axis], edges, weights),
            },
            reference="Truth",
            path=figures / f"dctrgan_{toy}_x{axis}",
            xlabel=f"$x_{axis}$",
            title=f"{toy}: GAN vs truth, before/after DCTR weights",
            formats=("png",),
        )
    # weight distribution (Fig. 2 style)
    _weights_figure(toy, weights, figures / f"dctrgan_{toy}_weights.png")
    if truth.shape[1] == 2:
        _density_figure(toy, truth, gan, weights, edges, stats, figures)


@in_default_style
def _weights_figure(toy: str, weights: np.ndarray, path: Path) -> None:
    """The distribution of the DCTRGAN weights (Fig. 2 style)."""
    fig = Figure(figsize=(9, 6))  # the figure style's fonts need the room
    ax = fig.subplots()
    ax.hist(
        weights,
        bins=np.linspace(0, max(5.0, weights.max()), 51),
        histtype="step",
        color="C2",
        linewidth=1.6,
        label=f"{toy}: mean {weights.mean():.2f}, Kish $N_{{eff}}/N$ = "
        f"{kish_effective_size(weights) / len(weights):.2f}",
    )
    ax.set_yscale("log")
    ax.set_xlabel("DCTRGAN weight $W$")
    ax.set_ylabel("GAN examples")
    ax.legend(frameon=False, fontsize="small")
    experiment_label(ax)
    save_figure(fig, path, ("png",))


@in_default_style
def _density_figure(toy, truth, gan, weights, edges, stats: dict, figures: Path) -> None:
    """Fig. 1: truth, GAN and DCTRGAN densities side by side, <S^2> in the titles."""
    fig = Figure(figsize=(20, 6.5))
    axes = fig.subplots(1, 3)
    h_truth = _density_2d(truth, edges)
    panels = (
        ("Truth", h_truth, None),
        ("GAN", _density_2d(gan, edges), None),
        ("DCTRGAN", _density_2d(gan, edges, weights), weights),
    )
    vmax = max(p[1].max() / p[1].sum() for p in panels)
    for ax, (name, h, _) in zip(axes, panels, strict=True):
        ax.pcolormesh(edges, edges, (h / h.sum()).T, vmin=0, vmax=vmax, cmap="viridis")
        title = name
        if name != "Truth":
            s2 = separation_power(h.reshape(-1), h_truth.reshape(-1))
            stats["2d"][name] = {"separation_power": s2}
            title = legend_label(name, s2)
        ax.set_title(title, fontsize="small", loc="right")
        ax.set_xlabel("$x_0$")
        ax.set_aspect("equal")
    axes[0].set_ylabel("$x_1$")
    experiment_label(axes[0])
    save_figure(fig, figures / f"dctrgan_{toy}_density.png", ("png",))


def run_toy(toy: str, args: argparse.Namespace) -> dict:
    truth_model, latent, hidden, edges = TOYS[toy]
    seed = args.seed
    names = tuple(f"x{k}" for k in range(truth_model.dim))
    start = time.time()
    gan = train_gan(
        GANSpec(latent_dim=latent),
        truth_model.sample(args.gan_events, seed=seed),
        GANConfig(steps=args.steps, batch_size=128, seed=seed),
    )
    gan_seconds = time.time() - start
    config = DCTRGANConfig(
        model=ModelSpec("mlp", hidden=hidden),
        training=TrainingConfig(epochs=100, batch_size=512, patience=8, seed=seed),
    )
    reweighter = DCTRGANReweighter.train(
        array_tensors(truth_model.sample(args.events, seed=seed + 1), names),
        array_tensors(gan.sample(args.events, seed=seed + 2), names),
        config,
        name=f"DCTRGAN {toy}",
    )
    truth = truth_model.sample(args.eval_events, seed=seed + 3)
    generated = gan.sample(args.eval_events, seed=seed + 4)
    result = reweighter.weights(array_tensors(generated, names))
    stats: dict = {f"x{k}": {} for k in range(truth_model.dim)}
    stats["2d"] = {}
    _figures(toy, truth, generated, result.weights, edges, args.figures, stats)
    stats.update(
        temperature=reweighter.temperature,
        n_clipped=result.n_clipped,
        kish_fraction=kish_effective_size(result.weights) / len(result.weights),
        epochs=len(reweighter.classifier.history["loss"]),
        gan_seconds=gan_seconds,
        seconds=time.time() - start,
    )
    print(json.dumps({toy: stats}, indent=1))
    return stats


def main(argv: list[str] | None = None) -> None:
    show_progress()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--out", type=Path, default=Path("out/dctrgan_toys"))
    parser.add_argument("--figures", type=Path, default=Path("docs/figures"))
    parser.add_argument("--toys", nargs="+", choices=sorted(TOYS), default=list(TOYS))
    parser.add_argument("--steps", type=int, default=10_000, help="GAN steps (paper: 10,000)")
    parser.add_argument("--gan-events", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=50_000, help="per classifier class")
    parser.add_argument("--eval-events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    args.figures.mkdir(parents=True, exist_ok=True)
    summary = {toy: run_toy(toy, args) for toy in args.toys}
    summary["settings"] = {k: str(v) for k, v in vars(args).items()}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
