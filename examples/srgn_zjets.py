"""Table III of arXiv:2010.03569 at CPU scale: parton-shower tuning on e+e− → Z → dijets.

Reference: Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural
Networks in the Presence of Detector Effects", arXiv:2010.03569.

Samples (Pythia 8 through the LEP-like detector emulation, written to ROOT by
``make_zjets_sample`` and read back through ``ZJetsProcessor``; anti-kT R = 0.8 jets):

* ``nominal``: Monash (α_s = 0.1365, aLund = 0.68, probStoUD = 0.217): trains the
  reweighter (label 0);
* ``nominal_b``: an independent Monash sample: the simulation that SRGN reweights
  (generator and detector level of the same events) and the nominal side of the DCTR fit;
* ``target_<p>``: parameter ``p`` at the target of arXiv:2010.03569, the others at Monash: the
  "data";
* ``vary_<p>``: ``p`` drawn uniformly per block of 1,000 events in the DCTR range of
  arXiv:2010.03569 (α_s 0.10–0.18, aLund 0.50–0.90, probStoUD 0.10–0.30; one generator run
  per block).

Per parameter and run (seed): a DCTR reweighter f(x_G, θ) is trained between
``vary_<p>`` and ``nominal`` at generator level: a PFN on the constituents of the two
leading jets, (log pT, pT fraction, Δη, Δφ, charge, photon, neutral hadron, strange
hadron) per particle with θ per particle; for the rows "multiplicity" and "N strange" an
MLP on that one event feature. The DCTR fit (Eq. 3) gives the generator-level value; the
SRGN fit scans θ′ (arXiv:2010.03569 scans too), training the detector-level classifier g (PFN
on reconstructed constituents, or an MLP on the reconstructed count) between the target
and ``nominal_b`` weighted by f at each θ′ (warm-started), and reads the minimum of the
held-out AUC off a local parabola. Mean ± std over runs after the outlier rule of arXiv:2010.03569.

The reweighter is anchored at the nominal point (Monash): ``DCTRReweighter.train(...,
nominal_theta=)`` adds the nominal events at θ0 to both classes (a share ``--anchor`` of
each class, :attr:`hepnnlr.methods.dctr_config.DCTRConfig.nominal_anchor`), which pins
w(x, θ0) = 1 where the loss alone barely constrains f (``--anchor 0``: no anchor, as the
runs before the library had it).

Make the samples first (see ``docs/fragments/issue5_pythia.md`` for the commands), then

    python examples/srgn_zjets.py --samples /tmp/hepnnlr_srgn/z -o /tmp/srgn_zjets \\
        --figures docs/figures
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import hist
import numpy as np
from _results import show_progress
from _srgn_pythia import (
    attach_theta,
    processed_columns,
    standardize,
    zjets_tensors,
)
from matplotlib.figure import Figure

from hepnnlr.methods.dctr import DCTRConfig, DCTRReweighter, dctr_fit
from hepnnlr.methods.srgn import SRGNConfig, SRGNObjective, remove_outliers, srgn_scan, summarize
from hepnnlr.models.spec import ModelSpec
from hepnnlr.processors.zjets import ZJetsProcessor, collect_columns
from hepnnlr.results.plots import plot_comparison, save_figure
from hepnnlr.results.style import figure_style
from hepnnlr.training import TrainingConfig

ONE_HOT = ("charge", "is_photon", "is_neutral_hadron", "is_strange")


@dataclass(frozen=True)
class Parameter:
    """One tuned parameter: Pythia name, target, scan grid, DCTR range, rows of arXiv:2010.03569.

    The reweighter maps the range of θ it was trained on onto [-1, 1] itself
    (:class:`hepnnlr.methods.theta.ThetaScale`); θ is in Pythia's units throughout.
    """

    setting: str
    nominal: float
    target: float
    scan: tuple[float, float, int]
    bounds: tuple[float, float]
    paper: dict[str, tuple[float, float] | None]


PARAMETERS = {
    "alphaS": Parameter(
        "TimeShower:alphaSvalue",
        0.1365,
        0.1600,
        (0.13, 0.18, 6),
        (0.10, 0.18),
        {"pfn": (0.1596, 0.0010), "multiplicity": (0.1601, 0.0014)},
    ),
    # arXiv:2010.03569 has no one-feature row for aLund; ours (multiplicity) has no value there
    "aLund": Parameter(
        "StringZ:aLund",
        0.68,
        0.8000,
        (0.55, 0.90, 6),
        (0.50, 0.90),
        {"pfn": (0.7884, 0.0277), "multiplicity": None},
    ),
    "probStoUD": Parameter(
        "StringFlav:probStoUD",
        0.217,
        0.2750,
        (0.15, 0.30, 6),
        (0.10, 0.30),
        {"pfn": (0.2726, 0.0070), "n_strange": (0.2779, 0.0045)},
    ),
}
INPUT_LABELS = {
    "pfn": "Ω (PFN, constituents)",
    "multiplicity": "multiplicity",
    "n_strange": "N strange had.",
}


def _columns(samples: Path, label: str, max_events: int | None = None):
    return processed_columns(
        samples / f"{label}.root", ZJetsProcessor, collect_columns, max_events=max_events
    )


def _tensors(columns: dict, inputs: str, name: str, slots: int):
    """Standardized network inputs of every sample for one parameter and input choice."""

    def make(label, level):
        return zjets_tensors(columns[label], level, inputs, max_particles=slots)

    gen = standardize(
        make("nominal", "gen"),
        make("vary", "gen"),
        make("target", "gen"),
        make("nominal_b", "gen"),
        keep=ONE_HOT,
    )
    reco = standardize(make("nominal_b", "reco"), make("target", "reco"), keep=ONE_HOT)
    theta = np.asarray(columns["vary"][f"theta_{name}"])
    return {
        "nominal": gen[0],
        "vary": attach_theta(gen[1], theta, name),
        "target_gen": gen[2],
        "sim_gen": gen[3],
        "sim_reco": reco[0],
        "target_reco": reco[1],
    }


def _models(inputs: str) -> tuple[ModelSpec, ModelSpec]:
    """(reweighter f, detector-level classifier g) networks."""
    if inputs == "pfn":
        return (
            ModelSpec("pfn", phi=(64, 64, 64), hidden=(64, 64), theta_mode="particle"),
            ModelSpec("pfn", phi=(32, 32, 32), hidden=(32, 32)),
        )
    return ModelSpec("mlp", hidden=(50, 50, 50)), ModelSpec("mlp", hidden=(32, 32))


def fit_once(t: dict, inputs: str, parameter: Parameter, seed: int, args) -> dict:
    """One run: train f, DCTR fit at generator level, SRGN scan at detector level."""
    f_spec, g_spec = _models(inputs)
    epochs = args.epochs if inputs == "pfn" else 3 * args.epochs
    f_config = DCTRConfig(
        f_spec,
        TrainingConfig(epochs=epochs, batch_size=500, patience=args.patience, seed=seed),
        nominal_anchor=args.anchor,
    )
    start = time.time()
    reweighter = DCTRReweighter.train(
        t["nominal"],
        t["vary"],
        f_config,
        nominal_theta=None if args.anchor == 0 else parameter.nominal,
    )
    trained = time.time()
    dctr = dctr_fit(reweighter, t["target_gen"], t["sim_gen"])
    name = reweighter.theta_names[0]
    gen_value = dctr.theta[name]
    g_epochs = args.g_epochs if inputs == "pfn" else 3 * args.g_epochs
    config = SRGNConfig(
        g_spec,
        TrainingConfig(epochs=g_epochs, batch_size=500, patience=2),
        warm_epochs=args.warm_epochs,
        seed=seed,
    )
    objective = SRGNObjective(reweighter, t["sim_gen"], t["sim_reco"], t["target_reco"], config)
    low, high, n = parameter.scan if args.scan is None else args.scan
    # the scan stays inside the θ range the reweighter saw (the drawn runs' extremes)
    scan = srgn_scan(objective, {name: np.linspace(low, high, n)}, clip=True)
    sim_value = scan.fitted[name]  # parabola vertex around the lowest AUC
    return {
        "generator": gen_value,
        "simulation": sim_value,
        "scan_theta": scan.points[:, 0].tolist(),
        "scan_auc": scan.flat_values.tolist(),
        "reweighter": reweighter,
        "seconds_train_f": trained - start,
        "seconds_total": time.time() - start,
    }


def _auc_figure(name: str, parameter: Parameter, scans: dict, path: Path) -> Path:
    with figure_style("cms"):
        fig = Figure(figsize=(7, 5.5))
        ax = fig.add_subplot()
        for (inputs, run), (theta, auc) in scans.items():
            auc = np.asarray(auc)
            ax.plot(
                theta,
                auc - auc.min(),
                "o-",
                color="C0" if inputs == "pfn" else "C1",
                alpha=1.0 if run == 0 else 0.4,
                label=f"{INPUT_LABELS[inputs]}" if run == 0 else None,
            )
        ax.axvline(parameter.target, color="k", ls="--", label="target")
        ax.axvline(parameter.nominal, color="gray", ls=":", label="Monash (nominal)")
        ax.set_xlabel(f"{parameter.setting} " + r"$\theta'$")
        ax.set_ylabel("AUC − min AUC (detector level)")
        ax.legend(fontsize=12)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_figure(fig, path, ("png",))
    return path


def _count(columns, level: str, field: str) -> np.ndarray:
    import awkward as ak

    total = 0
    for slot in ("jet1", "jet2"):
        total = total + ak.fill_none(columns[level][slot][field], 0)
    return ak.to_numpy(total)


def _reweighted_figures(
    name: str,
    parameter: Parameter,
    columns: dict,
    t: dict,
    reweighter: DCTRReweighter,
    figures: Path,
    suffix: str = "",
) -> list[Path]:
    """Nominal, target and nominal reweighted to the target θ: multiplicity, N strange."""
    weights = reweighter.weights(t["sim_gen"], parameter.target)
    written = []
    for field, label, top in (
        ("multiplicity", "constituents of the two leading jets", 60),
        ("n_strange", "strange hadrons in the two leading jets", 14),
    ):
        axis = hist.axis.Regular(top, -0.5, top - 0.5, name=field)
        histos = {}
        for key, sample, w in (
            ("target (data)", "target", None),
            ("Monash (nominal)", "nominal_b", None),
            ("Monash reweighted to target", "nominal_b", weights),
        ):
            values = _count(columns[sample], "gen", field)
            h = hist.Hist(axis, storage=hist.storage.Weight())
            h.fill(values, weight=np.ones(len(values)) if w is None else w)
            histos[key] = h
        written += plot_comparison(
            histos,
            reference="target (data)",
            path=figures / f"srgn_zjets_{name}_{field}{suffix}",
            xlabel=f"generator level: {label}",
            as_points=("target (data)",),
            title=f"{parameter.setting} = {parameter.target} target",
            formats=("png",),
        )
    return written


def _replot(summaries: list[Path], figures: Path) -> None:
    scans: dict[str, dict] = {}
    for path in summaries:
        for key, scan in json.loads(path.read_text())["scan"].items():
            name, inputs, _ = key.split("/")
            runs = scans.setdefault(name, {})
            # runs of separate processes (other seeds) are numbered on after each other
            runs[(inputs, sum(i == inputs for i, _ in runs))] = scan
    for name, by_run in scans.items():
        print(_auc_figure(name, PARAMETERS[name], by_run, figures / f"srgn_zjets_{name}_auc.png"))


def main(argv: list[str] | None = None) -> None:
    show_progress()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=Path("/tmp/hepnnlr_srgn/z"))
    parser.add_argument("--params", nargs="+", default=list(PARAMETERS), choices=list(PARAMETERS))
    parser.add_argument(
        "--inputs",
        nargs="+",
        default=None,
        choices=list(INPUT_LABELS),
        help="only these rows (default: every row of each parameter)",
    )
    parser.add_argument("--runs", type=int, default=1, help="runs of the PFN fits (paper 40)")
    parser.add_argument(
        "--runs-alone", type=int, default=2, help="runs of the one-feature fits (cheap)"
    )
    parser.add_argument(
        "--max-vary",
        type=int,
        default=None,
        help="use at most this many events of each vary_<p> sample",
    )
    parser.add_argument(
        "--max-target",
        type=int,
        default=None,
        help="use at most this many events of each target_<p> sample",
    )
    parser.add_argument("--epochs", type=int, default=3, help="epochs of the PFN reweighter")
    parser.add_argument(
        "--patience",
        type=int,
        default=2,
        help="early-stopping patience of the reweighter (epochs without a "
        "lower validation loss; the best epoch's weights are kept)",
    )
    parser.add_argument(
        "--g-epochs", type=int, default=3, help="epochs of g at the first scan point"
    )
    parser.add_argument(
        "--warm-epochs", type=int, default=1, help="epochs of g at later scan points (warm start)"
    )
    parser.add_argument("--max-particles", type=int, default=80)
    parser.add_argument(
        "--scan",
        type=float,
        nargs=3,
        default=None,
        metavar=("LOW", "HIGH", "N"),
        help="detector-level scan grid θ′ = linspace(LOW, HIGH, N) instead of "
        "the parameter's default (one --params only)",
    )
    parser.add_argument(
        "--anchor",
        type=float,
        default=DCTRConfig().nominal_anchor,
        help="share of each class that anchors w(x, θ0) = 1 at the nominal "
        "(Monash) point (DCTRConfig.nominal_anchor); 0: no anchor",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", type=Path, default=Path("srgn_zjets_out"))
    parser.add_argument(
        "--figures", type=Path, default=None, help="where figures go (default: the output folder)"
    )
    parser.add_argument(
        "--replot",
        type=Path,
        nargs="+",
        default=None,
        metavar="SUMMARY",
        help="only redraw the AUC figures from these summary.json files "
        "(runs split over several processes go into one figure)",
    )
    args = parser.parse_args(argv)
    figures = args.output if args.figures is None else args.figures
    if args.scan is not None:
        low, high, n = args.scan
        if len(args.params) != 1 or not (low < high and n >= 3 and n == int(n)):
            parser.error(
                "--scan LOW HIGH N needs one --params, LOW < HIGH and an integer "
                f"N >= 3; got --params {' '.join(args.params)} --scan "
                f"{low:g} {high:g} {n:g}"
            )
        args.scan = (low, high, int(n))
    if args.replot is not None:
        _replot(args.replot, figures)
        return
    args.output.mkdir(parents=True, exist_ok=True)

    start = time.time()
    base = {
        "nominal": _columns(args.samples, "nominal"),
        "nominal_b": _columns(args.samples, "nominal_b"),
    }
    summary: dict = {
        "scale": {},
        "rows": [],
        "scan": {},
        "anchor": args.anchor,
        "f_epochs": args.epochs,
        "f_patience": args.patience,
        "scan_grid": args.scan,
        "samples": str(args.samples),
    }
    for name in args.params:
        parameter = PARAMETERS[name]
        columns = dict(
            base,
            target=_columns(args.samples, f"target_{name}", args.max_target),
            vary=_columns(args.samples, f"vary_{name}", args.max_vary),
        )
        summary["scale"][name] = {k: len(v) for k, v in columns.items()}
        scans = {}
        chosen = [i for i in parameter.paper if args.inputs is None or i in args.inputs]
        for inputs in chosen:
            t = _tensors(columns, inputs, name, args.max_particles)
            runs = args.runs if inputs == "pfn" else args.runs_alone
            fits = {"generator": [], "simulation": []}
            for run in range(runs):
                result = fit_once(t, inputs, parameter, args.seed + run, args)
                for level in fits:
                    fits[level].append(result[level])
                scans[(inputs, run)] = (result["scan_theta"], result["scan_auc"])
                print(
                    f"{name} {inputs} run {run}: generator {result['generator']:.4f} "
                    f"simulation {result['simulation']:.4f} (f trained in "
                    f"{result['seconds_train_f']:.0f} s, run {result['seconds_total']:.0f} s)"
                    f" [{time.time() - start:.0f} s]",
                    flush=True,
                )
                # figures from the first run of the PFN row, else of the first row run
                if run == 0 and inputs == ("pfn" if "pfn" in chosen else chosen[0]):
                    _reweighted_figures(
                        name,
                        parameter,
                        columns,
                        t,
                        result["reweighter"],
                        figures,
                        "" if inputs == "pfn" else f"_f_{inputs}",
                    )
            for level, values in fits.items():
                values = {name: np.array(values)}
                keep = remove_outliers(values, {name: parameter.bounds})
                mean, std = summarize(values, keep if keep.any() else None)[name]
                summary["rows"].append(
                    {
                        "parameter": parameter.setting,
                        "target": parameter.target,
                        "input": INPUT_LABELS[inputs],
                        "level": level,
                        "mean": mean,
                        "std": std,
                        "runs": values[name].tolist(),
                        "kept": int(keep.sum()),
                        "paper": parameter.paper[inputs],
                    }
                )
        suffix = "" if args.inputs is None else "_" + "_".join(chosen)
        _auc_figure(name, parameter, scans, figures / f"srgn_zjets_{name}_auc{suffix}.png")
        summary["scan"].update({f"{name}/{i}/{r}": s for (i, r), s in scans.items()})

    summary["seconds"] = time.time() - start
    (args.output / "summary.json").write_text(json.dumps(summary, indent=1))
    print("\nTable III at CPU scale (mean ± std over runs; paper: 40 runs, no detector):")
    print(
        f"{'parameter':>24} {'target':>7} {'input':>22} {'level':>10} {'this run':>18} "
        f"{'paper':>16}"
    )
    for row in summary["rows"]:
        paper = "" if row["paper"] is None else f"{row['paper'][0]:.4f} ± {row['paper'][1]:.4f}"
        print(
            f"{row['parameter']:>24} {row['target']:7.4f} {row['input']:>22} "
            f"{row['level']:>10} {row['mean']:9.4f} ± {row['std']:.4f} {paper:>16} "
            f"{row['kept']}/{len(row['runs'])}"
        )
    print(f"total time {summary['seconds']:.0f} s")


if __name__ == "__main__":
    main()
