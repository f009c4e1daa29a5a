"""hepnnlr's ``omnifold`` and the ``omnifold`` package's ``MultiFold`` on the same arrays.

Used by ``bench_vs_multifold.py`` (and, through it, ``tests/methods/test_omnifold_peer.py``).
Both tools get the same event-level feature arrays, selections and simulation weights (the
simulation scaled so that its events passing the detector selection carry the data's total,
as hepnnlr does; ``MultiFold`` does not balance its classes, so it needs that scale), the
same MLP (hidden sizes, activation), iterations, epochs, batch size, learning rate,
early-stopping patience and training fraction. What each does with events failing a
selection is its own: ``MultiFold`` keeps ``omega = 1`` for missed events and a pushed
weight of 1 for fakes (hepnnlr's ``acceptance="keep"``, ``fakes="prior"``); hepnnlr's
settings come from its :class:`~hepnnlr.methods.OmniFoldConfig`.

Each tool's unfolding call is timed whole (``time.perf_counter`` and
``time.process_time``, which counts every thread of the process): hepnnlr's
``omnifold(...)`` call, and ``MultiFold(...)`` plus its ``Unfold()`` (which also writes
its checkpoints and logs, as it always does). The weights after every iteration are kept:
hepnnlr's from its result, ``MultiFold``'s by recording ``weights_push`` after each of its
step-2 calls (reading, not changing, what it computes).

The peer must be importable as ``tf.keras``-based code: ``bench_vs_omnifold._peer_available``
sets ``TF_USE_LEGACY_KERAS`` before TensorFlow is imported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Arrays:
    """One unfolding problem as plain arrays (features per event, one row per event).

    ``sim_weights`` are already scaled to the data (``sum(sim_weights[pass_reco]) ==
    sum(data_weights)``).
    """

    data_reco: np.ndarray
    sim_reco: np.ndarray
    sim_gen: np.ndarray
    pass_reco: np.ndarray
    pass_gen: np.ndarray
    sim_weights: np.ndarray
    data_weights: np.ndarray
    feature_names: tuple[str, ...]

    @classmethod
    def scaled(cls, data_reco, sim_reco, sim_gen, pass_reco, pass_gen, sim_weights=None,
               data_weights=None, feature_names=()) -> Arrays:  # fmt: skip
        """The arrays with the simulation weights scaled to the data's total."""
        n_sim, n_data = len(sim_reco), len(data_reco)
        sim_weights = np.ones(n_sim) if sim_weights is None else np.asarray(sim_weights, float)
        data_weights = np.ones(n_data) if data_weights is None else np.asarray(data_weights)
        pass_reco, pass_gen = np.asarray(pass_reco, bool), np.asarray(pass_gen, bool)
        scale = data_weights.sum() / sim_weights[pass_reco].sum()
        return cls(
            np.asarray(data_reco, np.float32),
            np.asarray(sim_reco, np.float32),
            np.asarray(sim_gen, np.float32),
            pass_reco,
            pass_gen,
            sim_weights * scale,
            np.asarray(data_weights, float),
            tuple(feature_names) or tuple(f"f{k}" for k in range(sim_reco.shape[1])),
        )


@dataclass(frozen=True)
class Settings:
    """What both tools share: the network and the training budget."""

    hidden: tuple[int, ...]
    activation: str
    iterations: int
    epochs: int
    batch_size: int
    learning_rate: float
    patience: int
    train_fraction: float
    seed: int


@dataclass
class Run:
    """One tool's unfolding: the simulation's weights after each iteration and the time."""

    weights: np.ndarray  # (iterations, n_sim)
    wall_s: float
    cpu_s: float


def run_hepnnlr(arrays: Arrays, settings: Settings, **config_changes) -> Run:
    """hepnnlr's ``omnifold`` with ``settings``; ``config_changes`` go to ``OmniFoldConfig``
    and ``TrainingConfig`` fields (``schedule=`` goes to the training, the rest to the
    unfolding), e.g. ``acceptance="extrapolate"``."""
    from hepnnlr.methods import OmniFoldConfig, omnifold
    from hepnnlr.models import ModelSpec
    from hepnnlr.tensors import EventTensors
    from hepnnlr.training import TrainingConfig

    def events(x: np.ndarray) -> EventTensors:
        return EventTensors(None, None, x, (), arrays.feature_names)

    spec = ModelSpec("mlp", hidden=settings.hidden, activation=settings.activation)
    training = TrainingConfig(
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        learning_rate=settings.learning_rate,
        patience=settings.patience,
        validation_fraction=1 - settings.train_fraction,
        seed=settings.seed,
        schedule=config_changes.pop("schedule", "constant"),
    )
    config = OmniFoldConfig(
        iterations=settings.iterations,
        step1_model=spec,
        step2_model=spec,
        training=training,
        **config_changes,
    )
    wall, cpu = time.perf_counter(), time.process_time()
    result = omnifold(
        events(arrays.data_reco),
        events(arrays.sim_reco),
        events(arrays.sim_gen),
        pass_reco=arrays.pass_reco,
        pass_gen=arrays.pass_gen,
        # hepnnlr scales the simulation itself; given pre-scaled weights its scale is 1.
        sim_weights=arrays.sim_weights,
        data_weights=arrays.data_weights,
        config=config,
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    weights = np.stack([result.weights_at(n) for n in range(1, settings.iterations + 1)])
    return Run(weights, wall, cpu)


def run_omnifold(arrays: Arrays, settings: Settings, tmp: Path) -> Run:
    """The ``omnifold`` package's ``MultiFold`` with ``settings`` (its own pipeline)."""
    import tensorflow as tf
    from omnifold import MLP, DataLoader, MultiFold
    from omnifold.net import weighted_binary_crossentropy

    tf.keras.utils.get_custom_objects()["weighted_binary_crossentropy"] = (
        weighted_binary_crossentropy
    )
    tf.keras.utils.set_random_seed(settings.seed)  # initialization and its NumPy shuffles
    n_features = arrays.sim_reco.shape[1]
    layers = dict(layer_sizes=list(settings.hidden), activation=settings.activation)
    folder = tmp / f"multifold_{settings.seed}"
    folder.mkdir(parents=True, exist_ok=True)
    pushes: list[np.ndarray] = []
    wall, cpu = time.perf_counter(), time.process_time()
    unfolder = MultiFold(
        "side_by_side",
        MLP(n_features, **layers),
        MLP(n_features, **layers),
        data=DataLoader(arrays.data_reco, weight=arrays.data_weights.astype(np.float32)),
        mc=DataLoader(
            arrays.sim_reco,
            gen=arrays.sim_gen,
            pass_reco=arrays.pass_reco,
            pass_gen=arrays.pass_gen,
            weight=arrays.sim_weights.astype(np.float32),
        ),
        weights_folder=str(folder / "weights"),
        log_folder=str(folder),
        niter=settings.iterations,
        batch_size=settings.batch_size,
        epochs=settings.epochs,
        lr=settings.learning_rate,
        early_stop=settings.patience,
        train_frac=settings.train_fraction,
    )
    step2 = unfolder.RunStep2

    def step2_then_record(i: int) -> None:
        step2(i)
        pushes.append(np.array(unfolder.weights_push, dtype=float))

    unfolder.RunStep2 = step2_then_record
    unfolder.Unfold()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Run(arrays.sim_weights * np.stack(pushes), wall, cpu)
