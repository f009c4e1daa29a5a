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

import hist
import yaml

from hepnnlr.analysis.expressions import Expression, Reference, parse
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

Definition = Expression | Reference


class _Frozen(Mapping):
    """A read-only mapping that pickles (``types.MappingProxyType`` does not, and a
    processor holding the description travels to dask workers)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = dict(data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return repr(self._data)

    def __getstate__(self) -> dict[str, Any]:
        return self._data

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._data = state


_EMPTY: Mapping[str, Any] = _Frozen({})


def _mapping(data: Any, where: str, allowed: Sequence[str], required: Sequence[str] = ()):
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a mapping, got {type(data).__name__} {data!r}.")
    unknown = [key for key in data if key not in allowed]
    if unknown:
        raise ConfigError(f"{where} has the unknown key(s) {unknown}; known keys: {list(allowed)}.")
    missing = [key for key in required if key not in data]
    if missing:
        raise ConfigError(f"{where} lacks the key(s) {missing}; it has {list(data)}.")
    return data


def _named(data: Any, where: str) -> Mapping[str, Any]:
    """A ``{name: ...}`` section: string keys that are valid names (no ``_`` prefix)."""
    if data is None:
        return _EMPTY
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a mapping of names, got {type(data).__name__}.")
    for name in data:
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ConfigError(
                f"{where} has the key {name!r}; names must be identifiers that do not "
                "start with '_' (e.g. log_pt)."
            )
    return data


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be a number, got {value!r}.")
    return float(value)


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where} must be a non-empty string, got {value!r}.")
    return value


def _definitions(data: Any, where: str) -> Mapping[str, Definition]:
    return _Frozen(
        {name: parse(text, key=f"{where}.{name}") for name, text in _named(data, where).items()}
    )


def _texts(definitions: Mapping[str, Definition]) -> dict[str, str]:
    return {name: definition.to_text() for name, definition in definitions.items()}


@dataclass(frozen=True, slots=True)
class Binning:
    """A histogram axis: explicit ``edges``, or ``n`` bins from ``start`` to ``stop``
    (equal in log if ``log``)."""

    edges: tuple[float, ...] | None = None
    n: int | None = None
    start: float | None = None
    stop: float | None = None
    log: bool = False

    @classmethod
    def from_mapping(cls, data: Any, *, where: str) -> Binning:
        if isinstance(data, Sequence) and not isinstance(data, str):
            edges = tuple(_number(v, f"{where}[{i}]") for i, v in enumerate(data))
            if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
                raise ConfigError(
                    f"{where} must list at least two increasing bin edges, got {list(data)}."
                )
            return cls(edges=edges)
        _mapping(data, where, ("n", "start", "stop", "log"), ("n", "start", "stop"))
        n = data["n"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"{where}.n must be a positive integer of bins, got {n!r}.")
        start, stop = (
            _number(data["start"], f"{where}.start"),
            _number(data["stop"], f"{where}.stop"),
        )
        log = data.get("log", False)
        if not isinstance(log, bool):
            raise ConfigError(f"{where}.log must be true or false, got {log!r}.")
        if not start < stop or (log and start <= 0):
            raise ConfigError(
                f"{where} needs start < stop (and start > 0 with log: true), got start="
                f"{start!r}, stop={stop!r}, log={log!r}."
            )
        return cls(n=n, start=start, stop=stop, log=log)

    def to_mapping(self) -> Any:
        if self.edges is not None:
            return list(self.edges)
        return {"n": self.n, "start": self.start, "stop": self.stop, "log": self.log}

    def axis(self, name: str, label: str) -> hist.axis.AxesMixin:
        """The ``hist`` axis named ``name``."""
        if self.edges is not None:
            return hist.axis.Variable(self.edges, name=name, label=label)
        transform = hist.axis.transform.log if self.log else None
        return hist.axis.Regular(
            self.n, self.start, self.stop, name=name, label=label, transform=transform
        )


@dataclass(frozen=True, slots=True)
class Observable:
    """One histogram: the values (``expr``: one per event, or one per object of a jagged
    result, each with its event's weight; None values are skipped), its binning and its
    axis label (with units)."""

    name: str
    expr: Definition
    bins: Binning
    label: str

    @classmethod
    def from_mapping(cls, name: str, data: Any, *, where: str) -> Observable:
        _mapping(data, where, ("expr", "bins", "label"), ("expr", "bins"))
        label = data.get("label", name)
        return cls(
            name=name,
            expr=parse(data["expr"], key=f"{where}.expr"),
            bins=Binning.from_mapping(data["bins"], where=f"{where}.bins"),
            label=_string(label, f"{where}.label"),
        )

    def to_mapping(self) -> dict[str, Any]:
        return {"expr": self.expr.to_text(), "bins": self.bins.to_mapping(), "label": self.label}


@dataclass(frozen=True, slots=True)
class Particles:
    """The particle set of one level (see the module docstring)."""

    collection: Definition
    features: Mapping[str, Definition]
    weight: Definition | None = None
    max_particles: int | None = None

    @classmethod
    def from_mapping(cls, data: Any, *, where: str) -> Particles:
        keys = ("collection", "features", "weight", "max_particles")
        _mapping(data, where, keys, ("collection", "features"))
        features = _definitions(data["features"], f"{where}.features")
        if not features:
            raise ConfigError(f"{where}.features is empty; name at least one feature.")
        weight = data.get("weight")
        if weight is not None and "weight" in features:
            raise ConfigError(
                f"{where} has a per-particle 'weight' and a feature named 'weight'; the "
                "columns store the weight under that name: rename the feature."
            )
        limit = data.get("max_particles")
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise ConfigError(f"{where}.max_particles must be a positive integer, got {limit!r}.")
        return cls(
            collection=parse(data["collection"], key=f"{where}.collection"),
            features=features,
            weight=None if weight is None else parse(weight, key=f"{where}.weight"),
            max_particles=limit,
        )

    def to_mapping(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "collection": self.collection.to_text(),
            "features": _texts(self.features),
        }
        if self.weight is not None:
            out["weight"] = self.weight.to_text()
        if self.max_particles is not None:
            out["max_particles"] = self.max_particles
        return out


@dataclass(frozen=True, slots=True)
class Level:
    """One level (``gen`` or ``reco``) of an analysis (see the module docstring)."""

    name: str
    define: Mapping[str, Definition] = field(default_factory=lambda: _EMPTY)
    particles: Particles | None = None
    features: Mapping[str, Definition] = field(default_factory=lambda: _EMPTY)
    selection: Mapping[str, Definition] = field(default_factory=lambda: _EMPTY)
    counts: Mapping[str, Definition] = field(default_factory=lambda: _EMPTY)
    observables: Mapping[str, Observable] = field(default_factory=lambda: _EMPTY)

    @classmethod
    def from_mapping(cls, name: str, data: Any, *, where: str) -> Level:
        keys = ("define", "particles", "features", "selection", "counts", "observables")
        _mapping(data, where, keys)
        define = _definitions(data.get("define"), f"{where}.define")
        features = _definitions(data.get("features"), f"{where}.features")
        clash = sorted(set(define) & (set(features) | {"particles"}))
        if clash:
            raise ConfigError(
                f"{where}.define names {clash}, which {where}.features or the particle set "
                "('particles') also name; the observables see all three by name: rename "
                "the definitions."
            )
        selection = _definitions(data.get("selection"), f"{where}.selection")
        counts = _definitions(data.get("counts"), f"{where}.counts")
        if set(selection) & set(counts):
            raise ConfigError(
                f"{where}.counts and {where}.selection both name "
                f"{sorted(set(selection) & set(counts))}; the cut flow keeps one count per "
                "name: rename one of them."
            )
        particles = data.get("particles")
        observables = _named(data.get("observables"), f"{where}.observables")
        return cls(
            name=name,
            define=define,
            particles=None
            if particles is None
            else Particles.from_mapping(particles, where=f"{where}.particles"),
            features=features,
            selection=selection,
            counts=counts,
            observables=_Frozen(
                {
                    key: Observable.from_mapping(key, value, where=f"{where}.observables.{key}")
                    for key, value in observables.items()
                }
            ),
        )

    def to_mapping(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.define:
            out["define"] = _texts(self.define)
        if self.particles is not None:
            out["particles"] = self.particles.to_mapping()
        if self.features:
            out["features"] = _texts(self.features)
        if self.selection:
            out["selection"] = _texts(self.selection)
        if self.counts:
            out["counts"] = _texts(self.counts)
        if self.observables:
            out["observables"] = {k: v.to_mapping() for k, v in self.observables.items()}
        return out


@dataclass(frozen=True, slots=True)
class Dataset:
    """One dataset of the fileset: ``{file: treename}`` (paths or URLs), the event weight
    (overrides the description's), and the metadata every chunk sees."""

    name: str
    files: Mapping[str, str]
    weight: Definition | None = None
    metadata: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    @classmethod
    def from_mapping(
        cls, name: str, data: Any, *, where: str, treename: str, base: Path | None = None
    ) -> Dataset:
        if isinstance(data, str | os.PathLike) or (
            isinstance(data, Sequence) and not isinstance(data, str)
        ):
            data = {"files": data}
        _mapping(data, where, ("files", "treename", "weight", "metadata"), ("files",))
        tree = _string(data.get("treename", treename), f"{where}.treename")
        files = data["files"]
        if isinstance(files, str | os.PathLike):
            files = [files]
        if isinstance(files, Mapping):
            pairs = [(f, _string(t, f"{where}.files[{f!r}]")) for f, t in files.items()]
        elif isinstance(files, Sequence) and files:
            pairs = [(f, tree) for f in files]
        else:
            raise ConfigError(f"{where}.files must list at least one file or URL, got {files!r}.")
        resolved = {}
        for file, file_tree in pairs:
            text = _string(os.fspath(file), f"{where}.files")
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
            files=_Frozen(resolved),
            weight=None if weight is None else parse(weight, key=f"{where}.weight"),
            metadata=_Frozen(dict(metadata)),
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
    """A parameter θ of a method: its range, nominal value, and the expression of its
    per-event value where the events carry it (e.g. a branch ``theta_alphaS``)."""

    name: str
    low: float
    high: float
    nominal: float | None = None
    expr: Definition | None = None

    @classmethod
    def from_mapping(cls, name: str, data: Any, *, where: str) -> Parameter:
        _mapping(data, where, ("low", "high", "nominal", "expr"), ("low", "high"))
        low, high = _number(data["low"], f"{where}.low"), _number(data["high"], f"{where}.high")
        nominal = data.get("nominal")
        nominal = None if nominal is None else _number(nominal, f"{where}.nominal")
        if not low < high or (nominal is not None and not low <= nominal <= high):
            raise ConfigError(
                f"{where} needs low < high and low <= nominal <= high, got low={low!r}, "
                f"high={high!r}, nominal={nominal!r}."
            )
        expr = data.get("expr")
        return cls(
            name, low, high, nominal, None if expr is None else parse(expr, key=f"{where}.expr")
        )

    def to_mapping(self) -> dict[str, Any]:
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.nominal is not None:
            out["nominal"] = self.nominal
        if self.expr is not None:
            out["expr"] = self.expr.to_text()
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
    datasets: Mapping[str, Dataset] = field(default_factory=lambda: _EMPTY)
    parameters: Mapping[str, Parameter] = field(default_factory=lambda: _EMPTY)

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
        _mapping(data, where, _TOP_KEYS, ("name",))
        levels = {
            level: Level.from_mapping(level, data[level], where=f"{where}.{level}")
            for level in LEVELS
            if data.get(level) is not None
        }
        if not levels:
            raise ConfigError(f"{where} has neither 'gen' nor 'reco'; describe at least one level.")
        schema = _string(data.get("schema", "hepnnlr"), f"{where}.schema")
        treename = _string(data.get("treename", "events"), f"{where}.treename")
        weight = data.get("weight")
        datasets = _named_datasets(data.get("datasets"), f"{where}.datasets")
        parameters = _named(data.get("parameters"), f"{where}.parameters")
        return cls(
            name=_string(data["name"], f"{where}.name"),
            title=str(data.get("title", "")),
            schema=schema,
            treename=treename,
            weight=None if weight is None else parse(weight, key=f"{where}.weight"),
            datasets=_Frozen(
                {
                    key: Dataset.from_mapping(
                        key, value, where=f"{where}.datasets.{key}", treename=treename, base=base
                    )
                    for key, value in datasets.items()
                }
            ),
            levels=_Frozen(levels),
            parameters=_Frozen(
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
            datasets=_Frozen(
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
        return _EMPTY
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must map dataset names to files, got {type(data).__name__}.")
    for name in data:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where} has the dataset name {name!r}; use a non-empty string.")
    return data
