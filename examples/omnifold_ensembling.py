"""The ensembling study of arXiv:2503.20753 (Figs. 3-8) at the scale of a CPU machine.

Reference: Torales Acosta, Wamorkar, Mikuni, Nachman, "Stabilizing Neural Likelihood Ratio
Estimation", arXiv:2503.20753.

Unfolds Pythia DIS pseudo-data (setup ``data``) with the simulation (setup ``sim``) in
four ways — parallel or step ensembling, each from scratch or starting from a classifier
pre-trained on a separate pair of samples (Sec. 4.2) — repeats each ``--passes`` times
with new seeds, and reports per observable the relative MSE against the data truth and the
relative standard deviation over passes (Eqs. 4, 5), averaged over bins, plus a figure per
observable with both metrics per bin.

Example (the scale recorded in docs/history/results-log.md)::

    python examples/omnifold_ensembling.py -o ensembling --events 20000 --passes 3 \\
        --ensembles 3 --iterations 2 --epochs 10
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from _results import show_progress
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from hepnnlr.methods import OmniFoldConfig, omnifold, parallel_omnifold
from hepnnlr.models import ModelSpec
from hepnnlr.results.plots import save_figure
from hepnnlr.results.stats import relative_mse, relative_std
from hepnnlr.results.style import experiment_label, in_default_style
from hepnnlr.samples import make_dis_sample
from hepnnlr.training import TrainingConfig, aggregate_weights, train_classifier
from hepnnlr.workflows.unfold_dis import DISUnfoldingJob, prepare_dis_inputs, truth_histograms

OBSERVABLES = (
    "Q2",
    "eta_e",
    "jet_dphi",
    "jet_pt",
    "jet_eta",
    "jet_tau21",
    "particle_deta",
    "particle_log_pt",
    "particle_log_pt_over_Q",
)
METHODS = ("parallel", "step", "parallel+pretrained", "step+pretrained")


def _samples(out: Path, events: int, seed: int, tag: str) -> dict[str, Path]:
    files = {}
    for setup, offset in (("sim", 0), ("data", 1)):
        path = out / f"{tag}_{setup}.root"
        if not path.exists():
            make_dis_sample(
                path, setup, n_events=events, seed=seed + offset, workers=2, progress=False
            )
        files[setup] = path
    return files


def _pretrain(inputs, spec: ModelSpec, training: TrainingConfig):
    """Step 1 of iteration 1 on a separate sample pair: data vs simulation, detector level."""
    sim = inputs.sim_reco.subset(inputs.pass_reco)
    return train_classifier(
        spec,
        inputs.data_reco,
        inputs.data_weights,
        sim,
        inputs.sim_weights[inputs.pass_reco],
        training,
        name="pre-training",
    ).model


def _truth(columns, weights, job):
    return truth_histograms(columns, weights, job.description, job.truth_region)


def _unfolded(inputs, weights, job) -> dict[str, np.ndarray]:
    histograms = _truth(inputs.sim, weights, job)
    return {name: histograms[name].values() for name in OBSERVABLES}


# The figures of arXiv:2503.20753: rows are observables, columns the distribution, the relative
# standard deviation over passes (Eq. 5) and the relative MSE against the truth (Eq. 4).
FIGURES = {
    "fig3_particles": (
        ("particle_deta", "particle_log_pt", "particle_log_pt_over_Q"),
        ("parallel", "step"),
    ),
    "fig4_jets": (("jet_pt", "jet_eta", "jet_tau21"), ("parallel", "step")),
    "fig5_event": (("Q2", "eta_e", "jet_dphi"), ("parallel", "step")),
    "fig6_particles_pretrained": (
        ("particle_deta", "particle_log_pt", "particle_log_pt_over_Q"),
        ("parallel", "parallel+pretrained", "step", "step+pretrained"),
    ),
    "fig7_jets_pretrained": (
        ("jet_pt", "jet_eta", "jet_tau21"),
        ("parallel", "parallel+pretrained", "step", "step+pretrained"),
    ),
    "fig8_event_pretrained": (
        ("Q2", "eta_e", "jet_dphi"),
        ("parallel", "parallel+pretrained", "step", "step+pretrained"),
    ),
}
LABELS = {
    "Q2": r"$Q^2$ [GeV$^2$]",
    "eta_e": r"$\eta_e$",
    "jet_dphi": r"$\Delta\phi^{jet}$",
    "jet_pt": r"$p_T^{jet}$ [GeV]",
    "jet_eta": r"$\eta^{jet}$",
    "jet_tau21": r"$\tau_{21}^{jet}$",
    "particle_deta": r"$\eta_p - \eta_e$",
    "particle_log_pt": r"$\log p_T^{part.}$",
    "particle_log_pt_over_Q": r"$\log (p_T^{part.}/Q)$",
}
LOG_X = ("Q2", "jet_pt")  # log-spaced bins, on a log axis as in arXiv:2503.20753
COLORS = {
    "parallel": "tab:blue",
    "step": "tab:orange",
    "parallel+pretrained": "tab:green",
    "step+pretrained": "tab:red",
}


def summarize_and_plot(out: Path, passes_file: Path) -> dict[str, dict[str, dict[str, float]]]:
    """Per-bin metrics, their bin averages, and Figs. 3-8 of arXiv:2503.20753 from saved passes."""
    stored = np.load(passes_file)
    summary: dict[str, dict[str, dict[str, float]]] = {}
    per_bin: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for name in OBSERVABLES:
        truth = stored[f"truth|{name}"]
        summary[name] = {}
        for method in METHODS:
            values = stored[f"{method}|{name}"]
            # Compare shapes: every pass normalized to the data truth's total.
            values = values * (truth.sum() / values.sum(axis=1, keepdims=True))
            std, mse = relative_std(values), relative_mse(truth, values)
            per_bin[method, name] = (values.mean(axis=0), std, mse)
            summary[name][method] = {
                "relative_std": float(np.nanmean(std)),
                "relative_mse": float(np.nanmean(mse)),
            }
    n_passes = stored[f"parallel|{OBSERVABLES[0]}"].shape[0]
    for figname, (names, methods) in FIGURES.items():
        _ensembling_figure(out / f"ensembling_{figname}", names, methods, stored, per_bin, n_passes)
    return summary


@in_default_style
def _ensembling_figure(path: Path, names, methods, stored, per_bin, n_passes: int) -> None:
    """Per observable: the mean of the passes against the truth and the prior, and the
    passes' relative std and MSE per bin (the figures of arXiv:2503.20753)."""
    fig = Figure(figsize=(20, 5.5 * len(names)), layout="constrained")
    axes = fig.subplots(len(names), 3, squeeze=False)
    for row, name in zip(axes, names, strict=True):
        edges, truth = stored[f"edges|{name}"], stored[f"truth|{name}"]
        prior = stored[f"prior|{name}"] * truth.sum() / stored[f"prior|{name}"].sum()
        width = np.diff(edges)
        row[0].stairs(truth / width, edges, color="black", lw=1.5, label="data truth")
        row[0].stairs(prior / width, edges, color="gray", ls=":", label="prior (sim truth)")
        for method in methods:
            mean, std, mse = per_bin[method, name]
            style = {"color": COLORS[method], "ls": "--" if "pretrained" in method else "-"}
            row[0].stairs(mean / width, edges, label=f"{method} (mean of passes)", **style)
            row[1].stairs(std, edges, label=method, **style)
            row[2].stairs(mse, edges, label=method, **style)
        unit = re.search(r"\[(.+)\]", LABELS[name])  # "events / GeV$^2$" from "[GeV$^2$]"
        row[0].set_ylabel(f"events / {unit[1]}" if unit else "events / unit")
        row[1].set_ylabel(f"relative std ({n_passes} passes)")
        row[2].set_ylabel("relative MSE")
        for ax in row:
            ax.set_xlabel(LABELS[name])
            if name in LOG_X:
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())  # decades only: no overlap
        row[1].set_yscale("log")
        row[2].set_yscale("log")
    axes[0][0].legend(fontsize="xx-small")
    axes[0][1].legend(fontsize="xx-small")
    experiment_label(axes[0][0], "cms")
    save_figure(fig, path, ("png",))


def _print_tables(summary: dict[str, dict[str, dict[str, float]]]) -> None:
    print(f"\n{'observable':<24}" + "".join(f"{m:>24}" for m in METHODS))
    for metric in ("relative_std", "relative_mse"):
        print(f"-- {metric} (mean over bins)")
        for name in OBSERVABLES:
            print(f"{name:<24}" + "".join(f"{summary[name][m][metric]:>24.4g}" for m in METHODS))


def main() -> None:
    show_progress()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("ensembling"))
    parser.add_argument("--events", type=int, default=20_000, help="events per sample")
    parser.add_argument("--passes", type=int, default=3, help="full passes per method")
    parser.add_argument("--ensembles", type=int, default=3, help="members per ensemble")
    parser.add_argument("--iterations", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--model", choices=("pfn", "pet", "mlp"), default="pfn")
    parser.add_argument(
        "--replot",
        action="store_true",
        help="only redraw the figures and tables from OUTPUT/ensembling_passes.npz",
    )
    args = parser.parse_args()
    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if args.replot:
        _print_tables(summarize_and_plot(out, out / "ensembling_passes.npz"))
        return

    files = _samples(out, args.events, 1, "unfold")
    job = DISUnfoldingJob(files["data"], files["sim"], out, executor="futures", progress=False)
    inputs = prepare_dis_inputs(job)
    pre_files = _samples(out, args.events, 101, "pretrain")
    pre_inputs = prepare_dis_inputs(
        replace(job, data_file=pre_files["data"], sim_file=pre_files["sim"])
    )
    spec = (
        ModelSpec("pfn", phi=(32, 32, 32), hidden=(32, 32))
        if args.model == "pfn"
        else ModelSpec(args.model)
    )
    training = TrainingConfig(epochs=args.epochs, batch_size=256, patience=3)
    pretrained = _pretrain(pre_inputs, spec, replace(training, learning_rate=1e-3, seed=999))

    data_truth = {
        k: h.values() for k, h in _truth(inputs.data, np.ones(len(inputs.data)), job).items()
    }
    base = OmniFoldConfig(
        iterations=args.iterations, step1_model=spec, step2_model=spec, training=training
    )
    passes: dict[str, dict[str, list[np.ndarray]]] = {
        m: {o: [] for o in OBSERVABLES} for m in METHODS
    }
    timing: dict[str, float] = {}
    for method in METHODS:
        t0 = time.perf_counter()
        for p in range(args.passes):
            config = replace(base, training=replace(training, seed=100 * p + 1))
            pre = pretrained if method.endswith("pretrained") else None
            if method.startswith("parallel"):
                runs = parallel_omnifold(
                    *inputs.omnifold_args(),
                    runs=args.ensembles,
                    config=config,
                    pretrained=pre,
                    **inputs.omnifold_kwargs(),
                )
                weights, _ = aggregate_weights(runs.member_weights(), "mean")
            else:
                result = omnifold(
                    *inputs.omnifold_args(),
                    config=replace(config, ensemble=args.ensembles),
                    pretrained=pre,
                    **inputs.omnifold_kwargs(),
                )
                weights = result.weights
            for name, values in _unfolded(inputs, weights, job).items():
                passes[method][name].append(values)
            print(
                f"{method}: pass {p + 1}/{args.passes} done ({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
        timing[method] = time.perf_counter() - t0

    edges = {
        name: h.axes[0].edges
        for name, h in _truth(inputs.data, np.ones(len(inputs.data)), job).items()
        if name in OBSERVABLES
    }
    prior = {k: h.values() for k, h in _truth(inputs.sim, inputs.sim_weights, job).items()}
    np.savez_compressed(
        out / "ensembling_passes.npz",
        **{f"{m}|{o}": np.stack(passes[m][o]) for m in METHODS for o in OBSERVABLES},
        **{f"truth|{o}": data_truth[o] for o in OBSERVABLES},
        **{f"prior|{o}": prior[o] for o in OBSERVABLES},
        **{f"edges|{o}": edges[o] for o in OBSERVABLES},
    )
    summary = summarize_and_plot(out, out / "ensembling_passes.npz")
    report = {
        "args": vars(args) | {"output": str(out)},
        "timing_s": timing,
        "total_s": time.perf_counter() - started,
        "metrics": summary,
    }
    (out / "ensembling.json").write_text(json.dumps(report, indent=2))
    _print_tables(summary)
    print(
        f"\nwrote {out}/ensembling.json and {out}/ensembling_*.png "
        f"in {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
