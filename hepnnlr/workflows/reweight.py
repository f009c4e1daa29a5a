"""``hepnnlr reweight``: a saved reweighter applied to a fileset through an analysis.

A :class:`ReweightJob` names the model (a folder written by ``SavedReweighter.save``, or a
folder of them, as ``hepnnlr unfold --save-models`` writes: every ``reweighter.json``
below it is one member of a :class:`~hepnnlr.ReweighterEnsemble`), the analysis
description whose level builds the network inputs, and the processing. A job file is
YAML::

    analysis: pfnano_particles       # a built-in name, a YAML path, or the mapping itself
    fileset:                         # optional when the description names its datasets
      qcd: [pfnano.root]             # relative paths are relative to this file
    level: gen                       # optional: the level the reweighter was trained on
    output_dir: reweighted
    executor: dask                   # iterative | futures | dask
    workers: 2
    aggregation: mean                # how ensemble members combine (their own, else mean)

:func:`run_reweight` runs :class:`~hepnnlr.processors.reweight.ReweightProcessor` and
writes into ``output_dir``

* ``weights_<dataset>.parquet`` (or ``.root``) per dataset, keyed by ``run``,
  ``luminosityBlock``, ``event`` where the events have them, else ``file`` and ``entry``
  (:func:`hepnnlr.results.write_weights`), with ``event_weight``, ``pass_<level>``,
  ``weight`` and, for an ensemble, ``weight_up``/``weight_down``; the metadata names the
  job, the analysis, the model's members and sha256, and the input files;
* ``histograms.root``: ``<dataset>/<level>/<variation>/<observable>``, the
  description's observables at event weight × reweighter weight;
* ``summary.json``: events, selected events and weight sums per dataset.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from hepnnlr.analysis import AnalysisDescription, load
from hepnnlr.errors import ConfigError, InputFileError
from hepnnlr.outputs import write_json
from hepnnlr.processors.chunks import collect_hists
from hepnnlr.processors.reweight import ReweightProcessor
from hepnnlr.results.io import describe_inputs, write_histograms, write_weights
from hepnnlr.schema import EXECUTORS, input_location, run_processor
from hepnnlr.workflows.config import read_yaml_mapping

__all__ = [
    "ReweightJob",
    "ReweightOutputs",
    "load_reweight_job",
    "load_reweighter",
    "reweight_job",
    "run_reweight",
]

_MODEL_FILE = "reweighter.json"
_WEIGHT_FORMATS = ("parquet", "root")
_EVENT_KEYS = ("run", "luminosityBlock", "event")


@dataclass(frozen=True)
class ReweightJob:
    """What ``hepnnlr reweight`` runs (see the module docstring).

    Attributes:
        model: A saved reweighter's folder, or a folder of them (an ensemble).
        analysis: The description; its datasets are the fileset.
        level: The description's level holding the inputs; ``None``: the reweighter's.
        output_dir: Where the weights, histograms and summary go.
        executor, workers, scheduler_address, chunksize, progress: The coffea run
            (:func:`hepnnlr.schema.run_processor`).
        aggregation: How ensemble members combine; ``None``: the members' own
            (``meta["aggregation"]``, as ``hepnnlr unfold`` saves it), else ``"mean"``.
        weights_format: ``"parquet"`` or ``"root"``.
    """

    model: Path
    analysis: AnalysisDescription
    level: str | None = None
    output_dir: Path = Path("reweighted")
    executor: str = "iterative"
    workers: int = 2
    scheduler_address: str | None = None
    chunksize: int = 50_000
    progress: bool = False
    aggregation: str | None = None
    weights_format: str = "parquet"

    def __post_init__(self) -> None:
        object.__setattr__(self, "model", Path(self.model))
        object.__setattr__(self, "output_dir", Path(self.output_dir))
        if not isinstance(self.analysis, AnalysisDescription):
            raise ConfigError(
                f"ReweightJob.analysis must be an AnalysisDescription, got "
                f"{type(self.analysis).__name__}; use hepnnlr.analysis.load(name_or_path)."
            )
        if not self.model.exists():
            raise InputFileError(
                f"ReweightJob.model: {self.model} does not exist; pass the folder of a saved "
                "reweighter (SavedReweighter.save) or a folder of them (hepnnlr unfold's "
                "OUTPUT/models/step2)."
            )
        if self.executor not in EXECUTORS:
            raise ConfigError(
                f"ReweightJob.executor={self.executor!r} is not one of {list(EXECUTORS)}."
            )
        for name in ("workers", "chunksize"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"ReweightJob.{name} must be a positive integer, got {value!r}.")
        if self.weights_format not in _WEIGHT_FORMATS:
            raise ConfigError(
                f"ReweightJob.weights_format={self.weights_format!r} is not one of "
                f"{list(_WEIGHT_FORMATS)}."
            )
        if self.level is not None and self.level not in self.analysis.levels:
            raise ConfigError(
                f"ReweightJob.level={self.level!r}: the analysis {self.analysis.name!r} has "
                f"the levels {list(self.analysis.levels)}."
            )
        self.analysis.fileset()  # refuses a description without datasets, naming the fix

    def to_dict(self) -> dict[str, Any]:
        """The job as JSON-ready values (the analysis as its mapping)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["analysis"] = self.analysis.to_mapping()
        out["model"], out["output_dir"] = str(self.model), str(self.output_dir)
        return out


@dataclass(frozen=True)
class ReweightOutputs:
    """What :func:`run_reweight` wrote, and the processor's merged output."""

    weights_files: dict[str, Path]
    histograms_file: Path
    summary_file: Path
    summary: dict[str, Any]
    output: dict[str, Any] = field(repr=False)


_JOB_KEYS = tuple(f.name for f in dataclasses.fields(ReweightJob)) + ("fileset",)


def _relative_to(value: Any, base: Path) -> Any:
    """A local relative path of a job file, taken from the job file's folder."""
    location = input_location(str(value))
    if isinstance(location, str) or location.is_absolute():
        return str(location)
    return str(base / location)


def _fileset_relative_to(fileset: Any, base: Path) -> Any:
    """The fileset of a job file with its relative local paths taken from ``base``."""
    if not isinstance(fileset, Mapping):
        raise ConfigError(
            f"the job's fileset must map dataset names to files, got {fileset!r}; e.g. "
            "fileset: {dy: [nano_dy.root]}."
        )
    out = {}
    for name, spec in fileset.items():
        if isinstance(spec, Mapping) and "files" in spec:
            spec = {**spec, "files": _fileset_relative_to({"files": spec["files"]}, base)["files"]}
        elif isinstance(spec, Mapping):
            spec = {_relative_to(f, base): tree for f, tree in spec.items()}
        elif isinstance(spec, str | os.PathLike):
            spec = [_relative_to(spec, base)]
        elif isinstance(spec, list | tuple):
            spec = [_relative_to(f, base) for f in spec]
        out[name] = spec
    return out


def _analysis(value: Any, base: Path | None, where: str) -> AnalysisDescription:
    if isinstance(value, AnalysisDescription):
        return value
    if isinstance(value, Mapping):
        return AnalysisDescription.from_mapping(dict(value), where=f"{where}.analysis", base=base)
    if isinstance(value, str | os.PathLike):
        text = os.fspath(value)
        if base is not None and text.endswith((".yaml", ".yml")) and not Path(text).is_absolute():
            text = os.fspath(base / text)
        return load(text)
    raise ConfigError(
        f"{where}: analysis must be a built-in name, the path of a YAML description or the "
        f"description itself, got {value!r}."
    )


def reweight_job(
    model: str | os.PathLike[str] | None,
    data: Mapping[str, Any],
    *,
    where: str = "job",
    base: Path | None = None,
) -> ReweightJob:
    """A job from a mapping (a job file's content, options merged in).

    Args:
        model: The model folder; ``None``: the mapping's ``model``.
        data: ``analysis`` (name, path or mapping), optional ``fileset`` and the other
            :class:`ReweightJob` fields.
        where: Name of the mapping in error messages (the job file).
        base: Folder that relative paths in ``data`` are relative to.

    Raises:
        ConfigError: An unknown key (named, with the valid ones), a missing analysis or
            model, or an invalid value.
    """
    data = dict(data)
    unknown = sorted(set(data) - set(_JOB_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {unknown} for a reweight job; valid keys are "
            f"{sorted(_JOB_KEYS)}."
        )
    if "analysis" not in data:
        raise ConfigError(
            f"{where} names no analysis; add 'analysis: NAME_OR_PATH' (hepnnlr.analysis."
            "names() lists the built-in ones) or pass --analysis."
        )
    description = _analysis(data.pop("analysis"), base, where)
    fileset = data.pop("fileset", None)
    if fileset is not None:
        description = description.with_fileset(
            fileset if base is None else _fileset_relative_to(fileset, base)
        )
    if model is None:
        model = data.pop("model", None)
        if model is None:
            raise ConfigError(f"{where} names no model; pass MODEL (a saved reweighter folder).")
        model = model if base is None else _relative_to(model, base)
    else:
        data.pop("model", None)
    if base is not None and "output_dir" in data:
        data["output_dir"] = _relative_to(data["output_dir"], base)
    try:
        return ReweightJob(model=Path(model), analysis=description, **data)
    except TypeError as error:
        raise ConfigError(f"{where}: {error}") from error


def load_reweight_job(
    model: str | os.PathLike[str] | None,
    fileset_or_job: str | os.PathLike[str],
    *,
    analysis: str | os.PathLike[str] | None = None,
    **overrides: Any,
) -> ReweightJob:
    """The job of ``hepnnlr reweight MODEL FILESET_OR_JOB``.

    ``fileset_or_job`` is a job YAML (with an ``analysis`` key), a fileset YAML
    (``{dataset: [files]}``, the analysis then from ``analysis``), or one ROOT file or URL
    (its own dataset, named after the file). ``analysis`` and ``overrides`` (the options
    given) replace the file's values.
    """
    text = os.fspath(fileset_or_job)
    if not text.endswith((".yaml", ".yml")):
        location = input_location(text)
        name = Path(str(location).rsplit("/", 1)[-1]).stem or "events"
        if isinstance(location, Path) and not location.is_file():
            raise InputFileError(
                f"{text} does not exist; pass a job or fileset YAML, or a ROOT file or URL."
            )
        data: dict[str, Any] = {"fileset": {name: [text]}}
        base = None
    else:
        path = Path(text)
        data = read_yaml_mapping(
            path,
            "reweight job",
            ReweightJob,
            "write a job YAML (analysis, fileset, ...; see hepnnlr.workflows.reweight) or a "
            "fileset YAML ({dataset: [files]}).",
        )
        if "analysis" not in data and analysis is not None:
            data = {"fileset": data}  # a fileset file
        base = path.resolve().parent
    if analysis is not None:
        data["analysis"] = os.fspath(analysis)
    data.update({k: v for k, v in overrides.items() if v is not None})
    return reweight_job(model, data, where=text, base=base)


def load_reweighter(path: str | os.PathLike[str], aggregation: str | None = None) -> Any:
    """A ``SavedReweighter`` (a folder with ``reweighter.json``) or a
    ``ReweighterEnsemble`` of every saved reweighter below ``path`` (sorted by folder).

    Raises:
        InputFileError: ``path`` holds no saved reweighter.
    """
    from hepnnlr.training.ensemble_reweighter import ReweighterEnsemble
    from hepnnlr.training.saved import SavedReweighter

    path = Path(path)
    if (path / _MODEL_FILE).is_file():  # one model: no aggregation, no variations
        return SavedReweighter.load(path)
    folders = sorted(p.parent for p in path.rglob(_MODEL_FILE)) if path.is_dir() else []
    if not folders:
        raise InputFileError(
            f"{path} holds no saved reweighter (no {_MODEL_FILE} in it or below it); pass a "
            "folder written by SavedReweighter.save or hepnnlr unfold's OUTPUT/models/step2."
        )
    members = [SavedReweighter.load(folder) for folder in folders]
    if aggregation is None:
        found = {m.meta.get("aggregation", "mean") for m in members}
        aggregation = found.pop() if len(found) == 1 else "mean"
    return ReweighterEnsemble(members, aggregation=aggregation)


def _dataset_columns(output: Mapping[str, Any], dataset: str) -> tuple[ak.Array, np.ndarray]:
    """The dataset's columns in event order and each row's file (chunk keys are
    ``(dataset, file, start, stop)``)."""
    chunks = sorted((key, value) for key, value in output["columns"].items() if key[0] == dataset)
    if not chunks:
        raise ConfigError(f"the run returned no events of dataset {dataset!r}.")
    columns = ak.concatenate([value for _, value in chunks])
    files = np.concatenate([np.full(len(value), key[1], dtype=object) for key, value in chunks])
    return columns, files


def _members(reweighter: Any) -> list[dict[str, Any]]:
    return [dict(m.meta, name=m.classifier.name, level=m.level)
            for m in getattr(reweighter, "members", [reweighter])]  # fmt: skip


def run_reweight(job: ReweightJob) -> ReweightOutputs:
    """Run the job and write its outputs (see the module docstring)."""
    reweighter = load_reweighter(job.model, job.aggregation)
    processor = ReweightProcessor(job.analysis, reweighter, level=job.level)
    output = run_processor(
        processor,
        job.analysis.fileset(),
        executor=job.executor,
        workers=job.workers,
        scheduler_address=job.scheduler_address,
        chunksize=job.chunksize,
        progress=job.progress,
        treename=job.analysis.treename,
        schema=job.analysis.schema,
    )
    level = processor.level
    model = {
        "path": str(job.model),
        "sha256": processor.model_sha256,
        "ensemble": processor.ensemble,
        "aggregation": getattr(reweighter, "aggregation", None),
        "members": _members(reweighter),
    }
    job.output_dir.mkdir(parents=True, exist_ok=True)
    weights_files, summary = {}, {"level": level, "model": model, "datasets": {}}
    for dataset, spec in job.analysis.datasets.items():
        columns, files = _dataset_columns(output, dataset)
        fields = ak.fields(columns)
        if all(key in fields for key in _EVENT_KEYS):
            keys = {key: ak.to_numpy(columns[key]) for key in _EVENT_KEYS}
        else:
            keys = {"file": files.astype(str), "entry": ak.to_numpy(columns["entry"])}
        values = {k: ak.to_numpy(columns[k]) for k in fields if k not in keys and k != "entry"}
        path = job.output_dir / f"weights_{dataset}.{job.weights_format}"
        weights_files[dataset] = write_weights(path, keys, values, metadata={
            "job": job.to_dict(),
            "dataset": dataset,
            "model": model,
            "columns": {
                "event_weight": "the analysis's event weight "
                f"({_text(job.analysis.event_weight(dataset))}), not included in weight",
                f"pass_{level}": f"the event passes the {level} selection; the reweighter "
                "is applied to these events only",
                "weight": "the reweighter's weight (ensemble: the members' "
                f"{model['aggregation']}); 1 outside pass_{level}",
                "weight_up/weight_down": "weight +- the members' per-event standard "
                "deviation (ensembles only), for Weights.add(name, weight, weightUp=..., "
                "weightDown=...)",
            },
            "inputs": describe_inputs(spec.files),
        })  # fmt: skip
        selected = ak.to_numpy(columns[f"pass_{level}"])
        event_weight = ak.to_numpy(columns["event_weight"])
        reweighted = event_weight * ak.to_numpy(columns["weight"])
        summary["datasets"][dataset] = {
            "events": len(columns),
            f"pass_{level}": int(selected.sum()),
            "sum_event_weight": float(event_weight[selected].sum()),
            "sum_reweighted": float(reweighted[selected].sum()),
            "weights_file": weights_files[dataset].name,
        }  # fmt: skip
    histograms = {}
    for dataset in job.analysis.datasets:
        for name, hists in collect_hists(output, dataset=dataset).items():
            for variation in processor.variations():
                histograms[f"{dataset}/{name}/{variation}"] = {
                    key: h[{"variation": variation}] for key, h in hists.items()
                }
    histograms_file = write_histograms(job.output_dir / "histograms.root", histograms)
    summary["histograms_file"] = histograms_file.name
    summary_file = write_json(job.output_dir / "summary.json", summary, default=str)
    return ReweightOutputs(weights_files, histograms_file, summary_file, summary, output)


def _text(definition: Any) -> str:
    return "none: 1" if definition is None else definition.to_text()
