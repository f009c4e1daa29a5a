"""Shared fixtures: small real Pythia DIS samples written once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest
from hist_checks import assert_same_hists

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

    Cutflows (per dataset) and collected columns exactly; histograms (values and
    variances, flow bins included) dataset by dataset to ``rtol``, since the merge order
    of the executors changes float sums (and the order of the dataset categories).
    """
    import awkward as ak
    import numpy as np

    from hepnnlr.observables.dataset_histos import datasets_of, select_dataset

    def check(outputs, collect, *, levels, rtol):
        reference = outputs["iterative"]
        reference_columns = collect(reference)
        datasets = datasets_of(reference["hists"])
        assert datasets == sorted(reference["cutflow"])
        for executor in ("futures", "dask"):
            out = outputs[executor]
            assert out["cutflow"] == reference["cutflow"], executor
            assert datasets_of(out["hists"]) == datasets, executor
            for dataset in datasets:
                for level in levels:
                    for name, h in select_dataset(reference["hists"][level], dataset).items():
                        other = select_dataset(out["hists"][level][name], dataset)
                        assert other.axes == h.axes
                        np.testing.assert_allclose(
                            other.values(flow=True), h.values(flow=True), rtol=rtol
                        )
                        np.testing.assert_allclose(
                            other.variances(flow=True), h.variances(flow=True), rtol=rtol
                        )
            assert ak.array_equal(collect(out), reference_columns), executor

    return check


@pytest.fixture(scope="session")
def assert_datasets_apart():
    """``check(make, fileset, chunksize=...)``: run ``make()`` once over a fileset of
    several datasets (iterative executor) and once over each dataset alone, and check
    that the datasets never mix: the cut-flow has one entry per dataset, equal to the
    lone run's; each dataset's histograms (``h[{"dataset": name}]``) equal the lone
    run's exactly (values and variances, flow bins: the other datasets only add zeros
    to a dataset's row); each dataset's columns equal the lone run's; and reading back
    without naming a dataset is refused with the datasets' names. Returns the combined
    output."""
    import re

    import awkward as ak

    from hepnnlr.errors import ConfigError
    from hepnnlr.observables.dataset_histos import datasets_of
    from hepnnlr.processors.chunks import collect_columns, collect_cutflow, collect_hists
    from hepnnlr.schema import run_processor

    def check(make, fileset, *, chunksize):
        names = sorted(fileset)
        assert len(names) > 1
        together = run_processor(make(), fileset, chunksize=chunksize, progress=False)
        assert sorted(together["cutflow"]) == names
        assert datasets_of(together["hists"]) == names
        for collect in (collect_cutflow, collect_hists, collect_columns):
            with pytest.raises(ConfigError, match=re.escape(str(names))):
                collect(together)
        for dataset, files in fileset.items():
            alone = run_processor(make(), {dataset: files}, chunksize=chunksize, progress=False)
            assert list(alone["cutflow"]) == [dataset]
            assert together["cutflow"][dataset] == alone["cutflow"][dataset]
            assert collect_cutflow(together, dataset) == collect_cutflow(alone)
            assert_same_hists(collect_hists(together, dataset), collect_hists(alone))
            assert ak.array_equal(collect_columns(together, dataset), collect_columns(alone))
        return together

    return check
