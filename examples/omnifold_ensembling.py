"""The ensembling study of the ensembling paper (Figs. 3-8) at the scale of a CPU machine.

Unfolds Pythia DIS pseudo-data (setup ``data``) with the simulation (setup ``sim``) in
four ways — parallel or step ensembling, each from scratch or starting from a classifier
pre-trained on a separate pair of samples (Sec. 4.2) — repeats each ``--passes`` times
with new seeds, and reports per observable the relative MSE against the data truth and the
relative standard deviation over passes (Eqs. 4, 5), averaged over bins, plus a figure per
observable with both metrics per bin.

Example (the scale recorded in docs/results.md)::

    python examples/omnifold_ensembling.py -o ensembling --events 20000 --passes 3 \\
        --ensembles 3 --iterations 2 --epochs 10
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from hepnnlr.methods import OmniFoldConfig, omnifold, parallel_omnifold
from hepnnlr.models import ModelSpec
from hepnnlr.results.stats import relative_mse, relative_std
from hepnnlr.samples import make_dis_sample
from hepnnlr.training import TrainingConfig, aggregate_weights, train_classifier
from hepnnlr.workflows.unfold_dis import DISUnfoldingJob, prepare_dis_inputs, truth_histograms

OBSERVABLES = ("Q2", "eta_e", "jet_dphi", "jet_pt", "jet_eta", "jet_tau21",
               "particle_deta", "particle_log_pt", "particle_log_pt_over_Q")
METHODS = ("parallel", "step", "parallel+pretrained", "step+pretrained")


def _samples(out: Path, events: int, seed: int, tag: str) -> dict[str, Path]:
    files = {}
    for setup, offset in (("sim", 0), ("data", 1)):
        path = out / f"{tag}_{setup}.root"
        if not path.exists():
            make_dis_sample(path, setup, n_events=events, seed=seed + offset, workers=2,
                            progress=False)
        files[setup] = path
    return files


def _pretrain(inputs, spec: ModelSpec, training: TrainingConfig):
    """Step 1 of iteration 1 on a separate sample pair: data vs simulation, detector level."""
    sim = inputs.sim_reco.subset(inputs.pass_reco)
    return train_classifier(spec, inputs.data_reco, inputs.data_weights, sim,
                            inputs.sim_weights[inputs.pass_reco], training,
                            name="pre-training").model


def _unfolded(inputs, weights, region) -> dict[str, np.ndarray]:
    histograms = truth_histograms(inputs.sim, weights, region)
    return {name: histograms[name].values() for name in OBSERVABLES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("ensembling"))
    parser.add_argument("--events", type=int, default=20_000, help="events per sample")
    parser.add_argument("--passes", type=int, default=3, help="full passes per method")
    parser.add_argument("--ensembles", type=int, default=3, help="members per ensemble")
    parser.add_argument("--iterations", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--model", choices=("pfn", "pet", "mlp"), default="pfn")
    args = parser.parse_args()
    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    files = _samples(out, args.events, 1, "unfold")
    job = DISUnfoldingJob(files["data"], files["sim"], out, executor="futures", progress=False)
    inputs = prepare_dis_inputs(job, log=lambda _: None)
    pre_files = _samples(out, args.events, 101, "pretrain")
    pre_inputs = prepare_dis_inputs(replace(job, data_file=pre_files["data"],
                                            sim_file=pre_files["sim"]), log=lambda _: None)
    spec = (ModelSpec("pfn", phi=(32, 32, 32), hidden=(32, 32)) if args.model == "pfn"
            else ModelSpec(args.model))
    training = TrainingConfig(epochs=args.epochs, batch_size=256, patience=3)
    pretrained = _pretrain(pre_inputs, spec, replace(training, learning_rate=1e-3, seed=999))

    data_truth = {k: h.values() for k, h in
                  truth_histograms(inputs.data, np.ones(len(inputs.data)), job.region).items()}
    base = OmniFoldConfig(iterations=args.iterations, step1_model=spec, step2_model=spec,
                          training=training)
    passes: dict[str, dict[str, list[np.ndarray]]] = {m: {o: [] for o in OBSERVABLES}
                                                      for m in METHODS}
    timing: dict[str, float] = {}
    for method in METHODS:
        t0 = time.perf_counter()
        for p in range(args.passes):
            config = replace(base, training=replace(training, seed=100 * p + 1))
            pre = pretrained if method.endswith("pretrained") else None
            if method.startswith("parallel"):
                runs = parallel_omnifold(*inputs.omnifold_args(), runs=args.ensembles,
                                         config=config, pretrained=pre,
                                         **inputs.omnifold_kwargs())
                weights, _ = aggregate_weights(runs.member_weights(), "mean")
            else:
                result = omnifold(*inputs.omnifold_args(), config=replace(
                    config, ensemble=args.ensembles), pretrained=pre, **inputs.omnifold_kwargs())
                weights = result.weights
            for name, values in _unfolded(inputs, weights, job.region).items():
                passes[method][name].append(values)
            print(f"{method}: pass {p + 1}/{args.passes} done "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
        timing[method] = time.perf_counter() - t0

    summary: dict[str, dict[str, dict[str, float]]] = {}
    for name in OBSERVABLES:
        truth = data_truth[name]
        fig = Figure(figsize=(10, 3.6))
        ax_std, ax_mse = fig.subplots(1, 2)
        summary[name] = {}
        for method in METHODS:
            values = np.stack(passes[method][name])
            # Compare shapes: every pass normalized to the data truth's total.
            values = values * (truth.sum() / values.sum(axis=1, keepdims=True))
            std, mse = relative_std(values), relative_mse(truth, values)
            summary[name][method] = {"relative_std": float(np.nanmean(std)),
                                     "relative_mse": float(np.nanmean(mse))}
            ax_std.stairs(std, np.arange(len(std) + 1), label=method)
            ax_mse.stairs(mse, np.arange(len(mse) + 1), label=method)
        ax_std.set_title(f"{name}: relative std over passes")
        ax_mse.set_title(f"{name}: relative MSE vs data truth")
        for ax in (ax_std, ax_mse):
            ax.set_xlabel("bin")
            ax.set_yscale("log")
        ax_std.legend(fontsize=7)
        fig.savefig(out / f"ensembling_{name}.png", bbox_inches="tight", dpi=110)

    report = {"args": vars(args) | {"output": str(out)}, "timing_s": timing,
              "total_s": time.perf_counter() - started, "metrics": summary}
    (out / "ensembling.json").write_text(json.dumps(report, indent=2))
    print(f"\n{'observable':<24}" + "".join(f"{m:>24}" for m in METHODS))
    for metric in ("relative_std", "relative_mse"):
        print(f"-- {metric} (mean over bins)")
        for name in OBSERVABLES:
            print(f"{name:<24}" + "".join(f"{summary[name][m][metric]:>24.4g}" for m in METHODS))
    print(f"\nwrote {out}/ensembling.json and {out}/ensembling_*.png "
          f"in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
