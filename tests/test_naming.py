"""Issue 18's naming rule: results end in ``Result``; the names they had before still work."""

from __future__ import annotations

import importlib

import pytest

import hepnnlr
import hepnnlr.methods

RENAMED = {  # old name -> (defining module, new name)
    "DCTRGANWeights": ("hepnnlr.methods.dctrgan", "DCTRGANResult"),
    "EnsembleOfUnfoldings": ("hepnnlr.methods.omnifold_ensembles", "OmniFoldEnsembleResult"),
    "MinuitFit": ("hepnnlr.methods.minuit_fit", "MinuitFitResult"),
    "TestSetMetrics": ("hepnnlr.methods.coverage", "TestSetResult"),
}


@pytest.mark.parametrize("old", sorted(RENAMED))
def test_an_old_result_name_is_an_alias_left_out_of_all(old):
    module_name, new = RENAMED[old]
    module = importlib.import_module(module_name)
    cls = getattr(module, new)
    assert cls.__name__ == new and getattr(module, old) is cls
    assert getattr(hepnnlr.methods, old) is cls
    for namespace in (module, hepnnlr.methods, hepnnlr):
        assert old not in namespace.__all__
    assert new in hepnnlr.methods.__all__


def test_the_top_level_resolves_its_old_names_and_lists_only_results():
    assert hepnnlr.MinuitFit is hepnnlr.MinuitFitResult
    assert hepnnlr.DCTRGANWeights is hepnnlr.DCTRGANResult
    with pytest.raises(AttributeError, match="Nope"):
        hepnnlr.Nope  # noqa: B018


# job sections renamed by issue 18 (they ended in Settings, Section or Spec):
# old name -> (defining module, new name, modules that re-export it)
RENAMED_SECTIONS = {
    "PlotSettings": ("hepnnlr.workflows.config", "PlotConfig", ()),
    "FitSettings": ("hepnnlr.workflows.fit_config", "FitConfig", ("hepnnlr.workflows.fit",)),
    "TrainingSection": (
        "hepnnlr.workflows.fit_config",
        "FitTrainingConfig",
        ("hepnnlr.workflows.fit",),
    ),
    "UncertaintySettings": (
        "hepnnlr.workflows.fit_config",
        "UncertaintyConfig",
        ("hepnnlr.workflows.fit",),
    ),
    "CalibrationSettings": (
        "hepnnlr.workflows.fit_samples",
        "CalibrationConfig",
        ("hepnnlr.workflows.fit_config",),
    ),
    "GridSpec": ("hepnnlr.workflows.infer_config", "GridConfig", ("hepnnlr.workflows.infer",)),
    "DatasetSpec": (
        "hepnnlr.workflows.infer_config",
        "DatasetConfig",
        ("hepnnlr.workflows.infer",),
    ),
    "CoverageSpec": (
        "hepnnlr.workflows.infer_config",
        "CoverageConfig",
        ("hepnnlr.workflows.infer",),
    ),
    "ToySpec": ("hepnnlr.workflows.infer_toy", "ToyConfig", ("hepnnlr.workflows.infer",)),
    "GenerateSpec": (
        "hepnnlr.workflows.infer_generate",
        "GenerateConfig",
        ("hepnnlr.workflows.infer_samples",),
    ),
    "SamplesSpec": (
        "hepnnlr.workflows.infer_samples",
        "SamplesConfig",
        ("hepnnlr.workflows.infer", "hepnnlr.workflows"),
    ),
    "InferUncertainty": (
        "hepnnlr.workflows.infer_errors",
        "InferUncertaintyConfig",
        ("hepnnlr.workflows.infer",),
    ),
    "UnfoldUncertainty": (
        "hepnnlr.workflows.unfold_report",
        "UnfoldUncertaintyConfig",
        ("hepnnlr.workflows.unfold_dis",),
    ),
}


@pytest.mark.parametrize("old", sorted(RENAMED_SECTIONS))
def test_an_old_section_name_is_an_alias_left_out_of_all(old):
    module_name, new, reexports = RENAMED_SECTIONS[old]
    module = importlib.import_module(module_name)
    cls = getattr(module, new)
    assert cls.__name__ == new and new in module.__all__
    for name in (module_name, *reexports):
        namespace = importlib.import_module(name)
        assert getattr(namespace, old) is cls, name
        assert old not in namespace.__all__ and new in namespace.__all__, name
