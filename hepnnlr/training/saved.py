"""A trained reweighter on disk: the model, its input standardization and its features.

``SavedReweighter.save(dir)`` writes ``dir/model.keras`` and ``dir/reweighter.json``
(feature names, the event-record level they are read from, the standardization, the class
total ratio and the parameter range). ``SavedReweighter.load(dir)`` gives back an object
whose :meth:`~SavedReweighter.weights` builds the network inputs from event columns with
:func:`hepnnlr.tensors.from_awkward` — the same code that built them for training — so a
processor on a dask worker computes exactly the weights of an in-memory prediction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import awkward as ak
import keras
import numpy as np

from hepnnlr.errors import ConfigError, InputFileError
from hepnnlr.tensors.events import from_awkward
from hepnnlr.tensors.scaling import Standardizer
from hepnnlr.training.classifier import TrainedClassifier
from hepnnlr.training.ratio import weights_from_logits

__all__ = ["SavedReweighter"]

_META = "reweighter.json"
_MODEL = "model.keras"


@dataclass
class SavedReweighter:
    """A classifier turned into per-event weights ``exp(logit) * total_ratio``.

    Attributes:
        classifier: The trained classifier (model, total ratio, parameter range).
        standardizer: The standardization applied to its inputs in training.
        level: Field of the event columns holding the inputs (e.g. ``"reco"``).
        particles_field: Name of the particle list inside ``level``.
    """

    classifier: TrainedClassifier
    standardizer: Standardizer
    level: str = "reco"
    particles_field: str = "particles"
    meta: dict = field(default_factory=dict)

    def weights(self, columns: ak.Array, select: np.ndarray | None = None) -> np.ndarray:
        """Per-event weights for event columns; ``1`` for events outside ``select``.

        Args:
            columns: Event records with the ``level`` field (a processor's columns).
            select: Events to reweight (e.g. ``pass_reco``); others keep weight 1, since
                the classifier is undefined there. ``None``: all events.
        """
        if self.level not in ak.fields(columns):
            raise ConfigError(
                f"the reweighter reads its inputs from {self.level!r}, which the event "
                f"columns lack (fields: {ak.fields(columns)})."
            )
        select = np.ones(len(columns), bool) if select is None else np.asarray(select, bool)
        inputs = from_awkward(
            columns[self.level],
            particle_features=self.standardizer.particle_features,
            global_features=self.standardizer.global_features,
            particles_field=self.particles_field,
            select=select,
            where=f"the reweighter's {self.level} inputs",
        ).subset(select)
        logits = self.classifier.logits(self.standardizer.transform(inputs))
        out = np.ones(len(columns))
        out[select] = weights_from_logits(logits, name=self.classifier.name) * (
            self.classifier.total_ratio
        )
        return out

    def save(self, directory: str | Path) -> Path:
        """Write the model and its metadata into ``directory`` (created if needed)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.classifier.model.save(directory / _MODEL)
        meta = {
            "name": self.classifier.name,
            "total_ratio": self.classifier.total_ratio,
            "theta_range": self.classifier.theta_range,
            "standardizer": self.standardizer.to_dict(),
            "level": self.level,
            "particles_field": self.particles_field,
            **self.meta,
        }
        (directory / _META).write_text(json.dumps(meta, indent=2))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> SavedReweighter:
        """Load a reweighter written by :meth:`save`."""
        directory = Path(directory)
        for name in (_MODEL, _META):
            if not (directory / name).is_file():
                raise InputFileError(
                    f"{directory} has no {name}; it is not a saved hepnnlr reweighter. Write "
                    "one with SavedReweighter(...).save(directory)."
                )
        meta = json.loads((directory / _META).read_text())
        model = keras.models.load_model(directory / _MODEL)
        classifier = TrainedClassifier(
            model,
            name=meta.pop("name"),
            total_ratio=float(meta.pop("total_ratio")),
            theta_range={k: tuple(v) for k, v in meta.pop("theta_range").items()},
        )
        standardizer = Standardizer.from_dict(meta.pop("standardizer"))
        return cls(classifier, standardizer, meta.pop("level"), meta.pop("particles_field"), meta)
