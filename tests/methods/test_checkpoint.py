"""OmniFold checkpoints (issue 17): a run killed after a completed phase and resumed gives
the weights of an uninterrupted run bit for bit; another job's checkpoint is refused."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hepnnlr.methods import OmniFoldConfig, omnifold
from hepnnlr.methods.checkpoint import (
    CheckpointMismatchError,
    OmniFoldCheckpoint,
    checkpointing,
)
from hepnnlr.methods.omnifold_ensembles import bootstrap_omnifold
from hepnnlr.models import ModelSpec
from hepnnlr.tensors import EventTensors
from hepnnlr.training import TrainingConfig

MLP = ModelSpec("mlp", hidden=(8,))
# Two iterations of 2-epoch trainings on 600 events: < 1 s per training; two trainings
# per iteration (step 1, step 2) in the default run.
CONFIG = OmniFoldConfig(
    iterations=2,
    step1_model=MLP,
    step2_model=MLP,
    training=TrainingConfig(epochs=2, batch_size=256, seed=7),
)
# Step 1b and 2b run too (acceptance "extrapolate", fakes "learned"): both phases hold two
# steps.
ALL_STEPS = replace(CONFIG, acceptance="extrapolate", fakes="learned")


class Killed(Exception):
    """Stands for a SIGKILL: raised from the progress callback before a training."""


def _problem(n=600):
    rng = np.random.default_rng(3)
    z = rng.normal(0.0, 1.0, n)
    x = z + rng.normal(0.0, 0.4, n)
    data_x = rng.normal(0.2, 1.1, n)

    def events(v):
        return EventTensors(None, None, v.reshape(-1, 1).astype(np.float32), (), ("v",))

    flags = {"pass_reco": rng.random(n) < 0.8, "pass_gen": z > -1.8}
    return (events(data_x), events(x), events(z)), flags


def _kill_at(iteration, step):
    def callback(i, name):
        if (i, name) == (iteration, step):
            raise Killed(f"killed before {name} of iteration {i}")

    return callback


@pytest.mark.parametrize(
    ("config", "kill", "retrained"),
    [
        # killed before step 2 of iteration 2: iterations 1 and iteration 2's pull phase
        # are complete; the resumed run reads iteration 2's step-1 classifier back (the
        # result keeps it) and iteration 1's step-2 one (step 2 warm-starts from it)
        (CONFIG, (2, "step2"), [(2, "step2")]),
        pytest.param(
            ALL_STEPS,
            (2, "step1"),
            [(2, "step1"), (2, "step1b"), (2, "step2"), (2, "step2b")],
            marks=pytest.mark.slow,
        ),
        # killed before step 2b: step 2 was trained, but its phase is not complete
        pytest.param(
            ALL_STEPS, (2, "step2b"), [(2, "step2"), (2, "step2b")], marks=pytest.mark.slow
        ),
    ],
)
def test_resumed_run_gives_the_uninterrupted_weights_bit_for_bit(tmp_path, config, kill, retrained):
    inputs, flags = _problem()
    uninterrupted = omnifold(*inputs, **flags, config=config)
    checkpoint = OmniFoldCheckpoint(tmp_path / "ckpt")
    with pytest.raises(Killed):
        omnifold(*inputs, **flags, config=config, checkpoint=checkpoint, callback=_kill_at(*kill))
    done = sorted(p.name for p in checkpoint.folder.glob("it*") if (p / "state.json").exists())
    assert done == ["it1-pull", "it1-push", "it2-pull"][: 2 if kill[1] == "step1" else 3]

    trained = []
    resumed = omnifold(
        *inputs,
        **flags,
        config=config,
        checkpoint=OmniFoldCheckpoint(tmp_path / "ckpt"),
        callback=lambda i, name: trained.append((i, name)),
    )
    # only the steps after the last complete phase are trained again
    assert trained == retrained
    for key in ("pull", "push", "push_spread", "sim_weights"):
        np.testing.assert_array_equal(getattr(resumed, key), getattr(uninterrupted, key))
    assert resumed.history == uninterrupted.history
    assert resumed.scales == uninterrupted.scales
    # the last iteration's classifiers come back as trained (the pull phase's from disk
    # when it was skipped): the same logits
    for name in ("step1", "step2"):
        (a,), (b,) = resumed.classifiers[name], uninterrupted.classifiers[name]
        assert a.total_ratio == b.total_ratio
        np.testing.assert_array_equal(a.logits(inputs[1]), b.logits(inputs[1]))


def test_a_checkpoint_of_another_job_is_refused(tmp_path):
    inputs, flags = _problem()
    one = replace(CONFIG, iterations=1)
    killed = _kill_at(1, "step2")
    with pytest.raises(Killed):
        omnifold(
            *inputs, **flags, config=one, checkpoint=OmniFoldCheckpoint(tmp_path), callback=killed
        )
    other = replace(one, training=replace(one.training, seed=8))
    # refused before any training (the callback would be called before the first)
    with pytest.raises(CheckpointMismatchError, match="written by another job"):
        omnifold(
            *inputs, **flags, config=other, checkpoint=OmniFoldCheckpoint(tmp_path), callback=killed
        )
    weights = flags["pass_reco"] * 1.0 + 0.5  # other event weights: another job too
    with pytest.raises(CheckpointMismatchError, match="written by another job"):
        omnifold(
            *inputs,
            **flags,
            sim_weights=weights,
            config=one,
            checkpoint=OmniFoldCheckpoint(tmp_path),
            callback=killed,
        )
    # without resuming, the folder is cleared and the other job starts over
    OmniFoldCheckpoint(tmp_path, resume=False).bind("another")
    assert not (tmp_path / "it1-pull").exists()


@pytest.mark.slow
def test_bootstrap_replicas_checkpoint_per_replica(tmp_path):
    inputs, flags = _problem()
    one = replace(CONFIG, iterations=1, acceptance="keep", fakes="prior")
    runs = []

    def kill_third(i, name):
        runs.append(name)
        if len(runs) == 5:  # two steps per replica: before step 1 of replica 3
            raise Killed

    kwargs = {**flags, "replicas": 3, "seed": 1, "config": one}
    with checkpointing(tmp_path / "store"), pytest.raises(Killed):
        bootstrap_omnifold(*inputs, **kwargs, callback=kill_third)
    runs.clear()
    with checkpointing(tmp_path / "store", resume=True):
        resumed = bootstrap_omnifold(*inputs, **kwargs, callback=lambda i, n: runs.append(n))
    assert runs == ["step1", "step2"]  # replicas 1 and 2 read back, replica 3 trained
    fresh = bootstrap_omnifold(*inputs, **kwargs)
    for a, b in zip(resumed.members, fresh.members, strict=True):
        np.testing.assert_array_equal(a.weights, b.weights)
