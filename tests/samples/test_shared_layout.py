"""The branch-name rule and the detector-field merge that every sample module shares."""

from __future__ import annotations

import awkward as ak
import numpy as np

from hepnnlr.samples.detector import with_detector_fields
from hepnnlr.samples.dis import setting_lines
from hepnnlr.samples.rootio import REQUIRED_BRANCHES, collection_branches, required_branches


def test_branches_are_the_flat_ones_then_each_collections_counter_and_fields():
    assert collection_branches("Jet", ("pt", "eta")) == ("nJet", "Jet_pt", "Jet_eta")
    assert required_branches(("event", "weight"), {"Mu": ("pt",), "Jet": ("pt", "eta")}) == (
        "event", "weight", "nMu", "Mu_pt", "nJet", "Jet_pt", "Jet_eta",
    )  # fmt: skip
    assert REQUIRED_BRANCHES[:2] == ("event", "weight") and "nGenPart" in REQUIRED_BRANCHES


def test_detector_fields_follow_the_gen_fields_and_replace_same_named_ones():
    events = ak.zip({"event": np.arange(3), "MET_pt": np.zeros(3)}, depth_limit=1)
    out = with_detector_fields(events, {"MET_pt": np.ones(3), "Reco": [[1.0], [], [2.0, 3.0]]})
    assert ak.fields(out) == ["event", "MET_pt", "Reco"]
    assert ak.to_list(out.MET_pt) == [1.0, 1.0, 1.0]
    assert ak.to_list(ak.num(out.Reco)) == [1, 0, 2]


def test_a_single_setting_string_is_one_line():
    assert setting_lines("A:b = 1") == ("A:b = 1",)
    assert setting_lines(["A:b = 1", "C:d = 2"]) == ("A:b = 1", "C:d = 2")
