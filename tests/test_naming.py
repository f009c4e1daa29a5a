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
