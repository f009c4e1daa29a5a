"""Shared checks of the description sections: key-path errors, names, numbers, and the
read-only mapping the frozen dataclasses hold (it pickles, so processors can travel)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hepnnlr.analysis.expressions import Expression, Reference, parse
from hepnnlr.errors import ConfigError

__all__ = [
    "EMPTY",
    "Definition",
    "Frozen",
    "check_mapping",
    "definitions",
    "named",
    "number",
    "string",
    "texts",
]

Definition = Expression | Reference


class Frozen(Mapping):
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


EMPTY: Mapping[str, Any] = Frozen({})


def check_mapping(data: Any, where: str, allowed: Sequence[str], required: Sequence[str] = ()):
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a mapping, got {type(data).__name__} {data!r}.")
    unknown = [key for key in data if key not in allowed]
    if unknown:
        raise ConfigError(f"{where} has the unknown key(s) {unknown}; known keys: {list(allowed)}.")
    missing = [key for key in required if key not in data]
    if missing:
        raise ConfigError(f"{where} lacks the key(s) {missing}; it has {list(data)}.")
    return data


def named(data: Any, where: str) -> Mapping[str, Any]:
    """A ``{name: ...}`` section: string keys that are valid names (no ``_`` prefix)."""
    if data is None:
        return EMPTY
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a mapping of names, got {type(data).__name__}.")
    for name in data:
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ConfigError(
                f"{where} has the key {name!r}; names must be identifiers that do not "
                "start with '_' (e.g. log_pt)."
            )
    return data


def number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be a number, got {value!r}.")
    return float(value)


def string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where} must be a non-empty string, got {value!r}.")
    return value


def definitions(data: Any, where: str) -> Mapping[str, Definition]:
    return Frozen(
        {name: parse(text, key=f"{where}.{name}") for name, text in named(data, where).items()}
    )


def texts(definitions: Mapping[str, Definition]) -> dict[str, str]:
    return {name: definition.to_text() for name, definition in definitions.items()}
