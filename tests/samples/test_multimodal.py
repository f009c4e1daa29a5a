"""The DCTRGAN toy densities (Eqs. 12–14) and their samplers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.samples.multimodal import GaussianMixture, bimodal, grid, ring


def test_bimodal_is_eq12_normalized_with_the_known_moments():
    p = bimodal()
    assert p.dim == 1
    area, _ = quad(lambda x: p.density(np.array([x]))[0], -6, 6)
    assert area == pytest.approx(1.0, abs=1e-8)
    # Eq. 12 at x = 1: 1/2 N(1; 1, 0.4) + 1/2 N(1; -1, 0.4)
    expected = 0.5 / (0.4 * np.sqrt(2 * np.pi)) * (1 + np.exp(-0.5 * (2 / 0.4) ** 2))
    assert p.density(np.array([1.0]))[0] == pytest.approx(expected, rel=1e-12)
    x = p.sample(200_000, seed=1)[:, 0]
    # mean 0, variance 1 + 0.4^2 = 1.16; standard errors sqrt(1.16/n) ~ 0.0024 and
    # ~ 1.16 sqrt(2/n) * (kurtosis factor < 1) ~ 0.004: 5 standard errors.
    assert x.mean() == pytest.approx(0.0, abs=0.012)
    assert x.var() == pytest.approx(1.16, abs=0.02)


def test_ring_and_grid_have_the_papers_centres_and_equal_modes():
    r = ring()
    assert r.means.shape == (8, 2)
    np.testing.assert_allclose(np.hypot(*r.means.T), 1.0)
    np.testing.assert_allclose(r.means[-1], [1.0, 0.0], atol=1e-15)  # i = 8: angle 2π
    g = grid()
    assert g.means.shape == (25, 2)
    np.testing.assert_allclose(g.means[0], [1.1, 1.1])
    np.testing.assert_allclose(g.means[-1], [5.1, 5.1])
    x = g.sample(50_000, seed=2)
    nearest = np.argmin(((x[:, None] - g.means[None]) ** 2).sum(-1), axis=1)
    counts = np.bincount(nearest, minlength=25)
    # 25 equal modes of width 0.1 at unit spacing (no overlap): multinomial counts with
    # mean 2000 and sd sqrt(2000 * 24/25) ~ 44; 5 sd.
    assert np.all(np.abs(counts - 2000) < 5 * 44), counts


def test_sampling_is_seeded_and_variants_change_the_density():
    p = bimodal(fractions=(0.7, 0.3), sigma=0.5)
    np.testing.assert_array_equal(p.sample(100, seed=3), p.sample(100, seed=3))
    assert not np.array_equal(p.sample(100, seed=3), p.sample(100, seed=4))
    # Exact weight of the paper's density over this variant at the left mode:
    x = np.array([[-1.0]])
    w = bimodal().density(x) / p.density(x)
    assert 0 < w[0] < 1  # the variant over-populates the left mode


def test_bad_mixtures_raise():
    with pytest.raises(ConfigError, match="sum to 1"):
        bimodal(fractions=(0.5, 0.6))
    with pytest.raises(ConfigError, match="sigmas must be > 0"):
        ring(sigma=0.0)
    with pytest.raises(ShapeMismatchError, match="2 means but 3 fractions"):
        GaussianMixture(np.zeros((2, 1)), 1.0, np.ones(3) / 3)
    with pytest.raises(ShapeMismatchError, match=r"points of shape \(n, 2\)"):
        ring().density(np.zeros((4, 3)))
    with pytest.raises(ConfigError, match="n must be a non-negative integer"):
        grid().sample(-1, seed=0)
