"""ReweightProcessor: a saved reweighter applied through an analysis description, on
nano_dy.root with genWeight, on a 2-worker dask LocalCluster that cannot read the model's
folder; up/down of an ensemble; the feature check naming both lists."""

from __future__ import annotations

import pickle
import shutil

import awkward as ak
import numpy as np
import pytest
from shared_data import shared_data_file

from hepnnlr.analysis import AnalysisDescription
from hepnnlr.errors import ConfigError
from hepnnlr.processors.analysis import AnalysisProcessor
from hepnnlr.processors.chunks import collect_columns, collect_cutflow, collect_hists
from hepnnlr.processors.reweight import ReweightProcessor
from hepnnlr.schema import run_processor

PARTICLES = {"log_pt": "log10(pt)", "eta": "eta"}


def _mapping(particles=PARTICLES, features=None) -> dict:
    """Drell-Yan muons: the muons as the particle set, their number as event feature."""
    return {
        "name": "dy_muons",
        "schema": "nanoaod",
        "treename": "Events",
        "weight": "genWeight",
        "reco": {
            "particles": {"collection": "Muon", "features": dict(particles)},
            "features": features or {"n_muons": "num(Muon)"},
            "selection": {"muon": "num(Muon) > 0"},
            "observables": {
                "lead_pt": {
                    "expr": "first(Muon.pt)",
                    "bins": {"n": 8, "start": 0.0, "stop": 80.0},
                    "label": "Leading muon $p_T$ [GeV]",
                }
            },
        },
    }


def _description(particles=PARTICLES, features=None) -> AnalysisDescription:
    return AnalysisDescription.from_mapping(_mapping(particles, features))


def _only(columns: dict) -> ak.Array:
    (values,) = columns.values()
    return values


@pytest.fixture(scope="module")
def dy_events():
    """nano_dy.root's 40 events, read once (its ~1,500 branches make each open of the
    tree cost about a second; the processors run on them directly where no executor is
    under test)."""
    import warnings

    from coffea.nanoevents import NanoAODSchema, NanoEventsFactory

    with warnings.catch_warnings():  # coffea's notes about cross-references in the file
        warnings.simplefilter("ignore", RuntimeWarning)
        return NanoEventsFactory.from_root(
            {str(shared_data_file("nano_dy.root")): "Events"},
            schemaclass=NanoAODSchema,
            metadata={"dataset": "dy"},
            mode="eager",
        ).events()


@pytest.fixture(scope="module")
def members(tmp_path_factory, dy_events):
    """Two PFNs (seeds 0, 1) between the first and second half of nano_dy.root's events
    with a muon, on the description's columns (a tiny, fast training: the ratio itself is
    noise, what is tested is that the same networks give the same weights everywhere)."""
    from hepnnlr.models import ModelSpec
    from hepnnlr.tensors import Standardizer, from_awkward
    from hepnnlr.training import SavedReweighter, TrainingConfig, train_classifier

    columns = _only(AnalysisProcessor(_description()).process(dy_events)["columns"])
    passed = ak.to_numpy(columns.pass_reco)
    inputs = from_awkward(columns.reco, particle_features=tuple(PARTICLES),
                          global_features=("n_muons",), select=passed).subset(passed)  # fmt: skip
    half = len(inputs) // 2
    first, second = inputs.subset(np.arange(half)), inputs.subset(np.arange(half, len(inputs)))
    scaler = Standardizer.fit(inputs)
    folder = tmp_path_factory.mktemp("dy_members")
    paths = []
    for seed in (0, 1):
        classifier = train_classifier(
            ModelSpec("pfn", phi=(8,), hidden=(8,)),
            scaler.transform(first),
            np.ones(len(first)),
            scaler.transform(second),
            np.ones(len(second)),
            TrainingConfig(epochs=1, batch_size=8, seed=seed, progress=False),
            name=f"first/second half, seed {seed}",
        )
        paths.append(SavedReweighter(classifier, scaler, level="reco").save(folder / f"run{seed}"))
    return folder, paths, columns


def _run(processor, chunksize=20, **options):
    return run_processor(processor, {"dy": [str(shared_data_file("nano_dy.root"))]},
                         treename="Events", schema="nanoaod", chunksize=chunksize,
                         progress=False, **options)  # fmt: skip


def test_ensemble_on_dask_without_the_model_path_equals_iterative(
    members, dy_events, dask_cluster, tmp_path
):
    from hepnnlr.training.ensemble_reweighter import ReweighterEnsemble

    folder, paths, _ = members
    copies = [shutil.copytree(path, tmp_path / path.name) for path in paths]
    ensemble = ReweighterEnsemble.load(copies)
    # the model travels inside the processor as bytes: no worker can read the folder
    shutil.rmtree(tmp_path)
    reweight = ReweightProcessor(_description(), ensemble)
    dask = _run(reweight, executor="dask", scheduler_address=dask_cluster.scheduler_address)
    iterative = _run(reweight)
    got, expected = collect_columns(dask), collect_columns(iterative)
    assert ak.fields(expected) == ["entry", "run", "luminosityBlock", "event", "event_weight",
                                   "pass_reco", "weight", "weight_up", "weight_down"]  # fmt: skip
    # the same networks on the same chunks, whichever process evaluates them
    assert ak.array_equal(got, expected)
    assert collect_cutflow(dask) == collect_cutflow(iterative)
    np.testing.assert_array_equal(ak.to_numpy(expected.event), ak.to_numpy(dy_events.event))
    genweight = ak.to_numpy(dy_events.genWeight)
    np.testing.assert_array_equal(ak.to_numpy(expected.event_weight), genweight)
    passed = ak.to_numpy(ak.num(dy_events.Muon)) > 0
    assert passed.any() and not passed.all()
    nominal, up, down = (ak.to_numpy(expected[k]) for k in ("weight", "weight_up", "weight_down"))
    # outside the selection the reweighter is undefined: weight 1, no spread
    assert (nominal[~passed] == 1).all() and (up[~passed] == 1).all()
    # two members with other seeds disagree: a spread, symmetric about the nominal
    assert (up[passed] > nominal[passed]).any()
    np.testing.assert_allclose(up - nominal, nominal - down, rtol=1e-12, atol=1e-15)
    hists = collect_hists(dask)["reco"]["lead_pt"]
    assert list(hists.axes["variation"]) == ["nominal", "up", "down"]
    for variation, weight in (("nominal", nominal), ("up", up), ("down", down)):
        total = hists[{"variation": variation}].sum(flow=True).value
        # every event with a muon, once, at genWeight x its weight (float sums: 1e-12)
        expected_total = float(np.sum(genweight[passed] * weight[passed]))
        assert total == pytest.approx(expected_total, rel=1e-12)


def test_one_model_gives_the_nominal_alone_and_loads_once_per_process(members, dy_events):
    from hepnnlr.training import SavedReweighter

    _, paths, analysis_columns = members
    reweighter = SavedReweighter.load(paths[1])
    reweight = ReweightProcessor(_description(), reweighter)
    out = reweight.process(dy_events)
    columns = _only(out["columns"])
    assert "weight_up" not in ak.fields(columns)
    assert list(out["hists"]["reco"]["lead_pt"].axes["variation"]) == ["nominal"]
    assert ak.array_equal(reweight.event_weights(dy_events), columns)
    passed = ak.to_numpy(columns.pass_reco)
    direct = reweighter.weights(ak.zip({"reco": analysis_columns.reco}, depth_limit=1), passed)
    # the same 40 events in one batch as the in-memory prediction: the same weights
    np.testing.assert_array_equal(ak.to_numpy(columns.weight), direct)
    # unpickled twice in one process (two chunks on one worker): one model, rebuilt once
    first, second = (pickle.loads(pickle.dumps(reweight)) for _ in range(2))
    assert first.reweighter is second.reweighter is not reweighter
    np.testing.assert_array_equal(ak.to_numpy(first.event_weights(dy_events).weight), direct)


def test_features_that_do_not_match_the_standardizer_name_both_lists(members):
    from hepnnlr.training import SavedReweighter

    _, paths, _ = members
    reweighter = SavedReweighter.load(paths[0])
    other = _description(particles={"pt": "pt", "eta": "eta"})
    with pytest.raises(ConfigError, match=r"\['log_pt', 'eta'\].*\['pt', 'eta'\]"):
        ReweightProcessor(other, reweighter)
    other = _description(features={"n_jets": "num(Jet)"})
    with pytest.raises(ConfigError, match=r"\['n_muons'\].*reco.features \['n_jets'\]"):
        ReweightProcessor(other, reweighter)
    with pytest.raises(ConfigError, match="levels \\['reco'\\]"):
        ReweightProcessor(_description(), reweighter, level="gen")


@pytest.mark.slow
def test_the_readme_processor_with_weights_add_runs(members, dy_events, tmp_path):
    """The README's ReweightedMuons block runs as printed (the file, description and model
    paths put in), and its nominal/up/down histograms hold genWeight x the weights of
    ReweightProcessor.event_weights. Slow (about 4 s of CPU: three more opens of the
    file's tree); the weights it uses are the default run's tests'."""
    import re
    from pathlib import Path

    import yaml

    _, paths, _ = members
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    (code,) = [b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S)
               if "class ReweightedMuons" in b]  # fmt: skip
    description = tmp_path / "dy_muons.yaml"
    description.write_text(yaml.safe_dump(_mapping()))
    nano = shared_data_file("nano_dy.root")
    for text, path in (("dy_muons.yaml", description), ("nano_dy.root", nano),
                       ("models/run0", paths[0]), ("models/run1", paths[1])):  # fmt: skip
        assert f'"{text}"' in code, text
        code = code.replace(f'"{text}"', repr(str(path)))
    namespace = {"__name__": "__main__"}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    h = namespace["out"]["pt"][{"dataset": "dy"}]
    genweight = ak.to_numpy(dy_events.genWeight)
    # the README's run is one chunk of the 40 events: the same batch as here
    columns = ReweightProcessor(_description(), namespace["ensemble"]).event_weights(dy_events)
    for variation, name in (("nominal", "weight"), ("up", "weight_up"), ("down", "weight_down")):
        # every event once (no muon: underflow) at genWeight x its weight (float sums)
        total = h[{"variation": variation}].sum(flow=True).value
        expected = float(np.sum(genweight * ak.to_numpy(columns[name])))
        assert total == pytest.approx(expected, rel=1e-12)
