"""CaloProcessor on generated showers (two of them emptied) under the three executors."""

from __future__ import annotations

import math
import pickle

import awkward as ak
import numpy as np
import pytest
import uproot

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.observables.calo import DCTR_FEATURES, WIDTH_FEATURES, shower_features
from hepnnlr.observables.calo_histos import CALO_HISTOGRAMS
from hepnnlr.processors.calo import (
    CaloProcessor,
    collect_columns,
    collect_cutflow,
    collect_hists,
)
from hepnnlr.samples.calo import generate_calo, read_calo_events, write_calo_events
from hepnnlr.schema import run_processor

N_EVENTS = 400
EMPTY = (3, 257)  # showers whose hits are removed: every cell "below threshold"
# histograms merged in a different order (dask's tree reduction, futures' completion
# order) differ by floating-point summation rounding only
SUMMATION_RTOL = 1e-12


@pytest.fixture(scope="module")
def shower_file(tmp_path_factory) -> str:
    showers = generate_calo(N_EVENTS, seed=11, block_size=100)
    keep = np.ones(N_EVENTS, dtype=bool)
    keep[list(EMPTY)] = False
    per_hit, _ = ak.broadcast_arrays(keep, showers.Hit.E)
    showers = ak.with_field(showers, showers.Hit[per_hit], "Hit")
    # varied weights, so that weighted filling is checked
    showers = ak.with_field(showers, 0.5 + (np.arange(N_EVENTS) % 3), "weight")
    path = tmp_path_factory.mktemp("calo") / "calo.root"
    return str(write_calo_events(path, showers))


@pytest.fixture(scope="module")
def outputs(shower_file, run_every_executor) -> dict[str, dict]:
    # four chunks: merging is exercised
    return run_every_executor(
        CaloProcessor(), {"g4": [shower_file]}, chunksize=math.ceil(N_EVENTS / 4)
    )


@pytest.fixture(scope="module")
def columns(outputs) -> ak.Array:
    return collect_columns(outputs["iterative"])


def test_output_keys_and_chunks(outputs) -> None:
    for out in outputs.values():
        assert set(out) == {"cutflow", "hists", "columns"}
        assert set(out["hists"]) == set(CALO_HISTOGRAMS)
        for h in out["hists"].values():
            assert h.axes[0].name == "dataset" and list(h.axes[0]) == ["g4"]
        keys = sorted(out["columns"])
        assert len(keys) == 4 and keys[0][2] == 0 and keys[-1][3] == N_EVENTS


def test_cutflow_counts_empty_showers(outputs) -> None:
    for out in outputs.values():
        assert out["cutflow"] == {"g4": {"events": N_EVENTS, "empty_showers": len(EMPTY)}}


def test_executors_agree(outputs) -> None:
    reference = outputs["iterative"]
    for executor in ("futures", "dask"):
        out = outputs[executor]
        for name, histogram in reference["hists"].items():
            other = out["hists"][name]
            np.testing.assert_allclose(
                other.values(flow=True), histogram.values(flow=True), rtol=SUMMATION_RTOL
            )
            np.testing.assert_allclose(
                other.variances(flow=True), histogram.variances(flow=True), rtol=SUMMATION_RTOL
            )
        assert ak.array_equal(collect_columns(out), collect_columns(reference))


def test_columns_are_the_features_of_the_file(shower_file, columns) -> None:
    assert columns.fields == ["event", "weight", "E_true", *DCTR_FEATURES, *WIDTH_FEATURES]
    showers = read_calo_events(shower_file)
    np.testing.assert_array_equal(columns.event.to_numpy(), np.arange(N_EVENTS))
    np.testing.assert_array_equal(columns.weight.to_numpy(), showers.weight.to_numpy())
    assert ak.array_equal(
        columns[list(DCTR_FEATURES + WIDTH_FEATURES)], shower_features(showers.Hit)
    )


def test_empty_showers_have_no_centroid(columns) -> None:
    empty = columns[list(EMPTY)]
    assert ak.all(empty.n_hits == 0) and ak.all(empty.E_total == 0.0)
    assert ak.all(ak.is_none(empty.centroid)) and ak.all(ak.is_none(empty.x2_layer_12))
    assert ak.sum(ak.is_none(columns.centroid)) == len(EMPTY)


def test_histogram_totals_are_event_weights(outputs, columns) -> None:
    hists = collect_hists(outputs["iterative"])
    weight = columns.weight.to_numpy()
    has_centroid = ~ak.to_numpy(ak.is_none(columns.centroid))
    assert hists["n_hits"].sum(flow=True).value == pytest.approx(weight.sum(), rel=1e-12)
    assert hists["centroid"].sum(flow=True).value == pytest.approx(
        weight[has_centroid].sum(), rel=1e-12
    )
    assert hists["E_total"].sum(flow=True).variance == pytest.approx((weight**2).sum(), rel=1e-12)
    # the default binning holds the bulk of the default showers
    for name in ("n_hits", "E_total", "centroid", "E_layer_10"):
        inside = hists[name].sum(flow=False).value
        assert inside > 0.98 * hists[name].sum(flow=True).value, name


def test_processor_pickles_and_validates() -> None:
    processor = pickle.loads(pickle.dumps(CaloProcessor(threshold=0.2)))
    assert processor.threshold == 0.2 and processor.n_layers == 30
    with pytest.raises(ConfigError, match="threshold"):
        CaloProcessor(threshold=-1.0)
    with pytest.raises(ConfigError, match="n_layers"):
        CaloProcessor(n_layers=0)


def test_missing_branch_fails_before_work(tmp_path) -> None:
    path = tmp_path / "no_hits.root"
    with uproot.recreate(path) as file:
        file.mktree("events", {"event": np.uint64, "weight": np.float64, "E_true": np.float64})
        file["events"].extend(
            {"event": np.arange(3, dtype=np.uint64), "weight": np.ones(3), "E_true": np.ones(3)}
        )
    with pytest.raises(MissingBranchError, match="nHit"):
        run_processor(CaloProcessor(), {"g4": [str(path)]}, progress=False)


def test_two_datasets_never_mix(shower_file, tmp_path, assert_datasets_apart) -> None:
    """The showers with two emptied next to other showers (unit weights) in one run: each
    dataset's cut-flow and histograms equal, bit for bit, those of its file alone."""
    other = str(write_calo_events(tmp_path / "other.root", generate_calo(100, seed=12)))
    out = assert_datasets_apart(
        CaloProcessor, {"g4": [shower_file], "gan": [other]}, chunksize=N_EVENTS // 2
    )
    assert collect_cutflow(out, "gan") == {"events": 100, "empty_showers": 0}
    assert collect_cutflow(out, "g4")["empty_showers"] == len(EMPTY)


# --- the calo analysis description: the same numbers through AnalysisProcessor ----------


@pytest.fixture(scope="module")
def description_output(shower_file) -> dict:
    from hepnnlr.analysis import get
    from hepnnlr.processors import AnalysisProcessor

    # the chunks of `outputs`, merged in the same order by the iterative executor, so the
    # weighted sums (weights 0.5, 1.5, 2.5) add up in the same order: bit for bit
    return run_processor(
        AnalysisProcessor(get("calo")), {"g4": [shower_file]},
        chunksize=math.ceil(N_EVENTS / 4), progress=False,
    )  # fmt: skip


def test_calo_description_gives_the_histograms_and_cut_flow_of_calo_processor(
    outputs, description_output
) -> None:
    from hist_checks import assert_same_hists

    assert_same_hists(
        collect_hists(description_output)["reco"], collect_hists(outputs["iterative"])
    )
    assert collect_cutflow(description_output) == {
        "events": N_EVENTS,
        "reco_empty_showers": len(EMPTY),  # CaloProcessor's empty_showers
        "pass_reco": N_EVENTS,  # every shower is kept, the empty ones too
    }


def test_calo_description_gives_the_columns_of_calo_processor(columns, description_output) -> None:
    generic = collect_columns(description_output)
    names = ["E_true", *DCTR_FEATURES, *WIDTH_FEATURES]
    assert generic.reco.fields == names
    # bit for bit, with the same None entries (the two empty showers) and the same types
    assert ak.array_equal(generic.reco, columns[names])
    assert ak.array_equal(generic[["event", "weight"]], columns[["event", "weight"]])
