"""The calibration statistics (``hepnnlr.results.calibration``): the weighted line of
fitted against true values and the pulls, against analytic cases."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.results.calibration import calibration_table, fit_line, pulls


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
    assert summary.width_error == pytest.approx(width / np.sqrt(6))
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
