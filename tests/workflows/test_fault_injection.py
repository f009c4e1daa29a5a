"""Faults injected into real hepnnlr runs (issue 17): what a kill, a busy or unwritable
output and a bad input leave behind.

The cases are the functions of ``examples/fault_injection.py`` (which runs them all and
writes the table of docs/results.md), run here at the smallest sizes: a ``hepnnlr
generate`` subprocess of 50 events killed by SIGKILL at a named moment (~2 s each), the
rest in this process, each refused before any work.
"""

from __future__ import annotations

import json
import os
import shlex
import signal

import pytest
from example_modules import example_module

from hepnnlr.cli import main
from hepnnlr.errors import OutputError
from hepnnlr.outputs import CHECKPOINT_NAME, LOCK_NAME, OutputFolder


@pytest.fixture(scope="module")
def faults():
    return example_module("fault_injection")


def test_generate_killed_while_writing_keeps_the_earlier_file(faults, tmp_path, dis_sim_file):
    """The first basket is in the (temporary) file when the kill comes: the path still
    holds the earlier file, bit for bit, and no temporary is mistaken for it."""
    row = faults.kill_generate(tmp_path, "writing", earlier=dis_sim_file)
    assert row["exit_code"] == -signal.SIGKILL
    assert row["outcome"] == "the earlier file, sha256 unchanged" and row["ok"]
    # the next run cleans up what the killed one left under its temporary name
    left = list(tmp_path.glob(".killed_writing_over.hepnnlr-tmp-*"))
    assert len(left) == 1
    target = tmp_path / "killed_writing_over.root"
    again = ["generate", "dis", "--setup", "sim", "--events", "30", "-o", str(target)]
    assert main([*again, "--overwrite", "--no-progress"]) == 0
    assert not left[0].exists()


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["generating", "writing", "renaming"])
def test_generate_killed_at_any_moment_leaves_no_file(faults, tmp_path, moment):
    row = faults.kill_generate(tmp_path, moment, earlier=None)
    assert row["outcome"] == "no file at the path" and row["ok"], row


def test_a_second_run_into_a_busy_folder_is_refused_naming_the_first(tmp_path, capsys):
    # The first run is this process holding the folder (the example runs two real unfold
    # processes); the second, a demo, stops before generating anything.
    out = tmp_path / "out"
    with OutputFolder(out):
        code = main(["demo", "-o", str(out), "--events", "100", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("hepnnlr: error:")
    assert f"in use by another run: process {os.getpid()} " in err and str(out) in err
    assert sorted(p.name for p in out.iterdir()) == []  # nothing generated, lock released


def test_unwritable_and_existing_outputs_are_refused_before_any_work(
    faults, tmp_path, dis_data_file, dis_sim_file
):
    # within 60 s (TensorFlow imported first by unfold): 100,000 events take minutes
    rows = faults.output_cases(tmp_path, dis_data_file, dis_sim_file, existing=dis_sim_file)
    for row in rows:
        assert row["ok"] and row["exit_code"] == 2, row
        assert row["message"].startswith("hepnnlr: error:")
    assert "exists; pass --overwrite" in rows[0]["message"]
    assert str(tmp_path / "a_file") in rows[1]["message"]


def test_bad_inputs_are_named_before_training(faults, tmp_path, dis_data_file, dis_sim_file):
    truncated, short, few = faults.input_cases(tmp_path, dis_data_file, dis_sim_file)
    for row in (truncated, short, few):
        assert row["ok"] and row["exit_code"] == 2, row
    size = dis_sim_file.stat().st_size
    assert "truncated.root" in truncated["message"]
    assert f"ends at byte {size:,} but the file has {size // 2:,} bytes" in truncated["message"]
    assert "short.root" in short["message"]
    assert "holds 100 entries but the file was written for 1,500" in short["message"]
    # the 8 data events: every class below OmniFold's minimum is named with its counts
    assert "data_8.root" in few["message"] and "OmniFold needs at least 50" in few["message"]
    assert "passing of 8" in few["message"] and "sim_300.root" not in few["message"]
    assert not (tmp_path / "out_few" / "weights.parquet").exists()


def test_an_unfinished_runs_checkpoints_need_resume_or_overwrite(tmp_path):
    out = tmp_path / "out"
    (out / CHECKPOINT_NAME / "run").mkdir(parents=True)
    (out / CHECKPOINT_NAME / "run" / "state.json").write_text("{}")
    with pytest.raises(OutputError, match="checkpoints of an unfinished run.*pass --resume"):
        OutputFolder(out).__enter__()
    with OutputFolder(out, resume=True) as folder:
        assert (folder.checkpoint_dir / "run" / "state.json").is_file()  # kept to resume
        (out / "weights.txt").write_text("w")
        summary = json.loads(folder.finish().read_text())
    # the checkpoints are not outputs: never listed, removed once the run is complete
    assert list(summary["files"]) == ["weights.txt"] and not folder.checkpoint_dir.exists()
    (out / CHECKPOINT_NAME).mkdir()
    with OutputFolder(out, overwrite=True) as folder:
        assert not folder.checkpoint_dir.exists()  # --overwrite starts over


def test_ctrl_c_prints_how_to_resume(tmp_path, monkeypatch, capsys, dis_data_file, dis_sim_file):
    # KeyboardInterrupt is what SIGINT raises in the main thread; the example sends the
    # signal to a real run (test_kill_resume_interrupt_and_dask_worker below)
    import hepnnlr.workflows.unfold_dis as unfold_dis

    def interrupted(job, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(unfold_dis, "run_dis_unfolding", interrupted)
    out = tmp_path / "out dir"
    args = ["unfold", "--data", str(dis_data_file), "--sim", str(dis_sim_file), "-o", str(out)]
    assert main(args) == 130
    err = capsys.readouterr().err
    command = shlex.join(["hepnnlr", *args, "--resume"])
    assert err.strip() == f"hepnnlr: interrupted; resume with: {command}"
    assert not (out / LOCK_NAME).exists()  # released on the way out


@pytest.mark.slow
def test_kill_resume_interrupt_and_dask_worker(faults, tmp_path, dis_data_file, dis_sim_file):
    """The example's cases: SIGKILL after a checkpoint and SIGINT, each resumed to the
    uninterrupted weights (sha256); a dask worker killed mid-chunk (~4 min on 2 cores)."""
    reference = faults.unfold_reference(tmp_path, dis_data_file, dis_sim_file)
    rows = faults.kill_unfold_and_resume(tmp_path, dis_data_file, dis_sim_file, reference)
    rows += faults.interrupt_unfold(tmp_path, dis_data_file, dis_sim_file, reference)
    rows.append(faults.kill_dask_worker(tmp_path / "dask", dis_sim_file))
    for row in rows:
        assert row["ok"], row
    assert [row["exit_code"] for row in rows] == [-signal.SIGKILL, 2, 0, 130, 0, 0]


@pytest.mark.slow
def test_fit_killed_or_interrupted_resumes_to_the_uninterrupted_fit(faults, tmp_path):
    """The example's fit cases: SIGKILL at four moments (after the 1st unit, as the 2nd
    reweighter starts, after the 5th unit, while the outputs are written), each resumed
    to the uninterrupted fit's numbers; a rerun without --resume and a resume of another
    job refused; SIGINT and the printed command (~5 min on 2 cores)."""
    from fault_injection_fit import fit_cases

    rows = fit_cases(tmp_path)
    for row in rows:
        assert row["ok"], row
    kill, refused = -signal.SIGKILL, 2
    assert [row["exit_code"] for row in rows] == [
        *(kill, refused, refused, 0),
        *(kill, 0) * 3,
        *(130, 0),
    ]
