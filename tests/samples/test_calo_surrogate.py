"""Shower descriptions and the renderer of the image surrogate (hepnnlr.samples.calo_surrogate)."""

from __future__ import annotations

import math

import awkward as ak
import numpy as np
import pytest

from hepnnlr.errors import (
    ConfigError,
    EmptySelectionError,
    MissingBranchError,
    NonFiniteInputError,
    ShapeMismatchError,
)
from hepnnlr.samples.calo import ShowerConfig, generate_calo
from hepnnlr.samples.calo_surrogate import DESCRIPTION_NAMES, ShowerRenderer, describe_showers

# every shower with GP's average profile, starting at the front face, on the grid centre
FIXED = ShowerConfig(profile_fluctuations=0.0, conversion_x0=0.0, impact_sigma_mm=0.0)


@pytest.fixture(scope="module")
def fixed_showers() -> ak.Array:
    return generate_calo(300, seed=3, config=FIXED)


@pytest.fixture(scope="module")
def reference() -> ak.Array:
    showers = generate_calo(400, seed=4)
    return showers[ak.to_numpy(ak.num(showers.Hit, axis=1)) > 0]


def test_description_closes_on_showers_of_known_profile(fixed_showers):
    d = describe_showers(fixed_showers, FIXED)
    assert d.shape == (300, len(DESCRIPTION_NAMES))
    energy = ak.to_numpy(ak.sum(fixed_showers.Hit.E, axis=1))
    # ak.sum adds the float32 cells in float32 (~1e-7 per addition of ~800 cells)
    np.testing.assert_allclose(np.exp(d[:, 0]), energy, rtol=1e-5)
    par = FIXED.profile_parameters()
    alpha, t_max = math.exp(par["mean_log_alpha"]), math.exp(par["mean_log_T"])
    truth = {1: 0.0, 2: math.log(alpha), 3: math.log((alpha - 1) / t_max), 4: 0.0, 5: 0.0}
    for column, value in truth.items():
        # the moment fit of ~4,000 spots per shower scatters (ln alpha by ~0.18); its mean
        # over 300 showers must lie within 5 standard errors of the true value (seed 3:
        # 1.9, 1.9 and 3.0 standard errors for t0, ln alpha, ln beta)
        x = d[:, column]
        assert abs(x.mean() - value) < 5 * x.std() / math.sqrt(len(x)), DESCRIPTION_NAMES[column]


def test_rendered_cells_sum_to_the_described_energy_without_threshold(fixed_showers):
    config = ShowerConfig(threshold_mev=0.0)
    d = describe_showers(fixed_showers[:40], config)
    showers = ShowerRenderer(config).render(d, seed=1)
    assert ak.fields(showers) == ["event", "weight", "E_true", "Hit"]
    assert len(showers) == 40
    # the cells are scaled to the described energy; float32 cells: relative 1e-6
    np.testing.assert_allclose(ak.to_numpy(ak.sum(showers.Hit.E, axis=1)), np.exp(d[:, 0]),
                               rtol=1e-5)


def test_render_layout_threshold_and_seeding(reference):
    renderer = ShowerRenderer.calibrated(reference, seed=2)
    # spots lost at the grid edge and below threshold: kappa a little above 1
    assert 1.0 < renderer.spot_scale < 1.05
    d = renderer.describe(reference[:50])
    a = renderer.render(d, seed=5)
    for field, size in zip(("layer", "ix", "iy"), FIXED.shape, strict=True):
        values = ak.to_numpy(ak.flatten(a.Hit[field]))
        assert values.dtype == np.int16 and values.min() >= 0 and values.max() < size
    energy = ak.to_numpy(ak.flatten(a.Hit.E))
    assert energy.dtype == np.float32 and (energy >= np.float32(0.1)).all()
    assert ak.all(a.Hit.E == renderer.render(d, seed=5).Hit.E)
    b = renderer.render(d, seed=6)
    assert not ak.all(ak.num(a.Hit, axis=1) == ak.num(b.Hit, axis=1))


def test_rendering_the_reference_descriptions_closes_on_its_means(reference):
    renderer = ShowerRenderer.calibrated(reference, seed=2)
    rendered = renderer.render(renderer.describe(reference), seed=7)
    ref_d = describe_showers(reference)
    new_d = describe_showers(rendered[ak.to_numpy(ak.num(rendered.Hit, axis=1)) > 0])
    for column in (0, 1, 4, 5):  # energy, t0, impact point
        # means of ~400 showers each agree within 5 standard errors of their difference
        a, b = ref_d[:, column], new_d[:, column]
        error = math.sqrt(a.var() / len(a) + b.var() / len(b))
        assert abs(a.mean() - b.mean()) < 5 * error, DESCRIPTION_NAMES[column]


def test_errors(reference):
    renderer = ShowerRenderer()
    with pytest.raises(ShapeMismatchError, match=r"shape \(n, 6\)"):
        renderer.render(np.zeros((3, 5)), seed=1)
    bad = np.zeros((2, 6))
    bad[1, 2] = np.nan
    with pytest.raises(NonFiniteInputError, match="description 1 .* 'log_alpha'"):
        renderer.render(bad, seed=1)
    empty = ak.zip({"Hit": ak.Array([[], [{"layer": 1, "ix": 2, "iy": 3, "E": 1.0}]])},
                   depth_limit=1)
    with pytest.raises(EmptySelectionError, match="shower 0 has no cell"):
        describe_showers(empty)
    with pytest.raises(MissingBranchError, match="'E'"):
        describe_showers(reference.Hit[["layer", "ix", "iy"]])
    with pytest.raises(ConfigError, match="spot_scale"):
        ShowerRenderer(spot_scale=0.0)
    with pytest.raises(ConfigError, match="profile_map must be 9"):
        ShowerRenderer(profile_map=(1.0, 0.0))
    with pytest.raises(ConfigError, match="ShowerConfig"):
        ShowerRenderer(config={"energy_gev": 50})
