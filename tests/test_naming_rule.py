"""The naming rule of docs/architecture.md ("Names"), checked on the public classes of
``hepnnlr.workflows``, ``.methods``, ``.training`` and ``.models``.

Settings a job file or a caller fills end in ``Config``; what a network or loss is built from
in ``Spec``; what ``train_*`` returns starts with ``Trained``; what a method's fit returns
ends in ``Result``; a workflow's job and the files it wrote are ``…Job`` / ``…Outputs``.
Reading the modules' ``__all__`` and annotations costs no training (~1 s of imports).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import types
import typing

import pytest

PACKAGES = ("hepnnlr.workflows", "hepnnlr.methods", "hepnnlr.training", "hepnnlr.models")

# recipes of what to build (a network, a loss), not the settings of a run
RECIPES = {"ModelSpec", "FlowSpec", "GANSpec", "Conv3DSpec", "LossSpec"}
# suffixes the rule replaced: a section is a Config, a result a Result
RETIRED = ("Settings", "Section", "Weights", "Metrics")

# true exceptions, each with its reason
TRAIN_RETURNS = {
    # an estimator built of several trained networks, not one network's handle
    "ParameterizedRatio": "an ensemble of parameterized classifiers with its calibration",
    "RegressorEnsemble": "several TrainedRegressors and their combination",
    # the spread models are a second regression on top of a TrainedRegressor
    "MomentSpread": "a width model fitted to a TrainedRegressor's residuals",
    "QuantileSpread": "quantile models fitted to a TrainedRegressor's residuals",
    # a calorimeter surrogate is the trained object itself (generator + its sampling)
    "CaloSurrogate": "the surrogate a user samples from, built and trained in one call",
}
FIT_RETURNS = {"FitFlags": "flag_fit flags a finished fit; it fits nothing"}


def _public(package: str) -> dict[str, tuple[str, object]]:
    """Public name -> (module, object) over every module of ``package``."""
    found = {}
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        module = importlib.import_module(f"{package}.{info.name}")
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if getattr(value, "__module__", None) == module.__name__:
                found[name] = (module.__name__, value)
    return found


@pytest.fixture(scope="module")
def public():
    return {package: _public(package) for package in PACKAGES}


def _classes(public):
    for package in PACKAGES:
        for name, (module, value) in public[package].items():
            if inspect.isclass(value):
                yield name, module, value


def test_no_public_class_keeps_a_retired_suffix(public):
    wrong = [
        f"{module}.{name}"
        for name, module, _ in _classes(public)
        if name.endswith(RETIRED) or (name.endswith("Spec") and name not in RECIPES)
    ]
    assert not wrong, f"rename to ...Config (settings) or ...Result (results): {wrong}"


def _section_types(annotation) -> list[type]:
    """The dataclasses an annotation names (``X``, ``X | None``, ``tuple[X, ...]``)."""
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return [annotation]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        return [t for arg in typing.get_args(annotation) for t in _section_types(arg)]
    return []


def test_every_section_of_a_job_ends_in_config(public):
    jobs = [v for n, _, v in _classes(public) if n.endswith("Job") and dataclasses.is_dataclass(v)]
    assert len(jobs) >= 4  # fit, infer, unfold, reweight: the walk below has something to check
    seen, wrong, todo = set(), [], list(jobs)
    while todo:
        cls = todo.pop()
        for field, annotation in typing.get_type_hints(cls).items():
            for section in _section_types(annotation):
                # the sections of the layers the rule covers; a domain object a job holds
                # (KinematicRegion, AnalysisDescription) is named by its own layer
                if section in seen or not section.__module__.startswith(PACKAGES):
                    continue
                seen.add(section)
                if not section.__name__.endswith("Config") and section.__name__ not in RECIPES:
                    wrong.append(f"{cls.__name__}.{field}: {section.__name__}")
                todo.append(section)
    assert len(seen) >= 10 and not wrong, wrong


def _returns(public, package: str, starts: tuple[str, ...] = (), ends: tuple[str, ...] = ()):
    for name, (_, value) in public[package].items():
        if inspect.isfunction(value) and (name.startswith(starts) or name.endswith(ends)):
            returned = typing.get_type_hints(value).get("return")
            if inspect.isclass(returned) and returned.__module__.startswith("hepnnlr."):
                yield name, returned.__name__


def test_train_returns_trained_and_fit_returns_a_result(public):
    trained = list(_returns(public, "hepnnlr.training", starts=("train_",)))
    fitted = list(_returns(public, "hepnnlr.methods", ends=("_fit",)))
    run = list(_returns(public, "hepnnlr.workflows", starts=("run_",)))
    assert len(trained) >= 4 and len(fitted) >= 2 and len(run) >= 4
    wrong = [
        f"{f} -> {c}" for f, c in trained if not c.startswith("Trained") and c not in TRAIN_RETURNS
    ]
    wrong += [f"{f} -> {c}" for f, c in fitted if not c.endswith("Result") and c not in FIT_RETURNS]
    wrong += [f"{f} -> {c}" for f, c in run if not c.endswith("Outputs")]
    assert not wrong, wrong
