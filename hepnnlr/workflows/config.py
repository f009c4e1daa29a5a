"""YAML job files: nested mappings into the frozen job dataclasses, strictly.

Every key must name a field of the dataclass it lands in (unknown keys are an error that
names the key, the file section and the valid keys); nested dataclass fields take nested
mappings; lists become tuples where the field is a tuple. Values are then validated by the
dataclasses' own ``__post_init__``.

Example (``hepnnlr unfold job.yaml``)::

    data_file: dis_data.root
    sim_file: dis_sim.root
    output_dir: unfolded
    executor: dask
    omnifold:
      iterations: 4
      ensemble: 3
      step1_model: {kind: pet, units: 64}
      step2_model: {kind: pet, units: 64}
      training: {epochs: 30, batch_size: 256, learning_rate: 0.001, patience: 5}
    region: {q2_min: 150, y_min: 0.08, y_max: 0.7}
    uncertainty: {repeats: 3, bootstrap: 10}   # method and statistical errors
    seeds: {data: 7}                           # the data's bootstrap replicas
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from hepnnlr.errors import ConfigError, InputFileError
from hepnnlr.schema.fileset import input_location
from hepnnlr.workflows.unfold_dis import DISUnfoldingJob

__all__ = ["from_mapping", "load_unfolding_job", "read_yaml_mapping"]

T = TypeVar("T")


def from_mapping(cls: type[T], data: Any, where: str = "config") -> T:
    """Build dataclass ``cls`` from a mapping, refusing unknown keys (see module docstring)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a mapping of {cls.__name__} fields, got {data!r}.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {unknown} for {cls.__name__}; valid keys are "
            f"{sorted(fields)}."
        )
    values = {}
    for name, value in data.items():
        hint = hints[name]
        target = _dataclass_in(hint)
        if target is not None and isinstance(value, dict):
            values[name] = from_mapping(target, value, f"{where}.{name}")
        elif isinstance(value, list) and _is_tuple(hint):
            values[name] = tuple(value)
        else:
            values[name] = value
    try:
        return cls(**values)
    except TypeError as error:
        raise ConfigError(f"{where}: {error}") from error


def _dataclass_in(hint: Any) -> type | None:
    if dataclasses.is_dataclass(hint):
        return hint
    for arg in typing.get_args(hint):
        if dataclasses.is_dataclass(arg):
            return arg
    return None


def _is_tuple(hint: Any) -> bool:
    return (
        hint is tuple
        or typing.get_origin(hint) is tuple
        or any(typing.get_origin(a) is tuple for a in typing.get_args(hint))
    )


def read_yaml_mapping(path: Path, what: str, cls: type, create: str) -> dict[str, Any]:
    """The mapping a YAML job file holds, or an error naming the file: ``what`` names the
    file in it (``"fit config"``), ``cls`` the fields it maps, ``create`` the fix for a
    missing file."""
    if not path.is_file():
        raise InputFileError(f"{what} {path} does not exist; {create}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{what} {path} is not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} must hold a mapping of {cls.__name__} fields.")
    return data


def load_unfolding_job(path: str | Path, **overrides: Any) -> DISUnfoldingJob:
    """Read a YAML unfolding job; relative file paths are taken from the YAML's folder."""
    path = Path(path)
    data = read_yaml_mapping(
        path,
        "job file",
        DISUnfoldingJob,
        "write a YAML job (see hepnnlr.workflows.config) or pass --data/--sim instead.",
    )
    for key in ("data_file", "sim_file", "output_dir"):
        if key in data and isinstance(input_location(str(data[key])), str):
            continue  # a URL (root://, https://, ...) is not relative to the job file
        if key in data and not Path(str(data[key])).is_absolute():
            data[key] = str(path.parent / str(data[key]))
    data.update(overrides)
    return from_mapping(DISUnfoldingJob, data, where=str(path))
