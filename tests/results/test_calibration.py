"""The calibration statistics (``hepnnlr.results.calibration``): the weighted line of
fitted against true values and the pulls, against analytic cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.results.calibration import (
    calibration_table,
    fit_line,
    pulls,
    shared_errors,
    training_covariance,
)


def test_points_on_a_line_give_it_back_with_the_textbook_errors():
    x = np.array([0.11, 0.125, 0.14, 0.155, 0.17])
    y = 0.02 + 1.1 * x
    sigma = np.full(5, 0.004)
    line = fit_line(x, y, sigma)
    assert line.pivot == pytest.approx(x.mean())  # equal errors: the plain mean
    assert line.slope == pytest.approx(1.1, rel=1e-10)
    assert line.offset == pytest.approx(0.02 + 0.1 * x.mean(), rel=1e-10)
    assert line.chi2 == pytest.approx(0.0, abs=1e-18) and line.ndf == 3
    # equal sigma: sigma_slope = sigma / sqrt(sum (x - mean)^2), sigma_offset = sigma / sqrt(n)
    assert line.slope_error == pytest.approx(0.004 / np.sqrt(((x - x.mean()) ** 2).sum()))
    assert line.offset_error == pytest.approx(0.004 / np.sqrt(5))
    assert line.covariance[0][1] == pytest.approx(0.0, abs=1e-15)  # entries ~3e-6
    np.testing.assert_allclose(line.predict(x), y, rtol=1e-12)
    # at pivot 0 the offset is the intercept, with Var = S_xx / (S S_xx - S_x^2)
    at_zero = fit_line(x, y, sigma, pivot=0.0)
    w = 1 / sigma**2
    delta = w.sum() * (w * x * x).sum() - (w * x).sum() ** 2
    assert at_zero.offset == pytest.approx(0.02, rel=1e-8)
    assert at_zero.offset_error == pytest.approx(np.sqrt((w * x * x).sum() / delta))
    assert at_zero.covariance[0][1] == pytest.approx(-(w * x).sum() / delta)


def test_residuals_orthogonal_to_the_line_leave_it_at_y_equals_x_with_their_chi2():
    # residuals (+d, -d, -d, +d) at x = 0..3 sum to 0 and are orthogonal to x: the
    # line stays y = x and chi2 = 4 d^2 / sigma^2
    x = np.arange(4.0)
    y = x + 0.3 * np.array([1, -1, -1, 1])
    line = fit_line(x, y, np.full(4, 0.2))
    assert line.slope == pytest.approx(1.0) and line.offset == pytest.approx(0.0, abs=1e-12)
    assert line.chi2 == pytest.approx(4 * 0.3**2 / 0.2**2) and line.ndf == 2
    assert line.slope_pull == pytest.approx(0.0, abs=1e-9)


def test_the_quoted_errors_are_the_spread_over_many_noisy_calibrations():
    # 4,000 calibrations of 6 points with unequal Gaussian errors: the spread of the
    # fitted slope and offset must be the quoted errors. Their standard deviations over
    # 4,000 trials are known to 1/sqrt(2 x 4000) = 1.1%, so 5% is 4.5 of those; the
    # chi2 has mean ndf = 4 (std of its mean sqrt(8/4000) = 0.045).
    rng = np.random.default_rng(7)
    x = np.array([170.0, 172.0, 174.0, 176.0, 178.0, 180.0])
    sigma = np.array([0.3, 0.5, 0.4, 0.6, 0.3, 0.8])
    fits = [fit_line(x, x + rng.normal(0, sigma), sigma) for _ in range(4000)]
    slopes = np.array([f.slope for f in fits])
    offsets = np.array([f.offset for f in fits])
    assert slopes.std() == pytest.approx(fits[0].slope_error, rel=0.05)
    assert offsets.std() == pytest.approx(fits[0].offset_error, rel=0.05)
    assert np.mean([f.chi2 for f in fits]) == pytest.approx(4.0, abs=0.2)
    # uncorrelated at the pivot: a sample correlation of 4,000 independent pairs has std
    # 1/sqrt(4000) = 0.016, so 0.05 is 3.2 of those
    assert abs(np.corrcoef(slopes, offsets)[0, 1]) < 0.05


def test_pulls_against_the_truth():
    summary = pulls([1.0, 2.0, 3.0, 4.0], [1.1, 1.8, 3.3, 4.0], [0.1, 0.2, 0.3, 0.5])
    np.testing.assert_allclose(summary.values, [1.0, -1.0, 1.0, 0.0])
    assert summary.mean == pytest.approx(0.25)
    width = np.std([1.0, -1.0, 1.0, 0.0], ddof=1)
    assert summary.width == pytest.approx(width)
    assert summary.mean_error == pytest.approx(width / 2)
    # the width's error is the spread a unit width shows (not width/sqrt(6), which
    # shrinks with the observed width); (n - 1) s^2 ~ chi2_3 gives the interval and P
    assert summary.width_error == pytest.approx(1 / np.sqrt(6))
    low, high = summary.width_interval
    assert low < width < high
    assert stats.chi2.cdf(3 * width**2 / high**2, 3) == pytest.approx(0.15866, abs=1e-4)
    below = stats.chi2.cdf(3 * width**2, 3)
    assert summary.width_p_value == pytest.approx(2 * min(below, 1 - below))
    assert summary.chi2 == pytest.approx(3.0) and not summary.decorrelated
    rows = calibration_table(
        "mu",
        [1.0, 2.0, 3.0, 4.0],
        [1.1, 1.8, 3.3, 4.0],
        [0.1, 0.2, 0.3, 0.5],
        fit_line([1.0, 2.0, 3.0, 4.0], [1.1, 1.8, 3.3, 4.0], [0.1, 0.2, 0.3, 0.5]),
        summary,
    )
    assert len(rows) == 7 and "slope" in rows[-2] and "width" in rows[-1]


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (([1, 2], [1, 2, 3], [1, 1, 1]), ShapeMismatchError, "one entry per target"),
        (([1, 2, 3], [1, 2, 3], [1, 0, 1]), ConfigError, "must be > 0"),
        (([1, 2, 3], [1, np.nan, 3], [1, 1, 1]), ConfigError, "not finite"),
        (([1, 2], [1, 2], [1, 1]), ConfigError, "at least 3 targets"),
        (([2, 2, 2], [1, 2, 3], [1, 1, 1]), ConfigError, "distinct"),
    ],
)
def test_bad_input_names_the_problem(args, error, match):
    with pytest.raises(error, match=match):
        fit_line(*args)


def test_an_error_common_to_every_target_enters_the_offset_not_the_slope():
    # a shift c shared by all points (one simulation for every target): covariance
    # c^2 11^T; with equal sigma the offset error becomes sqrt(sigma^2/n + c^2) and the
    # slope's error stays sigma / sqrt(sum (x - mean)^2), because a common shift cannot
    # tilt the line; a common shift of the points moves the offset only.
    x = np.array([170.0, 172.5, 175.0, 177.5, 180.0])
    sigma, c = 0.3, 0.5
    y = x + 0.4 + 0.02 * (x - 175.0)
    line = fit_line(x, y, np.full(5, sigma), correlated=np.full((5, 5), c**2))
    assert line.offset_error == pytest.approx(np.sqrt(sigma**2 / 5 + c**2))
    assert line.slope_error == pytest.approx(sigma / np.sqrt(((x - 175.0) ** 2).sum()))
    assert line.slope == pytest.approx(1.02) and line.offset == pytest.approx(0.4)
    assert line.chi2 == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ShapeMismatchError, match="correlated"):
        fit_line(x, y, np.full(5, sigma), correlated=np.eye(4))


def test_pulls_of_targets_that_share_errors_have_unit_width_only_decorrelated():
    # 1,000 calibrations of 5 targets whose residuals share a common shift (one
    # simulation) and a training noise correlated 0.8 between targets (one reweighter per
    # repeat fits every target). Divided by their own errors the pulls come out narrow:
    # a shared error moves the points together. Decorrelated with the covariance
    # (V = diag(sigma^2) + C) they are unit Gaussians: E[s^2] = 1 with Var(s^2) =
    # 2/(n - 1) = 0.5 per calibration, so the mean of 1,000 is known to 0.022 and 0.09
    # is 4 of those. Their two-sided P-values are uniform: the share below 0.32 is
    # known to sqrt(0.32 x 0.68 / 1000) = 0.015, and 0.06 is 4 of those.
    rng = np.random.default_rng(11)
    x = np.array([171.0, 173.0, 175.0, 177.0, 179.0])
    sigma = np.array([0.2, 0.15, 0.25, 0.2, 0.1])
    train = np.array([0.1, 0.1, 0.15, 0.3, 0.6])
    C = np.outer(train, train) * (0.8 + 0.2 * np.eye(5)) + 0.3**2
    L = np.linalg.cholesky(np.diag(sigma**2) + C)
    own = np.sqrt(sigma**2 + np.diag(C))
    shared = C - np.diag(np.diag(C))
    naive, right, p_values = [], [], []
    for _ in range(1000):
        y = x + L @ rng.normal(size=5)
        naive.append(pulls(x, y, own).width ** 2)
        summary = pulls(x, y, own, shared)
        right.append(summary.width**2)
        p_values.append(summary.width_p_value)
    assert np.mean(right) == pytest.approx(1.0, abs=0.09)
    assert np.mean(naive) < 0.6  # measured 0.34: the shared part does not scatter
    assert np.mean(np.array(p_values) < 0.32) == pytest.approx(0.32, abs=0.06)
    # the per-target pulls are the residuals over each target's whole error
    summary = pulls(x, x + own, own, shared)
    assert summary.values == pytest.approx((1.0,) * 5) and summary.decorrelated
    with pytest.raises(ConfigError, match="not positive definite"):
        pulls(x, x, own, -np.full((5, 5), 10.0))


def test_training_covariance_of_repeats_shared_by_the_targets():
    # 4 repeats fit 3 targets; repeat m moves every target by a_k z_m (one network): the
    # correlation is 1, and the noise of a mean of M repeats is a_k a_l var(z)/M
    z = np.array([0.3, -0.1, 0.5, -0.7])
    a = np.array([1.0, 2.0, 0.5])
    values = np.array([170.0, 175.0, 180.0])[:, None] + np.outer(a, z)
    kept = np.ones((3, 4), bool)
    C = training_covariance(values, kept)
    np.testing.assert_allclose(C, np.outer(a, a) * z.var(ddof=1) / 4)
    # target 0 keeps repeats 0-2 only: its own spread and share, the overlap elsewhere
    kept[0, 3] = False
    C = training_covariance(values, kept)
    assert C[0, 0] == pytest.approx(np.var(z[:3], ddof=1) / 3)
    spreads = a * np.array([np.std(z[:3], ddof=1), np.std(z, ddof=1), np.std(z, ddof=1)])
    assert C[0, 1] == pytest.approx(spreads[0] * spreads[1] * 3 / (3 * 4))
    assert np.linalg.eigvalsh(C).min() > -1e-12  # positive semi-definite
    # fewer than 3 repeats kept at every target: no correlation is estimated
    kept[1, 2] = False
    assert training_covariance(values, kept)[0, 1] == 0.0
    # shared_errors: the off-diagonal part plus the simulation's covariance
    np.testing.assert_allclose(shared_errors(values, kept, np.eye(3)), np.eye(3))
    kept[1, 2] = True
    np.testing.assert_allclose(np.diag(shared_errors(values, kept)), 0.0)
    with pytest.raises(ShapeMismatchError, match="targets, repeats"):
        training_covariance(values, kept[:, :3])
