"""Checkpoints of fit and inference jobs (issue 17 item 3): a resumed job loads the units
an earlier run completed and gives the uninterrupted job's numbers bit for bit; another
job's checkpoints are refused, naming the keys that differ."""

from __future__ import annotations

import json
import shutil
import textwrap

import numpy as np
import pytest

from hepnnlr.cli import main
from hepnnlr.methods.checkpoint import CheckpointMismatchError
from hepnnlr.methods.job_checkpoint import JobCheckpoint, differing_keys, job_record
from hepnnlr.outputs import CHECKPOINT_NAME
from hepnnlr.workflows.fit import fit_target, load_fit_job, run_fit
from hepnnlr.workflows.fit_checkpoint import FitUnits
from hepnnlr.workflows.fit_inputs import Inputs, load_samples
from hepnnlr.workflows.fit_steps import train_reweighter

# Two reweighters of 2 epochs on 400 + 400 events, the fit on a 3-point grid: ~3 s of CPU
# for the whole job, ~2 s resumed (one reweighter loaded, one trained).
TINY_DCTR = textwrap.dedent("""
    output_dir: out
    samples:
      generator: gaussian
      parameters: {mu: [-2.0, 2.0]}
      target: {mu: 0.5}
      events: 400
      varied_events: 400
    training:
      reweighter: {epochs: 2, batch_size: 200, patience: 2}
    fit: {method: grid, grid_points: 3}
    uncertainty: {repeats: 2, bootstrap: 0}
""")


def _job(tmp_path, text=TINY_DCTR, name="job.yaml", method="dctr"):
    path = tmp_path / name
    path.write_text(text)
    return load_fit_job(path, method)


def test_the_job_record_leaves_out_where_and_how_it_is_shown(tmp_path):
    job = _job(tmp_path)
    moved = _job(
        tmp_path,
        TINY_DCTR.replace("output_dir: out", "output_dir: elsewhere") + "progress: true\n",
        "moved.yaml",
    )
    assert job_record(job) == job_record(moved)
    assert (
        "output_dir" not in job_record(job)
        and "progress" not in job_record(job)["training"]["reweighter"]
    )
    json.dumps(job_record(job))  # JSON-ready as it is


def test_resuming_another_job_is_refused_naming_the_differing_keys(tmp_path):
    job = _job(tmp_path)
    other = _job(
        tmp_path,
        TINY_DCTR.replace("epochs: 2", "epochs: 3").replace("repeats: 2", "repeats: 3"),
        "other.yaml",
    )
    assert differing_keys(job_record(job), job_record(other)) == [
        "training.reweighter.epochs",
        "uncertainty.repeats",
    ]
    JobCheckpoint(tmp_path / "ck", job_record(job)).save("repeat-0", {"theta": {"mu": 0.5}})
    with pytest.raises(
        CheckpointMismatchError,
        match=r"another job \(training\.reweighter\.epochs: 2 in the checkpoint, 3 now; "
        r"uncertainty\.repeats: 2 in the checkpoint, 3 now\).*--overwrite",
    ):
        JobCheckpoint(tmp_path / "ck", job_record(other), resume=True)
    # the same job resumes with its unit; starting over (resume=False) removes it
    assert JobCheckpoint(tmp_path / "ck", job_record(job), resume=True).units() == ["repeat-0"]
    assert JobCheckpoint(tmp_path / "ck", job_record(job)).units() == []


def test_a_unit_counts_only_once_its_state_is_written(tmp_path):
    saved = []
    ck = JobCheckpoint(tmp_path / "ck", {"a": 1}, after_unit=saved.append)
    # what a kill between the arrays and the state leaves: files, no state.json
    (ck.folder / "replica-0").mkdir()
    (ck.folder / "replica-0" / "arrays.npz").write_bytes(b"half")
    assert not ck.has("replica-0")
    ck.save("replica-0", {"x": 0.1 + 0.2}, {"w": np.arange(3.0)})
    unit = ck.load("replica-0")
    assert saved == ["replica-0"] and unit.record == {"x": 0.1 + 0.2}  # every bit of a float
    np.testing.assert_array_equal(unit.arrays["w"], np.arange(3.0))


def _cut(checkpoint, folder, units):
    """A copy of ``checkpoint`` with its job and ``units`` only: what a kill after the
    last of them leaves (units are written one after the other, each whole or absent)."""
    folder.mkdir()
    shutil.copy(checkpoint / "job.json", folder / "job.json")
    for unit in units:
        shutil.copytree(checkpoint / unit, folder / unit)
    return folder


def _fit_units(job, checkpoint):
    """The units of :func:`run_fit` (reweighters, then fit_target's fits and replicas)
    without its histograms, plots and files (seconds of CPU)."""
    samples = load_samples(job)
    inputs = Inputs(samples["nominal"])
    units = FitUnits(checkpoint)
    reweighters = [
        units.reweighter(
            f"reweighter-{r}",
            lambda r=r: train_reweighter(job, samples, inputs, job.training_seed + r),
        )
        for r in range(job.uncertainty.repeats)
    ]
    result = fit_target(job, samples, inputs, reweighters, units=units)
    return result, [rw.classifier.history for rw in reweighters]


def test_a_resumed_dctr_fit_equals_the_uninterrupted_one_bit_for_bit(tmp_path):
    """The job runs whole with a checkpoint (the reference); a copy of its checkpoint cut
    after the first unit is resumed: repeat 0's reweighter is loaded, repeat 1's trained
    in a process state that differs from the reference's (nothing trained before it),
    both fits redone. Every fitted value and error equals the reference's, bit for bit."""
    job = _job(tmp_path)
    names = []
    ck = JobCheckpoint(tmp_path / "ck", job_record(job), after_unit=names.append)
    reference, histories = _fit_units(job, ck)
    assert names == ["reweighter-0", "reweighter-1", "repeat-0", "repeat-1"]
    killed = _cut(ck.folder, tmp_path / "killed", names[:1])
    resumed_names = []
    resumed, resumed_histories = _fit_units(
        job, JobCheckpoint(killed, job_record(job), resume=True, after_unit=resumed_names.append)
    )
    assert resumed_names == names[1:]  # reweighter-0 loaded, the rest computed
    for name in ("values", "keep", "errors"):
        assert str(getattr(resumed, name)) == str(getattr(reference, name))
    np.testing.assert_array_equal(resumed.values["mu"], reference.values["mu"])  # every bit
    assert [f.curve for f in resumed.fits] == [f.curve for f in reference.fits]
    assert resumed_histories == histories  # the loaded reweighter's training history too


@pytest.mark.slow
@pytest.mark.parametrize(("method", "cut"), [("dctr", 5), ("srgn", 6)])
def test_a_resumed_fit_with_replicas_writes_the_uninterrupted_outputs(tmp_path, method, cut):
    """run_fit whole, and resumed from its checkpoint cut after ``cut`` units, with the
    target's replicas and the simulation's: the same summary.json, fit.json values and
    curves.json (~1 min per method on 2 cores)."""
    text = (
        TINY_DCTR.replace("method: grid, grid_points: 3", "method: powell, grid_points: 3")
        .replace("bootstrap: 0", "bootstrap: 3, simulation_bootstrap: 2")
        .replace("training:\n", "training:\n  classifier: {epochs: 2, batch_size: 200}\n")
    )
    job = _job(tmp_path, text, method=method)
    names = []
    ck = JobCheckpoint(tmp_path / "ck", job_record(job), after_unit=names.append)
    reference = run_fit(job, checkpoint=ck)
    killed = _cut(ck.folder, tmp_path / "killed", names[:cut])
    moved = _job(tmp_path, text.replace("output_dir: out", "output_dir: resumed"), "r.yaml", method)
    resumed_names = []
    resumed = run_fit(
        moved,
        checkpoint=JobCheckpoint(
            killed, job_record(moved), resume=True, after_unit=resumed_names.append
        ),
    )
    assert resumed_names == names[cut:]
    assert resumed.fitted == reference.fitted and resumed.replicas == reference.replicas
    for a, b in (
        (reference.summary_file, resumed.summary_file),
        (reference.curves_file, resumed.curves_file),
    ):
        assert json.loads(a.read_text()) == json.loads(b.read_text())
    # the record names its output folder
    records = [
        json.loads(o.fit_file.read_text().replace(str(tmp_path / "resumed"), str(job.output_dir)))
        for o in (reference, resumed)
    ]
    for record in records:
        record.pop("seconds", None)
    assert records[0] == records[1]


def test_fit_resume_of_another_job_is_a_named_error_before_any_work(tmp_path, capsys):
    job = _job(tmp_path)
    out = tmp_path / "out"
    JobCheckpoint(out / CHECKPOINT_NAME / "fit", job_record(job)).save("reweighter-0", {})
    text = TINY_DCTR.replace("target: {mu: 0.5}", "target: {mu: 0.7}")
    (tmp_path / "changed.yaml").write_text(text)
    code = main(["fit", "dctr", str(tmp_path / "changed.yaml"), "-o", str(out), "--resume"])
    err = capsys.readouterr().err
    assert code == 2 and "samples.target.mu: 0.5 in the checkpoint, 0.7 now" in err, err
    assert (out / CHECKPOINT_NAME / "fit" / "reweighter-0" / "state.json").is_file()


@pytest.mark.parametrize("verb", ["fit", "infer"])
def test_ctrl_c_in_fit_and_infer_prints_how_to_resume(tmp_path, monkeypatch, capsys, verb):
    # KeyboardInterrupt is what SIGINT raises in the main thread;
    # examples/fault_injection.py sends the signal to a real fit
    import shlex

    import hepnnlr.workflows.fit as fit
    import hepnnlr.workflows.infer as infer

    def interrupted(job, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fit, "run_fit", interrupted)
    monkeypatch.setattr(infer, "run_inference", interrupted)
    _job(tmp_path)
    config = tmp_path / "job.yaml"
    if verb == "infer":
        config = tmp_path / "infer.yaml"
        config.write_text("toy: {n_train: 1000}\nroutes: [exact]\n")
    args = [verb, *(["dctr"] if verb == "fit" else []), str(config), "-o", str(tmp_path / "o")]
    assert main(args) == 130
    err = capsys.readouterr().err
    assert (
        err.strip()
        == f"hepnnlr: interrupted; resume with: {shlex.join(['hepnnlr', *args, '--resume'])}"
    )
