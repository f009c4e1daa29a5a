"""DCTR reweighter and fit against the analytic Gaussian ratio (SRGN paper, Eqs. 3, 10)."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import ConfigError, InputFileError, MissingBranchError
from hepnnlr.methods.dctr import (
    DCTRConfig,
    DCTRReweighter,
    ThetaScale,
    dctr_fit,
    dctr_scan,
    with_theta,
)
from hepnnlr.models.spec import ModelSpec
from hepnnlr.tensors import EventTensors
from hepnnlr.tensors.adapt import as_events
from hepnnlr.training import TrainingConfig

GAUSS_EVENTS = 20_000
"""Events per class of the session reweighter (tests/methods/conftest.py)."""


def test_reweighter_matches_analytic_gaussian_weights_over_the_bulk(
    gaussian_reweighter, gaussian_events
):
    rng = np.random.default_rng(3)
    n = 20_000
    target = 1.5
    x0 = rng.normal(0.0, 1.0, n)
    w = gaussian_reweighter.weights(gaussian_events(x0), target)
    # Nominal events reweighted by w vs an independent sample drawn at mu = 1.5, in bins
    # over the bulk: the central 90% of the target (mu -+ 1.645), cut at 2.5 where the
    # nominal sample runs out (1% of its events lie above 2.33).
    x1 = rng.normal(target, 1.0, n)
    edges = np.linspace(target - 1.645, 2.5, 12)
    reweighted, _ = np.histogram(x0, edges, weights=w)
    sumw2, _ = np.histogram(x0, edges, weights=w**2)
    direct, _ = np.histogram(x1, edges)
    analytic, _ = np.histogram(x0, edges, weights=np.exp(target * x0 - target**2 / 2))
    # Errors. The weighted bin: sqrt(sum w^2); the direct bin: Poisson. The network's own
    # error: it learned the ratio at mu = 1.5 from the varied events with mu within about
    # +-0.25 of it, 1/8 of its GAUSS_EVENTS (mu ~ U[-2, 2]), so at best it is as precise as
    # a sample of GAUSS_EVENTS / 8 events: variance sum w^2 * n / (GAUSS_EVENTS / 8).
    model = sumw2 * n / (GAUSS_EVENTS / 8)
    pull = (reweighted - direct) / np.sqrt(sumw2 + direct + model)
    assert np.all(np.abs(pull) < 4), pull
    # The analytic ratio of Eq. 10 on the same events (the sampling noise cancels).
    assert np.all(np.abs(reweighted - analytic) < 4 * np.sqrt(model)), reweighted - analytic
    # The tolerance has power: the unweighted nominal sample fails it in most bins.
    nominal, _ = np.histogram(x0, edges)
    assert np.mean(np.abs(nominal - direct) / np.sqrt(sumw2 + direct + model) > 4) > 0.5


def test_dctr_fit_recovers_mu_within_the_statistical_error(gaussian_reweighter, gaussian_events):
    rng = np.random.default_rng(5)
    n = 10_000
    data = gaussian_events(rng.normal(1.0, 1.0, n))
    nominal = gaussian_events(rng.normal(0.0, 1.0, n))
    result = dctr_fit(gaussian_reweighter, data, nominal)
    # The fit compares two samples of n events: the mean of a unit Gaussian is known to
    # sqrt(1/n + 1/n) from them; allow 4 of these standard errors.
    assert result.theta["mu"] == pytest.approx(1.0, abs=4 * np.sqrt(2 / n))


def test_theta_outside_the_training_range_needs_extrapolate(gaussian_reweighter, gaussian_events):
    x = gaussian_events(np.linspace(-1, 1, 10))
    with pytest.raises(ConfigError, match="mu=2.5 lies outside the range"):
        gaussian_reweighter.weights(x, 2.5)
    w = gaussian_reweighter.weights(x, 2.5, extrapolate=True)
    assert np.all(np.isfinite(w)) and np.all(w > 0)


def test_bad_inputs_name_the_problem(gaussian_reweighter, gaussian_events):
    with pytest.raises(MissingBranchError, match=r"missing \['x'\]"):
        gaussian_reweighter.weights(gaussian_events(np.zeros(5), name="pt"), 0.5)
    with pytest.raises(ConfigError, match="has 2 value"):
        gaussian_reweighter.weights(gaussian_events(np.zeros(5)), [0.5, 1.0])
    x = gaussian_events(np.zeros(20))
    with pytest.raises(ConfigError, match="varied sample has no parameters"):
        DCTRReweighter.train(x, x)
    with pytest.raises(ConfigError, match="narrow the bounds"):
        dctr_fit(gaussian_reweighter, x, x, bounds={"mu": (-3.0, 1.0)})
    with_theta = as_events(x, theta={"mu": np.zeros(20)})
    with pytest.raises(ConfigError, match="nominal sample already carries parameters"):
        DCTRReweighter.train(with_theta, with_theta)


def test_loss_scan_is_lowest_at_the_truth_and_bounds_may_extrapolate_on_request(
    gaussian_reweighter, gaussian_events
):
    rng = np.random.default_rng(9)
    n = 10_000
    data = gaussian_events(rng.normal(-0.5, 1.0, n))
    nominal = gaussian_events(rng.normal(0.0, 1.0, n))
    scan = dctr_scan(gaussian_reweighter, data, nominal, {"mu": [-1.5, -0.5, 0.5]})
    # With the exact ratio, Eq. 3's cross entropy is 1.33 at the truth and 1.59-1.60 at
    # mu' = truth -+ 1 (computed on 2*10^5 events). Its statistical error on 10,000 events is
    # ~0.01 (per-event spread ~1), so requiring a rise of 0.03 on each side leaves room for
    # the network's imprecision and is still 3 errors above fluctuations.
    assert scan.minimum == {"mu": -0.5}
    low, mid, high = scan.values
    assert low > mid + 0.03 and high > mid + 0.03
    with pytest.raises(ConfigError, match="pass extrapolate=True"):
        dctr_fit(gaussian_reweighter, data, nominal, bounds={"mu": (-2.5, 0.0)})
    with pytest.raises(
        ConfigError,
        match=r"grid value\(s\) \[-2.5\] of mu lie outside the "
        r"reweighter's training range .*clip=True.*"
        r"extrapolate=True",
    ):
        dctr_scan(gaussian_reweighter, data, nominal, {"mu": [-2.5]})
    assert np.isfinite(
        dctr_scan(gaussian_reweighter, data, nominal, {"mu": [-2.5]}, extrapolate=True).values[0]
    )


def test_declared_theta_range_is_checked_against_the_drawn_values(gaussian_events):
    rng = np.random.default_rng(2)
    mu = rng.uniform(-1.0, 1.0, 400)
    varied = as_events(rng.normal(mu, 1.0), features=("x",), theta={"mu": mu})
    nominal = gaussian_events(rng.normal(0.0, 1.0, 400))
    config = DCTRConfig(
        ModelSpec("mlp", hidden=(8,)), TrainingConfig(epochs=1, batch_size=200, patience=1)
    )
    with pytest.raises(ConfigError, match="outside the declared theta_range"):
        DCTRReweighter.train(nominal, varied, config, theta_range={"mu": (-0.5, 1.0)})
    with pytest.raises(ConfigError, match="no range for parameter 'mu'"):
        DCTRReweighter.train(nominal, varied, config, theta_range={"sigma": (0.5, 1.0)})
    rw = DCTRReweighter.train(nominal, varied, config, theta_range={"mu": (-1.0, 1.0)})
    assert rw.theta_range == {"mu": (-1.0, 1.0)}
    assert np.all(np.isfinite(rw.weights(nominal, 1.0)))  # the declared edge is in range


def _alpha_s_samples(n: int = 600, seed: int = 4):
    """Events whose mean moves with a parameter of order 0.1 (an α_s-like range)."""
    rng = np.random.default_rng(seed)
    alpha = rng.uniform(0.10, 0.17, n).astype(np.float32)
    x = rng.normal(30 * (alpha - 0.135), 1.0).astype(np.float32).reshape(-1, 1)
    varied = as_events(x, features=("x",), theta={"alphaS": alpha})
    nominal = as_events(rng.normal(0.0, 1.0, (n, 1)), features=("x",))
    return nominal, varied


TINY = DCTRConfig(
    ModelSpec("mlp", hidden=(8, 8)), TrainingConfig(epochs=2, batch_size=200, patience=2, seed=3)
)


def test_theta_scale_maps_the_range_onto_the_unit_interval_and_back():
    scale = ThetaScale.from_range({"alphaS": (0.10, 0.17), "m": (170.0, 180.0)}, ("alphaS", "m"))
    assert scale.center == pytest.approx((0.135, 175.0))
    assert scale.half_width == pytest.approx((0.035, 5.0))
    edges = np.array([[0.10, 170.0], [0.17, 180.0]])
    np.testing.assert_allclose(scale.to_unit(edges), [[-1, -1], [1, 1]], atol=1e-12)
    np.testing.assert_allclose(scale.from_unit(scale.to_unit(edges)), edges, rtol=1e-15)
    with pytest.raises(ConfigError, match="half widths > 0"):
        ThetaScale(("a",), (0.0,), (0.0,))


def test_theta_scaling_gives_the_weights_of_hand_scaled_theta_and_survives_a_round_trip(
    tmp_path,
):
    nominal, varied = _alpha_s_samples()
    ranges = {"alphaS": (0.10, 0.17)}
    scaled = DCTRReweighter.train(nominal, varied, TINY, theta_range=ranges)
    assert scaled.theta_range == ranges
    assert scaled.classifier.theta_range["alphaS"] == pytest.approx((-1.0, 1.0))
    # The same training by hand: u = (θ - 0.135) / 0.035 in float64, the network unscaled.
    c, h = 0.135, 0.035
    unit = (varied.theta.astype(np.float64) - c) / h
    by_hand = DCTRReweighter.train(
        nominal,
        with_theta(varied, unit, ("alphaS",)),
        DCTRConfig(TINY.model, TINY.training, scale_theta=False),
        theta_range={"alphaS": (-1.0, 1.0)},
    )
    x = nominal.subset(slice(0, 200))
    for alpha in (0.10, 0.1365, 0.16, 0.17):
        np.testing.assert_array_equal(scaled.weights(x, alpha), by_hand.weights(x, (alpha - c) / h))
    # Saved and loaded: the same network, scale and range, so the same weights.
    loaded = DCTRReweighter.load(scaled.save(tmp_path / "rw"))
    assert loaded.theta_scale == scaled.theta_scale and loaded.theta_range == ranges
    assert loaded.features == scaled.features
    np.testing.assert_array_equal(loaded.weights(x, {"alphaS": 0.16}), scaled.weights(x, 0.16))
    with pytest.raises(
        ConfigError,
        match=r"alphaS=0.18 lies outside the range \[0.1, 0.17\]"
        r".*extrapolate=True",
    ):
        loaded.weights(x, 0.18)
    # The fit searches on the unit scale and answers in α_s units, inside the bounds.
    result = dctr_fit(scaled, x, x, bounds={"alphaS": (0.12, 0.16)}, xtol=1e-3)
    assert 0.12 <= result.theta["alphaS"] <= 0.16


def test_scan_grid_is_checked_and_clipped_against_the_training_range():
    nominal, varied = _alpha_s_samples(300)
    rw = DCTRReweighter.train(nominal, varied, TINY, theta_range={"alphaS": (0.10, 0.17)})
    with pytest.raises(
        ConfigError,
        match=r"\[0.18\] of alphaS lie outside the reweighter's "
        r"training range \[0.1, 0.17\]",
    ):
        dctr_scan(rw, nominal, nominal, {"alphaS": [0.14, 0.16, 0.18]})
    scan = dctr_scan(rw, nominal, nominal, {"alphaS": [0.14, 0.16, 0.17, 0.18]}, clip=True)
    assert scan.points[:, 0].tolist() == [0.14, 0.16, 0.17]
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) \['mu'\]"):
        dctr_scan(rw, nominal, nominal, {"alphaS": [0.14], "mu": [0.0]})


def test_nominal_anchor_is_checked_and_keeps_the_total_ratio(gaussian_events):
    rng = np.random.default_rng(6)
    mu = rng.uniform(-1.0, 2.0, 600)
    varied = as_events(rng.normal(mu, 1.0), features=("x",), theta={"mu": mu})
    nominal = gaussian_events(rng.normal(0.0, 1.0, 300))
    for share in (1.0, -0.1, True, "half"):
        with pytest.raises(ConfigError, match="nominal_anchor"):
            DCTRConfig(nominal_anchor=share)
    with pytest.raises(ConfigError, match=r"nominal mu=3 lies outside the training range"):
        DCTRReweighter.train(
            nominal, varied, TINY, theta_range={"mu": (-1.0, 2.0)}, nominal_theta={"mu": 3.0}
        )
    with pytest.raises(ConfigError, match="does not match the reweighter's parameters"):
        DCTRReweighter.train(nominal, varied, TINY, nominal_theta={"sigma": 1.0})
    rw = DCTRReweighter.train(
        nominal, varied, TINY, theta_range={"mu": (-1.0, 2.0)}, nominal_theta={"mu": 0.0}
    )
    # The anchor adds the same share to both classes: the ratio of the sample totals (the
    # constant in w) stays that of the varied and nominal samples.
    assert rw.classifier.total_ratio == pytest.approx(600 / 300)
    assert np.all(np.isfinite(rw.weights(nominal, 0.0)))


def test_ensemble_averages_its_members_log_ratios_and_survives_a_round_trip(tmp_path):
    nominal, varied = _alpha_s_samples(400)
    ranges = {"alphaS": (0.10, 0.17)}
    ensemble = DCTRReweighter.train(
        nominal, varied, DCTRConfig(TINY.model, TINY.training, members=3), theta_range=ranges
    )
    assert len(ensemble.members) == 3 and ensemble.classifier is ensemble.members[0]
    # Member k is the single-network training with seed 3 + 1000 k (same events).
    singles = [
        DCTRReweighter.train(
            nominal,
            varied,
            DCTRConfig(
                TINY.model, TrainingConfig(epochs=2, batch_size=200, patience=2, seed=3 + 1000 * k)
            ),
            theta_range=ranges,
        )
        for k in range(3)
    ]
    x = nominal.subset(slice(0, 100))
    logits = [s.logits(x, 0.15) for s in singles]
    assert not np.array_equal(logits[0], logits[1])  # the members differ
    np.testing.assert_allclose(
        ensemble.logits(x, 0.15), np.mean(logits, axis=0), rtol=1e-6, atol=1e-7
    )  # float32 networks: sum order only
    np.testing.assert_array_equal(
        ensemble.members[0].logits(with_theta(x, [[1.0 / 7]] * 100, ("alphaS",))),
        singles[0].classifier.logits(with_theta(x, [[1.0 / 7]] * 100, ("alphaS",))),
    )
    assert ensemble.classifier.total_ratio == singles[0].classifier.total_ratio
    loaded = DCTRReweighter.load(ensemble.save(tmp_path / "rw"))
    assert len(loaded.members) == 3
    np.testing.assert_array_equal(loaded.weights(x, 0.15), ensemble.weights(x, 0.15))
    (tmp_path / "rw" / "member_2" / "model.keras").unlink()
    (tmp_path / "rw" / "member_2" / "reweighter.json").unlink()
    (tmp_path / "rw" / "member_2").rmdir()
    with pytest.raises(InputFileError, match="records 3 ensemble members but has no member_2"):
        DCTRReweighter.load(tmp_path / "rw")
    for members in (0, 1.5, True, "2"):
        with pytest.raises(ConfigError, match="DCTRConfig.members must be a positive integer"):
            DCTRConfig(members=members)


def test_nominal_draws_enter_the_nominal_events_once_per_draw_with_their_share_of_weight():
    nominal, varied = _alpha_s_samples(300)
    ranges = {"alphaS": (0.10, 0.17)}
    drawn = DCTRReweighter.train(
        nominal, varied, DCTRConfig(TINY.model, TINY.training, nominal_draws=3), theta_range=ranges
    )
    # The same training by hand: the nominal sample three times, a third of the weight
    # each; the parameter rows are drawn in one call for all copies, as the option does.
    by_hand = DCTRReweighter.train(
        EventTensors.concatenate([nominal] * 3),
        varied,
        TINY,
        nominal_weights=np.full(900, 1 / 3),
        theta_range=ranges,
    )
    x = nominal.subset(slice(0, 100))
    np.testing.assert_array_equal(drawn.weights(x, 0.15), by_hand.weights(x, 0.15))
    assert drawn.classifier.total_ratio == pytest.approx(1.0)  # 300 varied / 300 nominal
    with pytest.raises(ConfigError, match="nominal_draws must be a positive integer"):
        DCTRConfig(nominal_draws=0)
