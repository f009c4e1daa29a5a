"""Outlier rule, flags and the AUC's error (hepnnlr.methods.fit_quality), on constructed cases."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import ConfigError
from hepnnlr.methods.fit_quality import (
    FitFlags,
    auc_error,
    flag_fit,
    quadratic_curvature,
    remove_outliers,
    summarize,
)
from hepnnlr.weighted import weighted_auc


def test_leave_one_out_removes_an_outlier_among_five_that_the_inclusive_rule_cannot():
    values = np.array([1.0, 1.01, 0.99, 1.02, 1.5])
    # Tested against all five runs (itself included) a run's |z| is at most (n - 1)/sqrt(n)
    # = 1.79 sample standard deviations, sqrt(n - 1) = 2 population ones (the old rule's
    # np.std; Samuelson's inequality): no run of five could ever leave the 2 sigma window.
    distance = abs(values[-1] - values.mean())
    assert distance / values.std(ddof=1) <= 4 / np.sqrt(5)
    assert distance / values.std() <= 2
    # Against the other four (mean 1.005, std 0.0129) it lies 38 standard deviations out.
    keep = remove_outliers({"mu": values}, {"mu": (-2.0, 2.0)})
    assert keep.tolist() == [True, True, True, True, False]
    ((mean, std),) = summarize({"mu": values}, keep).values()
    assert mean == pytest.approx(1.005) and std == pytest.approx(values[:4].std(ddof=1))


def test_outlier_rule_drops_bound_hits_judges_with_two_others_and_honours_candidates():
    values = {"mu": np.array([1.0, 1.01, 0.99, 1.02, 0.98, 1.0, 1.3, 1.95])}
    keep = remove_outliers(values, {"mu": (-2.0, 2.0)})
    # 1.95 lies within 5% of the range (0.2) of the bound; 1.3 is beyond 2 sigma.
    assert keep.tolist() == [True] * 6 + [False, False]
    # Without the bound cut, 1.95 is judged by the window (and fails it).
    assert not remove_outliers(values, {}, bound_margin=None)[-1]
    # Three runs: each is judged against the two others; 3.0 lies 27 std from (1.0, 1.1),
    # while 1.0 and 1.1 lie within 2 std of the wide pairs they are judged against.
    three = remove_outliers({"mu": np.array([1.0, 1.1, 3.0])}, {"mu": (-5.0, 5.0)})
    assert three.tolist() == [True, True, False]
    # Two runs: nobody can be judged; the candidates' mask is applied as given.
    two = remove_outliers(
        {"mu": np.array([1.0, 3.0])}, {"mu": (-5.0, 5.0)}, candidates=np.array([True, False])
    )
    assert two.tolist() == [True, False]


def _auc_many(rng, positive, negative, trials):
    return np.array(
        [
            weighted_auc(np.r_[positive(rng), negative(rng)], np.r_[np.ones(n1), np.zeros(n0)])
            for _ in range(trials)
        ]
    )


n1, n0 = 120, 80


@pytest.mark.parametrize("rate", [1.0, 0.5])
def test_hanley_mcneil_error_matches_the_spread_of_aucs_of_exponential_scores(rate):
    # Hanley and McNeil's Q1 = A/(2 - A), Q2 = 2A^2/(1 + A) are exact for exponential
    # scores: negatives ~ Exp(1), positives ~ Exp(rate) give A = 1/(1 + rate) (0.5, 2/3).
    rng = np.random.default_rng(4)
    trials = 3000
    aucs = _auc_many(
        rng, lambda r: r.exponential(1 / rate, n1), lambda r: r.exponential(1.0, n0), trials
    )
    expected = 1 / (1 + rate)
    assert aucs.mean() == pytest.approx(expected, abs=4 * aucs.std() / np.sqrt(trials))
    # The std of 3,000 AUCs is known to 1/sqrt(2 x 3000) = 1.3%: allow 4 of those.
    assert aucs.std(ddof=1) == pytest.approx(auc_error(expected, n1, n0), rel=0.052)
    if rate == 1.0:  # the Mann-Whitney null variance (n1 + n0 + 1) / (12 n1 n0)
        assert auc_error(0.5, n1, n0) == pytest.approx(np.sqrt((n1 + n0 + 1) / (12 * n1 * n0)))


def test_quadratic_curvature_of_a_parabola_and_of_noise():
    x = np.linspace(-1, 1, 11)
    c, error = quadratic_curvature(x[:, None], 1 + 3 * (x - 0.2) ** 2, np.full(11, 0.01))
    assert c == pytest.approx([6.0]) and error[0] < 0.1
    # Two parameters on a grid: second derivatives 6 and 1, a cross term that must not leak.
    u, v = (a.ravel() for a in np.meshgrid(x, x, indexing="ij"))
    values = 3 * u**2 + 0.5 * v**2 + 0.7 * u * v
    c, _ = quadratic_curvature(np.c_[u, v], values, np.full(len(u), 0.01))
    assert c == pytest.approx([6.0, 1.0])
    # Pure noise of known size: the curvature is within a few of its errors of zero.
    noise = np.random.default_rng(1).normal(0, 0.01, 11)
    c, error = quadratic_curvature(x[:, None], 0.5 + noise, np.full(11, 0.01))
    assert abs(c[0]) < 4 * error[0]
    # Too few distinct points for a quadratic (repeats count once): undetermined.
    assert quadratic_curvature(np.array([[0.0], [1.0], [1.0], [0.0]]), np.zeros(4)) is None


def test_flags_of_constructed_fits():
    bounds = {"mu": (-2.0, 2.0)}
    x = np.linspace(-2, 2, 9)[:, None]
    rising = 0.5 + 0.1 * x[:, 0] ** 2  # AUC of a g that separates away from the truth
    error = np.full(9, 0.005)  # Hanley-McNeil at 0.5 for 5,000 + 5,000 held-out events
    good = flag_fit({"mu": 0.1}, bounds, points=x, values=rising, errors=error, auc=True)
    assert not good.flagged and good.to_dict() == {}
    edge = flag_fit({"mu": 1.95}, bounds, points=x, values=rising, errors=error, auc=True)
    assert list(edge.reasons) == ["edge"] and "within 5%" in edge.reasons["edge"]
    # g never separates: every AUC within 3 errors of 0.5 (and the curve is flat too).
    blind_values = 0.5 + np.abs(np.random.default_rng(2).normal(0, 0.005, 9))
    blind = flag_fit({"mu": 0.3}, bounds, points=x, values=blind_values, errors=error, auc=True)
    assert {"no_discrimination", "flat"} <= set(blind.reasons)
    assert "Hanley-McNeil" in blind.reasons["no_discrimination"]
    # A minimum made by a g that scored every event alike (AUC exactly 0.5 by ties).
    dip = rising.copy()
    dip[6] = 0.5
    tied = flag_fit(
        {"mu": 1.0}, bounds, points=x, values=dip, errors=error, auc=True, constant_at_minimum=True
    )
    assert list(tied.reasons) == ["no_discrimination"] and "same score" in str(tied.reasons)
    # A DCTR loss that does not move with theta (a reweighter that learned nothing).
    flat = flag_fit({"mu": 0.0}, bounds, points=x, values=np.full(9, 1.386), errors=error)
    assert list(flat.reasons) == ["flat"]
    with pytest.raises(ConfigError, match="unknown flag"):
        FitFlags({"wobbly": "?"})
