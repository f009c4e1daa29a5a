"""hepnnlr against the ``omnifold`` package from PyPI on OmniFold's step 1 (issue 4).

Both train the detector-level classifier of OmniFold's step 1 (data, label 1, against
simulation, label 0) on the same DIS particle sets, built as ``bench_training.py`` and
``hepnnlr unfold`` build them, side by side in one process: the same events, the same
train/validation split (hepnnlr's stratified 80/20 split, handed to omnifold's pipeline),
the same class-balanced event weights, Adam with the same learning rate, batch size and a
fixed number of epochs (early stopping's patience equals the epoch count, so neither stops
early; both restore the weights of their best validation epoch at the end, as both do by
default). The networks are omnifold's ``MLP`` (default sizes) on the event features and its
``PET`` (default sizes) on the particles, and hepnnlr ``ModelSpec``s sized to match; the
parameter counts are printed. hepnnlr's PET (``--pet-spec matched``, the default) uses the
``ModelSpec`` options that mirror omnifold's PET (LayerScale, two stacked kNN layers, a
GELU particle embedding, class attention; see ``_pet_specs``); ``--pet-spec plain`` is the
earlier structure. The validation loss is computed here, from each model's
logits on the same validation events, as the weighted binary cross entropy
``mean_i w_i * BCE(y_i, logit_i)`` (the loss both train on), with the standard error of the
paired per-event difference.

omnifold is a peer to compare with, not a dependency. omnifold 0.1.36 builds its PET from
TensorFlow ops on symbolic tensors, which Keras 3 refuses ("A KerasTensor cannot be used as
input to a TensorFlow function"), so it runs on ``tf_keras`` (Keras 2, the version matching
TensorFlow 2.21) while hepnnlr runs on Keras 3 in the same process; omnifold's loss is
registered as a custom object before its models are compiled. Install both without their
dependencies, so TensorFlow and Keras stay as they are (omnifold needs matplotlib, numpy,
PyYAML, setuptools and tensorflow>=2.15, already there; tf_keras 2.21.0 needs tensorflow
2.21)::

    pip install --no-deps --target /tmp/omnifold-peer omnifold==0.1.36 tf-keras==2.21.0
    python benchmarks/bench_vs_omnifold.py --peer-path /tmp/omnifold-peer

(``pip install --no-deps omnifold==0.1.36 tf-keras==2.21.0`` into the environment works
too; then leave out ``--peer-path``.) Without them the benchmark says so and exits.

``--seeds N`` trains each tool with N seeds (the split, initialization and batch order
change with the seed, the same split for both tools) and ends with a summary: the whole
trainings' wall and CPU time summed over the seeds (hepnnlr's whole ``train_classifier``
call against omnifold's ``fit`` call alone) and the mean best validation loss of each tool
± its standard error over the seeds; "equal or lower" means hepnnlr's mean is at most
omnifold's plus the combined standard error. Both tools run with ``--threads`` TensorFlow
threads (default 1).

Usage::

    python benchmarks/bench_vs_omnifold.py --peer-path /tmp/omnifold-peer   # ~3 min
    python benchmarks/bench_vs_omnifold.py --peer-path DIR --epochs 10 --models pet
    python benchmarks/bench_vs_omnifold.py --peer-path DIR --cache inputs.npz --repeat 1 \
        --seeds 5                                           # ~11 min on an idle machine
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

OMNIFOLD_VERSION = "0.1.36"
# Fixed epoch counts of the default run: about 3 minutes in all on the 2-core machine
# (5-6 minutes when it is busy).
DEFAULT_EPOCHS = {"mlp": 20, "pet": 8}


def _pet_specs() -> dict:
    """hepnnlr PETs of about omnifold's PET's size (45,953 parameters), by name.

    ``matched`` takes over what omnifold's PET does differently, as ``ModelSpec`` options:
    LayerScale (1e-3) on every residual branch, two stacked kNN edge embeddings (the second
    on learned features), a GELU per-particle embedding network, two class-attention
    layers (only the class token is updated) and, since omnifold's PET attends over the
    padding and so sees the number of particles, the multiplicity given to the head.
    ``plain`` is the earlier, hepnnlr-default structure (48,321 parameters).
    """
    from hepnnlr.models import ModelSpec

    return {
        "matched": ModelSpec(
            "pet",
            units=32,
            heads=2,
            layers=2,
            class_layers=2,
            k=3,
            hidden=(64, 64),
            layer_scale=1e-3,
            local_layers=2,
            embed_hidden=(64,),
            class_attention="token",
            multiplicity=True,
        ),
        "plain": ModelSpec("pet", units=32, heads=2, layers=3, k=3, hidden=(128, 64)),
    }


def _peer_available(peer_path: Path | None) -> bool:
    """Put ``peer_path`` on ``sys.path``; True when omnifold and tf_keras can be imported.

    Must run before TensorFlow is imported: ``tf.keras`` (which omnifold uses) resolves to
    tf_keras only when ``TF_USE_LEGACY_KERAS`` is set at that point. hepnnlr imports
    ``keras`` (Keras 3) directly and is not affected.
    """
    if peer_path is not None:
        sys.path.insert(0, str(peer_path))
    missing = [m for m in ("omnifold", "tf_keras") if importlib.util.find_spec(m) is None]
    if missing:
        print(
            f"SKIPPED: {' and '.join(missing)} not importable"
            f"{f' from {peer_path}' if peer_path else ''}. Install the peer with\n"
            f"    pip install --no-deps --target /tmp/omnifold-peer "
            f"omnifold=={OMNIFOLD_VERSION} tf-keras==2.21.0\n"
            "and run again with --peer-path /tmp/omnifold-peer."
        )
        return False
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    return True


def _detector_inputs(tmp: Path, n_events: int, workers: int):
    """Standardized detector-level inputs of a sim and a data sample (events passing reco)."""
    import awkward as ak

    from hepnnlr.processors.dis import DISProcessor, collect_columns
    from hepnnlr.samples import make_dis_sample
    from hepnnlr.schema import run_processor
    from hepnnlr.tensors import Standardizer, from_awkward
    from hepnnlr.workflows.unfold_dis import GLOBAL_FEATURES, PARTICLE_FEATURES

    samples = []
    for setup, seed in (("sim", 1), ("data", 2)):
        path = make_dis_sample(
            tmp / f"{setup}.root",
            setup,
            n_events=n_events,
            seed=seed,
            workers=workers,
            progress=False,
        )
        columns = collect_columns(
            run_processor(DISProcessor(), {setup: [str(path)]}, progress=False)
        )
        passed = ak.to_numpy(columns["pass_reco"])
        samples.append(
            from_awkward(
                columns["reco"][passed],
                particle_features=PARTICLE_FEATURES,
                global_features=GLOBAL_FEATURES,
            )
        )
    # One padding width for both (omnifold's PET takes a fixed number of slots).
    slots = max(s.particles.shape[1] for s in samples)
    samples = [_pad_to(s, slots) for s in samples]
    scaler = Standardizer.fit(samples[0])  # fitted on simulation, as `hepnnlr unfold` does
    sim, data = (scaler.transform(s) for s in samples)
    return sim, data


def _pad_to(inputs, slots: int):
    from dataclasses import replace

    extra = slots - inputs.particles.shape[1]
    if extra == 0:
        return inputs
    return replace(
        inputs,
        particles=np.pad(inputs.particles, ((0, 0), (0, extra), (0, 0))),
        mask=np.pad(inputs.mask, ((0, 0), (0, extra))),
    )


def _split(n_numerator: int, n_denominator: int, fraction: float, seed: int):
    """The training and validation indices ``train_classifier`` draws (same algorithm)."""
    rng = np.random.default_rng(seed)
    train, val, offset = [], [], 0
    for n in (n_numerator, n_denominator):
        order = rng.permutation(n) + offset
        n_val = max(1, int(round(fraction * n)))
        val.append(order[:n_val])
        train.append(order[n_val:])
        offset += n
    return rng.permutation(np.concatenate(train)), np.concatenate(val)


def _weighted_bce(labels: np.ndarray, weights: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Per-event ``w * BCE(y, sigmoid(logit))``, computed stably from the logits."""
    z = logits.astype(np.float64)
    return weights * (np.maximum(z, 0) - z * labels + np.log1p(np.exp(-np.abs(z))))


def _epoch_timer(base):
    """A ``base`` (Keras 3 or tf_keras) callback recording every epoch's wall time.

    An epoch's time includes its validation pass, in both frameworks.
    """

    class EpochTimer(base):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []
            self.cpu: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()
            self._cpu = time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)
            self.cpu.append(time.process_time() - self._cpu)

    return EpochTimer()


def _run_hepnnlr(spec, data, sim, weights, args):
    """Train with ``hepnnlr.training.train_classifier``.

    Returns the trained classifier, ``None`` (``train_classifier`` takes no callbacks, so
    hepnnlr's epochs are not timed one by one) and the (wall, CPU) seconds of the whole
    ``train_classifier`` call: model building, compilation, pipelines and ``fit`` alike.
    """
    from hepnnlr.training import TrainingConfig, train_classifier

    config = TrainingConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        patience=args.epochs,
        validation_fraction=args.validation_fraction,
        seed=args.seed,
    )
    start, cpu = time.perf_counter(), time.process_time()
    trained = train_classifier(
        spec, data, weights[: len(data)], sim, weights[len(data) :], config, name=spec.kind
    )
    total = (time.perf_counter() - start, time.process_time() - cpu)
    return trained, None, total


def _omnifold_arrays(inputs, kind: str) -> np.ndarray:
    """omnifold's input layout: event features, or particles with (eta, phi) first.

    omnifold's PET takes the first two features as the neighbour-search coordinates and
    treats a slot whose first feature is exactly 0 as padding, so the columns become
    (deta, dphi, log_pt, charge) and padded slots are zeroed.
    """
    if kind == "mlp":
        return inputs.globals.astype(np.float32)
    names = list(inputs.particle_features)
    order = [names.index(n) for n in ("deta", "dphi", "log_pt", "charge")]
    return (inputs.particles[:, :, order] * inputs.mask[:, :, None]).astype(np.float32)


def _run_omnifold(kind, sizes, x, labels, weights, train_idx, val_idx, args, tmp: Path):
    """Train omnifold's model with omnifold's own pipeline, compile and ``fit`` settings.

    The (wall, CPU) seconds returned are those of its ``fit`` call alone (all epochs, the
    first with its tracing included); building, caching and compiling come before and are
    not counted, so the comparison of whole trainings leans in omnifold's favour.
    """
    import tensorflow as tf
    from omnifold import MLP, PET, DataLoader, MultiFold
    from omnifold.net import weighted_binary_crossentropy

    tf.keras.utils.get_custom_objects()["weighted_binary_crossentropy"] = (
        weighted_binary_crossentropy
    )
    tf.keras.utils.set_random_seed(args.seed)
    model = (
        MLP(x.shape[1], **sizes) if kind == "mlp" else PET(x.shape[2], num_part=x.shape[1], **sizes)
    )
    # omnifold's concatenation order is (simulation, data); this benchmark's arrays are
    # (data, simulation) as hepnnlr's numerator/denominator. Only the data order differs.
    n_data = int(labels.sum())
    unfolder = MultiFold(
        f"bench_{kind}",
        model,
        model,
        data=DataLoader(x[:n_data], weight=weights[:n_data]),
        mc=DataLoader(x[n_data:], gen=x[n_data:], weight=weights[n_data:]),
        weights_folder=str(tmp / "weights"),
        log_folder=str(tmp),
        batch_size=args.batch_size,
        epochs=args.epochs,
        lr=args.learning_rate,
        early_stop=args.epochs,
        train_frac=1 - args.validation_fraction,
    )
    # MultiFold.cache(cached=True) builds its train/validation datasets from `idx_1` and
    # `tf_data1`: hand it hepnnlr's split (training events first, then validation events).
    order = np.concatenate([train_idx, val_idx])
    unfolder.idx_1 = order
    unfolder.tf_data1 = tf.data.Dataset.from_tensor_slices(x[order])
    train, test = unfolder.cache(labels, weights, 1, True, len(train_idx))
    unfolder.CompileModel(model, len(train_idx) // args.batch_size)
    timer = _epoch_timer(tf.keras.callbacks.Callback)
    callbacks = [  # as MultiFold.RunModel, less the checkpoint file, plus the timer
        tf.keras.callbacks.ReduceLROnPlateau(patience=1000, min_lr=1e-7, monitor="val_loss"),
        tf.keras.callbacks.EarlyStopping(
            patience=args.epochs, restore_best_weights=True, monitor="val_loss"
        ),
        timer,
    ]
    start, cpu = time.perf_counter(), time.process_time()
    fit = model.fit(
        train,
        epochs=args.epochs,
        steps_per_epoch=len(train_idx) // args.batch_size,
        validation_data=test,
        validation_steps=len(val_idx) // args.batch_size,
        verbose=0,
        callbacks=callbacks,
    )
    total = (time.perf_counter() - start, time.process_time() - cpu)
    logits = model.predict(x[val_idx], batch_size=4096, verbose=0).reshape(-1)
    return model, logits, timer, total, min(fit.history["val_loss"])


def _count(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def _cached_inputs(args):
    """The detector-level inputs, generated and processed, or read from ``--cache``."""
    from hepnnlr.tensors import EventTensors

    if args.cache is not None and args.cache.exists():
        stored = np.load(args.cache)
        names = (
            [str(n) for n in stored["particle_features"]],
            [str(n) for n in stored["global_features"]],
        )
        out = [
            EventTensors(
                stored[f"{k}_particles"],
                stored[f"{k}_mask"],
                stored[f"{k}_globals"],
                tuple(names[0]),
                tuple(names[1]),
            )
            for k in ("sim", "data")
        ]
        print(f"inputs read from {args.cache}")
        return out
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        sim, data = _detector_inputs(Path(tmp), args.events, args.workers)
        print(f"generation + processing {time.perf_counter() - start:.0f} s")
    if args.cache is not None:
        np.savez(
            args.cache,
            particle_features=np.array(sim.particle_features),
            global_features=np.array(sim.global_features),
            **{
                f"{k}_{f}": getattr(t, f)
                for k, t in (("sim", sim), ("data", data))
                for f in ("particles", "mask", "globals")
            },
        )
    return sim, data


def main(argv: list[str] | None = None) -> list[dict]:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-path", type=Path, help="directory holding omnifold + tf_keras")
    parser.add_argument("--events", type=int, default=20_000, help="events per sample")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help=f"epochs for every model (default: {DEFAULT_EPOCHS})",
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", choices=("mlp", "pet"), default=["mlp", "pet"])
    parser.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="trainings per tool, interleaved; the fastest counts (best of N)",
    )
    parser.add_argument(
        "--repeat-pet", type=int, default=None, help="the same for PET (default: --repeat)"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="train each tool with seeds --seed, --seed + 1, ...: split, "
        "initialization and batch order differ per seed, the same for both "
        "tools; the summary gives mean best validation losses ± standard "
        "error and the summed times of the whole trainings",
    )
    parser.add_argument(
        "--seeds-pet", type=int, default=None, help="the same for PET (default: --seeds)"
    )
    parser.add_argument(
        "--pet-spec",
        choices=("matched", "plain"),
        default="matched",
        help="hepnnlr's PET: 'matched' (default) mirrors omnifold's PET "
        "(layer scale 1e-3, two stacked kNN layers, class attention, "
        "multiplicity); 'plain' is hepnnlr's default PET block structure",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="TensorFlow intra- and inter-op threads for both tools (default 1)",
    )
    parser.add_argument(
        "--cache", type=Path, help="npz file keeping the processed inputs between runs"
    )
    parser.add_argument("--json", type=Path, help="also write the per-model summaries here")
    args = parser.parse_args(argv)
    if min(args.seeds, args.seeds_pet or 1, args.repeat, args.repeat_pet or 1) < 1:
        parser.error("--seeds, --seeds-pet, --repeat and --repeat-pet must be >= 1")
    if not _peer_available(args.peer_path):
        return []
    sys.path.insert(0, str(Path(__file__).parent))
    from _timing import load_average, write_json  # benchmarks/_timing.py

    load_before = load_average()
    # Read when TensorFlow starts its runtime, which is after this point.
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        os.environ[name] = str(args.threads)

    import keras
    import omnifold  # noqa: F401  (prints omnifold's Horovod notice once, up front)
    import tensorflow as tf

    from hepnnlr.models import ModelSpec
    from hepnnlr.tensors import EventTensors

    sim, data = _cached_inputs(args)
    print(
        f"versions: tensorflow {tf.__version__}, keras {keras.__version__} (hepnnlr), "
        f"tf_keras {importlib.metadata.version('tf_keras')} (omnifold "
        f"{importlib.metadata.version('omnifold')})"
    )
    print(
        f"inputs: {len(data)} data + {len(sim)} sim events passing reco, "
        f"{sim.particles.shape[1]} slots, "
        f"{np.concatenate([sim.mask, data.mask]).sum(1).mean():.1f} particles on average"
    )
    n = len(data) + len(sim)
    weights = np.concatenate(
        [np.full(len(data), n / 2 / len(data)), np.full(len(sim), n / 2 / len(sim))]
    ).astype(np.float32)
    labels = np.concatenate([np.ones(len(data)), np.zeros(len(sim))]).astype(np.float32)
    both = EventTensors.concatenate([data, sim])

    # Same sizes: omnifold's defaults (MLP 64-128-64 GELU; PET projection 32, 2 heads,
    # 2 transformer + 2 class-token layers, K = 3), hepnnlr matched (see docs).
    setups = {
        "mlp": (
            ModelSpec("mlp", hidden=(64, 128, 64), activation="gelu"),
            dict(layer_sizes=[64, 128, 64]),
        ),
        "pet": (
            _pet_specs()[args.pet_spec],
            dict(num_heads=2, num_transformer=2, projection_dim=32, K=3),
        ),
    }
    if "pet" in args.models:
        print(f"hepnnlr PET ({args.pet_spec!r}): {setups['pet'][0]}")
    rows, summaries = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.models:
            spec, sizes = setups[kind]
            if kind == "mlp":  # event features only, as omnifold's MLP sees them
                hep_data = EventTensors(None, None, data.globals, (), data.global_features)
                hep_sim = EventTensors(None, None, sim.globals, (), sim.global_features)
            else:  # particles only: omnifold 0.1.36's PET cannot take event features
                hep_data = EventTensors(data.particles, data.mask, None, data.particle_features)
                hep_sim = EventTensors(sim.particles, sim.mask, None, sim.particle_features)
            hep_both = EventTensors.concatenate([hep_data, hep_sim])
            repeat = args.repeat_pet if kind == "pet" and args.repeat_pet else args.repeat
            n_seeds = args.seeds_pet if kind == "pet" and args.seeds_pet else args.seeds
            per_seed = []
            for seed in range(args.seed, args.seed + n_seeds):
                run_args = argparse.Namespace(**vars(args))
                run_args.epochs = args.epochs or DEFAULT_EPOCHS[kind]
                run_args.seed = seed
                # The split train_classifier draws from this seed, handed to omnifold too.
                train_idx, val_idx = _split(len(data), len(sim), args.validation_fraction, seed)
                hep_runs, of_runs = [], []
                for _ in range(repeat):  # interleaved, so both see the same machine load
                    load = os.getloadavg()[0]
                    trained, timer, total = _run_hepnnlr(spec, hep_data, hep_sim, weights, run_args)
                    hep_runs.append(
                        (trained, trained.logits(hep_both.subset(val_idx)), timer, total, load)
                    )
                    load = os.getloadavg()[0]
                    of_model, of_logits, timer, total, of_hist = _run_omnifold(
                        kind,
                        sizes,
                        _omnifold_arrays(both, kind),
                        labels,
                        weights,
                        train_idx,
                        val_idx,
                        run_args,
                        Path(tmp),
                    )
                    of_runs.append((of_model, of_logits, timer, total, load, of_hist))
                row = _row(
                    kind,
                    run_args.epochs,
                    hep_runs,
                    of_runs,
                    labels[val_idx],
                    weights[val_idx].astype(np.float64),
                )
                row["seed"] = seed
                _print_row(row, len(train_idx), len(val_idx))
                per_seed.append(row)
            rows.append(per_seed[0])
            summaries.append({**_summary(kind, per_seed), "first_row": per_seed[0]})
    _print_table(rows, args)
    _print_summary(summaries, args)
    kept = [{k: v for k, v in s.items() if k != "first_row"} for s in summaries]
    if args.json is not None:
        results = {
            f"{s['kind']}_{k}": float(v)
            for s in kept
            for k, v in s.items()
            if isinstance(v, int | float | np.floating)
        }
        write_json(
            args.json,
            script="bench_vs_omnifold.py",
            argv=argv,
            load_before=load_before,
            results=results,
            summary=[row for s in summaries for row in _json_rows(s, args)],
        )
    return kept


def _bound(r: dict) -> float:
    """The tolerance of "equal or lower": the combined standard error over the seeds (one
    seed: the paired per-event standard error of its validation losses)."""
    if len(r["seeds"]) > 1:
        return float(np.hypot(r["hep_err"], r["of_err"]))
    return float(r["first_row"]["diff_err"])


def _json_rows(r: dict, args) -> list[dict]:
    """The rows of docs/benchmarks.md for one network: loss and whole-training CPU."""
    seeds = f"{len(r['seeds'])} seed(s), {r['epochs']} epochs"
    return [
        {
            "measurement": f"DIS step 1, {r['kind'].upper()}: best validation loss "
            "hepnnlr / omnifold",
            "ratio": r["hep_mean"] / r["of_mean"],
            "target": "equal or lower (≤ omnifold + combined s.e.)",
            "met": r["hep_mean"] <= r["of_mean"] + _bound(r),
            "note": f"{seeds}: {r['hep_mean']:.5f} vs {r['of_mean']:.5f}, difference "
            f"{r['diff_mean']:+.5f} ± {_bound(r):.5f}",
        },
        {
            "measurement": f"DIS step 1, {r['kind'].upper()}: omnifold / hepnnlr CPU "
            f"(hepnnlr's whole train_classifier call, omnifold's fit call alone; "
            f"{args.threads} TensorFlow thread(s))",
            "ratio": r["of_cpu"] / r["hep_cpu"],
            "clock": "CPU",
            "target": ">= 2",
            "met": r["of_cpu"] / r["hep_cpu"] >= 2,
            "note": f"{seeds}: {r['hep_cpu']:.1f} s vs {r['of_cpu']:.1f} s",
        },
    ]


def _later(timer, what: str = "seconds") -> float:
    values = getattr(timer, what)
    return float(np.mean(values[1:] or values))


def _row(kind, epochs, hep_runs, of_runs, y, w) -> dict:
    """Best-of-N times of both tools; the losses of the first run (training is seeded)."""
    hep_loss = _weighted_bce(y, w, hep_runs[0][1])
    of_loss = _weighted_bce(y, w, of_runs[0][1])
    diff = hep_loss - of_loss
    return dict(
        kind=kind,
        epochs=epochs,
        hep_params=_count(hep_runs[0][0].model),
        of_params=_count(of_runs[0][0]),
        hep_timers=[r[2] for r in hep_runs],
        of_timers=[r[2] for r in of_runs],
        hep_totals=[r[3] for r in hep_runs],
        of_totals=[r[3] for r in of_runs],
        loads=[r[4] for r in hep_runs + of_runs],
        hep_loss=hep_loss.mean(),
        of_loss=of_loss.mean(),
        diff=diff.mean(),
        diff_err=diff.std(ddof=1) / np.sqrt(len(diff)),
        hep_hist=min(hep_runs[0][0].history["val_loss"]),
        of_hist=of_runs[0][5],
        hep_same=all(np.array_equal(r[1], hep_runs[0][1]) for r in hep_runs),
        of_same=all(np.array_equal(r[1], of_runs[0][1]) for r in of_runs),
    )


def _print_row(r, n_train: int, n_val: int) -> None:
    print(
        f"\n[{r['kind']}] seed {r['seed']}, {r['epochs']} epochs, {n_train} training / "
        f"{n_val} validation events; parameters hepnnlr {r['hep_params']:,}, omnifold "
        f"{r['of_params']:,} "
        f"({r['hep_params'] / r['of_params'] - 1:+.0%}); load average at the starts: "
        + ", ".join(f"{x:.1f}" for x in r["loads"])
    )
    for name, timers, totals in (
        ("hepnnlr", r["hep_timers"], r["hep_totals"]),
        ("omnifold", r["of_timers"], r["of_totals"]),
    ):
        for timer, total in zip(timers, totals, strict=True):
            epochs = (
                ""
                if timer is None
                else "epoch s: "
                + " ".join(f"{s:.2f}" for s in timer.seconds)
                + " | cpu s: "
                + " ".join(f"{s:.2f}" for s in timer.cpu)
                + "  "
            )
            print(f"  {name:8s} {epochs}(whole training {total[0]:.1f} s, {total[1]:.1f} s CPU)")
    print(
        f"  best val_loss in each framework's own history (its own batching): hepnnlr "
        f"{r['hep_hist']:.5f}, omnifold {r['of_hist']:.5f}; recomputed here on the same "
        f"validation events: {r['hep_loss']:.5f}, {r['of_loss']:.5f}; repeats identical: "
        f"hepnnlr {r['hep_same']}, omnifold {r['of_same']}"
    )


def _print_table(rows, args) -> None:
    print(
        f"\nPer training (seed {args.seed}): batch {args.batch_size}, Adam lr "
        f"{args.learning_rate:g}; best of {args.repeat} (PET: {args.repeat_pet or args.repeat}) "
        "interleaved trainings per tool; whole training: hepnnlr's train_classifier call, "
        "omnifold's fit call alone; omnifold's epochs: 'later' = mean s per epoch over "
        "epochs 2..N (training + validation; the first epoch traces)"
    )
    print(
        "| model | params hepnnlr / omnifold | epochs | omnifold epoch 1 s | omnifold later "
        "epochs wall / CPU s | whole training wall s hepnnlr / omnifold | whole training "
        "CPU s hepnnlr / omnifold | speed-up CPU | val loss hepnnlr | val loss omnifold | "
        "hepnnlr − omnifold (± s.e.) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        hep_cpu = min(t[1] for t in r["hep_totals"])
        of_cpu = min(t[1] for t in r["of_totals"])
        print(
            f"| {r['kind'].upper()} | {r['hep_params']:,} / {r['of_params']:,} | "
            f"{r['epochs']} | {min(t.seconds[0] for t in r['of_timers']):.2f} | "
            f"{min(_later(t) for t in r['of_timers']):.3f} / "
            f"{min(_later(t, 'cpu') for t in r['of_timers']):.3f} | "
            f"{min(t[0] for t in r['hep_totals']):.1f} / "
            f"{min(t[0] for t in r['of_totals']):.1f} | {hep_cpu:.1f} / {of_cpu:.1f} | "
            f"{of_cpu / hep_cpu:.2f}× | {r['hep_loss']:.5f} | {r['of_loss']:.5f} | "
            f"{r['diff']:+.5f} ± {r['diff_err']:.5f} |"
        )


def _summary(kind: str, per_seed: list[dict]) -> dict:
    """Whole trainings summed over the seeds; best validation losses across the seeds.

    Per seed a training's time is the fastest of its repeats (wall and CPU separately).
    hepnnlr's is its whole ``train_classifier`` call, omnifold's its ``fit`` call alone.
    """
    hep = np.array([r["hep_loss"] for r in per_seed])
    of = np.array([r["of_loss"] for r in per_seed])
    n = len(per_seed)

    def error(values: np.ndarray) -> float:  # standard error of the mean over the seeds
        return float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")

    def total(key: str, which: int) -> float:
        return float(sum(min(t[which] for t in r[key]) for r in per_seed))

    return dict(
        kind=kind,
        epochs=per_seed[0]["epochs"],
        seeds=[r["seed"] for r in per_seed],
        hep_wall=total("hep_totals", 0),
        of_wall=total("of_totals", 0),
        hep_cpu=total("hep_totals", 1),
        of_cpu=total("of_totals", 1),
        hep_mean=float(hep.mean()),
        hep_err=error(hep),
        of_mean=float(of.mean()),
        of_err=error(of),
        diff_mean=float((hep - of).mean()),
        diff_err=error(hep - of),
        loads=[x for r in per_seed for x in r["loads"]],
    )


def _print_summary(summaries: list[dict], args) -> None:
    print(
        "\nWhole trainings, summed over the seeds (each seed: the fastest of its repeats); "
        "hepnnlr: the whole train_classifier call, omnifold: its fit call alone. Best "
        "validation loss: recomputed on each seed's validation events, mean over the "
        "seeds ± standard error; 'equal or lower' = hepnnlr mean <= omnifold mean + the "
        "combined standard error (one seed: the paired per-event error of that seed). "
        f"TensorFlow threads: {args.threads}."
    )
    print(
        "| model | epochs | seeds | load average | whole trainings wall s hepnnlr / "
        "omnifold | speed-up wall | CPU s hepnnlr / omnifold | speed-up CPU | best val loss "
        "hepnnlr | best val loss omnifold | hepnnlr − omnifold (paired) | equal or lower |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in summaries:
        bound = _bound(r)
        if len(r["seeds"]) > 1:
            hep = f"{r['hep_mean']:.5f} ± {r['hep_err']:.5f}"
            of = f"{r['of_mean']:.5f} ± {r['of_err']:.5f}"
            diff = f"{r['diff_mean']:+.5f} ± {r['diff_err']:.5f}"
        else:
            hep, of = f"{r['hep_mean']:.5f}", f"{r['of_mean']:.5f}"
            diff = f"{r['diff_mean']:+.5f} ± {bound:.5f}"
        verdict = "yes" if r["hep_mean"] <= r["of_mean"] + bound else "no"
        seeds = f"{r['seeds'][0]}–{r['seeds'][-1]}" if len(r["seeds"]) > 1 else str(r["seeds"][0])
        print(
            f"| {r['kind'].upper()} | {r['epochs']} | {seeds} | "
            f"{min(r['loads']):.1f}–{max(r['loads']):.1f} | "
            f"{r['hep_wall']:.1f} / {r['of_wall']:.1f} | {r['of_wall'] / r['hep_wall']:.2f}× | "
            f"{r['hep_cpu']:.1f} / {r['of_cpu']:.1f} | {r['of_cpu'] / r['hep_cpu']:.2f}× | "
            f"{hep} | {of} | {diff} | {verdict} |"
        )


if __name__ == "__main__":
    main()
