"""An analysis as one unit: the frozen description that :class:`AnalysisProcessor` runs.

A description names the datasets (a coffea fileset: files or URLs, the NanoEvents
schema, the tree, the event weight and metadata), one or two levels (``gen``: particle
level, ``reco``: detector level), and the parameters θ a method needs. Each level holds

* ``define``: named intermediate values (an expression or a ``module:function``
  reference), evaluated once per chunk in order; later definitions, features, cuts and
  observables use them by name;
* ``particles``: the particle set of the networks: a ``collection`` expression, per-particle
  ``features`` (evaluated with the collection's own fields first in scope, so
  ``log10(pt)`` means the particles' pT), an optional per-particle ``weight`` and
  ``max_particles`` (the first N of every event's list, in the collection's order);
* ``features``: event-level network inputs;
* ``selection``: ordered ``{cut: boolean expression}``; an event passes the level when it
  passes every cut;
* ``counts``: ordered ``{name: boolean expression}`` counted in the cut flow, each with
  the ones before it, over all events, but not applied (diagnostics such as "events
  with a jet");
* ``observables``: ``{name: {expr, bins, label}}`` histograms, ``bins`` either a list of
  edges or ``{n, start, stop, log}``.

Every definition is parsed when the description is built
(:mod:`hepnnlr.analysis.expressions`), so a typo fails at load time with the key path
(``reco.observables.Q2.expr``). :meth:`AnalysisDescription.to_mapping` gives back the
mapping it was built from (normalized), for the metadata of output files; YAML is read by
:meth:`AnalysisDescription.from_yaml`. The format is documented in ``docs/analysis.md``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from hepnnlr.analysis._checks import (
    EMPTY,
    Definition,
    Frozen,
    check_mapping,
    named,
    number,
    string,
)
from hepnnlr.analysis.expressions import parse
from hepnnlr.analysis.level import Binning, Level, Observable, Particles
from hepnnlr.errors import ConfigError, InputFileError

__all__ = [
    "LEVELS",
    "AnalysisDescription",
    "Binning",
    "Dataset",
    "Level",
    "Observable",
    "Parameter",
    "Particles",
]

LEVELS = ("gen", "reco")
"""The levels a description may have: particle (generator) and detector level."""


@dataclass(frozen=True, slots=True)
class Dataset:
    """One dataset of the fileset: ``{file: treename}`` (paths or URLs), the event weight
    (overrides the description's), and the metadata every chunk sees."""

    name: str
    files: Mapping[str, str]
    weight: Definition | None = None
    metadata: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    @classmethod
    def from_mapping(
        cls, name: str, data: Any, *, where: str, treename: str, base: Path | None = None
    ) -> Dataset:
        if isinstance(data, str | os.PathLike) or (
            isinstance(data, Sequence) and not isinstance(data, str)
        ):
            data = {"files": data}
        check_mapping(data, where, ("files", "treename", "weight", "metadata"), ("files",))
        tree = string(data.get("treename", treename), f"{where}.treename")
        files = data["files"]
        if isinstance(files, str | os.PathLike):
            files = [files]
        if isinstance(files, Mapping):
            pairs = [(f, string(t, f"{where}.files[{f!r}]")) for f, t in files.items()]
        elif isinstance(files, Sequence) and files:
            pairs = [(f, tree) for f in files]
        else:
            raise ConfigError(f"{where}.files must list at least one file or URL, got {files!r}.")
        resolved = {}
        for file, file_tree in pairs:
            text = string(os.fspath(file), f"{where}.files")
            # a relative local path is relative to the YAML file that names it
            if base is not None and "://" not in text and not Path(text).is_absolute():
                text = os.fspath(base / text)
            resolved[text] = file_tree
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, Mapping):
            raise ConfigError(f"{where}.metadata must be a mapping, got {metadata!r}.")
        weight = data.get("weight")
        return cls(
            name=name,
            files=Frozen(resolved),
            weight=None if weight is None else parse(weight, key=f"{where}.weight"),
            metadata=Frozen(dict(metadata)),
        )

    def to_mapping(self) -> dict[str, Any]:
        out: dict[str, Any] = {"files": dict(self.files)}
        if self.weight is not None:
            out["weight"] = self.weight.to_text()
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out


@dataclass(frozen=True, slots=True)
class Parameter:
    """A parameter θ of a method: its range, nominal value, the expression of its
    per-event value where the events carry it (e.g. a branch ``theta_alphaS``) and its
    axis label (default: the name)."""

    name: str
    low: float
    high: float
    nominal: float | None = None
    expr: Definition | None = None
    label: str | None = None

    @classmethod
    def from_mapping(cls, name: str, data: Any, *, where: str) -> Parameter:
        check_mapping(data, where, ("low", "high", "nominal", "expr", "label"), ("low", "high"))
        low, high = number(data["low"], f"{where}.low"), number(data["high"], f"{where}.high")
        nominal = data.get("nominal")
        nominal = None if nominal is None else number(nominal, f"{where}.nominal")
        if not low < high or (nominal is not None and not low <= nominal <= high):
            raise ConfigError(
                f"{where} needs low < high and low <= nominal <= high, got low={low!r}, "
                f"high={high!r}, nominal={nominal!r}."
            )
        expr, label = data.get("expr"), data.get("label")
        return cls(
            name,
            low,
            high,
            nominal,
            None if expr is None else parse(expr, key=f"{where}.expr"),
            None if label is None else string(label, f"{where}.label"),
        )

    def to_mapping(self) -> dict[str, Any]:
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.nominal is not None:
            out["nominal"] = self.nominal
        if self.expr is not None:
            out["expr"] = self.expr.to_text()
        if self.label is not None:
            out["label"] = self.label
        return out


_TOP_KEYS = ("name", "title", "schema", "treename", "weight", "datasets", "gen", "reco",
             "parameters")  # fmt: skip


@dataclass(frozen=True, slots=True)
class AnalysisDescription:
    """One analysis: datasets, levels, parameters (see the module docstring).

    Attributes:
        name: Short name (the registry key for built-in analyses).
        title: One line saying what the analysis is.
        schema: NanoEvents schema name (``hepnnlr.schema.SCHEMAS``: ``hepnnlr``,
            ``nanoaod``, ``pfnano``, ...).
        treename: The tree of every file that does not name its own.
        weight: Event weight of every dataset that does not give its own; None: 1.
        datasets: ``{name: Dataset}``; may be empty for a description that a job fills
            in (:meth:`with_fileset`).
        levels: ``{"gen": Level, "reco": Level}`` (at least one).
        parameters: ``{name: Parameter}``.
    """

    name: str
    levels: Mapping[str, Level]
    title: str = ""
    schema: str = "hepnnlr"
    treename: str = "events"
    weight: Definition | None = None
    datasets: Mapping[str, Dataset] = field(default_factory=lambda: EMPTY)
    parameters: Mapping[str, Parameter] = field(default_factory=lambda: EMPTY)

    @classmethod
    def from_mapping(
        cls, data: Any, *, where: str = "analysis", base: Path | None = None
    ) -> AnalysisDescription:
        """Build and check a description.

        Args:
            data: The mapping (e.g. a YAML document).
            where: Key path of ``data`` in error messages (a file name, or a job's key).
            base: Folder that relative local dataset files are relative to.

        Raises:
            ConfigError: An unknown or missing key, a value of the wrong type (the message
                gives the key path), or an expression that does not parse
                (:class:`~hepnnlr.errors.ExpressionError`).
        """
        check_mapping(data, where, _TOP_KEYS, ("name",))
        levels = {
            level: Level.from_mapping(level, data[level], where=f"{where}.{level}")
            for level in LEVELS
            if data.get(level) is not None
        }
        if not levels:
            raise ConfigError(f"{where} has neither 'gen' nor 'reco'; describe at least one level.")
        schema = string(data.get("schema", "hepnnlr"), f"{where}.schema")
        treename = string(data.get("treename", "events"), f"{where}.treename")
        weight = data.get("weight")
        datasets = _named_datasets(data.get("datasets"), f"{where}.datasets")
        parameters = named(data.get("parameters"), f"{where}.parameters")
        return cls(
            name=string(data["name"], f"{where}.name"),
            title=str(data.get("title", "")),
            schema=schema,
            treename=treename,
            weight=None if weight is None else parse(weight, key=f"{where}.weight"),
            datasets=Frozen(
                {
                    key: Dataset.from_mapping(
                        key, value, where=f"{where}.datasets.{key}", treename=treename, base=base
                    )
                    for key, value in datasets.items()
                }
            ),
            levels=Frozen(levels),
            parameters=Frozen(
                {
                    key: Parameter.from_mapping(key, value, where=f"{where}.parameters.{key}")
                    for key, value in parameters.items()
                }
            ),
        )

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> AnalysisDescription:
        """Read a description from a YAML file (relative dataset files are relative to it).

        Raises:
            InputFileError: The file is missing.
            ConfigError: The YAML does not parse, or the description is invalid (key paths
                start with the file name).
        """
        path = Path(path)
        if not path.is_file():
            raise InputFileError(
                f"analysis description {os.fspath(path)!r} does not exist; pass the path of "
                "a YAML file (docs/analysis.md) or a registered name "
                "(hepnnlr.analysis.names())."
            )
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as error:
            raise ConfigError(
                f"analysis description {os.fspath(path)!r} is not valid YAML: {error}"
            ) from None
        return cls.from_mapping(data, where=path.name, base=path.resolve().parent)

    def to_mapping(self) -> dict[str, Any]:
        """The description as a plain mapping (``from_mapping`` of it gives it back)."""
        out: dict[str, Any] = {"name": self.name}
        if self.title:
            out["title"] = self.title
        out["schema"], out["treename"] = self.schema, self.treename
        if self.weight is not None:
            out["weight"] = self.weight.to_text()
        if self.datasets:
            out["datasets"] = {k: v.to_mapping() for k, v in self.datasets.items()}
        for level, spec in self.levels.items():
            out[level] = spec.to_mapping()
        if self.parameters:
            out["parameters"] = {k: v.to_mapping() for k, v in self.parameters.items()}
        return out

    def with_fileset(self, fileset: Mapping[str, Any]) -> AnalysisDescription:
        """The same analysis on other datasets: ``{name: [files]}`` or ``{name: {"files":
        ..., "weight": ..., "metadata": ...}}``."""
        datasets = _named_datasets(fileset, "fileset")
        return replace(
            self,
            datasets=Frozen(
                {
                    key: Dataset.from_mapping(
                        key, value, where=f"fileset.{key}", treename=self.treename
                    )
                    for key, value in datasets.items()
                }
            ),
        )

    def fileset(self) -> dict[str, dict[str, Any]]:
        """coffea's fileset form for :func:`hepnnlr.schema.run_processor`."""
        if not self.datasets:
            raise ConfigError(
                f"analysis {self.name!r} names no datasets; add a 'datasets' section or call "
                "description.with_fileset({'sim': ['file.root']})."
            )
        out = {}
        for name, dataset in self.datasets.items():
            spec: dict[str, Any] = {"files": dict(dataset.files)}
            if dataset.metadata:
                spec["metadata"] = dict(dataset.metadata)
            out[name] = spec
        return out

    def event_weight(self, dataset: str) -> Definition | None:
        """The weight definition of ``dataset`` (its own, else the description's)."""
        spec = self.datasets.get(dataset)
        if spec is not None and spec.weight is not None:
            return spec.weight
        return self.weight


def _named_datasets(data: Any, where: str) -> Mapping[str, Any]:
    if data is None:
        return EMPTY
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must map dataset names to files, got {type(data).__name__}.")
    for name in data:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where} has the dataset name {name!r}; use a non-empty string.")
    return data
