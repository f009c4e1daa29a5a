"""The Crystal Ball responses of Sec. 4 of the detector-response paper."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from hepnnlr.errors import ConfigError
from hepnnlr.samples.response_toys import (
    JetResponseToy,
    MuonResolutionToy,
    crystal_ball_cdf,
    crystal_ball_pdf,
    crystal_ball_ppf,
    jet_energy_resolution,
    jet_energy_response,
    muon_momentum_resolution,
)


@pytest.mark.parametrize(("beta", "m"), [(1.5, 2.0), (0.5, 3.0), (3.0, 1.5)])
def test_crystal_ball_density_cdf_and_inverse_agree(beta, m):
    # Normalization by adaptive quadrature (tail integrated analytically past -1e4:
    # the remaining mass A/(m-1) (B + 1e4)^(1-m) is below 1e-3 for these parameters,
    # so the integral is compared with the CDF there instead of 1).
    lo = -1e4
    total, _ = integrate.quad(crystal_ball_pdf, lo, -beta, args=(beta, m), limit=200)
    core, _ = integrate.quad(crystal_ball_pdf, -beta, 50, args=(beta, m))
    assert total + core == pytest.approx(1.0 - crystal_ball_cdf(lo, beta, m), abs=1e-7)
    # CDF = integral of the density, at points in the tail and in the core
    for z in (-5.0, -beta - 0.1, -beta + 0.1, 0.0, 1.3):
        part, _ = integrate.quad(crystal_ball_pdf, -beta, z, args=(beta, m))
        expected = crystal_ball_cdf(-beta, beta, m) + part
        assert crystal_ball_cdf(z, beta, m) == pytest.approx(expected, abs=1e-9)
    # value continuous at the junction -beta (density and CDF)
    eps = 1e-9
    assert crystal_ball_pdf(-beta - eps, beta, m) == pytest.approx(
        crystal_ball_pdf(-beta + eps, beta, m), rel=1e-6
    )
    u = np.array([1e-6, 0.01, 0.16, 0.5, 0.84, 0.999999])
    np.testing.assert_allclose(crystal_ball_cdf(crystal_ball_ppf(u, beta, m), beta, m), u,
                               rtol=1e-9)


def test_crystal_ball_core_is_gaussian_above_the_junction():
    # Above -beta the CB is exp(-z^2/2) up to its normalization: the ratio of the density to
    # the normal density is constant there.
    z = np.linspace(-1.4, 4.0, 7)
    ratio = crystal_ball_pdf(z, 1.5, 2.0) / stats.norm.pdf(z)
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)


def test_crystal_ball_rejects_bad_parameters():
    with pytest.raises(ConfigError, match="beta"):
        crystal_ball_pdf(0.0, -1.0, 2.0)
    with pytest.raises(ConfigError, match="m="):
        crystal_ball_cdf(0.0, 1.5, 1.0)
    with pytest.raises(ConfigError, match=r"\(0, 1\)"):
        crystal_ball_ppf(np.array([0.5, 1.0]), 1.5, 2.0)


def test_jet_response_functions_match_the_paper_numbers():
    # Eq. 4.2 at x = 0 is 0, and mu -> x - x0/2 at large x.
    assert jet_energy_response(0.0) == pytest.approx(0.0, abs=1e-12)
    assert jet_energy_response(400.0) == pytest.approx(400.0 - 12.5, abs=1e-6)
    x = np.linspace(1, 200, 400)
    assert np.all(np.diff(jet_energy_response(x)) > 0)  # monotone: invertible
    # "relative resolution of approximately 25% (10%) at 20 GeV (100 GeV)" (Sec. 4.1)
    assert jet_energy_resolution(20.0) / 20.0 == pytest.approx(0.25, abs=0.01)
    assert jet_energy_resolution(100.0) / 100.0 == pytest.approx(0.09, abs=0.01)
    # Eq. 4.4: 0.03 at low momentum, ~0.087 at 100 GeV (0.03 (e^{20 log10 2 - 4}/4 + 1))
    assert muon_momentum_resolution(7.0) == pytest.approx(0.03, rel=0.01)
    assert muon_momentum_resolution(100.0) == pytest.approx(
        0.03 * (0.25 * math.exp(20 * math.log10(2.0) - 4) + 1), rel=1e-12
    )
    with pytest.raises(ConfigError, match="x > 1"):
        muon_momentum_resolution(np.array([0.5]))


def test_jet_toy_sample_follows_truncated_crystal_ball():
    toy = JetResponseToy()
    n = 100_000
    x, y = toy.sample(n, seed=3)
    assert y.min() > toy.e_min
    # fraction kept: binomial, n * mean(kept_fraction) expected, 5 sigma tolerance
    grid = np.linspace(toy.x_min, toy.x_max, 2001)
    p = toy.kept_fraction(grid).mean()
    assert len(x) == pytest.approx(n * p, abs=5 * math.sqrt(n * p * (1 - p)))
    # in a narrow x slice the standardized response follows the truncated CB: KS test on
    # u = (F(z) - F(z_min)) / (1 - F(z_min)), uniform under the model (fixed seed)
    sl = (x > 60) & (x < 61)
    z = (y[sl] - toy.mu(x[sl])) / toy.sigma(x[sl])
    z_min = (toy.e_min - toy.mu(x[sl])) / toy.sigma(x[sl])
    f0 = crystal_ball_cdf(z_min, toy.beta, toy.m)
    u = (crystal_ball_cdf(z, toy.beta, toy.m) - f0) / (1 - f0)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    # quantile and mean against the sample near x = 25 (threshold region): the median's
    # standard error is 1/(2 f sqrt(n)); 5 sigma. The mean: sample std / sqrt(n), 5 sigma.
    sl = (x > 24.5) & (x < 25.5)
    med = toy.quantile(0.5, np.array([25.0]))[0]
    assert med > toy.mu(25.0)  # truncation pulls the median up
    assert np.median(y[sl]) == pytest.approx(med, abs=5 * 1.2533 * y[sl].std() / sl.sum() ** 0.5)
    assert y[sl].mean() == pytest.approx(toy.mean(25.0)[0], abs=5 * y[sl].std() / sl.sum() ** 0.5)
    # the mode is mu(x) above the threshold
    np.testing.assert_allclose(toy.mode(np.array([60.0])), toy.mu(60.0))


def test_muon_toy_quantiles():
    toy = MuonResolutionToy(beta=1.0)
    x, y = toy.sample(50_000, seed=1)
    assert x.min() >= 7.0 and x.max() <= 100.0
    z = (y - 1.0) / toy.sigma(x)
    # empirical quantiles of z against the CB quantiles; binomial error of the CDF at the
    # quantile, sqrt(q (1 - q) / n) ~ 0.0016, 5 sigma
    for q in (0.16, 0.5, 0.84):
        frac = np.mean(z < crystal_ball_ppf(q, toy.beta, toy.m))
        assert frac == pytest.approx(q, abs=5 * math.sqrt(q * (1 - q) / len(z)))


def test_toys_reject_bad_settings():
    with pytest.raises(ConfigError, match="x_max"):
        JetResponseToy(x_min=50.0, x_max=40.0)
    with pytest.raises(ConfigError, match="beta"):
        MuonResolutionToy(beta=0.0)
    with pytest.raises(ConfigError, match="n="):
        JetResponseToy().sample(0, seed=1)
