"""Analyses as data: descriptions, their expression language and the registry.

An analysis is one :class:`AnalysisDescription` (datasets, gen and reco particle sets,
features, selections, observables, parameters; loadable from YAML), run by the one generic
processor :class:`hepnnlr.processors.AnalysisProcessor`. Definitions are safe expressions
over the events' fields (:mod:`hepnnlr.analysis.expressions`) or ``module:function``
references to the user's code. Built-in analyses are registered by name (:func:`get`,
:func:`names`); a user's own is a peer (:func:`register`, or its YAML path in
:func:`load`). Pure NumPy/awkward: no TensorFlow. Format: ``docs/analysis.md``.
"""

from __future__ import annotations

from hepnnlr.analysis.description import (
    LEVELS,
    AnalysisDescription,
    Binning,
    Dataset,
    Level,
    Observable,
    Parameter,
    Particles,
)
from hepnnlr.analysis.expressions import Expression, Reference, parse
from hepnnlr.analysis.registry import get, load, names, register

__all__ = [
    "LEVELS",
    "AnalysisDescription",
    "Binning",
    "Dataset",
    "Expression",
    "Level",
    "Observable",
    "Parameter",
    "Particles",
    "Reference",
    "get",
    "load",
    "names",
    "parse",
    "register",
]
