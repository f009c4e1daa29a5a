"""Every method takes plain arrays and gives what hand-built EventTensors give, bit for bit.

The methods call :func:`hepnnlr.tensors.as_events` at their top and run the same code after
it, and the training of each network is seeded, so on CPU the results are equal exactly
(no tolerance: a difference would mean the adapter built other tensors). Tiny samples, one
epoch: the claim is equality, not quality. The default run trains 8 tiny networks
(~7 s of CPU on the shared 2-core machine); the SRGN AUC and the response, 4 more, are
``slow``.
"""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepnnlr.methods import (
    DCTRConfig,
    DCTRGANConfig,
    DCTRGANReweighter,
    DCTRReweighter,
    OmniFoldConfig,
    ResponseConfig,
    ResponseModel,
    SRGNConfig,
    SRGNObjective,
    dctr_fit,
    omnifold,
)
from hepnnlr.models import ModelSpec
from hepnnlr.tensors import EventTensors
from hepnnlr.training import TrainingConfig

SMALL = ModelSpec("mlp", hidden=(8,))
QUICK = TrainingConfig(epochs=1, batch_size=256, seed=4)


def _columns(values: np.ndarray, *names: str) -> EventTensors:
    """Hand-built event-level tensors, as the method tests build them."""
    return EventTensors(None, None, values.reshape(len(values), -1).astype(np.float32), (), names)


def test_omnifold_from_numpy_and_awkward_equals_omnifold_from_tensors():
    rng = np.random.default_rng(2)
    z = rng.normal(0.0, 1.0, (400, 2))
    x = z + rng.normal(0.0, 0.5, z.shape)
    data = rng.normal(0.3, 1.0, (300, 2))
    detected = rng.random(400) < 0.9
    config = OmniFoldConfig(iterations=1, step1_model=SMALL, step2_model=SMALL, training=QUICK)
    hand = omnifold(
        _columns(data, "x0", "x1"),
        _columns(x, "x0", "x1"),
        _columns(z, "x0", "x1"),
        pass_reco=detected,
        pass_gen=np.ones(400, bool),
        config=config,
    )
    # the omnifold package's inputs: plain (events, features) arrays, every event passing
    # particle level unless told; awkward records work the same
    plain = omnifold(
        data, ak.zip({"x0": x[:, 0], "x1": x[:, 1]}), z, pass_reco=detected, config=config
    )
    np.testing.assert_array_equal(plain.pull, hand.pull)
    np.testing.assert_array_equal(plain.push, hand.push)


def test_dctr_fit_and_the_srgn_objective_from_plain_arrays_equal_those_from_tensors():
    # x ~ N(mu, 1) with mu ~ U[-1, 1] against x ~ N(0, 1), as SRGN Sec. III A (tiny)
    rng = np.random.default_rng(5)
    mu = rng.uniform(-1.0, 1.0, 400)
    varied, nominal, data = rng.normal(mu, 1.0), rng.normal(0.0, 1.0, 400), rng.normal(0.4, 1, 300)
    config = DCTRConfig(model=SMALL, training=QUICK)
    hand_varied = EventTensors(
        None, None, varied.reshape(-1, 1).astype(np.float32), (), ("x",),
        mu.reshape(-1, 1).astype(np.float32), ("mu",),
    )  # fmt: skip
    hand = DCTRReweighter.train(_columns(nominal, "x"), hand_varied, config)
    plain = DCTRReweighter.train({"x": nominal}, {"x": varied}, config, varied_theta={"mu": mu})
    np.testing.assert_array_equal(
        plain.weights({"x": data}, {"mu": 0.5}), hand.weights(_columns(data, "x"), {"mu": 0.5})
    )
    fit_hand = dctr_fit(hand, _columns(data, "x"), _columns(nominal, "x"), max_iterations=3)
    assert dctr_fit(hand, {"x": data}, {"x": nominal}, max_iterations=3) == fit_hand

    # SRGN: the reweighter at generator level, a smeared copy as the simulation; the
    # objective's weights come from the adapted generator-level events (no training)
    detector = nominal + rng.normal(0.0, 0.5, len(nominal))
    srgn = SRGNConfig(model=SMALL, training=QUICK)
    hand_objective = SRGNObjective(
        hand, _columns(nominal, "x"), _columns(detector, "x0"), _columns(data, "x0"), srgn
    )
    plain_objective = SRGNObjective(hand, {"x": nominal}, detector, data, srgn)
    np.testing.assert_array_equal(plain_objective.weights([0.2]), hand_objective.weights([0.2]))


@pytest.mark.slow
def test_the_srgn_auc_from_plain_arrays_equals_the_auc_from_tensors():
    """The AUC of Eq. 5 (a training of g on the adapted simulation and data) at one point:
    two more trainings than the default run's budget allows (~1.5 s of CPU)."""
    rng = np.random.default_rng(6)
    mu = rng.uniform(-1.0, 1.0, 400)
    varied, nominal, data = rng.normal(mu, 1.0), rng.normal(0.0, 1.0, 400), rng.normal(0.4, 1, 300)
    config = DCTRConfig(model=SMALL, training=QUICK)
    reweighter = DCTRReweighter.train(nominal, varied, config, varied_theta={"mu": mu})
    detector = nominal + rng.normal(0.0, 0.5, len(nominal))
    srgn = SRGNConfig(model=SMALL, training=QUICK)
    hand = SRGNObjective(
        reweighter, _columns(nominal, "x0"), _columns(detector, "x0"), _columns(data, "x0"), srgn
    )
    plain = SRGNObjective(reweighter, nominal, detector, data, srgn)
    assert plain([0.2]) == hand([0.2])


def test_dctrgan_from_numpy_equals_dctrgan_from_tensors():
    rng = np.random.default_rng(7)
    reference, generated = rng.normal(0.2, 1.0, (300, 3)), rng.normal(0.0, 1.0, (300, 3))
    config = DCTRGANConfig(model=SMALL, training=QUICK, temperature_scaling=False)
    names = ("x0", "x1", "x2")
    hand = DCTRGANReweighter.train(_columns(reference, *names), _columns(generated, *names), config)
    plain = DCTRGANReweighter.train(reference, generated, config)
    np.testing.assert_array_equal(
        plain.weights(generated).weights, hand.weights(_columns(generated, *names)).weights
    )


@pytest.mark.slow
def test_response_with_named_conditions_equals_the_response_with_an_array():
    """Slow only for the budget of the default run (two trainings, ~2 s of CPU); the
    default run checks the conditions' adapter, as_columns, in tests/tensors/test_adapt.py."""
    rng = np.random.default_rng(8)
    true, c = rng.uniform(1.0, 2.0, 300), rng.uniform(0.0, 1.0, 300)
    measured = true * (1.0 + 0.1 * c) + rng.normal(0.0, 0.05, 300)
    # relu: PReLU's parameters make a training ~30 % dearer and test nothing more here
    config = ResponseConfig(
        members=1, quantiles=None, hidden=(8,), activation="relu", training=QUICK
    )
    hand = ResponseModel.fit(true, measured, config, conditions=c[:, None])
    plain = ResponseModel.fit(
        ak.Array(true), ak.Array(measured), config, conditions=ak.zip({"c": c})
    )
    np.testing.assert_array_equal(plain.response(true, {"c": c}), hand.response(true, c[:, None]))
