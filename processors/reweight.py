"""A saved reweighter applied to any analysis description, inside a coffea processor.

:class:`ReweightProcessor` builds a reweighter's inputs from the events through an
:class:`~hepnnlr.analysis.AnalysisDescription` (the level's particle set and event
features, exactly as :class:`~hepnnlr.processors.AnalysisProcessor` builds its columns),
and returns for a chunk of dataset ``d``:

* ``cutflow``: ``{d: {cut: count}}`` as :class:`AnalysisProcessor`'s;
* ``hists``: ``{level: {observable: hist.Hist}}`` for every level of the description,
  with a leading ``dataset`` axis and a ``variation`` category axis (``nominal``, and
  ``up``, ``down`` for an ensemble), filled with event weight × reweighter weight for the
  events that pass the level;
* ``columns``: ``{chunk_key: ak.Array}``, one row per event: the keys (``entry``, and
  ``run``/``luminosityBlock``/``event`` where the events have them), ``event_weight``
  (the description's event weight, e.g. ``genWeight``), ``pass_<level>``, ``weight``
  (the reweighter's, 1 outside ``pass_<level>``) and, for an ensemble, ``weight_up`` and
  ``weight_down``: the arguments of ``coffea.analysis_tools.Weights.add(name, weight,
  weightUp=weight_up, weightDown=weight_down)``.

A processor of one's own gets the same per-event record from
:meth:`ReweightProcessor.event_weights` (the README's "Using it from Python" shows it with
``Weights.add``).

The model travels with the processor as bytes: the processor holds the pickle of the
reweighter, which a :class:`~hepnnlr.training.SavedReweighter` writes through its
``to_bytes()`` archive (``model.keras`` + ``reweighter.json``), so dask or futures
workers need no path to the model. A worker rebuilds it once per process (cached by the
sha256 of the bytes), importing TensorFlow then; this module itself imports no model code.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import awkward as ak
import hist
import numpy as np
from coffea import processor
from coffea.analysis_tools import PackedSelection

from hepnnlr.analysis.description import AnalysisDescription
from hepnnlr.errors import ConfigError
from hepnnlr.observables.dataset_histos import book_histogram
from hepnnlr.processors.analysis import (
    AnalysisProcessor,
    _boolean,
    _columns,
    _evaluate_level,
    _flat_values,
    _per_event,
)
from hepnnlr.processors.chunks import chunk_output, cutflow_counts, dataset_of

__all__ = ["VARIATIONS", "ReweightProcessor", "reweighter_inputs"]

VARIATIONS = ("nominal", "up", "down")
"""Categories of the histograms' ``variation`` axis (an ensemble's; one model: nominal)."""

_VARIATION_AXIS = "variation"

# Reweighters rebuilt from their bytes in this process, by sha256: a worker unpickles the
# processor for every chunk, but loads each model once. A few entries: one run holds one
# model, a long-lived worker may serve a few runs.
_LOADED: OrderedDict[str, Any] = OrderedDict()
_LOADED_MAX = 4
_LOCK = threading.Lock()


def reweighter_inputs(reweighter: Any) -> dict[str, Any]:
    """What a reweighter reads: ``level``, ``particle_features``, ``global_features``
    (the standardizer's names), for a ``SavedReweighter`` or a ``ReweighterEnsemble``
    (whose members must agree).

    Raises:
        ConfigError: not a reweighter, members that read other features, or a
            parameterized reweighter (it needs θ, which a description does not give).
    """
    members = list(getattr(reweighter, "members", [reweighter]))
    found = []
    for member in members:
        standardizer = getattr(member, "standardizer", None)
        if standardizer is None or not callable(getattr(member, "weights", None)):
            raise ConfigError(
                f"ReweightProcessor(reweighter=...) got a {type(reweighter).__name__}; pass a "
                "hepnnlr.training.SavedReweighter (SavedReweighter.load(folder)) or a "
                "ReweighterEnsemble of them."
            )
        if standardizer.theta_names:
            raise ConfigError(
                f"the reweighter is parameterized in {list(standardizer.theta_names)}; "
                "ReweightProcessor applies unparameterized reweighters only (the events "
                "carry no θ to feed it)."
            )
        found.append(
            {
                "level": member.level,
                "particle_features": list(standardizer.particle_features),
                "global_features": list(standardizer.global_features),
                "particles_field": getattr(member, "particles_field", "particles"),
            }
        )
    if any(entry != found[0] for entry in found[1:]):
        raise ConfigError(
            f"the ensemble's members read different inputs: {found}; combine reweighters "
            "trained on the same features."
        )
    return found[0]


def _check_inputs(description: AnalysisDescription, level: str, wanted: dict[str, Any]) -> None:
    """Refuse a description whose ``level`` lacks a feature the standardizer was fitted on,
    naming both lists."""
    if level not in description.levels:
        raise ConfigError(
            f"ReweightProcessor(level={level!r}): the analysis {description.name!r} has the "
            f"levels {list(description.levels)}; pass one of them."
        )
    spec = description.levels[level]
    have = {
        "particle": list(spec.particles.features) if spec.particles is not None else [],
        "event": list(spec.features),
    }
    keys = {"particle": f"{level}.particles.features", "event": f"{level}.features"}
    for kind, names in (("particle", wanted["particle_features"]),
                        ("event", wanted["global_features"])):  # fmt: skip
        missing = [name for name in names if name not in have[kind]]
        if missing:
            raise ConfigError(
                f"the reweighter's {kind} features {names} do not match the analysis "
                f"{description.name!r}'s {keys[kind]} {have[kind]} (missing {missing}); "
                "describe the features the reweighter was trained on, under the same names."
            )


@dataclass
class _Chunk:
    """One chunk's evaluation: event weight, cut flow, per-level names and pass flags,
    the columns of AnalysisProcessor (the inputs) and ``{variation: reweight}``."""

    weight: np.ndarray
    cutflow: dict[str, int]
    scopes: dict[str, Any] = field(default_factory=dict)
    passed: dict[str, np.ndarray] = field(default_factory=dict)
    inputs: ak.Array | None = None
    reweights: dict[str, np.ndarray] = field(default_factory=dict)


class ReweightProcessor(processor.ProcessorABC):
    """Per-event weights and reweighted histograms of a saved reweighter on a description.

    Args:
        description: The analysis whose ``level`` builds the reweighter's inputs, and
            whose observables are histogrammed.
        reweighter: A ``SavedReweighter`` or a ``ReweighterEnsemble`` (its ``variations``
            give ``weight_up``/``weight_down``).
        level: The description's level that holds the inputs; ``None``: the level the
            reweighter was trained on (``reco`` for OmniFold's step 1, ``gen`` for step 2).
        columns: Return the per-event ``columns`` (default True).

    Raises:
        ConfigError: the level is not in the description, or its features do not match
            the reweighter's standardizer (both lists named).
    """

    def __init__(
        self,
        description: AnalysisDescription,
        reweighter: Any,
        *,
        level: str | None = None,
        columns: bool = True,
    ) -> None:
        # the description, event weight and per-level evaluation are AnalysisProcessor's
        self.analysis = AnalysisProcessor(description, columns=columns)
        inputs = reweighter_inputs(reweighter)
        self.level = inputs["level"] if level is None else level
        _check_inputs(description, self.level, inputs)
        self.model_level = inputs["level"]
        self.particles_field = inputs["particles_field"]
        self.ensemble = hasattr(reweighter, "variations")
        self.model = pickle.dumps(reweighter)
        self.model_sha256 = hashlib.sha256(self.model).hexdigest()
        self._reweighter = reweighter

    @property
    def description(self) -> AnalysisDescription:
        return self.analysis.description

    @property
    def reweighter(self) -> Any:
        """The reweighter: the one given, or on a worker rebuilt from :attr:`model`
        once per process."""
        if self._reweighter is None:
            with _LOCK:
                if self.model_sha256 not in _LOADED:
                    _LOADED[self.model_sha256] = pickle.loads(self.model)
                    while len(_LOADED) > _LOADED_MAX:
                        _LOADED.popitem(last=False)
                self._reweighter = _LOADED[self.model_sha256]
        return self._reweighter

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_reweighter"] = None  # the bytes travel, not the Keras model
        return state

    def variations(self) -> tuple[str, ...]:
        """The ``variation`` categories: nominal, up, down for an ensemble."""
        return VARIATIONS if self.ensemble else VARIATIONS[:1]

    def process(self, events: Any) -> dict[str, Any]:
        """Process one chunk (see the module docstring for the output)."""
        dataset = dataset_of(events)
        chunk = self._evaluate(events, dataset)
        hists = {
            name: {
                key: self._histogram(
                    observable,
                    events,
                    chunk.scopes[name].names,
                    chunk.passed[name],
                    chunk.weight,
                    chunk.reweights,
                    dataset,
                )  # fmt: skip
                for key, observable in level.observables.items()
            }
            for name, level in self.description.levels.items()
        }
        columns = self._weights_record(chunk) if self.analysis.columns else None
        return chunk_output(events, chunk.cutflow, hists, columns)

    def event_weights(self, events: Any) -> ak.Array:
        """The per-event record of the module docstring's ``columns`` for ``events``:
        what a processor of one's own calls to pass ``weight`` (and ``weight_up``,
        ``weight_down``) to ``coffea.analysis_tools.Weights.add``."""
        return self._weights_record(self._evaluate(events, dataset_of(events)))

    def _evaluate(self, events: Any, dataset: str) -> _Chunk:
        """Every level's names and selection, the event weight and the reweights."""
        n_events = len(events)
        chunk = _Chunk(weight=self.analysis._weight(events, dataset),
                       cutflow={"events": n_events})  # fmt: skip
        selection = PackedSelection()
        records = {}
        for name, level in self.description.levels.items():
            scope = chunk.scopes[name] = _evaluate_level(level, events)
            cuts = []
            for cut, definition in level.selection.items():
                mask = _per_event(definition.evaluate(events, scope.names), events, definition)
                selection.add(f"{name}_{cut}", _boolean(mask, definition, events))
                cuts.append(f"{name}_{cut}")
            if cuts:
                counts = cutflow_counts(selection, *cuts)[1:]
                chunk.cutflow.update(zip(cuts, counts, strict=True))
            passed = selection.all(*cuts) if cuts else np.ones(n_events, dtype=bool)
            chunk.passed[name] = passed
            chunk.cutflow[f"pass_{name}"] = int(passed.sum())
            records[name] = scope.record() if name == self.level else None
        chunk.inputs = _columns(events, chunk.weight, chunk.passed, records)
        chunk.reweights = self._reweights(chunk.inputs, chunk.passed[self.level])
        return chunk

    def _weights_record(self, chunk: _Chunk) -> ak.Array:
        """The keys, the event weight, the pass flags, then the reweighter's weights."""
        inputs = chunk.inputs
        names = [key for key in ak.fields(inputs) if key not in (self.level, "weight")]
        fields = {key: inputs[key] for key in names if not key.startswith("pass_")}
        fields["event_weight"] = inputs["weight"]
        fields.update({key: inputs[key] for key in names if key.startswith("pass_")})
        fields["weight"] = chunk.reweights["nominal"]
        if self.ensemble:
            fields["weight_up"] = chunk.reweights["up"]
            fields["weight_down"] = chunk.reweights["down"]
        return ak.zip(fields, depth_limit=1)

    def postprocess(self, accumulator: dict[str, Any]) -> dict[str, Any]:
        """Return the merged accumulator unchanged."""
        return accumulator

    def _reweights(self, inputs: ak.Array, select: np.ndarray) -> dict[str, np.ndarray]:
        """``{variation: per-event weight}``, 1 outside ``select``."""
        if not select.any():  # nothing for the network to see in this chunk
            ones = np.ones(len(select))
            return dict.fromkeys(self.variations(), ones)
        # the reweighter reads the level it was trained on, its particles under its own
        # name; here they are the description's level and "particles"
        record = inputs[self.level]
        if self.particles_field != "particles" and "particles" in ak.fields(record):
            renamed = {key: record[key] for key in ak.fields(record) if key != "particles"}
            renamed[self.particles_field] = record["particles"]
            record = ak.zip(renamed, depth_limit=1)
        columns = ak.zip({self.model_level: record}, depth_limit=1)
        if self.ensemble:
            return dict(zip(VARIATIONS, self.reweighter.variations(columns, select),
                            strict=True))  # fmt: skip
        return {"nominal": self.reweighter.weights(columns, select)}

    def _histogram(self, observable, events, names, selected, weight, reweights, dataset):
        histogram = book_histogram(observable.bins.axis(observable.name, observable.label),
                                   dataset=dataset)  # fmt: skip
        axes = list(histogram.axes)
        axes.insert(1, hist.axis.StrCategory(list(self.variations()), name=_VARIATION_AXIS,
                                             label="Reweighter variation"))  # fmt: skip
        histogram = hist.Hist(*axes, storage=hist.storage.Weight())
        value = observable.expr.evaluate(events, names)
        for variation, reweight in reweights.items():
            values, weights = _flat_values(value, selected, weight * reweight, events,
                                           observable.expr)  # fmt: skip
            if observable.bins.integer:  # counts: an Integer axis takes only integers
                values = values.astype(np.int64)
            histogram.fill(dataset, variation, values, weight=weights)
        return histogram
