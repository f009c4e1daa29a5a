"""``hepnnlr reweight`` end to end on the real PFNano file (ten events): a tiny ensemble
of GenCands reweighters applied through the pfnano_particles description, weights keyed
(run, luminosityBlock, event) with metadata, histograms per variation, a complete
summary; the file-and---analysis form; errors that name the key."""

from __future__ import annotations

import json

import awkward as ak
import numpy as np
import pytest
import uproot
import yaml
from shared_data import shared_data_file

from hepnnlr.analysis import get
from hepnnlr.cli.main import main
from hepnnlr.outputs import check_complete
from hepnnlr.processors.analysis import run_analysis
from hepnnlr.processors.chunks import collect_columns
from hepnnlr.results import read_weights

PARTICLES = ("log_pt", "eta", "phi", "charge")
EVENT = ("n_particles", "log_sum_pt")


@pytest.fixture(scope="module")
def pfnano(tmp_path_factory):
    """Two PFNs (seeds 0, 1) on the gen particle sets of events 0-4 vs 5-9, saved as
    ``hepnnlr unfold`` saves step 2 (``models/step2/run{r}``), and the description's
    columns. Ten events: the ratio is noise, the pipeline is what is tested."""
    from hepnnlr.models import ModelSpec
    from hepnnlr.tensors import Standardizer, from_awkward
    from hepnnlr.training import SavedReweighter, TrainingConfig, train_classifier

    path = shared_data_file("pfnano.root")
    columns = collect_columns(run_analysis(get("pfnano_particles"), {"qcd": [str(path)]},
                                           progress=False))  # fmt: skip
    passed = ak.to_numpy(columns.pass_gen)
    inputs = from_awkward(columns.gen, particle_features=PARTICLES, global_features=EVENT,
                          select=passed).subset(passed)  # fmt: skip
    first, second = inputs.subset(np.arange(5)), inputs.subset(np.arange(5, len(inputs)))
    scaler = Standardizer.fit(inputs)
    models = tmp_path_factory.mktemp("unfolded") / "models" / "step2"
    for seed in (0, 1):
        classifier = train_classifier(
            ModelSpec("pfn", phi=(8,), hidden=(8,)),
            scaler.transform(first),
            np.ones(len(first)),
            scaler.transform(second),
            np.ones(len(second)),
            TrainingConfig(epochs=1, batch_size=4, seed=seed),
            name=f"events 0-4 vs 5-9, seed {seed}",
        )
        meta = {"omnifold_step": "step2", "scale": 1.0, "aggregation": "mean"}
        SavedReweighter(classifier, scaler, level="gen", meta=meta).save(models / f"run{seed}")
    return path, models, columns


def test_reweight_a_pfnano_job_end_to_end(pfnano, tmp_path, capsys):
    from hepnnlr.training.ensemble_reweighter import ReweighterEnsemble

    path, models, columns = pfnano
    job = tmp_path / "job.yaml"
    job.write_text(yaml.safe_dump({"analysis": "pfnano_particles", "fileset": {"qcd": [str(path)]},
                                   "chunksize": 4, "output_dir": "out"}))  # fmt: skip
    assert main(["reweight", str(models), str(job), "--executor", "iterative"]) == 0
    out = tmp_path / "out"  # the job's output_dir, relative to the job file
    assert check_complete(out) == []
    assert "weights_qcd.parquet" in capsys.readouterr().out
    weights = read_weights(out / "weights_qcd.parquet")
    assert weights.keys == ["run", "luminosityBlock", "event"]
    assert weights.metadata["model"]["ensemble"] is True
    assert len(weights.metadata["model"]["members"]) == 2
    assert weights.metadata["inputs"][0]["sha256"]
    with uproot.open(path) as f:
        branches = f["Events"].arrays(["event", "genWeight"])
    assert weights.table.event.tolist() == branches.event.tolist()
    # the in-memory ensemble on the description's columns, all ten events in one batch;
    # the run had chunks of four, padded to their own longest list. The networks are
    # float32: the logits (log weights; |logit| up to ~120 for an untrained PFN summing
    # thousands of particles) agree to a few float32 ulps of their size (eps 1.2e-7)
    ensemble = ReweighterEnsemble.load(sorted(models.iterdir()))
    passed = ak.to_numpy(columns.pass_gen)
    expected = ensemble.variations(ak.zip({"gen": columns.gen}, depth_limit=1), passed)
    written = [ak.to_numpy(weights.table[k]) for k in ("weight", "weight_up", "weight_down")]
    for got, values in zip(written, expected, strict=True):
        np.testing.assert_allclose(np.log(got), np.log(values), rtol=1e-6, atol=1e-6)
    genweight = ak.to_numpy(branches.genWeight).astype(np.float64)
    np.testing.assert_array_equal(ak.to_numpy(weights.table.event_weight), genweight)
    with uproot.open(out / "histograms.root") as f:
        for variation, values in zip(("nominal", "up", "down"), written, strict=True):
            h = f[f"qcd/gen/{variation}/n_particles"].to_hist()
            # every event once at genWeight x the weight written (float64 sums: 1e-12)
            total = h.sum(flow=True).value
            assert total == pytest.approx(float(np.sum(genweight * values)), rel=1e-12)
        assert "qcd/reco/nominal/sum_pt" in f
    summary = json.loads((out / "summary.json").read_text())
    assert summary["datasets"]["qcd"]["events"] == 10 and summary["complete"] is True


def test_reweight_a_root_file_with_analysis_option_and_errors(pfnano, tmp_path, capsys):
    path, models, _ = pfnano
    out = tmp_path / "single"
    argv = ["reweight", str(models / "run0"), str(path), "--analysis", "pfnano_particles",
            "-o", str(out), "--format", "root", "--chunksize", "10"]  # fmt: skip
    assert main(argv) == 0
    weights = read_weights(out / "weights_pfnano.root")
    # one model: the nominal weight alone
    assert "weight_up" not in weights.table.fields and len(weights.table) == 10
    assert weights.metadata["model"]["ensemble"] is False
    # a second run into the same folder is refused unless --overwrite
    assert main(argv) == 2
    assert "holds the outputs of another run" in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 0
    job = tmp_path / "bad.yaml"
    job.write_text(yaml.safe_dump({"analysis": "pfnano_particles", "fileset": {"q": [str(path)]},
                                   "chunk_size": 4}))  # fmt: skip
    assert main(["reweight", str(models), str(job), "-o", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert "unknown key(s) ['chunk_size']" in err and "'chunksize'" in err
    job.write_text(yaml.safe_dump({"fileset": {"q": [str(path)]}}))
    assert main(["reweight", str(models), str(job), "-o", str(tmp_path / "bad")]) == 2
    assert "names no analysis" in capsys.readouterr().err
