"""Signal strength μ of H → ττ over Z → ττ with the τ_h energy scale z as nuisance.

Reference: B. Sluijter, "Classifiers versus Normalizing Flows for uncertainty-aware
estimation of a signal ratio", MSc thesis, Leiden University 2024, hdl:1887/4104579.

The physics case of §3.1.2 of hdl:1887/4104579, on hepnnlr's own Pythia 8 samples:
signal gg → H(125) → ττ, background γ*/Z → ττ, one τ → e/μ and one → hadrons in both,
features m_vis(τ_h, ℓ) and pT(ℓ)/pT(τ_h), the τ_h energy scale z applied at detector level
(:mod:`hepnnlr.samples.tautau_reco`), z0 = 1.0.

Steps:

1. Pythia generator level (:func:`hepnnlr.samples.tautau.generate_tautau`), in chunks
   cached as parquet under ``--cache`` (reused when present). The events of each process
   are split into disjoint *training* (50 %), *reference* (20 %) and *test* (30 %) parts.
2. Detector level at several z, written as ROOT files: training events with z drawn per
   event uniformly in ``--z-range`` (each generator event ``--replicas`` times with other
   detector seeds), reference events at z0 = 1.0, test events at each of ``--test-z``
   (the 0.9, 1.0, 1.1 of hdl:1887/4104579).
3. :class:`hepnnlr.processors.tautau.TauTauProcessor` over every file (coffea, executor
   ``--executor``); the selected events' (m_vis, pT ratio) are the inputs.
4. Both routes of :mod:`hepnnlr.methods.signal_strength`: the parameterized classifiers
   f_sig, f_bkg (Eq. 2.8, §3.2.1 batches) and the conditional flows (§2.2).
5. One pseudo-dataset at (μ, z) = (``--mu``, 1.0) from the test events: NLL grid, Wilks
   intervals, iminuit, contours and profiles (:func:`hepnnlr.workflows.infer.scan_and_report`).
6. Coverage: at every true (μ, z) of ``--truth-mu`` × ``--test-z`` a test set of N events
   drawn without replacement from the test events (signal fraction μ/(1+μ)), bootstrap sets
   of n events, the metrics of §3.3 of hdl:1887/4104579
   (:func:`hepnnlr.workflows.infer.coverage_study`; no true likelihood exists here, so no
   overlaps).
7. Figure of the features of signal and background at each test z (as figure 3.2 of
   hdl:1887/4104579) from the processor's histograms.

Scale of the committed numbers: see ``docs/fragments/issue8_tautau.md`` (the command, the
event counts and the time). Run niced, with one thread per process::

    TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 OMP_NUM_THREADS=1 \\
        nice -n 19 python examples/signal_strength_tautau.py -o out/tautau \\
        --signal-events 30000 --background-events 30000 --cache out/tautau-gen
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import awkward as ak
import numpy as np
from _results import show_progress

from hepnnlr.errors import ConfigError
from hepnnlr.methods.signal_strength import (
    ParameterizedSample,
    scan_nll,
    train_classifier_route,
    train_flow_route,
)
from hepnnlr.models.flows import FlowSpec
from hepnnlr.models.spec import ModelSpec
from hepnnlr.processors.tautau import (
    TauTauProcessor,
    collect_columns,
    collect_cutflow,
    collect_hists,
    feature_table,
)
from hepnnlr.results.contours import plot_nll_contours, plot_profiles
from hepnnlr.results.plots import save_figure, y_label
from hepnnlr.results.style import experiment_label, in_default_style
from hepnnlr.samples.tautau import TauTauConfig, generate_tautau
from hepnnlr.samples.tautau_reco import simulate_tautau_detector, write_tautau_events
from hepnnlr.schema import run_processor
from hepnnlr.training.config import TrainingConfig
from hepnnlr.workflows.infer import coverage_study, scan_and_report

FEATURES = ("m_vis", "pt_ratio")
Z0 = 1.0
PROCESSES = ("signal", "background")
SPLIT = (0.5, 0.2)  # training, reference; the rest is for test sets
REF_PASSES = 3  # detector passes of a reference event per pass of a training event


def generator_events(process: str, n_events: int, cache: Path, chunk: int, seed: int) -> ak.Array:
    """``n_events`` generator-level events of ``process``, from the cache or Pythia.

    Every ``gen_<process>_*.parquet`` in ``cache`` is used (sorted by name); missing events
    are generated in chunks of ``chunk`` with seeds ``seed``, ``seed + 1``, ... and cached.
    """
    cache.mkdir(parents=True, exist_ok=True)
    pieces: list[ak.Array] = []
    for path in sorted(cache.glob(f"gen_{process}_*.parquet")):
        pieces.append(ak.from_parquet(path))
    have = sum(len(p) for p in pieces)
    k = 0
    while have < n_events:
        path = cache / f"gen_{process}_{chunk}_{seed + k}.parquet"
        if not path.exists():
            started = time.perf_counter()
            events = generate_tautau(chunk, seed=seed + k, config=TauTauConfig(process))
            ak.to_parquet(events, path)
            pieces.append(events)
            have += len(events)
            print(
                f"  {process}: {chunk} events (seed {seed + k}) in "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
        k += 1
    events = ak.concatenate(pieces)[:n_events]
    return ak.with_field(events, np.arange(len(events), dtype=np.uint64), "event")


def write_detector_files(gen: dict[str, ak.Array], args: argparse.Namespace) -> dict[str, Path]:
    """ROOT files of every role: ``{dataset name: path}``."""
    folder = args.output / "files"
    files: dict[str, Path] = {}
    for p, process in enumerate(PROCESSES):
        events = gen[process]
        n = len(events)
        cut1, cut2 = int(SPLIT[0] * n), int((SPLIT[0] + SPLIT[1]) * n)
        parts = {"train": events[:cut1], "ref": events[cut1:cut2], "test": events[cut2:]}
        seed = 1000 * (p + 1) + args.seed
        train = [
            simulate_tautau_detector(
                parts["train"], tau_energy_scale=tuple(args.z_range), seed=seed + r
            )
            for r in range(args.replicas)
        ]
        train = ak.concatenate(train)
        train = ak.with_field(train, np.arange(len(train), dtype=np.uint64), "event")
        files[f"{process}_train"] = write_tautau_events(folder / f"{process}_train.root", train)
        # the classifiers' negatives: half of the positives from each reference class, so
        # the reference events pass the detector REF_PASSES times as often (other seeds)
        ref = [
            simulate_tautau_detector(parts["ref"], tau_energy_scale=Z0, seed=seed + 100 + r)
            for r in range(REF_PASSES * args.replicas)
        ]
        ref = ak.concatenate(ref)
        ref = ak.with_field(ref, np.arange(len(ref), dtype=np.uint64), "event")
        files[f"{process}_ref"] = write_tautau_events(folder / f"{process}_ref.root", ref)
        for z in args.test_z:
            test = simulate_tautau_detector(parts["test"], tau_energy_scale=z, seed=seed + 200)
            files[f"{process}_test_{z:g}"] = write_tautau_events(
                folder / f"{process}_test_{z:g}.root", test
            )
    return files


def process_files(files: dict[str, Path], args: argparse.Namespace) -> tuple[dict, dict]:
    """Run the processor per file: ``({dataset: feature table}, {dataset: output})``."""
    tables, outputs = {}, {}
    for name, path in files.items():
        out = run_processor(
            TauTauProcessor(),
            {name: [str(path)]},
            executor=args.executor,
            workers=args.workers,
            chunksize=args.chunksize,
            progress=False,
        )
        outputs[name] = out
        tables[name] = feature_table(collect_columns(out), features=FEATURES)
    return tables, outputs


@in_default_style
def feature_figure(outputs: dict, test_z: list[float], path: Path) -> Path:
    """m_vis and pT ratio of signal and background per test z (figure 3.2 of hdl:1887/4104579)."""
    import mplhep
    from matplotlib.figure import Figure

    fig = Figure(figsize=(18, 7))  # a bare Figure: no pyplot state; fonts of the style
    axes = fig.subplots(1, 2)
    colours = {
        "signal": ("#1f77b4", "#6baed6", "#08306b"),
        "background": ("#d62728", "#fc9272", "#67000d"),
    }
    for ax, feature in zip(axes, FEATURES, strict=True):
        for process in PROCESSES:
            for colour, z in zip(colours[process], test_z, strict=False):
                h = collect_hists(outputs[f"{process}_test_{z:g}"])["reco"][feature]
                mplhep.histplot(
                    h,
                    ax=ax,
                    density=True,
                    yerr=False,
                    color=colour,
                    label=f"{'H' if process == 'signal' else 'Z'}→ττ, z = {z:g}",
                )
        ax.set_xlabel(h.axes[0].label)
        ax.set_ylabel(y_label(h.axes[0].label, density=True))
        ax.set_xlim(0, 200 if feature == "m_vis" else 4)
    axes[0].legend(
        fontsize="x-small",
        title=r"$\ell\tau_h$, detector level (Pythia 8, 13 TeV)",
        title_fontsize="x-small",
    )
    experiment_label(axes[0])
    save_figure(fig, path, ("png",))
    return path


def main() -> None:
    show_progress()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="generator-level parquet cache (default OUTPUT/gen)",
    )
    parser.add_argument("--signal-events", type=int, default=20_000)
    parser.add_argument("--background-events", type=int, default=20_000)
    parser.add_argument("--chunk", type=int, default=2000, help="events per cached chunk")
    parser.add_argument(
        "--replicas",
        type=int,
        default=3,
        help="detector passes of each training event (other seeds, other z)",
    )
    parser.add_argument("--z-range", type=float, nargs=2, default=[0.85, 1.15])
    parser.add_argument("--test-z", type=float, nargs="+", default=[0.9, 1.0, 1.1])
    parser.add_argument("--truth-mu", type=float, nargs="+", default=[0.3, 0.6])
    parser.add_argument("--mu", type=float, default=0.5, help="mu of the fitted dataset")
    parser.add_argument("--test-events", type=int, default=800, help="N per test set")
    parser.add_argument("--bootstrap-size", type=int, default=200, help="n per bootstrap set")
    parser.add_argument("--bootstrap-sets", type=int, default=100)
    parser.add_argument("--test-sets", type=int, default=2, help="test sets per true (mu, z)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--patience", type=int, default=5, help="early-stopping patience")
    parser.add_argument(
        "--classifier-hidden",
        type=int,
        nargs="+",
        default=[120, 120, 120],
        help="hidden layers of f_sig and f_bkg (the thesis: 3 x 120)",
    )
    parser.add_argument("--flow-layers", type=int, default=5, help="MADE layers of each flow")
    parser.add_argument("--flow-hidden", type=int, nargs="+", default=[64, 64])
    parser.add_argument("--executor", default="iterative", choices=("iterative", "futures", "dask"))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--chunksize", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--figures",
        type=Path,
        default=None,
        help="copy the figures here (docs/figures), prefixed tautau_",
    )
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    cache = args.cache or args.output / "gen"
    started = time.perf_counter()
    timing: dict[str, float] = {}

    print("1. generator level", flush=True)
    gen = {
        "signal": generator_events(
            "signal", args.signal_events, cache, args.chunk, 10_000 + 100 * args.seed
        ),
        "background": generator_events(
            "background", args.background_events, cache, args.chunk, 20_000 + 100 * args.seed
        ),
    }
    timing["generation"] = time.perf_counter() - started

    print("2./3. detector at several z, processor", flush=True)
    files = write_detector_files(gen, args)
    tables, outputs = process_files(files, args)
    timing["detector_and_processor"] = time.perf_counter() - started - sum(timing.values())
    counts = {name: int(len(t["x"])) for name, t in tables.items()}
    cutflows = {name: collect_cutflow(out) for name, out in outputs.items()}
    print(json.dumps(counts), flush=True)

    print("4. routes", flush=True)
    # the negatives of each classifier take half their events from each reference class:
    # keep at most ~twice the smaller reference class of positives per process (1.9: room
    # for the binomial split of the negatives, 5 % is > 4 sigma for a few hundred events)
    limit = int(1.9 * min(len(tables[f"{p}_ref"]["x"]) for p in PROCESSES))
    rng = np.random.default_rng(args.seed + 3)
    samples = {}
    for p in PROCESSES:
        x, z = tables[f"{p}_train"]["x"], tables[f"{p}_train"]["z"]
        if len(x) > limit:
            keep = np.sort(rng.choice(len(x), size=limit, replace=False))
            print(f"  {p}: {limit} of {len(x)} training events kept (reference size)")
            x, z = x[keep], z[keep]
        samples[p] = ParameterizedSample(x, z, FEATURES)
    counts["train_used"] = {p: len(samples[p]) for p in PROCESSES}
    training = TrainingConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        patience=args.patience,
        seed=args.seed,
    )
    likelihoods = {
        "classifier": train_classifier_route(
            samples["signal"],
            samples["background"],
            tables["signal_ref"]["x"],
            tables["background_ref"]["x"],
            spec=ModelSpec("mlp", hidden=tuple(args.classifier_hidden)),
            config=training,
        ),
        "flow": train_flow_route(
            samples["signal"],
            samples["background"],
            spec=FlowSpec(layers=args.flow_layers, hidden=tuple(args.flow_hidden)),
            config=training,
        ),
    }
    timing["training"] = time.perf_counter() - started - sum(timing.values())

    z_low, z_high = (
        max(like.z_range[0] for like in likelihoods.values()),
        min(like.z_range[1] for like in likelihoods.values()),
    )
    margin = 0.1 * (z_high - z_low)
    z_grid = np.linspace(z_low + margin, z_high - margin, 49)
    if min(args.test_z) < z_grid[0] or max(args.test_z) > z_grid[-1]:
        raise ConfigError(
            f"--test-z {args.test_z} must lie inside the scanned z range "
            f"[{z_grid[0]:.3f}, {z_grid[-1]:.3f}]; widen --z-range."
        )
    mu_grid = np.linspace(0.0, 2.0, 81)

    pools = {(p, z): tables[f"{p}_test_{z:g}"]["x"] for p in PROCESSES for z in args.test_z}

    def make_test_set(mu: float, z: float, n: int, rng: np.random.Generator) -> np.ndarray:
        n_sig = int(round(n * mu / (1.0 + mu)))
        parts = []
        for process, k in (("signal", n_sig), ("background", n - n_sig)):
            pool = pools[(process, float(z))]
            if k > len(pool):
                raise ConfigError(
                    f"a test set at mu={mu}, z={z} needs {k} {process} events but the test "
                    f"part has {len(pool)} selected ones; lower --test-events or generate "
                    "more events."
                )
            parts.append(pool[rng.choice(len(pool), size=k, replace=False)])
        return np.concatenate(parts)

    print("5. one dataset", flush=True)
    truth = {"mu": float(args.mu), "z": Z0}
    data = make_test_set(args.mu, Z0, args.test_events, np.random.default_rng(args.seed + 7))
    # the workflow's plots draw z in units of pi (the Gaussian toy): draw ours with z as is
    dataset, scans, _ = scan_and_report(
        likelihoods, data, mu_grid, z_grid, args.output, truth=truth, plots=False, tag="dataset"
    )
    plots = plot_nll_contours(
        [scans],
        [(truth["mu"], truth["z"])],
        args.output / "contours_dataset",
        z_unit=1.0,
        title=f"one dataset, N = {len(data)}: ΔNLL = 0.5, 2.0",
    )
    plots += plot_profiles(
        scans, args.output / "profiles_dataset", truth=truth, title=f"one dataset, N = {len(data)}"
    )
    timing["dataset_fit"] = time.perf_counter() - started - sum(timing.values())

    print("6. coverage", flush=True)
    truths = [(float(m), float(z)) for z in args.test_z for m in args.truth_mu]
    coverage = coverage_study(
        likelihoods,
        make_test_set,
        truths,
        mu_grid,
        z_grid,
        reference=None,
        test_sets=args.test_sets,
        n_events=args.test_events,
        bootstrap_sets=args.bootstrap_sets,
        bootstrap_size=args.bootstrap_size,
        seed=args.seed + 11,
        contour_path=None,
    )
    timing["coverage"] = time.perf_counter() - started - sum(timing.values())

    figure = feature_figure(outputs, args.test_z, args.output / "features.png")
    # contours of one test set per truth, NLL x n/N (the expectation for a bootstrap set)
    rng = np.random.default_rng(args.seed + 13)
    sets = []
    for mu, z in truths:
        test = make_test_set(mu, z, args.test_events, rng)
        sets.append(
            {name: scan_nll(like, test, mu_grid, z_grid) for name, like in likelihoods.items()}
        )
    plots += plot_nll_contours(
        sets,
        truths,
        args.output / "contours_coverage",
        z_unit=1.0,
        scale=args.bootstrap_size / args.test_events,
        title=f"ΔNLL = 0.5, 2.0 (NLL × n/N = {args.bootstrap_size}/{args.test_events})",
    )
    plots = [figure, *plots]
    if args.figures is not None:
        args.figures.mkdir(parents=True, exist_ok=True)
        for path in plots:
            shutil.copy(path, args.figures / f"tautau_{path.name}")

    summary = {
        "command_args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "generator_events": {p: len(gen[p]) for p in PROCESSES},
        "selected_events": counts,
        "cutflows": cutflows,
        "z_grid": [float(z_grid[0]), float(z_grid[-1]), len(z_grid)],
        "mu_grid": [float(mu_grid[0]), float(mu_grid[-1]), len(mu_grid)],
        "dataset": {"truth": truth, "n_events": len(data), "results": dataset},
        "coverage": coverage,
        "seconds": timing | {"total": time.perf_counter() - started},
    }
    (args.output / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    print(json.dumps(coverage["mean"], indent=2))
    for name, result in dataset.items():
        mu, z = result["mu"][0], result["z"][0]
        print(
            f"{name:<10} mu = {mu['best']:.3f} [{mu['low']:.3f}, {mu['high']:.3f}]  "
            f"z = {z['best']:.4f} [{z['low']:.4f}, {z['high']:.4f}]  (68.3 %)"
        )
    print(f"done in {time.perf_counter() - started:.0f} s -> {args.output / 'summary.json'}")


if __name__ == "__main__":
    main()
