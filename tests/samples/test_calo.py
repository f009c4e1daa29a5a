"""Parametric photon showers: configuration, physics closure, reproducibility, storage."""

from __future__ import annotations

import math

import awkward as ak
import numpy as np
import pytest
import uproot
from scipy import stats

from hepnnlr.errors import ConfigError, InputFileError, MissingBranchError, ShapeMismatchError
from hepnnlr.samples.calo import (
    ShowerConfig,
    check_calo_file,
    generate_calo,
    hits_to_images,
    images_to_hits,
    make_calo_sample,
    read_calo_events,
)

# Showers whose lateral spread stays inside the grid (tail radius < 1 mm, so fewer than
# 1e-4 of the spots leave the 150 mm wide grid), without cell noise or threshold: every
# contained spot is seen, and the energy per layer is spot energy × spots in the layer.
CONTAINED = dict(
    moliere_radius_mm=0.5, impact_sigma_mm=0.0, cell_noise=0.0, threshold_mev=0.0, spots_per_gev=4.0
)
N_PROFILE = 2000


@pytest.fixture(scope="module")
def showers() -> ak.Array:
    """400 default showers (50 GeV photons), in four blocks."""
    return generate_calo(400, seed=3, block_size=100)


def _layer_energy(hits: ak.Array, n_layers: int = 30) -> np.ndarray:
    counts = ak.to_numpy(ak.num(hits))
    event = np.repeat(np.arange(len(counts)), counts)
    layer = ak.to_numpy(ak.flatten(hits.layer)).astype(np.int64)
    energy = ak.to_numpy(ak.flatten(hits.E)).astype(np.float64)
    flat = np.bincount(event * n_layers + layer, weights=energy, minlength=len(counts) * n_layers)
    return flat.reshape(len(counts), n_layers)


def _layer_probabilities(alpha, beta, t0, config: ShowerConfig) -> np.ndarray:
    """Mean over showers of the Gamma(α, β) probability of each layer's depth interval,
    for a shower starting at t0 (scipy, written independently of the generator)."""
    edges = np.arange(config.n_layers + 1) * config.layer_x0
    cdf = stats.gamma.cdf(edges[None, :] - t0[:, None], a=alpha[:, None], scale=1 / beta[:, None])
    return np.diff(cdf, axis=1).mean(axis=0)


def _check_profile(config: ShowerConfig, expected_p: np.ndarray, seed: int) -> None:
    sample = generate_calo(N_PROFILE, seed=seed, config=config)
    per_layer = _layer_energy(sample.Hit)
    mean = per_layer.mean(axis=0)
    # statistical error of the sample mean of each layer (showers are independent)
    error = per_layer.std(axis=0, ddof=1) / math.sqrt(N_PROFILE)
    # spots are Poisson(λ) per shower, so E[spots in layer] = λ p_layer exactly
    expected = config.sampling_fraction * config.energy_gev * 1000.0 * expected_p
    # 4 sigma per layer: with 30 layers a false alarm has probability ~2e-3
    assert np.all(np.abs(mean - expected) < 4 * error), np.abs(mean - expected) / error


def test_mean_profile_matches_fixed_gamma() -> None:
    """No fluctuations, no conversion: every shower has the GP average Gamma profile."""
    config = ShowerConfig(profile_fluctuations=0.0, conversion_x0=0.0, **CONTAINED)
    log_y = math.log(50_000.0 / 7.97)
    t_max = log_y - 0.812
    alpha = 0.81 + (0.458 + 2.26 / 74.0) * log_y
    one = np.ones(1)
    p = _layer_probabilities(alpha * one, (alpha - 1) / t_max * one, 0.0 * one, config)
    _check_profile(config, p, seed=21)


def test_mean_profile_with_fluctuations_and_conversion() -> None:
    """GP fluctuations of (ln T, ln α) and an exponential conversion depth, averaged by
    an independent Monte Carlo of 50,000 parameter draws (its error is below a fifth of
    the sample's, ≈ sqrt(2,000 / 50,000), and adds < 2% to it in quadrature)."""
    config = ShowerConfig(**CONTAINED)
    log_y = math.log(50_000.0 / 7.97)
    mean = [math.log(log_y - 0.812), math.log(0.81 + (0.458 + 2.26 / 74.0) * log_y)]
    s_t, s_a, rho = 1 / (-1.4 + 1.26 * log_y), 1 / (-0.58 + 0.86 * log_y), 0.705 - 0.023 * log_y
    cov = [[s_t**2, rho * s_t * s_a], [rho * s_t * s_a, s_a**2]]
    rng = np.random.default_rng(99)
    log_t, log_a = rng.multivariate_normal(mean, cov, size=50_000).T
    alpha = np.exp(log_a)
    t0 = rng.exponential(9 / 7, size=alpha.size)
    p = _layer_probabilities(alpha, (alpha - 1) / np.exp(log_t), t0, config)
    _check_profile(config, p, seed=22)


def test_energy_containment_and_shower_maximum(showers) -> None:
    config = ShowerConfig()
    visible = config.sampling_fraction * config.energy_gev * 1000.0
    per_layer = _layer_energy(showers.Hit)
    fraction = per_layer.sum(axis=1).mean() / visible
    # 24 X0 deep and 30 Molière radii wide: a few percent leak, the 0.1 MeV cut removes
    # ~1%; the mean can not exceed 1 (the cell noise has mean 1)
    assert 0.9 < fraction < 1.0
    # the paper: "the shower maximum is typically just beyond the tenth layer"
    assert 10 <= np.argmax(per_layer.mean(axis=0)) <= 13  # index 10 = layer 11
    n_hits = ak.to_numpy(ak.num(showers.Hit))
    assert 600 < n_hits.mean() < 950  # the paper's Geant4 showers peak around 780


def test_threshold_respected_and_hits_well_formed(showers) -> None:
    hits = showers.Hit
    assert ak.all(hits.E >= np.float32(0.1))
    for field, size in (("layer", 30), ("ix", 30), ("iy", 30)):
        assert ak.all((hits[field] >= 0) & (hits[field] < size))
    flat = ak.to_numpy(
        ak.flatten((ak.values_astype(hits.layer, np.int64) * 30 + hits.ix) * 30 + hits.iy)
    )
    counts = ak.to_numpy(ak.num(hits))
    event = np.repeat(np.arange(len(counts)), counts)
    order = event * 27_000 + flat
    assert np.all(np.diff(order) > 0)  # sorted by (layer, ix, iy), each cell once
    high = generate_calo(50, seed=3, config=ShowerConfig(threshold_mev=0.5))
    assert ak.all(high.Hit.E >= np.float32(0.5))
    assert ak.mean(ak.num(high.Hit)) < ak.mean(ak.num(showers.Hit[:50]))


def test_layout_and_types(showers) -> None:
    assert showers.fields == ["event", "weight", "E_true", "Hit"]
    assert showers.Hit.fields == ["layer", "ix", "iy", "E"]
    assert str(ak.type(showers.Hit).content) == (
        "var * {layer: int16, ix: int16, iy: int16, E: float32}"
    )
    np.testing.assert_array_equal(showers.event.to_numpy(), np.arange(400, dtype=np.uint64))
    assert ak.all(showers.weight == 1.0) and ak.all(showers.E_true == 50.0)


def test_reproducible_and_independent_of_workers(showers) -> None:
    again = generate_calo(400, seed=3, block_size=100)
    parallel = generate_calo(400, seed=3, block_size=100, workers=2)
    for other in (again, parallel):
        assert ak.array_equal(other, showers)
    different = generate_calo(100, seed=4, block_size=100)
    assert not ak.array_equal(different.Hit, showers.Hit[:100])


def test_hits_images_round_trip(showers) -> None:
    images = hits_to_images(showers.Hit[:60])
    assert images.shape == (60, 30, 30, 30) and images.dtype == np.float32
    back = images_to_hits(images)
    assert ak.array_equal(back, showers.Hit[:60])
    np.testing.assert_array_equal(hits_to_images(back), images)
    assert float(images.sum()) == pytest.approx(float(ak.sum(showers.Hit[:60].E)), rel=1e-6)


def test_images_helpers_refuse_bad_input(showers) -> None:
    with pytest.raises(ShapeMismatchError, match="'ix' holds 30"):
        bad = ak.zip({"layer": [[0]], "ix": [[30]], "iy": [[0]], "E": [[1.0]]})
        hits_to_images(bad)
    with pytest.raises(MissingBranchError, match="'E'"):
        hits_to_images(showers.Hit[["layer", "ix", "iy"]])
    with pytest.raises(ShapeMismatchError, match="events, layers, x, y"):
        images_to_hits(np.zeros((30, 30, 30)))
    with pytest.raises(ConfigError, match="shape"):
        hits_to_images(showers.Hit, shape=(30, 30))


def test_sample_file_round_trip(tmp_path, showers) -> None:
    path = make_calo_sample(
        tmp_path / "sub" / "calo.root", n_events=400, seed=3, block_size=100, progress=False
    )
    assert check_calo_file(path) == 400
    assert ak.array_equal(read_calo_events(path), showers)
    with uproot.open(path) as file:
        assert file["events"]["nHit"].array().tolist() == ak.num(showers.Hit).tolist()


def test_file_checks_name_the_problem(tmp_path) -> None:
    with pytest.raises(InputFileError, match="does not exist.*make_calo_sample"):
        check_calo_file(tmp_path / "missing.root")
    other = tmp_path / "other.root"
    with uproot.recreate(other) as file:
        file.mktree("events", {"event": np.uint64, "weight": np.float64})
        file["events"].extend({"event": np.arange(3, dtype=np.uint64), "weight": np.ones(3)})
    with pytest.raises(MissingBranchError, match="'E_true'"):
        check_calo_file(other)
    with pytest.raises(InputFileError, match="has no tree 'showers'; its trees are"):
        check_calo_file(other, tree="showers")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"energy_gev": 0.5}, "energy_gev"),
        ({"n_layers": 0}, "n_layers"),
        ({"n_x": 2.5}, "n_x must be an integer"),
        ({"cell_noise": -0.1}, "cell_noise"),
        ({"sampling_fraction": 1.5}, "sampling_fraction"),
        ({"layer_x0": float("nan")}, "layer_x0 must be finite"),
        ({"threshold_mev": -1.0}, "threshold_mev"),
        ({"spots_per_gev": "many"}, "spots_per_gev must be a number"),
    ],
)
def test_config_validation(kwargs, match) -> None:
    with pytest.raises(ConfigError, match=match):
        ShowerConfig(**kwargs)


def test_generate_refuses_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="n_events"):
        generate_calo(0, seed=1)
    with pytest.raises(ConfigError, match="ShowerConfig"):
        generate_calo(10, seed=1, config={"energy_gev": 50})


def test_energy_scales_the_shower() -> None:
    low = generate_calo(100, seed=5, config=ShowerConfig(energy_gev=10.0))
    assert ak.all(low.E_true == 10.0)
    per_layer = _layer_energy(low.Hit)
    # visible energy scales with E; the maximum moves forward by ln(50/10) = 1.6 X0
    assert 0.9 < per_layer.sum(axis=1).mean() / 150.0 < 1.0
    assert np.argmax(per_layer.mean(axis=0)) < 10
