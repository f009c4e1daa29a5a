"""Checkpoints of ``hepnnlr infer`` jobs (issue 17 item 3): a resumed job loads its
completed repeats and coverage truths and writes the uninterrupted job's summary."""

from __future__ import annotations

import json
import shutil

import pytest

from hepnnlr.methods.job_checkpoint import JobCheckpoint, job_record
from hepnnlr.workflows.infer import load_inference_job, run_inference

# The exact likelihood only (no training): three coverage truths of one 1,000-event test
# set and 10 bootstrap sets each, ~1 s of CPU per run.
TINY = """
output_dir: out
toy: {radius: 2.0, n_train: 1000}
routes: [exact]
grid: {mu: [0.0, 0.5, 21], z: [0.1, 0.4, 16]}
dataset: {mu: 0.2, z: 0.25, n_events: 1000, seed: 3}
plots: false
coverage:
  mu: [0.1, 0.3]
  z: [0.2, 0.3]
  n_events: 1000
  bootstrap_sets: 10
  bootstrap_size: 200
  independent_toys: 0
"""


def _without_seconds(value):
    if isinstance(value, dict):
        return {k: _without_seconds(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_without_seconds(v) for v in value]
    return value


def _run(tmp_path, text, out, folder, *, resume=False, cut=None):
    path = tmp_path / f"{out}.yaml"
    path.write_text(text.replace("output_dir: out", f"output_dir: {out}"))
    job = load_inference_job(path)
    names = []
    checkpoint = JobCheckpoint(folder, job_record(job), resume=resume, after_unit=names.append)
    outputs = run_inference(job, checkpoint=checkpoint)
    return _without_seconds(json.loads(outputs.summary_file.read_text())), names


def _cut(folder, killed, units):
    """What a kill after the last of ``units`` leaves: the job and those units."""
    killed.mkdir()
    shutil.copy(folder / "job.json", killed / "job.json")
    for unit in units:
        shutil.copytree(folder / unit, killed / unit)
    return killed


def test_a_resumed_coverage_study_equals_the_uninterrupted_one(tmp_path):
    """Killed after the routes and the first two of four coverage truths: the resumed
    study loads them and the random generator's state after them, so truths 3 and 4 get
    the test sets of the uninterrupted study; the summaries are equal (timings aside),
    bit for bit."""
    reference, names = _run(tmp_path, TINY, "whole", tmp_path / "ck")
    assert names == ["routes-0", *[f"coverage-{i}" for i in range(4)]]
    killed = _cut(tmp_path / "ck", tmp_path / "killed", names[:3])
    resumed, resumed_names = _run(tmp_path, TINY, "resumed", killed, resume=True)
    assert resumed_names == names[3:]
    assert resumed == reference


@pytest.mark.slow
def test_a_resumed_inference_loads_its_repeats_and_draws_its_contours(tmp_path):
    """The classifier route with 3 repeats and plots: killed after repeat 1's densities
    and the first coverage truth; resumed, repeat 0's routes are loaded, repeat 2 is
    retrained and the coverage contours are drawn from the loaded truth's scans (~1 min
    on 2 cores)."""
    text = (
        TINY.replace("routes: [exact]", "routes: [exact, classifier]")
        .replace("plots: false", "plots: true")
        .replace("n_train: 1000", "n_train: 2000")
        + "training: {epochs: 2, batch_size: 256, seed: 1}\n"
        + "uncertainty: {repeats: 3, bootstrap: 4}\n"
    )
    reference, names = _run(tmp_path, text, "whole", tmp_path / "ck")
    assert names == ["routes-0", "repeat-1", "repeat-2", *[f"coverage-{i}" for i in range(4)]]
    killed = _cut(tmp_path / "ck", tmp_path / "killed", ["routes-0", "repeat-1", "coverage-0"])
    resumed, resumed_names = _run(tmp_path, text, "resumed", killed, resume=True)
    assert resumed_names == ["repeat-2", *[f"coverage-{i}" for i in range(1, 4)]]
    contours = [s["coverage"].pop("contours") for s in (reference, resumed)]
    moved = [c.replace(str(tmp_path / "resumed"), str(tmp_path / "whole")) for c in contours[1]]
    assert moved == contours[0]
    assert (tmp_path / "resumed" / "contours_coverage.png").is_file()
    assert resumed == reference
