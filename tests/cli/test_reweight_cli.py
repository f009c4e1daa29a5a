"""``hepnnlr reweight`` end to end on the real PFNano file (ten events): a tiny ensemble
of GenCands reweighters applied through the pfnano_particles description, weights keyed
(run, luminosityBlock, event) with metadata, histograms per variation, a complete
summary; the file-and---analysis form; errors that name the key."""

from __future__ import annotations

import json
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot
import yaml
from shared_data import shared_data_file

from hepnnlr.analysis import get
from hepnnlr.cli.main import main
from hepnnlr.outputs import check_complete
from hepnnlr.results import read_weights

CONFIGS = Path(__file__).parents[2] / "examples" / "configs"
PARTICLES = ("log_pt", "eta", "phi", "charge")
EVENT = ("n_particles", "log_sum_pt")


@pytest.fixture(scope="module")
def pfnano(tmp_path_factory):
    """A PFN on the gen particle sets of events 0-4 vs 5-9, saved twice as ``hepnnlr
    unfold`` saves step 2 (``models/step2/run{r}``): once with scale 1, once with scale
    1.1 (two members that differ, for up/down, at the cost of one training); and the
    description's columns. Ten events: the ratio is noise, the pipeline is what is
    tested."""
    import warnings

    from coffea.nanoevents import NanoEventsFactory, PFNanoAODSchema

    from hepnnlr.models import ModelSpec
    from hepnnlr.processors import AnalysisProcessor
    from hepnnlr.tensors import Standardizer, from_awkward
    from hepnnlr.training import SavedReweighter, TrainingConfig, train_classifier

    path = shared_data_file("pfnano.root")
    with warnings.catch_warnings():  # coffea's notes about cross-references in the file
        warnings.simplefilter("ignore", RuntimeWarning)
        events = NanoEventsFactory.from_root(
            {str(path): "Events"},
            schemaclass=PFNanoAODSchema,
            metadata={"dataset": "qcd"},
            mode="eager",
        ).events()
    (columns,) = AnalysisProcessor(get("pfnano_particles")).process(events)["columns"].values()
    passed = ak.to_numpy(columns.pass_gen)
    inputs = from_awkward(columns.gen, particle_features=PARTICLES, global_features=EVENT,
                          select=passed).subset(passed)  # fmt: skip
    first, second = inputs.subset(np.arange(5)), inputs.subset(np.arange(5, len(inputs)))
    scaler = Standardizer.fit(inputs)
    classifier = train_classifier(
        ModelSpec("pfn", phi=(8,), hidden=(8,)),
        scaler.transform(first),
        np.ones(len(first)),
        scaler.transform(second),
        np.ones(len(second)),
        TrainingConfig(epochs=1, batch_size=4, seed=0),
        name="events 0-4 vs 5-9",
    )
    models = tmp_path_factory.mktemp("unfolded") / "models" / "step2"
    for run, scale in enumerate((1.0, 1.1)):
        meta = {"omnifold_step": "step2", "scale": scale, "aggregation": "mean"}
        SavedReweighter(classifier, scaler, level="gen", meta=meta).save(models / f"run{run}")
    return path, models, columns


def test_reweight_a_pfnano_job_end_to_end(pfnano, tmp_path, capsys):
    from hepnnlr.training.ensemble_reweighter import ReweighterEnsemble

    path, models, columns = pfnano
    # examples/configs/reweight_pfnano.yaml as shipped, on the 10-event file in small chunks
    job = tmp_path / "job.yaml"
    shipped = yaml.safe_load((CONFIGS / "reweight_pfnano.yaml").read_text())
    shipped.update(fileset={"qcd": [str(path)]}, chunksize=10, output_dir="out")
    job.write_text(yaml.safe_dump(shipped))
    assert main(["reweight", str(models), str(job), "--executor", "iterative"]) == 0
    out = tmp_path / "out"  # the job's output_dir, relative to the job file
    assert check_complete(out) == []
    assert "weights_qcd.parquet" in capsys.readouterr().out
    weights = read_weights(out / "weights_qcd.parquet")
    assert weights.keys == ["run", "luminosityBlock", "event"]
    assert weights.metadata["model"]["ensemble"] is True
    assert len(weights.metadata["model"]["members"]) == 2
    assert weights.metadata["inputs"][0]["sha256"]
    # the description's columns: run, event and genWeight as the file holds them
    assert weights.table.event.tolist() == columns.event.tolist()
    # the in-memory ensemble on the description's columns. The networks are float32: the
    # logits (log weights; |logit| up to ~120 for an untrained PFN summing thousands of
    # particles) agree to a few float32 ulps of their size (eps 1.2e-7)
    ensemble = ReweighterEnsemble.load(sorted(models.iterdir()))
    passed = ak.to_numpy(columns.pass_gen)
    expected = ensemble.variations(ak.zip({"gen": columns.gen}, depth_limit=1), passed)
    written = [ak.to_numpy(weights.table[k]) for k in ("weight", "weight_up", "weight_down")]
    for got, values in zip(written, expected, strict=True):
        np.testing.assert_allclose(np.log(got), np.log(values), rtol=1e-6, atol=1e-6)
    genweight = ak.to_numpy(columns.weight)
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


def test_the_other_forms_of_the_job_and_its_errors(pfnano, tmp_path, capsys):
    """A ROOT file with --analysis, a single model, options over the job's values; a
    finished folder, an unknown key and a missing analysis refused before any work."""
    from hepnnlr.training import SavedReweighter
    from hepnnlr.workflows.reweight import load_reweight_job, load_reweighter

    path, models, _ = pfnano
    job = load_reweight_job(models / "run0", path, analysis="pfnano_particles",
                            weights_format="root", output_dir=tmp_path / "o")  # fmt: skip
    assert job.analysis.name == "pfnano_particles" and job.weights_format == "root"
    assert job.analysis.fileset() == {"pfnano": {"files": {str(path): "Events"}}}
    assert job.output_dir == tmp_path / "o" and job.level is None
    # one saved model: no ensemble, no variations
    assert isinstance(load_reweighter(models / "run0"), SavedReweighter)
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "summary.json").write_text('{"complete": true}')
    argv = ["reweight", str(models), str(path), "--analysis", "pfnano_particles"]
    assert main([*argv, "-o", str(tmp_path / "done")]) == 2
    assert "holds the outputs of another run" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"analysis": "pfnano_particles", "fileset": {"q": [str(path)]},
                                   "chunk_size": 4}))  # fmt: skip
    assert main(["reweight", str(models), str(bad), "-o", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert "unknown key(s) ['chunk_size']" in err and "'chunksize'" in err
    bad.write_text(yaml.safe_dump({"fileset": {"q": [str(path)]}}))
    assert main(["reweight", str(models), str(bad), "-o", str(tmp_path / "bad")]) == 2
    assert "names no analysis" in capsys.readouterr().err
    assert main(["reweight", str(tmp_path), str(path), "--analysis", "pfnano_particles",
                 "-o", str(tmp_path / "bad")]) == 2  # fmt: skip
    assert "holds no saved reweighter" in capsys.readouterr().err
    assert main([*argv[:1], str(tmp_path / "nowhere"), *argv[2:], "-o", str(tmp_path / "x")]) == 2
    assert "nowhere does not exist" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # refused before the output folder is made
