"""``hepnnlr fit`` with a target of real data (issue 16): a target among ``samples.files``
without generator collections is read at the reco level alone, as the same events are
with their truth, and fitted by SRGN without a true θ reported; a DCTR fit, which reads
the target's generator level, is refused naming the target and the fix.

The samples are the session's DIS files (1,500 events each) through a small description
of the electron; the varied sample's θ is the event's true y (a per-event value, as a
generator run's θ is), which is all the pipeline needs: these tests check the plumbing,
not the physics.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from reco_only import reco_only_copy

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.workflows.fit_config import load_fit_job
from hepnnlr.workflows.fit_data import resolve_target_truth
from hepnnlr.workflows.fit_inputs import load_samples

DESCRIPTION = """
name: dis_electron
schema: hepnnlr
treename: events
weight: weight
gen:
  features: {pt_e: first(GenElectron.pt), eta_e: first(GenElectron.eta), n: num(GenPart)}
  selection: {electron: num(GenElectron) == 1}
reco:
  features: {pt_e: first(RecoElectron.pt), eta_e: first(RecoElectron.eta), n: num(RecoPart)}
  selection: {pass_reco: pass_reco}
parameters:
  y: {low: 0.0, high: 1.0, nominal: 0.5, expr: gen_y}
"""

TINY = """
network: {reweighter: {kind: mlp, hidden: [8]}, classifier: {kind: mlp, hidden: [8]}}
training:
  reweighter: {epochs: 1, batch_size: 256}
  classifier: {epochs: 1, batch_size: 256}
fit: {method: grid, grid_points: 2}
uncertainty: {repeats: 2, bootstrap: 2, keep_flagged: true}
plots: false
"""


@pytest.fixture(scope="module")
def real_data(dis_data_file, tmp_path_factory):
    """The pseudo-data file without its particle level: what real data hold."""
    return reco_only_copy(dis_data_file, tmp_path_factory.mktemp("real") / "real.root")


def _job(folder, sim, target, method="srgn", samples="", extra="", nominal=None):
    (folder / "electron.yaml").write_text(DESCRIPTION)
    nominal = nominal or f"[{sim}]"
    text = (
        "analysis: electron.yaml\noutput_dir: out\nsamples:\n"
        f"  files: {{nominal: {nominal}, varied: [{sim}], target: {target}}}\n"
        f"  parameters: {{y: [0.0, 1.0]}}\n{samples}"
        "features: {generator: [pt_e, eta_e], simulation: [pt_e, eta_e, n]}\n" + extra
    )
    path = folder / f"{method}_{len(list(folder.glob('*.job.yaml')))}.job.yaml"
    path.write_text(text)
    return load_fit_job(path, method)


def test_a_target_without_generator_collections_is_fitted_at_the_reco_level_alone(
    dis_sim_file, dis_data_file, real_data, tmp_path
):
    """data_truth: auto finds no GenElectron in the target: its reco level alone is read,
    bit for bit that of the same events read through the fileset's is_data: true (the
    particle level there but ignored); with the truth the target keeps only the events
    passing both levels. The SRGN fit then runs and reports no true θ."""
    real = _job(tmp_path, dis_sim_file, f"[{real_data}]", extra=TINY)
    marked = _job(
        tmp_path, dis_sim_file, f"{{files: [{dis_data_file}], metadata: {{is_data: true}}}}"
    )
    truth = _job(tmp_path, dis_sim_file, f"[{dis_data_file}]", samples="  data_truth: true\n")
    assert (real.target_truth, marked.target_truth, truth.target_truth) == (False, False, True)
    samples = {name: load_samples(job) for name, job in (("real", real), ("marked", marked))}
    read_with_truth = load_samples(truth)
    with_truth = read_with_truth["target"]
    target = samples["real"]["target"]
    assert target.gen is None and target.reco.global_features == ("pt_e", "eta_e", "n")
    np.testing.assert_array_equal(target.reco.globals, samples["marked"]["target"].reco.globals)
    # every event passing the reco selection with its features; with the truth, the events
    # that also pass the gen level: a subset (the file has 1,500 events)
    assert target.total == 1500 and len(target) == target.selected
    assert 0 < with_truth.selected <= target.selected < 1500
    np.testing.assert_array_equal(  # the simulation is read as before
        samples["real"]["nominal"].gen.globals, read_with_truth["nominal"].gen.globals
    )

    from hepnnlr.workflows.fit import run_fit

    outputs = run_fit(real)
    summary = json.loads(outputs.summary_file.read_text())
    record = json.loads(outputs.fit_file.read_text())
    assert summary["parameters"]["y"]["target"] is None
    assert record["target"] is None and record["data_truth"] is False
    assert record["events"]["target"]["used"] == len(target)
    assert 0.0 <= outputs.errors["y"].value <= 1.0  # inside the fit's bounds
    # real data keep the error model: the target's bootstrap replicas (Poisson(1) weights
    # per target event) give stat, the repeats give method, reported apart. At this tiny
    # size every fit is flagged (grid edge, AUC near 0.5): keep_flagged counts them anyway
    parameter = summary["parameters"]["y"]
    assert (parameter["replicas_used"], parameter["repeats_kept"]) == (2, 2)
    assert parameter["stat"] is not None and parameter["method"] is not None
    assert truth.target_point() == {"y": 0.5}  # a simulated target: the nominal θ


def test_a_dctr_fit_of_real_data_is_refused_naming_the_target_and_the_fix(
    dis_sim_file, dis_data_file, real_data, tmp_path
):
    """DCTR reads the target's generator level: refused when the job file says the target
    is real data (at load) and when data_truth: auto finds it so (before processing);
    data_truth: true on a file without the truth, a true θ for real data and a generator
    weight real data lack are refused with their fixes."""
    marked = f"{{files: [{dis_data_file}], metadata: {{is_data: true}}}}"
    for target in (marked, f"[{dis_data_file}]"):
        samples = "  data_truth: false\n" if target[0] == "[" else ""
        with pytest.raises(ConfigError) as error:
            _job(tmp_path, dis_sim_file, target, "dctr", samples=samples)
        for part in ("method: dctr", "samples.files.target", str(dis_data_file), "fit srgn"):
            assert part in str(error.value)
    auto = _job(tmp_path, dis_sim_file, f"[{real_data}]", "dctr")
    with pytest.raises(ConfigError, match=r"dataset 'target'\) is real data"):
        load_samples(auto)
    with pytest.raises(MissingBranchError) as error:
        resolve_target_truth(
            _job(tmp_path, dis_sim_file, f"[{real_data}]", samples="  data_truth: true\n")
        )
    for part in (str(real_data), "['GenElectron', 'GenPart']", "samples.data_truth: false"):
        assert part in str(error.value)
    with pytest.raises(ConfigError, match=r"samples.target=\{'y': 0.3\}.*remove samples.target"):
        _job(tmp_path, dis_sim_file, marked, samples="  target: {y: 0.3}\n")
    unweighted = reco_only_copy(dis_data_file, tmp_path / "unweighted.root", drop=("weight",))
    with pytest.raises(MissingBranchError, match="set samples.data_weight: 1"):
        resolve_target_truth(_job(tmp_path, dis_sim_file, f"[{unweighted}]"))
    fixed = _job(tmp_path, dis_sim_file, f"[{unweighted}]", samples="  data_weight: 1\n")
    assert fixed.target_truth is False
    with pytest.raises(ConfigError, match="only the target can be real data"):
        _job(tmp_path, dis_sim_file, marked, nominal=marked)
