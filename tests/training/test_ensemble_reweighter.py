"""Reweighters that travel with a coffea processor: bytes, pickling, ensemble variations,
on a 2-worker dask LocalCluster that cannot read the model's directory."""

from __future__ import annotations

import pickle
import shutil
import sys

import awkward as ak
import cloudpickle
import hist
import numpy as np
import pytest
import uproot
from coffea import processor
from coffea.analysis_tools import Weights
from shared_data import shared_data_file

from hepnnlr.errors import ConfigError, InputFileError
from hepnnlr.models import ModelSpec
from hepnnlr.schema import run_processor
from hepnnlr.tensors import Standardizer, from_awkward
from hepnnlr.training import SavedReweighter, TrainingConfig, train_classifier
from hepnnlr.training.ensemble_reweighter import ReweighterEnsemble

FEATURES = ("pt", "eta")


def _columns(muons: ak.Array) -> ak.Array:
    """The reweighter's inputs: the leading muon's pt and eta under ``reco``."""
    lead = ak.firsts(muons)
    fields = {name: ak.fill_none(lead[name], 0.0) for name in FEATURES}
    return ak.zip({"reco": ak.zip(fields)}, depth_limit=1)


def _pt(muons: ak.Array) -> np.ndarray:
    return ak.to_numpy(ak.fill_none(ak.firsts(muons).pt, -1.0))


class LeadingMuonProcessor(processor.ProcessorABC):
    """Leading-muon pT weighted by genWeight and the ensemble, with its up/down."""

    def __init__(self, ensemble: ReweighterEnsemble) -> None:
        self.ensemble = ensemble

    def process(self, events):
        has_muon = ak.to_numpy(ak.num(events.Muon) > 0)
        nominal, up, down = self.ensemble.variations(_columns(events.Muon), has_muon)
        weights = Weights(len(events))
        weights.add("genWeight", ak.to_numpy(events.genWeight))
        weights.add("reweighter", nominal, weightUp=up, weightDown=down)
        return {"pt": _fill(_pt(events.Muon), weights)}

    def postprocess(self, accumulator):
        return accumulator


def _fill(pt: np.ndarray, weights: Weights) -> hist.Hist:
    h = hist.Hist.new.StrCat([], growth=True, name="systematic").Reg(8, 0, 80, name="pt")
    h = h.Weight()
    for name, modifier in (("nominal", None), ("up", "reweighterUp"), ("down", "reweighterDown")):
        h.fill(systematic=name, pt=pt, weight=weights.weight(modifier))
    return h


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    """Two reweighters (seeds 0, 1) between the first and the second half of nano_dy.root's
    events with a muon (40 events: a tiny, fast training; the ratio itself is noise)."""
    with uproot.open(shared_data_file("nano_dy.root")) as f:
        arrays = f["Events"].arrays(["Muon_pt", "Muon_eta"])
    muons = ak.zip({"pt": arrays.Muon_pt, "eta": arrays.Muon_eta})
    columns = _columns(muons)
    has_muon = ak.to_numpy(ak.num(muons) > 0)
    inputs = from_awkward(columns["reco"], global_features=FEATURES, select=has_muon)
    inputs = inputs.subset(has_muon)
    half = len(inputs) // 2
    first, second = inputs.subset(np.arange(half)), inputs.subset(np.arange(half, len(inputs)))
    scaler = Standardizer.fit(inputs)
    folder = tmp_path_factory.mktemp("members")
    paths = []
    for seed in (0, 1):
        clf = train_classifier(
            ModelSpec("mlp", hidden=(8,)),
            scaler.transform(first),
            np.ones(len(first)),
            scaler.transform(second),
            np.ones(len(second)),
            TrainingConfig(epochs=2, batch_size=8, seed=seed),
            name=f"first/second half, seed {seed}",
        )
        paths.append(SavedReweighter(clf, scaler, level="reco").save(folder / f"run{seed}"))
    return folder, paths


def test_bytes_round_trip_and_pickle(members):
    _, paths = members
    reweighter = SavedReweighter.load(paths[0])
    columns = _columns(ak.Array([[{"pt": 30.0, "eta": 0.5}], [{"pt": 50.0, "eta": -1.2}]]))
    clone = SavedReweighter.from_bytes(reweighter.to_bytes())
    np.testing.assert_array_equal(clone.weights(columns), reweighter.weights(columns))
    copied = pickle.loads(pickle.dumps(reweighter))
    np.testing.assert_array_equal(copied.weights(columns), reweighter.weights(columns))
    other = ak.zip({"reco": ak.zip({"pt": [30.0], "phi": [0.1]})}, depth_limit=1)
    with pytest.raises(ConfigError, match=r"\['pt', 'eta'\].*\['pt', 'phi'\]"):
        reweighter.weights(other)
    with pytest.raises(InputFileError, match="not a zip archive"):
        SavedReweighter.from_bytes(b"not a model")
    with pytest.raises(ConfigError, match="at least one member"):
        ReweighterEnsemble([])


def test_processor_on_dask_without_the_model_path(members, dask_cluster):
    """The ensemble travels inside the processor: its directory is deleted before the run,
    and the dask histogram (nominal, up, down) equals the in-memory prediction's."""
    folder, paths = members
    ensemble = ReweighterEnsemble.load(paths)
    shutil.rmtree(folder)
    # the processor class lives in this test module, which the workers cannot import
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        out = run_processor(
            LeadingMuonProcessor(ensemble),
            {"dy": [str(shared_data_file("nano_dy.root"))]},
            executor="dask",
            scheduler_address=dask_cluster.scheduler_address,
            chunksize=20,
            treename="Events",
            schema="nanoaod",
            progress=False,
        )
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    with uproot.open(shared_data_file("nano_dy.root")) as f:
        arrays = f["Events"].arrays(["Muon_pt", "Muon_eta", "genWeight"])
    muons = ak.zip({"pt": arrays.Muon_pt, "eta": arrays.Muon_eta})
    has_muon = ak.to_numpy(ak.num(muons) > 0)
    nominal, up, down = ensemble.variations(_columns(muons), has_muon)
    weights = Weights(len(muons))
    weights.add("genWeight", ak.to_numpy(arrays.genWeight))
    weights.add("reweighter", nominal, weightUp=up, weightDown=down)
    expected = _fill(_pt(muons), weights)
    for name in ("nominal", "up", "down"):
        # same networks and float32 inputs, per-chunk sums in another order: 1e-6
        np.testing.assert_allclose(
            out["pt"][name, :].values(flow=True),
            expected[name, :].values(flow=True),
            rtol=1e-6,
        )
    # two members with other seeds disagree somewhere: up and down differ from nominal
    assert not np.allclose(up[has_muon], nominal[has_muon])
