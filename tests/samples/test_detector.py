"""Parametric detector: closure with a perfect detector, resolutions, efficiencies."""

from __future__ import annotations

import dataclasses

import awkward as ak
import numpy as np
import pytest

from hepnnlr.errors import ConfigError, MissingBranchError, NonFiniteInputError
from hepnnlr.samples import DetectorConfig, electron_method, simulate_detector


def _is_track(pdg_id: ak.Array) -> ak.Array:
    code = abs(pdg_id)
    return (code == 211) | (code == 11) | (code == 13)


def _flat(array: ak.Array) -> np.ndarray:
    return ak.to_numpy(ak.flatten(array)).astype(np.float64)


def _fiducial(parts: ak.Array) -> ak.Array:
    return parts[(parts.pt > 0.1) & (parts.eta > -1.5) & (parts.eta < 2.75)]


def _expected_code(gen: ak.Array) -> np.ndarray:
    pdg = ak.to_numpy(ak.flatten(gen.pdgId))
    charge = ak.to_numpy(ak.flatten(gen.charge)).astype(int)
    lepton = np.isin(np.abs(pdg), (11, 13))
    track = np.where(lepton, -np.sign(charge) * np.abs(pdg), np.sign(charge) * 211)
    return np.where(charge != 0, track, np.where(pdg == 22, 22, 130))


@pytest.fixture(scope="module")
def perfect(sim_gen: ak.Array) -> ak.Array:
    return simulate_detector(sim_gen, DetectorConfig.perfect(), seed=1)


def test_output_fields(perfect: ak.Array) -> None:
    assert ak.fields(perfect)[-4:] == ["RecoElectron", "RecoPart", "pass_gen", "pass_reco"]
    assert ak.to_numpy(perfect.pass_reco).dtype == np.bool_
    reco = ak.flatten(perfect.RecoPart)
    assert ak.to_numpy(reco.pdgId).dtype == np.int32
    assert ak.to_numpy(reco.pt).dtype == np.float32


def test_perfect_detector_reproduces_particles(sim_gen: ak.Array, perfect: ak.Array) -> None:
    gen = _fiducial(sim_gen.GenPart)
    reco = perfect.RecoPart
    np.testing.assert_array_equal(ak.num(reco).to_numpy(), ak.num(gen).to_numpy())
    # float32 storage: agreement to a few ulp after the E, θ round trips.
    for field in ("pt", "E"):
        np.testing.assert_allclose(_flat(reco[field]), _flat(gen[field]), rtol=1e-6)
    for field in ("eta", "phi"):
        np.testing.assert_allclose(_flat(reco[field]), _flat(gen[field]), atol=1e-6)
    np.testing.assert_array_equal(ak.to_numpy(ak.flatten(reco.pdgId)), _expected_code(gen))
    np.testing.assert_array_equal(_flat(reco.charge), _flat(gen.charge))


def test_perfect_detector_reproduces_electron_and_kinematics(
    sim_gen: ak.Array, perfect: ak.Array
) -> None:
    gen_e = ak.firsts(sim_gen.GenElectron)
    in_acceptance = ak.to_numpy((gen_e.eta > -3.0) & (gen_e.eta < 2.75))
    np.testing.assert_array_equal(ak.num(perfect.RecoElectron).to_numpy(), in_acceptance)
    reco_e = ak.firsts(perfect.RecoElectron[in_acceptance])
    gen_e = gen_e[in_acceptance]
    for field in ("pt", "eta", "phi", "E"):
        np.testing.assert_allclose(
            ak.to_numpy(reco_e[field]), ak.to_numpy(gen_e[field]), rtol=1e-12, atol=1e-12
        )
    reco_kin = electron_method(ak.to_numpy(reco_e.E), ak.to_numpy(reco_e.eta))
    gen_kin = electron_method(ak.to_numpy(gen_e.E), ak.to_numpy(gen_e.eta))
    np.testing.assert_allclose(reco_kin.Q2, gen_kin.Q2, rtol=1e-10)
    np.testing.assert_allclose(reco_kin.y, gen_kin.y, rtol=1e-10, atol=1e-12)


def test_perfect_detector_without_acceptance_keeps_everything(sim_gen: ak.Array) -> None:
    reco = simulate_detector(sim_gen, DetectorConfig.perfect(acceptance=False), seed=1)
    np.testing.assert_array_equal(
        ak.num(reco.RecoPart).to_numpy(), ak.num(sim_gen.GenPart).to_numpy()
    )
    np.testing.assert_array_equal(ak.num(reco.RecoElectron).to_numpy(), 1)


def test_track_resolution_matches_configuration(sim_gen: ak.Array) -> None:
    a, b = 0.01, 0.02
    config = dataclasses.replace(
        DetectorConfig.perfect(acceptance=False), track_resolution_a=a, track_resolution_b=b
    )
    reco = simulate_detector(sim_gen, config, seed=2).RecoPart
    # Efficiency 1 and no acceptance: reco tracks are the gen charged particles, in order.
    gen = sim_gen.GenPart[sim_gen.GenPart.charge != 0]
    tracks = reco[_is_track(reco.pdgId)]
    gen_pt, reco_pt = _flat(gen.pt), _flat(tracks.pt)
    assert gen_pt.size == reco_pt.size
    sigma = np.hypot(a * gen_pt, b)
    pull = (gen_pt / reco_pt - 1.0) / sigma  # the curvature is smeared: exactly N(0, 1)
    n = pull.size
    # Std of a normal sample's mean is 1/√n and of its std 1/√(2n): allow 5 of each
    # (float32 storage adds < 1e-5 to ratios of order σ ≥ 0.02, negligible).
    assert abs(pull.mean()) < 5 / np.sqrt(n)
    assert abs(pull.std() - 1.0) < 5 / np.sqrt(2 * n)
    # The relative width grows with pT as configured: check the hardest tracks alone.
    hard = gen_pt > 5.0
    measured = np.std(gen_pt[hard] / reco_pt[hard] - 1.0)
    expected = np.sqrt(np.mean(sigma[hard] ** 2))
    assert measured == pytest.approx(expected, rel=5 / np.sqrt(2 * hard.sum()))


def test_electron_energy_resolution(sim_gen: ak.Array) -> None:
    s, c = 0.11, 0.01
    config = dataclasses.replace(
        DetectorConfig.perfect(acceptance=False), electron_stochastic=s, electron_constant=c
    )
    reco = simulate_detector(sim_gen, config, seed=3)
    gen_e = _flat(sim_gen.GenElectron.E)
    reco_e = _flat(reco.RecoElectron.E)
    pull = (reco_e / gen_e - 1.0) / np.hypot(s / np.sqrt(gen_e), c)
    assert abs(pull.mean()) < 5 / np.sqrt(pull.size)
    assert abs(pull.std() - 1.0) < 5 / np.sqrt(2 * pull.size)


def _within_binomial(k: int, n: int, p: float) -> bool:
    """k successes in n trials agree with p within 5 binomial standard deviations."""
    return abs(k / n - p) < 5 * np.sqrt(p * (1 - p) / n)


def test_efficiencies_within_binomial_errors(sim_gen: ak.Array) -> None:
    config = dataclasses.replace(
        DetectorConfig.perfect(),
        track_efficiency=0.8,
        track_efficiency_low_pt=0.6,
        track_low_pt=0.3,
        hcal_efficiency=0.7,
        electron_efficiency=0.9,
    )
    reco = simulate_detector(sim_gen, config, seed=4)
    gen = _fiducial(sim_gen.GenPart)
    gen_pt = _flat(gen.pt)
    gen_charge = _flat(gen.charge)
    tracks = reco.RecoPart[_is_track(reco.RecoPart.pdgId)]
    track_pt = _flat(tracks.pt)  # no smearing: reco pT = gen pT
    for low, high, eff in ((0.0, 0.3, 0.6), (0.3, np.inf, 0.8)):
        n_gen = int(np.sum((gen_charge != 0) & (gen_pt >= low) & (gen_pt < high)))
        n_reco = int(np.sum((track_pt >= low) & (track_pt < high)))
        assert _within_binomial(n_reco, n_gen, eff), (low, n_reco / n_gen)
    n_neutral = int(np.sum((gen_charge == 0) & (_flat(gen.pdgId) != 22)))
    n_clusters = int(np.sum(_flat(reco.RecoPart.pdgId) == 130))
    assert _within_binomial(n_clusters, n_neutral, 0.7)
    n_photons = int(np.sum(_flat(gen.pdgId) == 22))
    assert int(np.sum(_flat(reco.RecoPart.pdgId) == 22)) == n_photons  # photons: no loss
    e_eta = _flat(sim_gen.GenElectron.eta)
    n_e = int(np.sum((e_eta > -3.0) & (e_eta < 2.75)))
    assert _within_binomial(int(ak.sum(ak.num(reco.RecoElectron))), n_e, 0.9)


def test_default_detector_is_physical(sim_gen: ak.Array) -> None:
    reco = simulate_detector(sim_gen, seed=5)
    parts = ak.flatten(reco.RecoPart)
    pt, eta, energy = _flat(reco.RecoPart.pt), _flat(reco.RecoPart.eta), _flat(reco.RecoPart.E)
    assert np.all(pt > 0.1) and np.all((eta > -1.5) & (eta < 2.75))
    assert np.all(energy >= pt * np.cosh(eta) * (1 - 1e-6))  # E ≥ |p|, float32 rounding
    codes = set(np.unique(ak.to_numpy(parts.pdgId)))
    assert codes <= {211, -211, 11, -11, 13, -13, 22, 130}
    charge = ak.to_numpy(parts.charge)
    pions = np.abs(ak.to_numpy(parts.pdgId)) == 211
    np.testing.assert_array_equal(np.sign(ak.to_numpy(parts.pdgId))[pions], charge[pions])
    # Fewer reconstructed than generated fiducial particles (efficiencies, thresholds).
    assert ak.sum(ak.num(reco.RecoPart)) < ak.sum(ak.num(_fiducial(sim_gen.GenPart)))


def test_pass_reco_is_the_electron_method_selection(sim_gen: ak.Array) -> None:
    reco = simulate_detector(sim_gen, seed=6)
    e = ak.firsts(reco.RecoElectron)
    has = ak.to_numpy(ak.num(reco.RecoElectron)) == 1
    kin = electron_method(
        ak.to_numpy(ak.fill_none(e.E, 1.0)), ak.to_numpy(ak.fill_none(e.eta, 0.0))
    )
    n_fid = ak.to_numpy(ak.num(_fiducial(reco.RecoPart)))
    expected = has & (kin.Q2 > 150) & (kin.y > 0.08) & (kin.y < 0.7) & (n_fid > 0)
    np.testing.assert_array_equal(ak.to_numpy(reco.pass_reco), expected)
    # The cuts keep about a third of Q² > 100 events (σ(Q² > 150, 0.08 < y < 0.7) is
    # ~32% of σ(Q² > 100)); the band is wide against the 1% binomial error of 2,000.
    assert 0.25 < expected.mean() < 0.40
    gen_e = ak.firsts(reco.GenElectron)
    gen_kin = electron_method(ak.to_numpy(gen_e.E), ak.to_numpy(gen_e.eta))
    n_gen_fid = ak.to_numpy(ak.num(_fiducial(reco.GenPart)))
    np.testing.assert_array_equal(ak.to_numpy(reco.pass_gen), (gen_kin.Q2 > 100) & (n_gen_fid > 0))


def test_reproducible_from_seed(sim_gen: ak.Array) -> None:
    a = simulate_detector(sim_gen, seed=9)
    b = simulate_detector(sim_gen, seed=9)
    c = simulate_detector(sim_gen, seed=10)
    d = simulate_detector(sim_gen, seed=np.random.default_rng(9))
    assert ak.array_equal(a.RecoPart, b.RecoPart) and ak.array_equal(a.RecoElectron, b.RecoElectron)
    assert ak.array_equal(a.RecoPart, d.RecoPart)
    assert not ak.array_equal(a.RecoPart, c.RecoPart)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"track_resolution_b": -0.01}, "track_resolution_b must be finite and >= 0"),
        ({"ecal_threshold": -1.0}, "ecal_threshold must be finite and >= 0"),
        ({"track_efficiency": 1.2}, "track_efficiency is an efficiency"),
        ({"hcal_efficiency": -0.1}, "hcal_efficiency is an efficiency"),
        ({"eta_min": 3.0}, "eta_min .* must be smaller than eta_max"),
        ({"electron_eta_min": 2.75}, "electron_eta_min .* must be smaller than"),
        ({"pt_min": float("nan")}, "pt_min is NaN"),
        ({"pt_min": "0.1"}, "pt_min must be a number"),
    ],
)
def test_config_validation(change: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        DetectorConfig(**change)


def test_missing_collection_is_named(sim_gen: ak.Array) -> None:
    with pytest.raises(MissingBranchError, match="GenElectron"):
        simulate_detector(sim_gen[["event", "GenPart"]], seed=1)
    with pytest.raises(ConfigError, match="DetectorConfig"):
        simulate_detector(sim_gen, {"pt_min": 0.1}, seed=1)  # type: ignore[arg-type]


def test_non_finite_input_is_reported(sim_gen: ak.Array) -> None:
    small = sim_gen[:5]
    pt = ak.to_numpy(ak.flatten(small.GenPart.pt)).copy()
    pt[3] = np.nan
    broken = ak.with_field(small, ak.unflatten(pt, ak.num(small.GenPart)), ["GenPart", "pt"])
    with pytest.raises(NonFiniteInputError, match=r"GenPart.pt has 1 non-finite"):
        simulate_detector(broken, seed=1)
