"""``hepnnlr infer --resume`` (issue 17 item 3): repeat 0's trained routes are a unit of
the job's checkpoint (``routes-0``); a resumed job loads them, trains none of them again,
and writes the uninterrupted job's summary (every scan, interval and fit of the loaded
routes)."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest

import hepnnlr.workflows.infer_toy as infer_toy
from hepnnlr.methods.job_checkpoint import JobCheckpoint, job_record
from hepnnlr.workflows.infer import load_inference_job, run_inference
from hepnnlr.workflows.infer_checkpoint import ROUTES_UNIT

# The exact route only: no network, the 21 x 16 grid scan and the iminuit fit of 1,000
# events, no coverage (~0.5 s of CPU per run).
EXACT = """
output_dir: out
toy: {radius: 2.0, n_train: 1000}
routes: [exact]
grid: {mu: [0.0, 0.5, 21], z: [0.1, 0.4, 16]}
dataset: {mu: 0.2, z: 0.25, n_events: 1000, seed: 3}
plots: false
"""


def _run(tmp_path, text, out, folder, *, resume=False):
    path = tmp_path / f"{out}.yaml"
    path.write_text(text.replace("output_dir: out", f"output_dir: {tmp_path / out}"))
    job = load_inference_job(path)
    names = []
    checkpoint = JobCheckpoint(folder, job_record(job), resume=resume, after_unit=names.append)
    summary = json.loads(run_inference(job, checkpoint=checkpoint).summary_file.read_text())
    summary.pop("seconds")
    for route in summary["dataset"].values():
        route.pop("seconds")
    return summary, names


def _killed_after_the_routes(tmp_path):
    """What a kill right after the routes' unit leaves: the job and that unit."""
    killed = tmp_path / "killed"
    killed.mkdir()
    shutil.copy(tmp_path / "ck" / "job.json", killed / "job.json")
    shutil.copytree(tmp_path / "ck" / ROUTES_UNIT, killed / ROUTES_UNIT)
    return killed


def _no_training(*args, **kwargs):
    raise AssertionError("repeat 0's routes were trained again on resume")


def test_a_resumed_inference_loads_its_routes_instead_of_training_them(
    tmp_path, monkeypatch, caplog
):
    reference, names = _run(tmp_path, EXACT, "whole", tmp_path / "ck")
    assert names == [ROUTES_UNIT]
    killed = _killed_after_the_routes(tmp_path)
    monkeypatch.setattr(infer_toy, "train_gaussian_routes", _no_training)
    with caplog.at_level(logging.INFO, logger="hepnnlr"):
        resumed, resumed_names = _run(tmp_path, EXACT, "resumed", killed, resume=True)
    assert resumed_names == []  # nothing computed again, so nothing saved again
    assert "routes exact of repeat 0 loaded from" in caplog.text
    assert resumed == reference


@pytest.mark.slow
def test_a_resumed_inference_loads_its_trained_classifier(tmp_path, monkeypatch, caplog):
    """The classifier route (1 epoch on 1,000 + 1,000 events, two parameterized
    classifiers, normalized) trained whole; resumed from its routes' unit, no classifier
    is trained and the loaded networks give the trained ones' NLL bit for bit: the same
    grid minima, Wilks intervals and iminuit fit, the same scan files (~10 s of CPU)."""
    text = EXACT.replace("routes: [exact]", "routes: [exact, classifier]") + (
        "training: {epochs: 1, batch_size: 250, seed: 1}\n"
    )
    reference, names = _run(tmp_path, text, "whole", tmp_path / "ck")
    assert names == [ROUTES_UNIT]
    killed = _killed_after_the_routes(tmp_path)
    monkeypatch.setattr(infer_toy, "train_classifier_route", _no_training)
    with caplog.at_level(logging.INFO, logger="hepnnlr"):
        resumed, resumed_names = _run(tmp_path, text, "resumed", killed, resume=True)
    assert resumed_names == []
    assert "routes exact, classifier of repeat 0 loaded from" in caplog.text
    assert resumed == reference
    for route in ("exact", "classifier"):
        scans = [
            dict(np.load(tmp_path / o / f"scan_dataset_{route}.npz")) for o in ("whole", "resumed")
        ]
        assert all((scans[0][k] == scans[1][k]).all() for k in ("mu", "z", "nll"))
