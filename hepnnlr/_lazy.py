"""Lazy package exports (PEP 562), so that importing a package loads none of its submodules.

A package ``__init__`` lists its public names per defining module and hands the table to
:func:`attach`; a name's module is imported on the first access of the name
(``hepnnlr.methods.scan_nll``, ``from hepnnlr.methods import scan_nll``). That keeps
TensorFlow, which only the modules that build, train or load a network import, out of every
process that needs only the NumPy statistics, the observables or a coffea processor, as
``hist`` and ``pyhf`` keep their optional back-ends out of ``import hist`` / ``import pyhf``.

The tables are plain dict literals: ``tests/test_architecture.py`` reads them to check that
a package's exports obey the same layer rules as its imports.

This module sits below every layer and imports nothing from hepnnlr.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["attach"]


class _ShadowingPackage(types.ModuleType):
    """A package with an export named like one of its submodules (``hepnnlr.methods.omnifold``
    is both the function and the module that defines it).

    The import system binds a freshly imported submodule as an attribute of its package. An
    eager ``__init__`` then rebound the name to the export; with lazy exports the submodule can
    be imported first (``from hepnnlr.methods.omnifold import OmniFoldConfig``), so the binding
    is redirected here to the export, and ``from hepnnlr.methods import omnifold`` gives the
    function in either order, as it did before. ``sys.modules`` still holds the module.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        shadowed = self.__dict__.get("_hepnnlr_shadowed", {})
        if isinstance(value, types.ModuleType) and shadowed.get(name) == value.__name__:
            value = getattr(value, name)
        super().__setattr__(name, value)


def attach(
    package: str,
    exports: Mapping[str, Iterable[str]],
    *,
    submodules: Iterable[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` of a package with lazy exports.

    Args:
        package: The package's ``__name__``.
        exports: Defining module (absolute name) -> the public names it provides.
        submodules: Subpackages also reachable as attributes without an explicit import
            (``hepnnlr.results`` after ``import hepnnlr``); not part of ``__all__``.

    Returns:
        ``(__getattr__, __dir__, __all__)``, to be bound at the package's top level.

    Raises:
        ValueError: a name is exported by two modules (a mistake in the table).
    """
    where: dict[str, str] = {}
    for module, names in exports.items():
        for name in names:
            if name in where:
                raise ValueError(
                    f"{package}: {name!r} is exported by both {where[name]} and {module}; keep one."
                )
            where[name] = module
    submodules = frozenset(submodules)
    shadowed = {name: module for name, module in where.items() if module == f"{package}.{name}"}
    namespace = sys.modules[package]
    if shadowed:
        namespace._hepnnlr_shadowed = shadowed  # type: ignore[attr-defined]
        namespace.__class__ = _ShadowingPackage  # documented: "Customizing module attribute access"

    def __getattr__(name: str) -> Any:
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        try:
            module = where[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), name)
        # bind it, so that later look-ups find it without coming back here
        setattr(namespace, name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(namespace)) | set(where) | submodules)

    return __getattr__, __dir__, sorted(where)
