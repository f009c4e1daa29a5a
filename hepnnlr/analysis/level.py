"""One level of an analysis (``gen`` or ``reco``) and its parts: the particle set, the
observables and their binning (the section format is in :mod:`hepnnlr.analysis.description`
and ``docs/analysis.md``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import hist

from hepnnlr.analysis._checks import (
    EMPTY,
    Definition,
    Frozen,
    check_mapping,
    definitions,
    named,
    number,
    string,
    texts,
)
from hepnnlr.analysis.expressions import parse
from hepnnlr.errors import ConfigError

__all__ = ["Binning", "Level", "Observable", "Particles"]


@dataclass(frozen=True, slots=True)
class Binning:
    """A histogram axis: explicit ``edges``; ``n`` bins from ``start`` to ``stop`` (equal
    in log if ``log``); or, with ``integer``, one bin per integer from ``start`` to
    ``stop - 1`` (counts, filled as exact integers)."""

    edges: tuple[float, ...] | None = None
    n: int | None = None
    start: float | None = None
    stop: float | None = None
    log: bool = False
    integer: bool = False

    @classmethod
    def from_mapping(cls, data: Any, *, where: str) -> Binning:
        if isinstance(data, Sequence) and not isinstance(data, str):
            edges = tuple(number(v, f"{where}[{i}]") for i, v in enumerate(data))
            if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
                raise ConfigError(
                    f"{where} must list at least two increasing bin edges, got {list(data)}."
                )
            return cls(edges=edges)
        if isinstance(data, Mapping) and data.get("integer") is True:
            check_mapping(data, where, ("start", "stop", "integer"), ("start", "stop"))
            start, stop = data["start"], data["stop"]
            if not all(type(v) is int for v in (start, stop)) or not start < stop:
                raise ConfigError(
                    f"{where} with integer: true needs integers start < stop, got "
                    f"start={start!r}, stop={stop!r}."
                )
            return cls(start=start, stop=stop, integer=True)
        keys = ("n", "start", "stop", "log", "integer")
        check_mapping(data, where, keys, ("n", "start", "stop"))
        if data.get("integer", False) is not False:
            raise ConfigError(f"{where}.integer must be true or false, got {data['integer']!r}.")
        n = data["n"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"{where}.n must be a positive integer of bins, got {n!r}.")
        start, stop = (
            number(data["start"], f"{where}.start"),
            number(data["stop"], f"{where}.stop"),
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
        if self.integer:
            return {"start": self.start, "stop": self.stop, "integer": True}
        return {"n": self.n, "start": self.start, "stop": self.stop, "log": self.log}

    def axis(self, name: str, label: str) -> hist.axis.AxesMixin:
        """The ``hist`` axis named ``name``."""
        if self.edges is not None:
            return hist.axis.Variable(self.edges, name=name, label=label)
        if self.integer:
            return hist.axis.Integer(self.start, self.stop, name=name, label=label)
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
        check_mapping(data, where, ("expr", "bins", "label"), ("expr", "bins"))
        label = data.get("label", name)
        return cls(
            name=name,
            expr=parse(data["expr"], key=f"{where}.expr"),
            bins=Binning.from_mapping(data["bins"], where=f"{where}.bins"),
            label=string(label, f"{where}.label"),
        )

    def to_mapping(self) -> dict[str, Any]:
        return {
            "expr": self.expr.to_text(),
            "bins": self.bins.to_mapping(),
            "label": self.label,
        }


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
        check_mapping(data, where, keys, ("collection", "features"))
        features = definitions(data["features"], f"{where}.features")
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
            "features": texts(self.features),
        }
        if self.weight is not None:
            out["weight"] = self.weight.to_text()
        if self.max_particles is not None:
            out["max_particles"] = self.max_particles
        return out


@dataclass(frozen=True, slots=True)
class Level:
    """One level (``gen`` or ``reco``) of an analysis (see the module docstring).

    ``region`` is the phase space in which results are shown at this level (the truth
    histograms of an unfolding): an expression over the level's observables and
    features by name (``Q2 > 150 and 0.08 < y < 0.7``), evaluated per event by the
    results layer on the columns; the processor does not apply it. ``inputs`` names the
    event features a fit's networks read unless its job names its own (``hepnnlr fit``'s
    ``features.generator`` / ``simulation``): features, or fields of a record feature
    (``jet1.multiplicity``); empty: every feature.
    """

    name: str
    define: Mapping[str, Definition] = field(default_factory=lambda: EMPTY)
    particles: Particles | None = None
    features: Mapping[str, Definition] = field(default_factory=lambda: EMPTY)
    selection: Mapping[str, Definition] = field(default_factory=lambda: EMPTY)
    counts: Mapping[str, Definition] = field(default_factory=lambda: EMPTY)
    observables: Mapping[str, Observable] = field(default_factory=lambda: EMPTY)
    region: Definition | None = None
    inputs: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, name: str, data: Any, *, where: str) -> Level:
        keys = ("define", "particles", "features", "inputs", "selection", "counts",
                "observables", "region")  # fmt: skip
        check_mapping(data, where, keys)
        define = definitions(data.get("define"), f"{where}.define")
        features = definitions(data.get("features"), f"{where}.features")
        inputs = _inputs(data.get("inputs"), features, f"{where}.inputs")
        clash = sorted(set(define) & (set(features) | {"particles"}))
        if clash:
            raise ConfigError(
                f"{where}.define names {clash}, which {where}.features or the particle set "
                "('particles') also name; the observables see all three by name: rename "
                "the definitions."
            )
        selection = definitions(data.get("selection"), f"{where}.selection")
        counts = definitions(data.get("counts"), f"{where}.counts")
        if set(selection) & set(counts):
            raise ConfigError(
                f"{where}.counts and {where}.selection both name "
                f"{sorted(set(selection) & set(counts))}; the cut flow keeps one count per "
                "name: rename one of them."
            )
        particles = data.get("particles")
        observables = named(data.get("observables"), f"{where}.observables")
        region = data.get("region")
        if region is not None:
            region = parse(string(region, f"{where}.region"), key=f"{where}.region")
        return cls(
            name=name,
            define=define,
            particles=None
            if particles is None
            else Particles.from_mapping(particles, where=f"{where}.particles"),
            features=features,
            selection=selection,
            counts=counts,
            observables=Frozen(
                {
                    key: Observable.from_mapping(key, value, where=f"{where}.observables.{key}")
                    for key, value in observables.items()
                }
            ),
            region=region,
            inputs=inputs,
        )

    def to_mapping(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.define:
            out["define"] = texts(self.define)
        if self.particles is not None:
            out["particles"] = self.particles.to_mapping()
        if self.features:
            out["features"] = texts(self.features)
        if self.inputs:
            out["inputs"] = list(self.inputs)
        if self.selection:
            out["selection"] = texts(self.selection)
        if self.counts:
            out["counts"] = texts(self.counts)
        if self.observables:
            out["observables"] = {k: v.to_mapping() for k, v in self.observables.items()}
        if self.region is not None:
            out["region"] = self.region.to_text()
        return out


def _inputs(value: Any, features: Mapping[str, Definition], where: str) -> tuple[str, ...]:
    """A level's ``inputs``: names of its features (a dotted name: a record feature's
    field), checked against them."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigError(f"{where} must be a list of feature names, got {value!r}.")
    names = tuple(string(v, where) for v in value)
    unknown = [n for n in names if n.split(".")[0] not in features]
    if unknown:
        raise ConfigError(
            f"{where} names {unknown}, which are not features of the level; its features "
            f"are {list(features)} (a dotted name reaches into a record feature: "
            "jet1.multiplicity)."
        )
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}={list(names)} names a feature twice.")
    return names
