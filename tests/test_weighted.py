from __future__ import annotations

import itertools

import numpy as np
import pytest

from hepnnlr.errors import EmptySelectionError
from hepnnlr.weighted import kish_effective_size, weight_summary, weighted_auc


def _auc_by_pairs(scores, labels, weights):
    num = den = 0.0
    for i, j in itertools.product(range(len(scores)), repeat=2):
        if labels[i] == 1 and labels[j] == 0:
            pair = weights[i] * weights[j]
            den += pair
            num += pair * (1.0 if scores[i] > scores[j] else 0.5 if scores[i] == scores[j] else 0)
    return num / den


def test_auc_equals_the_pair_count_with_ties_and_weights():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, 40).astype(float)  # many ties
    labels = rng.integers(0, 2, 40)
    weights = rng.random(40)
    assert weighted_auc(scores, labels, weights) == pytest.approx(
        _auc_by_pairs(scores, labels, weights), rel=1e-12
    )


def test_auc_of_two_gaussians_matches_the_normal_cdf():
    from scipy.stats import norm

    rng = np.random.default_rng(1)
    n = 200_000
    scores = np.concatenate([rng.normal(1, 1, n), rng.normal(0, 1, n)])
    labels = np.concatenate([np.ones(n), np.zeros(n)])
    # AUC = Phi(delta / sqrt(2)); its standard error here is below 1e-3.
    assert weighted_auc(scores, labels) == pytest.approx(norm.cdf(1 / np.sqrt(2)), abs=3e-3)


def test_kish_and_summary():
    assert kish_effective_size(np.ones(10)) == pytest.approx(10)
    assert kish_effective_size(np.array([1.0, 0.0, 0.0])) == pytest.approx(1)
    s = weight_summary(np.array([-1.0, 1.0, 2.0, 2.0]))
    assert s["negative_fraction"] == 0.25 and s["sum"] == 4.0 and s["max"] == 2.0
    with pytest.raises(EmptySelectionError):
        weight_summary(np.array([]))
    with pytest.raises(EmptySelectionError):
        weighted_auc(np.ones(3), np.ones(3))


def test_reliability_of_a_calibrated_and_an_overconfident_classifier():
    from hepnnlr.weighted import reliability

    rng = np.random.default_rng(5)
    logit = rng.normal(0, 2, 200_000)
    labels = rng.random(len(logit)) < 1 / (1 + np.exp(-logit))
    good = reliability(logit, labels, bins=10)
    pull = (good["observed"] - good["predicted"]) / good["error"]
    # Calibrated: chi2 of 10 bins with 10 degrees of freedom; 40 is p ~ 2e-5.
    assert (pull**2).sum() < 40
    bad = reliability(3 * logit, labels, bins=10)
    assert ((bad["observed"] - bad["predicted"]) / bad["error"]).__pow__(2).sum() > 1000
