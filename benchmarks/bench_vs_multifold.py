"""hepnnlr's OmniFold against the ``omnifold`` package's ``MultiFold`` (issue 6).

Both unfold the same Pythia DIS pseudo-data (setup ``data``, seed 2) with the same paired
simulation (setup ``sim``, seed 1), processed once by ``DISProcessor`` and standardized as
``hepnnlr unfold`` does (:func:`hepnnlr.workflows.unfold_dis.prepare_dis_inputs`), side by
side in one process: the same networks (omnifold's ``MLP`` and a hepnnlr ``ModelSpec`` of the
same sizes, 64-128-64 GELU, on the event features log Q², y, η_e at both levels), the same
number of iterations, epochs (early stopping's patience equals the epoch count, so neither
stops early; both restore their best validation epoch), batch size, Adam learning rate and
training fraction, and the same simulation weights (scaled so the simulated events passing
the detector selection carry the data's total, as hepnnlr does). What each tool does with
events failing a selection is its own (hepnnlr: ``acceptance="keep"``, fakes carry their
pulled weight; omnifold: such events stay in the training with weight 0, fakes get a
pushed weight of 1), as is the class balance (hepnnlr normalizes both classes, omnifold
does not).

Printed: wall and process-CPU time of each full unfolding (training and prediction), and
the closure of the unfolded particle-level histograms (in the truth region of
``hepnnlr unfold``) against the data setup's own truth, for Q², η_e, jet pT and τ21: the χ²
of the normalized shapes (:func:`hepnnlr.results.stats.chi2_test`, bins with more than 10
entries) and the mean over bins of the relative MSE (:func:`hepnnlr.results.stats.
relative_mse`, Eq. 4 of the ensembling paper, one pass) of the shape normalized to the data
truth's total; the prior (simulation truth) for reference.

The peer is installed as for ``bench_vs_omnifold.py`` (outside the environment, no
dependencies)::

    pip install --no-deps --target /tmp/omnifold-peer omnifold==0.1.36 tf-keras==2.21.0
    python benchmarks/bench_vs_multifold.py --peer-path /tmp/omnifold-peer --workdir /tmp/mf
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_vs_omnifold import OMNIFOLD_VERSION, _peer_available  # noqa: E402

OBSERVABLES = ("Q2", "eta_e", "jet_pt", "jet_tau21")


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


def _event_level(inputs):
    """The event features alone (both tools' MLPs see only them)."""
    from hepnnlr.tensors import EventTensors

    return EventTensors(None, None, inputs.globals, (), inputs.global_features)


def _timed(function):
    wall, cpu = time.perf_counter(), time.process_time()
    out = function()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def _run_hepnnlr(inputs, sim_weights, args):
    from hepnnlr.methods.omnifold import OmniFoldConfig, omnifold
    from hepnnlr.models import ModelSpec
    from hepnnlr.training import TrainingConfig

    spec = ModelSpec("mlp", hidden=(64, 128, 64), activation="gelu")
    config = OmniFoldConfig(
        iterations=args.iterations,
        step1_model=spec,
        step2_model=spec,
        training=TrainingConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            patience=args.epochs,
            validation_fraction=1 - args.train_fraction,
            seed=args.seed,
        ),
    )
    result = omnifold(
        _event_level(inputs.data_reco),
        _event_level(inputs.sim_reco),
        _event_level(inputs.sim_gen),
        pass_reco=inputs.pass_reco,
        pass_gen=inputs.pass_gen,
        sim_weights=sim_weights,
        data_weights=inputs.data_weights,
        config=config,
    )
    return result.weights


def _run_omnifold(inputs, sim_weights, args, tmp: Path):
    import tensorflow as tf
    from omnifold import MLP, DataLoader, MultiFold
    from omnifold.net import weighted_binary_crossentropy

    tf.keras.utils.get_custom_objects()["weighted_binary_crossentropy"] = (
        weighted_binary_crossentropy
    )
    tf.keras.utils.set_random_seed(args.seed)  # initialization and MultiFold's np shuffles
    n_features = inputs.sim_reco.globals.shape[1]
    unfolder = MultiFold(
        "bench",
        MLP(n_features, layer_sizes=[64, 128, 64]),
        MLP(n_features, layer_sizes=[64, 128, 64]),
        data=DataLoader(inputs.data_reco.globals, weight=inputs.data_weights.astype(np.float32)),
        mc=DataLoader(
            inputs.sim_reco.globals,
            gen=inputs.sim_gen.globals,
            pass_reco=inputs.pass_reco,
            pass_gen=inputs.pass_gen,
            weight=sim_weights.astype(np.float32),
        ),
        weights_folder=str(tmp / "weights"),
        log_folder=str(tmp),
        niter=args.iterations,
        batch_size=args.batch_size,
        epochs=args.epochs,
        lr=args.learning_rate,
        early_stop=args.epochs,
        train_frac=args.train_fraction,
    )
    unfolder.Unfold()
    return sim_weights * unfolder.weights_push


def _closure(inputs, weights, region):
    """chi2/ndof and mean relative MSE of the normalized unfolded shapes vs the data truth."""
    import awkward as ak

    from hepnnlr.results.stats import chi2_test, relative_mse
    from hepnnlr.workflows.unfold_dis import truth_histograms

    truth = truth_histograms(inputs.data, ak.to_numpy(inputs.data["weight"]).astype(float), region)
    unfolded = truth_histograms(inputs.sim, weights, region)
    out = {}
    for name in OBSERVABLES:
        test = chi2_test(truth[name], unfolded[name], normalize=True, min_entries=10)
        x, xhat = truth[name].values(), unfolded[name].values()
        mse = relative_mse(x, xhat * x.sum() / xhat.sum())
        out[name] = (test.chi2, test.ndof, float(np.nanmean(mse)))
    return out


def main(argv: list[str] | None = None) -> dict[str, float]:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-path", type=Path, help="directory holding omnifold + tf_keras")
    parser.add_argument("--workdir", type=Path, help="keeps the generated ROOT files")
    parser.add_argument("--events", type=int, default=20_000, help="events per setup")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--train-fraction", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if not _peer_available(args.peer_path):
        return {}
    from _timing import load_average, write_json  # benchmarks/_timing.py

    load_before = load_average()

    import omnifold  # noqa: F401  (prints omnifold's Horovod notice once, up front)

    from hepnnlr.observables.dis import KinematicRegion
    from hepnnlr.workflows.unfold_dis import DISUnfoldingJob, prepare_dis_inputs

    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        data_file, sim_file = _samples(workdir, args.events, args.workers)
        job = DISUnfoldingJob(
            data_file, sim_file, Path(tmp) / "out", executor="iterative", progress=False
        )
        inputs = prepare_dis_inputs(job, log=lambda _: None)
        # Simulation normalized as hepnnlr does: events passing reco carry the data's total.
        scale = inputs.data_weights.sum() / inputs.sim_weights[inputs.pass_reco].sum()
        sim_weights = inputs.sim_weights * scale
        print(
            f"inputs: {len(inputs.data_reco)} data events passing reco; simulation "
            f"{len(inputs.pass_reco)} events, {int(inputs.pass_reco.sum())} passing reco, "
            f"{int(inputs.pass_gen.sum())} passing gen; event features "
            f"{inputs.sim_reco.global_features}"
        )
        print(
            f"settings: {args.iterations} iterations, {args.epochs} epochs (no early stop), "
            f"batch {args.batch_size}, Adam lr {args.learning_rate:g}, training fraction "
            f"{args.train_fraction}, MLP 64-128-64 GELU for both steps, omnifold "
            f"{OMNIFOLD_VERSION}"
        )
        region = KinematicRegion()
        rows = {}
        loads = {}
        loads["hepnnlr"] = os.getloadavg()[0]
        weights, wall, cpu = _timed(lambda: _run_hepnnlr(inputs, sim_weights, args))
        rows["hepnnlr"] = (wall, cpu, _closure(inputs, weights, region))
        loads["omnifold"] = os.getloadavg()[0]
        weights, wall, cpu = _timed(lambda: _run_omnifold(inputs, sim_weights, args, Path(tmp)))
        rows["omnifold"] = (wall, cpu, _closure(inputs, weights, region))
        prior = _closure(inputs, sim_weights, region)

    print(
        "\n| tool | load at start | wall s | CPU s | "
        + " | ".join(f"{o} χ²/ndof | {o} rel. MSE" for o in OBSERVABLES)
        + " |"
    )
    print("|---|---:|---:|---:|" + "---:|---:|" * len(OBSERVABLES))
    for tool, (wall, cpu, closure) in rows.items():
        print(
            f"| {tool} | {loads[tool]:.1f} | {wall:.1f} | {cpu:.1f} | "
            + " | ".join(f"{c:.1f}/{n} | {m:.4f}" for c, n, m in closure.values())
            + " |"
        )
    print(
        "| prior (simulation truth) | | | | "
        + " | ".join(f"{c:.1f}/{n} | {m:.4f}" for c, n, m in prior.values())
        + " |"
    )
    (hw, hc, _), (ow, oc, _) = rows["hepnnlr"], rows["omnifold"]
    print(f"\nomnifold / hepnnlr time: wall {ow / hw:.2f}×, CPU {oc / hc:.2f}×")
    results = {"load_hepnnlr": loads["hepnnlr"], "load_omnifold": loads["omnifold"]}
    for tool, (wall, cpu, closure) in rows.items():
        results[f"{tool}_wall_s"], results[f"{tool}_cpu_s"] = wall, cpu
        for name, (chi2, ndof, mse) in closure.items():
            results[f"{tool}_{name}_chi2"], results[f"{tool}_{name}_ndof"] = chi2, ndof
            results[f"{tool}_{name}_relative_mse"] = mse
    results["omnifold_over_hepnnlr_wall"], results["omnifold_over_hepnnlr_cpu"] = ow / hw, oc / hc
    if args.json is not None:
        write_json(
            args.json,
            script="bench_vs_multifold.py",
            argv=argv,
            load_before=load_before,
            results=results,
            summary=[],
        )
    return results


if __name__ == "__main__":
    main()
