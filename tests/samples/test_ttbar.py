"""Tests of the tt̄ sample: hepnnlr.samples.ttbar and hepnnlr.samples.ttbar_reco."""

from __future__ import annotations

import math

import awkward as ak
import numpy as np
import pytest
import uproot

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.samples.rootio import check_event_file
from hepnnlr.samples.ttbar import TTbarConfig, generate_ttbar, muon_charge_of_block
from hepnnlr.samples.ttbar_reco import (
    TTBAR_REQUIRED_BRANCHES,
    TTbarDetectorConfig,
    cluster_gen_jets,
    make_ttbar_sample,
    write_ttbar_events,
)

N_EVENTS = 300
BLOCK = 150  # two blocks: one with mu+, one with mu-


@pytest.fixture(scope="module")
def ttbar_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("ttbar") / "tt.root"
    make_ttbar_sample(
        path, n_events=N_EVENTS, seed=5, top_mass=175.0, progress=False, block_size=BLOCK
    )
    return str(path)


@pytest.fixture(scope="module")
def events(ttbar_file) -> ak.Array:
    with uproot.open(ttbar_file) as file:
        return file["events"].arrays()


def test_file_has_every_branch(ttbar_file, events) -> None:
    assert check_event_file(ttbar_file, branches=TTBAR_REQUIRED_BRANCHES) == N_EVENTS
    assert np.all(events.event == np.arange(N_EVENTS))
    assert np.all(events.top_mass == 175.0)
    assert np.all(events.weight == 1.0)
    assert np.all(events.nGenMuon == 1) and np.all(events.nGenNeutrino == 1)


def test_one_muonic_w_with_block_charges(events) -> None:
    charge = ak.to_numpy(ak.firsts(events.GenMuon_charge))
    block = np.arange(N_EVENTS) // BLOCK
    expected = np.array([muon_charge_of_block(b) for b in block])
    assert np.all(charge == expected)
    assert muon_charge_of_block(0) == 1 and muon_charge_of_block(1) == -1
    # m(mu nu) is the W line shape: width 2.1 GeV, so the median is at m_W within ~0.3
    # (300 events: error of the median ~ 1.25 * 2.1 / sqrt(300) * Breit-Wigner tails)
    mu = ak.zip({f: events[f"GenMuon_{f}"] for f in ("pt", "eta", "phi", "E")})[:, 0]
    nu = ak.zip({f: events[f"GenNeutrino_{f}"] for f in ("pt", "eta", "phi", "E")})[:, 0]
    px = mu.pt * np.cos(mu.phi) + nu.pt * np.cos(nu.phi)
    py = mu.pt * np.sin(mu.phi) + nu.pt * np.sin(nu.phi)
    pz = mu.pt * np.sinh(mu.eta) + nu.pt * np.sinh(nu.eta)
    m = np.sqrt((mu.E + nu.E) ** 2 - px**2 - py**2 - pz**2)
    # the muon after QED radiation, so the W peak has a low tail: median within 1.5 GeV
    assert abs(np.median(ak.to_numpy(m)) - 80.4) < 1.5
    # GenPart excludes the W muon and every neutrino
    pdg = np.abs(ak.to_numpy(ak.flatten(events.GenPart_pdgId)))
    assert not np.isin(pdg, (12, 14, 16)).any()


def test_b_hadrons_and_gen_jet_tagging(events) -> None:
    # two t -> W b decays give two weakly decaying b hadrons; t -> W s, W d (|V_ts|²,
    # |V_td|² ~ 0.2% per top) leave one: allow 2% of events with fewer than two
    assert np.mean(events.nGenB >= 2) > 0.98
    pdg = np.abs(ak.to_numpy(ak.flatten(events.GenB_pdgId)))
    assert np.all(((pdg // 100) % 10 == 5) | ((pdg // 1000) % 10 == 5))
    eta = ak.flatten(events.GenJet_eta)
    tagged = ak.to_numpy(ak.flatten(events.GenJet_btag))
    assert not np.any(tagged & (np.abs(ak.to_numpy(eta)) >= 2.5))
    assert np.all(ak.flatten(events.GenJet_pt) >= 10.0)
    # about two b-tagged gen jets per event (b hadrons inside the tracker, in a jet)
    assert 1.3 < ak.mean(ak.sum(events.GenJet_btag, axis=1)) < 2.3


def test_reco_level(events) -> None:
    reco_eta = ak.to_numpy(ak.flatten(events.RecoJet_eta))
    reco_tag = ak.to_numpy(ak.flatten(events.RecoJet_btag))
    assert not np.any(reco_tag & (np.abs(reco_eta) >= 2.5))
    # tagged reco jets / tagged gen jets ~ efficiency 0.7 (+ a few mistags, - pT migration)
    ratio = ak.sum(events.RecoJet_btag) / ak.sum(events.GenJet_btag)
    assert 0.6 < ratio < 0.8  # ~600 tagged jets: binomial error 0.02
    # muons: |eta| < 2.5 and efficiency 0.95
    assert np.all(np.abs(ak.flatten(events.RecoMuon_eta)) < 2.5)
    in_acceptance = ak.sum(np.abs(events.GenMuon_eta) < 2.5)
    assert ak.sum(events.nRecoMuon) / in_acceptance == pytest.approx(0.95, abs=0.05)
    # jet response: median reco/gen pT of the leading jet ~ 0.98
    both = (events.nRecoJet > 0) & (events.nGenJet > 0)
    lead_reco = ak.to_numpy(events.RecoJet_pt[both][:, 0])
    lead_gen = ak.to_numpy(events.GenJet_pt[both][:, 0])
    assert np.median(lead_reco / lead_gen) == pytest.approx(0.98, abs=0.03)
    # MET follows the neutrino
    met_x = ak.to_numpy(events.MET_pt * np.cos(events.MET_phi))
    gen_x = ak.to_numpy(events.GenMET_pt * np.cos(events.GenMET_phi))
    assert np.corrcoef(met_x, gen_x)[0, 1] > 0.7


def test_independent_of_workers() -> None:
    one = generate_ttbar(60, seed=9, block_size=20, workers=1)
    two = generate_ttbar(60, seed=9, block_size=20, workers=2)
    for name in ("GenPart", "GenB", "GenMuon"):
        assert ak.all(ak.flatten(one[name].pt) == ak.flatten(two[name].pt))


def test_gen_jets_do_not_depend_on_the_clustering_chunks() -> None:
    """Gen jets are clustered a chunk of events at a time (FastJet keeps every event's
    history until its sequence is dropped); each event's jets are the same bit for bit
    whatever the chunk size, an empty sample included."""
    events = generate_ttbar(60, seed=9, block_size=20)
    whole = cluster_gen_jets(events, chunk_size=1_000)
    for chunk_size in (7, 1):
        chunked = cluster_gen_jets(events, chunk_size=chunk_size)
        assert ak.to_list(chunked) == ak.to_list(whole)
    assert len(cluster_gen_jets(events[:0])) == 0
    with pytest.raises(ConfigError, match="chunk_size"):
        cluster_gen_jets(events, chunk_size=0)


def test_bad_configs() -> None:
    with pytest.raises(ConfigError, match="top_mass"):
        TTbarConfig(top_mass=50.0)
    with pytest.raises(ConfigError, match="W decays"):
        TTbarConfig(params=("24:onIfAny = 11",))
    with pytest.raises(ConfigError, match="Random"):
        TTbarConfig(params=("Random:seed = 3",))
    with pytest.raises(ConfigError, match="btag_efficiency"):
        TTbarDetectorConfig(btag_efficiency=1.5)
    with pytest.raises(ConfigError, match="no setting"):
        generate_ttbar(1, seed=1, config=TTbarConfig(params=("Top:nonsense = on",)))
    with pytest.raises(MissingBranchError, match="simulate_ttbar_detector"):
        write_ttbar_events("unused.root", generate_ttbar(2, seed=1))


def test_gen_btag_is_a_b_hadron_of_the_record_in_the_jet(events) -> None:
    """Gen-level b-tag, recomputed jet by jet from the generator record (``GenB``).

    The definition (hepnnlr.samples.ttbar_reco docstring): a gen jet is tagged iff a
    weakly decaying b hadron with pT > 5 GeV lies within ΔR < 0.4 of its axis and
    |η_jet| < 2.5. Checked here with plain Python on every jet of the 300 events; both
    directions (every tagged jet holds such a b hadron, every untagged one in the tracker
    holds none). The only tolerance is for ΔR within 1e-9 of the cone edge (none occur in
    practice; float64 rounding of two ΔR formulas).
    """
    n_tagged = n_checked = 0
    fields = ["GenJet_eta", "GenJet_phi", "GenJet_btag"]
    fields += ["GenB_pt", "GenB_eta", "GenB_phi", "GenB_pdgId"]
    for event in ak.to_list(events[fields]):
        b_record = zip(
            event["GenB_pt"], event["GenB_eta"], event["GenB_phi"], event["GenB_pdgId"], strict=True
        )
        b_hadrons = [
            (eta, phi)
            for pt, eta, phi, pdg in b_record
            if pt > 5.0 and ((abs(pdg) // 100) % 10 == 5 or (abs(pdg) // 1000) % 10 == 5)
        ]
        for eta, phi, tagged in zip(
            event["GenJet_eta"], event["GenJet_phi"], event["GenJet_btag"], strict=True
        ):
            distances = [
                math.hypot(eta - b_eta, math.remainder(phi - b_phi, 2 * math.pi))
                for b_eta, b_phi in b_hadrons
            ]
            if any(abs(d - 0.4) < 1e-9 for d in distances):
                continue
            expected = abs(eta) < 2.5 and any(d < 0.4 for d in distances)
            assert tagged == expected, (eta, phi, distances)
            n_tagged += tagged
            n_checked += 1
    # a real number of jets of both kinds was checked (~2 tagged jets per event)
    assert n_tagged > 300 and n_checked - n_tagged > 300
