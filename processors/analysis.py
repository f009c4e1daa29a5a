"""The one coffea processor that runs any analysis description.

:class:`AnalysisProcessor` evaluates an :class:`~hepnnlr.analysis.AnalysisDescription`
on every chunk, with whatever NanoEvents schema the run uses (hepnnlr files, NanoAOD,
PFNano, ...). For a chunk of dataset ``d`` (``events.metadata["dataset"]``) it returns
the layout of every hepnnlr processor (:mod:`hepnnlr.processors.chunks`):

* ``cutflow``: ``{d: {cut: count}}`` from a :class:`coffea.analysis_tools.PackedSelection`:
  ``events``; per level, ``<level>_<cut>``: the events that pass that cut and every cut
  before it in the level's ``selection``, and ``<level>_<name>`` for its ``counts`` (each
  with the ones before it, over all events: not applied); ``pass_<level>``: the events that pass the
  whole level; ``pass_both`` when the description has both levels;
* ``hists``: ``{level: {observable: hist.Hist}}``, ``Weight`` storage, a leading
  ``StrCategory("dataset", growth=True)`` axis, filled with the event weight for the
  events that pass the level (one entry per value: per event, or per object of a jagged
  observable with its event's weight; None values are skipped);
* ``columns``: ``{chunk_key: ak.Array}``, one row per event: ``entry`` (the entry number in
  its file), ``run``/``luminosityBlock``/``event`` where the events have them,
  ``weight``, ``pass_<level>`` and per level a record of the event ``features`` with the
  ``particles`` list (their ``features``, ``weight`` if the level gives one, the first
  ``max_particles`` of each event); with ``observables=True`` also the level's
  ``observables``: a record of every observable's value per event (a number, None, or a
  list per event for a per-object observable), for the events that fail the level too,
  so that a results layer can fill the same histograms with other weights
  (:func:`hepnnlr.results.observables.fill_observables`); with ``parameters=True`` a
  ``parameters`` record: the value of every parameter θ that has an ``expr`` in each event
  (a varied sample's θ, a nuisance such as the τ_h energy scale). An empty dict with
  ``columns=False``.

Real data: a dataset whose metadata says ``is_data: true`` (:data:`DATA_KEY`) is processed
at the ``reco`` level alone, since it has no generator collections: its chunks give no
``gen`` histograms, no ``gen_*``/``pass_gen``/``pass_both`` cut-flow entries and no
``pass_gen``/``gen`` columns (:func:`~hepnnlr.processors.chunks.collect_hists` gives
its ``reco`` group alone).

Evaluation order per level: ``define`` (in order), ``features``, ``particles``, then the
``selection`` and the ``observables``, which see every name defined before them
(the definitions, the feature names and ``particles``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import awkward as ak
import numpy as np
from coffea import processor
from coffea.analysis_tools import PackedSelection

from hepnnlr.analysis.description import AnalysisDescription, Level, Particles
from hepnnlr.analysis.expressions import Expression, Reference
from hepnnlr.errors import ConfigError, NonFiniteInputError, ShapeMismatchError
from hepnnlr.observables.dataset_histos import book_histogram, fill_histogram
from hepnnlr.observables.entries import event_flags, selected_entries
from hepnnlr.processors.chunks import chunk_output, cutflow_counts, dataset_of
from hepnnlr.schema.runner import run_processor

__all__ = ["DATA_KEY", "AnalysisProcessor", "run_analysis"]

DATA_KEY = "is_data"
"""The dataset metadata key (``metadata: {is_data: true}`` in a fileset or a description's
``datasets``) of real data: only the ``reco`` level is built for its events."""

_EVENT_KEYS = ("run", "luminosityBlock", "event")


class AnalysisProcessor(processor.ProcessorABC):
    """Histograms, cut flow and network inputs of any analysis description.

    Stateless: it holds only the frozen description, so it pickles to workers (a
    ``module:function`` reference is imported on the worker when first evaluated).

    Args:
        description: The analysis (``hepnnlr.analysis.get("dis")``, or
            ``AnalysisDescription.from_yaml(path)``).
        columns: Return the per-event ``columns`` (default True).
        observables: Add each level's ``observables`` record to the columns (default
            False: the histograms alone need no per-event copy).
        parameters: Add the ``parameters`` record (the per-event value of every
            parameter with an ``expr``) to the columns (default False: the files of
            other uses need not carry them).
    """

    def __init__(
        self,
        description: AnalysisDescription,
        *,
        columns: bool = True,
        observables: bool = False,
        parameters: bool = False,
    ) -> None:
        if not isinstance(description, AnalysisDescription):
            raise ConfigError(
                f"AnalysisProcessor needs an AnalysisDescription, got "
                f"{type(description).__name__}; use hepnnlr.analysis.get(name) or "
                "AnalysisDescription.from_yaml(path)."
            )
        options = (("columns", columns), ("observables", observables), ("parameters", parameters))
        for option, value in options:
            if not isinstance(value, bool):
                raise ConfigError(
                    f"AnalysisProcessor({option}=...) must be True or False, got {value!r}."
                )
        for option, value in options[1:]:
            if value and not columns:
                raise ConfigError(
                    f"AnalysisProcessor({option}=True) puts the {option} in the columns: "
                    "it needs columns=True."
                )
        if observables:
            for name, level in description.levels.items():
                if "observables" in level.features:
                    raise ConfigError(
                        f"{description.name}: {name}.features.observables: the name "
                        "'observables' holds the observables' record in the columns; rename "
                        "the feature."
                    )
        self.description = description
        self.columns = columns
        self.observables = observables
        self.parameters = parameters

    def process(self, events: Any) -> dict[str, Any]:
        """Process one chunk (see the module docstring for the output)."""
        dataset = dataset_of(events)
        n_events = len(events)
        weight = self._weight(events, dataset)
        selection = PackedSelection()
        cutflow: dict[str, int] = {"events": n_events}
        hists: dict[str, dict[str, Any]] = {}
        records: dict[str, ak.Array] = {}
        passed: dict[str, np.ndarray] = {}
        for name, level in self._levels(events, dataset).items():
            scope = _evaluate_level(level, events)
            cuts = []
            for cut, definition in level.selection.items():
                mask = _per_event(definition.evaluate(events, scope.names), events, definition)
                selection.add(f"{name}_{cut}", _boolean(mask, definition, events))
                cuts.append(f"{name}_{cut}")
            tallies = []
            for tally, definition in level.counts.items():
                mask = _per_event(definition.evaluate(events, scope.names), events, definition)
                selection.add(f"{name}_{tally}", _boolean(mask, definition, events))
                tallies.append(f"{name}_{tally}")
            for chain in (tallies, cuts):
                if chain:  # (coffea's cutflow of no cut at all fails)
                    counts = cutflow_counts(selection, *chain)
                    cutflow.update(zip(chain, counts[1:], strict=True))
            passed[name] = selection.all(*cuts) if cuts else np.ones(n_events, dtype=bool)
            cutflow[f"pass_{name}"] = int(passed[name].sum())
            values = {
                key: _per_event(observable.expr.evaluate(events, scope.names), events,
                                observable.expr)
                for key, observable in level.observables.items()
            }  # fmt: skip
            hists[name] = {
                key: self._histogram(observable, values[key], events, passed[name], weight,
                                     dataset)
                for key, observable in level.observables.items()
            }  # fmt: skip
            if self.columns:
                records[name] = scope.record(values if self.observables else None)
        if len(passed) == 2:
            cutflow["pass_both"] = int((passed["gen"] & passed["reco"]).sum())
        if not self.columns:
            return chunk_output(events, cutflow, hists, None)
        if self.parameters:
            records["parameters"] = self._parameters(events)
        return chunk_output(events, cutflow, hists, _columns(events, weight, passed, records))

    def postprocess(self, accumulator: dict[str, Any]) -> dict[str, Any]:
        """Return the merged accumulator unchanged."""
        return accumulator

    def _levels(self, events: Any, dataset: str) -> Mapping[str, Level]:
        """The levels to build for this chunk: all, or the ``reco`` level alone for a
        dataset whose metadata says ``is_data: true`` (real data carry no generator
        collections; coffea forwards a dataset's metadata to every chunk)."""
        is_data = (getattr(events, "metadata", None) or {}).get(DATA_KEY, False)
        if not isinstance(is_data, bool | np.bool_):
            raise ConfigError(
                f"dataset {dataset!r}: metadata {DATA_KEY}={is_data!r} must be true (real "
                "data: the reco level alone) or false."
            )
        if not is_data:
            return self.description.levels
        if "reco" not in self.description.levels:
            raise ConfigError(
                f"dataset {dataset!r} is real data (metadata {DATA_KEY}: true), processed at "
                f"the reco level alone, but the analysis {self.description.name!r} has no "
                "reco level; describe one, or drop is_data from the dataset's metadata."
            )
        return {"reco": self.description.levels["reco"]}

    def _parameters(self, events: Any) -> ak.Array | None:
        values = {
            name: _numbers(_per_event(p.expr.evaluate(events), events, p.expr), p.expr, events)
            for name, p in self.description.parameters.items()
            if p.expr is not None
        }
        return ak.zip(values, depth_limit=1) if values else None

    def _weight(self, events: Any, dataset: str) -> np.ndarray:
        definition = self.description.event_weight(dataset)
        if definition is None:
            return np.ones(len(events))
        values = _per_event(definition.evaluate(events), events, definition)
        if isinstance(values, ak.Array) and ak.any(ak.is_none(values, axis=0)):
            raise NonFiniteInputError(
                f"{definition.key}: the event weight {definition.text!r} is missing (None) "
                f"for some events of {_where(events)}; give every event a weight."
            )
        weight = _numbers(values, definition, events)
        return weight

    @staticmethod
    def _histogram(observable, value, events, selected, weight, dataset):
        histogram = book_histogram(observable.bins.axis(observable.name, observable.label),
                                   dataset=dataset)  # fmt: skip
        values, weights = _flat_values(value, selected, weight, events, observable.expr)
        if observable.bins.integer:  # counts: exact integers, as the axis needs
            values = values.astype(np.int64)
        fill_histogram(histogram, values, weights, dataset=dataset)
        return histogram


def _where(events: Any) -> str:
    metadata = getattr(events, "metadata", None) or {}
    return f"dataset {metadata.get('dataset')!r}, file {metadata.get('filename', '?')!r}"


def _per_event(value: Any, events: Any, definition: Expression | Reference) -> Any:
    """``value`` with one entry per event (a number is repeated for every event)."""
    if isinstance(value, bool | int | float | np.number | np.bool_):
        return np.full(len(events), value)
    if not isinstance(value, ak.Array | np.ndarray):
        raise ShapeMismatchError(
            f"{definition.key}: {definition.text!r} gave a {type(value).__name__}, not one "
            f"value per event of {_where(events)}."
        )
    if len(value) != len(events):
        raise ShapeMismatchError(
            f"{definition.key}: {definition.text!r} gave {len(value)} entries for "
            f"{len(events)} events of {_where(events)}."
        )
    return value


def _boolean(value: Any, definition: Expression | Reference, events: Any) -> np.ndarray:
    """A cut's per-event booleans; None (a missing value) fails the cut."""
    return event_flags(
        value,
        len(events),
        key=definition.key,
        text=definition.text,
        what="cut",
        example="num(Jet) > 0",
        where=_where(events),
    )


def _numbers(values: Any, definition: Expression | Reference, events: Any) -> np.ndarray:
    flat = np.asarray(ak.to_numpy(values) if isinstance(values, ak.Array) else values)
    if flat.dtype.kind not in "biuf":
        raise ShapeMismatchError(
            f"{definition.key}: {definition.text!r} does not give plain numbers in "
            f"{_where(events)} (dtype {flat.dtype})."
        )
    flat = flat.astype(np.float64, copy=False)
    bad = ~np.isfinite(flat)
    if bad.any():
        raise NonFiniteInputError(
            f"{definition.key}: {definition.text!r} gives {int(bad.sum())} NaN or infinite "
            f"value(s) in {_where(events)}, e.g. {flat[bad][:3].tolist()}; guard the "
            "expression (e.g. log of a positive quantity) or fix the file."
        )
    return flat


def _flat_values(
    value: Any,
    selected: np.ndarray,
    weight: np.ndarray,
    events: Any,
    definition: Expression | Reference,
) -> tuple[np.ndarray, np.ndarray]:
    """Values of the selected events (one per event, or per object with its event's
    weight), None values dropped."""
    value = _per_event(value, events, definition)
    if isinstance(value, np.ndarray):
        value = ak.Array(value)
    fast = _flat_buffers(value.layout, selected, weight)
    if fast is not None:
        return _numbers(fast[0], definition, events), fast[1]
    value, weights = selected_entries(value, selected, weight)
    return _numbers(value, definition, events), weights


def _numbers_of(layout: ak.contents.Content) -> np.ndarray | None:
    """The values of a plain numeric layout (a 1-d NumpyArray), else None."""
    if isinstance(layout, ak.contents.NumpyArray) and layout.data.ndim == 1:
        if layout.parameter("__array__") is None:
            return ak.to_numpy(ak.Array(layout))
    return None


def _flat_buffers(
    layout: ak.contents.Content, selected: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_flat_values` straight from the buffers of the two common layouts, one
    number (or None) per event, or a list of numbers per event; None for any other
    layout, which goes through awkward. The same values in the same order: awkward's
    path would select, flatten and drop the same entries."""
    if layout.is_option and not isinstance(layout, ak.contents.UnmaskedArray):
        content = _numbers_of(layout.content)
        if content is None or not isinstance(layout, ak.contents.ByteMaskedArray):
            return None
        valid = np.asarray(layout.mask_as_bool(valid_when=True)) & selected
        return content[: len(valid)][valid], weight[valid]
    values = _numbers_of(layout)
    if values is not None:
        return values[selected], weight[selected]
    if isinstance(layout, ak.contents.ListOffsetArray):
        content = _numbers_of(layout.content)
        if content is None:
            return None
        offsets = np.asarray(layout.offsets)
        counts = np.diff(offsets)
        picked = np.repeat(selected, counts)
        flat = content[offsets[0] : offsets[-1]]
        return flat[picked], np.repeat(weight, counts)[picked]
    return None


class _LevelScope:
    """The names of one level for one chunk, and its columns record."""

    def __init__(self, names: dict[str, Any], features: list[str], particles: Any) -> None:
        self.names, self.features, self.particles = names, features, particles

    def record(self, observables: Mapping[str, Any] | None = None) -> ak.Array | None:
        fields = {name: self.names[name] for name in self.features}
        if self.particles is not None:
            fields["particles"] = self.particles
        if observables:
            fields["observables"] = ak.zip(
                {key: ak.Array(v) if isinstance(v, np.ndarray) else v
                 for key, v in observables.items()},
                depth_limit=1,
            )  # fmt: skip
        if not fields:
            return None
        return ak.zip(fields, depth_limit=1)


def _evaluate_level(level: Level, events: Any) -> _LevelScope:
    names: dict[str, Any] = {}
    for name, definition in level.define.items():
        names[name] = definition.evaluate(events, names)
    for name, definition in level.features.items():
        value = _per_event(definition.evaluate(events, names), events, definition)
        if isinstance(value, ak.Array) and value.ndim != 1:
            raise ShapeMismatchError(
                f"{definition.key}: the event feature {definition.text!r} gives a list per "
                f"event in {_where(events)}; put per-object quantities in the particle "
                "set's features, or reduce them (sum, max, first, num)."
            )
        names[name] = value
    particles = None
    if level.particles is not None:
        particles = _particles(level.particles, events, names)
        names["particles"] = particles
    return _LevelScope(names, list(level.features), particles)


class _CollectionScope(Mapping):
    """Names for a particle feature: the collection's fields, then the level's names."""

    def __init__(self, collection: Any, names: Mapping[str, Any]) -> None:
        self.collection, self.names = collection, names
        self.fields = set(ak.fields(collection))

    def __getitem__(self, key: str) -> Any:
        if key in self.fields:
            return self.collection[key]
        return self.names[key]

    def __contains__(self, key: object) -> bool:
        return key in self.fields or key in self.names

    def __iter__(self) -> Iterator[str]:
        return iter({*self.fields, *self.names})

    def __len__(self) -> int:
        return len({*self.fields, *self.names})


def _particles(spec: Particles, events: Any, names: Mapping[str, Any]) -> ak.Array:
    collection = _per_event(spec.collection.evaluate(events, names), events, spec.collection)
    if not isinstance(collection, ak.Array) or collection.ndim != 2:
        raise ShapeMismatchError(
            f"{spec.collection.key}: the particle collection {spec.collection.text!r} must "
            f"give a list of objects per event in {_where(events)}."
        )
    collection = ak.fill_none(collection, [], axis=0)
    if spec.max_particles is not None:
        collection = collection[:, : spec.max_particles]
    scope = _CollectionScope(collection, names)
    fields = {}
    definitions = dict(spec.features)
    if spec.weight is not None:
        definitions["weight"] = spec.weight
    for name, definition in definitions.items():
        value = definition.evaluate(events, scope)
        if not isinstance(value, ak.Array) or value.ndim != 2:
            # a per-event quantity: the same value for every particle of the event
            value = ak.broadcast_arrays(value, ak.local_index(collection, axis=1))[0]
        fields[name] = value
    return ak.zip(fields)


def _columns(
    events: Any,
    weight: np.ndarray,
    passed: Mapping[str, np.ndarray],
    records: Mapping[str, ak.Array | None],
) -> ak.Array:
    n_events = len(events)
    start = int((getattr(events, "metadata", None) or {}).get("entrystart") or 0)
    fields: dict[str, ak.contents.Content] = {
        "entry": ak.contents.NumpyArray(np.arange(start, start + n_events, dtype=np.int64))
    }
    present = set(ak.fields(events))
    for key in _EVENT_KEYS:
        if key in present:
            fields[key] = ak.to_layout(ak.to_numpy(events[key]))
    fields["weight"] = ak.contents.NumpyArray(weight)
    for level, mask in passed.items():
        fields[f"pass_{level}"] = ak.contents.NumpyArray(mask)
    for level, record in records.items():
        if record is not None:
            plain = ak.to_packed(ak.materialize(ak.without_parameters(record)))
            fields[level] = plain.layout
    return ak.Array(ak.contents.RecordArray(list(fields.values()), list(fields), length=n_events))


def run_analysis(
    description: AnalysisDescription,
    fileset: Mapping[str, Any] | None = None,
    *,
    columns: bool = True,
    observables: bool = False,
    parameters: bool = False,
    **options: Any,
) -> Any:
    """Run ``description`` with :func:`hepnnlr.schema.run_processor`, with its schema and
    tree.

    Args:
        description: The analysis.
        fileset: The datasets to run on (``{name: [files]}`` or a dataset mapping as in a
            description); the description's own ``datasets`` if None.
        columns, observables, parameters: As in :class:`AnalysisProcessor`.
        options: Passed on to ``run_processor`` (``executor``, ``chunksize``, ...).
    """
    if fileset is not None:
        description = description.with_fileset(fileset)
    for reserved in ("schema", "treename"):
        if reserved in options:
            raise ConfigError(
                f"run_analysis(..., {reserved}=...) is the description's: set {reserved!r} "
                "in the description instead."
            )
    return run_processor(
        AnalysisProcessor(
            description, columns=columns, observables=observables, parameters=parameters
        ),
        description.fileset(),
        schema=description.schema,
        treename=description.treename,
        **options,
    )
