"""Evaluating trained models: one traced forward pass per model, equal to model.predict."""

from __future__ import annotations

import gc
import weakref

import keras
import numpy as np
import pytest

from hepnnlr.errors import ConfigError
from hepnnlr.training import inference
from hepnnlr.training.inference import forward_pass, predict_batches


def _model():
    keras.utils.set_random_seed(4)
    x = keras.Input((3,), name="globals")
    theta = keras.Input((1,), name="theta")
    h = keras.layers.Dense(8, activation="relu")(keras.layers.Concatenate()([x, theta]))
    return keras.Model({"globals": x, "theta": theta}, keras.layers.Dense(1)(h))


def test_batches_equal_model_predict_bit_for_bit_and_the_trace_is_kept_per_model():
    model = _model()
    rng = np.random.default_rng(1)
    inputs = {
        "globals": rng.normal(size=(1001, 3)).astype(np.float32),
        "theta": rng.normal(size=(1001, 1)).astype(np.float32),
    }
    expected = model.predict(inputs, batch_size=256, verbose=0)
    # 1001 rows in batches of 256: the last batch holds 233 rows (a second shape)
    np.testing.assert_array_equal(predict_batches(model, inputs, 256), expected)
    np.testing.assert_array_equal(predict_batches(model, inputs, 4096), expected)
    assert forward_pass(model) is forward_pass(model)
    with pytest.raises(ConfigError, match="batch_size=0"):
        predict_batches(model, inputs, 0)


def test_a_model_that_goes_away_takes_its_trace_with_it():
    model = _model()
    predict_batches(model, {"globals": np.zeros((2, 3), np.float32),
                            "theta": np.zeros((2, 1), np.float32)}, 8)  # fmt: skip
    assert model in inference._FORWARD
    alive = weakref.ref(model)
    del model
    gc.collect()
    # the traced function does not keep its model alive (its entry goes with it)
    assert alive() is None
