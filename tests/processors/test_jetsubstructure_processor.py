"""JetSubstructureProcessor on the real CMS files (PFNano and NanoAOD) with coffea's
schemas, under the iterative, futures and 2-worker dask executors."""

from __future__ import annotations

import numpy as np
import pytest
from shared_data import shared_data_file

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.observables.jets import JetConfig
from hepnnlr.processors.jetsubstructure import JetSubstructureProcessor
from hepnnlr.schema import EXECUTORS, run_processor


def _fileset() -> dict:
    """PFNano's PUPPI candidates and, from the NanoAOD file, its final-state GenPart (the
    collection chosen per dataset with coffea's fileset metadata)."""
    return {
        "qcd": [str(shared_data_file("pfnano.root"))],
        "dy": {
            "files": {str(shared_data_file("nano_dy.root")): "Events"},
            "metadata": {"collection": "GenPart", "weight": None, "status": 1},
        },
    }


def _processor() -> JetSubstructureProcessor:
    return JetSubstructureProcessor(
        "PFCands", weight="puppiWeight", jets=JetConfig("antikt", 0.8, 20.0)
    )


@pytest.fixture(scope="module")
def outputs(dask_cluster) -> dict:
    """One output per executor; the PFNano schema reads both files (it extends NanoAOD's)."""
    return {
        executor: run_processor(
            _processor(),
            _fileset(),
            executor=executor,
            workers=2,
            scheduler_address=dask_cluster.scheduler_address if executor == "dask" else None,
            schema="pfnano",
            treename="Events",
            chunksize=10,  # NanoAOD file: 4 chunks, merged by each executor
            progress=False,
        )
        for executor in EXECUTORS
    }


def test_identical_histograms_under_every_executor(outputs) -> None:
    reference = outputs["iterative"]
    for executor, out in outputs.items():
        assert out["cutflow"] == reference["cutflow"], executor
        for name, h in reference["hists"].items():
            other = out["hists"][name]
            assert list(other.axes["dataset"]) and set(other.axes["dataset"]) == {"qcd", "dy"}
            for dataset in ("qcd", "dy"):
                mine, theirs = other[{"dataset": dataset}], h[{"dataset": dataset}]
                np.testing.assert_array_equal(mine.values(flow=True), theirs.values(flow=True))
                np.testing.assert_array_equal(
                    mine.variances(flow=True), theirs.variances(flow=True)
                )


def test_datasets_are_kept_apart(outputs) -> None:
    out = outputs["iterative"]
    assert out["cutflow"]["qcd"]["events"] == 10 and out["cutflow"]["dy"]["events"] == 40
    n_jets = out["hists"]["n_jets"]
    for dataset, events in (("qcd", 10), ("dy", 40)):
        assert n_jets[{"dataset": dataset}].sum(flow=True).value == events
    # every PFNano event has AK8 jets above 20 GeV (boosted QCD); the jets of the two
    # datasets differ, so a summed histogram could not equal either
    assert out["cutflow"]["qcd"]["jets"] == 10
    pt = out["hists"]["pt"]
    assert pt[{"dataset": "qcd"}].sum().value != pt[{"dataset": "dy"}].sum().value


def test_a_collection_the_file_lacks_is_named() -> None:
    fileset = {"qcd": [str(shared_data_file("pfnano.root"))]}
    with pytest.raises(MissingBranchError, match=r"'qcd'.*pfnano.root.*'PFCandidates'.*PFCands"):
        run_processor(
            JetSubstructureProcessor("PFCandidates"),
            fileset,
            schema="pfnano",
            treename="Events",
            progress=False,
        )
    with pytest.raises(ConfigError, match="collection"):
        JetSubstructureProcessor("")
