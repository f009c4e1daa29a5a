"""Shower observables against hand-built grids with exact answers, and their histograms."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepnnlr.errors import (
    ConfigError,
    MissingBranchError,
    NonFiniteInputError,
    ShapeMismatchError,
)
from hepnnlr.observables.calo import (
    DCTR_FEATURES,
    WIDTH_FEATURES,
    layer_energies,
    layer_second_moments,
    longitudinal_centroid,
    n_hits,
    shower_features,
    total_energy,
)
from hepnnlr.observables.calo_histos import (
    CALO_HISTOGRAMS,
    LAYER_DIFFERENCES,
    SELECTED_LAYERS,
    book_calo_histograms,
    fill_calo_histograms,
)
from hepnnlr.samples.calo import generate_calo, images_to_hits


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    """Two showers. Event 0: layer index 4 (layer 5) holds 1 MeV at (ix, iy) = (10, 7)
    and 3 MeV at (12, 7); layer index 9 (layer 10) holds 4 MeV at (3, 3). Event 1 is empty.
    All values are exact in binary floating point, so the answers are exact."""
    grid = np.zeros((2, 30, 30, 30), dtype=np.float32)
    grid[0, 4, 10, 7] = 1.0
    grid[0, 4, 12, 7] = 3.0
    grid[0, 9, 3, 3] = 4.0
    return grid


@pytest.fixture(scope="module", params=["images", "hits"])
def showers(request, images):
    return images if request.param == "images" else images_to_hits(images)


def test_dctr_feature_count_matches_paper() -> None:
    # Sec. III B: non-zero cells, centroid, total energy and the 30 layer energies
    assert len(DCTR_FEATURES) == 33
    assert DCTR_FEATURES[:4] == ("n_hits", "centroid", "E_total", "E_layer_1")
    assert DCTR_FEATURES[-1] == "E_layer_30"
    assert len(WIDTH_FEATURES) == 60 and WIDTH_FEATURES[0] == "x2_layer_1"


def test_hand_built_answers(showers) -> None:
    energies = layer_energies(showers)
    assert energies.shape == (2, 30)
    expected = np.zeros((2, 30))
    expected[0, 4], expected[0, 9] = 4.0, 4.0
    np.testing.assert_array_equal(energies, expected)
    np.testing.assert_array_equal(total_energy(showers), [8.0, 0.0])
    np.testing.assert_array_equal(n_hits(showers), [3, 0])
    # (5 × 4 + 10 × 4) / 8 with layers counted from 1
    assert longitudinal_centroid(showers).tolist() == [7.5, None]
    x2 = layer_second_moments(showers, axis="x")
    y2 = layer_second_moments(showers, axis="y")
    assert str(ak.type(x2)) == "2 * 30 * ?float64"
    # layer 5 along x: mean (1 × 10 + 3 × 12)/4 = 11.5, moment (1 × 2.25 + 3 × 0.25)/4
    assert x2[0, 4] == 0.75 and y2[0, 4] == 0.0
    assert x2[0, 9] == 0.0 and y2[0, 9] == 0.0
    assert x2[0, 0] is None and x2[1].tolist() == [None] * 30
    assert layer_second_moments(showers, axis="x", cell_size=5.0)[0, 4] == 0.75 * 25


def test_shower_features_record(showers) -> None:
    features = shower_features(showers)
    assert features.fields == [*DCTR_FEATURES, *WIDTH_FEATURES]
    first, empty = features.tolist()
    assert (first["n_hits"], first["centroid"], first["E_total"]) == (3, 7.5, 8.0)
    assert first["E_layer_5"] == 4.0 and first["E_layer_10"] == 4.0 and first["E_layer_1"] == 0.0
    assert first["x2_layer_5"] == 0.75 and first["y2_layer_5"] == 0.0
    assert first["x2_layer_1"] is None
    # the empty shower: zero counts and energies, no centroid, no widths
    assert (empty["n_hits"], empty["E_total"], empty["centroid"]) == (0, 0.0, None)
    assert all(empty[name] is None for name in WIDTH_FEATURES)
    assert shower_features(showers, widths=False).fields == list(DCTR_FEATURES)


def test_threshold_drops_cells(showers) -> None:
    features = shower_features(showers, threshold=2.0).tolist()[0]
    assert features["n_hits"] == 2 and features["E_total"] == 7.0
    assert features["centroid"] == pytest.approx((5 * 3 + 10 * 4) / 7, abs=1e-15)
    assert features["x2_layer_5"] == 0.0


def test_hits_and_images_agree_on_generated_showers() -> None:
    from hepnnlr.samples.calo import hits_to_images

    hits = generate_calo(40, seed=8).Hit
    from_hits = shower_features(hits)
    from_images = shower_features(hits_to_images(hits))
    for name in from_hits.fields:
        np.testing.assert_allclose(
            ak.to_numpy(ak.fill_none(from_hits[name], -1.0)),
            ak.to_numpy(ak.fill_none(from_images[name], -1.0)),
            rtol=1e-12,
        )


def test_refuses_bad_input(images) -> None:
    hits = images_to_hits(images)
    with pytest.raises(MissingBranchError, match="'iy'"):
        shower_features(hits[["layer", "ix", "E"]])
    with pytest.raises(ShapeMismatchError, match="n_layers"):
        shower_features(hits, n_layers=5)
    with pytest.raises(ShapeMismatchError, match="10 layers"):
        shower_features(images, n_layers=10)
    with pytest.raises(ConfigError, match="threshold"):
        shower_features(images, threshold=-1.0)
    with pytest.raises(ConfigError, match="axis"):
        layer_second_moments(images, axis="z")
    broken = images.copy()
    broken[0, 0, 0, 0] = np.nan
    with pytest.raises(NonFiniteInputError, match="event 0"):
        shower_features(broken)


def test_histograms_book_and_fill(images) -> None:
    hists = book_calo_histograms()
    assert set(hists) == set(CALO_HISTOGRAMS)
    assert {f"E_layer_{k}" for k in SELECTED_LAYERS} <= set(hists)
    assert {f"dE_{a}_{b}" for a, b in LAYER_DIFFERENCES} <= set(hists)
    features = shower_features(images)
    fill_calo_histograms(hists, features, np.array([2.0, 0.5]))
    # both events have an energy; only the non-empty one has a centroid and a width
    assert hists["E_total"].sum(flow=True).value == 2.5
    assert hists["centroid"].sum(flow=True).value == 2.0
    assert hists["centroid"].sum(flow=True).variance == 4.0
    assert hists["x2_layer_5"].sum(flow=True).value == 2.0
    assert hists["x2_layer_10"].sum(flow=True).value == 2.0
    assert hists["x2_layer_15"].sum(flow=True).value == 0.0
    # E_5 - E_6 = 4 for the first shower, 0 for the empty one
    dE = hists["dE_5_6"]
    assert dE[dE.axes[0].index(4.0)].value == 2.0 and dE[dE.axes[0].index(0.0)].value == 0.5
    with pytest.raises(ShapeMismatchError, match="one weight per event"):
        fill_calo_histograms(hists, features, np.ones(3))
    with pytest.raises(MissingBranchError, match="x2_layer_5"):
        fill_calo_histograms(hists, shower_features(images, widths=False), np.ones(2))
