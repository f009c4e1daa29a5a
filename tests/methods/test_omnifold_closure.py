"""Closure of OmniFold with an inefficiency and fakes (issue 15), against the data's truth.

A 2-D toy: correlated Gaussian truth z, Gaussian smearing x = z + N(0, r^2), an
x-dependent detector efficiency (events the detector misses: pass_gen & ~pass_reco) and
fakes (pass_reco & ~pass_gen) spread uniformly over detector phase space. The data's truth is
shifted, wider and more correlated than the simulation's, so the prior is tens of
statistical errors away from it and the closure has power.

The log-ratio of two Gaussians is a quadratic form, so the events carry (v1, v2, v1^2,
v2^2, v1 v2) and the answer lies close to every network's reach; every step is the
ordinary small MLP (the detector-level ratio with fakes is not quadratic). The test then
measures the acceptance and fake conventions, not the approximation error of a network.
Steps 2, 1b and 2b classify the same events under two weightings; the closure within 3
sigma with an MLP there rests on their one train/validation split (train_classifier's
paired split: with independent splits early stopping picked under-trained epochs, and an
MLP step 2 missed by 3-5 sigma, which a logistic regression step 2 used to avoid).

Statistical errors (``sigma``): the spread of an ideal unfolding of the same toy, over 100
replicas of the data, relative to each replica's own truth. The ideal unfolding knows the
detector exactly: it weights the detector-level events by 1/efficiency(x), subtracts the
fakes' expected contribution and deconvolves the moments (means of x; covariance of x
minus r^2). It thus carries the data's fluctuations of signal, inefficiency and fakes. The
simulation adds a second sample of the same kind: the step-1 classifier learns
p_data/p_sim from both, so to first order the variance grows by the factor
(1 + N_data/N_sim) of a two-sample ratio (counts at detector level).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hepnnlr.methods import OmniFoldConfig, omnifold
from hepnnlr.models import ModelSpec
from hepnnlr.tensors import EventTensors
from hepnnlr.training import TrainingConfig

RESOLUTION = 0.3
FAKE_RATE = 0.04  # fakes per generated event, uniform in the box [-BOX, BOX]^2
BOX = 4.0
N_SIM, N_DATA = 40_000, 20_000
# (means, widths, correlation) of the particle-level truth
SIM_TRUTH = ((0.0, 0.0), (1.0, 1.0), 0.3)
DATA_TRUTH = ((0.4, 0.3), (1.2, 1.1), 0.45)
QUANTITIES = ("mean 1", "mean 2", "width 1", "width 2", "correlation", "total")
CONFIG = OmniFoldConfig(
    iterations=4,
    acceptance="extrapolate",  # the inefficiency lies inside the detector's phase space
    step1_model=ModelSpec("mlp", hidden=(32, 32)),
    step2_model=ModelSpec("mlp", hidden=(32, 32)),
    training=TrainingConfig(
        epochs=15, batch_size=1024, learning_rate=3e-3, patience=15, schedule="cosine", seed=1
    ),
)
# chi^2 with 6 degrees of freedom (the six quantities) at p = 0.01: "at the truth already"
CHI2_6_P01 = 16.81


def _efficiency(x: np.ndarray) -> np.ndarray:
    """Detector efficiency at detector-level x: 50 % to 95 %."""
    return 0.5 + 0.45 / (1.0 + np.exp(-(x[:, 0] + x[:, 1])))


def _toy(rng, n, truth):
    """``n`` generated events of ``truth`` and their fakes: z, x, pass_reco, pass_gen.

    Fakes are ``Binomial(n, FAKE_RATE)`` extra events uniform in the box at detector level,
    a process of their own (their z is a dummy value, never read).
    """
    (m1, m2), (s1, s2), rho = truth
    cov = [[s1 * s1, rho * s1 * s2], [rho * s1 * s2, s2 * s2]]
    z = rng.multivariate_normal((m1, m2), cov, n)
    x = z + rng.normal(0.0, RESOLUTION, (n, 2))
    pass_reco = rng.random(n) < _efficiency(x)
    n_fake = rng.binomial(n, FAKE_RATE)
    return (
        np.concatenate([z, np.zeros((n_fake, 2))]),
        np.concatenate([x, rng.uniform(-BOX, BOX, (n_fake, 2))]),
        np.concatenate([pass_reco, np.ones(n_fake, bool)]),
        np.concatenate([np.ones(n, bool), np.zeros(n_fake, bool)]),
    )


def _events(v: np.ndarray) -> EventTensors:
    """The features a quadratic log-ratio is linear in."""
    features = np.column_stack([v, v[:, 0] ** 2, v[:, 1] ** 2, v[:, 0] * v[:, 1]])
    return EventTensors(
        None, None, features.astype(np.float32), (), ("v1", "v2", "v1^2", "v2^2", "v1*v2")
    )


def _summary(z: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Means, widths, correlation and total weight of 2-D events (``QUANTITIES``)."""
    weights = np.ones(len(z)) if weights is None else weights
    mean = np.average(z, axis=0, weights=weights)
    cov = np.cov(z.T, aweights=weights, ddof=0)
    width = np.sqrt(np.diag(cov))
    return np.array([*mean, *width, cov[0, 1] / (width[0] * width[1]), weights.sum()])


def _ideal_unfolding(x: np.ndarray, n_generated: int) -> np.ndarray:
    """``_summary`` of the truth from detector-level events, knowing the detector exactly."""
    a = 1.0 / _efficiency(x)
    # The fakes' expected contribution, integrated on a grid over the box (midpoints).
    edges = np.linspace(-BOX, BOX, 201)
    mid = 0.5 * (edges[1:] + edges[:-1])
    grid = np.stack(np.meshgrid(mid, mid), -1).reshape(-1, 2)
    a_fake, n_fake = 1.0 / _efficiency(grid), FAKE_RATE * n_generated
    s0 = a.sum() - n_fake * a_fake.mean()
    s1 = a @ x - n_fake * (a_fake @ grid) / len(grid)
    s2 = (a[:, None] * x).T @ x - n_fake * ((a_fake[:, None] * grid).T @ grid) / len(grid)
    mean = s1 / s0
    cov = s2 / s0 - np.outer(mean, mean) - RESOLUTION**2 * np.eye(2)
    width = np.sqrt(np.diag(cov))
    return np.array([*mean, *width, cov[0, 1] / (width[0] * width[1]), s0])


@pytest.fixture(scope="module")
def toy():
    """Simulation, data and the statistical errors of ``QUANTITIES`` (module docstring)."""
    rng = np.random.default_rng(15)
    sim = _toy(rng, N_SIM, SIM_TRUTH)
    data = _toy(rng, N_DATA, DATA_TRUTH)
    replicas = np.random.default_rng(16)
    spread = np.std(
        [
            _ideal_unfolding(x[reco], N_DATA) - _summary(z[gen])
            for z, x, reco, gen in (_toy(replicas, N_DATA, DATA_TRUTH) for _ in range(100))
        ],
        axis=0,
    )
    sigma = spread * np.sqrt(1 + data[2].sum() / sim[2].sum())
    return sim, data, sigma


def _unfold(toy, **changes):
    (z, x, reco, gen), (_, x_data, reco_data, _), _ = toy
    return omnifold(
        _events(x_data[reco_data]),
        _events(x),
        _events(z),
        pass_reco=reco,
        pass_gen=gen,
        config=replace(CONFIG, **changes),
    )


@pytest.fixture(scope="module")
def unfolded(toy):
    return _unfold(toy)


@pytest.fixture(scope="module")
def unfolded_old_convention(toy):
    """Fakes carrying their pulled weight (the convention before issue 15)."""
    return _unfold(toy, fakes="pulled")


def _pulls(toy, result, iteration):
    """(unfolded - data truth) / sigma of ``QUANTITIES`` after ``iteration`` iterations."""
    (z, _, _, gen), (z_data, _, _, gen_data), sigma = toy
    unfolded = _summary(z[gen], result.weights_at(iteration)[gen])
    return (unfolded - _summary(z_data[gen_data])) / sigma


def test_prior_is_far_from_the_data_truth(toy, unfolded):
    """The closure has power: the prior misses every quantity by many errors."""
    (z, _, _, gen), (z_data, _, _, gen_data), sigma = toy
    prior = (_summary(z[gen], unfolded.sim_weights[gen]) - _summary(z_data[gen_data])) / sigma
    assert (np.abs(prior[:5]) > 8).all(), dict(zip(QUANTITIES, prior.round(1), strict=True))


def test_unfolding_closes_within_three_sigma(toy, unfolded):
    """Means, widths, correlation and total of the unfolded truth after 4 iterations."""
    pulls = _pulls(toy, unfolded, 4)
    assert (np.abs(pulls) < 3).all(), dict(zip(QUANTITIES, pulls.round(2), strict=True))


def test_iterations_two_to_four_improve_or_stay_put(toy, unfolded):
    """The distance to the truth (sum of squared pulls) does not grow from 2 to 4
    iterations, unless it is already statistically at the truth."""
    distance = {n: float((_pulls(toy, unfolded, n) ** 2).sum()) for n in (2, 3, 4)}
    assert distance[4] <= distance[2] or distance[4] < CHI2_6_P01, distance


def test_fakes_keep_the_weight_of_the_fake_model(toy, unfolded):
    """Fakes enter step 1 with their prior weight in every iteration (never a pulled
    factor), so the simulation predicts the data's fake count as its fake model does."""
    (_, _, reco, gen), (_, _, reco_data, gen_data), _ = toy
    fakes = reco & ~gen
    np.testing.assert_array_equal(unfolded.push[:, fakes], 1.0)
    predicted = unfolded.weights[fakes].sum()
    observed = (reco_data & ~gen_data).sum()
    # Poisson errors of the data's fake count and of the simulation's (scaled to the data).
    sigma = np.sqrt(observed + predicted * unfolded.mc_scale)
    assert predicted == pytest.approx(observed, abs=3 * sigma)


def test_old_convention_fails_the_same_closure(toy, unfolded, unfolded_old_convention):
    """With fakes carrying their pulled weight, the fakes absorb the detector-level
    difference that belongs to the particle-level reweighting: their total grows far
    above the data's fake count and the closure fails."""
    (_, _, reco, gen), (_, _, reco_data, gen_data), _ = toy
    fakes = reco & ~gen
    observed = (reco_data & ~gen_data).sum()
    old = unfolded_old_convention
    totals = [old.weights_at(n)[fakes].sum() for n in (1, 2, 3, 4)]
    sigma = np.sqrt(observed + observed * old.mc_scale)
    assert totals[-1] - observed > 5 * sigma, totals
    pulls = _pulls(toy, old, 4)
    assert (np.abs(pulls) > 3).any(), dict(zip(QUANTITIES, pulls.round(2), strict=True))
    assert (pulls**2).sum() > 2 * (_pulls(toy, unfolded, 4) ** 2).sum()
