"""Adversarial training loop of hepnnlr.training.gan: shapes, determinism, errors."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import ConfigError, EmptySelectionError, NonFiniteInputError
from hepnnlr.models.gan import GANSpec
from hepnnlr.samples.multimodal import ring
from hepnnlr.training.gan import GANConfig, train_gan

SPEC = GANSpec(latent_dim=8)
CONFIG = GANConfig(steps=30, batch_size=64, log_every=10, seed=4)


@pytest.fixture(scope="module")
def data():
    return ring().sample(2000, seed=1)


@pytest.fixture(scope="module")
def trained(data):
    return train_gan(SPEC, data, CONFIG, feature_names=("x0", "x1"))


def test_a_few_steps_give_samples_of_the_right_shape_and_units(trained, data):
    samples = trained.sample(500, seed=7)
    assert samples.shape == (500, 2) and samples.dtype == np.float64
    assert np.isfinite(samples).all()
    assert trained.history["step"] == [10.0, 20.0, 30.0]
    assert all(np.isfinite(trained.history["d_loss"])) and len(trained.history["g_loss"]) == 3
    # the data were standardized for training and the samples mapped back
    np.testing.assert_allclose(trained.mean, data.mean(axis=0))
    np.testing.assert_allclose(trained.scale, data.std(axis=0))
    assert trained.sample(0, seed=1).shape == (0, 2)


def test_training_and_sampling_are_deterministic(trained, data):
    np.testing.assert_array_equal(trained.sample(100, seed=7), trained.sample(100, seed=7))
    assert not np.array_equal(trained.sample(100, seed=7), trained.sample(100, seed=8))
    again = train_gan(SPEC, data, CONFIG)
    np.testing.assert_array_equal(again.sample(100, seed=7), trained.sample(100, seed=7))
    assert again.history == trained.history


def test_bad_inputs_raise(data):
    with pytest.raises(EmptySelectionError, match="fewer than one batch"):
        train_gan(SPEC, data[:10], CONFIG)
    bad = data.copy()
    bad[3, 1] = np.nan
    with pytest.raises(NonFiniteInputError, match="GAN training data"):
        train_gan(SPEC, bad, CONFIG)
    with pytest.raises(ConfigError, match="latent='gauss'"):
        GANConfig(latent="gauss")
    with pytest.raises(ConfigError, match="steps=0"):
        GANConfig(steps=0)
