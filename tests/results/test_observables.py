"""The results layer's filler of a description's observables, and a level's region."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepnnlr.analysis import AnalysisDescription
from hepnnlr.errors import ExpressionError, MissingBranchError, NonFiniteInputError
from hepnnlr.results.observables import fill_observables
from hepnnlr.workflows.unfold_inputs import parse_region, region_mask

DESCRIPTION = AnalysisDescription.from_mapping(
    {
        "name": "toy",
        "gen": {
            "features": {"ht": "sum(Jet.pt)"},
            "observables": {
                "lead": {"expr": "Jet.pt[:, 0]", "bins": {"n": 4, "start": 0, "stop": 40}},
                "pt": {"expr": "Jet.pt", "bins": [0, 10, 20, 40]},
                "n": {"expr": "num(Jet)", "bins": {"start": 0, "stop": 4, "integer": True}},
            },
            "region": "lead > 15 and n >= 2",
        },
    },
    where="toy",
)
# three events: two jets, none, one jet (lead None in the second)
OBSERVABLES = ak.Array(
    {"lead": [30.0, None, 12.0], "pt": [[30.0, 5.0], [], [12.0]], "n": [2, 0, 1]}
)


def test_filled_per_event_and_per_object_with_the_event_weight():
    weights = np.array([2.0, 3.0, 5.0])
    hists = fill_observables(DESCRIPTION.levels["gen"], OBSERVABLES, weights,
                             select=np.array([True, True, False]))  # fmt: skip
    # event 0 alone has values among the selected (event 1: lead None, no jets)
    np.testing.assert_array_equal(hists["lead"].values(), [0, 0, 0, 2.0])
    np.testing.assert_array_equal(hists["pt"].values(), [2.0, 0, 2.0])
    np.testing.assert_array_equal(hists["pt"].variances(), [4.0, 0, 4.0])
    np.testing.assert_array_equal(hists["n"].values(), [3.0, 0, 2.0, 0])
    assert hists["lead"].axes[0].name == "lead"


def test_bad_weights_and_missing_observables_are_named():
    level = DESCRIPTION.levels["gen"]
    with pytest.raises(NonFiniteInputError, match="1 selected event weight"):
        fill_observables(level, OBSERVABLES, np.array([1.0, np.nan, 1.0]))
    with pytest.raises(MissingBranchError, match=r"no 'n'.*observables=True"):
        fill_observables(level, OBSERVABLES[["lead", "pt"]], np.ones(3))


def test_region_is_read_round_trips_and_selects_on_observables():
    region = DESCRIPTION.levels["gen"].region
    assert region.to_text() == "lead > 15 and n >= 2"
    again = AnalysisDescription.from_mapping(DESCRIPTION.to_mapping(), where="toy")
    assert again.levels["gen"].region.to_text() == region.to_text()
    record = ak.zip({"ht": [35.0, 0.0, 12.0], "observables": OBSERVABLES}, depth_limit=1)
    np.testing.assert_array_equal(region_mask(record, region), [True, False, False])
    # the event features by name too; None (no leading jet) counts as outside
    np.testing.assert_array_equal(region_mask(record, parse_region("ht > 10")),
                                  [True, False, True])  # fmt: skip
    np.testing.assert_array_equal(region_mask(record, None), [True, True, True])
    with pytest.raises(ExpressionError, match=r"gen\.region"):
        AnalysisDescription.from_mapping(
            {"name": "bad", "gen": {"region": "eval(lead)"}}, where="bad"
        )


def test_the_processor_option_needs_columns():
    from hepnnlr.errors import ConfigError
    from hepnnlr.processors.analysis import AnalysisProcessor

    with pytest.raises(ConfigError, match="observables=True.*needs columns=True"):
        AnalysisProcessor(DESCRIPTION, columns=False, observables=True)
    with pytest.raises(ConfigError, match=r"observables=\.\.\.\) must be True or False"):
        AnalysisProcessor(DESCRIPTION, observables="yes")
