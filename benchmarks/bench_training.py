"""Training throughput of the likelihood-ratio classifiers on DIS particle sets.

Processes a Pythia DIS sample (generated on the fly unless ``--file`` is given), builds the
detector-level network inputs exactly as ``hepnnlr unfold`` does, and times epochs of the
OmniFold step-1 classifier (data vs simulation stand-in: the sample split in two halves)
for the MLP on event features, the PFN and PET on particles + event features. For the PFN it
prints bucketed batches (``hepnnlr.tensors.make_dataset``, the default) next to plain
fully padded batches in the same run, and their ratio.

Usage::

    python benchmarks/bench_training.py                 # 20k generated sim events
    python benchmarks/bench_training.py --file sim.root --epochs 3
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import awkward as ak
import keras
import numpy as np
from _timing import finish, load_average  # benchmarks/_timing.py

from hepnnlr.models import ModelSpec
from hepnnlr.processors.dis import DISProcessor, collect_columns
from hepnnlr.samples import make_dis_sample
from hepnnlr.schema import run_processor
from hepnnlr.tensors import Standardizer, make_dataset
from hepnnlr.tensors.jagged import JaggedEventTensors
from hepnnlr.workflows.unfold_dis import GLOBAL_FEATURES, PARTICLE_FEATURES


def _inputs(path: Path):
    from hepnnlr.tensors import from_awkward

    columns = collect_columns(run_processor(DISProcessor(), {"sim": [str(path)]}, progress=False))
    passed = ak.to_numpy(columns["pass_reco"])
    reco = columns["reco"][passed]
    tensors = from_awkward(
        reco, particle_features=PARTICLE_FEATURES, global_features=GLOBAL_FEATURES
    )
    return Standardizer.fit(tensors).transform(tensors)


def _time_epochs(spec: ModelSpec, inputs, epochs: int, batch_size: int, bucketed: bool) -> float:
    """Events/s per epoch, trained as ``train_classifier`` trains: a whole epoch per call."""
    keras.utils.set_random_seed(0)
    if spec.kind == "mlp":
        inputs = type(inputs)(None, None, inputs.globals, (), inputs.global_features)
    model = spec.build(len(inputs.particle_features), len(inputs.global_features))
    steps = -(-len(inputs) // batch_size)
    model.compile(
        optimizer="adam",
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        steps_per_execution=steps,
    )
    labels = (np.arange(len(inputs)) % 2).astype(np.float32)
    weights = np.ones(len(inputs), np.float32)
    dataset = make_dataset(
        inputs,
        labels,
        weights,
        batch_size=batch_size,
        seed=1,
        bucket_window=16 if bucketed else 1,
        repeat=True,
    )
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)  # trace, unclocked
    start = time.perf_counter()
    model.fit(dataset, epochs=epochs, steps_per_epoch=steps, verbose=0)
    return epochs * len(inputs) / (time.perf_counter() - start)


MODELS = ("mlp", "pfn", "pet")


def main(argv: list[str] | None = None) -> dict[str, float]:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="DIS ROOT file (default: generate)")
    parser.add_argument("--events", type=int, default=20_000, help="events to generate")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.file or make_dis_sample(
            Path(tmp) / "sim.root", "sim", n_events=args.events, seed=1, progress=False
        )
        inputs = _inputs(path)
    print(
        f"{len(inputs)} detector-level events, {inputs.particles.shape[1]} slots, "
        f"{inputs.mask.sum(axis=1).mean():.1f} particles on average; load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    flat = JaggedEventTensors.from_padded(inputs)
    print(
        f"host storage of the particles: padded {inputs.particles.nbytes / 2**20:.2f} MiB, "
        f"streamed (flat values + offsets) "
        f"{(flat.values.nbytes + flat.offsets.nbytes) / 2**20:.2f} MiB"
    )
    rates: dict[str, float] = {}
    if "mlp" in args.models:
        rates["mlp"] = _time_epochs(ModelSpec("mlp"), inputs, args.epochs, args.batch_size, True)
        print(f"MLP (event features)          {rates['mlp']:10.0f} events/s per epoch")
    if "pfn" in args.models:
        pfn = ModelSpec("pfn")
        rates["pfn_padded"] = _time_epochs(pfn, inputs, args.epochs, args.batch_size, False)
        rates["pfn_bucketed"] = _time_epochs(pfn, inputs, args.epochs, args.batch_size, True)
        print(f"PFN, fully padded batches     {rates['pfn_padded']:10.0f} events/s per epoch")
        print(f"PFN, bucketed batches         {rates['pfn_bucketed']:10.0f} events/s per epoch")
        ratio = rates["pfn_bucketed"] / rates["pfn_padded"]
        print(f"bucketed / padded             {ratio:10.2f}x")
    if "pet" in args.models:
        pet = ModelSpec("pet", hidden=(64,))
        rates["pet"] = _time_epochs(pet, inputs, args.epochs, args.batch_size, True)
        print(f"PET (64 units, k=5, 2+1 layers), bucketed {rates['pet']:10.0f} events/s per epoch")
    results = {f"{name}_events_per_s_per_epoch": rate for name, rate in rates.items()}
    return finish(__file__, args, argv, load_before, results)


if __name__ == "__main__":
    main()
