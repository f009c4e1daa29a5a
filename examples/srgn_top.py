"""Table IV of arXiv:2010.03569 at CPU scale: the top-quark mass from triplet masses.

Reference: Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural
Networks in the Presence of Detector Effects", arXiv:2010.03569.

Samples (semi-muonic tt̄ at 13 TeV, Pythia 8 without MPI, jet-level detector emulation,
written by ``make_ttbar_sample`` and read back through ``TTbarProcessor``):

* ``nominal``: m_t = 172.5 GeV; its first half trains the reweighter (label 0), its
  second half is the simulation that SRGN reweights and the nominal side of the DCTR fit;
* ``target``: m_t = 175 GeV, the "data";
* ``run_XX``: generator runs at m_t evenly spaced over 165-180 GeV (the varied sample);
* optionally ``--extra-nominal`` files at 172.5 GeV (added to the simulation only) and
  ``--extra-target`` files at 175 GeV (added to the data), for the ``simx`` / ``datax``
  variants below.

Per run (seed): a DCTR reweighter f(x_G, m_t) (MLP 3 × 50, as the Gaussian example of
arXiv:2010.03569) is trained at generator level on every event, anchored at the nominal point
(``nominal_theta = 172.5``, :attr:`DCTRConfig.nominal_anchor`): x_G = (selected,
m(b1 μ ν), m(b2 μ ν), m(b1 j1 j2), m(b2 j1 j2)), masses 0 for events failing the
generator-level selection, so f also carries the selection efficiency's m_t dependence
and can weight every simulated event. Generator level: the DCTR fit (Eq. 3) and an SRGN
scan with x_S = x_G. Detector level: SRGN with the reconstructed masses of the events
selected at detector level, g an MLP trained between the target and the simulation
weighted by f. Every ``--detector`` variant reuses the run's f (a paired comparison):

    <strategy>-<fit>[-simx][-datax]

``strategy`` is how g is trained per m_t' (``warm``, ``refit``, ``naive``: see
:mod:`hepnnlr.methods.srgn`); ``fit`` is ``scan`` (the ``--scan`` grid, parabola vertex around the
lowest AUC), ``fine`` (that scan, then a ``--fine`` grid around its vertex and a parabola through
every point within ``--fine`` half width of it) or ``powell`` (bounded Powell over the scan range,
as ``hepnnlr fit srgn``); ``simx`` adds the extra nominal events to the simulation, ``datax`` the
extra target events to the data. Mean ± std over runs after the outlier rule of arXiv:2010.03569.
The row "m(b μ ν)" repeats everything with m(b1 μ ν) alone.

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
import numpy as np
from _results import show_progress
from _srgn_pythia import (
    attach_theta,
    processed_columns,
    standardize,
    top_tensors,
)
from matplotlib.figure import Figure

from hepnnlr.errors import ConfigError
from hepnnlr.methods.dctr import DCTRConfig, DCTRReweighter, dctr_fit
from hepnnlr.methods.scans import parabola_vertex
from hepnnlr.methods.srgn import (
    SRGN_STRATEGIES,
    SRGNConfig,
    SRGNObjective,
    remove_outliers,
    srgn_fit,
    srgn_scan,
    summarize,
)
from hepnnlr.models.spec import ModelSpec
from hepnnlr.observables.top import TOP_MASS_FIELDS
from hepnnlr.processors.ttbar import TTbarProcessor, collect_columns
from hepnnlr.results.plots import plot_comparison, save_figure
from hepnnlr.results.style import figure_style
from hepnnlr.training import TrainingConfig

NOMINAL, TARGET = 172.5, 175.0
# the varied runs span 165-180 GeV; the reweighter maps that range onto [-1, 1] itself
INPUTS = {"O4": TOP_MASS_FIELDS, "mbmunu": ("m_b1munu",)}
LABELS = {"O4": "O4 (four masses)", "mbmunu": "m(b1 mu nu)"}
PAPER = {
    ("O4", "generator"): (175.07, 0.19),
    ("O4", "simulation"): (174.96, 0.31),
    ("mbmunu", "generator"): (175.13, 0.42),
    ("mbmunu", "simulation"): (175.06, 0.54),
}
FITS = ("scan", "fine", "powell")
EXTRAS = ("simx", "datax")


def _columns(path: Path):
    return processed_columns(path, TTbarProcessor, collect_columns)


def _variant(name: str) -> dict:
    """``<strategy>-<fit>[-simx][-datax]`` as its parts; a clear error otherwise."""
    parts = name.split("-")
    extras = parts[2:]
    if (
        len(parts) < 2
        or parts[0] not in SRGN_STRATEGIES
        or parts[1] not in FITS
        or any(e not in EXTRAS for e in extras)
        or len(set(extras)) != len(extras)
    ):
        raise ConfigError(
            f"--detector {name!r}: expected <strategy>-<fit>[-simx][-datax] with strategy "
            f"one of {SRGN_STRATEGIES} and fit one of {FITS}, e.g. 'refit-scan-simx'."
        )
    return {
        "strategy": parts[0],
        "fit": parts[1],
        "sim": "simx" if "simx" in extras else "base",
        "data": "datax" if "datax" in extras else "base",
    }


def _tensors(columns: dict, masses: tuple[str, ...]) -> dict:
    """Standardized inputs: gen level of every event, reco level of reco-selected events.

    ``sim`` / ``data`` hold the simulation and the data sets by key (``base``, and
    ``simx`` / ``datax`` with the extra files): full generator level, generator level of
    the detector-selected events, and detector level of those events.
    """
    nominal = columns["nominal"]
    half = len(nominal) // 2
    sims = {"base": nominal[half:]}
    datas = {"base": columns["target"]}
    if columns["extra_nominal"]:
        sims["simx"] = ak.concatenate([nominal[half:], *columns["extra_nominal"]])
    if columns["extra_target"]:
        datas["datax"] = ak.concatenate([columns["target"], *columns["extra_target"]])
    vary = columns["vary"]
    sets = [*sims.values(), *datas.values()]
    gen = [top_tensors(c, "gen", masses)[0] for c in (nominal[:half], vary, *sets)]
    # mass scales from the selected events only (the others hold zeros and a flag 0)
    gen = standardize(*gen, keep=("selected",), weights=gen[0].globals[:, 0])
    reco = []
    for c in sets:
        tensors, selected = top_tensors(c, "reco", masses)
        reco.append((tensors.subset(np.flatnonzero(selected)), selected))
    # detector-level scales from the base simulation's selected events
    scaled = standardize(*(r[0] for r in reco), keep=("selected",))
    out: dict = {
        "nominal": gen[0],
        "vary": attach_theta(gen[1], ak.to_numpy(vary.top_mass), "top_mass"),
        "sim": {},
        "data": {},
        "nominal_b": sims["base"],
    }
    for k, key in enumerate(sims):
        selected = reco[k][1]
        out["sim"][key] = {
            "gen": gen[2 + k],
            "n": len(selected),
            "gen_selected": gen[2 + k].subset(np.flatnonzero(selected)),
            "reco": scaled[k],
        }
    for k, key in enumerate(datas, start=len(sims)):
        out["data"][key] = {"gen": gen[2 + k], "reco": scaled[k], "n": len(reco[k][1])}
    return out


def _srgn_config(strategy: str, seed: int, args) -> SRGNConfig:
    return SRGNConfig(
        ModelSpec("mlp", hidden=(64, 64)),
        TrainingConfig(epochs=args.g_epochs, batch_size=args.g_batch, patience=args.g_patience),
        warm_epochs=args.warm_epochs,
        seed=seed,
        strategy=strategy,
        xtol=args.xtol,
    )


def _srgn(
    reweighter, generator, simulation, data, strategy: str, fit: str, seed: int, args
) -> dict:
    """One SRGN fit of m_t: the value, the evaluated (m_t', AUC) points, the cost."""
    start, cpu = time.time(), time.process_time()
    objective = SRGNObjective(
        reweighter, generator, simulation, data, _srgn_config(strategy, seed, args)
    )
    low, high, step = args.scan
    out: dict = {}
    if fit == "powell":
        result = srgn_fit(objective, bounds={"top_mass": (low, high)})
        out["value"] = result.theta["top_mass"]
    else:
        grid = np.arange(low, high + 1e-9, step)
        # inside the θ range f saw; the fit is the parabola vertex around the lowest AUC
        scan = srgn_scan(objective, {"top_mass": grid}, clip=True)
        out["value"] = scan.fitted["top_mass"]
        out["grid_min"] = scan.minimum["top_mass"]
        # the same scan read with a parabola through ±4 grid points (no new trainings)
        wide = parabola_vertex(scan.points[:, 0], scan.flat_values, window=4)
        out["wide"] = scan.minimum["top_mass"] if wide is None else wide
        if fit == "fine":
            coarse = out["value"]
            half_width, fine_step = args.fine
            fine = np.arange(coarse - half_width, coarse + half_width + 1e-9, fine_step)
            srgn_scan(objective, {"top_mass": fine}, clip=True)
            points = np.array([p[0] for p, _ in objective.history])
            auc = np.array([a for _, a in objective.history])
            near = np.abs(points - coarse) <= half_width
            x, order = points[near], np.argsort(points[near], kind="stable")
            vertex = parabola_vertex(x[order], auc[near][order], window=len(x))
            out["value"] = float(x[np.argmin(auc[near])]) if vertex is None else vertex
    # every point once (Powell's line searches revisit points; the AUC is cached there)
    out["points"] = [[p, a] for p, a in {p[0]: a for p, a in objective.history}.items()]
    out["trainings"] = objective.n_trainings
    out["seconds"], out["cpu"] = time.time() - start, time.process_time() - cpu
    return out


def fit_once(t: dict, seed: int, args) -> dict:
    """One run: train f; DCTR fits and an SRGN scan at generator level; every detector
    variant with that f."""
    start, cpu = time.time(), time.process_time()
    config = DCTRConfig(
        ModelSpec("mlp", hidden=(50, 50, 50)),
        TrainingConfig(epochs=args.epochs, batch_size=500, patience=args.f_patience, seed=seed),
        nominal_anchor=args.anchor,
    )
    reweighter = DCTRReweighter.train(
        t["nominal"], t["vary"], config, nominal_theta=NOMINAL if args.anchor > 0 else None
    )
    levels: dict = {
        "f": {
            "seconds": time.time() - start,
            "cpu": time.process_time() - cpu,
            "epochs": len(reweighter.classifier.history.get("loss", [])),
        }
    }
    for sim, data in (("base", "base"), ("simx", "datax")):
        if sim in t["sim"] and data in t["data"]:
            key = "dctr" if sim == "base" else "dctr-simx-datax"
            fit = dctr_fit(reweighter, t["data"][data]["gen"], t["sim"][sim]["gen"])
            levels[key] = {"value": fit.theta["top_mass"]}
    gen = t["sim"]["base"]["gen"]
    if args.gen_strategy != "none":
        levels["generator"] = _srgn(
            reweighter, gen, gen, t["data"]["base"]["gen"], args.gen_strategy, "scan", seed, args
        )
    for name in args.detector:
        v = _variant(name)
        sim = t["sim"][v["sim"]]
        levels[name] = _srgn(
            reweighter,
            sim["gen_selected"],
            sim["reco"],
            t["data"][v["data"]]["reco"],
            v["strategy"],
            v["fit"],
            seed,
            args,
        )
    return {
        "levels": levels,
        "reweighter": reweighter,
        "seconds": time.time() - start,
        "cpu": time.process_time() - cpu,
    }


def _auc_figure(runs: list[dict], inputs: str, path: Path) -> Path:
    """AUC − min AUC against m_t' for every scanned level; run 0 solid, the others faded."""
    with figure_style("cms"):
        fig = Figure(figsize=(8, 6))
        ax = fig.add_subplot()
        names = [k for k, v in runs[0].items() if "grid_min" in v]
        for i, name in enumerate(names):
            for run, levels in enumerate(runs):
                points = np.array(sorted(levels[name]["points"]))
                ax.plot(
                    points[:, 0],
                    points[:, 1] - points[:, 1].min(),
                    "o-",
                    color=f"C{i}",
                    ms=3,
                    lw=1,
                    alpha=1.0 if run == 0 else 0.3,
                    label=name if run == 0 else None,
                )
        ax.axvline(TARGET, color="k", ls="--", label="target 175 GeV")
        ax.set_xlabel(r"$M_t'$ [GeV]")
        ax.set_ylabel("AUC − min AUC")
        ax.set_title(LABELS[inputs], fontsize=14)
        ax.legend(fontsize=10, ncol=2)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_figure(fig, path, ("png",))
    return path


def _values_figure(rows: list[dict], path: Path) -> Path:
    """Per input set and level: the runs' fitted m_t and their mean ± std."""
    with figure_style("cms"):
        fig = Figure(figsize=(8, 0.45 * len(rows) + 1.5))
        ax = fig.add_subplot()
        for y, row in enumerate(rows):
            ax.plot(row["runs"], [y] * len(row["runs"]), "o", color="C0", ms=4, alpha=0.6)
            ax.errorbar(row["mean"], y, xerr=row["std"], fmt="s", color="C1", ms=6)
        ax.axvline(TARGET, color="k", ls="--")
        ax.set_yticks(range(len(rows)), [f"{r['inputs']}: {r['level']}" for r in rows], fontsize=10)
        ax.set_xlabel(r"fitted $m_t$ [GeV] (dots: runs, squares: mean ± std)")
        path.parent.mkdir(parents=True, exist_ok=True)
        save_figure(fig, path, ("png",))
    return path


def _reweighted_figures(columns: dict, t: dict, reweighter, figures: Path) -> list[Path]:
    """m(b1 μ ν) at both levels: target, nominal, nominal reweighted to 175 GeV."""
    weights = reweighter.weights(t["sim"]["base"]["gen"], TARGET)
    written = []
    for level in ("gen", "reco"):
        axis = hist.axis.Regular(30, 100, 250, name="m")
        histos = {}
        for key, sample, w in (
            ("target 175 GeV", columns["target"], None),
            ("nominal 172.5 GeV", t["nominal_b"], None),
            ("nominal reweighted to 175", t["nominal_b"], weights),
        ):
            selected = ak.to_numpy(sample[level].reason) == 0
            mass = ak.to_numpy(ak.fill_none(sample[level].m_b1munu, 0.0))[selected]
            h = hist.Hist(axis, storage=hist.storage.Weight())
            h.fill(mass, weight=np.ones(len(mass)) if w is None else w[selected])
            histos[key] = h
        written += plot_comparison(
            histos,
            reference="target 175 GeV",
            path=figures / f"srgn_top_mb1munu_{level}",
            xlabel=rf"{'generator' if level == 'gen' else 'detector'} level "
            r"$m_{b_1\mu\nu}$ [GeV]",
            as_points=("target 175 GeV",),
            formats=("png",),
        )
    return written


def _summary_rows(inputs: str, runs: list[dict], bounds: tuple[float, float]) -> list[dict]:
    """Mean ± std per level over runs, after the outlier rule of arXiv:2010.03569 on the fit
    range."""
    rows = []
    for level in runs[0]:
        if level == "f":
            continue
        values = {"top_mass": np.array([r[level]["value"] for r in runs])}
        keep = remove_outliers(values, {"top_mass": bounds})
        mean, std = summarize(values, keep if keep.any() else None)["top_mass"]
        generator = level.startswith("dctr") or level == "generator"
        rows.append(
            {
                "inputs": inputs,
                "input": LABELS[inputs],
                "level": level,
                "mean": mean,
                "std": std,
                "runs": values["top_mass"].tolist(),
                "kept": int(keep.sum()),
                "cpu": float(np.mean([r[level].get("cpu", 0.0) for r in runs])),
                "paper": PAPER[(inputs, "generator" if generator else "simulation")],
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    show_progress()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=Path("/tmp/hepnnlr_srgn/tt"))
    parser.add_argument(
        "--extra-nominal",
        type=Path,
        nargs="*",
        default=[],
        help="more ROOT files at 172.5 GeV, added to the simulation (simx)",
    )
    parser.add_argument(
        "--extra-target",
        type=Path,
        nargs="*",
        default=[],
        help="more ROOT files at 175 GeV, added to the data (datax)",
    )
    parser.add_argument("--runs", type=int, default=3, help="independent runs (paper: 40)")
    parser.add_argument("--epochs", type=int, default=30, help="reweighter epochs (max)")
    parser.add_argument(
        "--f-patience", type=int, default=5, help="reweighter early-stopping patience"
    )
    parser.add_argument(
        "--anchor",
        type=float,
        default=DCTRConfig.nominal_anchor,
        help="DCTRConfig.nominal_anchor at 172.5 GeV (0: no anchor)",
    )
    parser.add_argument("--g-epochs", type=int, default=15, help="g epochs (from scratch)")
    parser.add_argument("--g-patience", type=int, default=3, help="g early-stopping patience")
    parser.add_argument("--g-batch", type=int, default=500, help="g batch size")
    parser.add_argument("--warm-epochs", type=int, default=2)
    parser.add_argument(
        "--scan",
        type=float,
        nargs=3,
        default=(168.0, 180.0, 1.0),
        metavar=("LOW", "HIGH", "STEP"),
        help="m_t' grid in GeV",
    )
    parser.add_argument(
        "--fine",
        type=float,
        nargs=2,
        default=(1.5, 0.25),
        metavar=("HALF", "STEP"),
        help="fine grid around a scan's vertex",
    )
    parser.add_argument(
        "--xtol",
        type=float,
        default=0.01,
        help="Powell's xtol on f's unit scale (0.01 = 0.075 GeV)",
    )
    parser.add_argument(
        "--gen-strategy",
        default="refit",
        choices=(*SRGN_STRATEGIES, "none"),
        help="g's training in the generator-level SRGN scan; none: no scan",
    )
    parser.add_argument(
        "--detector",
        nargs="+",
        default=["refit-scan"],
        help="detector-level variants <strategy>-<fit>[-simx][-datax]",
    )
    parser.add_argument("--inputs", nargs="+", default=list(INPUTS), choices=list(INPUTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", type=Path, default=Path("srgn_top_out"))
    parser.add_argument("--figures", type=Path, default=None)
    args = parser.parse_args(argv)
    variants = [_variant(name) for name in args.detector]
    if any(v["sim"] == "simx" for v in variants) and not args.extra_nominal:
        parser.error("a '-simx' variant needs --extra-nominal files")
    if any(v["data"] == "datax" for v in variants) and not args.extra_target:
        parser.error("a '-datax' variant needs --extra-target files")
    figures = args.output if args.figures is None else args.figures
    args.output.mkdir(parents=True, exist_ok=True)

    start = time.time()
    runs = sorted(args.samples.glob("run_*.root"))
    columns = {
        "nominal": _columns(args.samples / "nominal.root"),
        "target": _columns(args.samples / "target.root"),
        "vary": ak.concatenate([_columns(p) for p in runs]),
        "extra_nominal": [_columns(p) for p in args.extra_nominal],
        "extra_target": [_columns(p) for p in args.extra_target],
    }
    masses = np.unique(ak.to_numpy(columns["vary"].top_mass))
    summary: dict = {
        "args": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
            if k not in ("extra_nominal", "extra_target")
        },
        "vary_masses": masses.tolist(),
        "rows": [],
        "runs": {},
    }
    print(f"{len(masses)} mass points [{time.time() - start:.0f} s]", flush=True)
    for inputs in args.inputs:
        t = _tensors(columns, INPUTS[inputs])
        summary["events"] = {
            **{
                f"sim_{k}": {"all": v["n"], "reco_selected": len(v["reco"])}
                for k, v in t["sim"].items()
            },
            **{
                f"data_{k}": {"all": v["n"], "reco_selected": len(v["reco"])}
                for k, v in t["data"].items()
            },
            "f_nominal": len(t["nominal"]),
            "f_varied": len(t["vary"]),
        }
        print(f"{inputs}: events {summary['events']}", flush=True)
        results = []
        for run in range(args.runs):
            result = fit_once(t, args.seed + run, args)
            results.append(result["levels"])
            values = "  ".join(
                f"{k} {v['value']:.2f}" for k, v in result["levels"].items() if "value" in v
            )
            print(
                f"{inputs} run {run}: {values} ({result['seconds']:.0f} s wall, "
                f"{result['cpu']:.0f} s CPU) [{time.time() - start:.0f} s]",
                flush=True,
            )
            if inputs == "O4" and run == 0:
                _reweighted_figures(columns, t, result["reweighter"], figures)
            summary["runs"][inputs] = results  # written after every run
            (args.output / "summary.json").write_text(json.dumps(summary, indent=1))
        summary["rows"] += _summary_rows(inputs, results, tuple(args.scan[:2]))
        _auc_figure(results, inputs, figures / f"srgn_top_auc_{inputs}.png")
    _values_figure(summary["rows"], figures / f"srgn_top_values_{'_'.join(args.inputs)}.png")
    summary["seconds"] = time.time() - start
    (args.output / "summary.json").write_text(json.dumps(summary, indent=1))
    print("\nTable IV at CPU scale (target 175 GeV; mean ± std over runs; paper: 40 runs):")
    for row in summary["rows"]:
        paper = f"{row['paper'][0]:.2f} ± {row['paper'][1]:.2f}"
        print(
            f"{row['input']:>18} {row['level']:>24} {row['mean']:8.2f} ± {row['std']:.2f}"
            f"  paper {paper}  kept {row['kept']}/{len(row['runs'])}  "
            f"runs {', '.join(f'{v:.2f}' for v in row['runs'])}"
        )
    print(f"total time {summary['seconds']:.0f} s")


if __name__ == "__main__":
    main()
