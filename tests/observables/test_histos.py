"""Booking and filling of the DIS histograms, on hand-built level records."""

from __future__ import annotations

import math

import awkward as ak
import hist
import numpy as np
import pytest

from hepnnlr.errors import (
    ConfigError,
    MissingBranchError,
    NonFiniteInputError,
    ShapeMismatchError,
)
from hepnnlr.observables.histos import (
    DIS_OBSERVABLES,
    book_dis_histograms,
    fill_dis_histograms,
    observable_values,
)

EXPECTED_NAMES = {
    "Q2",
    "y",
    "eta_e",
    "particle_deta",
    "particle_log_pt",
    "particle_log_pt_over_Q",
    "jet_pt",
    "jet_eta",
    "jet_tau21",
    "jet_dphi",
}


def _particle(deta: float) -> dict[str, float]:
    return {
        "pt": 1.0,
        "eta": 0.0,
        "phi": 0.0,
        "charge": 1,
        "log_pt": 0.0,
        "deta": deta,
        "dphi": 0.1,
        "log_pt_over_Q": -1.2,
    }


def _jet(pt: float) -> dict[str, float]:
    return {"pt": pt, "eta": 0.5, "phi": 1.0, "tau21": 0.6, "dphi_e": 0.05}


def _level(q2, particles, jets) -> dict:
    if q2 is None:
        return {"Q2": None, "y": None, "x": None, "eta_e": None, "phi_e": None,
                "particles": particles, "jets": jets}  # fmt: skip
    return {"Q2": q2, "y": 0.3, "x": 0.01, "eta_e": -1.0, "phi_e": 0.2,
            "particles": particles, "jets": jets}  # fmt: skip


@pytest.fixture
def level_columns() -> ak.Array:
    return ak.Array(
        [
            _level(200.0, [_particle(0.5), _particle(1.5), _particle(2.5)], [_jet(7.0)]),
            _level(1000.0, [_particle(3.0)], []),  # no jet
            _level(None, [], []),  # no electron
            _level(400.0, [], []),  # no fiducial particle
            _level(160.0, [_particle(0.1), _particle(0.2)], [_jet(12.0), _jet(9.0)]),
        ]
    )


WEIGHTS = np.array([1.5, 2.0, 4.0, 0.25, 0.5])


def test_book_names_storage_and_levels() -> None:
    # both levels from the region's and the selection's Q2 = 150 GeV2
    for level, q2_min in (("gen", 150.0), ("reco", 150.0)):
        hists = book_dis_histograms(level)
        assert set(hists) == EXPECTED_NAMES == set(DIS_OBSERVABLES)
        for name, h in hists.items():
            assert isinstance(h.storage_type(), type(hist.storage.Weight()))
            assert h.axes[0].name == name
            assert h.sum(flow=True).value == 0.0
        edges = hists["Q2"].axes[0].edges
        assert edges[0] == pytest.approx(q2_min)
        assert edges[-1] == pytest.approx(5000.0)
        # log-spaced: constant ratio of consecutive edges
        ratios = edges[1:] / edges[:-1]
        np.testing.assert_allclose(ratios, ratios[0], rtol=1e-12)
    assert book_dis_histograms("gen")["jet_dphi"].axes[0].edges[-1] == pytest.approx(math.pi)


def test_book_rejects_unknown_level() -> None:
    with pytest.raises(ConfigError, match=r"\['gen', 'reco'\]"):
        book_dis_histograms("truth")


def test_fill_sums_equal_weights(level_columns) -> None:
    hists = book_dis_histograms("reco")
    fill_dis_histograms(hists, level_columns, WEIGHTS)
    with_electron = np.array([True, True, False, True, True])
    n_particles = np.array([3, 1, 0, 0, 2])
    n_jets = np.array([1, 0, 0, 0, 2])
    for name in ("Q2", "y", "eta_e"):
        total = hists[name].sum(flow=True)
        assert total.value == pytest.approx(WEIGHTS[with_electron].sum())
        assert total.variance == pytest.approx((WEIGHTS[with_electron] ** 2).sum())
    for name in ("particle_deta", "particle_log_pt", "particle_log_pt_over_Q"):
        total = hists[name].sum(flow=True)
        assert total.value == pytest.approx((WEIGHTS * n_particles).sum())
        assert total.variance == pytest.approx((WEIGHTS**2 * n_particles).sum())
    for name in ("jet_pt", "jet_eta", "jet_tau21", "jet_dphi"):
        assert hists[name].sum(flow=True).value == pytest.approx((WEIGHTS * n_jets).sum())


def test_fill_puts_each_object_in_its_bin(level_columns) -> None:
    hists = book_dis_histograms("reco")
    fill_dis_histograms(hists, level_columns, WEIGHTS)
    deta = hists["particle_deta"]
    # deta = 0.1 and 0.2 (event weight 0.5) share the bin [0, 0.25)
    assert deta[hist.loc(0.15)].value == pytest.approx(2 * 0.5)
    assert deta[hist.loc(3.1)].value == pytest.approx(2.0)
    jet_pt = hists["jet_pt"]
    assert jet_pt[hist.loc(12.0)].value == pytest.approx(0.5)
    assert jet_pt[hist.loc(7.0)].value == pytest.approx(1.5)
    q2 = hists["Q2"]
    assert q2[hist.loc(1000.0)].value == pytest.approx(2.0)
    assert q2[hist.underflow].value == 0.0


def test_fill_accumulates_over_calls(level_columns) -> None:
    once = book_dis_histograms("gen")
    fill_dis_histograms(once, level_columns, 2 * WEIGHTS)
    twice = book_dis_histograms("gen")
    fill_dis_histograms(twice, level_columns[:2], WEIGHTS[:2])
    fill_dis_histograms(twice, level_columns[2:], WEIGHTS[2:])
    fill_dis_histograms(twice, level_columns, WEIGHTS)
    for name in once:
        np.testing.assert_allclose(
            once[name].values(flow=True), twice[name].values(flow=True), rtol=1e-12
        )


def test_fill_subset_of_histograms(level_columns) -> None:
    hists = {"jet_pt": book_dis_histograms("gen")["jet_pt"]}
    fill_dis_histograms(hists, level_columns, WEIGHTS)
    assert hists["jet_pt"].sum().value == pytest.approx(1.5 + 0.5 + 0.5)


def test_observable_values_flatten_with_event_weights(level_columns) -> None:
    values, weights = observable_values(level_columns, "particle_deta", WEIGHTS)
    assert values.tolist() == [0.5, 1.5, 2.5, 3.0, 0.1, 0.2]
    assert weights.tolist() == [1.5, 1.5, 1.5, 2.0, 0.5, 0.5]


def test_weight_length_mismatch(level_columns) -> None:
    with pytest.raises(ShapeMismatchError, match=r"shape \(4,\).*5 events"):
        fill_dis_histograms(book_dis_histograms("gen"), level_columns, WEIGHTS[:4])


def test_non_finite_weight(level_columns) -> None:
    weights = WEIGHTS.copy()
    weights[3] = np.nan
    with pytest.raises(NonFiniteInputError, match=r"positions \[3\]"):
        fill_dis_histograms(book_dis_histograms("gen"), level_columns, weights)


def test_non_finite_value_names_the_observable() -> None:
    columns = ak.Array([_level(200.0, [_particle(float("nan"))], [])])
    with pytest.raises(NonFiniteInputError, match="particle_deta"):
        fill_dis_histograms(book_dis_histograms("gen"), columns, np.ones(1))


def test_missing_field_and_unknown_histogram(level_columns) -> None:
    without_jets = level_columns[[f for f in ak.fields(level_columns) if f != "jets"]]
    with pytest.raises(MissingBranchError, match="'jets'"):
        fill_dis_histograms(book_dis_histograms("gen"), without_jets, WEIGHTS)
    with pytest.raises(ConfigError, match="jet_mass"):
        observable_values(level_columns, "jet_mass", WEIGHTS)


def test_dataset_axis_keeps_datasets_apart(level_columns) -> None:
    """Booked for a dataset, every histogram has the leading dataset axis; filling two
    datasets gives two rows, each equal to the one-axis histogram of its events."""
    hists = book_dis_histograms("reco", "sim")
    for name, h in hists.items():
        assert [axis.name for axis in h.axes] == ["dataset", name]
        assert list(h.axes["dataset"]) == ["sim"] and h.axes["dataset"].traits.growth
    fill_dis_histograms(hists, level_columns, WEIGHTS, dataset="sim")
    fill_dis_histograms(hists, level_columns[:2], WEIGHTS[:2], dataset="data")
    for dataset, rows in (("sim", slice(None)), ("data", slice(0, 2))):
        alone = book_dis_histograms("reco")
        fill_dis_histograms(alone, level_columns[rows], WEIGHTS[rows])
        for name, h in hists.items():
            row = h[{"dataset": dataset}]
            assert row.axes == alone[name].axes
            np.testing.assert_array_equal(row.values(flow=True), alone[name].values(flow=True))
            np.testing.assert_array_equal(
                row.variances(flow=True), alone[name].variances(flow=True)
            )


def test_dataset_must_match_the_booking(level_columns) -> None:
    with pytest.raises(ConfigError, match=r"dataset axis \(datasets \['sim'\]\)"):
        fill_dis_histograms(book_dis_histograms("gen", "sim"), level_columns, WEIGHTS)
    with pytest.raises(ConfigError, match="has no dataset axis"):
        fill_dis_histograms(book_dis_histograms("gen"), level_columns, WEIGHTS, dataset="sim")
    with pytest.raises(ConfigError, match="non-empty string"):
        book_dis_histograms("gen", "")
