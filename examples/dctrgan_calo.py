"""Sec. III B of arXiv:2009.03796 on our parametric calorimeter showers.

Diefenbacher, Eren, Kasieczka, Korol, Nachman, Shih, "DCTRGAN: Improving the Precision of
Generative Models with Reweighting", JINST 15 (2020) P11004, arXiv:2009.03796, reweight
BIB-AE/GAN showers of 50 GeV photons towards Geant4 in a 30 × 30 × 30 Si-W calorimeter. Here:

* **Reference ("Geant4")**: the parametric showers of :mod:`hepnnlr.samples.calo`
  (``ShowerConfig()``), written to ROOT by ``make_calo_sample`` and read back through
  the coffea processor ``hepnnlr.processors.calo.CaloProcessor`` (the 33 high-level
  features: ``n_hits``, ``centroid``, ``E_total``, ``E_layer_1..30``). Two files: one to
  train on (seed 1), one to evaluate on (seed 2).
* **Surrogate (the GAN)**: a GAN (:mod:`hepnnlr.models.gan`, uniform latent noise as the
  BIB-AE of arXiv:2009.03796) trained on the reference's *high-level* description of each shower:
  the number of activated cells and the 30 layer energies (``log(1 + E)``). The other
  two features follow from them as in the observables (``E_total`` = Σ layers, centroid =
  Σ k E_k / Σ E_k), so each generated "shower" is self-consistent. It generates feature
  vectors, not images: a 27,000-cell image generator does not train on a shared CPU.
* **High-level DCTRGAN** (the MLP of arXiv:2009.03796: 2 × 128 ReLU, Adam, batch 128, up to 50
  epochs here with early stopping), temperature scaling and clipping at 5, applied to *new* GAN
  showers; ``<S^2>`` (Eq. 15) and ``r`` per feature before and after.
* **Low-level DCTRGAN** (``--low-level``): images need an image generator, so the
  low-level study reweights a *deliberately mis-tuned fast simulation* instead of the GAN:
  the same parametric model with ``FAST_SIM`` settings (earlier conversion, larger
  profile fluctuations, fewer spots), also written to ROOT and processed like the
  reference. The high-level MLP is trained on the 33 features of 20,000 reference and
  20,000 fast-sim showers; the 3-D CNN (:mod:`hepnnlr.models.conv3d`: x/y flips, three
  3-D convolutions with (8, 16, 16) filters instead of the 128 of arXiv:2009.03796, dense 64; 4
  epochs, arXiv:2009.03796 trains 1) on the images of 3,000 of each. Weights are compared on new
  fast-sim showers (the low-level ones on the first 3,000, next to the same 3,000 unweighted),
  including the per-layer widths that neither network sees as features (Fig. 6), and
  against each other (Fig. 2).

* **Image surrogate** (``--surrogate image-gan``): a generator of *images* that DCTR can
  refine (:mod:`hepnnlr.methods.calo_surrogate`): a GAN (latent 8, 2 × 64 units, 4,000
  steps of 256, Adam 1e-3) learns a
  six-number description of each reference shower measured from its cells (visible
  energy, shifted-Gamma longitudinal profile t0/α/β fitted by moments, impact point), and
  a calibrated renderer (:mod:`hepnnlr.samples.calo_surrogate`) turns generated
  descriptions into 30 × 30 × 30 cells (GP spot sampling, cell noise, 0.1 MeV threshold).
  The generated showers are written to ROOT (``imagegan_{train,eval}.root``), read through
  the ``CaloProcessor`` and reweighted by both the high-level MLP and the low-level 3-D CNN
  exactly as the fast simulation (same sizes), with figures ``dctrgan_calo_imagegan_*``
  (~13 min at a load of ~15 on the 2 shared cores, with the reference files already
  made).

``r`` is quoted for equal sample sizes, as in arXiv:2009.03796 (see ``_compare``).

Scale (defaults; at a load of ~25 on 2 CPU cores: GAN study 13–21 min, most of it GAN
training, low-level study ~15 min, plus ~5 min to generate and process the 4 × 20,000
showers once; the ROOT files are reused, so run the two studies separately):
20,000 reference showers per file (arXiv:2009.03796: 177k Geant4 / 500k GAN), 20,000 GAN showers
for training and 20,000 for evaluation, GAN 2 × 256 units, 15,000 steps of 256; low
level: 3,000 showers per class to train the CNN and 3,000 to evaluate (27,000 float32
cells each).

    nice -n 19 python examples/dctrgan_calo.py -o out/dctrgan_calo
    nice -n 19 python examples/dctrgan_calo.py --no-gan --low-level -o out/dctrgan_calo
    nice -n 19 python examples/dctrgan_calo.py --surrogate image-gan -o out/dctrgan_calo

Figures go to ``--figures`` (``dctrgan_calo_*.png``), numbers to
``<out>/summary_gan.json``, ``<out>/summary_fastsim.json`` and
``<out>/summary_imagegan.json``; the ROOT files in ``<out>``
are reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import awkward as ak
import numpy as np
from _results import show_progress
from matplotlib.figure import Figure

from hepnnlr.methods.calo_surrogate import train_calo_surrogate
from hepnnlr.methods.dctrgan import (
    DCTRGANConfig,
    DCTRGANReweighter,
    feature_tensors,
    image_tensors,
)
from hepnnlr.models.conv3d import Conv3DSpec
from hepnnlr.models.gan import GANSpec
from hepnnlr.models.spec import ModelSpec
from hepnnlr.observables.calo import DCTR_FEATURES, N_LAYERS
from hepnnlr.observables.calo_histos import CALO_HISTOGRAMS, calo_observable_values
from hepnnlr.processors.calo import CaloProcessor, collect_columns
from hepnnlr.results.plots import save_figure
from hepnnlr.results.style import experiment_label, in_default_style
from hepnnlr.samples.calo import (
    ShowerConfig,
    check_calo_file,
    hits_to_images,
    make_calo_sample,
    read_calo_events,
)
from hepnnlr.schema import run_processor
from hepnnlr.training import TrainingConfig
from hepnnlr.training.gan import GANConfig, train_gan
from hepnnlr.weighted import (
    histogram_separation_power,
    kish_effective_size,
    legend_label,
    uncertainty_ratio,
    weighted_auc,
)

LAYERS = tuple(f"E_layer_{k}" for k in range(1, N_LAYERS + 1))
FAST_SIM = ShowerConfig(conversion_x0=0.8, profile_fluctuations=1.4, spots_per_gev=72.0)
"""The low-level study's mis-tuned generator: showers start earlier (mean conversion depth
0.8 X0 instead of 9/7), fluctuate more from shower to shower, and light up fewer cells."""
THRESHOLD_MEV = ShowerConfig().threshold_mev
PANELS = (
    "n_hits",
    "E_total",
    "centroid",
    "E_layer_5",
    "E_layer_10",
    "E_layer_20",
    "dE_10_11",
    "dE_15_19",
)
WIDTH_PANELS = ("x2_layer_5", "x2_layer_10", "x2_layer_15", "x2_layer_20")


def _columns(path: Path, n: int, seed: int, config: ShowerConfig) -> ak.Array:
    """Generate ``n`` showers into ``path`` (unless a file of ``n`` is there) and read the
    features back through coffea."""
    if not path.exists() or check_calo_file(path) != n:
        make_calo_sample(path, n_events=n, seed=seed, config=config, progress=False)
    return _processed(path)


def _processed(path: Path) -> ak.Array:
    """The features of the showers with cells in ``path``, through the coffea processor."""
    out = run_processor(CaloProcessor(), {path.stem: [str(path)]}, progress=False)
    columns = collect_columns(out)
    return columns[ak.to_numpy(columns.n_hits) > 0]  # an empty shower has no centroid


def _values(records: ak.Array, name: str) -> np.ndarray:
    """Values of one observable; NaN marks events where it is undefined (``None``: the
    width of an empty layer), which every caller then leaves out explicitly."""
    values = calo_observable_values(records, name)
    return ak.to_numpy(ak.fill_none(values, np.nan)).astype(np.float64)


def _gan_records(samples: np.ndarray) -> ak.Array:
    """Feature records of generated (n_hits, log(1 + E_layer)) vectors.

    As arXiv:2009.03796 does for its GAN showers, the 0.1 MeV cell threshold is applied to the
    output: a layer with less than ``THRESHOLD_MEV`` has no cell above threshold, so its
    energy is 0 (without this, energies in (0, 0.1) MeV, which no reference shower has,
    tell the classifier GAN showers apart outright). The cell count is rounded to a
    non-negative integer.
    """
    n_hits = np.maximum(np.rint(samples[:, 0]), 0.0)
    layers = np.expm1(samples[:, 1:])
    layers = np.where(layers >= THRESHOLD_MEV, layers, 0.0)
    total = layers.sum(axis=1)
    index = np.arange(1, N_LAYERS + 1)
    centroid = (layers * index).sum(axis=1) / np.where(total > 0, total, 1.0)
    columns = {"n_hits": n_hits, "centroid": centroid, "E_total": total}
    columns.update({name: layers[:, k] for k, name in enumerate(LAYERS)})
    records = ak.zip(columns, depth_limit=1)
    return records[total > 0]


def _edges(reference: np.ndarray, name: str) -> np.ndarray:
    if name in CALO_HISTOGRAMS:
        bins, low, high, _ = CALO_HISTOGRAMS[name]
        return np.linspace(low, high, bins + 1)
    low, high = np.quantile(reference, [0.005, 0.995])
    return np.linspace(low, high if high > low else low + 1.0, 41)


def _compare(reference: ak.Array, samples: dict, names) -> dict:
    """``{name: {label: {separation_power, uncertainty_ratio}}}`` for every feature.

    ``r`` is quoted for samples of equal size, as in arXiv:2009.03796 (GAN and Geant4 sets of the
    same size, so r ~ 1 without weights): the uncertainty of a mean scales as 1/sqrt(N),
    so ``uncertainty_ratio`` is multiplied by sqrt(N_sample / N_reference).
    """
    out = {}
    for name in names:
        ref = _values(reference, name)
        ref = ref[np.isfinite(ref)]
        edges = _edges(ref, name)
        out[name] = {}
        for label, (records, weights) in samples.items():
            values = _values(records, name)
            keep = np.isfinite(values)  # second moments: None (NaN here) for empty layers
            w = None if weights is None else weights[keep]
            out[name][label] = {
                "separation_power": histogram_separation_power(values[keep], ref, edges, weights=w),
                "uncertainty_ratio": uncertainty_ratio(values[keep], ref, weights=w)
                * np.sqrt(keep.sum() / len(ref)),
            }
    return out


@in_default_style
def _panel_figure(
    reference: ak.Array, samples: dict, names, stats: dict, path: Path, reference_label: str
) -> None:
    """Figs. 3-6 style: normalized histograms, ratio panels, <S^2> and r in legends."""
    cols = 4
    rows = -(-len(names) // cols)
    fig = Figure(figsize=(6.5 * cols, 6.8 * rows))  # the figure style's fonts need the room
    outer = fig.add_gridspec(rows, cols, hspace=0.35, wspace=0.3)
    for i, name in enumerate(names):
        inner = outer[i // cols, i % cols].subgridspec(2, 1, height_ratios=(3, 1), hspace=0.05)
        ax, rax = fig.add_subplot(inner[0]), fig.add_subplot(inner[1])
        ref = _values(reference, name)
        ref = ref[np.isfinite(ref)]
        edges = _edges(ref, name)
        h_ref, _ = np.histogram(ref, edges)
        p_ref = h_ref / h_ref.sum()
        ax.stairs(p_ref, edges, color="black", label=reference_label, linewidth=1.4)
        err = np.sqrt(h_ref) / h_ref.sum()
        rax.stairs(
            1 + np.divide(err, p_ref, out=np.zeros_like(err), where=p_ref > 0),
            edges,
            baseline=1 - np.divide(err, p_ref, out=np.zeros_like(err), where=p_ref > 0),
            fill=True,
            color="grey",
            alpha=0.3,
        )
        for k, (label, (records, weights)) in enumerate(samples.items()):
            values = _values(records, name)
            keep = np.isfinite(values)
            w = np.ones(keep.sum()) if weights is None else weights[keep]
            h, _ = np.histogram(values[keep], edges, weights=w)
            p = h / h.sum()
            s = stats[name][label]
            ax.stairs(
                p,
                edges,
                color=f"C{k}",
                linewidth=1.4,
                label=legend_label(label, s["separation_power"], s["uncertainty_ratio"]),
            )
            ratio = np.divide(p, p_ref, out=np.full_like(p, np.nan), where=p_ref > 0)
            rax.stairs(ratio, edges, color=f"C{k}", linewidth=1.2)
        ax.legend(frameon=False, fontsize=7)
        ax.set_xticklabels([])
        ax.set_xlim(edges[0], edges[-1])
        rax.set_xlim(edges[0], edges[-1])
        rax.set_ylim(0.5, 1.5)
        rax.axhline(1, color="black", linewidth=0.7)
        rax.set_xlabel(CALO_HISTOGRAMS.get(name, (0, 0, 0, name))[3], fontsize=9)
        rax.set_ylabel("ratio", fontsize=8)
        if i == 0:
            experiment_label(ax)
    save_figure(fig, path, ("png",))


@in_default_style
def _summary_figure(stats: dict, before: str, afters: tuple[str, ...], path: Path) -> None:
    """Fig. 8 style: <S^2> before/after, their ratio and r over the 33 features."""
    fig = Figure(figsize=(21, 6.5))  # the figure style's fonts need the room
    axes = fig.subplots(1, 3)
    s_before = np.array([stats[n][before]["separation_power"] for n in DCTR_FEATURES])
    bins = np.logspace(-5, 0, 26)
    axes[0].hist(s_before, bins, histtype="step", color="C0", label=before, linewidth=1.5)
    for k, after in enumerate(afters, start=1):
        s_after = np.array([stats[n][after]["separation_power"] for n in DCTR_FEATURES])
        r = np.array([stats[n][after]["uncertainty_ratio"] for n in DCTR_FEATURES])
        axes[0].hist(s_after, bins, histtype="step", color=f"C{k}", label=after, linewidth=1.5)
        ratio = np.clip(s_after / s_before, 10**-2.45, 10**1.45)  # outer bins: over/underflow
        axes[1].hist(
            ratio,
            np.logspace(-2.5, 1.5, 33),
            histtype="step",
            color=f"C{k}",
            label=f"{after} / {before}",
            linewidth=1.5,
        )
        r_bins = np.linspace(0.5, 10.5, 41)
        axes[2].hist(
            np.minimum(r, 10.4), r_bins, histtype="step", color=f"C{k}", label=after, linewidth=1.5
        )  # the last bin holds r > 10.25
    axes[0].set_xscale("log")
    axes[0].set_xlabel(r"$\langle S^2\rangle$ of the 33 features")
    axes[1].set_xscale("log")
    axes[1].set_xlabel(r"$\langle S^2\rangle$ ratio (weighted / unweighted)")
    axes[2].set_xlabel("r (uncertainty of the mean, weighted / reference; last bin: overflow)")
    for ax in axes:
        ax.set_ylabel("features")
        ax.legend(frameon=False, fontsize=8)
    experiment_label(axes[0])
    save_figure(fig, path, ("png",))


@in_default_style
def _weights_figure(weights: dict, path: Path) -> None:
    """Fig. 2 style: weight distributions, and the correlation of two models' weights."""
    pair = len(weights) == 2
    fig = Figure(figsize=(17 if pair else 9, 6.5))  # the figure style's fonts need the room
    axes = fig.subplots(1, 2 if pair else 1)
    ax = axes[0] if pair else axes
    for k, (label, w) in enumerate(weights.items()):
        ax.hist(
            w,
            np.linspace(0, 5.2, 53),
            histtype="step",
            color=f"C{k + 1}",
            linewidth=1.5,
            label=f"{label}: Kish $N_{{eff}}/N$={kish_effective_size(w) / len(w):.2f}",
        )
    ax.set_yscale("log")
    ax.set_xlabel("DCTRGAN weight $W$ (clipped at 5)")
    ax.set_ylabel("showers")
    ax.legend(frameon=False, fontsize=8)
    if pair:
        (la, wa), (lb, wb) = weights.items()
        rho = float(np.corrcoef(wa, wb)[0, 1])
        axes[1].hist2d(wa, wb, bins=[np.linspace(0, 5.2, 53)] * 2, cmin=1, cmap="viridis")
        axes[1].set_xlabel(f"{la} weight")
        axes[1].set_ylabel(f"{lb} weight")
        axes[1].set_title(rf"Pearson $\rho$ = {rho:.2f}", fontsize="small", loc="right")
    experiment_label(ax)
    save_figure(fig, path, ("png",))


def _hl_config(seed: int) -> DCTRGANConfig:
    return DCTRGANConfig(
        model=ModelSpec("mlp", hidden=(128, 128)),
        training=TrainingConfig(epochs=50, batch_size=128, patience=5, seed=seed),
    )


def high_level(
    args: argparse.Namespace, reference_train: ak.Array, reference_eval: ak.Array
) -> dict:
    """GAN surrogate of the 33 features and its high-level DCTRGAN weights."""
    start = time.time()
    description = np.column_stack(
        [_values(reference_train, "n_hits")]
        + [np.log1p(_values(reference_train, name)) for name in LAYERS]
    )
    gan = train_gan(
        GANSpec(
            latent_dim=32,
            generator_hidden=(args.gan_width,) * 2,
            discriminator_hidden=(args.gan_width,) * 2,
            activation="relu",
        ),
        description,
        GANConfig(
            steps=args.gan_steps,
            batch_size=args.gan_batch,
            latent="uniform",
            seed=args.seed,
            learning_rate=args.gan_lr,
        ),
    )
    gan_seconds = time.time() - start
    gan_train = _gan_records(gan.sample(args.showers, seed=args.seed + 10))
    gan_eval = _gan_records(gan.sample(args.showers, seed=args.seed + 11))
    reweighter = DCTRGANReweighter.train(
        feature_tensors(reference_train, DCTR_FEATURES),
        feature_tensors(gan_train, DCTR_FEATURES),
        _hl_config(args.seed),
        name="high-level DCTRGAN",
    )
    result = reweighter.weights(feature_tensors(gan_eval, DCTR_FEATURES))
    auc = _auc(reweighter, reference_eval, gan_eval)
    samples = {"GAN": (gan_eval, None), "DCTRGAN (HL)": (gan_eval, result.weights)}
    names = tuple(dict.fromkeys(DCTR_FEATURES + PANELS))
    stats = _compare(reference_eval, samples, names)
    figures = args.figures
    _panel_figure(
        reference_eval,
        samples,
        PANELS,
        stats,
        figures / "dctrgan_calo_gan_features.png",
        "Reference (parametric)",
    )
    _summary_figure(stats, "GAN", ("DCTRGAN (HL)",), figures / "dctrgan_calo_gan_summary.png")
    _weights_figure({"high-level": result.weights}, figures / "dctrgan_calo_gan_weights.png")
    return {
        "features": stats,
        "classifier_auc": auc,
        "temperature": reweighter.temperature,
        "n_clipped": result.n_clipped,
        "kish_fraction": kish_effective_size(result.weights) / len(result.weights),
        "epochs": len(reweighter.classifier.history["loss"]),
        "gan_seconds": gan_seconds,
        "seconds": time.time() - start,
    }


def _auc(reweighter: DCTRGANReweighter, reference: ak.Array, generated: ak.Array) -> float:
    """AUC of the reweighter's classifier, reference vs generated evaluation showers
    (0.5: indistinguishable; near 1: the weights cannot be trusted, Sec. II C)."""
    logits = np.concatenate(
        [
            reweighter.logits(feature_tensors(reference, DCTR_FEATURES)),
            reweighter.logits(feature_tensors(generated, DCTR_FEATURES)),
        ]
    )
    labels = np.r_[np.ones(len(reference)), np.zeros(len(generated))]
    return weighted_auc(logits, labels)


def _images(path: Path, n: int) -> np.ndarray:
    events = read_calo_events(path, entry_stop=n) if n else read_calo_events(path)
    events = events[ak.to_numpy(ak.num(events.Hit, axis=1)) > 0]
    return hits_to_images(events.Hit)


def _two_level(
    args: argparse.Namespace,
    reference_train: ak.Array,
    reference_eval: ak.Array,
    ref_train_path: Path,
    generated: dict,
    label: str,
    prefix: str,
) -> dict:
    """High-level (MLP, 33 features) and low-level (3-D CNN, images) DCTRGAN weights of a
    generated sample, ``generated`` = {"train": (path, columns), "eval": (path, columns)}.

    The HL model trains on all showers of both training files and weights all evaluation
    showers; the LL model trains on the images of the first ``--ll-showers`` of each
    training file and weights the first ``--ll-showers`` evaluation showers, which are
    also shown unweighted ("<label>, LL set", the same statistical floor of <S^2>).
    """
    start = time.time()
    n = args.ll_showers
    (gen_train_path, gen_train), (gen_eval_path, gen_eval) = generated["train"], generated["eval"]
    hl = DCTRGANReweighter.train(
        feature_tensors(reference_train, DCTR_FEATURES),
        feature_tensors(gen_train, DCTR_FEATURES),
        _hl_config(args.seed),
        name=f"high-level DCTRGAN ({label})",
    )
    hl_weights = hl.weights(feature_tensors(gen_eval, DCTR_FEATURES)).weights
    hl_auc = _auc(hl, reference_eval, gen_eval)
    hl_seconds = time.time() - start
    ll_config = DCTRGANConfig(
        model=Conv3DSpec(filters=(8, 16, 16), dense=(64,), seed=args.seed),
        training=TrainingConfig(epochs=args.ll_epochs, batch_size=64, patience=2, seed=args.seed),
    )
    ll = DCTRGANReweighter.train(
        image_tensors(_images(ref_train_path, n)),
        image_tensors(_images(gen_train_path, n)),
        ll_config,
        name=f"low-level DCTRGAN ({label})",
    )
    # the low-level weights for the first n evaluation showers (those with hits, in file
    # order: the same rows as gen_eval[:len(gen_images)])
    gen_images = _images(gen_eval_path, n)
    ll_weights = np.concatenate(
        [
            ll.weights(image_tensors(gen_images[i : i + 500])).weights
            for i in range(0, len(gen_images), 500)
        ]
    )
    ll_showers = gen_eval[: len(gen_images)]
    ll_set = f"{label}, LL set"
    samples = {
        label: (gen_eval, None),
        "DCTR (HL)": (gen_eval, hl_weights),
        ll_set: (ll_showers, None),
        "DCTR (LL)": (ll_showers, ll_weights),
    }
    np.savez(args.out / f"{prefix}_weights.npz", high_level=hl_weights, low_level=ll_weights)
    width_names = tuple(f"x2_layer_{k}" for k in range(1, N_LAYERS + 1))
    names = tuple(dict.fromkeys(DCTR_FEATURES + PANELS + width_names))
    stats = _compare(reference_eval, samples, names)
    figures = args.figures
    stem = f"dctrgan_calo_{prefix}"
    _panel_figure(
        reference_eval,
        samples,
        PANELS,
        stats,
        figures / f"{stem}_features.png",
        "Reference (parametric)",
    )
    _panel_figure(
        reference_eval,
        samples,
        WIDTH_PANELS,
        stats,
        figures / f"{stem}_widths.png",
        "Reference (parametric)",
    )
    _summary_figure(stats, label, ("DCTR (HL)",), figures / f"{stem}_summary_hl.png")
    _summary_figure(stats, ll_set, ("DCTR (LL)",), figures / f"{stem}_summary_ll.png")
    _weights_figure(
        {"high-level": hl_weights[: len(ll_weights)], "low-level": ll_weights},
        figures / f"{stem}_weights.png",
    )
    return {
        "features": stats,
        "classifier_auc_hl": hl_auc,
        "temperature": {"HL": hl.temperature, "LL": ll.temperature},
        "kish_fraction": {
            "HL": kish_effective_size(hl_weights) / len(hl_weights),
            "LL": kish_effective_size(ll_weights) / len(ll_weights),
        },
        "n_clipped": {
            "HL": int((hl_weights >= hl.clip_max).sum()),
            "LL": int((ll_weights >= ll.clip_max).sum()),
        },
        "pearson_hl_ll": float(np.corrcoef(hl_weights[: len(ll_weights)], ll_weights)[0, 1]),
        "ll_epochs": len(ll.classifier.history["loss"]),
        "hl_seconds": hl_seconds,
        "seconds": time.time() - start,
    }


def low_level(
    args: argparse.Namespace,
    reference_train: ak.Array,
    reference_eval: ak.Array,
    ref_train_path: Path,
) -> dict:
    """High- and low-level DCTRGAN weights of the mis-tuned fast simulation."""
    generated = {}
    for part, offset in (("train", 20), ("eval", 21)):
        path = args.out / f"fastsim_{part}.root"
        generated[part] = (path, _columns(path, args.showers, args.seed + offset, FAST_SIM))
    return _two_level(
        args, reference_train, reference_eval, ref_train_path, generated, "fast sim", "fastsim"
    )


def image_gan(
    args: argparse.Namespace,
    reference_train: ak.Array,
    reference_eval: ak.Array,
    ref_train_path: Path,
) -> dict:
    """Image surrogate (description GAN + renderer) and its HL and LL DCTRGAN weights."""
    start = time.time()
    events = read_calo_events(ref_train_path)
    surrogate = train_calo_surrogate(
        events,
        seed=args.seed,
        config=GANConfig(
            steps=args.surrogate_steps,
            batch_size=args.gan_batch,
            learning_rate=args.surrogate_lr,
            seed=args.seed,
        ),
    )
    train_seconds = time.time() - start
    generated = {}
    for part, offset in (("train", 30), ("eval", 31)):
        path = surrogate.write(
            args.out / f"imagegan_{part}.root", args.showers, seed=args.seed + offset
        )
        generated[part] = (path, _processed(path))
    generate_seconds = time.time() - start - train_seconds
    summary = _two_level(
        args, reference_train, reference_eval, ref_train_path, generated, "image GAN", "imagegan"
    )
    summary.update(
        {
            "surrogate_train_seconds": train_seconds,
            "surrogate_generate_seconds": generate_seconds,
            "spot_scale": surrogate.renderer.spot_scale,
            "gan_final_losses": {k: surrogate.gan.history[k][-1] for k in ("d_loss", "g_loss")},
            "seconds": time.time() - start,
        }
    )
    return summary


def _print_table(stats: dict, labels: tuple[str, ...], names) -> None:
    print(f"{'feature':>12} " + " ".join(f"{label:>22}" for label in labels))
    for name in names:
        row = " ".join(
            f"{stats[name][lab]['separation_power']:10.2e} "
            f"r={stats[name][lab]['uncertainty_ratio']:5.2f}  "
            for lab in labels
        )
        print(f"{name:>12} {row}")


def main(argv: list[str] | None = None) -> None:
    show_progress()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--out", type=Path, default=Path("out/dctrgan_calo"))
    parser.add_argument("--figures", type=Path, default=Path("docs/figures"))
    parser.add_argument("--showers", type=int, default=20_000)
    parser.add_argument("--gan-steps", type=int, default=15_000)
    parser.add_argument("--gan-width", type=int, default=256, help="hidden units of G and D")
    parser.add_argument("--gan-batch", type=int, default=256)
    parser.add_argument("--gan-lr", type=float, default=2e-4)
    parser.add_argument(
        "--low-level",
        action="store_true",
        help="also run the low-level (3-D CNN) study on the fast simulation",
    )
    parser.add_argument("--no-gan", action="store_true", help="skip the GAN study")
    parser.add_argument(
        "--surrogate",
        choices=("feature-gan", "image-gan"),
        default="feature-gan",
        help="GAN study: 'feature-gan' (GAN of the 33 features, HL weights) "
        "or 'image-gan' (GAN of shower descriptions + renderer to "
        "images, HL and LL weights)",
    )
    parser.add_argument(
        "--surrogate-steps",
        type=int,
        default=4_000,
        help="steps of the image surrogate's description GAN",
    )
    parser.add_argument("--surrogate-lr", type=float, default=1e-3)
    parser.add_argument("--ll-showers", type=int, default=3_000)
    parser.add_argument("--ll-epochs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    args.figures.mkdir(parents=True, exist_ok=True)
    start = time.time()
    ref_train_path = args.out / "reference_train.root"
    reference_train = _columns(ref_train_path, args.showers, args.seed, ShowerConfig())
    reference_eval = _columns(
        args.out / "reference_eval.root", args.showers, args.seed + 1, ShowerConfig()
    )
    settings = {k: str(v) for k, v in vars(args).items()}
    if not args.no_gan and args.surrogate == "image-gan":
        summary = image_gan(args, reference_train, reference_eval, ref_train_path)
        _print_table(
            summary["features"],
            ("image GAN", "DCTR (HL)", "image GAN, LL set", "DCTR (LL)"),
            DCTR_FEATURES + PANELS[-2:] + WIDTH_PANELS,
        )
        summary["settings"] = settings
        (args.out / "summary_imagegan.json").write_text(json.dumps(summary, indent=1))
    elif not args.no_gan:
        summary = high_level(args, reference_train, reference_eval)
        _print_table(summary["features"], ("GAN", "DCTRGAN (HL)"), DCTR_FEATURES + PANELS[-2:])
        summary["settings"] = settings
        (args.out / "summary_gan.json").write_text(json.dumps(summary, indent=1))
    if args.low_level:
        summary = low_level(args, reference_train, reference_eval, ref_train_path)
        _print_table(
            summary["features"],
            ("fast sim", "DCTR (HL)", "fast sim, LL set", "DCTR (LL)"),
            DCTR_FEATURES + PANELS[-2:] + WIDTH_PANELS,
        )
        summary["settings"] = settings
        (args.out / "summary_fastsim.json").write_text(json.dumps(summary, indent=1))
    summary["seconds"] = time.time() - start
    print(f"done in {summary['seconds']:.0f} s")


if __name__ == "__main__":
    main()
