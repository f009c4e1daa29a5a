from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose

from hepnnlr.errors import (
    ConfigError,
    EmptySelectionError,
    NonFiniteInputError,
    ShapeMismatchError,
)
from hepnnlr.weighted import (
    compare_to_reference,
    histogram_separation_power,
    kish_effective_size,
    legend_label,
    mean_uncertainty,
    required_generated_events,
    separation_power,
    uncertainty_ratio,
    weight_summary,
    weighted_auc,
)


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


# --- DCTRGAN statistics: <S^2> (Eq. 15), r, N_G (Eq. 9) ---------------------------------


def test_separation_power_is_zero_for_identical_and_one_for_disjoint_histograms():
    h = np.array([3.0, 10.0, 7.5, 0.0, 1.0])
    assert separation_power(h, h) == 0.0
    assert separation_power(h, 4 * h) == pytest.approx(0.0, abs=1e-15)  # shapes only
    assert separation_power([1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 5.0, 1.0]) == pytest.approx(1.0)


def test_separation_power_matches_eq15_by_hand():
    # p1 = (0.5, 0.5, 0), p2 = (0.25, 0.25, 0.5):
    # 1/2 [2 * 0.25^2 / 0.75 + 0.5^2 / 0.5] = 1/2 [1/6 + 1/2] = 1/3
    assert separation_power([1, 1, 0], [1, 1, 2]) == pytest.approx(1 / 3, rel=1e-12)


def test_separation_power_accepts_hist_objects_and_checks_their_axes():
    import hist

    a = hist.Hist.new.Reg(4, 0, 1).Weight().fill([0.1, 0.3, 0.3])
    b = hist.Hist.new.Reg(4, 0, 1).Weight().fill([0.6, 0.9])
    assert separation_power(a, b) == pytest.approx(1.0)
    other = hist.Hist.new.Reg(4, 0, 2).Weight().fill([0.1])
    with pytest.raises(ShapeMismatchError, match="different bin edges"):
        separation_power(a, other)


@pytest.mark.parametrize(
    ("first", "second", "error", "match"),
    [
        ([1.0, 2.0], [1.0, 2.0, 3.0], ShapeMismatchError, "2 and 3 bins"),
        ([1.0, -2.0], [1.0, 2.0], ConfigError, "negative bin content -2"),
        ([0.0, 0.0], [1.0, 2.0], EmptySelectionError, "first histogram is empty"),
        ([1.0, np.nan], [1.0, 2.0], NonFiniteInputError, "first histogram"),
        ([[1.0, 2.0]], [[1.0, 2.0]], ShapeMismatchError, "1-D array"),
    ],
)
def test_separation_power_rejects_bad_histograms(first, second, error, match):
    with pytest.raises(error, match=match):
        separation_power(first, second)


def test_separation_power_of_samples_reaches_its_statistical_floor():
    rng = np.random.default_rng(2)
    n, edges = 100_000, np.linspace(-4, 4, 41)
    same = histogram_separation_power(rng.normal(size=n), rng.normal(size=n), edges)
    # Two samples of one density: E<S^2> ~ n_filled/4 (1/n1 + 1/n2) = 40/4 * 2e-5 = 2e-4;
    # the sum of ~40 chi2-like terms fluctuates by ~sqrt(2/40) ~ 25%: allow a factor 2.
    assert 0.5 * 2e-4 < same < 2 * 2e-4
    shifted = histogram_separation_power(rng.normal(1, 1, n), rng.normal(size=n), edges)
    # Unit shift of unit Gaussians: <S^2> = 1/2 int (p1 - p2)^2 / (p1 + p2) ~ 0.09
    assert shifted > 100 * same
    with pytest.raises(ConfigError, match="increasing"):
        histogram_separation_power([0.0], [0.0], np.array([1.0, 0.0]))


def test_mean_uncertainty_and_r_for_unit_and_doubled_weights():
    rng = np.random.default_rng(3)
    x = rng.normal(size=10_000)
    assert mean_uncertainty(x) == pytest.approx(x.std() / np.sqrt(len(x)), rel=1e-12)
    # A common factor in the weights changes nothing; N events of weight 1/2 each count as
    # N independent events, so twice the sample has 1/sqrt(2) of the error.
    assert mean_uncertainty(x, np.full(len(x), 3.0)) == pytest.approx(
        mean_uncertainty(x), rel=1e-12
    )
    doubled = np.concatenate([x, x])
    assert mean_uncertainty(doubled, np.full(len(doubled), 0.5)) == pytest.approx(
        mean_uncertainty(x) / np.sqrt(2), rel=1e-12
    )
    # ...and r is 1 for the same sample, 1/sqrt(2) against one of half the size.
    assert uncertainty_ratio(x, x) == pytest.approx(1.0)
    assert uncertainty_ratio(doubled, x) == pytest.approx(1 / np.sqrt(2), rel=1e-12)
    with pytest.raises(EmptySelectionError, match="no spread"):
        uncertainty_ratio(x, np.ones(10))
    with pytest.raises(ShapeMismatchError, match="3 values but 2 weights"):
        mean_uncertainty(np.zeros(3), np.ones(2))


def test_n_g_of_eq9_on_known_weights():
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, 1000)
    # W = 1: N_G = N_T for any observable and any bin (exactly).
    assert required_generated_events(x, np.ones(1000), 500) == pytest.approx(500)
    assert_allclose(required_generated_events(x, np.ones(1000), 500, edges=[0, 0.5, 1]), 500)
    # Half the events weigh 0.5, half 1.5 (mean 1). For the indicator of the light half
    # p = 0.25 and N_G/N_T = [0.5^2 0.75^2 + 1.5^2 0.25^2] / [0.5 0.75^2 + 1.5 0.25^2] = 0.75
    # (by hand); the heavy half is symmetric with p = 0.75: also 0.75.
    values = np.repeat([0.25, 0.75], 500)
    weights = np.repeat([0.5, 1.5], 500)
    assert_allclose(required_generated_events(values, weights, 100, edges=[0, 0.5, 1]), 75)
    # The same weights scaled by 10 give the same N_G (W is normalized to mean 1, Eq. 10).
    assert_allclose(required_generated_events(values, 10 * weights, 100, edges=[0, 0.5, 1]), 75)
    # f = x itself: weighted mean (0.5 * 0.25 + 1.5 * 0.75) / 2 = 0.625, then Eq. 9 by hand.
    mean = 0.625
    by_hand = (
        (0.25 * (0.25 - mean) ** 2 + 2.25 * (0.75 - mean) ** 2)
        / (0.5 * (0.25 - mean) ** 2 + 1.5 * (0.75 - mean) ** 2)
    )
    assert required_generated_events(values, weights, 100) == pytest.approx(100 * by_hand)


def test_n_g_for_narrow_bins_approaches_n_t_times_w_eq11():
    x = np.linspace(0, 1, 200_000, endpoint=False)
    w = 0.5 + x  # mean 1
    edges = np.linspace(0, 1, 201)
    ratio = required_generated_events(x, w, 1.0, edges=edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    # Bins of width 1/200 hold p ~ 1/200 of the weight: N_G/N_T = W(x0) up to O(p) terms.
    assert_allclose(ratio, 0.5 + centres, rtol=0.02)


def test_n_g_rejects_bad_inputs():
    x = np.linspace(0, 1, 10)
    with pytest.raises(ConfigError, match="weights >= 0"):
        required_generated_events(x, -np.ones(10), 10)
    with pytest.raises(ConfigError, match="n_reference=0"):
        required_generated_events(x, np.ones(10), 0)
    with pytest.raises(EmptySelectionError, match="bin 2"):
        required_generated_events(x, np.ones(10), 10, edges=[0, 0.5, 1.5, 2])
    with pytest.raises(EmptySelectionError, match="spread"):
        required_generated_events(np.ones(10), np.ones(10), 10)


def test_compare_to_reference_and_legend_label():
    rng = np.random.default_rng(5)
    x, ref = rng.normal(size=5000), rng.normal(size=5000)
    stats = compare_to_reference(x, ref, np.linspace(-3, 3, 31))
    assert stats["kish_effective_size"] == pytest.approx(5000)
    assert stats["n_generated_needed"] == pytest.approx(5000)
    # r of two unit-weight samples of one density and size: 1 within the relative error of
    # two standard deviations, sqrt(2 / (2 n)) ~ 1.4%: allow 5%.
    assert stats["uncertainty_ratio"] == pytest.approx(1.0, abs=0.05)
    label = legend_label("GAN", stats["separation_power"], stats["uncertainty_ratio"])
    assert label.startswith("GAN ($\\langle S^2\\rangle$=") and ", r=" in label
    assert legend_label("Truth") == "Truth"
    with pytest.raises(ConfigError, match="separation"):
        legend_label("GAN", -1.0)
