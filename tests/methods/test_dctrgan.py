"""DCTRGAN weights (Sec. II C, III of the DCTRGAN paper) on a toy with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import ConfigError, MissingBranchError, ShapeMismatchError
from hepnnlr.methods.dctrgan import (
    AllWeightsClippedError,
    DCTRGANConfig,
    DCTRGANReweighter,
    WeightClippingWarning,
    array_tensors,
    dctrgan_weights,
    feature_tensors,
    image_tensors,
)
from hepnnlr.models.conv3d import Conv3DSpec
from hepnnlr.models.spec import ModelSpec
from hepnnlr.samples.multimodal import bimodal
from hepnnlr.training import TrainingConfig
from hepnnlr.weighted import histogram_separation_power, kish_effective_size

N_TOY = 10_000
"""Examples per class for the toy reweighter (~15 s of CPU training)."""


@pytest.fixture(scope="module")
def toy():
    """Eq. 12 as the truth and a deliberately wrong generator: modes mis-weighted 70/30
    and 25% too wide. W = p_T / p_G is known exactly and stays below 2.1 (no clipping)."""
    truth, wrong = bimodal(), bimodal(fractions=(0.7, 0.3), sigma=0.5)
    config = DCTRGANConfig(
        model=ModelSpec("mlp", hidden=(32, 32)),
        training=TrainingConfig(epochs=20, batch_size=512, learning_rate=3e-3, patience=5,
                                seed=1),
    )
    reweighter = DCTRGANReweighter.train(
        array_tensors(truth.sample(N_TOY, 1), ("x",)),
        array_tensors(wrong.sample(N_TOY, 2), ("x",)),
        config,
    )
    return truth, wrong, reweighter


def test_weights_reduce_the_separation_power_to_the_statistical_floor(toy):
    truth, wrong, reweighter = toy
    # new examples, never seen in training
    generated, reference = wrong.sample(N_TOY, 3), truth.sample(N_TOY, 4)
    result = reweighter.weights(array_tensors(generated, ("x",)))
    assert result.n_clipped == 0
    edges = np.linspace(-3, 3, 31)
    before = histogram_separation_power(generated[:, 0], reference[:, 0], edges)
    after = histogram_separation_power(
        generated[:, 0], reference[:, 0], edges, weights=result.weights
    )
    # Statistical floor of <S^2> between two samples of one density: about
    # n_bins / 4 * (1 / n_eff + 1 / n_ref) (each bin adds p (1/n1 + 1/n2) / (2 * 2 p)),
    # 30/4 * (1/8000 + 1/10000) ~ 1.7e-3 here; the exact weights reach it (~1.6e-3).
    floor = len(edges[1:]) / 4 * (1 / kish_effective_size(result.weights) + 1 / N_TOY)
    assert before > 20 * floor  # the generator is clearly wrong...
    assert after < before / 5  # ...the weights remove most of the difference...
    assert after < 4 * floor, (after, floor)  # ...down to a few times the noise
    # W follows the exact ratio of Eq. 3 over the bulk (|x| < 2, 95% of the examples):
    exact = truth.density(generated) / wrong.density(generated)
    bulk = np.abs(generated[:, 0]) < 2
    assert np.mean(np.abs(result.weights[bulk] / exact[bulk] - 1)) < 0.15
    # Eq. 10: the weights average to about 1 (standard error of the mean ~ 0.5%).
    assert result.weights.mean() == pytest.approx(1.0, abs=0.05)
    assert 0.5 < reweighter.temperature < 2.0  # a trained classifier is nearly calibrated


def test_reweighter_refuses_other_features(toy):
    _, _, reweighter = toy
    with pytest.raises(MissingBranchError, match=r"missing \['x'\]"):
        reweighter.weights(array_tensors(np.zeros((5, 1)), ("y",)))
    x = array_tensors(np.zeros((5, 1)), ("x",))
    y = array_tensors(np.zeros((5, 1)), ("y",))
    with pytest.raises(MissingBranchError, match="same features"):
        DCTRGANReweighter.train(x, y)


def test_temperature_and_clipping_of_the_weights():
    logits = np.log([0.5, 1.0, 2.0, 8.0])
    plain = dctrgan_weights(logits, clip_max=None)
    np.testing.assert_allclose(plain.weights, [0.5, 1.0, 2.0, 8.0])
    scaled = dctrgan_weights(logits, temperature=2.0, clip_max=None)
    np.testing.assert_allclose(scaled.weights, np.sqrt([0.5, 1.0, 2.0, 8.0]))
    with pytest.warns(WeightClippingWarning, match="1 of 4 weights"):
        clipped = dctrgan_weights(logits)  # default clip_max = 5
    np.testing.assert_allclose(clipped.weights, [0.5, 1.0, 2.0, 5.0])
    assert clipped.n_clipped == 1 and clipped.clipped_fraction == 0.25
    assert clipped.raw[-1] == pytest.approx(8.0)
    # a small clipped fraction below the threshold passes silently
    quiet = dctrgan_weights(np.r_[np.zeros(199), 3.0], warn_clipped_fraction=0.01)
    assert quiet.n_clipped == 1
    with pytest.raises(AllWeightsClippedError, match="all 3 weights .* exceed clip_max=5"):
        dctrgan_weights(np.log([6.0, 10.0, 100.0]))
    with pytest.raises(AllWeightsClippedError, match="1 of 2 examples have .* separates"):
        dctrgan_weights(np.array([0.0, -800.0]))
    with pytest.raises(ConfigError, match="temperature"):
        dctrgan_weights(logits, temperature=0.0)


def test_config_and_input_helpers_validate():
    with pytest.raises(ConfigError, match="clip_max"):
        DCTRGANConfig(clip_max=0.0)
    with pytest.raises(ConfigError, match="ModelSpec or a Conv3DSpec"):
        DCTRGANConfig(model="mlp")
    assert DCTRGANConfig().standardizes
    assert not DCTRGANConfig(model=Conv3DSpec(shape=(9, 9, 9))).standardizes
    images = np.zeros((2, 6, 6, 6), np.float32)
    images[1, 0, 2, 3] = np.e - 1
    tensors = image_tensors(images)
    assert tensors.globals.shape == (2, 216)
    assert tensors.global_features[2 * 6 + 3] == "cell_0_2_3"
    assert tensors.globals[1, 2 * 6 + 3] == pytest.approx(1.0)  # log(1 + E)
    with pytest.raises(ShapeMismatchError, match="layers, x, y"):
        image_tensors(np.zeros((2, 6, 6)))
    with pytest.raises(ConfigError, match="negative cell energy"):
        image_tensors(-images - 1)
    columns = {"a": np.array([1.0, 2.0]), "b": np.array([3.0, 4.0])}
    np.testing.assert_array_equal(feature_tensors(columns, ("b", "a")).globals, [[3, 1], [4, 2]])
    with pytest.raises(MissingBranchError, match="'c'"):
        feature_tensors(columns, ("c",))
    with pytest.raises(ShapeMismatchError, match="2 names"):
        array_tensors(np.zeros((3, 3)), ("a", "b"))


def test_clipping_warning_and_error_live_in_errors():
    import hepnnlr.errors as errors
    import hepnnlr.methods.dctrgan as dctrgan

    assert dctrgan.WeightClippingWarning is errors.WeightClippingWarning
    assert dctrgan.AllWeightsClippedError is errors.AllWeightsClippedError
    assert "WeightClippingWarning" in errors.__all__ and "AllWeightsClippedError" in errors.__all__
    # a HepnnlrWarning, so pyproject's filter "error::hepnnlr.errors.HepnnlrWarning" makes
    # it an error in the test run
    assert issubclass(errors.WeightClippingWarning, errors.HepnnlrWarning)
    assert issubclass(errors.AllWeightsClippedError, errors.HepnnlrError)
    with pytest.raises(errors.WeightClippingWarning):
        dctrgan_weights(np.log([1.0, 1.0, 1.0, 10.0]), clip_max=5.0)
