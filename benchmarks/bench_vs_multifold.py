"""hepnnlr's OmniFold against the ``omnifold`` package's ``MultiFold`` (issues 6 and 15).

Both tools unfold the same arrays side by side in one process (``_side_by_side.py``: the
same features, selections and simulation weights, the same MLP, iterations, epochs, batch
size, learning rate, patience and training fraction; each tool's whole unfolding call
timed in CPU and wall seconds), with TensorFlow limited to ``--threads`` intra- and
inter-op threads for both (default 1). Two samples:

* ``--sample toy`` (default): the 2-D toy of :mod:`hepnnlr.samples.fakes_toy`
  (correlated Gaussian truth, smearing, an x-dependent inefficiency and 4 % fakes uniform
  over the detector's phase space; the data shifted, wider and more correlated than the
  simulation), the one ``tests/methods/test_omnifold_closure.py`` unfolds. Seed ``k``
  (``--seeds``) draws the toy's simulation and data anew (seed 0: the test's own arrays)
  and seeds both tools' trainings with ``k + 1``. hepnnlr runs with that test's settings
  (``acceptance="extrapolate"`` for an inefficiency inside the detector, fakes at their
  prior weight, cosine learning-rate decay; ``--acceptance``/``--schedule`` change them);
  MultiFold with its own (missed events keep ``omega = 1``, fakes a pushed weight of 1,
  a constant learning rate). Closure against the data's particle-level truth, after
  ``--iterations`` and ``--more-iterations`` iterations (one run of the larger number; the
  weights after each iteration are kept): the pulls of the unfolded means, widths,
  correlation and total in units of their statistical error (that test's ``sigma``: the
  spread of an ideal unfolding over 100 data replicas, times sqrt(1 + N_data/N_sim) for
  the simulation's own fluctuations), their sum of squares ``D`` (6 quantities), and the
  1-D chi^2 of the two marginals (20 bins each over the data truth's 0.5-99.5 % range;
  variance: the data truth's counts plus the unfolded sum of squared weights; bins with
  more than 10 entries in both). "Equal or better": the mean over seeds of the paired
  difference hepnnlr - MultiFold is at most twice its standard error over seeds (the
  tolerance is the seed-to-seed spread of the difference; with one seed, no verdict).
* ``--sample dis``: Pythia DIS pseudo-data (setup ``data``, seed 2) and paired simulation
  (setup ``sim``, seed 1) processed as ``hepnnlr unfold`` does, both tools' MLP
  (64-128-64 GELU) on the event features; closure of the particle-level histograms of
  ``hepnnlr unfold`` against the data's own truth (chi^2 of the normalized shapes and
  the relative MSE, Eq. 4 of Torales Acosta, Wamorkar, Mikuni, Nachman,
  "Stabilizing Neural Likelihood Ratio Estimation", arXiv:2503.20753); hepnnlr with its defaults
  (``acceptance="keep"``, ``fakes="prior"``).

``--json`` writes the numbers and the table rows of ``docs/benchmarks.md``
(``benchmarks/report.py``): for the toy, the closure ratios hepnnlr / MultiFold (target:
equal or better) and MultiFold / hepnnlr CPU (target: >= 2). The peer is installed
outside the environment, without dependencies (``bench_vs_omnifold.py`` says why)::

    pip install --no-deps --target /tmp/omnifold-peer omnifold==0.1.36 tf-keras==2.21.0
    python benchmarks/bench_vs_multifold.py --peer-path /tmp/omnifold-peer --seeds 3 \
        --json docs/benchmarks/vs_omnifold_toy.json
    python benchmarks/bench_vs_multifold.py --peer-path /tmp/omnifold-peer --sample dis \
        --workdir /tmp/mf
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_vs_omnifold import OMNIFOLD_VERSION, _peer_available  # noqa: E402

OBSERVABLES = ("Q2", "eta_e", "jet_pt", "jet_tau21")
TOOLS = ("hepnnlr", "omnifold")


def _toy_problem(seed: int, n_sim: int, n_data: int):
    """The arrays of seed ``seed``, the truths and ``sigma`` (as the closure test's fixture)."""
    from _side_by_side import Arrays

    from hepnnlr.samples.fakes_toy import FEATURE_NAMES, closure_toy, quadratic_features

    sim, data, sigma = closure_toy(15 if seed == 0 else (15, seed), n_sim, n_data)
    (z, x, reco, gen), (z_data, x_data, reco_data, gen_data) = sim, data
    arrays = Arrays.scaled(
        quadratic_features(x_data[reco_data]),
        quadratic_features(x),
        quadratic_features(z),
        reco,
        gen,
        feature_names=FEATURE_NAMES,
    )
    return arrays, z, z_data[gen_data], sigma


def _chi2(truth: np.ndarray, values: np.ndarray, weights: np.ndarray, edges) -> tuple:
    """chi^2 and bins of a weighted 1-D histogram against an unweighted one (module doc)."""
    counts, _ = np.histogram(truth, edges)
    unfolded, _ = np.histogram(values, edges, weights=weights)
    variance, _ = np.histogram(values, edges, weights=weights**2)
    use = (counts > 10) & (unfolded > 10)
    chi2 = ((counts - unfolded)[use] ** 2 / (counts + variance)[use]).sum()
    return float(chi2), int(use.sum())


def _toy_closure(z, gen, weights, z_truth, sigma) -> dict:
    """Pulls, their sum of squares ``D`` and the marginal chi^2 of one set of weights."""
    from hepnnlr.samples.fakes_toy import QUANTITIES, summary

    pulls = (summary(z[gen], weights[gen]) - summary(z_truth)) / sigma
    out = {f"pull {q}": float(p) for q, p in zip(QUANTITIES, pulls, strict=True)}
    out["D"] = float((pulls**2).sum())
    for k in (0, 1):
        edges = np.linspace(*np.quantile(z_truth[:, k], [0.005, 0.995]), 21)
        chi2, ndof = _chi2(z_truth[:, k], z[gen][:, k], weights[gen], edges)
        out[f"chi2 z{k + 1}"], out[f"ndof z{k + 1}"] = chi2, ndof
    out["chi2"] = out["chi2 z1"] + out["chi2 z2"]
    return out


def _paired(values: dict, metric: str, iterations: int) -> dict:
    """Mean of each tool's metric over seeds and the paired difference with its s.e."""
    hep = np.array([v["hepnnlr"][iterations][metric] for v in values])
    peer = np.array([v["omnifold"][iterations][metric] for v in values])
    diff = hep - peer
    error = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    return {
        "hepnnlr": float(hep.mean()),
        "omnifold": float(peer.mean()),
        "difference": float(diff.mean()),
        "difference_se": float(error),
        # equal or better: not above MultiFold by more than twice the seeds' spread
        "met": bool(diff.mean() <= 2 * error) if len(diff) > 1 else None,
    }


def _toy_comparison(args) -> tuple[dict, list[dict], dict]:
    from _side_by_side import Settings, run_hepnnlr, run_omnifold

    most = max(args.iterations, args.more_iterations)
    per_seed, results = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            arrays, z, z_truth, sigma = _toy_problem(seed, args.sim_events, args.data_events)
            settings = Settings(
                hidden=tuple(args.hidden), activation=args.activation, iterations=most,
                epochs=args.epochs, batch_size=args.batch_size,
                learning_rate=args.learning_rate, patience=args.patience,
                train_fraction=args.train_fraction, seed=seed + 1,
            )  # fmt: skip
            runs = {
                "hepnnlr": run_hepnnlr(
                    arrays, settings, acceptance=args.acceptance, schedule=args.schedule
                ),
                "omnifold": run_omnifold(arrays, settings, Path(tmp)),
            }
            seed_values = {"prior": _toy_closure(z, arrays.pass_gen, arrays.sim_weights,
                                                 z_truth, sigma)}  # fmt: skip
            for tool, run in runs.items():
                seed_values[tool] = {
                    n: _toy_closure(z, arrays.pass_gen, run.weights[n - 1], z_truth, sigma)
                    for n in range(1, most + 1)
                }
                results[f"seed{seed}_{tool}_cpu_s"] = run.cpu_s
                results[f"seed{seed}_{tool}_wall_s"] = run.wall_s
                for n in sorted({args.iterations, most}):
                    for key, value in seed_values[tool][n].items():
                        results[f"seed{seed}_{tool}_it{n}_{key}"] = value
            for key, value in seed_values["prior"].items():
                results[f"seed{seed}_prior_{key}"] = value
            _print_toy_seed(seed, seed_values, runs, args.iterations, most)
            per_seed.append(seed_values)
    cpu = {t: sum(results[f"seed{s}_{t}_cpu_s"] for s in range(args.seeds)) for t in TOOLS}
    wall = {t: sum(results[f"seed{s}_{t}_wall_s"] for s in range(args.seeds)) for t in TOOLS}
    results["omnifold_over_hepnnlr_cpu"] = cpu["omnifold"] / cpu["hepnnlr"]
    results["omnifold_over_hepnnlr_wall"] = wall["omnifold"] / wall["hepnnlr"]
    summary = []
    for n in sorted({args.iterations, most}):
        for metric, label in (("D", "sum of squared pulls D (means, widths, correlation, "
                                    "total; 6 quantities)"),
                              ("chi2", "1-D chi^2 of both marginals")):  # fmt: skip
            paired = _paired(per_seed, metric, n)
            for key, value in paired.items():
                results[f"mean_it{n}_{metric}_{key}"] = value
            ndof = sum(per_seed[0]["omnifold"][n][f"ndof z{k}"] for k in (1, 2))
            summary.append({
                "measurement": f"2-D toy with fakes, {n} iterations: {label}, "
                               "hepnnlr / MultiFold",
                "ratio": paired["hepnnlr"] / paired["omnifold"],
                "target": "equal or better (difference <= 2 s.e. over seeds)",
                "met": paired["met"],
                "note": f"{args.seeds} seeds: {paired['hepnnlr']:.1f} vs "
                        f"{paired['omnifold']:.1f}"
                        + (f" (ndof {ndof})" if metric == "chi2" else "")
                        + f", difference {paired['difference']:+.1f} ± "
                          f"{paired['difference_se']:.1f}",
            })  # fmt: skip
    for tool in TOOLS:
        more = np.array([v[tool][most]["D"] for v in per_seed])
        fewer = np.array([v[tool][args.iterations]["D"] for v in per_seed])
        results[f"{tool}_D_more_over_fewer"] = float(more.mean() / fewer.mean())
    summary.append({
        "measurement": "2-D toy with fakes: MultiFold / hepnnlr CPU of the whole unfolding "
                       f"({most} iterations, {args.threads} TensorFlow thread(s))",
        "ratio": results["omnifold_over_hepnnlr_cpu"],
        "clock": "CPU",
        "target": ">= 2",
        "met": results["omnifold_over_hepnnlr_cpu"] >= 2,
        "note": f"{args.seeds} seeds: {cpu['hepnnlr']:.0f} s vs {cpu['omnifold']:.0f} s; "
                f"wall ratio {results['omnifold_over_hepnnlr_wall']:.2f}",
    })  # fmt: skip
    notes = {
        "sample": f"2-D toy of tests/methods/test_omnifold_closure.py, {args.sim_events} "
        f"simulated and {args.data_events} data events generated per seed (plus 4 % fakes)",
        "hepnnlr": f"acceptance={args.acceptance!r}, fakes='prior', schedule={args.schedule!r}",
        "omnifold": f"MultiFold {OMNIFOLD_VERSION} (tf_keras), constant learning rate",
    }
    return results, summary, notes


def _print_toy_seed(seed, values, runs, fewer, most) -> None:
    print(f"\n[toy seed {seed}] pulls (unfolded - truth) / sigma, D, marginal chi^2:")
    keys = [k for k in values["prior"] if k.startswith("pull")] + ["D", "chi2"]
    print("| tool | iterations | CPU s | wall s | " + " | ".join(keys) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(keys))
    row = values["prior"]
    print("| prior | 0 | | | " + " | ".join(f"{row[k]:.2f}" for k in keys) + " |")
    for tool, run in runs.items():
        for n in sorted({fewer, most}):
            row = values[tool][n]
            print(
                f"| {tool} | {n} | {run.cpu_s:.1f} | {run.wall_s:.1f} | "
                + " | ".join(f"{row[k]:.2f}" for k in keys)
                + " |"
            )
    sys.stdout.flush()


def _samples(workdir: Path, n_events: int, workers: int) -> tuple[Path, Path]:
    """The DIS ROOT files of both setups (made once per ``workdir``)."""
    from hepnnlr.samples import make_dis_sample

    paths = []
    for setup, seed in (("data", 2), ("sim", 1)):
        path = workdir / f"dis_{setup}_{n_events}.root"
        if not path.exists():
            make_dis_sample(
                path, setup, n_events=n_events, seed=seed, workers=workers, progress=False
            )
        paths.append(path)
    return paths[0], paths[1]


def _dis_closure(inputs, weights, job):
    """chi2/ndof and mean relative MSE of the normalized unfolded shapes vs the data truth."""
    import awkward as ak

    from hepnnlr.results.stats import chi2_test, relative_mse
    from hepnnlr.workflows.unfold_dis import truth_histograms

    # the unfolding's own particle-level histograms: its description, inside its region
    data_weights = ak.to_numpy(inputs.data["weight"]).astype(float)
    truth = truth_histograms(inputs.data, data_weights, job.description, job.truth_region)
    unfolded = truth_histograms(inputs.sim, weights, job.description, job.truth_region)
    out = {}
    for name in OBSERVABLES:
        test = chi2_test(truth[name], unfolded[name], normalize=True, min_entries=10)
        x, xhat = truth[name].values(), unfolded[name].values()
        mse = relative_mse(x, xhat * x.sum() / xhat.sum())
        out[name] = (test.chi2, test.ndof, float(np.nanmean(mse)))
    return out


def _dis_comparison(args) -> tuple[dict, list[dict], dict]:
    from _side_by_side import Arrays, Settings, run_hepnnlr, run_omnifold

    from hepnnlr.workflows.unfold_dis import DISUnfoldingJob, prepare_dis_inputs

    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        data_file, sim_file = _samples(workdir, args.events, args.workers)
        job = DISUnfoldingJob(
            data_file, sim_file, Path(tmp) / "out", executor="iterative", progress=False
        )
        inputs = prepare_dis_inputs(job)
        arrays = Arrays.scaled(
            inputs.data_reco.globals, inputs.sim_reco.globals, inputs.sim_gen.globals,
            inputs.pass_reco, inputs.pass_gen, inputs.sim_weights, inputs.data_weights,
            inputs.sim_reco.global_features,
        )  # fmt: skip
        print(
            f"inputs: {len(arrays.data_reco)} data events passing reco; simulation "
            f"{len(arrays.pass_reco)} events, {int(arrays.pass_reco.sum())} passing reco, "
            f"{int(arrays.pass_gen.sum())} passing gen; event features {arrays.feature_names}"
        )
        settings = Settings(
            hidden=tuple(args.hidden), activation=args.activation, iterations=args.iterations,
            epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
            patience=args.patience, train_fraction=args.train_fraction, seed=args.seed,
        )  # fmt: skip
        runs = {
            "hepnnlr": run_hepnnlr(
                arrays, settings, acceptance=args.acceptance, schedule=args.schedule
            ),
            "omnifold": run_omnifold(arrays, settings, Path(tmp)),
        }
        closure = {tool: _dis_closure(inputs, run.weights[-1], job) for tool, run in runs.items()}
        closure["prior"] = _dis_closure(inputs, arrays.sim_weights, job)

    print(
        "\n| tool | wall s | CPU s | "
        + " | ".join(f"{o} χ²/ndof | {o} rel. MSE" for o in OBSERVABLES)
        + " |"
    )
    print("|---|---:|---:|" + "---:|---:|" * len(OBSERVABLES))
    for tool in (*TOOLS, "prior"):
        times = f"{runs[tool].wall_s:.1f} | {runs[tool].cpu_s:.1f}" if tool in runs else " | "
        print(
            f"| {tool} | {times} | "
            + " | ".join(f"{c:.1f}/{n} | {m:.4f}" for c, n, m in closure[tool].values())
            + " |"
        )
    results = {}
    for tool in (*TOOLS, "prior"):
        if tool in runs:
            results[f"{tool}_wall_s"] = runs[tool].wall_s
            results[f"{tool}_cpu_s"] = runs[tool].cpu_s
        for name, (chi2, ndof, mse) in closure[tool].items():
            results[f"{tool}_{name}_chi2"], results[f"{tool}_{name}_ndof"] = chi2, ndof
            results[f"{tool}_{name}_relative_mse"] = mse
    for clock in ("wall", "cpu"):
        results[f"omnifold_over_hepnnlr_{clock}"] = (
            results[f"omnifold_{clock}_s"] / results[f"hepnnlr_{clock}_s"]
        )
    print(
        f"\nMultiFold / hepnnlr time: wall {results['omnifold_over_hepnnlr_wall']:.2f}×, "
        f"CPU {results['omnifold_over_hepnnlr_cpu']:.2f}×"
    )
    hep = sum(closure["hepnnlr"][o][0] for o in OBSERVABLES)
    peer = sum(closure["omnifold"][o][0] for o in OBSERVABLES)
    summary = [
        {
            "measurement": "DIS, one seed: χ² of Q², η_e, jet pT, τ21 (summed), hepnnlr / "
            "MultiFold",
            "ratio": hep / peer,
            "target": "equal or better",
            "met": None,  # one seed: no spread to compare the difference with
            "note": f"{hep:.1f} vs {peer:.1f}; one seed, no verdict",
        },
        {
            "measurement": "DIS: MultiFold / hepnnlr CPU of the whole unfolding",
            "ratio": results["omnifold_over_hepnnlr_cpu"],
            "clock": "CPU",
            "target": ">= 2",
            "met": results["omnifold_over_hepnnlr_cpu"] >= 2,
        },
    ]
    return results, summary, {"sample": f"DIS, {args.events} events per setup"}


def main(argv: list[str] | None = None) -> dict[str, float]:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-path", type=Path, help="directory holding omnifold + tf_keras")
    parser.add_argument("--sample", choices=("toy", "dis"), default="toy")
    parser.add_argument("--seeds", type=int, default=1, help="toy: seeds 0 .. N-1")
    parser.add_argument("--sim-events", type=int, default=40_000, help="toy: simulated events")
    parser.add_argument("--data-events", type=int, default=20_000, help="toy: data events")
    parser.add_argument("--more-iterations", type=int, default=8, help="toy: the longer run")
    parser.add_argument("--workdir", type=Path, help="dis: keeps the generated ROOT files")
    parser.add_argument("--events", type=int, default=20_000, help="dis: events per setup")
    parser.add_argument("--workers", type=int, default=2, help="dis: generation processes")
    parser.add_argument("--seed", type=int, default=0, help="dis: training seed")
    parser.add_argument("--iterations", type=int, default=None, help="toy 4, dis 3")
    parser.add_argument("--epochs", type=int, default=None, help="toy 15, dis 10")
    parser.add_argument("--patience", type=int, default=None, help="default: --epochs")
    parser.add_argument("--batch-size", type=int, default=None, help="toy 1024, dis 256")
    parser.add_argument("--learning-rate", type=float, default=None, help="toy 3e-3, dis 1e-3")
    parser.add_argument("--hidden", type=int, nargs="+", help="toy 32 32, dis 64 128 64")
    parser.add_argument("--activation", help="toy relu, dis gelu")
    parser.add_argument("--train-fraction", type=float, default=0.8)
    parser.add_argument("--acceptance", choices=("keep", "extrapolate"), help="hepnnlr's")
    parser.add_argument("--schedule", choices=("constant", "cosine"), help="hepnnlr's")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow threads, both tools")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    defaults = {
        "toy": dict(iterations=4, epochs=15, batch_size=1024, learning_rate=3e-3,
                    hidden=[32, 32], activation="relu", acceptance="extrapolate",
                    schedule="cosine"),
        "dis": dict(iterations=3, epochs=10, batch_size=256, learning_rate=1e-3,
                    hidden=[64, 128, 64], activation="gelu", acceptance="keep",
                    schedule="constant"),
    }[args.sample]  # fmt: skip
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.patience = args.patience or args.epochs
    if args.seeds < 1:
        parser.error("--seeds must be >= 1")
    if not _peer_available(args.peer_path):
        return {}
    from _timing import finish, load_average  # benchmarks/_timing.py

    load_before = load_average()
    # Read when TensorFlow starts its runtime, which is after this point.
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    import omnifold  # noqa: F401  (prints omnifold's Horovod notice once, up front)
    import tensorflow as tf

    if tf.config.threading.get_intra_op_parallelism_threads() != args.threads:
        try:  # only possible before the runtime starts (a process that already ran TF)
            tf.config.threading.set_intra_op_parallelism_threads(args.threads)
            tf.config.threading.set_inter_op_parallelism_threads(args.threads)
        except RuntimeError:
            print(f"note: TensorFlow already started; --threads {args.threads} not applied")
    print(
        f"settings: {args.iterations} iterations, {args.epochs} epochs (patience "
        f"{args.patience}), batch {args.batch_size}, Adam lr {args.learning_rate:g}, "
        f"training fraction {args.train_fraction}, MLP {args.hidden} {args.activation} for "
        f"both steps, hepnnlr acceptance={args.acceptance!r} schedule={args.schedule!r}, "
        f"omnifold {OMNIFOLD_VERSION}, {args.threads} TensorFlow thread(s)"
    )
    compare = _toy_comparison if args.sample == "toy" else _dis_comparison
    results, summary, notes = compare(args)
    for row in summary:
        print(f"{row['measurement']}: {row['ratio']:.2f} (target {row['target']}, met "
              f"{row['met']}) {row.get('note', '')}")  # fmt: skip
    return finish(__file__, args, argv, load_before, results, summary, notes=notes)


if __name__ == "__main__":
    main()
