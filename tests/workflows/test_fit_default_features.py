"""The default features of a fit come from its analysis description (issue 16): a level's
``inputs``, else its ``features``; a job naming only a generator reads its namesake
description, whose inputs are the features these generators always had."""

from __future__ import annotations

import pytest

from hepnnlr.analysis import AnalysisDescription, get
from hepnnlr.errors import ConfigError
from hepnnlr.workflows.fit_config import load_fit_job

# the defaults hepnnlr fit had before they moved into zjets.yaml and ttbar.yaml
ZJETS = tuple(
    f"jet{j}.{name}"
    for j in (1, 2)
    for name in ("multiplicity", "n_strange", "tau21", "ecf3", "mass")
)
TTBAR = ("m_b1munu", "m_b2munu", "m_b1jj", "m_b2jj")

MINE = """
name: mine
gen:
  define: {top: hepnnlr.analysis.builtin.ttbar:gen}
  features: {m_hadronic: top.m_b1jj, m_leptonic: top.m_b1munu}
  inputs: [m_hadronic]
reco:
  define: {top: hepnnlr.analysis.builtin.ttbar:reco}
  features: {m_hadronic: top.m_b1jj, m_leptonic: top.m_b1munu}
parameters:
  top_mass: {low: 170, high: 180, nominal: 172.5, expr: top_mass}
"""


def _job(tmp_path, generator, extra=""):
    path = tmp_path / f"{generator}.yaml"
    point = "alphaS: [0.10, 0.17]" if generator == "zjets" else "top_mass: [170, 180]"
    path.write_text(f"samples: {{generator: {generator}, parameters: {{{point}}}}}\n{extra}")
    return load_fit_job(path, "srgn")


def test_default_features_are_the_descriptions_inputs_else_its_features(tmp_path):
    for generator, expected in (("zjets", ZJETS), ("ttbar", TTBAR)):
        job = _job(tmp_path, generator)
        assert job.generator_features == job.simulation_features == expected
    (tmp_path / "mine.yaml").write_text(MINE)
    mine = _job(tmp_path, "ttbar", "analysis: mine.yaml\n")
    assert mine.generator_features == ("m_hadronic",)  # its gen inputs
    assert mine.simulation_features == ("m_hadronic", "m_leptonic")  # no reco inputs
    named = _job(tmp_path, "ttbar", "analysis: mine.yaml\nfeatures: {generator: [m_leptonic]}\n")
    assert named.generator_features == ("m_leptonic",)  # the job's own come first
    assert get("ttbar").levels["gen"].to_mapping()["inputs"] == list(TTBAR)  # round trip


def test_inputs_that_are_not_features_of_the_level_are_named(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(MINE.replace("inputs: [m_hadronic]", "inputs: [m_hadron, jet1.mass]"))
    with pytest.raises(ConfigError) as error:
        AnalysisDescription.from_yaml(path)
    for part in ("gen.inputs", "['m_hadron', 'jet1.mass']", "['m_hadronic', 'm_leptonic']"):
        assert part in str(error.value)
