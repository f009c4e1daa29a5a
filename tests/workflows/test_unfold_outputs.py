"""What an unfolding leaves to travel: keyed weights with metadata, saved networks."""

from __future__ import annotations

import hashlib

import awkward as ak
import numpy as np
import pytest
from tiny_unfolding import shared_tiny_unfolding

from hepnnlr.errors import ConfigError, InputFileError
from hepnnlr.processors.dis import DISProcessor, collect_columns
from hepnnlr.results.io import read_weights, write_weights
from hepnnlr.schema import run_processor
from hepnnlr.training import SavedReweighter
from hepnnlr.training.ensemble_reweighter import ReweighterEnsemble
from hepnnlr.workflows import DISUnfoldingJob


@pytest.fixture(scope="module")
def unfolded(dis_data_file, dis_sim_file, tmp_path_factory):
    return shared_tiny_unfolding(dis_data_file, dis_sim_file, tmp_path_factory)


@pytest.fixture(scope="module")
def sim_columns(dis_sim_file):
    return collect_columns(run_processor(DISProcessor(), {"s": [dis_sim_file]}, progress=False))


def test_weights_are_keyed_and_described(unfolded, dis_sim_file, sim_columns):
    weights = read_weights(unfolded.weights_file)
    table, meta = weights.table, weights.metadata
    # hepnnlr's DIS files have no run/luminosityBlock: the key is (file, entry)
    assert weights.keys == ["file", "entry"]
    assert set(ak.to_numpy(table["file"]).tolist()) == {dis_sim_file.name}
    np.testing.assert_array_equal(ak.to_numpy(table["entry"]), np.arange(len(table)))
    np.testing.assert_array_equal(ak.to_numpy(table["event"]), ak.to_numpy(sim_columns["event"]))
    sim = meta["inputs"]["sim"]
    assert sim["sha256"] == hashlib.sha256(dis_sim_file.read_bytes()).hexdigest()
    assert sim["size_bytes"] == dis_sim_file.stat().st_size
    assert meta["normalization"]["mc_scale"] == pytest.approx(unfolded.result.mc_scale)
    assert "already normalized" in meta["normalization"]["weight_mc"]
    assert meta["job"]["omnifold"]["iterations"] == 1
    # the dis description's gen.region, and the description itself
    assert meta["regions"]["truth_region"] == "Q2 > 150 and 0.08 < y < 0.7"
    assert meta["analysis"]["name"] == "dis" and "observables" in meta["analysis"]["gen"]
    # in_region is exactly the set of events filling the unfolded histograms
    inside = ak.to_numpy(table["in_region"])
    assert not (inside & ~ak.to_numpy(table["pass_gen"])).any()
    total = unfolded.histograms["unfolded"]["Q2"].sum(flow=True).value
    assert total == pytest.approx(float(ak.to_numpy(table["weight_unfolded"])[inside].sum()))


def test_write_weights_refuses_repeated_keys_and_reads_need_metadata(tmp_path):
    with pytest.raises(ConfigError, match=r"not unique.*'run': 1, 'event': 7"):
        write_weights(
            tmp_path / "w.parquet",
            {"run": np.array([1, 1, 2]), "event": np.array([7, 7, 7])},
            {"w": np.ones(3)},
        )
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"event": [1, 2]}), tmp_path / "plain.parquet")
    with pytest.raises(InputFileError, match="no hepnnlr metadata"):
        read_weights(tmp_path / "plain.parquet")


def test_saved_step2_gives_back_the_unfolded_weights(unfolded, sim_columns):
    """The saved particle-level network, applied to the simulation's particle-level
    columns, gives the unfolded weights: weight_unfolded = weight_mc * scale * w(gen)
    on pass_gen events (fakes get the prior convention's weight, not the network's)."""
    step2 = unfolded.weights_file.parent / "models" / "step2" / "run0"
    assert step2 in unfolded.models
    reweighter = SavedReweighter.load(step2)
    assert reweighter.level == "gen" and reweighter.meta["omnifold_step"] == "step2"
    table = read_weights(unfolded.weights_file).table
    pass_gen = ak.to_numpy(table["pass_gen"])
    w = reweighter.weights(sim_columns, select=pass_gen) * reweighter.meta["scale"]
    expected = ak.to_numpy(table["weight_unfolded"] / table["weight_mc"])
    # same network, same float32 inputs: agreement to float32 rounding of exp(logit)
    np.testing.assert_allclose(w[pass_gen], expected[pass_gen], rtol=1e-5)
    # the ensemble helper applies each member's saved scale itself
    nominal = ReweighterEnsemble.load([step2]).weights(sim_columns, select=pass_gen)
    np.testing.assert_allclose(nominal[pass_gen], expected[pass_gen], rtol=1e-5)
    step1 = SavedReweighter.load(step2.parent.parent / "step1" / "run0")
    assert step1.level == "reco"


def test_save_models_choices_are_checked(dis_data_file, dis_sim_file, tmp_path):
    with pytest.raises(ConfigError, match="save_models='some' must be one of"):
        DISUnfoldingJob(dis_data_file, dis_sim_file, tmp_path, save_models="some")


def test_cli_takes_save_models():
    from hepnnlr.cli.main import build_parser
    from hepnnlr.cli.options import given

    parser = build_parser()
    args = parser.parse_args(["unfold", "--data", "d.root", "--sim", "s.root"])
    assert "save_models" not in given(args)  # left to the job: its default, "final"
    args = parser.parse_args(["unfold", "job.yaml", "--save-models", "all"])
    assert args.save_models == "all"
    with pytest.raises(SystemExit):
        parser.parse_args(["unfold", "job.yaml", "--save-models", "some"])
