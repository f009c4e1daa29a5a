"""YAML job files: nested mappings into the frozen job dataclasses, strictly and typed.

Every key must name a field of the dataclass it lands in (unknown keys are an error that
names the key path, the file and the valid keys); nested dataclass fields take nested
mappings. Every other value is checked against its field's type with pydantic (v2) before
the dataclass is built: integers refuse ``"1"`` and ``1.5``, booleans refuse ``"no"`` and
``1``, numbers refuse strings, lists become tuples; an error names the key path, the value
and the expected type (``job.yaml: omnifold.training.learning_rate = 'fast' (str):
expected float``). The dataclasses' own ``__post_init__`` then checks ranges and choices.

YAML is read with the YAML 1.2 rule for numbers: ``1e-3`` is the float 0.001 (PyYAML's
YAML 1.1 resolver would make it the string ``'1e-3'``).

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
      training: {epochs: 30, batch_size: 256, learning_rate: 1e-3, patience: 5}
    region: {q2_min: 150, y_min: 0.08, y_max: 0.7}
    uncertainty: {repeats: 3, bootstrap: 10}   # method and statistical errors
    seeds: {data: 7}                           # the data's bootstrap replicas
    data_truth: auto    # false: real data without generator collections (reco level alone)
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, Union

import yaml
from pydantic import Strict, TypeAdapter, ValidationError

from hepnnlr.errors import ConfigError, InputFileError
from hepnnlr.results.style import DEFAULT_STYLE, STYLES, PlotStyle
from hepnnlr.schema.fileset import input_location

if TYPE_CHECKING:
    from hepnnlr.workflows.unfold_dis import DISUnfoldingJob

__all__ = [
    "WHOLE_EXAMPLE",
    "PlotConfig",
    "as_plot_settings",
    "from_mapping",
    "load_unfolding_job",
    "merge_overrides",
    "read_yaml_mapping",
]

T = TypeVar("T")

WHOLE_EXAMPLE = "hepnnlr_whole_example"
"""Field metadata key (``field(default=..., metadata={WHOLE_EXAMPLE: True})``): the
field's default is an example of the whole section (FitJob's Gaussian samples), not
defaults for its keys; a section given in a job file starts from the section class's
defaults instead."""


class _JobLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's floats: an exponent needs no decimal point."""


# YAML 1.1 (PyYAML) requires a '.' in a float, so ``1e-3`` would be a string; YAML 1.2's
# core schema reads it as a number, as every user writing a learning rate expects.
_JobLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def read_yaml_mapping(path: Path, what: str, cls: type, create: str) -> dict[str, Any]:
    """The mapping a YAML job file holds, or an error naming the file: ``what`` names the
    file in it (``"fit config"``), ``cls`` the fields it maps, ``create`` the fix for a
    missing file. Numbers follow YAML 1.2 (``1e-3`` is a float)."""
    if not path.is_file():
        raise InputFileError(f"{what} {path} does not exist; {create}")
    try:
        data = yaml.load(path.read_text(), Loader=_JobLoader) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{what} {path} is not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} must hold a mapping of {cls.__name__} fields.")
    return data


def merge_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``overrides`` merged in: nested mappings key by key (so
    ``{"omnifold": {"training": {"epochs": 3}}}`` keeps the job's other training keys),
    everything else replaced. The command line's options reach a job file this way."""
    merged = dict(data)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_overrides(merged[key], value)
        else:
            merged[key] = value
    return merged


def from_mapping(
    cls: type[T], data: Any, where: str = "config", key: str = "", base: Any = None
) -> T:
    """Build dataclass ``cls`` from a mapping, typed and strict (see module docstring).

    ``where`` names the file (or ``"config"``) in messages, ``key`` the key path of
    ``data`` inside it (``"omnifold.training"``; empty at the top). ``base``, an instance
    of ``cls``, gives the values of the keys ``data`` leaves out (default: the fields'
    defaults).
    """
    at = f"{where}: {key}" if key else where
    if not isinstance(data, dict):
        raise ConfigError(f"{at} must be a mapping of {cls.__name__} fields, got {data!r}.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{at}: unknown key(s) {unknown} for {cls.__name__}; valid keys are {sorted(fields)}."
        )
    missing = [
        name
        for name, f in fields.items()
        if f.init
        and base is None
        and name not in data
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{at}: missing key(s) {missing}; {cls.__name__} needs them.")
    values = {}
    if base is not None:
        values = {name: getattr(base, name) for name, f in fields.items() if f.init}
    for name, value in data.items():
        path = f"{key}.{name}" if key else name
        hint = hints[name]
        target = _dataclass_in(hint)
        if target is None:
            values[name] = _typed(hint, value, where, path)
        elif isinstance(value, dict):
            # a section's keys left out keep the job's default section, not the section
            # class's defaults: `omnifold: {iterations: 4}` keeps the job's training
            default = values.get(name, fields[name].default)
            if not isinstance(default, target) or fields[name].metadata.get(WHOLE_EXAMPLE):
                default = None
            values[name] = from_mapping(target, value, where, path, default)
        elif isinstance(value, target) or (value is None and _allows_none(hint)):
            values[name] = value
        elif type(value) in (str, bool) and type(value) in typing.get_args(hint):
            # a section's one-line form: region: an expression, plots: false
            values[name] = value
        else:
            null = " or null" if _allows_none(hint) else ""
            raise ConfigError(
                f"{where}: {path} = {value!r} ({type(value).__name__}): expected a mapping of "
                f"{target.__name__} fields{null}."
            )
    try:
        return cls(**values)
    except TypeError as error:
        raise ConfigError(f"{at}: {error}") from error


def _dataclass_in(hint: Any) -> type | None:
    if dataclasses.is_dataclass(hint):
        return hint
    for arg in typing.get_args(hint):
        if dataclasses.is_dataclass(arg):
            return arg
    return None


def _allows_none(hint: Any) -> bool:
    return type(None) in typing.get_args(hint)


# --- the plots section of every job that draws ----------------------------------------------


@dataclass(frozen=True)
class PlotConfig:
    """The ``plots`` section of every job that draws figures (unfold, demo, fit, infer).

    ``plots: false`` in a job file is the one-line form of ``plots: {enabled: false}``;
    ``--style``, ``--label`` and ``--plots/--no-plots`` set the same keys from the command
    line (``hepnnlr.cli.options.add_plot_options``).

    Attributes:
        enabled: Draw the figures (the histograms they are drawn from are written either
            way).
        style: ``cms``, ``atlas``, ``lhcb``, ``alice`` (the mplhep style of that name) or
            ``none`` (matplotlib's current rcParams): :class:`~hepnnlr.results.PlotStyle`.
        label: The label's text after ``hepnnlr`` (``mplhep.label``): ``"Preliminary"``,
            ``"Simulation"``, ``""`` for none; None: the verb's own (``Pseudo-data`` for an
            unfolding whose data have their truth, ``Internal`` for one without,
            ``Simulation`` for fits and inference).
        formats: The files of each figure (PNG at the style's 200 dpi, PDF).
    """

    enabled: bool = True
    style: str = DEFAULT_STYLE
    label: str | None = None
    formats: tuple[str, ...] = ("png", "pdf")

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ConfigError(
                f"plots.style={self.style!r} is not a plot style; use one of {sorted(STYLES)} "
                "(--style on the command line)."
            )
        if self.label is not None and not isinstance(self.label, str):
            raise ConfigError(f"plots.label={self.label!r} must be a string ('' for none).")
        unknown = [f for f in self.formats if f not in _FORMATS]
        if not self.formats or unknown:
            raise ConfigError(
                f"plots.formats={list(self.formats)}: give one or more of {list(_FORMATS)}."
            )

    def look(self, default_label: str) -> PlotStyle:
        """The :class:`~hepnnlr.results.PlotStyle` of the job's figures; ``default_label``
        is the verb's text where the job sets none."""
        return PlotStyle(
            style=self.style, label=default_label if self.label is None else self.label
        )


_FORMATS = ("png", "pdf", "svg")


def as_plot_settings(value: PlotConfig | bool, where: str = "plots") -> PlotConfig:
    """``value`` as :class:`PlotConfig`: a bool is the one-line ``plots: true/false``."""
    if isinstance(value, PlotConfig):
        return value
    if isinstance(value, bool):
        return PlotConfig(enabled=value)
    raise ConfigError(
        f"{where}={value!r} must be true, false or a mapping of PlotConfig fields "
        "(enabled, style, label, formats)."
    )


# --- types ----------------------------------------------------------------------------------

_STRICT = {t: Annotated[t, Strict()] for t in (int, float, bool, str)}
"""Strict scalars: no ``"1"`` -> 1, no ``1.5`` -> 1, no ``"no"`` -> False; a float takes
an int (``learning_rate: 1``)."""


def _strict(hint: Any) -> Any:
    """``hint`` with strict scalars; a list of names also takes one name (several
    sections accept ``features: m_vis`` and check it themselves)."""
    if hint in _STRICT:
        return _STRICT[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return Union[tuple(_strict(a) for a in args)]  # noqa: UP007 (built from a tuple)
    if origin is tuple:
        if args == (str, Ellipsis):
            return Union[tuple[_STRICT[str], ...], _STRICT[str]]  # noqa: UP007
        return tuple[tuple(a if a is Ellipsis else _strict(a) for a in args)]
    if origin in (dict, list):
        return origin[tuple(_strict(a) for a in args)]
    return hint


@functools.cache
def _adapter(hint: Any) -> TypeAdapter | None:
    if hint is Any:
        return None
    return TypeAdapter(_strict(hint))


def _typed(hint: Any, value: Any, where: str, path: str) -> Any:
    """``value`` checked (and lists made tuples) for ``hint``, or a ConfigError naming the
    key path, the value and the expected type."""
    adapter = _adapter(hint)
    if adapter is None:
        return value
    try:
        return adapter.validate_python(value)
    except ValidationError as error:
        raise ConfigError(_type_message(error, hint, value, where, path)) from None


_EXPECTED = {
    "int_type": "int",
    "float_type": "float",
    "bool_type": "bool (true or false)",
    "string_type": "str",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "a mapping",
}


def _type_message(error: ValidationError, hint: Any, value: Any, where: str, path: str) -> str:
    errors = error.errors()
    if len(errors) == 1 and errors[0]["type"] in _EXPECTED:
        # One failing item: name it (fit.bounds.mu.1) unless it is the value itself.
        inner, complete = _inner_path(value, errors[0]["loc"])
        if complete:
            bad = errors[0]["input"]
            return (
                f"{where}: {''.join([path, *inner])} = {bad!r} ({type(bad).__name__}): "
                f"expected {_EXPECTED[errors[0]['type']]}."
            )
    return f"{where}: {path} = {value!r} ({type(value).__name__}): expected {_describe(hint)}."


def _inner_path(value: Any, loc: tuple) -> tuple[list[str], bool]:
    """The key path of ``loc`` inside ``value``, without pydantic's union tags; ``False``
    when an index points past the value (a missing item)."""
    parts, current = [], value
    for item in loc:
        if isinstance(current, dict) and item in current:
            parts.append(f".{item}")
            current = current[item]
        elif isinstance(item, int) and isinstance(current, list | tuple):
            if not 0 <= item < len(current):
                return parts, False
            parts.append(f".{item}")
            current = current[item]
    return parts, True


def _describe(hint: Any) -> str:
    """A short, YAML-minded name of ``hint`` (``list[int]``, ``[float, float, int]``)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is type(None):
        return "null"
    if hint is bool:
        return "bool (true or false)"
    if isinstance(hint, type) and issubclass(hint, Path):
        return "a path"
    if isinstance(hint, type):
        return hint.__name__
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return f"list[{_describe(args[0])}]"
    if origin is tuple:
        return "[" + ", ".join(_describe(a) for a in args) + "]"
    if origin is dict:
        return f"mapping {{{_describe(args[0])}: {_describe(args[1])}}}"
    return str(hint)


# --- the unfolding job ------------------------------------------------------------------------


def load_unfolding_job(path: str | Path, **overrides: Any) -> DISUnfoldingJob:
    """Read a YAML unfolding job; relative file paths are taken from the YAML's folder.

    ``overrides`` (the command line's options, relative paths taken from the working
    folder) are merged in by :func:`merge_overrides` after that.
    """
    from hepnnlr.workflows.unfold_dis import DISUnfoldingJob

    path = Path(path)
    data = read_yaml_mapping(
        path,
        "job file",
        DISUnfoldingJob,
        "write a YAML job (see hepnnlr.workflows.config) or pass --data/--sim instead.",
    )
    analysis = data.get("analysis")
    if isinstance(analysis, str) and analysis.endswith((".yaml", ".yml")):
        if not Path(analysis).is_absolute():  # a description's path; a name stays a name
            data["analysis"] = str(path.parent / analysis)
    for key in ("data_file", "sim_file", "output_dir"):
        if not isinstance(data.get(key), str) or isinstance(input_location(data[key]), str):
            continue  # a URL (root://, https://, ...) is not relative to the job file
        if not Path(data[key]).is_absolute():
            data[key] = str(path.parent / data[key])
    return from_mapping(DISUnfoldingJob, merge_overrides(data, overrides), where=str(path))


# names before issue 18's naming rule (job sections end in ``Config``): still importable,
# for code written against them, but not in ``__all__``
PlotSettings = PlotConfig
