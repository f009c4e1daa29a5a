"""Response model, (generalized) numerical inversion and the correctionlib export."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.methods.response import (
    ResponseConfig,
    ResponseModel,
    correction_from_function,
    generalized_numerical_inversion,
    numerical_inversion,
)
from hepnnlr.samples.response_toys import JetResponseToy, jet_energy_response
from hepnnlr.training import TrainingConfig
from hepnnlr.training.losses import LossSpec


def _response_2d(x, eta):
    """A known monotone response with a condition: μ(x) of Eq. 4.2 times (1 - 0.05 η²)."""
    return jet_energy_response(x) * (1.0 - 0.05 * np.asarray(eta) ** 2)


def test_numerical_inversion_closes_on_a_known_monotone_response():
    x = np.linspace(20.5, 99.5, 300)
    # Linear interpolation on 4001 points over 80 GeV (dx = 0.02): error
    # <= dx² max|mu''| / (8 min mu') with |mu''| <= 0.0125, mu' >= 0.5 -> 1.3e-6.
    closed = numerical_inversion(jet_energy_response, jet_energy_response(x), (20.0, 100.0))
    np.testing.assert_allclose(closed, x, atol=2e-6)


def test_median_calibration_closes_in_the_median():
    # Monotone maps preserve medians: with nu = the true median of the truncated Crystal
    # Ball toy, median(nu^-1(Y) | x) = x. At n = 40,000 per point, the sample median of Y
    # has se 1.2533 s / sqrt(n) (s: core width), divided by nu'(x) >= 0.5 for x̂; 5 se.
    toy = JetResponseToy()
    rng = np.random.default_rng(4)
    from hepnnlr.samples.response_toys import crystal_ball_cdf, crystal_ball_ppf

    for x0 in (30.0, 60.0, 90.0):
        z_min = (toy.e_min - toy.mu(x0)) / toy.sigma(x0)
        u0 = crystal_ball_cdf(z_min, toy.beta, toy.m)
        y = toy.mu(x0) + toy.sigma(x0) * crystal_ball_ppf(
            u0 + rng.random(40_000) * (1 - u0), toy.beta, toy.m
        )
        calibrated = numerical_inversion(
            lambda t: toy.quantile(0.5, t), y, (toy.x_min, 400.0), out_of_range="clip"
        )
        se = 1.2533 * toy.sigma(x0) / math.sqrt(len(y)) / 0.5
        assert np.median(calibrated) == pytest.approx(x0, abs=5 * se)
        # The mean response inverted does not close in the median where the tail pulls the
        # mean below the median (x = 90: median - mean = 0.9 GeV, i.e. >> 5 se).
        if x0 == 90.0:
            by_mean = numerical_inversion(
                lambda t: toy.mean(t, points=2001), y, (20.0, 400.0), grid_points=761,
                out_of_range="clip",
            )
            assert np.median(by_mean) - x0 > 5 * se


def test_generalized_numerical_inversion_with_a_condition():
    rng = np.random.default_rng(1)
    x = rng.uniform(21, 99, 500)
    eta = rng.uniform(0, 2.5, 500)
    out = generalized_numerical_inversion(
        lambda t, c: _response_2d(t, c[:, 0]), _response_2d(x, eta), eta, (20.0, 100.0),
        tolerance=1e-7,
    )
    # bisection to 1e-7 of the 80 GeV range
    np.testing.assert_allclose(out, x, atol=80 * 1e-7)


def test_inversion_rejects_non_monotone_and_out_of_range():
    with pytest.raises(ConfigError, match="not strictly monotone"):
        numerical_inversion(lambda t: (t - 50.0) ** 2, np.array([10.0]), (20.0, 100.0))
    with pytest.raises(ConfigError, match="out_of_range='clip'"):
        numerical_inversion(jet_energy_response, np.array([1000.0]), (20.0, 100.0))
    clipped = numerical_inversion(
        jet_energy_response, np.array([-5.0, 1000.0]), (20.0, 100.0), out_of_range="clip"
    )
    np.testing.assert_allclose(clipped, [20.0, 100.0])
    with pytest.raises(ConfigError, match="outside"):
        generalized_numerical_inversion(
            lambda t, c: _response_2d(t, c[:, 0]), np.array([500.0]), np.array([[0.0]]),
            (20.0, 100.0),
        )
    with pytest.raises(ConfigError, match="true_range"):
        numerical_inversion(jet_energy_response, np.array([30.0]), (100.0, 20.0))


def test_correction_matches_function_on_nodes_and_within_interpolation_error():
    nodes = {"x": np.linspace(20, 100, 33), "eta": np.linspace(0, 2.5, 6)}
    ev = correction_from_function(_response_2d, nodes, name="response").to_evaluator()
    gx, ge = np.meshgrid(nodes["x"], nodes["eta"], indexing="ij")
    gx, ge = gx.ravel(), ge.ravel()
    # exact at the nodes (the cell formula reproduces its corner values; float64 rounding)
    np.testing.assert_allclose(ev.evaluate(gx, ge), _response_2d(gx, ge), rtol=1e-12)
    # inside the cells: multilinear error <= (dx²/8) max|f_xx| + (deta²/8) max|f_etaeta|;
    # |f_xx| <= |mu''| <= 0.0125, |f_etaeta| = 0.1 mu(x) <= 0.1 mu(100) = 8.75.
    rng = np.random.default_rng(0)
    px, pe = rng.uniform(20, 100, 2000), rng.uniform(0, 2.5, 2000)
    bound = 2.5**2 / 8 * 0.0125 + 0.5**2 / 8 * 8.75
    err = np.abs(ev.evaluate(px, pe) - _response_2d(px, pe))
    assert err.max() <= bound
    assert err.max() > 0.1 * bound  # the bound is not vacuous: the eta curvature shows
    # clamp: outside the grid the edge value
    np.testing.assert_allclose(
        ev.evaluate(np.array([5.0, 500.0]), np.array([-1.0, 9.0])),
        _response_2d(np.array([20.0, 100.0]), np.array([0.0, 2.5])),
    )
    binned = correction_from_function(_response_2d, nodes, name="r", kind="binned")
    assert binned.to_evaluator().evaluate(21.0, 0.1) == pytest.approx(_response_2d(21.25, 0.25))
    strict = correction_from_function(_response_2d, nodes, name="r", flow="error").to_evaluator()
    with pytest.raises(Exception, match="[Oo]ut of range|bound"):
        strict.evaluate(500.0, 0.0)


def test_correction_rejects_bad_grids():
    with pytest.raises(ConfigError, match="strictly"):
        correction_from_function(jet_energy_response, {"x": [3.0, 2.0]}, name="c")
    with pytest.raises(ConfigError, match="1 to 4"):
        correction_from_function(
            lambda *a: a[0], {k: [0.0, 1.0] for k in "abcde"}, name="c"
        )
    with pytest.raises(ConfigError, match="finite"):
        correction_from_function(
            lambda x: np.where(x > 50, x, np.nan), {"x": [20.0, 100.0]}, name="c"
        )


@pytest.fixture(scope="module")
def small_response():
    """A median response of the jet toy with |η|-like condition, tiny and briefly trained."""
    toy = JetResponseToy()
    x, y = toy.sample(6000, seed=2)
    eta = np.random.default_rng(3).uniform(0, 2.5, len(x))
    config = ResponseConfig(
        central=LossSpec("mae"),
        quantiles=(0.16, 0.84),
        powers=(1, 3),
        members=1,
        hidden=(16,),
        training=TrainingConfig(epochs=3, batch_size=256, learning_rate=5e-3),
    )
    return ResponseModel.fit(x, y, config, conditions=eta)


def test_response_model_calibration_and_export_agree(small_response):
    model = small_response
    x = np.linspace(40, 90, 11)
    eta = np.full(11, 1.0)
    nu = model.response(x, eta)
    assert np.all(np.diff(nu) > 0), "a briefly trained median response is already monotone"
    # generalized numerical inversion closes on the learned function itself (bisection
    # tolerance 1e-6 of the range, plus the float32 network output's resolution)
    np.testing.assert_allclose(model.calibrate(nu, eta), x, atol=1e-3)
    assert np.all(model.resolution(x, eta) > 0)
    # correctionlib: at the grid nodes the export equals the model (float32 outputs ->
    # rtol 1e-6)
    nodes = {"x": np.linspace(40, 90, 6), "eta": np.array([0.0, 1.25, 2.5])}
    ev = correction_from_function(model.response, nodes, name="jes").to_evaluator()
    gx, ge = (g.ravel() for g in np.meshgrid(*nodes.values(), indexing="ij"))
    np.testing.assert_allclose(ev.evaluate(gx, ge), model.response(gx, ge), rtol=1e-6)


def test_response_model_checks_conditions(small_response):
    with pytest.raises(ShapeMismatchError, match="1 condition"):
        small_response.response(np.array([50.0]), np.array([[0.0, 1.0]]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"central": LossSpec("gae", quantile=0.3)}, "quantile"),
        ({"quantiles": (0.84, 0.16)}, "quantiles"),
        ({"powers": (0,)}, "powers"),
        ({"members": 0}, "members"),
    ],
)
def test_response_config_validation(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ResponseConfig(**kwargs)
