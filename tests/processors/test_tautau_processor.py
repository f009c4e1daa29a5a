"""Tests of hepnnlr.processors.tautau.TauTauProcessor on real Pythia H/Z -> tau tau files."""

from __future__ import annotations

import math
import pickle

import awkward as ak
import numpy as np
import pytest
import uproot

from hepnnlr.errors import ConfigError, MissingBranchError, NonFiniteInputError
from hepnnlr.observables.tau import TAUTAU_FEATURES, TauTauSelectionConfig
from hepnnlr.processors.tautau import (
    TauTauProcessor,
    collect_columns,
    collect_cutflow,
    collect_hists,
    feature_table,
)
from hepnnlr.samples.tautau import TauTauConfig, generate_tautau
from hepnnlr.samples.tautau_reco import simulate_tautau_detector, write_tautau_events
from hepnnlr.schema import run_processor

N_EVENTS = 200
DETECTOR_SEED = 77
# sums of weights merged in another order (futures, dask) differ by rounding only
SUMMATION_RTOL = 1e-12
# no acceptance cuts: every event has a lepton and a tau at generator level
NO_CUTS = TauTauSelectionConfig(
    lepton_pt_min=0.0, lepton_eta_max=1e9, tau_pt_min=0.0, tau_eta_max=1e9
)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """Signal and background at z = 1.0 and 1.1, paired event by event in z (one Pythia
    block each: the charge alternation is tested in tests/samples/test_tautau.py)."""
    folder = tmp_path_factory.mktemp("tautau_proc")
    out = {}
    for process, seed in (("signal", 31), ("background", 32)):
        gen = generate_tautau(
            N_EVENTS, seed=seed, config=TauTauConfig(process), block_size=N_EVENTS
        )
        for z in (1.0, 1.1):
            reco = simulate_tautau_detector(gen, tau_energy_scale=z, seed=DETECTOR_SEED)
            out[f"{process}_{z}"] = str(write_tautau_events(folder / f"{process}_{z}.root", reco))
    return out


@pytest.fixture(scope="module")
def outputs(files, run_every_executor) -> dict[str, dict]:
    fileset = {"signal": [files["signal_1.0"]], "background": [files["background_1.0"]]}
    # three chunks per file: merging is exercised
    return run_every_executor(TauTauProcessor(), fileset, chunksize=math.ceil(N_EVENTS / 3))


def _run(path: str, processor: TauTauProcessor | None = None) -> dict:
    return run_processor(processor or TauTauProcessor(), {"d": [path]}, progress=False)


def test_identical_under_every_executor(outputs, assert_executors_agree) -> None:
    for dataset in ("signal", "background"):
        assert_executors_agree(
            outputs,
            lambda out, d=dataset: collect_columns(out, dataset=d),
            levels=("gen", "reco"),
            rtol=SUMMATION_RTOL,
        )
    columns = collect_columns(outputs["iterative"], dataset="signal")
    assert np.all(ak.to_numpy(columns.event) == np.arange(N_EVENTS))
    assert ak.all(columns.is_signal) and not ak.any(
        collect_columns(outputs["iterative"], dataset="background").is_signal
    )


def test_cutflow_hists_and_columns_agree(outputs) -> None:
    out = outputs["iterative"]
    assert sorted(out["cutflow"]) == ["background", "signal"]
    reasons = {"gen": [], "reco": []}
    for dataset in ("signal", "background"):
        cutflow = collect_cutflow(out, dataset)
        columns = collect_columns(out, dataset=dataset)
        hists = collect_hists(out, dataset)
        assert cutflow["events"] == N_EVENTS
        for level in ("gen", "reco"):
            reason = ak.to_numpy(columns[level].reason)
            reasons[level].append(reason)
            assert cutflow[f"{level}_pass"] == int(np.sum(reason == 0)) > 0
            assert cutflow[f"{level}_lepton"] == int(np.sum(reason != 1))
            assert (
                cutflow["events"]
                >= cutflow[f"{level}_lepton"]
                >= cutflow[f"{level}_tau"]
                >= cutflow[f"{level}_pass"]
                >= cutflow[f"{level}_collinear"]
            )
            for name in ("m_vis", "pt_ratio", "dphi"):
                assert hists[level][name].sum(flow=True).value == cutflow[f"{level}_pass"]
            assert hists[level]["m_col"].sum(flow=True).value == cutflow[f"{level}_collinear"]
    # opposite charges by construction: no event fails on the charge
    assert not np.any(np.concatenate(reasons["gen"]) == 3)
    assert not np.any(np.concatenate(reasons["reco"]) == 3)
    # detector losses: fewer reconstructed taus than generated ones pass (efficiency 0.7)
    total = {
        cut: sum(out["cutflow"][d][cut] for d in out["cutflow"]) for cut in ("reco_tau", "gen_tau")
    }
    assert total["reco_tau"] < total["gen_tau"]
    signal = collect_columns(out, dataset="signal").reco
    for name in TAUTAU_FEATURES[:3]:
        assert ak.all(ak.is_none(signal[name]) == (ak.to_numpy(signal.reason) != 0))


def test_two_datasets_never_mix(files, assert_datasets_apart) -> None:
    """Signal and background in one run: each dataset's cut-flow and histograms equal,
    bit for bit, those of the run over its file alone."""
    out = assert_datasets_apart(
        TauTauProcessor,
        {"signal": [files["signal_1.0"]], "background": [files["background_1.0"]]},
        chunksize=math.ceil(N_EVENTS / 3),
    )
    m_vis = out["hists"]["reco"]["m_vis"]
    assert sorted(m_vis.axes["dataset"]) == ["background", "signal"]


def _mean_and_error(values: np.ndarray) -> tuple[float, float]:
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


def test_signal_visible_mass_is_higher_than_background(files) -> None:
    # without acceptance cuts (all 200 events each at generator level, the ~55 % with a
    # reconstructed lepton and tau at detector level): the H (125 GeV) gives a higher m_vis
    # than the Z (91 GeV). Expected difference ~15 GeV with standard errors of ~1.5 GeV
    # (gen) and ~2.4 GeV (reco); require it beyond 5 and 3 standard errors.
    means = {"gen": {}, "reco": {}}
    for process in ("signal", "background"):
        columns = collect_columns(_run(files[f"{process}_1.0"], TauTauProcessor(selection=NO_CUTS)))
        assert ak.all(columns.gen.reason == 0)
        for level in means:
            m_vis = ak.to_numpy(ak.drop_none(columns[level].m_vis))
            means[level][process] = _mean_and_error(m_vis)
    for level, n_sigma in (("gen", 5), ("reco", 3)):
        (sig, sig_err), (bkg, bkg_err) = means[level]["signal"], means[level]["background"]
        assert sig - bkg > n_sigma * math.hypot(sig_err, bkg_err), level


def test_tau_energy_scale_shifts_visible_mass_by_sqrt_z(files) -> None:
    nominal = collect_columns(_run(files["signal_1.0"])).reco
    raised_out = _run(files["signal_1.1"])
    raised = collect_columns(raised_out).reco
    both = ak.to_numpy((nominal.reason == 0) & (raised.reason == 0))
    assert both.sum() > 20
    # a larger scale only lets taus in: every event selected at z = 1.0 is selected at 1.1
    assert np.all(ak.to_numpy(raised.reason)[ak.to_numpy(nominal.reason) == 0] == 0)
    assert collect_cutflow(raised_out)["reco_pass"] >= both.sum()
    ratio = ak.to_numpy(ak.drop_none(raised.m_vis[both] / nominal.m_vis[both]))
    # m^2 = z^2 m_tau^2 + m_l^2 + z (m(1)^2 - m_tau^2 - m_l^2): the ratio is sqrt(z) up to
    # m_tau_vis^2 / m_vis^2 < (1.78 / 30)^2 ~ 0.4 %; the median is much closer
    np.testing.assert_allclose(ratio, math.sqrt(1.1), rtol=5e-3)
    assert np.median(ratio) == pytest.approx(math.sqrt(1.1), rel=5e-4)
    np.testing.assert_allclose(
        ak.to_numpy(ak.drop_none(raised.pt_ratio[both] / nominal.pt_ratio[both])),
        1 / 1.1,
        rtol=1e-12,
    )
    # the sample mean moves up too; with migrations at the tau pT threshold the fraction is
    # sqrt(z) - 1 = 4.9 % within the statistical error of the two (largely shared) means
    mean0, err0 = _mean_and_error(ak.to_numpy(ak.drop_none(nominal.m_vis)))
    mean1, err1 = _mean_and_error(ak.to_numpy(ak.drop_none(raised.m_vis)))
    assert mean1 > mean0
    assert abs(mean1 / mean0 - math.sqrt(1.1)) < 3 * math.hypot(err0, err1) / mean0


def _edge_events(rows: list[dict]) -> ak.Array:
    lep_fields = ("pt", "eta", "phi", "E", "charge", "pdgId")
    tau_fields = ("pt", "eta", "phi", "E", "charge", "nProng")
    gen_lep = {"pt": 30.0, "eta": 0.2, "phi": 0.1, "E": 30.6, "charge": 1, "pdgId": -13}
    # MET (phi 1.4) between the lepton (phi 0.1) and the tau (phi 2.8): a collinear solution
    gen_tau = {"pt": 40.0, "eta": -0.4, "phi": 2.8, "E": 43.27, "charge": -1, "nProng": 1}
    records = []
    for i, row in enumerate(rows):
        records.append(
            {
                "event": i,
                "is_signal": True,
                "weight": 1.0,
                "gen_mtautau": 125.0,
                "tau_energy_scale": 1.0,
                "GenMET_pt": 20.0,
                "GenMET_phi": 1.4,
                "GenSumEt": 100.0,
                "MET_pt": 20.0,
                "MET_phi": 1.4,
                "GenLepton": [gen_lep],
                "GenTauh": [gen_tau],
                "RecoLepton": [{**gen_lep, **lep} for lep in row["lep"]],
                "RecoTauh": [{**gen_tau, **t} for t in row["tau"]],
            }
        )
    events = ak.Array(records)
    for name, fields in (
        ("RecoLepton", lep_fields),
        ("RecoTauh", tau_fields),
        ("GenLepton", lep_fields),
        ("GenTauh", tau_fields),
    ):
        events = ak.with_field(events, events[name][list(fields)], name)
    return events


def test_edge_cases_masked_and_counted(tmp_path) -> None:
    rows = [
        {"lep": [{}], "tau": [{}]},  # passes
        {"lep": [], "tau": [{}]},  # no reconstructed lepton
        {"lep": [{}], "tau": []},  # no reconstructed tau
        {"lep": [{}], "tau": [{"pt": 12.0, "E": 13.0}]},  # tau below 20 GeV
        {"lep": [{}], "tau": [{"charge": 1}]},  # same charge
    ]
    path = write_tautau_events(tmp_path / "edge.root", _edge_events(rows))
    out = _run(str(path))
    assert out["cutflow"] == {
        "d": {
            "events": 5,
            "gen_lepton": 5,
            "gen_tau": 5,
            "gen_pass": 5,
            "gen_collinear": 5,
            "reco_lepton": 4,
            "reco_tau": 2,
            "reco_pass": 1,
            "reco_collinear": 1,
        }
    }
    columns = collect_columns(out)
    assert columns.reco.reason.tolist() == [0, 1, 2, 2, 3]
    assert ak.is_none(columns.reco.m_vis).tolist() == [False, True, True, True, True]
    table = feature_table(columns, features=("m_vis", "pt_ratio", "m_col"))
    assert table["x"].shape == (1, 3) and table["event"].tolist() == [0]
    assert table["x"][0, 1] == pytest.approx(30.0 / 40.0)
    # a NaN in a branch stops the run naming the branch
    bad = _edge_events(rows)
    bad = ak.with_field(bad, np.array([np.nan, 1, 1, 1, 1.0]) * 20.0, "MET_pt")
    bad_path = write_tautau_events(tmp_path / "nan.root", bad)
    with pytest.raises(NonFiniteInputError, match="MET_pt"):
        _run(str(bad_path))


def test_config_errors_and_pickling(files, tmp_path) -> None:
    processor = TauTauProcessor()
    clone = pickle.loads(pickle.dumps(processor))
    assert clone.required_branches == processor.required_branches
    assert "RecoTauh_pt" in processor.required_branches
    assert "tau_energy_scale" in processor.required_branches
    with pytest.raises(ConfigError, match="TauTauSelectionConfig"):
        TauTauProcessor(selection={"tau_pt_min": 20})
    columns = collect_columns(_run(files["background_1.0"]))
    with pytest.raises(ConfigError, match="subset"):
        feature_table(columns, features=("m_vis", "mass_jj"))
    with pytest.raises(ConfigError, match="level"):
        feature_table(columns, level="parton")
    # a file without the tau tau branches fails before any work, naming the branch
    bad = tmp_path / "bad.root"
    with uproot.recreate(bad) as file:
        file.mktree("events", {"event": np.uint64, "weight": np.float64})
        file["events"].extend({"event": np.arange(3, dtype=np.uint64), "weight": np.ones(3)})
    with pytest.raises(MissingBranchError, match="is_signal"):
        _run(str(bad))


# --- the tautau analysis description: the same numbers through AnalysisProcessor --------

_DESCRIPTION_COLUMNS = ("reason", "collinear_ok", *TAUTAU_FEATURES, "lep_pt", "tau_pt")


@pytest.fixture(scope="module")
def description_output(files) -> dict:
    from hepnnlr.analysis import get
    from hepnnlr.processors import AnalysisProcessor

    fileset = {"signal": [files["signal_1.0"]], "background": [files["background_1.0"]]}
    # one chunk per file, and the nuisance z of every event
    return run_processor(
        AnalysisProcessor(get("tautau"), parameters=True), fileset, chunksize=N_EVENTS,
        progress=False,
    )  # fmt: skip


def test_tautau_description_gives_the_columns_of_tautau_processor(
    outputs, description_output
) -> None:
    from hist_checks import assert_same_hists

    for dataset in ("signal", "background"):
        generic = collect_columns(description_output, dataset=dataset)
        dedicated = collect_columns(outputs["iterative"], dataset=dataset)
        for level in ("gen", "reco"):
            reason = ak.to_numpy(dedicated[level].reason)
            assert (reason == 0).any() and (reason != 0).any(), (dataset, level)
            assert ak.fields(generic[level]) == [*_DESCRIPTION_COLUMNS, "is_signal"]
            np.testing.assert_array_equal(
                ak.to_numpy(generic[level].is_signal), ak.to_numpy(dedicated.is_signal)
            )
            for field in _DESCRIPTION_COLUMNS:
                got, expected = generic[level][field], dedicated[level][field]
                # bit for bit: the same None entries and the same values
                assert ak.is_none(got).tolist() == ak.is_none(expected).tolist(), field
                np.testing.assert_array_equal(
                    ak.to_numpy(ak.drop_none(got)), ak.to_numpy(ak.drop_none(expected))
                )
            np.testing.assert_array_equal(ak.to_numpy(generic[f"pass_{level}"]), reason == 0)
        # the description's parameter z is the file's tau_energy_scale, event by event
        np.testing.assert_array_equal(
            ak.to_numpy(generic.parameters.z), ak.to_numpy(dedicated.tau_energy_scale)
        )
    for dataset in ("signal", "background"):
        # every weight is 1.0: the sums are exact whatever the order of filling
        assert_same_hists(
            collect_hists(description_output, dataset=dataset),
            collect_hists(outputs["iterative"], dataset=dataset),
        )
        generic = collect_cutflow(description_output, dataset=dataset)
        dedicated = collect_cutflow(outputs["iterative"], dataset=dataset)
        for level in ("gen", "reco"):
            for mine, theirs in (("lepton", "lepton"), ("tau", "tau"),
                                 ("opposite_charge", "pass")):  # fmt: skip
                assert generic[f"{level}_{mine}"] == dedicated[f"{level}_{theirs}"], mine
            assert generic[f"{level}_collinear"] == dedicated[f"{level}_collinear"]
