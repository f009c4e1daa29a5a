from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import ConfigError, EmptySelectionError, NonFiniteInputError
from hepnnlr.training import (
    aggregate_weights,
    clip_weights,
    ensemble_configs,
    fit_temperature,
    normalize_weights,
)
from hepnnlr.training.config import TrainingConfig


def test_clipping_reports_what_it_touched():
    report = clip_weights(np.array([0.1, 1.0, 7.0, 9.0]), maximum=5.0, minimum=0.2)
    np.testing.assert_array_equal(report.weights, [0.2, 1.0, 5.0, 5.0])
    assert (report.n_above, report.n_below, report.n_clipped) == (2, 1, 3)
    untouched = clip_weights(np.array([1.0, 2.0]))
    assert untouched.n_clipped == 0
    with pytest.raises(ConfigError, match="minimum=3 is above maximum=1"):
        clip_weights(np.ones(2), maximum=1, minimum=3)
    with pytest.raises(NonFiniteInputError):
        clip_weights(np.array([1.0, np.nan]), maximum=5)


def test_normalize():
    assert normalize_weights(np.array([1.0, 3.0]), 2.0).sum() == pytest.approx(2.0)
    with pytest.raises(EmptySelectionError):
        normalize_weights(np.array([1.0, -1.0]), 1.0)


def test_temperature_of_an_overconfident_classifier():
    rng = np.random.default_rng(3)
    n = 100_000
    true_logit = rng.normal(0, 1.5, n)
    labels = rng.random(n) < 1 / (1 + np.exp(-true_logit))
    # Logits three times too large: the fitted temperature is 3. The maximum-likelihood
    # estimate of T from 1e5 Bernoulli labels has a relative error of about 1 %.
    assert fit_temperature(3 * true_logit, labels) == pytest.approx(3.0, rel=0.05)
    assert fit_temperature(true_logit, labels) == pytest.approx(1.0, rel=0.05)


def test_aggregations_on_known_members():
    members = np.array([[1.0, 2.0], [2.0, 2.0], [4.0, 2.0], [100.0, 2.0]])
    mean, spread = aggregate_weights(members, "mean")
    np.testing.assert_allclose(mean, [26.75, 2.0])
    np.testing.assert_allclose(spread, [members[:, 0].std(), 0.0])
    np.testing.assert_allclose(aggregate_weights(members, "median")[0], [3.0, 2.0])
    # 25 % trimmed at each end of 4 members: the middle two.
    np.testing.assert_allclose(aggregate_weights(members, "truncated_mean", trim=0.25)[0],
                               [3.0, 2.0])
    np.testing.assert_allclose(aggregate_weights(members, "mean_logit")[0],
                               [np.exp(np.log([1, 2, 4, 100]).mean()), 2.0])
    with pytest.raises(ConfigError, match="positive weights"):
        aggregate_weights(-members, "mean_logit")
    with pytest.raises(ConfigError, match="'mode' is not one of"):
        aggregate_weights(members, "mode")


def test_ensemble_members_get_distinct_seeds():
    configs = ensemble_configs(TrainingConfig(seed=5), 3)
    assert [c.seed for c in configs] == [5, 1005, 2005]
    with pytest.raises(ConfigError):
        ensemble_configs(TrainingConfig(), 0)
