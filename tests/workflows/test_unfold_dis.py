"""The whole unfolding on real Pythia files: processor, OmniFold, histograms, files, plots."""

from __future__ import annotations

from dataclasses import replace

import awkward as ak
import numpy as np
import pytest
import uproot

from hepnnlr.errors import EmptySelectionError, NonFiniteInputError
from hepnnlr.methods import OmniFoldConfig
from hepnnlr.models import ModelSpec
from hepnnlr.results import chi2_test, read_weights
from hepnnlr.samples import read_events, write_events
from hepnnlr.training import TrainingConfig
from hepnnlr.workflows import DISUnfoldingJob, run_dis_unfolding

SMALL = OmniFoldConfig(
    iterations=2,
    step1_model=ModelSpec("pfn", phi=(16, 16), hidden=(16,)),
    step2_model=ModelSpec("pfn", phi=(16, 16), hidden=(16,)),
    training=TrainingConfig(epochs=4, batch_size=256, seed=7),
)
EVENT_LEVEL = ("Q2", "y", "eta_e")


def _job(data, sim, out, **kwargs):
    return DISUnfoldingJob(
        data, sim, out, executor="iterative", omnifold=SMALL, progress=False, **kwargs
    )


@pytest.fixture(scope="module")
def closure(dis_sim_file, dis_sim_other_seed_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("closure")
    return run_dis_unfolding(_job(dis_sim_other_seed_file, dis_sim_file, out))


def test_closure_same_physics_other_seed(closure):
    """Data made with the simulation's own setup: the unfolded truth agrees with the data
    truth within statistical errors."""
    for name in EVENT_LEVEL:
        test = chi2_test(
            closure.histograms["data_truth"][name],
            closure.histograms["unfolded"][name],
            normalize=True,
            min_entries=5,
        )
        # Event-level histograms have one independent entry per event, so the chi2 with the
        # Weight-storage variances of both is chi2-distributed; p > 1e-3 per observable.
        assert test.pvalue > 1e-3, (name, test)


def test_outputs_can_be_joined_back_to_events(closure, dis_sim_file):
    weights = read_weights(closure.weights_file).table
    events = read_events(dis_sim_file)
    np.testing.assert_array_equal(ak.to_numpy(weights["event"]), ak.to_numpy(events["event"]))
    np.testing.assert_array_equal(
        ak.to_numpy(weights["pass_reco"]), ak.to_numpy(events["pass_reco"])
    )
    final = ak.to_numpy(weights["weight_unfolded"])
    np.testing.assert_allclose(final, ak.to_numpy(weights["weight_mc"] * weights["push_iter2"]))
    assert np.isfinite(final).all() and (final > 0).all()
    with uproot.open(closure.histograms_file) as f:
        keys = set(f.keys(recursive=True, cycle=False))
        q2 = f["gen_Q2/unfolded_nominal"].to_hist()
    # {region}/{dataset}_{variation}: one run, no bootstrap: the nominals only
    names = closure.histograms["unfolded"]
    assert keys == {f"gen_{n}" for n in names} | {f"reco_{n}" for n in names} | {
        f"gen_{n}/{d}_nominal" for n in names for d in ("data", "sim", "unfolded")
    } | {f"reco_{n}/{d}_nominal" for n in names for d in ("data", "sim")}
    np.testing.assert_allclose(q2.values(), closure.histograms["unfolded"]["Q2"].values())
    np.testing.assert_allclose(q2.variances(), closure.histograms["unfolded"]["Q2"].variances())
    # in memory: the dataset and variation axes, the same histograms bit for bit
    stacked = closure.regions["gen_Q2"]
    assert stacked.axes.name == ("dataset", "variation", "Q2")
    assert list(stacked.axes["dataset"]) == ["data", "sim", "unfolded"]
    for group, dataset in (("sim_truth", "sim"), ("data_truth", "data"), ("unfolded", "unfolded")):
        cell = stacked[{"dataset": dataset, "variation": "nominal"}]
        np.testing.assert_array_equal(
            cell.values(flow=True), closure.histograms[group]["Q2"].values(flow=True)
        )
    # the particle-level Q2 axis starts where the region does (Q2 > 150 GeV2): no bin of
    # the truth-level histograms below it, none left empty by the region's cut
    assert stacked.axes["Q2"].edges[0] == pytest.approx(150.0)
    assert {p.suffix for p in closure.plots} == {".png", ".pdf"}
    assert all(p.stat().st_size > 0 for p in closure.plots)


def test_unfolded_histograms_use_the_final_weights(closure, dis_sim_file):
    h = closure.histograms["unfolded"]["Q2"]
    weights = read_weights(closure.weights_file).table
    # Every unfolded event lies in the region and has exactly one Q2 entry.
    assert h.sum(flow=True).value == pytest.approx(
        float(ak.sum(weights["weight_unfolded"][_in_region(dis_sim_file)])), rel=1e-9
    )


def _in_region(path):
    events = read_events(path)
    from hepnnlr.observables import HERA, KinematicRegion, electron_kinematics

    kin = electron_kinematics(ak.firsts(events["GenElectron"]), HERA)
    return ak.to_numpy(events["pass_gen"]) & KinematicRegion().mask(kin)


def _rewrite(source, target, change):
    events = read_events(source)
    write_events(target, change(events))
    return target


def test_data_without_selected_events_is_a_clear_error(dis_sim_file, tmp_path):
    empty = _rewrite(
        dis_sim_file,
        tmp_path / "no_reco.root",
        lambda ev: ak.with_field(ev, np.zeros(len(ev), bool), "pass_reco"),
    )
    with pytest.raises(EmptySelectionError, match=r"no_reco\.root.*passes the detector-level"):
        run_dis_unfolding(_job(empty, dis_sim_file, tmp_path / "out"))


def test_nan_in_a_particle_feature_names_feature_and_file(dis_sim_file, tmp_path):
    def poison(ev):
        pt = ak.to_numpy(ak.flatten(ev["RecoPart"]["pt"])).copy()
        pt[3] = np.nan
        reco = ak.with_field(ev["RecoPart"], ak.unflatten(pt, ak.num(ev["RecoPart"])), "pt")
        return ak.with_field(ev, reco, "RecoPart")

    bad = _rewrite(dis_sim_file, tmp_path / "nan.root", poison)
    # The processor refuses it before a cut (pT > 0.1 GeV) could drop the particle silently.
    with pytest.raises(NonFiniteInputError, match=r"RecoPart_pt of .*nan\.root.*entry 0"):
        run_dis_unfolding(_job(dis_sim_file, bad, tmp_path / "out"))


def test_config_is_validated():
    with pytest.raises(Exception, match="workers=0"):
        replace(_job("a.root", "b.root", "out"), workers=0)


def test_repeats_and_bootstrap_give_stat_method_and_total(dis_sim_file, dis_data_file, tmp_path):
    import json

    from hepnnlr.workflows.unfold_dis import UnfoldUncertaintyConfig, truth_histograms

    mlp = ModelSpec("mlp", hidden=(8,))
    config = replace(
        SMALL,
        iterations=1,
        step1_model=mlp,
        step2_model=mlp,
        training=TrainingConfig(epochs=2, batch_size=256, seed=2),
    )
    job = replace(
        _job(dis_data_file, dis_sim_file, tmp_path, particle_features=()),
        omnifold=config,
        uncertainty=UnfoldUncertaintyConfig(repeats=2, bootstrap=2),
        seeds={"data": 11},
        plots=False,
    )
    out = run_dis_unfolding(job)
    weights = read_weights(out.weights_file).table
    runs = np.stack([ak.to_numpy(weights[f"weight_run{r}"]) for r in (1, 2)])
    boot = np.stack([ak.to_numpy(weights[f"weight_bootstrap{r}"]) for r in (1, 2)])
    np.testing.assert_allclose(ak.to_numpy(weights["weight_unfolded"]), runs.mean(axis=0))
    assert out.replicas.repeat_of == (0, 1)  # replica b retrains with run b mod 2's seeds
    from hepnnlr.processors.analysis import run_analysis
    from hepnnlr.processors.chunks import collect_columns

    columns = collect_columns(
        run_analysis(job.description, {"s": [dis_sim_file]}, observables=True, progress=False)
    )

    def q2(w):
        return truth_histograms(columns, w, job.description, job.truth_region)["Q2"].values()

    # stat: the spread of each replica's shift from the run whose seeds it trained with
    stat = np.std([q2(boot[b]) - q2(runs[b]) for b in (0, 1)], axis=0, ddof=1)
    method = np.std([q2(w) for w in runs], axis=0, ddof=1)
    errors = out.uncertainties["Q2"]
    np.testing.assert_allclose(errors.stat, stat, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(errors.method, method, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        out.histograms["unfolded"]["Q2"].variances(), stat**2 + method**2, rtol=1e-9, atol=1e-12
    )
    assert stat.max() > 0 and method.max() > 0
    summary = json.loads(out.summary_file.read_text())
    q2_summary = summary["uncertainties"]["Q2"]
    np.testing.assert_allclose(q2_summary["total"], np.hypot(stat, method), atol=1e-9)
    assert q2_summary["edges"] == pytest.approx(list(errors.edges))
    assert summary["uncertainty"]["seeds"] == {"data": 11}
    assert summary["error_model"]["stat"].startswith("statistical: standard deviation")
    with uproot.open(out.histograms_file) as f:
        nominal = f["gen_Q2/unfolded_nominal"].values()
        np.testing.assert_allclose(nominal, q2(runs.mean(axis=0)))
        for part, error in (("stat", stat), ("method", method)):
            for sign, side in ((1, "up"), (-1, "down")):
                shifted = f[f"gen_Q2/unfolded_{part}_{side}"].values()
                np.testing.assert_allclose(shifted, nominal + sign * error, atol=1e-9)
        assert "gen_Q2/sim_stat_up" not in f  # the prior has no such variation


def test_uncertainty_settings_are_validated_and_old_names_move():
    from hepnnlr.errors import ConfigError
    from hepnnlr.workflows.unfold_dis import UnfoldUncertaintyConfig

    job = _job("a.root", "b.root", "out")
    with pytest.raises(ConfigError, match="uncertainty.bootstrap=1"):
        UnfoldUncertaintyConfig(bootstrap=1)
    with pytest.raises(ConfigError, match="uncertainty.repeats=0"):
        UnfoldUncertaintyConfig(repeats=0)
    with pytest.raises(ConfigError, match=r"seeds: unknown sample\(s\) \['sim'\]"):
        replace(job, seeds={"sim": 3})
    with pytest.warns(FutureWarning, match="is deprecated: it is uncertainty"):
        old = replace(job, runs=3, bootstrap=4)
    assert old.uncertainty == UnfoldUncertaintyConfig(repeats=3, bootstrap=4)
    assert old.runs is None and old.bootstrap is None
    with pytest.raises(ConfigError, match="runs=3 and uncertainty.repeats=2 disagree"):
        replace(job, runs=3, uncertainty=UnfoldUncertaintyConfig(repeats=2))
    assert job.seed_of("data") == job.training_seed == SMALL.training.seed
    seeded = replace(job, uncertainty=UnfoldUncertaintyConfig(seed=5))
    assert seeded.seed_of("data") == 5 and seeded.omnifold_config.training.seed == 5
