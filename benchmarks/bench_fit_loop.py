"""``train_classifier`` on Keras' ``fit`` against the hand-built epoch loop it replaced (issue 18).

Until commit 2ba5d0d, ``train_classifier``'s default path ran its own epoch loop: Keras'
``train_step`` and ``test_step`` in a ``tf.while_loop``, one ``tf.function`` call per
epoch for training and one for validation, Keras' callbacks called by hand. Now it calls
``model.compile(steps_per_execution=<steps per epoch>)`` and ``model.fit``. This script
trains the same classifier with both, side by side in one process on the same inputs,
interleaved (old, new, old, new, ...: both see the same machine load), and reports the
best CPU (``time.process_time``) and wall time of the whole ``train_classifier`` call of
each, and whether they trained identically (same history, max |Δ logit| on the validation
events; the two loops draw the same batches, so they should agree to the bit).

The old loop is not kept in the package; give a copy of the old module::

    git show 2ba5d0d~1:hepnnlr/training/classifier.py > /tmp/old_classifier.py
    python benchmarks/bench_fit_loop.py --old /tmp/old_classifier.py \\
        --cache /tmp/h4_dis_inputs.npz

The inputs are those of ``bench_vs_omnifold.py`` (OmniFold's step 1 on DIS: data, label 1,
against simulation, label 0; its ``--cache`` file, or generated when the file is missing):
the MLP 64-128-64 GELU on the event features, 20 epochs, batch 256, as there; ``pfn``
(``ModelSpec("pfn")``) and ``pet`` (bench_vs_omnifold's matched PET) on the particles,
``--particle-epochs`` epochs. Patience equals the epoch count (no early stop), as in
``bench_vs_omnifold.py``. One TensorFlow thread (``--threads``).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MODELS = ("mlp", "pfn", "pet")


def _load_old(path: Path):
    """The old classifier module, imported from ``path`` under its own name."""
    if not path.is_file():
        raise SystemExit(
            f"--old {path}: no such file. Make it with\n"
            "    git show 2ba5d0d~1:hepnnlr/training/classifier.py > /tmp/old_classifier.py"
        )
    spec = importlib.util.spec_from_file_location("hepnnlr_old_classifier", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _train(train_classifier, spec, data, sim, config):
    start, cpu = time.perf_counter(), time.process_time()
    trained = train_classifier(
        spec, data, np.ones(len(data)), sim, np.ones(len(sim)), config, name=spec.kind
    )
    return trained, time.perf_counter() - start, time.process_time() - cpu


def main(argv: list[str] | None = None) -> dict[str, float]:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="copy of the old classifier.py")
    parser.add_argument("--cache", type=Path, help="bench_vs_omnifold.py's inputs (npz)")
    parser.add_argument("--events", type=int, default=20_000, help="events to generate")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=["mlp", "pfn"])
    parser.add_argument("--epochs", type=int, default=20, help="MLP epochs")
    parser.add_argument("--particle-epochs", type=int, default=4, help="PFN / PET epochs")
    parser.add_argument("--repeat", type=int, default=3, help="trainings per loop (best of)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow threads")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    # Read when TensorFlow starts its runtime, which is after this point.
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    sys.path.insert(0, str(HERE))
    import keras
    from _timing import finish, load_average  # benchmarks/_timing.py
    from bench_vs_omnifold import _cached_inputs, _pet_specs

    from hepnnlr.models import ModelSpec
    from hepnnlr.tensors import EventTensors
    from hepnnlr.training import TrainingConfig
    from hepnnlr.training import classifier as new

    old = _load_old(args.old)
    load_before = load_average()
    sim, data = _cached_inputs(args)
    print(
        f"keras {keras.__version__}; {len(data)} data + {len(sim)} sim events; load "
        f"{os.getloadavg()[0]:.1f}"
    )
    specs = {
        "mlp": ModelSpec("mlp", hidden=(64, 128, 64), activation="gelu"),
        "pfn": ModelSpec("pfn"),
        "pet": _pet_specs()["matched"],
    }
    results: dict[str, float] = {}
    summary = []
    for kind in args.models:
        if kind == "mlp":
            pair = [EventTensors(None, None, t.globals, (), t.global_features) for t in (data, sim)]
            epochs = args.epochs
        else:
            pair = [
                EventTensors(t.particles, t.mask, t.globals, t.particle_features, t.global_features)
                for t in (data, sim)
            ]
            epochs = args.particle_epochs
        config = TrainingConfig(
            epochs=epochs, batch_size=256, learning_rate=1e-3, patience=epochs, seed=args.seed
        )
        runs: dict[str, list] = {"old": [], "new": []}
        for _ in range(args.repeat):
            for name, module in (("old", old), ("new", new)):
                runs[name].append(_train(module.train_classifier, specs[kind], *pair, config))
                trained, wall, cpu = runs[name][-1]
                print(
                    f"{kind} {name}: {cpu:6.2f} s CPU, {wall:6.2f} s wall, best val loss "
                    f"{trained.best_val_loss:.5f}",
                    flush=True,
                )
        both = EventTensors.concatenate(pair)
        held = runs["old"][0][0].held_out
        val = np.concatenate([held[0], held[1] + len(pair[0])])
        logits = {k: runs[k][0][0].logits(both.subset(val)) for k in runs}
        same_history = runs["old"][0][0].history == runs["new"][0][0].history
        delta = float(np.abs(logits["old"] - logits["new"]).max())
        best = {k: (min(r[2] for r in runs[k]), min(r[1] for r in runs[k])) for k in runs}
        ratio_cpu = best["new"][0] / best["old"][0]
        ratio_wall = best["new"][1] / best["old"][1]
        print(
            f"{kind}: new / old CPU {ratio_cpu:.3f}, wall {ratio_wall:.3f} (best of "
            f"{args.repeat}); same history: {same_history}; max |Δ logit| {delta:.3g}"
        )
        results.update(
            {
                f"{kind}_old_cpu": best["old"][0],
                f"{kind}_new_cpu": best["new"][0],
                f"{kind}_old_wall": best["old"][1],
                f"{kind}_new_wall": best["new"][1],
                f"{kind}_max_delta_logit": delta,
                f"{kind}_same_history": float(same_history),
                f"{kind}_epochs": float(epochs),
            }
        )
        summary.append(
            {
                "measurement": f"train_classifier, {kind.upper()}: Keras fit / the former "
                "hand-built epoch loop, CPU of the whole call",
                "ratio": ratio_cpu,
                "clock": "CPU",
                "target": "<= 1.1",
                "met": ratio_cpu <= 1.1,
                "note": f"{epochs} epochs, best of {args.repeat}: {best['new'][0]:.2f} s vs "
                f"{best['old'][0]:.2f} s; same history {same_history}, max |Δ logit| "
                f"{delta:.2g}",
            }
        )
    return finish(__file__, args, argv, load_before, results, summary)


if __name__ == "__main__":
    main()
