"""The Z -> jets description against ZJetsProcessor on the same file."""

from __future__ import annotations

import pytest
from hist_checks import assert_same_hists

from hepnnlr.analysis import get
from hepnnlr.processors import AnalysisProcessor, ZJetsProcessor
from hepnnlr.processors.chunks import collect_cutflow, collect_hists
from hepnnlr.samples.zjets import make_zjets_sample
from hepnnlr.schema import run_processor


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    # 300 events (~1 s): a few events without jets or with one jet come up at this size
    path = make_zjets_sample(
        tmp_path_factory.mktemp("zjets_analysis") / "z.root", n_events=300, seed=3,
        theta_ranges={"alphaS": (0.10, 0.16)}, progress=False,
    )  # fmt: skip
    fileset = {"z": [str(path)]}
    return tuple(
        run_processor(processor, fileset, chunksize=150, progress=False)
        for processor in (AnalysisProcessor(get("zjets"), columns=False), ZJetsProcessor())
    )


def test_zjets_description_gives_the_histograms_of_zjets_processor(outputs) -> None:
    generic, dedicated = (collect_hists(out) for out in outputs)
    assert generic.keys() == dedicated.keys() == {"gen", "reco"}
    # the same values; ZJetsProcessor fills all leading jets, then all subleading ones, the
    # description event by event: every weight is 1.0, so the sums are exact whatever the
    # order
    assert_same_hists(generic, dedicated)


def test_zjets_description_gives_the_cut_flow_of_zjets_processor(outputs) -> None:
    generic, dedicated = (collect_cutflow(out) for out in outputs)
    for key in ("events", "pass_gen", "pass_reco", "pass_both"):
        assert generic[key] == dedicated[key], key
    for level in ("gen", "reco"):
        # the description counts the events that pass; ZJetsProcessor those that fail
        for passing, failing in (("particles", "no_particles"), ("one_jet", "no_jets"),
                                 ("two_jets", "lt2_jets")):  # fmt: skip
            assert (
                generic[f"{level}_{passing}"] == generic["events"] - dedicated[f"{level}_{failing}"]
            ), (level, passing)
