from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hepnnlr.errors import ConfigError, EmptySelectionError, ShapeMismatchError
from hepnnlr.methods import OmniFoldConfig, omnifold
from hepnnlr.models import ModelSpec
from hepnnlr.tensors import EventTensors
from hepnnlr.training import TrainingConfig
from hepnnlr.weighted import kish_effective_size, weighted_mean_and_std

RESOLUTION = 0.4
MLP = ModelSpec("mlp", hidden=(32, 32))
CONFIG = OmniFoldConfig(
    iterations=4,
    acceptance="extrapolate",  # the toy's inefficiency lies inside the detector's phase space
    step1_model=MLP,
    step2_model=MLP,
    training=TrainingConfig(epochs=60, batch_size=2048, learning_rate=2e-3, patience=6, seed=1),
)


def _events(x: np.ndarray) -> EventTensors:
    return EventTensors(None, None, x.reshape(-1, 1).astype(np.float32), (), ("v",))


def _toy(rng, n, mean, width):
    """Truth z, smeared x, a z-dependent efficiency and a particle-level cut (fakes below)."""
    z = rng.normal(mean, width, n)
    x = z + rng.normal(0.0, RESOLUTION, n)
    pass_reco = rng.random(n) < 0.5 + 0.4 / (1 + np.exp(-z))  # efficiency 50-90 %
    pass_gen = z > -2.0  # events below are fakes when reconstructed
    return z, x, pass_reco, pass_gen


def test_gaussian_unfolding_with_acceptance_recovers_mean_and_width():
    """Fakes that migrate from below a particle-level cut (z < -2) into a detector region
    the data's signal hardly reaches, at a rate the prior gets wrong by a factor 15: the
    case where fitting the fakes at detector level (``fakes="pulled"``) is right. The
    prior fake model cannot predict their fraction (last assertion); the 2-D closure in
    test_omnifold_closure.py shows where ``"pulled"`` fails (fakes overlapping the signal).
    """
    rng = np.random.default_rng(2024)
    z_sim, x_sim, reco_sim, gen_sim = _toy(rng, 60_000, 0.0, 1.0)
    z_dat, x_dat, reco_dat, gen_dat = _toy(rng, 30_000, 0.3, 0.8)
    result = omnifold(
        _events(x_dat[reco_dat]),
        _events(x_sim),
        _events(z_sim),
        pass_reco=reco_sim,
        pass_gen=gen_sim,
        config=replace(CONFIG, fakes="pulled"),
    )
    w = result.weights[gen_sim]
    mean, width = weighted_mean_and_std(z_sim[gen_sim], w)
    true_mean, true_width = z_dat[gen_dat].mean(), z_dat[gen_dat].std()
    n_data, n_eff = reco_dat.sum(), kish_effective_size(w)
    # Statistical errors: the data measure the mean of x with variance (width^2 + r^2)/N_data
    # (smearing adds no bias to the mean); the weighted simulation adds width^2/N_eff.
    # For the width, var(s_x^2) = 2 s_x^4 / N and s_z^2 = s_x^2 - r^2, so
    # sigma(s_z) = sqrt(2/N) s_x^2 / (2 s_z). Four standard deviations: the classifiers add a
    # model variance of their own (the ensembling paper's subject) on top of statistics.
    s_x2 = true_width**2 + RESOLUTION**2
    sigma_mean = np.sqrt(s_x2 / n_data + true_width**2 / n_eff)
    sigma_width = np.sqrt(2 / n_data * s_x2**2 / (4 * true_width**2) + true_width**2 / (2 * n_eff))
    assert mean == pytest.approx(true_mean, abs=4 * sigma_mean)
    assert width == pytest.approx(true_width, abs=4 * sigma_width)
    # The prior was far outside those errors: the unfolding did move the distribution.
    assert abs(0.0 - true_mean) > 10 * sigma_mean
    # Normalization: the unfolded total estimates the data's particle-level event count.
    assert w.sum() == pytest.approx(gen_dat.sum(), rel=5 / np.sqrt(n_data))
    # Fakes are removed: they never enter the unfolded (particle-level) result, and at
    # detector level the reweighted simulation predicts the data's fake fraction (a binomial
    # proportion: 4 sigma of the data's count plus the simulation's), while the prior's
    # fraction was far from it.
    fakes_sim, fakes_dat = reco_sim & ~gen_sim, reco_dat & ~gen_dat
    unfolded = result.weights
    predicted = unfolded[fakes_sim].sum() / unfolded[reco_sim].sum()
    observed = fakes_dat.sum() / reco_dat.sum()
    prior = fakes_sim.sum() / reco_sim.sum()
    sigma = np.sqrt(
        observed * (1 - observed) / n_data + prior / kish_effective_size(unfolded[reco_sim])
    )
    assert predicted == pytest.approx(observed, abs=4 * sigma)
    assert abs(prior - observed) > 10 * sigma


def _small_problem(seed=5, n=2000):
    rng = np.random.default_rng(seed)
    z, x, pass_reco, pass_gen = _toy(rng, n, 0.0, 1.0)
    zd, xd, reco_d, _ = _toy(rng, n, 0.2, 1.0)
    return _events(xd[reco_d]), _events(x), _events(z), pass_reco, pass_gen


QUICK = replace(CONFIG, iterations=2, training=TrainingConfig(epochs=2, batch_size=512, seed=3))


def _assert_normalized(result, data, pass_reco, pass_gen):
    """Eqs. (N1) and (N2) of the module docstring hold in every iteration."""
    w = result.sim_weights
    for pull, push in zip(result.pull, result.push, strict=True):
        assert (w * pull)[pass_reco].sum() == pytest.approx(len(data), rel=1e-9)
        assert (w * push)[pass_gen].sum() == pytest.approx((w * pull)[pass_gen].sum(), rel=1e-9)


def test_acceptance_and_fake_conventions():
    data, reco, gen, pass_reco, pass_gen = _small_problem()
    flags = {"pass_reco": pass_reco, "pass_gen": pass_gen}
    result = omnifold(
        data, reco, gen, **flags, config=replace(QUICK, acceptance="keep", fakes="pulled")
    )
    missed = pass_gen & ~pass_reco
    fakes = pass_reco & ~pass_gen
    assert missed.any() and fakes.any()
    # "keep": events the detector missed have omega = 1, so pull == previous push (1 at n=1).
    np.testing.assert_array_equal(result.pull[0][missed], 1.0)
    np.testing.assert_array_equal(result.pull[1][missed], result.push[0][missed])
    # "pulled": fakes carry their pulled weight as pushed weight (reweighted at reco level).
    np.testing.assert_array_equal(result.push[:, fakes], result.pull[:, fakes])
    assert not np.allclose(result.pull[0][fakes], 1.0)
    _assert_normalized(result, data, pass_reco, pass_gen)
    # "extrapolate": missed events get a learned, event-dependent omega instead;
    # "learned": fakes get the average pushed weight at their x (step 2b).
    learned = omnifold(data, reco, gen, **flags, config=replace(QUICK, fakes="learned"))
    assert np.std(learned.pull[0][missed]) > 0
    assert list(learned.history[0]) == ["step1", "step1b", "step2", "step2b"]
    assert np.std(learned.push[0][fakes]) > 0 and (learned.push[:, fakes] > 0).all()
    _assert_normalized(learned, data, pass_reco, pass_gen)


def test_same_seed_same_weights():
    data, reco, gen, pass_reco, pass_gen = _small_problem()
    runs = [
        omnifold(data, reco, gen, pass_reco=pass_reco, pass_gen=pass_gen, config=QUICK)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0].weights, runs[1].weights)
    # The default fake model: fakes keep their prior weight in every iteration.
    np.testing.assert_array_equal(runs[0].push[:, pass_reco & ~pass_gen], 1.0)
    _assert_normalized(runs[0], data, pass_reco, pass_gen)


def test_bad_inputs_are_named():
    data, reco, gen, pass_reco, pass_gen = _small_problem(n=200)
    with pytest.raises(ShapeMismatchError, match="pass_reco=199"):
        omnifold(data, reco, gen, pass_reco=pass_reco[:-1], pass_gen=pass_gen, config=QUICK)
    with pytest.raises(EmptySelectionError, match="no data events"):
        omnifold(data.subset(slice(0, 0)), reco, gen, pass_reco=pass_reco, pass_gen=pass_gen)
    with pytest.raises(EmptySelectionError, match="passes the detector-level selection"):
        omnifold(data, reco, gen, pass_reco=np.zeros(200, bool), pass_gen=pass_gen)
    with pytest.raises(ConfigError, match="acceptance='drop'"):
        OmniFoldConfig(acceptance="drop")
    with pytest.raises(ConfigError, match="fakes='drop'"):
        OmniFoldConfig(fakes="drop")
    with pytest.raises(ConfigError, match="iterations=0"):
        OmniFoldConfig(iterations=0)


def test_step_ensembling_averages_members_and_reports_their_spread():
    data, reco, gen, pass_reco, pass_gen = _small_problem(n=1000)
    single = omnifold(
        data, reco, gen, pass_reco=pass_reco, pass_gen=pass_gen, config=replace(QUICK, iterations=1)
    )
    ensemble = omnifold(
        data,
        reco,
        gen,
        pass_reco=pass_reco,
        pass_gen=pass_gen,
        config=replace(QUICK, iterations=1, ensemble=3),
    )
    assert all(len(members) == 3 for members in ensemble.history[0].values())
    np.testing.assert_array_equal(single.push_spread, 0.0)
    assert (ensemble.push_spread[0][pass_gen] > 0).all()
    # The first member of the ensemble is the single run (same seed): the ensemble differs.
    assert not np.allclose(ensemble.push[0], single.push[0])
    with pytest.raises(ConfigError, match="ensemble=0"):
        OmniFoldConfig(ensemble=0)
    with pytest.raises(ConfigError, match="aggregation='mode'"):
        OmniFoldConfig(aggregation="mode")


def test_pretrained_start_and_finetuning_learning_rate():
    from hepnnlr.training import start_from, train_classifier

    data, reco, gen, pass_reco, pass_gen = _small_problem(n=1500)
    # Pre-train on a separate sample: the task of step 1 in iteration 1.
    p_data, p_reco, _, p_pass, _ = _small_problem(seed=99, n=1500)
    pre = train_classifier(
        MLP,
        p_data,
        np.ones(len(p_data)),
        p_reco.subset(p_pass),
        np.ones(int(p_pass.sum())),
        TrainingConfig(epochs=3, seed=1),
    )
    config = replace(
        QUICK,
        iterations=1,
        finetune_learning_rate_factor=0.1,
        training=TrainingConfig(epochs=1, batch_size=512, seed=3),
    )
    result = omnifold(
        data, reco, gen, pass_reco=pass_reco, pass_gen=pass_gen, config=config, pretrained=pre.model
    )
    scratch = omnifold(data, reco, gen, pass_reco=pass_reco, pass_gen=pass_gen, config=config)
    assert not np.allclose(result.push[0], scratch.push[0])
    # The pretrained model itself is left untouched by the fine-tuning.
    before = [w.copy() for w in pre.model.get_weights()]
    copy = start_from(pre.model, freeze=("hidden",))
    assert not any(layer.trainable for layer in copy.layers if layer.name.startswith("hidden"))
    for a, b in zip(before, pre.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ConfigError, match="freeze='phi' matches no layer"):
        start_from(pre.model, freeze=("phi",))
    with pytest.raises(ConfigError, match="finetune_learning_rate_factor=0"):
        OmniFoldConfig(finetune_learning_rate_factor=0)


def test_parallel_runs_and_bootstrap_replicas():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from hepnnlr.methods import bootstrap_omnifold, parallel_omnifold

    data, reco, gen, pass_reco, pass_gen = _small_problem(n=800)
    config = replace(QUICK, iterations=1, training=TrainingConfig(epochs=1, batch_size=256, seed=3))
    flags = {"pass_reco": pass_reco, "pass_gen": pass_gen}
    here = parallel_omnifold(data, reco, gen, runs=2, config=config, **flags)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        there = parallel_omnifold(data, reco, gen, runs=2, config=config, executor=pool, **flags)
    # Independent jobs in other processes give the same members (float32 training).
    np.testing.assert_allclose(there.member_weights(), here.member_weights(), rtol=1e-5)
    first = omnifold(data, reco, gen, config=config, **flags)
    np.testing.assert_array_equal(here.members[0].weights, first.weights)  # run 0 = seed
    mean, spread = here.weights("mean")
    np.testing.assert_allclose(mean, here.member_weights().mean(axis=0))
    assert (spread[pass_gen] > 0).all()
    boot = bootstrap_omnifold(data, reco, gen, replicas=2, seed=1, config=config, **flags)
    assert boot.kind == "bootstrap" and not np.allclose(*boot.member_weights())
