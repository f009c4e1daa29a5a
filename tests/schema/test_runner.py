"""run_processor: input checks before any work, executor choice, a small real run."""

from __future__ import annotations

import gc

import awkward as ak
import pytest
import uproot
from coffea import processor

from hepnnlr.errors import ConfigError, EmptySelectionError, InputFileError, MissingBranchError
from hepnnlr.schema import EXECUTORS, check_inputs, run_processor


class _SumWeights(processor.ProcessorABC):
    """Smallest useful processor: event count and sum of weights per dataset."""

    required_branches = ("weight", "nGenPart", "GenPart_pt")

    def process(self, events):
        return {
            events.metadata["dataset"]: {
                "events": len(events),
                "sumw": float(ak.sum(events.weight)),
                "particles": int(ak.sum(ak.num(events.GenPart))),
            }
        }

    def postprocess(self, accumulator):
        return accumulator


class _NeedsCharge(_SumWeights):
    required_branches = ("weight", "GenPart_charge", "RecoPart_charge")


@pytest.fixture(scope="module")
def file_totals(dis_sim_file):
    with uproot.open(dis_sim_file) as file:
        arrays = file["events"].arrays(["weight", "nGenPart"])
    return len(arrays), float(ak.sum(arrays.weight)), int(ak.sum(arrays.nGenPart))


def test_iterative_run_in_chunks(dis_sim_file, file_totals) -> None:
    n_events, sumw, n_particles = file_totals
    out = run_processor(
        _SumWeights(), {"sim": [dis_sim_file]}, chunksize=n_events // 3 + 1, progress=False
    )
    assert out["sim"]["events"] == n_events
    assert out["sim"]["sumw"] == pytest.approx(sumw, rel=1e-12)
    assert out["sim"]["particles"] == n_particles


def test_maxchunks_limits_the_run(dis_sim_file, file_totals) -> None:
    out = run_processor(
        _SumWeights(), {"sim": [dis_sim_file]}, chunksize=100, maxchunks=2, progress=False
    )
    assert out["sim"]["events"] == 200


def test_check_inputs_counts_entries(dis_sim_file, file_totals) -> None:
    entries = check_inputs({"sim": [dis_sim_file]}, branches=_SumWeights.required_branches)
    assert entries == {str(dis_sim_file): file_totals[0]}


def test_missing_file(tmp_path) -> None:
    missing = tmp_path / "nowhere" / "sim.root"
    with pytest.raises(InputFileError, match="does not exist") as error:
        run_processor(_SumWeights(), {"sim": [missing]}, progress=False)
    message = str(error.value)
    assert str(missing) in message and "'sim'" in message and "make_dis_sample" in message


def test_not_a_root_file(tmp_path) -> None:
    path = tmp_path / "notes.root"
    path.write_text("this is not a ROOT file\n")
    with pytest.raises(InputFileError, match="not a readable ROOT file") as error:
        run_processor(_SumWeights(), {"sim": [path]}, progress=False)
    assert str(path) in str(error.value)


def test_wrong_tree_name(dis_sim_file) -> None:
    with pytest.raises(InputFileError, match="has no tree 'Events'") as error:
        run_processor(_SumWeights(), {"sim": [dis_sim_file]}, treename="Events", progress=False)
    message = str(error.value)
    assert str(dis_sim_file) in message
    assert "['events']" in message  # the keys that are there
    assert "treename=" in message  # the fix


def test_tree_under_another_name(rewrite_events) -> None:
    path = rewrite_events("renamed.root", treename="tree")
    with pytest.raises(InputFileError, match=r"keys are \['tree'\]"):
        run_processor(_SumWeights(), {"sim": [path]}, progress=False)
    out = run_processor(_SumWeights(), {"sim": [path]}, treename="tree", progress=False)
    assert out["sim"]["events"] == 300


def test_rntuple_instead_of_ttree(rewrite_events) -> None:
    path = rewrite_events("rntuple.root", rntuple=True)
    with pytest.raises(InputFileError, match="not a TTree") as error:
        run_processor(_SumWeights(), {"sim": [path]}, progress=False)
    assert "mktree" in str(error.value)


def test_missing_branch(rewrite_events) -> None:
    path = rewrite_events("no_charge.root", drop=["RecoPart_charge"])
    with pytest.raises(MissingBranchError) as error:
        run_processor(_NeedsCharge(), {"sim": [path]}, progress=False)
    message = str(error.value)
    assert "['RecoPart_charge']" in message
    assert str(path) in message
    assert "Regenerate the file with hepnnlr.samples" in message
    # a processor that does not read the branch runs on the same file
    assert run_processor(_SumWeights(), {"sim": [path]}, progress=False)["sim"]["events"] == 300


def test_second_file_is_checked_too(dis_sim_file, tmp_path) -> None:
    missing = tmp_path / "second.root"
    with pytest.raises(InputFileError, match="second.root"):
        run_processor(_SumWeights(), {"sim": [dis_sim_file, missing]}, progress=False)


def test_empty_tree(rewrite_events) -> None:
    path = rewrite_events("empty.root", entry_stop=0)
    with pytest.raises(EmptySelectionError, match="hold no events"):
        run_processor(_SumWeights(), {"sim": [path]}, progress=False)


def test_unknown_executor_lists_the_valid_ones(dis_sim_file) -> None:
    with pytest.raises(ConfigError, match=r"\['iterative', 'futures', 'dask'\]"):
        run_processor(_SumWeights(), {"sim": [dis_sim_file]}, executor="parsl")
    assert EXECUTORS == ("iterative", "futures", "dask")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workers": 0}, "workers"),
        ({"chunksize": 0}, "chunksize"),
        ({"maxchunks": 0}, "maxchunks"),
        ({"scheduler_address": "tcp://127.0.0.1:8786"}, "only used by executor='dask'"),
    ],
)
def test_invalid_options(dis_sim_file, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        run_processor(_SumWeights(), {"sim": [dis_sim_file]}, **kwargs)


def test_invalid_fileset() -> None:
    with pytest.raises(ConfigError, match="non-empty mapping"):
        run_processor(_SumWeights(), {})
    with pytest.raises(ConfigError, match="lists no files"):
        run_processor(_SumWeights(), {"sim": []})


def test_dask_starts_and_closes_its_own_cluster(dis_sim_file, file_totals) -> None:
    from distributed.client import _get_global_client

    out = run_processor(
        _SumWeights(),
        {"sim": [dis_sim_file]},
        executor="dask",
        workers=1,
        chunksize=file_totals[0] // 2 + 1,
        progress=False,
    )
    assert out["sim"]["events"] == file_totals[0]
    assert out["sim"]["sumw"] == pytest.approx(file_totals[1], rel=1e-12)
    assert _get_global_client() is None  # the client (and its LocalCluster) are closed


def test_processor_must_be_a_processor(dis_sim_file) -> None:
    with pytest.raises(ConfigError, match="ProcessorABC"):
        run_processor("DISProcessor", {"sim": [dis_sim_file]})


def _array_cache_bytes_after_run(path, chunksize: int) -> tuple[int, int]:
    """Events processed and bytes held by uproot array caches after a run with the
    garbage collector off (the closed files of past chunks then stay alive in their
    reference cycles, as they do between two full collections)."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        out = run_processor(_SumWeights(), {"sim": [path]}, chunksize=chunksize, progress=False)
        held = sum(
            o.current for o in gc.get_objects() if isinstance(o, uproot.cache.LRUArrayCache)
        )
    finally:
        if enabled:
            gc.enable()
    return out["sim"]["events"], held


def test_chunks_are_read_without_the_uproot_array_cache(
    dis_sim_file, file_totals, monkeypatch
) -> None:
    """A chunk's arrays must not outlive the chunk (bounded memory, bench_memory.py)."""
    import hepnnlr.schema.runner as runner_module

    n_events = file_totals[0]
    chunksize = n_events // 4 + 1
    assert runner_module.UPROOT_OPTIONS["array_cache"] is None
    assert _array_cache_bytes_after_run(dis_sim_file, chunksize) == (n_events, 0)
    # control: with uproot's default cache, the chunks' arrays are still held
    monkeypatch.setattr(runner_module, "UPROOT_OPTIONS", {})
    events, held = _array_cache_bytes_after_run(dis_sim_file, chunksize)
    assert events == n_events and held > 0
