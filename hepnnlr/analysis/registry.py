"""The table of named analyses: the built-in ones and those the user registers.

The built-in descriptions are YAML files shipped with the package
(``hepnnlr/analysis/builtin/<name>.yaml``, each named after its analysis, next to the
``<name>.py`` of its functions where it has some); they are read when first asked for.
A user's analysis is a peer: :func:`register` it under a name, or pass the path of its
YAML file wherever a name is accepted (:func:`load`).

Example:
    >>> from hepnnlr.analysis import get, names
    >>> "dis" in names()
    True
    >>> sorted(get("dis").levels)
    ['gen', 'reco']
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from hepnnlr.analysis.description import AnalysisDescription
from hepnnlr.errors import ConfigError

__all__ = ["get", "load", "names", "register"]

_BUILTIN_PACKAGE = "hepnnlr.analysis.builtin"

# the user's registrations, name -> description (frozen); the built-ins are read from the
# package's files on every get, so this table holds only what a user put there
_REGISTERED: dict[str, AnalysisDescription] = {}


def _builtin_names() -> list[str]:
    folder = resources.files(_BUILTIN_PACKAGE)
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )


def names() -> list[str]:
    """Every analysis name :func:`get` knows: the built-in ones and the registered ones."""
    return sorted({*_builtin_names(), *_REGISTERED})


def register(name: str, description: AnalysisDescription, *, replace: bool = False) -> None:
    """Register ``description`` under ``name``.

    Raises:
        ConfigError: ``name`` is taken (a built-in or an earlier registration) and
            ``replace`` is False, or ``description`` is not an
            :class:`AnalysisDescription`.
    """
    if not isinstance(description, AnalysisDescription):
        raise ConfigError(
            f"register({name!r}, ...) needs an AnalysisDescription, got "
            f"{type(description).__name__}; build one with AnalysisDescription.from_yaml(path)."
        )
    if not isinstance(name, str) or not name:
        raise ConfigError(f"an analysis name must be a non-empty string, got {name!r}.")
    if not replace and (name in _REGISTERED or name in _builtin_names()):
        raise ConfigError(
            f"the analysis name {name!r} is taken; choose another or pass replace=True."
        )
    _REGISTERED[name] = description


def get(name: str) -> AnalysisDescription:
    """The analysis registered or built in under ``name``.

    Raises:
        ConfigError: No analysis has that name (the message lists the names).
    """
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name in _builtin_names():
        with resources.as_file(resources.files(_BUILTIN_PACKAGE) / f"{name}.yaml") as path:
            return AnalysisDescription.from_yaml(path)
    raise ConfigError(
        f"no analysis is named {name!r}; known: {names()}. Pass the path of a YAML "
        "description instead, or register yours with hepnnlr.analysis.register(name, "
        "description)."
    )


def load(name_or_path: str | os.PathLike[str]) -> AnalysisDescription:
    """A registered name, or the path of a YAML description (anything ending in ``.yaml``
    or ``.yml``, or an existing file)."""
    text = os.fspath(name_or_path)
    if text.endswith((".yaml", ".yml")) or Path(text).is_file():
        return AnalysisDescription.from_yaml(text)
    return get(text)
