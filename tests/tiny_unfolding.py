"""A tiny DIS unfolding (one iteration, event-level MLPs, seconds on the 1,500-event
session files) for the tests of what an unfolding writes."""

from __future__ import annotations

from hepnnlr.methods import OmniFoldConfig
from hepnnlr.models import ModelSpec
from hepnnlr.training import TrainingConfig
from hepnnlr.workflows import DISUnfoldingJob, run_dis_unfolding

TINY = OmniFoldConfig(
    iterations=1,
    step1_model=ModelSpec("mlp", hidden=(16,)),
    step2_model=ModelSpec("mlp", hidden=(16,)),
    training=TrainingConfig(epochs=2, batch_size=256, seed=5),
)


def tiny_unfolding(data, sim, out, **kwargs):
    """:func:`run_dis_unfolding` of ``data`` with ``sim`` into ``out`` at :data:`TINY`,
    without the figures unless ``plots=True`` (drawing costs ~1 CPU s per observable, more
    than the training here; tests/workflows/test_unfold_dis.py checks the plots)."""
    kwargs.setdefault("plots", False)
    job = DISUnfoldingJob(
        data,
        sim,
        out,
        executor="iterative",
        omnifold=TINY,
        particle_features=(),
        progress=False,
        **kwargs,
    )
    return run_dis_unfolding(job)


_DONE: dict = {}


def shared_tiny_unfolding(data, sim, tmp_path_factory):
    """:func:`tiny_unfolding` once per test process for the same files (the README test and
    ``tests/workflows/test_unfold_outputs.py`` read the same outputs and never write)."""
    key = (str(data), str(sim))
    if key not in _DONE:
        _DONE[key] = tiny_unfolding(data, sim, tmp_path_factory.mktemp("tiny_unfolding"))
    return _DONE[key]
