"""DISProcessor on real Pythia events under the three executors."""

from __future__ import annotations

import math
import pickle

import awkward as ak
import hist
import numpy as np
import pytest
import uproot

from hepnnlr.errors import (
    ConfigError,
    EmptySelectionError,
    MissingBranchError,
    ShapeMismatchError,
)
from hepnnlr.observables.histos import DIS_OBSERVABLES
from hepnnlr.processors.dis import (
    DISProcessor,
    chunk_key,
    collect_columns,
    collect_cutflow,
    collect_hists,
)
from hepnnlr.schema import run_processor

# histograms merged in a different order (coffea's tree reduction on dask, completion order
# on futures) differ by floating-point summation rounding only
SUMMATION_RTOL = 1e-12

PARTICLE_FIELDS = ["pt", "eta", "phi", "charge", "log_pt", "deta", "dphi", "log_pt_over_Q"]
JET_FIELDS = ["pt", "eta", "phi", "tau21", "dphi_e"]
LEVEL_FIELDS = ["Q2", "log_Q2", "y", "x", "eta_e", "phi_e", "particles", "jets"]


@pytest.fixture(scope="module")
def branches(dis_sim_file) -> ak.Array:
    with uproot.open(dis_sim_file) as file:
        return file["events"].arrays()


@pytest.fixture(scope="module")
def outputs(dis_sim_file, branches, run_every_executor) -> dict[str, dict]:
    # four chunks: merging is exercised
    return run_every_executor(
        DISProcessor(), {"sim": [dis_sim_file]}, chunksize=math.ceil(len(branches) / 4)
    )


@pytest.fixture(scope="module")
def columns(outputs) -> ak.Array:
    return collect_columns(outputs["iterative"])


def test_output_keys_and_chunks(outputs, branches) -> None:
    for out in outputs.values():
        assert set(out) == {"cutflow", "hists", "columns"}
        assert set(out["cutflow"]) == {"sim"}
        assert set(out["hists"]) == {"gen", "reco"}
        assert set(out["hists"]["gen"]) == set(DIS_OBSERVABLES)
        for level in ("gen", "reco"):
            for h in out["hists"][level].values():
                # coffea's idiom: a leading dataset category axis, filled from the metadata
                assert isinstance(h.axes[0], hist.axis.StrCategory)
                assert h.axes[0].name == "dataset" and h.axes[0].traits.growth
                assert list(h.axes[0]) == ["sim"]
        keys = sorted(out["columns"])
        assert len(keys) == 4
        assert [k[2] for k in keys] == sorted(k[2] for k in keys)
        assert keys[0][2] == 0 and keys[-1][3] == len(branches)
        assert all(k[0] == "sim" for k in keys)


def test_executors_agree(outputs, assert_executors_agree) -> None:
    assert_executors_agree(outputs, collect_columns, levels=("gen", "reco"), rtol=SUMMATION_RTOL)


def test_columns_layout(columns) -> None:
    assert ak.fields(columns) == ["event", "weight", "pass_gen", "pass_reco", "gen", "reco"]
    for level in ("gen", "reco"):
        assert ak.fields(columns[level]) == LEVEL_FIELDS
        assert ak.fields(columns[level].particles) == PARTICLE_FIELDS
        assert ak.fields(columns[level].jets) == JET_FIELDS
    assert columns.behavior is None
    assert pickle.loads(pickle.dumps(columns)).tolist()[:3] == columns.tolist()[:3]


def test_columns_follow_file_order(columns, branches) -> None:
    assert len(columns) == len(branches)
    for name in ("event", "weight", "pass_gen", "pass_reco"):
        assert ak.all(columns[name] == branches[name])


def test_cutflow_counts(outputs, columns, branches) -> None:
    cutflow = collect_cutflow(outputs["iterative"])
    assert cutflow == outputs["iterative"]["cutflow"]["sim"]
    assert cutflow["events"] == len(branches)
    assert cutflow["pass_gen"] == int(ak.sum(branches.pass_gen))
    assert cutflow["pass_reco"] == int(ak.sum(branches.pass_reco))
    assert cutflow["pass_both"] == int(ak.sum(branches.pass_gen & branches.pass_reco))
    for level, electron in (("gen", "nGenElectron"), ("reco", "nRecoElectron")):
        assert cutflow[f"{level}_no_electron"] == int(ak.sum(branches[electron] == 0))
        assert cutflow[f"{level}_no_particles"] == int(
            ak.sum(ak.num(columns[level].particles) == 0)
        )
        assert cutflow[f"{level}_no_jets"] == int(ak.sum(ak.num(columns[level].jets) == 0))
    # the real sample has every kind of empty event this test is about
    assert cutflow["reco_no_electron"] > 0
    assert cutflow["gen_no_particles"] > cutflow["gen_no_electron"]
    assert cutflow["reco_no_jets"] > cutflow["reco_no_particles"]


def test_events_without_electron_particles_or_jets(columns, branches) -> None:
    no_electron = ak.to_numpy(branches.nRecoElectron == 0)
    reco = columns.reco[no_electron]
    for field in ("Q2", "y", "x", "eta_e", "phi_e"):
        assert ak.all(ak.is_none(reco[field]))
    assert ak.all(ak.num(reco.particles) == 0)
    assert ak.all(ak.num(reco.jets) == 0)
    with_electron = columns.reco[~no_electron]
    assert not ak.any(ak.is_none(with_electron.Q2))
    # events with an electron but no fiducial particle, or particles but no jet
    no_particles = with_electron[ak.num(with_electron.particles) == 0]
    no_jets = with_electron[
        (ak.num(with_electron.particles) > 0) & (ak.num(with_electron.jets) == 0)
    ]
    assert len(no_jets) > 0
    assert ak.all(ak.num(no_particles.jets) == 0)
    assert not ak.any(ak.is_none(no_jets.Q2))  # the event itself is kept, with its Q²


def test_particle_features_consistent(columns, branches) -> None:
    for level, electron in (("gen", "GenElectron"), ("reco", "RecoElectron")):
        cols = columns[level]
        parts = cols.particles
        assert ak.all((parts.pt > 0.1) & (parts.eta > -1.5) & (parts.eta < 2.75))
        np.testing.assert_allclose(
            ak.to_numpy(ak.flatten(parts.deta)),
            ak.to_numpy(ak.flatten(parts.eta - cols.eta_e)),
            atol=1e-12,
        )
        assert ak.all((parts.dphi > -np.pi) & (parts.dphi <= np.pi))
        q = np.sqrt(cols.Q2)
        np.testing.assert_allclose(
            ak.to_numpy(ak.flatten(parts.log_pt_over_Q)),
            ak.to_numpy(ak.flatten(np.log10(parts.pt / q))),
            atol=1e-12,
        )
        # η_e and φ_e are the file's electron (first and only entry)
        first = ak.firsts(branches[f"{electron}_eta"])
        present = ~ak.is_none(first)
        np.testing.assert_allclose(
            ak.to_numpy(cols.eta_e[present]), ak.to_numpy(first[present]), rtol=1e-12
        )


def test_jets_selection_and_ranges(columns) -> None:
    for level in ("gen", "reco"):
        jets = columns[level].jets
        assert ak.all(jets.pt >= 5.0)
        assert ak.all(jets.pt[:, 1:] <= jets.pt[:, :-1])
        assert ak.all((jets.dphi_e >= 0) & (jets.dphi_e <= np.pi))
        assert ak.all(jets.tau21 >= 0)
        assert ak.sum(ak.num(jets)) > 0


def test_histograms_sum_to_weights(outputs, columns) -> None:
    for level in ("gen", "reco"):
        hists = collect_hists(outputs["iterative"])[level]
        selected = columns[columns[f"pass_{level}"]]
        weights = ak.to_numpy(selected.weight)
        cols = selected[level]
        has_q2 = ~ak.to_numpy(ak.is_none(cols.Q2))
        n_particles = ak.to_numpy(ak.num(cols.particles))
        n_jets = ak.to_numpy(ak.num(cols.jets))
        assert hists["Q2"].sum(flow=True).value == pytest.approx(weights[has_q2].sum(), rel=1e-12)
        assert hists["particle_log_pt"].sum(flow=True).value == pytest.approx(
            (weights * n_particles).sum(), rel=1e-12
        )
        assert hists["jet_tau21"].sum(flow=True).value == pytest.approx(
            (weights * n_jets).sum(), rel=1e-12
        )


def test_processor_pickles_and_validates() -> None:
    restored = pickle.loads(pickle.dumps(DISProcessor()))
    assert restored.jets.radius == 1.0 and restored.fiducial.eta_max == 2.75
    assert "GenPart_charge" in DISProcessor.required_branches
    with pytest.raises(ConfigError, match="JetConfig"):
        DISProcessor(jets={"radius": 0.4})


def test_chunk_key_sorts_numerically() -> None:
    keys = [
        chunk_key(
            {"dataset": "sim", "filename": "a.root", "entrystart": s, "entrystop": s + 10}, 10
        )
        for s in (100, 20, 0, 10)
    ]
    assert [k[2] for k in sorted(keys)] == [0, 10, 20, 100]
    assert chunk_key({}, 7) == ("", "", 0, 7)


def test_collect_columns_orders_and_checks(outputs, columns) -> None:
    chunks = outputs["iterative"]["columns"]
    shuffled = {key: chunks[key] for key in reversed(sorted(chunks))}
    assert ak.array_equal(collect_columns({"columns": shuffled}), columns)
    keys = sorted(chunks)
    gap = {key: chunks[key] for key in keys if key != keys[1]}
    with pytest.raises(ShapeMismatchError, match="do not tile"):
        collect_columns({"columns": gap})
    two = dict(chunks)
    two[("data", "data.root", 0, 5)] = columns[:5]
    with pytest.raises(ConfigError, match=r"\['data', 'sim'\]"):
        collect_columns({"columns": two})
    assert len(collect_columns({"columns": two}, dataset="data")) == 5
    with pytest.raises(EmptySelectionError):
        collect_columns({"columns": {}})


def test_collect_hists_and_cutflow_check_their_input(outputs) -> None:
    out = outputs["iterative"]
    with pytest.raises(ConfigError, match=r"datasets present: \['sim'\]"):
        collect_hists(out, dataset="data")
    with pytest.raises(ConfigError, match=r"datasets present: \['sim'\]"):
        collect_cutflow(out, dataset="data")
    with pytest.raises(MissingBranchError, match="'hists'"):
        collect_hists({"cutflow": out["cutflow"]})
    with pytest.raises(MissingBranchError, match="'cutflow'"):
        collect_cutflow({"hists": out["hists"]})
    with pytest.raises(EmptySelectionError):
        collect_cutflow({"cutflow": {}})
    assert collect_hists(out, dataset="sim")["reco"]["Q2"].axes.name == ("Q2",)


def test_columns_false_keeps_cutflow_and_histograms(dis_sim_file, outputs, branches) -> None:
    """``DISProcessor(columns=False)`` drops the per-event columns only."""
    out = run_processor(
        DISProcessor(columns=False),
        {"sim": [dis_sim_file]},
        chunksize=math.ceil(len(branches) / 4),
        progress=False,
    )
    reference = outputs["iterative"]
    assert out["columns"] == {}
    assert out["cutflow"] == reference["cutflow"]
    for level, hists in reference["hists"].items():
        for name, expected in hists.items():
            # same chunks filled in the same order: identical sums
            np.testing.assert_array_equal(
                out["hists"][level][name].values(flow=True), expected.values(flow=True)
            )
    with pytest.raises(ConfigError):
        DISProcessor(columns="no")


def test_two_datasets_never_mix(dis_sim_file, dis_data_file, assert_datasets_apart) -> None:
    """Simulation and data in one run: one cut-flow and one histogram row per dataset,
    each equal, bit for bit, to the run over that file alone (two chunks per file)."""
    out = assert_datasets_apart(
        DISProcessor, {"sim": [dis_sim_file], "data": [dis_data_file]}, chunksize=750
    )
    for level in ("gen", "reco"):
        q2 = out["hists"][level]["Q2"]
        total = q2.sum(flow=True).value
        parts = [q2[{"dataset": d}].sum(flow=True).value for d in ("sim", "data")]
        assert total == pytest.approx(sum(parts)) and min(parts) > 0
    assert (
        out["cutflow"]["sim"]["events"]
        == out["cutflow"]["data"]["events"]
        == len(collect_columns(out, dataset="data"))
    )


def test_events_without_a_dataset_name_are_refused(dis_sim_file) -> None:
    from coffea.nanoevents import NanoEventsFactory

    from hepnnlr.schema import HepnnlrSchema

    events = NanoEventsFactory.from_root(
        {str(dis_sim_file): "events"}, schemaclass=HepnnlrSchema, mode="eager", entry_stop=20
    ).events()
    with pytest.raises(ConfigError, match="no dataset name"):
        DISProcessor().process(events)
    named = NanoEventsFactory.from_root(
        {str(dis_sim_file): "events"},
        schemaclass=HepnnlrSchema,
        mode="eager",
        entry_stop=20,
        metadata={"dataset": "sim"},
    ).events()
    out = DISProcessor().process(named)
    assert list(out["cutflow"]) == ["sim"] and out["cutflow"]["sim"]["events"] == 20
