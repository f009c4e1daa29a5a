"""The 2-D Gaussian toy of the Sluijter thesis (§3.1.1) and its exact likelihood."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.samples.gaussian_signal import GaussianSignalToy


@pytest.mark.parametrize("radius", [0.5, 2.0])
def test_means_sit_at_radius_r_and_angle_z_with_background_opposite(radius):
    toy = GaussianSignalToy(radius)
    z = 0.3 * np.pi
    np.testing.assert_allclose(toy.mean(z, "signal"), radius * np.array([np.cos(z), np.sin(z)]))
    np.testing.assert_allclose(toy.mean(z, "background"), -toy.mean(z, "signal"))
    assert toy.z_range == (0.0, 0.5 * np.pi) and toy.z0 == pytest.approx(0.25 * np.pi)


def test_log_density_is_the_unit_gaussian_and_samples_follow_it():
    toy = GaussianSignalToy(2.0)
    rng = np.random.default_rng(1)
    n, z = 40_000, 0.1 * np.pi
    x = toy.sample("signal", z, n, rng)
    mean = toy.mean(z, "signal")
    expected = multivariate_normal(mean, np.eye(2)).logpdf(x)
    np.testing.assert_allclose(toy.log_density(x, z, "signal"), expected, rtol=1e-12)
    # sample mean: unit width, so 5 standard errors are 5/sqrt(n)
    np.testing.assert_allclose(x.mean(axis=0), mean, atol=5 / np.sqrt(n))
    # sample covariance: the standard error of each entry is ~sqrt(2/n)
    np.testing.assert_allclose(np.cov(x.T), np.eye(2), atol=5 * np.sqrt(2 / n))


def test_log_density_broadcasts_events_against_a_z_grid():
    toy = GaussianSignalToy(0.5)
    rng = np.random.default_rng(2)
    x = toy.sample("background", 0.2, 7, rng)
    grid = np.linspace(0.0, 1.0, 5)
    table = toy.log_density(x[:, None, :], grid[None, :], "background")
    assert table.shape == (7, 5)
    np.testing.assert_allclose(table[:, 3], toy.log_density(x, grid[3], "background"))


def test_mixture_fixed_counts_follow_the_thesis_and_binomial_counts_fluctuate():
    toy = GaussianSignalToy(2.0)
    rng = np.random.default_rng(3)
    _, is_signal = toy.mixture(0.2, 0.25 * np.pi, 9000, rng)
    assert is_signal.sum() == round(9000 * 0.2 / 1.2)  # N_signal = int(N mu/(mu+1))
    counts = [toy.mixture(0.2, 0.25 * np.pi, 1000, rng, fixed_counts=False)[1].sum()
              for _ in range(200)]
    p = 0.2 / 1.2
    # binomial: mean n p, standard deviation sqrt(n p (1-p)) = 11.8
    assert np.mean(counts) == pytest.approx(1000 * p, abs=5 * np.sqrt(1000 * p * (1 - p) / 200))
    assert np.std(counts) == pytest.approx(np.sqrt(1000 * p * (1 - p)), rel=0.25)


def test_bad_settings_and_inputs_raise_clear_errors():
    with pytest.raises(ConfigError, match="radius"):
        GaussianSignalToy(-1.0)
    with pytest.raises(ConfigError, match="z0"):
        GaussianSignalToy(2.0, z0=3.0)
    toy = GaussianSignalToy()
    with pytest.raises(ConfigError, match="kind"):
        toy.mean(0.1, "sig")
    with pytest.raises(ShapeMismatchError, match="2 toy features"):
        toy.log_density(np.zeros((4, 3)), 0.1, "signal")
    with pytest.raises(ConfigError, match="mu"):
        toy.mixture(-0.5, 0.1, 10, np.random.default_rng(0))
