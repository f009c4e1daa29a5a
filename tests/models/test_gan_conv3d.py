"""Generator/discriminator builders and the 3-D convolutional shower classifier."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.models.conv3d import Conv3DSpec, RandomFlipXY, build_conv3d
from hepnnlr.models.gan import GANSpec, build_discriminator, build_generator


def test_gan_networks_have_the_papers_shapes():
    generator, discriminator = GANSpec(latent_dim=8).build(2)
    assert generator.input_shape == (None, 8) and generator.output_shape == (None, 2)
    assert discriminator.output_shape == (None, 1)
    hidden = [layer.units for layer in generator.layers if isinstance(layer, keras.layers.Dense)]
    assert hidden == [15, 15, 2]  # the paper's toy generator: 2 x 15 units
    hidden = [layer.units for layer in discriminator.layers
              if isinstance(layer, keras.layers.Dense)]
    assert hidden == [25, 25, 1]
    with pytest.raises(ConfigError, match="latent_dim=0"):
        GANSpec(latent_dim=0)
    with pytest.raises(ConfigError, match="layer sizes must be positive"):
        build_generator(4, 2, hidden=(0,))
    with pytest.raises(ConfigError, match="n_features=0"):
        build_discriminator(0)


def _batch(n=6, shape=(6, 6, 6)):
    rng = np.random.default_rng(0)
    return rng.random((n, *shape, 1)).astype(np.float32)


def test_flip_layer_flips_each_example_on_its_own_and_only_in_training():
    x = _batch(64)
    layer = RandomFlipXY(seed=3)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    out = np.asarray(layer(x, training=True))
    seen = set()
    for i in range(len(x)):
        # each output is one of the four x/y flips of *its own* input: the example keeps
        # its label and weight, nothing is mixed between examples
        variants = {
            (fx, fy): np.flip(np.flip(x[i], 1) if fx else x[i], 2) if fy else
            (np.flip(x[i], 1) if fx else x[i])
            for fx in (0, 1) for fy in (0, 1)
        }
        match = [k for k, v in variants.items() if np.array_equal(out[i], v)]
        assert len(match) == 1, i
        seen.add(match[0])
    # with 64 examples every combination appears (each has probability 1/4: a missing one
    # has probability < 4 * 0.75^64 ~ 1e-8)
    assert seen == {(0, 0), (0, 1), (1, 0), (1, 1)}
    with pytest.raises(ConfigError, match="spatial axes"):
        RandomFlipXY(axes=(0,))


def test_conv3d_round_trips_through_a_keras_file(tmp_path):
    model = build_conv3d((9, 10, 10), filters=(2, 3, 4), dense=(5,), seed=1)
    x = _batch(4, (9, 10, 10)).reshape(4, -1)
    before = np.asarray(model.predict({"globals": x}, verbose=0))
    assert before.shape == (4, 1)
    path = tmp_path / "conv3d.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict({"globals": x}, verbose=0), before, rtol=1e-6)
    flip = loaded.get_layer("flip_xy")
    assert isinstance(flip, RandomFlipXY) and flip.get_config()["axes"] == (2, 3)


def test_conv3d_spec_is_a_factory_that_checks_the_inputs():
    spec = Conv3DSpec(shape=(9, 9, 9), filters=(2, 2, 2), dense=(4,))
    model = spec(0, 729)
    assert model.output_shape == (None, 1)
    with pytest.raises(ShapeMismatchError, match="729 event features"):
        spec(0, 33)
    with pytest.raises(ConfigError, match="each >= 9"):
        Conv3DSpec(shape=(30, 30, 8))
    with pytest.raises(ConfigError, match="three positive"):
        build_conv3d((9, 9, 9), filters=(2, 2))
