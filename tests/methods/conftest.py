"""A Gaussian DCTR reweighter (SRGN paper, Sec. III A) trained once for the method tests."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.methods.dctr import DCTRConfig, DCTRReweighter
from hepnnlr.tensors import EventTensors
from hepnnlr.training import TrainingConfig

GAUSS_EVENTS = 20_000
"""Events in each class of the reweighter's training (the paper: 10^6; ~15 s here)."""


def _events(x: np.ndarray, name: str = "x") -> EventTensors:
    """One event-level feature ``name`` per event."""
    return EventTensors(None, None, np.asarray(x, np.float32).reshape(-1, 1), (), (name,))


@pytest.fixture(scope="session")
def gaussian_events():
    """``gaussian_events(x, name="x")``: EventTensors with one event-level feature."""
    return _events


@pytest.fixture(scope="session")
def gaussian_reweighter() -> DCTRReweighter:
    """``w(x, mu)`` for x ~ N(mu, 1) against x ~ N(0, 1), mu ~ U[-2, 2] (Eq. 10)."""
    rng = np.random.default_rng(11)
    mu = rng.uniform(-2.0, 2.0, GAUSS_EVENTS)
    varied = EventTensors(
        None, None, rng.normal(mu, 1.0).astype(np.float32).reshape(-1, 1), (), ("x",),
        theta=mu.astype(np.float32).reshape(-1, 1), theta_names=("mu",),
    )
    nominal = _events(rng.normal(0.0, 1.0, GAUSS_EVENTS))
    # Patience 15: the ratio's tails (which the mu = 1.5 weights depend on) are learned
    # last, and shorter patience stopped some seeds' trainings before them.
    config = DCTRConfig(training=TrainingConfig(epochs=60, batch_size=500, patience=15, seed=1))
    return DCTRReweighter.train(nominal, varied, config)
