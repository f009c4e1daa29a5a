"""A trained reweighter on disk: the model, its input standardization and its features.

``SavedReweighter.save(dir)`` writes ``dir/model.keras`` and ``dir/reweighter.json``
(feature names, the event-record level they are read from, the standardization, the class
total ratio and the parameter range). ``SavedReweighter.load(dir)`` gives back an object
whose :meth:`~SavedReweighter.weights` builds the network inputs from event columns with
:func:`hepnnlr.tensors.from_awkward` — the same code that built them for training — so a
processor on a dask worker computes exactly the weights of an in-memory prediction.

``to_bytes()`` / ``from_bytes()`` hold the same two files in one in-memory zip archive,
and pickling goes through them: a coffea processor that holds a reweighter is shipped to
dask workers whole, so the workers need no path to the model.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import awkward as ak
import keras
import numpy as np

import hepnnlr.models.serializables  # noqa: F401  (the classes load_model looks up)
from hepnnlr.errors import ConfigError, InputFileError
from hepnnlr.outputs import atomic_write, write_json
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
        self._check_features(columns[self.level])
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

    def _check_features(self, level: ak.Array) -> None:
        """Refuse inputs that lack a feature the standardizer was fitted on, naming both."""
        wanted = {"event": list(self.standardizer.global_features)}
        have = {"event": ak.fields(level)}
        if self.standardizer.particle_features:
            wanted["particle"] = list(self.standardizer.particle_features)
            particles = self.particles_field
            have["particle"] = ak.fields(level[particles]) if particles in have["event"] else []
        for kind, features in wanted.items():
            missing = [name for name in features if name not in have[kind]]
            if missing:
                raise ConfigError(
                    f"the reweighter's {kind}-level features {features} do not match the "
                    f"{self.level!r} inputs' fields {have[kind]} (missing {missing}); build "
                    "the inputs with the processor the reweighter was trained on."
                )

    def save(self, directory: str | Path) -> Path:
        """Write the model and its metadata into ``directory`` (created if needed).

        Each file is written under a temporary name and renamed when complete
        (:func:`hepnnlr.outputs.atomic_write`); the metadata last, so a directory with a
        ``reweighter.json`` has its model."""
        directory = Path(directory)
        with atomic_write(directory / _MODEL) as tmp:
            self.classifier.model.save(tmp)
        write_json(directory / _META, self._metadata())
        return directory

    def to_bytes(self) -> bytes:
        """The model and its metadata as one zip archive in memory (``model.keras`` and
        ``reweighter.json``, the files :meth:`save` writes)."""
        # Keras saves a model to a file only (public API): write it to a temporary
        # directory and read the bytes back.
        with tempfile.TemporaryDirectory(prefix="hepnnlr-reweighter-") as tmp:
            model = Path(tmp) / _MODEL
            self.classifier.model.save(model)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr(_MODEL, model.read_bytes())
                archive.writestr(_META, json.dumps(self._metadata()))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> SavedReweighter:
        """A reweighter from the bytes of :meth:`to_bytes`."""
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            names = set(archive.namelist())
        except zipfile.BadZipFile as error:
            raise InputFileError(
                f"SavedReweighter.from_bytes got {len(data)} bytes that are not a zip "
                "archive; pass the output of SavedReweighter.to_bytes()."
            ) from error
        if not {_MODEL, _META} <= names:
            raise InputFileError(
                f"SavedReweighter.from_bytes: the archive holds {sorted(names)}, not "
                f"{_MODEL} and {_META}; pass the output of SavedReweighter.to_bytes()."
            )
        with tempfile.TemporaryDirectory(prefix="hepnnlr-reweighter-") as tmp:
            (Path(tmp) / _MODEL).write_bytes(archive.read(_MODEL))
            (Path(tmp) / _META).write_bytes(archive.read(_META))
            return cls.load(tmp)

    def __reduce__(self):
        # Pickle through the bytes: a Keras model holds TensorFlow state that does not
        # pickle portably, the saved archive does.
        return (SavedReweighter.from_bytes, (self.to_bytes(),))

    def _metadata(self) -> dict:
        return {
            "name": self.classifier.name,
            "total_ratio": self.classifier.total_ratio,
            "theta_range": self.classifier.theta_range,
            "standardizer": self.standardizer.to_dict(),
            "level": self.level,
            "particles_field": self.particles_field,
            **self.meta,
        }

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
