"""Bootstrap replicas of OmniFold: Poisson(1) weights per data event, retrained, and honest.

A 1-D Gaussian toy (truth z ~ N(μ, 1), detector x = z + N(0, 0.5²), full acceptance) and a
tiny MLP OmniFold (one iteration, a few epochs): the statistical error that the bootstrap
replicas of one data sample give must agree with the spread over independent data samples
of the same (Poisson-distributed) size, both unfolded with the same network seed.
"""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.methods import OmniFoldConfig, omnifold
from hepnnlr.methods.bootstrap import poisson_weights
from hepnnlr.methods.omnifold_ensembles import bootstrap_omnifold, run_config
from hepnnlr.models import ModelSpec
from hepnnlr.results import bin_errors
from hepnnlr.tensors import EventTensors
from hepnnlr.training import TrainingConfig

N_SIM, N_DATA = 3000, 1000
SAMPLES = 8  # bootstrap replicas of one data sample, and independent data samples
CONFIG = OmniFoldConfig(
    iterations=1,
    step1_model=ModelSpec("mlp", hidden=(8,)),
    step2_model=ModelSpec("mlp", hidden=(8,)),
    training=TrainingConfig(
        epochs=2, batch_size=500, learning_rate=5e-3, patience=2, seed=1, progress=False
    ),
)
EDGES = np.linspace(-3.0, 3.0, 13)


def _events(v: np.ndarray) -> EventTensors:
    return EventTensors(None, None, v[:, None].astype(np.float32), (), ("v",))


def _level(rng, n, mu):
    z = rng.normal(mu, 1.0, n)
    return z, z + rng.normal(0.0, 0.5, n)


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(20)
    z_sim, x_sim = _level(rng, N_SIM, 0.0)
    flags = {"pass_reco": np.ones(N_SIM, bool), "pass_gen": np.ones(N_SIM, bool)}
    return z_sim, (_events(x_sim), _events(z_sim)), flags


def _unfold(data_x, toy, **kwargs):
    z_sim, (reco, gen), flags = toy
    return omnifold(_events(data_x), reco, gen, config=CONFIG, **flags, **kwargs)


def _quantities(z_sim, weights):
    """The unfolded mean of z and the unfolded content of the bin [0, 0.5)."""
    central_bin = np.histogram(z_sim, EDGES, weights=weights)[0]
    return np.average(z_sim, weights=weights), central_bin


def test_bootstrap_stat_error_matches_the_spread_over_independent_data(toy):
    z_sim, (reco, gen), flags = toy
    rng = np.random.default_rng(21)
    _, data_x = _level(rng, N_DATA, 0.3)
    central = _unfold(data_x, toy)
    replicas = bootstrap_omnifold(
        _events(data_x), reco, gen, replicas=SAMPLES, seed=4, config=CONFIG, **flags
    )
    # each replica is the whole OmniFold retrained on the data weighted by its own
    # independent Poisson(1) draws (stream (seed, b)), with the seeds of run b mod 1 = 0
    again = _unfold(data_x, toy, data_weights=poisson_weights(N_DATA, 3, 4))
    np.testing.assert_allclose(replicas.members[3].weights, again.weights, rtol=1e-6)
    assert replicas.repeat_of == (0,) * SAMPLES
    assert run_config(CONFIG, 2).training.seed == CONFIG.training.seed + 20_000
    # independent data samples of Poisson(N_DATA) events: the bootstrap's Poisson(1)
    # weights let the data's total fluctuate the same way
    independent = [
        _unfold(_level(rng, rng.poisson(N_DATA), 0.3)[1], toy).weights for _ in range(SAMPLES)
    ]

    mean_boot = [_quantities(z_sim, w)[0] for w in replicas.member_weights()]
    mean_indep = [_quantities(z_sim, w)[0] for w in independent]
    import hist

    h = hist.Hist(hist.axis.Variable(EDGES), storage=hist.storage.Weight())
    h.fill(z_sim, weight=central.weights)
    stat = bin_errors(
        h,
        replicas=np.stack([_quantities(z_sim, w)[1] for w in replicas.member_weights()]),
        replica_reference=np.stack([_quantities(z_sim, central.weights)[1]] * SAMPLES),
    ).stat
    indep_bins = np.std([_quantities(z_sim, w)[1] for w in independent], axis=0, ddof=1)
    k = np.searchsorted(EDGES, 0.0)  # the bin [0, 0.5)
    # A standard deviation from n = 8 draws has a relative error 1/sqrt(2 (n - 1)) = 0.27;
    # the log of the ratio of two independent ones, sqrt(2) x 0.27 = 0.38. Three of those:
    # the ratio lies within exp(+-1.13) = [0.32, 3.1].
    tolerance = 3 * np.sqrt(2) / np.sqrt(2 * (SAMPLES - 1))
    for what, boot, indep in (
        ("unfolded mean", np.std(mean_boot, ddof=1), np.std(mean_indep, ddof=1)),
        ("bin [0, 0.5)", stat[k], indep_bins[k]),
    ):
        assert boot > 0 and indep > 0, what
        assert abs(np.log(boot / indep)) < tolerance, (what, boot, indep)
    # and the error is the data's statistical size: sigma(mean) ~ 1/sqrt(N_DATA) x ~1.1
    # (the smearing), far from zero and from the prior's offset 0.3
    assert 0.3 / np.sqrt(N_DATA) < np.std(mean_boot, ddof=1) < 3 / np.sqrt(N_DATA)
