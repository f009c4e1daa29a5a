"""ROOT event files: TTree round trip, file checks and the session sample files."""

from __future__ import annotations

import json
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from hepnnlr.errors import ConfigError, InputFileError, MissingBranchError
from hepnnlr.samples import (
    REQUIRED_BRANCHES,
    check_event_file,
    make_dis_sample,
    read_events,
    simulate_detector,
    write_events,
)


@pytest.fixture(scope="module")
def events(sim_gen: ak.Array) -> ak.Array:
    return simulate_detector(sim_gen, seed=1)


@pytest.fixture(scope="module")
def written(events: ak.Array, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rootio") / "events.root"
    return write_events(path, events, chunk_size=700)  # three extend() calls


def test_written_file_is_a_ttree_with_the_format(written: Path) -> None:
    with uproot.open(written) as file:
        # the tree and the record of its event count (a reader refuses fewer entries)
        assert file.classnames() == {"events;1": "TTree", "hepnnlr_sample;1": "TObjString"}
        assert json.loads(str(file["hepnnlr_sample"])) == {"tree": "events", "entries": 2000}
        tree = file["events"]
        assert set(tree.keys()) == set(REQUIRED_BRANCHES)
        assert tree.num_entries == 2000
        types = {name: tree[name].typename for name in tree.keys()}
    assert types["event"] == "uint64_t"
    assert types["weight"] == types["gen_Q2"] == "double"
    assert types["pass_gen"] == types["pass_reco"] == "bool"
    assert types["nGenPart"] == "int32_t"
    assert types["GenPart_pt"] == "float[]"
    assert types["GenPart_pdgId"] == "int32_t[]"
    assert types["GenPart_charge"] == "int8_t[]"
    assert types["RecoElectron_E"] == "double[]"


def test_round_trip_with_plain_uproot(written: Path, events: ak.Array) -> None:
    with uproot.open(written) as file:
        arrays = file["events"].arrays(library="ak")
    np.testing.assert_array_equal(arrays.event.to_numpy(), events.event.to_numpy())
    np.testing.assert_array_equal(arrays.gen_Q2.to_numpy(), events.gen_Q2.to_numpy())
    np.testing.assert_array_equal(arrays.pass_reco.to_numpy(), events.pass_reco.to_numpy())
    np.testing.assert_array_equal(arrays.nRecoPart.to_numpy(), ak.num(events.RecoPart).to_numpy())
    for collection, field in (("GenPart", "pt"), ("RecoPart", "pdgId"), ("RecoElectron", "E")):
        assert ak.array_equal(arrays[f"{collection}_{field}"], events[collection][field])


def test_round_trip_with_read_events(written: Path, events: ak.Array) -> None:
    back = read_events(written)
    assert ak.fields(back) == [
        "event",
        "weight",
        "gen_Q2",
        "gen_x",
        "gen_y",
        "pass_gen",
        "pass_reco",
        "GenElectron",
        "GenPart",
        "RecoElectron",
        "RecoPart",
    ]
    for name in ak.fields(back):
        assert ak.array_equal(back[name], events[name], dtype_exact=True), name
    part = read_events(written, entry_start=100, entry_stop=150)
    assert ak.array_equal(part.GenPart, events.GenPart[100:150])


def test_write_refuses_incomplete_events(sim_gen: ak.Array, tmp_path: Path) -> None:
    with pytest.raises(MissingBranchError, match="pass_gen"):
        write_events(tmp_path / "x.root", sim_gen)
    with pytest.raises(ConfigError, match="chunk_size"):
        write_events(tmp_path / "x.root", sim_gen, chunk_size=0)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nothing.root"
    with pytest.raises(InputFileError, match="does not exist") as info:
        check_event_file(path)
    message = str(info.value)
    assert str(path) in message
    assert "hepnnlr generate dis --setup sim --events N -o" in message


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "text.root"
    path.write_text("not a ROOT file\n")
    with pytest.raises(InputFileError, match="not a readable ROOT file"):
        check_event_file(path)


def test_missing_tree_lists_the_trees(tmp_path: Path) -> None:
    path = tmp_path / "other.root"
    with uproot.recreate(path) as file:
        tree = file.mktree("Events", {"x": np.float64})
        tree.extend({"x": np.arange(3.0)})
    with pytest.raises(InputFileError, match=r"has no tree 'events'; its trees are \['Events'\]"):
        check_event_file(path)


def test_rntuple_is_not_accepted(tmp_path: Path) -> None:
    path = tmp_path / "rntuple.root"
    with uproot.recreate(path) as file:
        file["events"] = {"event": np.arange(3, dtype=np.uint64)}
    with pytest.raises(InputFileError, match="not a TTree"):
        check_event_file(path)


def test_missing_branch_is_named(written: Path, tmp_path: Path) -> None:
    with pytest.raises(MissingBranchError, match=r"no branch 'RecoPart_mass'") as info:
        check_event_file(written, branches=["event", "RecoPart_mass"])
    assert str(written) in str(info.value)
    path = tmp_path / "partial.root"
    with uproot.recreate(path) as file:
        tree = file.mktree("events", {"event": np.uint64})
        tree.extend({"event": np.arange(3, dtype=np.uint64)})
    with pytest.raises(MissingBranchError, match="no branch 'weight'"):
        check_event_file(path)


def test_session_sample_files(dis_sim_file: Path, dis_data_file: Path) -> None:
    for path in (dis_sim_file, dis_data_file):
        assert check_event_file(path) == 1500
    sim, data = read_events(dis_sim_file), read_events(dis_data_file)
    assert not np.array_equal(sim.gen_Q2.to_numpy(), data.gen_Q2.to_numpy())
    for events in (sim, data):
        # ~32% of the Q² > 100 cross section lies in Q² > 150, 0.08 < y < 0.7, and the
        # default detector keeps ~94% of it: 0.30 ± 0.012 (binomial) per file.
        assert 0.22 < ak.mean(events.pass_reco) < 0.40
        assert ak.mean(events.pass_gen) > 0.85


def test_make_dis_sample_checks_count(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="n_events"):
        make_dis_sample(tmp_path / "x.root", n_events=0, seed=1, progress=False)
    assert not (tmp_path / "x.root").exists()
