"""run_processor: input checks before any work, executor choice, a small real run."""

from __future__ import annotations

import gc

import awkward as ak
import pytest
import uproot
from coffea import processor

from hepnnlr.errors import ConfigError, EmptySelectionError, InputFileError, MissingBranchError
from hepnnlr.schema import EXECUTORS, SKIPPED_FILES_KEY, check_inputs, run_processor


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
        ({"skipbadfiles": "yes"}, "skipbadfiles must be True or False"),
        ({"retries": -1}, "retries must be None"),
        ({"retries": True}, "retries must be None"),
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
        held = sum(o.current for o in gc.get_objects() if isinstance(o, uproot.cache.LRUArrayCache))
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


# --- coffea's fileset forms, schemas, remote files, skipbadfiles and retries ---------------

# coffea's NanoAOD schemas warn about cross-references these small CMS test files lack
_NANOAOD_WARNINGS = (
    pytest.mark.filterwarnings("ignore:Missing cross-reference index:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:Branch .* already exists:RuntimeWarning"),
)

REMOTE = "root://nonexistent.invalid//x.root"
"""A URL that cannot open here (no network, and the .invalid domain never resolves)."""


class _CountPerDataset(processor.ProcessorABC):
    """Events and chunks per dataset, as every chunk's ``events.metadata`` names them, and
    the user metadata the chunks saw."""

    def process(self, events):
        meta = events.metadata
        dataset = meta["dataset"]
        user = {k: v for k, v in meta.items() if k in ("xsec", "era")}
        return {
            "events": {dataset: len(events)},
            "chunks": {dataset: 1},
            "trees": {dataset: {meta["treename"]}},
            "metadata": {dataset: {(k, v) for k, v in user.items()}},
        }

    def postprocess(self, accumulator):
        return accumulator


def _run(fileset, **kwargs):
    return run_processor(_CountPerDataset(), fileset, progress=False, **kwargs)


def test_a_single_path_per_dataset(rewrite_events) -> None:
    path = rewrite_events("single.root")
    assert _run({"sim": path})["events"] == {"sim": 300}


def test_dict_form_reads_each_file_with_its_own_tree(
    file_totals, dis_sim_file, rewrite_events
) -> None:
    renamed = rewrite_events("renamed.root", treename="tree")
    fileset = {"sim": {"files": {dis_sim_file: "events", renamed: "tree"}}}
    out = _run(fileset, treename="Events")  # the trees the fileset names win
    assert out["events"] == {"sim": file_totals[0] + 300}
    assert out["trees"] == {"sim": {"events", "tree"}}
    assert check_inputs(fileset, treename="Events") == {
        str(dis_sim_file): file_totals[0],
        str(renamed): 300,
    }


def test_dict_form_with_a_list_of_files_and_a_dataset_treename(rewrite_events) -> None:
    renamed = rewrite_events("renamed.root", treename="tree")
    out = _run({"sim": {"files": [renamed], "treename": "tree"}})
    assert out["events"] == {"sim": 300}
    # without the dataset's treename, the list is read with treename=
    assert _run({"sim": {"files": [renamed]}}, treename="tree")["events"] == {"sim": 300}


def test_dataset_metadata_reaches_every_chunk(rewrite_events) -> None:
    path = rewrite_events("meta.root")
    fileset = {"sim": {"files": [path], "metadata": {"xsec": 1.5, "era": "2018"}}}
    out = _run(fileset, chunksize=100)
    assert out["chunks"] == {"sim": 3}
    assert out["metadata"] == {"sim": {("xsec", 1.5), ("era", "2018")}}
    # coffea caches metadata per (dataset, file, tree): a new run must see new metadata
    fileset["sim"]["metadata"] = {"xsec": 2.5}
    assert _run(fileset, chunksize=100)["metadata"] == {"sim": {("xsec", 2.5)}}


def test_every_chunk_sees_its_dataset_name(file_totals, dis_sim_file, rewrite_events) -> None:
    other = rewrite_events("other.root")
    out = _run({"sim": [dis_sim_file], "data": [other]}, chunksize=100)
    assert out["events"] == {"sim": file_totals[0], "data": 300}
    assert out["chunks"] == {"sim": file_totals[0] // 100, "data": 3}


def test_futures_with_the_dict_form_and_a_skipped_remote_file(
    file_totals, dis_sim_file, rewrite_events
):
    other = rewrite_events("other.root")
    fileset = {
        "sim": {"files": {dis_sim_file: "events", REMOTE: "events"}, "metadata": {"era": "a"}},
        "data": {"files": [other], "metadata": {"era": "b"}},
    }
    out = _run(fileset, executor="futures", workers=2, chunksize=500, skipbadfiles=True)
    assert out["events"] == {"sim": file_totals[0], "data": 300}
    assert out["chunks"] == {"sim": 3, "data": 1}
    assert out["metadata"] == {"sim": {("era", "a")}, "data": {("era", "b")}}
    assert [(s["dataset"], s["file"]) for s in out["skipped_files"]] == [("sim", REMOTE)]


@pytest.mark.parametrize(
    ("fileset", "message"),
    [
        ({"sim": {"metadata": {"xsec": 1.0}}}, r"has no 'files' \(its keys are \['metadata'\]\)"),
        ({"sim": {"files": {}}}, "lists no files"),
        ({"sim": {"files": []}}, "lists no files"),
        ({"sim": {"files": {"sim.root": 3}}}, "tree name of file 'sim.root'.*got 3"),
        ({"sim": {"files": ["sim.root"], "treename": None}}, "'treename' of dataset 'sim'"),
        ({"sim": {"files": ["sim.root"], "tree": "events"}}, r"unknown key\(s\) \['tree'\]"),
        ({"sim": {"files": ["sim.root"], "metadata": [1]}}, "'metadata' \\[1\\], not a mapping"),
        ({"sim": {"files": ["sim.root"], "metadata": {"dataset": "x"}}}, "coffea sets itself"),
        ({"sim": {"files": ["sim.root"], "preload": "Muon_pt"}}, "not a list of branch names"),
        ({"sim": {"files": 3}}, "'files' of type int"),
        ({"sim": [3]}, "has 3 where a file path or URL belongs"),
        ({"sim": 3}, r"is a int \(3\)"),
    ],
)
def test_bad_dataset_names_the_dataset_and_both_forms(fileset, message) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        _run(fileset)
    text = str(error.value)
    assert "'sim'" in text
    assert "{'sim': ['sim.root', ...]}" in text  # the list form ...
    assert "{'sim': {'files': {'sim.root': 'events', ...}, 'metadata': {...}}}" in text  # dict
    with pytest.raises(ConfigError, match=message):
        check_inputs(fileset)


def test_treename_must_be_a_string(dis_sim_file) -> None:
    with pytest.raises(ConfigError, match="treename must be a tree name.*got 5"):
        _run({"sim": [dis_sim_file]}, treename=5)


def test_schema_names_map_to_coffea_classes() -> None:
    from coffea import nanoevents

    from hepnnlr.schema import SCHEMAS, HepnnlrSchema

    assert dict(SCHEMAS) == {
        "hepnnlr": HepnnlrSchema,
        "nanoaod": nanoevents.NanoAODSchema,
        "pfnano": nanoevents.PFNanoAODSchema,
        "physlite": nanoevents.PHYSLITESchema,
        "edm4hep": nanoevents.EDM4HEPSchema,
        "delphes": nanoevents.DelphesSchema,
        "treemaker": nanoevents.TreeMakerSchema,
        "base": nanoevents.BaseSchema,
    }


def test_schema_by_name_and_by_class(rewrite_events) -> None:
    from coffea.nanoevents import BaseSchema

    path = rewrite_events("schema.root")
    for schema in ("hepnnlr", "HEPNNLR", "base", BaseSchema):
        assert _run({"sim": [path]}, schema=schema)["events"] == {"sim": 300}, schema


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ("nanoAODv9", r"schema='nanoAODv9' is not known; use one of \['hepnnlr', 'nanoaod'"),
        (dict, r"subclass of\s+coffea.nanoevents.BaseSchema, got <class 'dict'>"),
    ],
)
def test_unknown_schema_lists_the_names(dis_sim_file, schema, message) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        _run({"sim": [dis_sim_file]}, schema=schema)
    assert "'pfnano', 'physlite', 'edm4hep', 'delphes', 'treemaker', 'base'" in str(error.value)


def test_schema_instance_is_refused(dis_sim_file) -> None:
    from coffea.nanoevents import BaseSchema

    instance = BaseSchema.__new__(BaseSchema)  # an instance, not the class
    with pytest.raises(ConfigError, match="pass the class itself"):
        _run({"sim": [dis_sim_file]}, schema=instance)


@pytest.mark.parametrize(
    ("schema", "name", "n_events"),
    [("nanoaod", "nano_dy.root", 40), ("pfnano", "pfnano.root", 10)],
)
@pytest.mark.parametrize("form", ["list", "dict"])
@_NANOAOD_WARNINGS[0]
@_NANOAOD_WARNINGS[1]
def test_real_cms_files_in_both_forms(cms_file, schema, name, n_events, form) -> None:
    path = cms_file(name)
    if form == "list":
        out = _run({"cms": [path]}, schema=schema, treename="Events", chunksize=n_events // 2)
    else:
        fileset = {"cms": {"files": {str(path): "Events"}, "metadata": {"era": "2018"}}}
        out = _run(fileset, schema=schema, chunksize=n_events // 2)
        assert out["metadata"] == {"cms": {("era", "2018")}}
    assert out["events"] == {"cms": n_events}
    assert out["chunks"] == {"cms": 2}


@_NANOAOD_WARNINGS[0]
@_NANOAOD_WARNINGS[1]
def test_real_file_with_a_schema_class_reads_its_collections(cms_file) -> None:
    from coffea.nanoevents import NanoAODSchema

    class _Muons(processor.ProcessorABC):
        required_branches = ("nMuon", "Muon_pt")

        def process(self, events):
            return {events.metadata["dataset"]: int(ak.sum(ak.num(events.Muon)))}

        def postprocess(self, accumulator):
            return accumulator

    path = cms_file("nano_dy.root")
    with uproot.open(path) as file:
        n_muons = int(ak.sum(file["Events"]["nMuon"].array()))
    out = run_processor(
        _Muons(), {"dy": [path]}, schema=NanoAODSchema, treename="Events", progress=False
    )
    assert out == {"dy": n_muons}


def test_remote_file_that_cannot_open_is_named(dis_sim_file) -> None:
    fileset = {"sim": {"files": {dis_sim_file: "events", REMOTE: "events"}}}
    for call in (lambda: _run(fileset), lambda: check_inputs(fileset)):
        with pytest.raises(InputFileError, match="could not be opened") as error:
            call()
        message = str(error.value)
        assert REMOTE in message and "'sim'" in message
        assert "fsspec-xrootd" in message  # uproot's own error, which says what to install
        assert "does not exist" not in message and "generate the sample" not in message


@pytest.mark.parametrize("url", ["https://nonexistent.invalid/x.root", "s3://nobucket/x.root"])
def test_other_remote_protocols_are_opened_not_stat_ed(dis_sim_file, url) -> None:
    with pytest.raises(InputFileError, match="could not be opened") as error:
        _run({"sim": [dis_sim_file, url]})
    assert url in str(error.value) and "does not exist" not in str(error.value)


def test_file_url_is_a_local_path(file_totals, dis_sim_file, tmp_path) -> None:
    url = dis_sim_file.resolve().as_uri()
    assert url.startswith("file://")
    assert _run({"sim": [url]})["events"] == {"sim": file_totals[0]}
    missing = (tmp_path / "missing.root").as_uri()
    with pytest.raises(InputFileError, match="does not exist"):
        _run({"sim": [missing]})


def test_skipbadfiles_runs_the_rest_and_reports_the_bad(
    file_totals, dis_sim_file, rewrite_events, tmp_path
):
    good = rewrite_events("good.root")
    no_charge = rewrite_events("no_charge.root", drop=["RecoPart_charge"])
    missing = tmp_path / "missing.root"
    fileset = {
        "sim": {"files": {dis_sim_file: "events", REMOTE: "events", missing: "events"}},
        "data": [good, no_charge],
    }
    out = run_processor(_NeedsCharge(), fileset, skipbadfiles=True, progress=False)
    assert out["sim"]["events"] == file_totals[0]
    assert out["data"]["events"] == 300
    skipped = out[SKIPPED_FILES_KEY]
    assert SKIPPED_FILES_KEY == "skipped_files"
    assert [(s["dataset"], s["file"]) for s in skipped] == [
        ("sim", REMOTE),
        ("sim", str(missing)),
        ("data", str(no_charge)),
    ]
    assert "could not be opened" in skipped[0]["reason"]
    assert "does not exist" in skipped[1]["reason"]
    assert "['RecoPart_charge']" in skipped[2]["reason"]
    # nothing bad: the key is there, empty
    assert _run({"sim": [good]}, skipbadfiles=True)[SKIPPED_FILES_KEY] == []


def test_without_skipbadfiles_the_first_bad_file_is_an_error(dis_sim_file, tmp_path) -> None:
    missing = str(tmp_path / "missing.root")
    with pytest.raises(InputFileError, match="does not exist") as error:
        _run({"sim": [dis_sim_file, missing, REMOTE]}, skipbadfiles=False)
    assert missing in str(error.value) and REMOTE not in str(error.value)
    with pytest.raises(InputFileError, match="could not be opened") as error:
        _run({"sim": [dis_sim_file, REMOTE, missing]}, skipbadfiles=False)
    assert REMOTE in str(error.value) and missing not in str(error.value)


def test_skipbadfiles_with_every_file_bad(tmp_path) -> None:
    with pytest.raises(InputFileError, match="left no input file") as error:
        _run({"sim": [REMOTE, tmp_path / "missing.root"]}, skipbadfiles=True)
    assert REMOTE in str(error.value) and "missing.root" in str(error.value)


class _FailsOnFile(_CountPerDataset):
    """Raises an OSError (as a failing read does) on the chunks of one file."""

    def __init__(self, bad_name: str):
        self.bad_name = bad_name

    def process(self, events):
        if events.metadata["filename"].endswith(self.bad_name):
            _ATTEMPTS.append(events.metadata["entrystart"])
            raise OSError(f"simulated read failure of {self.bad_name}")
        return super().process(events)


_ATTEMPTS: list[int] = []
"""Entry starts of the failed chunks of :class:`_FailsOnFile` (iterative executor only)."""


def test_skipbadfiles_reports_the_chunks_coffea_skips(
    file_totals, dis_sim_file, rewrite_events
) -> None:
    bad = rewrite_events("unlucky.root")
    fileset = {"sim": [dis_sim_file, bad]}
    with pytest.warns(UserWarning, match="Skipping bad file"):
        out = run_processor(
            _FailsOnFile("unlucky.root"), fileset, chunksize=150, skipbadfiles=True, progress=False
        )
    assert out["events"] == {"sim": file_totals[0]}
    (skipped,) = out[SKIPPED_FILES_KEY]
    assert skipped["file"] == str(bad)
    assert "coffea skipped 2 of 2 chunk(s), entries ['0-150', '150-300']" in skipped["reason"]
    with pytest.raises(Exception, match="simulated read failure"):
        run_processor(_FailsOnFile("unlucky.root"), fileset, chunksize=150, progress=False)


def test_retries_are_forwarded_to_the_executor(rewrite_events) -> None:
    bad = rewrite_events("unlucky.root")
    _ATTEMPTS.clear()
    with pytest.raises(Exception, match="simulated read failure"):
        run_processor(_FailsOnFile("unlucky.root"), {"sim": [bad]}, progress=False)
    assert _ATTEMPTS == [0]  # local executors do not retry by default
    _ATTEMPTS.clear()
    with (
        pytest.warns(UserWarning, match="Performed attempt"),
        pytest.raises(Exception, match="simulated read failure"),
    ):
        run_processor(_FailsOnFile("unlucky.root"), {"sim": [bad]}, retries=2, progress=False)
    assert _ATTEMPTS == [0, 0, 0]


def test_skipped_files_are_only_added_to_a_dict_output(rewrite_events, tmp_path, caplog):
    class _Total(processor.ProcessorABC):
        def process(self, events):
            return len(events)

        def postprocess(self, accumulator):
            return accumulator

    good = rewrite_events("good.root")
    with caplog.at_level("WARNING", logger="hepnnlr"):
        out = run_processor(
            _Total(), {"sim": [good, tmp_path / "gone.root"]}, skipbadfiles=True, progress=False
        )
    assert out == 300
    assert "gone.root" in caplog.text and "skipped input file" in caplog.text


def test_skipbadfiles_reports_a_file_coffea_cannot_preprocess(
    file_totals, dis_sim_file, rewrite_events, monkeypatch
) -> None:
    """A file that passed the check but whose metadata coffea then fails to read (e.g. a
    remote file that went away) is reported too."""
    bad = rewrite_events("vanishing.root")
    fetch = processor.Runner.metadata_fetcher_root

    def flaky(timeout, align_clusters, uproot_options, item):
        if item.filename == str(bad):
            raise OSError(f"simulated loss of {item.filename}")
        return fetch(timeout, align_clusters, uproot_options, item)

    monkeypatch.setattr(processor.Runner, "metadata_fetcher_root", staticmethod(flaky))
    with pytest.warns(UserWarning, match="Skipping bad file"):
        out = _run({"sim": [dis_sim_file, bad]}, skipbadfiles=True)
    assert out["events"] == {"sim": file_totals[0]}
    (skipped,) = out[SKIPPED_FILES_KEY]
    assert skipped["file"] == str(bad) and "could not read its metadata" in skipped["reason"]


def test_files_that_maxchunks_does_not_reach_are_not_skipped(rewrite_events) -> None:
    first, second = rewrite_events("first.root"), rewrite_events("second.root")
    out = _run({"sim": [first, second]}, chunksize=100, maxchunks=2, skipbadfiles=True)
    assert out["events"] == {"sim": 200}
    assert out[SKIPPED_FILES_KEY] == []
