"""Tests of the ττ sample: hepnnlr.samples.tautau and hepnnlr.samples.tautau_reco."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import uproot

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.samples.rootio import check_event_file
from hepnnlr.samples.tautau import (
    TauTauConfig,
    generate_tautau,
    lepton_charge_of_block,
    tau_decay_settings,
)
from hepnnlr.samples.tautau_reco import (
    TAUTAU_REQUIRED_BRANCHES,
    TauTauDetectorConfig,
    make_tautau_sample,
    simulate_tautau_detector,
    write_tautau_events,
)

N_EVENTS = 200
BLOCK = 100  # two blocks: one with a positive lepton, one with a negative one
TAU_MASS = 1.77686
PION_MASS = 0.13957


@pytest.fixture(scope="module")
def signal_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("tautau") / "h.root"
    make_tautau_sample(path, "signal", n_events=N_EVENTS, seed=5, progress=False, block_size=BLOCK)
    return str(path)


@pytest.fixture(scope="module")
def events(signal_file) -> ak.Array:
    with uproot.open(signal_file) as file:
        return file["events"].arrays()


@pytest.fixture(scope="module")
def gen(events) -> ak.Array:
    """The generator level of the file, in the layout of generate_tautau."""
    out = {
        name: events[name]
        for name in (
            "event",
            "is_signal",
            "weight",
            "gen_mtautau",
            "GenMET_pt",
            "GenMET_phi",
            "GenSumEt",
        )
    }
    for name, fields in (
        ("GenLepton", ("pt", "eta", "phi", "E", "charge", "pdgId")),
        ("GenTauh", ("pt", "eta", "phi", "E", "charge", "nProng")),
    ):
        out[name] = ak.zip({f: events[f"{name}_{f}"] for f in fields})
    return ak.zip(out, depth_limit=1)


def test_file_has_every_branch_and_one_object_each(signal_file, events) -> None:
    assert check_event_file(signal_file, branches=TAUTAU_REQUIRED_BRANCHES) == N_EVENTS
    assert np.all(events.event == np.arange(N_EVENTS))
    assert np.all(events.is_signal) and np.all(events.weight == 1.0)
    assert np.all(events.tau_energy_scale == 1.0)
    assert np.all(events.nGenLepton == 1) and np.all(events.nGenTauh == 1)
    assert set(np.unique(events.nRecoLepton)) <= {0, 1}
    # m(tau tau) is the Breit-Wigner of the H(125), a few MeV wide: its median is 125 GeV
    # within 3 standard errors (~1.25 IQR / sqrt(N) for a median; generous for BW tails)
    m = ak.to_numpy(events.gen_mtautau)
    iqr = np.subtract(*np.percentile(m, [75, 25]))
    assert 0 < iqr < 0.1
    assert abs(np.median(m) - 125.0) < 3 * 1.25 * iqr / np.sqrt(N_EVENTS)


def test_one_leptonic_and_one_hadronic_tau_with_block_charges(events) -> None:
    lep_charge = ak.to_numpy(events.GenLepton_charge[:, 0])
    block = np.arange(N_EVENTS) // BLOCK
    assert np.all(lep_charge == [lepton_charge_of_block(b) for b in block])
    assert np.all(ak.to_numpy(events.GenTauh_charge[:, 0]) == -lep_charge)
    pdg = ak.to_numpy(events.GenLepton_pdgId[:, 0])
    assert set(np.unique(np.abs(pdg))) == {11, 13}
    assert np.all(np.sign(pdg) == -lep_charge)  # e-, mu- have positive ids
    # e and mu equally likely (BR 17.8 % vs 17.4 %): binomial, 4 sigma
    n_e = np.sum(np.abs(pdg) == 11)
    assert abs(n_e - N_EVENTS / 2) < 4 * np.sqrt(N_EVENTS / 4)
    # hadronic decays: 1-prong fraction of Pythia's table is 0.772; binomial, 4 sigma
    prong = ak.to_numpy(events.GenTauh_nProng[:, 0])
    assert set(np.unique(prong)) <= {1, 3, 5}
    p1 = 0.772
    assert abs(np.mean(prong == 1) - p1) < 4 * np.sqrt(p1 * (1 - p1) / N_EVENTS)
    # visible tau mass between one pion and the tau (rounding of E - |p| at 1e-6 GeV)
    th = ak.zip({f: events[f"GenTauh_{f}"][:, 0] for f in ("pt", "eta", "E")})
    m2 = ak.to_numpy(th.E**2 - (th.pt * np.cosh(th.eta)) ** 2)
    assert np.all(m2 > (PION_MASS - 1e-3) ** 2) and np.all(m2 < TAU_MASS**2)


def test_forcing_settings_and_config_errors() -> None:
    channels = ((16, -211), (16, 11, -12), (16, 13, -14), (16, 111, -211))
    plus = tau_decay_settings(1, channels)
    assert plus == (
        "15:onMode = on",
        "15:0:onMode = 2",
        "15:1:onMode = 3",
        "15:2:onMode = 3",
        "15:3:onMode = 2",
    )
    minus = tau_decay_settings(-1, channels)
    assert minus[1:] == ("15:0:onMode = 3", "15:1:onMode = 2", "15:2:onMode = 2", "15:3:onMode = 3")
    with pytest.raises(ConfigError, match="lepton_charge"):
        tau_decay_settings(0, channels)
    with pytest.raises(ConfigError, match="process='ttbar'"):
        TauTauConfig("ttbar")
    with pytest.raises(ConfigError, match="tau decays"):
        TauTauConfig("signal", params=("15:onMode = off",))
    with pytest.raises(ConfigError, match="managed by hepnnlr"):
        TauTauConfig("signal", params=("Random:seed = 3",))
    with pytest.raises(ConfigError, match="tau_efficiency"):
        TauTauDetectorConfig(tau_efficiency=1.5)
    with pytest.raises(ConfigError, match=r"tau_energy_scale must be a number in \(0.5, 1.5\)"):
        make_tautau_sample("never.root", "signal", n_events=10, seed=1, tau_energy_scale=2.0)
    with pytest.raises(ConfigError, match="n_events"):
        generate_tautau(0, seed=1)


def test_energy_scale_is_paired_event_by_event(gen) -> None:
    nominal = simulate_tautau_detector(gen, tau_energy_scale=1.0, seed=9)
    raised = simulate_tautau_detector(gen, tau_energy_scale=1.1, seed=9)
    # efficiency and smearing draws do not depend on z: the same taus are found
    assert ak.all(ak.num(nominal.RecoTauh) == ak.num(raised.RecoTauh))
    found = ak.num(nominal.RecoTauh) == 1
    assert ak.sum(found) > 0.5 * N_EVENTS  # efficiency 0.7 in |eta| < 2.3
    a, b = nominal.RecoTauh[found][:, 0], raised.RecoTauh[found][:, 0]
    np.testing.assert_allclose(ak.to_numpy(b.pt / a.pt), 1.1, rtol=1e-12)
    np.testing.assert_allclose(ak.to_numpy(b.E / a.E), 1.1, rtol=1e-12)
    assert ak.all(b.eta == a.eta) and ak.all(b.phi == a.phi)
    assert ak.to_list(raised.RecoLepton) == ak.to_list(nominal.RecoLepton)

    # MET moves against the extra tau momentum: MET(1.1) - MET(1.0) = -0.1 pT(reco tau, 1.0)
    def met_vec(e):
        return np.stack([e.MET_pt * np.cos(e.MET_phi), e.MET_pt * np.sin(e.MET_phi)], axis=1)

    shift = ak.to_numpy(met_vec(raised) - met_vec(nominal))[ak.to_numpy(found)]
    expected = -0.1 * np.stack([a.pt * np.cos(a.phi), a.pt * np.sin(a.phi)], axis=1)
    np.testing.assert_allclose(shift, ak.to_numpy(expected), atol=1e-9)
    # another seed gives other smearing
    other = simulate_tautau_detector(gen, tau_energy_scale=1.0, seed=10)
    assert not ak.all(ak.num(other.RecoTauh) == ak.num(nominal.RecoTauh))


def test_detector_resolution_efficiency_and_per_event_scale(gen) -> None:
    config = TauTauDetectorConfig()
    reco = simulate_tautau_detector(gen, config, tau_energy_scale=(0.9, 1.1), seed=4)
    z = ak.to_numpy(reco.tau_energy_scale)
    assert np.all((z >= 0.9) & (z < 1.1))
    # uniform on (0.9, 1.1): mean 1, sd 0.2/sqrt(12); 4 sigma of the mean
    assert abs(z.mean() - 1.0) < 4 * 0.2 / np.sqrt(12 * N_EVENTS)
    found = ak.to_numpy(ak.num(reco.RecoTauh) == 1)
    accepted = np.abs(ak.to_numpy(gen.GenTauh.eta[:, 0])) < config.tau_eta_max
    assert not np.any(found & ~accepted)
    eff, n_acc = found[accepted].mean(), accepted.sum()
    assert abs(eff - config.tau_efficiency) < 4 * np.sqrt(0.7 * 0.3 / n_acc)  # binomial
    # response / z is the smearing factor: mean 1, sd sigma/E (a/sqrt(E) + c in quadrature)
    true = gen.GenTauh[found][:, 0]
    ratio = ak.to_numpy(reco.RecoTauh[found][:, 0].E / true.E) / z[found]
    sigma = np.hypot(config.tau_stochastic / np.sqrt(ak.to_numpy(true.E)), config.tau_constant)
    pulls = (ratio - 1.0) / sigma
    n = pulls.size
    assert abs(pulls.mean()) < 4 / np.sqrt(n)
    assert abs(pulls.std() - 1.0) < 4 / np.sqrt(2 * n)  # sd of a sample sd: 1/sqrt(2n)


def test_missing_fields_are_named(gen, tmp_path) -> None:
    with pytest.raises(MissingBranchError, match="GenSumEt"):
        simulate_tautau_detector(gen[[f for f in ak.fields(gen) if f != "GenSumEt"]], seed=1)
    with pytest.raises(MissingBranchError, match="tau_energy_scale"):
        write_tautau_events(tmp_path / "x.root", gen)
    with pytest.raises(ConfigError, match="seed"):
        simulate_tautau_detector(gen, seed=-1)
