"""DCTR-style parameterized reweighting against the exact ratio (SRGN paper, Eq. 10)."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import ConfigError
from hepnnlr.models import ModelSpec
from hepnnlr.tensors import EventTensors
from hepnnlr.training import TrainingConfig, train_classifier, weights_from_logits
from hepnnlr.weighted import kish_effective_size, weighted_mean_and_std


def _events(x, mu):
    return EventTensors(None, None, x.reshape(-1, 1).astype(np.float32), (), ("x",),
                        theta=mu.reshape(-1, 1).astype(np.float32), theta_names=("mu",))


def test_parameterized_gaussian_reweights_mu0_to_mu15():
    rng = np.random.default_rng(8)
    n = 100_000
    # Numerator: x ~ N(mu, 1) with mu ~ U[-2, 2]; denominator: x ~ N(0, 1) carrying mu's
    # drawn from the same prior, so the classifier learns p(x | mu) / p(x | 0).
    mu = rng.uniform(-2, 2, n)
    numerator = _events(rng.normal(mu, 1.0), mu)
    denominator = _events(rng.normal(0.0, 1.0, n), rng.uniform(-2, 2, n))
    clf = train_classifier(
        ModelSpec("mlp", hidden=(64, 64)), numerator, np.ones(n), denominator, np.ones(n),
        # Patience 20: the weights at mu = 1.5 are dominated by the ratio's tail (x > 2),
        # which the classifier learns last; with patience 8 early stopping cut some seeds'
        # trainings short and their reweighted means scattered by 0.05 (seeds 1-5).
        TrainingConfig(epochs=80, batch_size=1000, learning_rate=1e-3, patience=20, seed=4),
    )
    x0 = rng.normal(0.0, 1.0, 50_000)
    target = 1.5
    w = weights_from_logits(clf.logits(_events(x0, np.full(len(x0), target))))
    # Exact ratio: log w = mu x - mu^2 / 2. Over the bulk (|x| < 1.5) the learned one
    # follows it to 0.15 (the classifier sees ~1/8 of its events near mu = 1.5).
    bulk = np.abs(x0) < 1.5
    analytic = target * x0 - target**2 / 2
    assert np.median(np.abs(np.log(w[bulk]) - analytic[bulk])) < 0.15
    # On the same events, the learned and the exact weights give the same reweighted mean
    # to within 4 times the statistical precision of the reweighted sample (1/sqrt(N_eff)):
    # the learned ratio's error is below what the sample can resolve.
    exact = np.exp(analytic)
    mean, _ = weighted_mean_and_std(x0, w)
    mean_exact, _ = weighted_mean_and_std(x0, exact)
    assert mean == pytest.approx(mean_exact, abs=4 / np.sqrt(kish_effective_size(exact)))
    with pytest.raises(ConfigError, match="mu=2.5 lies outside the range"):
        clf.logits(_events(x0[:10], np.full(10, 2.5)))


def test_classifier_route_ensembles_and_normalizes_its_ratios_over_the_reference_sample():
    from hepnnlr.methods.signal_strength import ParameterizedSample, train_classifier_route
    from hepnnlr.samples.gaussian_signal import GaussianSignalToy
    from hepnnlr.training.parameterized import (
        EnsembleRatio,
        NormalizedRatio,
        ParameterizedRatio,
    )

    toy = GaussianSignalToy(2.0)
    rng = np.random.default_rng(3)
    n = 3000
    samples = []
    for kind in ("signal", "background"):
        z = toy.uniform_z(n, rng)
        samples.append(ParameterizedSample(toy.sample(kind, z, n, rng), z, toy.features))
    refs = [toy.sample(kind, toy.z0, n, rng) for kind in ("signal", "background")]
    config = TrainingConfig(epochs=2, batch_size=256, learning_rate=3e-3, patience=2, seed=5)
    like = train_classifier_route(*samples, *refs, spec=ModelSpec("mlp", hidden=(16, 16)),
                                  config=config, members=2)
    for part in (like.signal, like.background):
        assert isinstance(part, NormalizedRatio)
        assert isinstance(part.ratio, EnsembleRatio) and len(part.ratio.members) == 2
        assert all(isinstance(m, ParameterizedRatio) for m in part.ratio.members)
        # distinct seeds: the two members are different functions
        probe = refs[0][:100], np.full(100, 0.3)
        assert np.ptp(part.ratio.members[0].log_prob(*probe)
                      - part.ratio.members[1].log_prob(*probe)) > 1e-3
        # these small classifiers are off by 6-24 % (log c from -0.06 to -0.28 over z):
        # the correction is not trivial
        assert np.ptp(part.log_norm) > 0.05
        # between two knots the normalized ratio still averages to 1 over the reference
        # mixture: the spline through 33 knots of this smooth log c(z) is good to ~5e-5
        # (measured at the midpoints of every 4th interval); 1e-3 is 1 % of the correction
        z = 0.5 * (part.z_knots[10] + part.z_knots[11])
        means = [np.mean(np.exp(part.log_prob(ref, np.full(len(ref), z)))) for ref in refs]
        assert 0.5 * sum(means) == pytest.approx(1.0, abs=1e-3)
    raw = train_classifier_route(*samples, *refs, spec=ModelSpec("mlp", hidden=(16, 16)),
                                 config=config, normalize=False)
    assert isinstance(raw.signal, ParameterizedRatio)
    with pytest.raises(ConfigError, match="members=0"):
        train_classifier_route(*samples, *refs, members=0)
