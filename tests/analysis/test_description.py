"""Descriptions from mappings and YAML: key-path errors, round trip, registry."""

from __future__ import annotations

import copy
import pickle
import re
from pathlib import Path

import pytest
import yaml

from hepnnlr.analysis import AnalysisDescription, get, load, names, register
from hepnnlr.analysis import registry as registry_module
from hepnnlr.errors import ConfigError, ExpressionError, InputFileError

MINIMAL = {
    "name": "toy",
    "weight": "weight",
    "datasets": {"sim": ["sim.root"]},
    "reco": {
        "particles": {"collection": "PFCands", "features": {"log_pt": "log10(pt)"}},
        "selection": {"two": "num(PFCands) >= 2"},
        "observables": {"n": {"expr": "num(PFCands)", "bins": {"n": 4, "start": 0, "stop": 8}}},
    },
}


def _with(path: str, value):
    data = copy.deepcopy(MINIMAL)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    node[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("colour", "red", r"^analysis has the unknown key\(s\) \['colour'\]"),
        ("reco.observable", {}, r"^analysis.reco has the unknown key\(s\) \['observable'\]"),
        ("reco.observables.n.binning", [0, 1], r"^analysis.reco.observables.n has the unknown"),
        ("reco.observables.n.bins", [0, 2, 1], r"^analysis.reco.observables.n.bins must list"),
        ("reco.observables.n.bins", {"n": 0, "start": 0, "stop": 1}, r"observables.n.bins.n"),
        ("reco.observables.n.bins", {"n": 4, "start": 0, "stop": 1, "log": True}, r"start > 0"),
        ("reco.observables.n.bins", {"n": 4, "start": 0}, r"n.bins lacks the key\(s\) \['stop'\]"),
        ("reco.observables.n.bins", {"start": 0.5, "stop": 3, "integer": True}, r"integers"),
        ("reco.observables.n.bins", {"start": 0, "stop": 3, "integer": True}, None),
        (
            "reco.observables.n.bins",
            {"n": 3, "start": 0, "stop": 3, "integer": "yes"},
            r"n.bins.integer must be true or false",
        ),
        ("reco.particles.max_particles", 0, r"^analysis.reco.particles.max_particles"),
        ("reco.particles.features", {}, r"^analysis.reco.particles.features is empty"),
        ("reco.particles.weight", "puppiWeight", None),
        ("reco.selection", ["num(PFCands) > 0"], r"^analysis.reco.selection must be a mapping"),
        ("reco.features", {"_n": "num(PFCands)"}, r"^analysis.reco.features has the key '_n'"),
        ("reco.define", {"particles": "PFCands"}, r"^analysis.reco.define names \['particles'\]"),
        ("datasets.sim", {"file": ["a.root"]}, r"^analysis.datasets.sim has the unknown"),
        ("datasets.sim", {"files": []}, r"^analysis.datasets.sim.files must list"),
        ("reco", None, r"^analysis has neither 'gen' nor 'reco'"),
        ("reco.counts", {"two": "num(PFCands) > 0"}, r"counts and analysis.reco.selection"),
        ("reco.counts", {"one": "num(PFCands) > 0"}, None),
    ],
)
def test_errors_give_the_key_path(path, value, message) -> None:
    data = _with(path, value)
    if message is None:  # a valid variation
        AnalysisDescription.from_mapping(data)
        return
    with pytest.raises(ConfigError, match=message):
        AnalysisDescription.from_mapping(data)


def test_expression_errors_carry_the_key_path() -> None:
    data = _with("reco.observables.n.expr", "num(PFCands.__class__)")
    with pytest.raises(ExpressionError, match=r"^analysis.reco.observables.n.expr: the attr"):
        AnalysisDescription.from_mapping(data)
    data = _with("reco.particles.features", {"log_pt": "system(pt)"})
    with pytest.raises(ExpressionError, match=r"^analysis.reco.particles.features.log_pt: "):
        AnalysisDescription.from_mapping(data)


def test_round_trip_and_pickle(tmp_path) -> None:
    description = AnalysisDescription.from_mapping(MINIMAL, base=tmp_path)
    assert description.datasets["sim"].files == {str(tmp_path / "sim.root"): "events"}
    again = AnalysisDescription.from_mapping(description.to_mapping())
    assert again == description
    assert pickle.loads(pickle.dumps(description)) == description
    assert description.fileset() == {"sim": {"files": {str(tmp_path / "sim.root"): "events"}}}
    other = description.with_fileset({"data": {"files": ["d.root"], "weight": "1"}})
    assert list(other.datasets) == ["data"] and other.event_weight("data").text == "1"
    assert description.event_weight("sim").text == "weight"


def test_yaml_files(tmp_path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(MINIMAL))
    description = load(path)
    # relative dataset files are relative to the YAML file
    assert list(description.datasets["sim"].files) == [str(tmp_path / "sim.root")]
    path.write_text(yaml.safe_dump(_with("reco.observables.n.bins", "ten")))
    with pytest.raises(ConfigError, match=r"^mine.yaml.reco.observables.n.bins must be"):
        AnalysisDescription.from_yaml(path)
    path.write_text("name: [unclosed")
    with pytest.raises(ConfigError, match="mine.yaml.*not valid YAML"):
        AnalysisDescription.from_yaml(path)
    with pytest.raises(InputFileError, match=re.escape(str(tmp_path / "absent.yaml"))):
        load(tmp_path / "absent.yaml")


def test_registry(monkeypatch) -> None:
    monkeypatch.setattr(registry_module, "_REGISTERED", {})
    assert {"dis", "pfnano_particles"} <= set(names())
    dis = get("dis")
    assert dis.name == "dis" and set(dis.levels) == {"gen", "reco"}
    assert load("dis") == dis
    mine = AnalysisDescription.from_mapping(MINIMAL)
    register("toy", mine)
    assert get("toy") is mine and "toy" in names()
    with pytest.raises(ConfigError, match="'toy' is taken"):
        register("toy", mine)
    with pytest.raises(ConfigError, match="'dis' is taken"):
        register("dis", mine)
    register("toy", dis, replace=True)
    assert get("toy") is dis
    with pytest.raises(ConfigError, match=r"no analysis is named 'nope'; known: \["):
        get("nope")
    with pytest.raises(ConfigError, match="needs an AnalysisDescription"):
        register("x", MINIMAL)


def test_the_documented_example_is_a_valid_description() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "analysis.md").read_text()
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    description = AnalysisDescription.from_mapping(yaml.safe_load(block), where="docs")
    assert list(description.levels["reco"].selection) == ["two_jets", "leading"]
    assert description.parameters["alphaS"].nominal == 0.1365
    assert AnalysisDescription.from_mapping(description.to_mapping(), where="docs") == description
