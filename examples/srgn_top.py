"""Table IV of the SRGN paper at CPU scale: the top-quark mass from triplet masses.

Samples (semi-muonic tt̄ at 13 TeV, Pythia 8 without MPI, jet-level detector emulation,
written by ``make_ttbar_sample`` and read back through ``TTbarProcessor``):

* ``nominal``: m_t = 172.5 GeV; its first half trains the reweighter (label 0), its
  second half is the simulation that SRGN reweights and the nominal side of the DCTR fit;
* ``target``: m_t = 175 GeV, the "data";
* ``run_XX``: generator runs at m_t evenly spaced over 165-180 GeV (the varied sample).

Per run (seed): a DCTR reweighter f(x_G, m_t) (MLP 3 × 50, as the paper's Gaussian
example) is trained at generator level on every event: x_G = (selected, m(b1 μ ν),
m(b2 μ ν), m(b1 j1 j2), m(b2 j1 j2)), masses 0 for events failing the generator-level
selection, so f also carries the selection efficiency's m_t dependence and can weight
every simulated event. Generator level: the DCTR fit (Eq. 3) and an SRGN scan with
x_S = x_G; simulation level: an SRGN scan with the reconstructed masses of the events
selected at detector level, g an MLP trained between the target and the second nominal half
weighted by f (warm-started along the scan). The fitted value is the minimum of a
parabola through the lowest AUC points. The row "m(b μ ν)" repeats everything with
m(b1 μ ν) alone. Mean ± std over runs after the paper's outlier rule.

    python examples/srgn_top.py --samples /tmp/hepnnlr_srgn/tt -o /tmp/srgn_top \\
        --figures docs/figures
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import awkward as ak
import hist
import matplotlib
import mplhep
import numpy as np
from _srgn_pythia import (
    attach_theta,
    processed_columns,
    standardize,
    top_tensors,
)
from matplotlib.figure import Figure

from hepnnlr.methods.dctr import DCTRConfig, DCTRReweighter, dctr_fit
from hepnnlr.methods.srgn import SRGNConfig, SRGNObjective, remove_outliers, srgn_scan, summarize
from hepnnlr.models.spec import ModelSpec
from hepnnlr.observables.top import TOP_MASS_FIELDS
from hepnnlr.processors.ttbar import TTbarProcessor, collect_columns
from hepnnlr.results.plots import plot_comparison
from hepnnlr.training import TrainingConfig

NOMINAL, TARGET = 172.5, 175.0
# the varied runs span 165-180 GeV; the reweighter maps that range onto [-1, 1] itself
INPUTS = {"O4": TOP_MASS_FIELDS, "mbmunu": ("m_b1munu",)}
LABELS = {"O4": "O4 (four masses)", "mbmunu": "m(b1 mu nu)"}
PAPER = {("O4", "generator"): (175.07, 0.19), ("O4", "simulation"): (174.96, 0.31),
         ("mbmunu", "generator"): (175.13, 0.42), ("mbmunu", "simulation"): (175.06, 0.54)}


def _columns(samples: Path, label: str):
    return processed_columns(samples / f"{label}.root", TTbarProcessor, collect_columns)


def _tensors(columns: dict, masses: tuple[str, ...]) -> dict:
    """Standardized inputs: gen level of every event, reco level of reco-selected events."""
    nominal = columns["nominal"]
    half = len(nominal) // 2
    nominal_a, nominal_b = nominal[:half], nominal[half:]
    vary = columns["vary"]
    gen = [top_tensors(c, "gen", masses)[0]
           for c in (nominal_a, vary, columns["target"], nominal_b)]
    # mass scales from the selected events only (the others hold zeros and a flag 0)
    gen = standardize(*gen, keep=("selected",), weights=gen[0].globals[:, 0])
    sim_reco, sim_selected = top_tensors(nominal_b, "reco", masses)
    data_reco, data_selected = top_tensors(columns["target"], "reco", masses)
    sim_reco = sim_reco.subset(np.flatnonzero(sim_selected))
    data_reco = data_reco.subset(np.flatnonzero(data_selected))
    sim_reco, data_reco = standardize(sim_reco, data_reco, keep=("selected",))
    theta = ak.to_numpy(vary.top_mass)
    return {"nominal": gen[0], "vary": attach_theta(gen[1], theta, "top_mass"),
            "target_gen": gen[2], "sim_gen": gen[3],
            "sim_gen_selected": gen[3].subset(np.flatnonzero(sim_selected)),
            "sim_reco": sim_reco, "target_reco": data_reco, "nominal_b": nominal_b,
            "sim_selected": sim_selected}


def _scan(reweighter, generator, simulation, data, seed: int, args) -> tuple[float, list, list]:
    config = SRGNConfig(ModelSpec("mlp", hidden=(64, 64)),
                        TrainingConfig(epochs=args.g_epochs, batch_size=500, patience=3),
                        warm_epochs=args.warm_epochs, seed=seed)
    objective = SRGNObjective(reweighter, generator, simulation, data, config)
    grid = np.arange(args.scan[0], args.scan[1] + 1e-9, args.scan[2])
    # inside the θ range f saw; the fit is the parabola vertex around the lowest AUC
    scan = srgn_scan(objective, {"top_mass": grid}, clip=True)
    return scan.fitted["top_mass"], scan.points[:, 0].tolist(), scan.auc.tolist()


def fit_once(t: dict, seed: int, args) -> dict:
    """One run: train f; DCTR fit and SRGN scan at generator level; SRGN scan with x_S."""
    start = time.time()
    config = DCTRConfig(ModelSpec("mlp", hidden=(50, 50, 50)),
                        TrainingConfig(epochs=args.epochs, batch_size=500, patience=5,
                                       seed=seed))
    reweighter = DCTRReweighter.train(t["nominal"], t["vary"], config)
    dctr = dctr_fit(reweighter, t["target_gen"], t["sim_gen"])
    gen_scan = _scan(reweighter, t["sim_gen"], t["sim_gen"], t["target_gen"], seed, args)
    sim_scan = _scan(reweighter, t["sim_gen_selected"], t["sim_reco"], t["target_reco"], seed,
                     args)
    return {"dctr": dctr.theta["top_mass"],
            "generator": gen_scan[0], "simulation": sim_scan[0],
            "scans": {"generator": gen_scan[1:], "simulation": sim_scan[1:]},
            "reweighter": reweighter, "seconds": time.time() - start}


def _auc_figure(scans: dict, path: Path) -> Path:
    with matplotlib.style.context(mplhep.style.CMS):
        fig = Figure(figsize=(7, 5.5))
        ax = fig.add_subplot()
        styles = {("O4", "generator"): "C0", ("O4", "simulation"): "C1",
                  ("mbmunu", "generator"): "C2", ("mbmunu", "simulation"): "C3"}
        for (inputs, level, run), (grid, auc) in scans.items():
            auc = np.asarray(auc)
            ax.plot(grid, auc - auc.min(), "o-", color=styles[(inputs, level)], ms=4,
                    alpha=1.0 if run == 0 else 0.35,
                    label=f"{LABELS[inputs]}, {level}" if run == 0 else None)
        ax.axvline(TARGET, color="k", ls="--", label="target 175 GeV")
        ax.set_xlabel(r"$M_t'$ [GeV]")
        ax.set_ylabel("AUC − min AUC")
        ax.legend(fontsize=11)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, bbox_inches="tight", dpi=100)
    return path


def _reweighted_figures(columns: dict, t: dict, reweighter, figures: Path) -> list[Path]:
    """m(b1 μ ν) at both levels: target, nominal, nominal reweighted to 175 GeV."""
    weights = reweighter.weights(t["sim_gen"], TARGET)
    written = []
    for level in ("gen", "reco"):
        axis = hist.axis.Regular(30, 100, 250, name="m")
        histos = {}
        for key, sample, w in (("target 175 GeV", columns["target"], None),
                               ("nominal 172.5 GeV", t["nominal_b"], None),
                               ("nominal reweighted to 175", t["nominal_b"], weights)):
            selected = ak.to_numpy(sample[level].reason) == 0
            mass = ak.to_numpy(ak.fill_none(sample[level].m_b1munu, 0.0))[selected]
            h = hist.Hist(axis, storage=hist.storage.Weight())
            h.fill(mass, weight=np.ones(len(mass)) if w is None else w[selected])
            histos[key] = h
        written += plot_comparison(
            histos, reference="target 175 GeV", path=figures / f"srgn_top_mb1munu_{level}",
            xlabel=rf"{'generator' if level == 'gen' else 'detector'} level "
                   r"$m_{b_1\mu\nu}$ [GeV]",
            as_points=("target 175 GeV",), formats=("png",))
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=Path("/tmp/hepnnlr_srgn/tt"))
    parser.add_argument("--runs", type=int, default=3, help="independent runs (paper: 40)")
    parser.add_argument("--epochs", type=int, default=30, help="reweighter epochs (max)")
    parser.add_argument("--g-epochs", type=int, default=15, help="g epochs, first scan point")
    parser.add_argument("--warm-epochs", type=int, default=2)
    parser.add_argument("--scan", type=float, nargs=3, default=(168.0, 180.0, 1.0),
                        metavar=("LOW", "HIGH", "STEP"), help="m_t' grid in GeV")
    parser.add_argument("--inputs", nargs="+", default=list(INPUTS), choices=list(INPUTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", type=Path, default=Path("srgn_top_out"))
    parser.add_argument("--figures", type=Path, default=None)
    args = parser.parse_args(argv)
    figures = args.output if args.figures is None else args.figures
    args.output.mkdir(parents=True, exist_ok=True)

    start = time.time()
    runs = sorted(args.samples.glob("run_*.root"))
    columns = {"nominal": _columns(args.samples, "nominal"),
               "target": _columns(args.samples, "target"),
               "vary": ak.concatenate([_columns(args.samples, p.stem) for p in runs])}
    masses = np.unique(ak.to_numpy(columns["vary"].top_mass))
    summary: dict = {"scale": {k: len(v) for k, v in columns.items()},
                     "selected": {k: {lv: int(np.sum(ak.to_numpy(v[lv].reason) == 0))
                                      for lv in ("gen", "reco")} for k, v in columns.items()},
                     "vary_masses": masses.tolist(), "rows": [], "scans": {}}
    print(f"samples {summary['scale']}, selected {summary['selected']}, "
          f"{len(masses)} mass points [{time.time() - start:.0f} s]", flush=True)
    scans = {}
    for inputs in args.inputs:
        t = _tensors(columns, INPUTS[inputs])
        fits = {"dctr": [], "generator": [], "simulation": []}
        for run in range(args.runs):
            result = fit_once(t, args.seed + run, args)
            for level in fits:
                fits[level].append(result[level])
            for level, scan in result["scans"].items():
                scans[(inputs, level, run)] = scan
            print(f"{inputs} run {run}: DCTR {result['dctr']:.2f}  SRGN generator "
                  f"{result['generator']:.2f}  simulation {result['simulation']:.2f} "
                  f"({result['seconds']:.0f} s) [{time.time() - start:.0f} s]", flush=True)
            if inputs == "O4" and run == 0:
                _reweighted_figures(columns, t, result["reweighter"], figures)
        for level, values in fits.items():
            values = {"top_mass": np.array(values)}
            keep = remove_outliers(values, {"top_mass": (165.0, 180.0)})
            mean, std = summarize(values, keep if keep.any() else None)["top_mass"]
            paper = PAPER.get((inputs, "generator" if level == "dctr" else level))
            summary["rows"].append({"input": LABELS[inputs], "level": level, "mean": mean,
                                    "std": std, "runs": values["top_mass"].tolist(),
                                    "kept": int(keep.sum()), "paper": paper})
    summary["scans"] = {"/".join(map(str, k)): v for k, v in scans.items()}
    _auc_figure(scans, figures / f"srgn_top_auc_{'_'.join(args.inputs)}.png")
    summary["seconds"] = time.time() - start
    (args.output / "summary.json").write_text(json.dumps(summary, indent=1))
    print("\nTable IV at CPU scale (target 175 GeV; mean ± std over runs; paper: 40 runs):")
    for row in summary["rows"]:
        paper = "" if row["paper"] is None else f"{row['paper'][0]:.2f} ± {row['paper'][1]:.2f}"
        print(f"{row['input']:>18} {row['level']:>11} {row['mean']:8.2f} ± {row['std']:.2f}"
              f"  paper {paper}  kept {row['kept']}/{len(row['runs'])}")
    print(f"total time {summary['seconds']:.0f} s")


if __name__ == "__main__":
    main()
