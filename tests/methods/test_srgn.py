"""SRGN (SRGN paper, Eqs. 4, 5) on the 1-D Gaussian example with detector smearing."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import ConfigError, MissingBranchError, ShapeMismatchError
from hepnnlr.methods.scans import Scan
from hepnnlr.methods.srgn import (
    SRGNConfig,
    SRGNObjective,
    remove_outliers,
    srgn_scan,
    summarize,
)
from hepnnlr.models.spec import ModelSpec
from hepnnlr.tensors import EventTensors
from hepnnlr.training import TrainingConfig

EPSILON = 0.5  # detector smearing of the paper's Gaussian example


def test_auc_is_lowest_near_the_truth_and_rises_on_both_sides(gaussian_reweighter, gaussian_events):
    rng = np.random.default_rng(7)
    n = 10_000
    x_gen = rng.normal(0.0, 1.0, n)
    x_sim = x_gen + rng.normal(0.0, EPSILON, n)
    data = rng.normal(1.0, 1.0, n) + rng.normal(0.0, EPSILON, n)
    config = SRGNConfig(training=TrainingConfig(epochs=10, batch_size=1000, patience=3))
    objective = SRGNObjective(
        gaussian_reweighter,
        gaussian_events(x_gen),
        gaussian_events(x_sim),
        gaussian_events(data),
        config,
    )
    scan = srgn_scan(objective, {"mu": [0.25, 1.0, 1.75]})
    # At mu' = 1 +- 0.75 the weighted simulation is N(1 -+ 0.75, 1.25): AUC ~ 0.68, while
    # the truth gives 0.5 up to the AUC's statistical error (~0.006 for 5,000 + 5,000
    # held-out events); the rise must exceed 10 of those errors on each side.
    low, mid, high = scan.values
    assert scan.minimum == {"mu": 1.0}
    # each point carries its AUC's error: ~0.006 here (above), not 0 and not 0.03
    assert scan.kind == "srgn auc" and np.all((scan.errors > 0.002) & (scan.errors < 0.02))
    assert mid == pytest.approx(0.5, abs=0.03)
    assert low > mid + 0.06 and high > mid + 0.06


def test_bad_inputs_name_the_problem(gaussian_reweighter, gaussian_events):
    x = gaussian_events(np.zeros(100))
    with pytest.raises(ShapeMismatchError, match="100 events but the simulation-level sample 80"):
        SRGNObjective(gaussian_reweighter, x, gaussian_events(np.zeros(80)), x)
    with pytest.raises(MissingBranchError, match=r"the target data .* \(missing \['x'\]\)"):
        SRGNObjective(gaussian_reweighter, x, x, gaussian_events(np.zeros(100), name="pt"))
    with pytest.raises(MissingBranchError, match="generator-level sample"):
        SRGNObjective(gaussian_reweighter, gaussian_events(np.zeros(100), "y"), x, x)


def test_outlier_rule_drops_bound_hits_and_two_sigma_runs():
    values = {"mu": np.array([1.0, 1.01, 0.99, 1.02, 0.98, 1.0, 1.3, 1.95])}
    keep = remove_outliers(values, {"mu": (-2.0, 2.0)})
    # 1.95 lies within 5% of the range (0.2) of the bound; 1.3 is beyond 2 sigma.
    assert keep.tolist() == [True] * 6 + [False, False]
    ((mean, std),) = summarize(values, keep).values()
    assert mean == pytest.approx(1.0) and std == pytest.approx(np.std(values["mu"][:6], ddof=1))


def _two_gaussians(n: int, shift: float, seed: int, events):
    rng = np.random.default_rng(seed)
    return events(rng.normal(shift, 1.0, n)), events(rng.normal(0.0, 1.0, n))


def test_refitter_traces_once_restarts_identically_and_learns_the_ratio(gaussian_events):
    from hepnnlr.training.refit import Refitter
    from hepnnlr.weighted import weighted_auc

    n, shift = 4000, 0.5
    a, b = _two_gaussians(n, shift, 21, gaussian_events)
    refit = Refitter(
        ModelSpec("mlp", hidden=(32, 32)),
        TrainingConfig(epochs=12, batch_size=500, patience=3, seed=4),
    )
    first = refit.fit(a, np.ones(n), b, np.ones(n))
    history = list(first.history["val_loss"])
    # A different weighting in between, then the first problem again: reset to the saved
    # initial state makes the third fit repeat the first one exactly.
    refit.fit(a, np.linspace(0.5, 1.5, n), b, np.ones(n))
    third = refit.fit(a, np.ones(n), b, np.ones(n))
    assert third.history["val_loss"] == history
    assert refit.n_traces == 1 and refit.n_fits == 3
    # The optimal classifier of N(0.5, 1) vs N(0, 1) ranks by x: AUC = Phi(0.5 / sqrt 2)
    # = 0.638. Statistical error of an AUC on n + n events: sqrt((1/n + 1/n) / 12) = 0.0065;
    # allow 4 of them.
    both = EventTensors.concatenate([a, b])
    labels = np.r_[np.ones(n), np.zeros(n)]
    assert weighted_auc(refit.logits(both), labels) == pytest.approx(0.638, abs=0.026)


def test_refitter_refuses_other_inputs_and_unsupported_settings(gaussian_events):
    from hepnnlr.training.refit import Refitter

    with pytest.raises(ConfigError, match="does not support TrainingConfig"):
        Refitter(ModelSpec("mlp"), TrainingConfig(ema=True))
    refit = Refitter(ModelSpec("mlp", hidden=(8,)), TrainingConfig(epochs=1, batch_size=50))
    with pytest.raises(ConfigError, match="call fit before logits"):
        refit.logits(gaussian_events(np.zeros(4)))
    x = gaussian_events(np.linspace(-1, 1, 100))
    refit.fit(x, np.ones(100), x, np.ones(100))
    pt = gaussian_events(np.linspace(-1, 1, 100), "pt")
    with pytest.raises(ShapeMismatchError, match=r"event features \('pt',\).* built for"):
        refit.fit(pt, np.ones(100), pt, np.ones(100))


def test_refit_strategy_finds_the_truth_on_a_grid(gaussian_reweighter, gaussian_events):
    rng = np.random.default_rng(8)
    n = 10_000
    x_gen = rng.normal(0.0, 1.0, n)
    x_sim = x_gen + rng.normal(0.0, EPSILON, n)
    data = rng.normal(1.0, 1.0, n) + rng.normal(0.0, EPSILON, n)
    config = SRGNConfig(
        training=TrainingConfig(epochs=10, batch_size=1000, patience=3), strategy="refit"
    )
    objective = SRGNObjective(
        gaussian_reweighter,
        gaussian_events(x_gen),
        gaussian_events(x_sim),
        gaussian_events(data),
        config,
    )
    scan = srgn_scan(objective, {"mu": [0.25, 1.0, 1.75]})
    # As in the warm-start test above: AUC ~ 0.68 at mu' = 1 -+ 0.75, 0.5 at the truth,
    # statistical error ~0.006 on the 5,000 + 5,000 held-out events.
    low, mid, high = scan.values
    assert scan.minimum == {"mu": 1.0}
    assert mid == pytest.approx(0.5, abs=0.03)
    assert low > mid + 0.06 and high > mid + 0.06
    assert objective._refitter.n_traces == 1  # one compiled g for the three points
    # A revisited point is the same training (same seed and initial state): its AUC comes
    # back without training g again.
    assert objective([1.0]) == mid
    assert objective.n_trainings == 3 and objective._refitter.n_fits == 3
    assert len(objective.history) == 4


def test_srgn_strategy_settings_and_theta_outside_the_range(gaussian_reweighter, gaussian_events):
    with pytest.raises(ConfigError, match="choose one of"):
        SRGNConfig(strategy="fast")
    with pytest.raises(ConfigError, match="naive=True contradicts"):
        SRGNConfig(naive=True, strategy="refit")
    assert SRGNConfig(naive=True).mode == "naive" and SRGNConfig().mode == "warm"
    x = gaussian_events(np.zeros(100))
    objective = SRGNObjective(gaussian_reweighter, x, x, x)
    # The reweighter was trained on mu in [-2, 2]: mu' = 2.5 is refused, unless asked.
    with pytest.raises(ConfigError, match="mu=2.5 lies outside the range"):
        objective.weights([2.5])
    allowed = SRGNObjective(gaussian_reweighter, x, x, x, extrapolate=True)
    assert np.all(np.isfinite(allowed.weights([2.5])))


def test_scan_reports_the_parabola_vertex_next_to_the_grid_minimum():
    # A known parabola sampled on a grid that misses its minimum (0.1437 between 0.14 and
    # 0.15): the grid minimum is the nearest point, the vertex the exact minimum.
    grid = np.linspace(0.10, 0.18, 9)
    scan = Scan(("alphaS",), (grid,), 0.5 + 40.0 * (grid - 0.1437) ** 2)
    assert scan.minimum == {"alphaS": pytest.approx(0.14)}
    assert scan.fitted == {"alphaS": pytest.approx(0.1437, abs=1e-12)}
    # No minimum inside the scan (the AUC still falls at the edge): the grid point stays.
    edge = Scan(("alphaS",), (grid,), -grid)
    assert edge.fitted == edge.minimum == {"alphaS": pytest.approx(0.18)}


def test_scan_grid_outside_the_training_range_is_refused_before_any_training(
    gaussian_reweighter, gaussian_events
):
    x = gaussian_events(np.linspace(-1, 1, 100))
    objective = SRGNObjective(gaussian_reweighter, x, x, x)
    low, high = gaussian_reweighter.theta_range["mu"]
    with pytest.raises(
        ConfigError,
        match=r"srgn_scan: grid value\(s\) \[2.5\] of mu lie "
        r"outside the reweighter's training range .*"
        r"clip=True.*extrapolate=True",
    ):
        srgn_scan(objective, {"mu": [0.0, 1.0, 2.5]})
    assert objective.history == []  # refused before g was trained at 0 and 1
    assert low < -1.99 and high > 1.99  # drawn from U[-2, 2]: 2.5 is outside


@pytest.mark.slow
def test_full_phase_space_fit_needs_the_secondary_feature():
    # Sec. III A, Fig. 4: x_S = x_G0 + N(4|x_G1|, x_G1^4) with x_G1 ~ N(0, (0.7 + 0.2 mu)^4).
    # ~1 minute of CPU: two reweighters on 15,000 events per class, 8 trainings of g.
    from hepnnlr.methods.dctr import DCTRConfig, DCTRReweighter
    from hepnnlr.samples.gaussian import full_phase_space_sample

    rng = np.random.default_rng(12)
    n = 15_000
    mu = rng.uniform(0.0, 3.0, n)
    varied = np.stack([rng.normal(mu, 1.0), rng.normal(0.0, (0.7 + 0.2 * mu) ** 2)], axis=1)
    nominal, _ = full_phase_space_sample(n, 1.0, seed=13)
    sim_gen, sim = full_phase_space_sample(n, 1.0, seed=14)
    _, data = full_phase_space_sample(n, 1.5, seed=15)

    def events(x, names, theta=None):
        x = np.asarray(x, np.float32).reshape(len(x), -1)[:, : len(names)]
        extra = (
            {}
            if theta is None
            else {"theta": theta.astype(np.float32).reshape(-1, 1), "theta_names": ("mu",)}
        )
        return EventTensors(None, None, x, (), names, **extra)

    scans = {}
    grid = [1.0, 1.25, 1.5, 1.75, 2.0, 2.25]
    for key, names in (("omega", ("x0", "x1")), ("primary", ("x0",))):
        rw = DCTRReweighter.train(
            events(nominal, names),
            events(varied, names, mu),
            DCTRConfig(training=TrainingConfig(epochs=40, batch_size=500, patience=6, seed=2)),
        )
        objective = SRGNObjective(
            rw,
            events(sim_gen, names),
            events(sim, ("xs",)),
            events(data, ("xs",)),
            SRGNConfig(
                training=TrainingConfig(epochs=20, batch_size=1000, patience=4), strategy="refit"
            ),
        )
        scans[key] = srgn_scan(objective, {"mu": grid})
    # The optimal classifier's AUC with the exact weights (x_S histograms of 10^6 events):
    #   mu'       1.0    1.25   1.5    1.75   2.0    2.25
    #   Omega     0.616  0.557  0.507  0.552  0.600  0.645
    #   primary   0.616  0.585  0.554  0.542  0.555  0.577
    # With x_G0 alone the reweighted simulation keeps the nominal detector response, so
    # the minimum moves to mu' = 1.75 (biased) and stays above 0.5. The AUC's statistical
    # error on 7,500 + 7,500 held-out events is ~0.005 (and smaller for differences between
    # points: the same events at every mu').
    assert scans["omega"].best == {"mu": 1.5}
    assert scans["primary"].best["mu"] in (1.75, 2.0)
    assert scans["primary"].auc[2] > scans["omega"].auc[2] + 0.025


def test_target_weights_enter_g_and_the_auc_and_each_point_carries_its_error(
    gaussian_reweighter, gaussian_events
):
    from hepnnlr.methods.bootstrap import poisson_weights
    from hepnnlr.methods.fit_quality import auc_error
    from hepnnlr.weighted import kish_effective_size

    rng = np.random.default_rng(9)
    n = 2000
    x_gen = rng.normal(0.0, 1.0, n)
    sim, gen = gaussian_events(x_gen + rng.normal(0.0, EPSILON, n)), gaussian_events(x_gen)
    data = gaussian_events(rng.normal(0.5, 1.0, n) + rng.normal(0.0, EPSILON, n))
    config = SRGNConfig(
        training=TrainingConfig(epochs=3, batch_size=500, patience=2), strategy="refit"
    )

    def auc(weights=None):
        objective = SRGNObjective(gaussian_reweighter, gen, sim, data, config, data_weights=weights)
        return objective([0.0]), objective.points[-1]

    plain, point = auc()
    # A common factor on every target event changes nothing (the classes are balanced to
    # equal totals and the AUC is a ratio of weight sums); Poisson(1) weights do.
    assert auc(np.full(n, 2.0))[0] == plain
    # the same for a common factor on the simulated events (they multiply w(x_G, theta'));
    # the products round differently in the last digit
    scaled = SRGNObjective(
        gaussian_reweighter, gen, sim, data, config, simulation_weights=np.full(n, 3.0)
    )
    assert scaled([0.0]) == pytest.approx(plain, abs=1e-12)  # float64 rounding
    replica, replica_point = auc(poisson_weights(n, 0, 1))
    assert replica != plain
    # The point's error is Hanley-McNeil with the held-out sizes (1,000 + 1,000, the
    # simulation weighted by w(x_G, 0) ~ 1).
    sim_test = SRGNObjective(gaussian_reweighter, gen, sim, data, config)
    w = sim_test.weights([0.0])[sim_test._sim_index[1]]
    assert point.error == pytest.approx(auc_error(plain, 1000, kish_effective_size(w)))
    assert 0.012 < point.error < 0.014 and not point.constant
    assert replica_point.error > point.error  # Kish size of Poisson weights: n / 2
    with pytest.raises(ShapeMismatchError, match="1999 weights for 2000 events"):
        SRGNObjective(gaussian_reweighter, gen, sim, data, config, data_weights=np.ones(n - 1))


def test_a_g_that_scores_every_event_alike_is_recorded(gaussian_reweighter, gaussian_events):
    # Identical events in both classes: g can only give one score, the AUC is 0.5 by ties.
    x = gaussian_events(np.zeros(400))
    objective = SRGNObjective(
        gaussian_reweighter,
        x,
        x,
        x,
        SRGNConfig(training=TrainingConfig(epochs=1, batch_size=200, patience=1), strategy="refit"),
    )
    assert objective([0.5]) == 0.5
    assert objective.points[-1].constant


def test_auc_excess_objective_is_the_squared_separation_above_identical_samples(
    gaussian_reweighter, gaussian_events
):
    """``objective="auc_excess"``: (AUC − ½)² − (n₁ + n₀ + 1)/(12 n₁ n₀) with Kish's sizes
    of the held-out events, from the same training of ``g`` as the plain AUC; the points
    keep the AUC (for the flags) and the fit minimizes the excess."""
    from hepnnlr.methods.srgn import srgn_fit
    from hepnnlr.weighted import kish_effective_size

    with pytest.raises(ConfigError, match="objective='loss'; choose one of"):
        SRGNConfig(objective="loss")
    rng = np.random.default_rng(10)
    n = 2000
    x_gen = rng.normal(0.0, 1.0, n)
    sim, gen = gaussian_events(x_gen + rng.normal(0.0, EPSILON, n)), gaussian_events(x_gen)
    data = gaussian_events(rng.normal(0.5, 1.0, n) + rng.normal(0.0, EPSILON, n))
    training = TrainingConfig(epochs=3, batch_size=500, patience=2)
    plain = SRGNObjective(
        gaussian_reweighter, gen, sim, data, SRGNConfig(training=training, strategy="refit")
    )
    excess = SRGNObjective(
        gaussian_reweighter,
        gen,
        sim,
        data,
        SRGNConfig(training=training, strategy="refit", objective="auc_excess"),
    )
    for mu in (-1.0, 0.5):
        auc, value = plain([mu]), excess([mu])
        point = excess.points[-1]
        assert point.auc == auc  # the same g, the same held-out AUC
        n1 = kish_effective_size(np.ones(1000))
        n0 = kish_effective_size(excess.weights([mu])[excess._sim_index[1]])
        assert value == pytest.approx((auc - 0.5) ** 2 - (n1 + n0 + 1) / (12 * n1 * n0), rel=1e-12)
        assert point.value == value
    # at mu' = -1 the weighted simulation is N(-1, 1.25) against N(0.5, 1.25): the excess
    # is far above its null spread (~ sqrt(2) s0^2 ~ 2e-4 for 1,000 + 1,000 events)
    assert excess.history[0][1] > 0.05
    result = srgn_fit(excess)
    assert result.value == min(v for _, v in excess.history)
    # the result reports the AUC at the fitted point next to the minimized value
    fitted = [p for p in excess.points if p.theta == (result.theta["mu"],)]
    assert result.auc == fitted[-1].auc and result.auc >= 0.5
