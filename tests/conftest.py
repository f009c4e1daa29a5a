"""Shared fixtures: small real Pythia DIS samples written once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from hepnnlr.samples import make_dis_sample

DIS_FILE_EVENTS = 1500
"""Events in each session sample; enough for distributions, cheap to generate (~1 s)."""


@pytest.fixture(scope="session")
def dask_cluster():
    """One two-worker dask LocalCluster for every dask run of the test session."""
    from dask.distributed import LocalCluster

    # dashboard on a free port: concurrent test sessions would collide on 8787
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def run_every_executor(dask_cluster):
    """``run(processor, fileset, chunksize=...)`` → ``{executor: output}`` for the iterative,
    futures (2 workers) and dask (the session's 2-worker cluster) executors."""
    from hepnnlr.schema import EXECUTORS, run_processor

    def run(processor, fileset, *, chunksize):
        return {
            executor: run_processor(
                processor,
                fileset,
                executor=executor,
                workers=2,
                chunksize=chunksize,
                progress=False,
                scheduler_address=dask_cluster.scheduler_address if executor == "dask" else None,
            )
            for executor in EXECUTORS
        }

    return run


@pytest.fixture(scope="session")
def dis_sim_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ROOT file with 1,500 "sim" events (seed 1) through the default detector."""
    path = tmp_path_factory.mktemp("dis") / "dis_sim.root"
    return make_dis_sample(path, "sim", n_events=DIS_FILE_EVENTS, seed=1, progress=False)


@pytest.fixture(scope="session")
def dis_data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ROOT file with 1,500 "data" events (seed 2) through the default detector."""
    path = tmp_path_factory.mktemp("dis") / "dis_data.root"
    return make_dis_sample(path, "data", n_events=DIS_FILE_EVENTS, seed=2, progress=False)


@pytest.fixture(scope="session")
def dis_sim_other_seed_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ROOT file with 1,500 "sim" events of another seed (3): pseudo-data for closure tests."""
    path = tmp_path_factory.mktemp("dis") / "dis_sim_seed3.root"
    return make_dis_sample(path, "sim", n_events=DIS_FILE_EVENTS, seed=3, progress=False)


@pytest.fixture(scope="session")
def assert_executors_agree():
    """Check that processor outputs under every executor equal the iterative one.

    Cutflows and collected columns exactly; histograms (values and variances, flow bins
    included) to ``rtol``, since the merge order of the executors changes float sums.
    """
    import awkward as ak
    import numpy as np

    def check(outputs, collect, *, levels, rtol):
        reference = outputs["iterative"]
        reference_columns = collect(reference)
        for executor in ("futures", "dask"):
            out = outputs[executor]
            assert out["cutflow"] == reference["cutflow"], executor
            for level in levels:
                for name, h in reference["hists"][level].items():
                    other = out["hists"][level][name]
                    assert other.axes == h.axes
                    np.testing.assert_allclose(other.values(flow=True),
                                               h.values(flow=True), rtol=rtol)
                    np.testing.assert_allclose(other.variances(flow=True),
                                               h.variances(flow=True), rtol=rtol)
            assert ak.array_equal(collect(out), reference_columns), executor

    return check
