"""A trained reweighter applied inside a coffea processor, on the workers."""

from __future__ import annotations

import pickle

import awkward as ak
import numpy as np
import pytest

from hepnnlr.errors import ConfigError, InputFileError
from hepnnlr.methods.reweighting import ReweightedDISProcessor
from hepnnlr.models import ModelSpec
from hepnnlr.processors.dis import DISProcessor, collect_columns
from hepnnlr.schema import run_processor
from hepnnlr.tensors import Standardizer, from_awkward
from hepnnlr.training import SavedReweighter, TrainingConfig, train_classifier

PARTICLES = ("log_pt", "deta", "dphi", "charge")
GLOBALS = ("log_Q2", "y", "eta_e")


def _reco(columns):
    passed = ak.to_numpy(columns["pass_reco"])
    return from_awkward(columns["reco"], particle_features=PARTICLES, global_features=GLOBALS,
                        select=passed).subset(passed)


@pytest.fixture(scope="module")
def sim_columns(dis_sim_file):
    return collect_columns(run_processor(DISProcessor(), {"sim": [dis_sim_file]}, progress=False))


@pytest.fixture(scope="module")
def saved(dis_data_file, sim_columns, tmp_path_factory):
    data = collect_columns(run_processor(DISProcessor(), {"d": [dis_data_file]}, progress=False))
    sim_x, data_x = _reco(sim_columns), _reco(data)
    scaler = Standardizer.fit(sim_x)
    clf = train_classifier(
        ModelSpec("pfn", phi=(16, 16), hidden=(16,)),
        scaler.transform(data_x), np.ones(len(data_x)),
        scaler.transform(sim_x), np.ones(len(sim_x)),
        TrainingConfig(epochs=2, batch_size=128, seed=3),
        name="data/sim",
    )
    reweighter = SavedReweighter(clf, scaler, level="reco")
    path = reweighter.save(tmp_path_factory.mktemp("reweighter"))
    return reweighter, path


def test_save_and_load_give_identical_weights(saved, sim_columns):
    reweighter, path = saved
    passed = ak.to_numpy(sim_columns["pass_reco"])
    original = reweighter.weights(sim_columns, passed)
    loaded = SavedReweighter.load(path).weights(sim_columns, passed)
    np.testing.assert_array_equal(loaded, original)
    np.testing.assert_array_equal(original[~passed], 1.0)
    assert np.all(original[passed] > 0) and np.std(original[passed]) > 0


@pytest.mark.parametrize("executor", ["iterative", "dask"])
def test_processor_weights_equal_in_memory_prediction(saved, sim_columns, dis_sim_file, executor,
                                                     dask_cluster):
    reweighter, path = saved
    expected = reweighter.weights(sim_columns, ak.to_numpy(sim_columns["pass_reco"]))
    address = dask_cluster.scheduler_address if executor == "dask" else None
    out = run_processor(ReweightedDISProcessor(path), {"sim": [dis_sim_file]}, executor=executor,
                        workers=2, chunksize=500, progress=False, scheduler_address=address)
    columns = collect_columns(out)
    # Chunks of 500 events are predicted in other batches than the whole sample: float32
    # sums in another order agree to a few units in the last place.
    np.testing.assert_allclose(ak.to_numpy(columns["reweight"]), expected, rtol=1e-5)
    total = float(np.sum((ak.to_numpy(columns["weight"]) * expected)[
        ak.to_numpy(columns["pass_reco"])]))
    assert out["reweighted"]["reco"]["Q2"].sum(flow=True).value == pytest.approx(total, rel=1e-5)


def test_the_model_is_not_pickled(saved, sim_columns):
    _, path = saved
    processor = ReweightedDISProcessor(path)
    processor.event_reweights(sim_columns[:20])  # loads the model in this process
    assert processor._reweighter is not None
    clone = pickle.loads(pickle.dumps(processor))
    assert clone._reweighter is None and len(pickle.dumps(processor)) < 10_000


def test_bad_paths_are_named(tmp_path):
    with pytest.raises(ConfigError, match="not a directory"):
        ReweightedDISProcessor(tmp_path / "missing")
    with pytest.raises(InputFileError, match="not a saved hepnnlr reweighter"):
        SavedReweighter.load(tmp_path)
