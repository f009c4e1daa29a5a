"""Maximum-likelihood training of the conditional flow, against the exact Gaussian density."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import ConfigError, NonFiniteInputError
from hepnnlr.methods.signal_strength import MixtureLikelihood, scan_nll
from hepnnlr.models.flows import FlowSpec
from hepnnlr.samples.gaussian_signal import GaussianSignalToy
from hepnnlr.training.config import TrainingConfig
from hepnnlr.training.flows import train_flow

TOY = GaussianSignalToy(2.0)


@pytest.fixture(scope="module")
def signal_flow():
    rng = np.random.default_rng(11)
    n = 5000
    z = TOY.uniform_z(n, rng)
    x = TOY.sample("signal", z, n, rng)
    return train_flow(x, z, features=TOY.features, spec=FlowSpec(layers=2, hidden=(32, 32)),
                      config=TrainingConfig(epochs=20, batch_size=128, learning_rate=3e-3,
                                            patience=3, seed=2), name="test flow")


def test_trained_flow_reaches_the_exact_conditional_density(signal_flow):
    rng = np.random.default_rng(12)
    n = 4000
    z = rng.uniform(0.05, 1.5, n)  # inside the sampled training range
    x = TOY.sample("signal", z, n, rng)
    true_nll = -np.mean(TOY.log_density(x, z, "signal"))
    flow_nll = signal_flow.nll(x, z)
    # same events: the difference is the KL divergence plus the per-event scatter of
    # log p_flow - log p_true over sqrt(n); a converged affine MAF is exact for this toy.
    # 0.03 nats is ~5 % of the information that separates z values 0.2 apart.
    assert flow_nll - true_nll == pytest.approx(0.0, abs=0.03)
    # per event too: the log-density tracks the exact one as a function of z
    z_far = np.full(n, 0.1 * np.pi)
    gap = signal_flow.log_prob(x, z_far) - TOY.log_density(x, z_far, "signal")
    assert np.median(np.abs(gap)) < 0.15
    assert signal_flow.history["val_loss"][-1] <= signal_flow.history["val_loss"][0]


def test_flow_refuses_z_outside_its_training_range(signal_flow):
    x = np.zeros((3, 2))
    with pytest.raises(ConfigError, match="outside.*range of z the flow was trained on"):
        signal_flow.log_prob(x, np.full(3, 2.5))


def test_a_flow_whose_nll_is_nan_raises_a_clear_error(signal_flow):
    made = signal_flow.model.mades[0]
    saved = made.out_bias.numpy()
    try:
        broken = saved.copy()
        broken[0] = np.nan
        made.out_bias.assign(broken)
        x, _ = TOY.mixture(0.2, 0.7, 30, np.random.default_rng(1))
        with pytest.raises(NonFiniteInputError, match="test flow.*NaN.*Retrain"):
            signal_flow.log_prob(x, np.full(len(x), 0.7))
        like = MixtureLikelihood(signal_flow, signal_flow, name="flow route")
        with pytest.raises(NonFiniteInputError, match="NaN"):
            scan_nll(like, x, np.linspace(0, 0.5, 5), np.linspace(0.5, 1.0, 5))
    finally:
        made.out_bias.assign(saved)


def test_training_inputs_with_nan_are_refused():
    x = np.random.default_rng(0).normal(size=(50, 2))
    x[7, 1] = np.nan
    with pytest.raises(NonFiniteInputError, match="features"):
        train_flow(x, np.linspace(0, 1, 50), features=("a", "b"))
