"""hepnnlr's jets on real CMS files (read-only, tests/shared_data.py) through coffea's
schemas: the observables take NanoEvents collections as they come."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
from coffea.nanoevents import NanoEventsFactory, PFNanoAODSchema
from shared_data import shared_data_file

from hepnnlr.errors import NonFiniteInputError
from hepnnlr.observables.jets import JetConfig, cluster_jets, cluster_jets_with_constituents


@pytest.fixture(scope="module")
def pfnano() -> ak.Array:
    """The 10 events of the CMS PFNano file, eager NanoEvents."""
    path = shared_data_file("pfnano.root")
    return NanoEventsFactory.from_root(
        {str(path): "Events"}, schemaclass=PFNanoAODSchema, mode="eager"
    ).events()


def test_ak8_puppi_jets_reproduce_the_cms_fatjets_raw_pt(pfnano) -> None:
    """AK8 anti-kT jets clustered by hepnnlr from the PFCands, each four-momentum scaled by
    its puppiWeight, are CMS's FatJets: every FatJet with raw pT = pt·(1 − rawFactor) above
    170 GeV has a hepnnlr jet within ΔR < 0.05 whose pT agrees to 1 % (CMS stores the
    candidates and the jets in reduced float precision, and PFCands keeps only the
    candidates of jets: the fact of the data folder's README)."""
    jets = cluster_jets(
        pfnano.PFCands, JetConfig("antikt", 0.8, 150.0), weight="puppiWeight", what="PFCands"
    )
    fatjets = pfnano.FatJet[pfnano.FatJet.pt * (1 - pfnano.FatJet.rawFactor) > 170.0]
    raw_pt = fatjets.pt * (1 - fatjets.rawFactor)
    pairs = ak.cartesian({"cms": fatjets, "ours": jets}, nested=True)
    distance = pairs.cms.delta_r(pairs.ours)
    nearest = ak.argmin(distance, axis=2, keepdims=True)
    matched = ak.flatten(pairs.ours[nearest], axis=2)
    assert ak.sum(ak.num(fatjets)) >= 20  # a real number of jets is compared
    assert ak.all(ak.flatten(distance[nearest], axis=2) < 0.05)
    ratio = ak.to_numpy(ak.flatten(matched.pt / raw_pt))
    np.testing.assert_array_less(np.abs(ratio - 1.0), 0.01)
    # the jets are vector Momentum4D: mass and ΔR work like coffea's
    assert ak.all(ak.flatten(jets.mass) >= 0)
    leading = jets[:, 0]  # every event has a jet above 150 GeV
    assert ak.all(leading.deltaR(leading) == 0)
    assert ak.all(jets.deltaR(leading) < 10)  # broadcast over each event's jets


def test_constituents_are_the_cms_candidates(pfnano) -> None:
    """The constituents are the PFCands records themselves (every field), and the weighted
    sum of their momenta is the jet's."""
    events = pfnano[:3]
    jets = cluster_jets_with_constituents(
        events.PFCands, JetConfig("antikt", 0.8, 150.0), weight="puppiWeight"
    )
    members = jets.constituents
    assert "puppiWeight" in ak.fields(members) and "pdgId" in ak.fields(members)
    assert ak.all(members.puppiWeight > 0)  # zero-weighted candidates are no constituents
    px = ak.sum(members.pt * np.cos(members.phi) * members.puppiWeight, axis=2)
    # float32 candidates summed in another order: 1e-4 relative of a TeV jet
    np.testing.assert_allclose(
        ak.to_numpy(ak.flatten(px)), ak.to_numpy(ak.flatten(jets.px)), rtol=1e-4, atol=1e-2
    )


def test_nanoaod_beam_partons_are_named(pfnano) -> None:
    """NanoAOD GenPart-like candidates with pT = 0 (incoming partons, |η| ~ 2e4) have no
    finite pz: the error says so and how to select the final state."""
    nano = shared_data_file("nano_dy.root")
    from coffea.nanoevents import NanoAODSchema

    events = NanoEventsFactory.from_root(
        {str(nano): "Events"}, schemaclass=NanoAODSchema, mode="eager"
    ).events()
    with pytest.raises(NonFiniteInputError, match=r"GenPart.*pT = 0.*status == 1"):
        cluster_jets(events.GenPart, what="GenPart")
    final = events.GenPart[events.GenPart.status == 1]
    assert ak.sum(ak.num(cluster_jets(final, JetConfig("antikt", 0.4, 5.0)))) > 0
