"""The conditional masked autoregressive flow in Keras 3."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from hepnnlr.errors import ConfigError
from hepnnlr.models.flows import MADE, FlowSpec


def _perturbed_flow(seed: int = 0):
    """A flow far from the identity: the output layers get O(1) random weights."""
    keras.utils.set_random_seed(seed)
    flow = FlowSpec(layers=3, hidden=(16, 16), log_scale_bound=1.5).build(2, 1)
    rng = np.random.default_rng(seed)
    for made in flow.mades:
        made.out_kernel.assign(rng.normal(0, 0.3, made.out_kernel.shape).astype("float32"))
        made.out_context.assign(rng.normal(0, 0.5, made.out_context.shape).astype("float32"))
    return flow


def test_made_outputs_depend_only_on_earlier_features():
    keras.utils.set_random_seed(1)
    made = MADE(3, hidden=(8, 8))
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 3)).astype("float32")
    c = rng.normal(size=(5, 1)).astype("float32")
    made((x, c))
    made.out_kernel.assign(rng.normal(0, 1, made.out_kernel.shape).astype("float32"))
    made.out_context.assign(rng.normal(0, 1, made.out_context.shape).astype("float32"))
    base = [keras.ops.convert_to_numpy(t) for t in made((x, c))]
    for k in range(3):
        moved = x.copy()
        moved[:, k] += 1.7
        out = [keras.ops.convert_to_numpy(t) for t in made((moved, c))]
        for before, after in zip(base, out, strict=True):
            # outputs of features 0..k never see x_k; features after k do
            np.testing.assert_array_equal(before[:, : k + 1], after[:, : k + 1])
            if k < 2:
                assert np.abs(before[:, k + 1:] - after[:, k + 1:]).max() > 0
    # the first feature is conditioned on the context
    other = [keras.ops.convert_to_numpy(t) for t in made((x, c + 1.0))]
    assert np.abs(other[0][:, 0] - base[0][:, 0]).max() > 0


@pytest.mark.parametrize("context", [-1.0, 0.8])
def test_the_flow_density_integrates_to_one(context):
    flow = _perturbed_flow()
    edges = np.linspace(-9, 9, 241)
    centres = 0.5 * (edges[1:] + edges[:-1])
    xx, yy = np.meshgrid(centres, centres, indexing="ij")
    x = np.stack([xx.ravel(), yy.ravel()], axis=1).astype("float32")
    c = np.full((len(x), 1), context, dtype="float32")
    density = np.exp(keras.ops.convert_to_numpy(flow({"x": x, "context": c})))
    # midpoint rule on a 0.075-wide grid: the error is far below 1e-3 for smooth densities
    assert density.sum() * (edges[1] - edges[0]) ** 2 == pytest.approx(1.0, abs=2e-3)


def test_samples_follow_the_flow_density():
    flow = _perturbed_flow(3)
    context = 0.4
    edges = np.linspace(-9, 9, 181)
    centres = 0.5 * (edges[1:] + edges[:-1])
    xx, yy = np.meshgrid(centres, centres, indexing="ij")
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1).astype("float32")
    weights = np.exp(keras.ops.convert_to_numpy(
        flow({"x": grid, "context": np.full((len(grid), 1), context, "float32")})))
    weights /= weights.sum()
    mean = weights @ grid
    std = np.sqrt(weights @ (grid - mean) ** 2)
    n = 20_000
    draws = flow.sample(np.full((n, 1), context), np.random.default_rng(4))
    # 5 standard errors of the mean of n draws
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=5 * std.max() / np.sqrt(n))


def test_a_saved_flow_reloads_with_identical_outputs(tmp_path):
    flow = _perturbed_flow(2)
    rng = np.random.default_rng(0)
    inputs = {"x": rng.normal(size=(64, 2)).astype("float32"),
              "context": rng.normal(size=(64, 1)).astype("float32")}
    path = tmp_path / "flow.keras"
    flow.save(path)
    again = keras.models.load_model(path, compile=False)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(flow(inputs)),
                                  keras.ops.convert_to_numpy(again(inputs)))


def test_flow_spec_refuses_bad_settings():
    with pytest.raises(ConfigError, match="layers"):
        FlowSpec(layers=0)
    with pytest.raises(ConfigError, match="hidden"):
        FlowSpec(hidden=())
    with pytest.raises(ConfigError, match="log_scale_bound"):
        FlowSpec(log_scale_bound=0.0)
