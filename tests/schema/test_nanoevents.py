"""HepnnlrSchema on real Pythia event files."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import uproot
from coffea.nanoevents import NanoEventsFactory

from hepnnlr.schema import HepnnlrSchema, collection_mixin

COLLECTIONS = ("GenElectron", "GenPart", "RecoElectron", "RecoPart")
FLAT = ("event", "weight", "gen_Q2", "gen_x", "gen_y", "pass_gen", "pass_reco")


def _events(path, mode: str = "eager"):
    return NanoEventsFactory.from_root(
        {str(path): "events"}, schemaclass=HepnnlrSchema, mode=mode
    ).events()


@pytest.fixture(scope="module")
def events(dis_sim_file):
    return _events(dis_sim_file)


@pytest.fixture(scope="module")
def branches(dis_sim_file):
    with uproot.open(dis_sim_file) as file:
        return file["events"].arrays()


def test_collections_and_flat_fields(events, branches) -> None:
    assert set(events.fields) == set(COLLECTIONS) | set(FLAT)
    assert not any(f.startswith("n") and f[1:] in COLLECTIONS for f in events.fields)
    for name in COLLECTIONS:
        members = sorted(k[len(name) + 1 :] for k in branches.fields if k.startswith(name + "_"))
        assert sorted(events[name].fields) == members
        assert ak.num(events[name]).tolist() == branches["n" + name].tolist()
        for field in members:
            assert ak.all(events[name][field] == branches[f"{name}_{field}"])
    for name in FLAT:
        assert ak.all(events[name] == branches[name])


def test_lorentz_vector_behaviour(events) -> None:
    parts = events.GenPart
    assert parts.layout.content.parameter("__record__") == "PtEtaPhiECandidate"
    electron_record = events.RecoElectron.layout.content.parameter("__record__")
    assert electron_record == "PtEtaPhiELorentzVector"
    pt, phi, eta, energy = (
        ak.values_astype(parts[f], np.float64) for f in ("pt", "phi", "eta", "E")
    )
    # float32 branches: compare at single precision
    assert ak.all(abs(parts.px - pt * np.cos(phi)) <= 1e-5 * pt + 1e-6)
    assert ak.all(abs(parts.pz - pt * np.sinh(eta)) <= 1e-5 * abs(pt * np.cosh(eta)) + 1e-6)
    # charged pions below 10 GeV: the mass comes back from (pt, eta, phi, E) despite the
    # float32 storage (relative rounding 1e-7 of E² − p² gives < 5 MeV here)
    pions = parts[(abs(parts.pdgId) == 211) & (parts.E < 10.0)]
    assert ak.sum(ak.num(pions)) > 100
    np.testing.assert_allclose(ak.to_numpy(ak.flatten(pions.mass)), 0.13957, atol=5e-3)
    np.testing.assert_allclose(
        ak.to_numpy(ak.flatten(parts.energy)), ak.to_numpy(ak.flatten(energy)), rtol=1e-6
    )
    gen_e, reco_e = ak.firsts(events.GenElectron), ak.firsts(events.RecoElectron)
    both = ~ak.is_none(gen_e) & ~ak.is_none(reco_e)
    dphi = gen_e[both].delta_phi(reco_e[both])
    expected = (gen_e[both].phi - reco_e[both].phi + np.pi) % (2 * np.pi) - np.pi
    np.testing.assert_allclose(ak.to_numpy(dphi), ak.to_numpy(expected), atol=1e-12)
    # candidates add as four-vectors and sum their charges
    summed = ak.sum(parts, axis=1)
    assert ak.all(summed.charge == ak.sum(parts.charge, axis=1))


def test_virtual_mode_reads_lazily(dis_sim_file, branches) -> None:
    events = _events(dis_sim_file, mode="virtual")
    assert ak.sum(ak.num(events.RecoPart)) == ak.sum(branches["nRecoPart"])


def test_no_event_id_branches_needed(rewrite_events) -> None:
    path = rewrite_events("no_ids.root", drop=["event"])
    events = _events(path)
    assert "event" not in events.fields
    assert len(events) == 300
    assert ak.all(events.GenPart.pt > 0)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"pt", "eta", "phi", "E", "charge", "pdgId"}, "PtEtaPhiECandidate"),
        ({"pt", "eta", "phi", "E"}, "PtEtaPhiELorentzVector"),
        ({"pt", "eta", "phi", "mass"}, "PtEtaPhiMLorentzVector"),
        ({"pt", "eta", "phi", "mass", "charge"}, "PtEtaPhiMCandidate"),
        ({"x", "y"}, None),
    ],
)
def test_collection_mixin(fields: set[str], expected: str | None) -> None:
    assert collection_mixin(frozenset(fields)) == expected
