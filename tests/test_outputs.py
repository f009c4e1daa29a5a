"""hepnnlr.outputs: atomic files, the guarded output folder, the completeness record."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys

import pytest

from hepnnlr.errors import OutputError
from hepnnlr.outputs import (
    LOCK_NAME,
    OutputFolder,
    atomic_write,
    check_complete,
    check_output_file,
    write_json,
)


def test_atomic_write_replaces_only_on_success(tmp_path):
    path = tmp_path / "sub" / "a.txt"
    with atomic_write(path) as tmp:
        assert tmp.parent == path.parent and tmp.suffix == ".txt" and tmp.name.startswith(".")
        tmp.write_text("old")
    assert path.read_text() == "old"
    with pytest.raises(RuntimeError), atomic_write(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer died")
    assert path.read_text() == "old"  # untouched
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.txt"]  # no temporary left
    with pytest.raises(OutputError, match="wrote no file"), atomic_write(path):
        pass


def test_check_output_file_refuses_an_existing_file_and_an_unwritable_folder(tmp_path):
    existing = tmp_path / "x.root"
    existing.write_bytes(b"x")
    with pytest.raises(OutputError, match=r"x\.root exists; pass --overwrite"):
        check_output_file(existing)
    assert check_output_file(existing, overwrite=True) == existing
    with pytest.raises(OutputError, match=r"into .*x\.root .*choose a writable folder"):
        check_output_file(existing / "y.root")  # its folder would be a file


def _lock(folder, pid, host=None):
    folder.mkdir(parents=True, exist_ok=True)
    record = {"pid": pid, "host": host or socket.gethostname(), "started": "then", "command": "c"}
    (folder / LOCK_NAME).write_text(json.dumps(record))


def test_a_live_lock_refuses_a_second_run_naming_the_holder(tmp_path):
    with OutputFolder(tmp_path / "out"):
        with pytest.raises(OutputError, match=rf"in use by another run: process {os.getpid()} "):
            OutputFolder(tmp_path / "out").__enter__()
    assert not (tmp_path / "out" / LOCK_NAME).exists()  # released
    _lock(tmp_path / "far", 1, host="another-host")  # cannot tell: refused, remove by hand
    with pytest.raises(OutputError, match="another-host.*remove the lock file"):
        OutputFolder(tmp_path / "far").__enter__()


def test_a_dead_runs_lock_is_taken_over_and_said_so(tmp_path, caplog):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)  # a process that has exited
    _lock(tmp_path, pid)
    (tmp_path / f".w.hepnnlr-tmp-{pid}-00.root").write_bytes(b"half")  # its temporary
    with caplog.at_level(logging.INFO, logger="hepnnlr"), OutputFolder(tmp_path) as folder:
        assert json.loads(folder.lock_file.read_text())["pid"] == os.getpid()
    notes = [r for r in caplog.records if r.name == "hepnnlr.outputs"]
    assert len(notes) == 1 and notes[0].levelno == logging.WARNING
    assert f"process {pid}" in notes[0].getMessage()
    assert "no longer running" in notes[0].getMessage()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # lock released, temporary gone


def test_another_runs_summary_is_refused_unless_overwrite(tmp_path):
    write_json(tmp_path / "summary.json", {"complete": True})
    with pytest.raises(OutputError, match=r"holds the outputs of another run \(summary\.json, "
                       r"complete\); pass --overwrite"):
        OutputFolder(tmp_path).__enter__()
    assert not (tmp_path / LOCK_NAME).exists()
    with OutputFolder(tmp_path, overwrite=True):
        # removed first: until finish() the folder reads as incomplete
        assert check_complete(tmp_path) == [f"{tmp_path / 'summary.json'} does not exist: "
                                            "the run did not finish"]


def test_finish_lists_the_files_written_with_their_sha256(tmp_path):
    (tmp_path / "input.root").write_bytes(b"before the run")  # not written by the run
    with OutputFolder(tmp_path) as folder:
        write_json(tmp_path / "plots" / "a.json", [1])
        write_json(tmp_path / "summary.json", {"chi2": 1.5})  # the workflow's summary
        folder.finish()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["chi2"] == 1.5 and summary["complete"] is True
    assert list(summary["files"]) == ["plots/a.json"]
    assert summary["run"]["pid"] == os.getpid()
    assert check_complete(tmp_path) == []
    (tmp_path / "plots" / "a.json").write_text("[2]")
    assert check_complete(tmp_path) == [f"{tmp_path / 'plots' / 'a.json'} differs from the "
                                        "sha256 in summary.json"]
