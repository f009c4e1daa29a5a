"""The API reference pages of the docs site, one per package, written at build time.

A package's page shows its docstring and then every public module in it (a file whose name
does not start with ``_``), each with the names in that module's ``__all__`` that it defines
(a re-export is left to its home, so an object appears once). The top-level page has a
summary table (autosummary) of the names of ``import hepnnlr`` (its ``_EXPORTS`` table,
served lazily by :func:`hepnnlr._lazy.attach`), linked to those homes. Private modules
are never listed.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

# (package, title) in the layer order of docs/architecture.md; the command line (hepnnlr.cli)
# is documented by `hepnnlr <verb> --help` and the README, not here
PACKAGES = (
    ("hepnnlr.samples", "Samples: event generation and toys"),
    ("hepnnlr.schema", "Schema: NanoEvents, filesets, executors"),
    ("hepnnlr.observables", "Observables on awkward arrays"),
    ("hepnnlr.analysis", "Analysis descriptions"),
    ("hepnnlr.analysis.builtin", "Built-in analyses"),
    ("hepnnlr.processors", "Coffea processors"),
    ("hepnnlr.tensors", "Tensors"),
    ("hepnnlr.models", "Models (Keras 3)"),
    ("hepnnlr.training", "Training"),
    ("hepnnlr.methods", "Methods"),
    ("hepnnlr.results", "Results: statistics, files, plots"),
    ("hepnnlr.workflows", "Workflows"),
)


def public_modules(package: str) -> list[str]:
    """The public modules of ``package``: its ``*.py`` files not starting with ``_``."""
    folder = Path(importlib.import_module(package).__file__).parent
    return [f"{package}.{path.stem}" for path in sorted(folder.glob("[!_]*.py"))]


def defined_names(module: str) -> list[str]:
    """The names of ``module.__all__`` that the module itself defines (a ``def``, ``class`` or
    assignment at its top level), in ``__all__`` order: a re-export is documented at home."""
    mod = importlib.import_module(module)
    tree = ast.parse(Path(mod.__file__).read_text())
    defined = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined.update(t.id for t in targets if isinstance(t, ast.Name))
    return [name for name in getattr(mod, "__all__", ()) if name in defined]


def _resolve(target: str) -> object | None:
    """The object a dotted name names: its longest importable module, then attributes."""
    parts = target.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for part in parts[i:]:
                obj = getattr(obj, part)
        except AttributeError:
            return None
        return obj
    return None


def home_of(target: str) -> str | None:
    """The documented dotted name of a public alias (``hepnnlr.methods.scan_nll`` ->
    ``hepnnlr.methods.nll.scan_nll``, ``hepnnlr.training.AGGREGATIONS`` ->
    ``hepnnlr.training.ensemble.AGGREGATIONS``); None where ``target`` names nothing."""
    parent, _, name = target.rpartition(".")
    package = _resolve(parent) if parent else None
    for module, names in getattr(package, "_EXPORTS", {}).items():
        if name in names:  # a lazy package's table names the home of data too
            return f"{module}.{name}"
    obj = _resolve(target)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return f"{obj.__module__}.{obj.__qualname__}"
    owner = _resolve(parent) if parent else None
    if inspect.isclass(owner):  # a property or attribute of a class: at the class's home
        return f"{owner.__module__}.{owner.__qualname__}.{name}"
    return None


def _automodule(module: str, members: list[str]) -> str:
    lines = ["```{eval-rst}", f".. automodule:: {module}"]
    if members:
        lines.append(f"   :members: {', '.join(members)}")
    return "\n".join([*lines, "```", ""])


def _page(package: str, title: str) -> str:
    out = [f"# {title}", "", f"`{package}`", "", _automodule(package, [])]
    for module in public_modules(package):
        out += [f"## `{module}`", "", _automodule(module, defined_names(module))]
    return "\n".join(out)


def _top_page() -> str:
    top = importlib.import_module("hepnnlr")
    out = ["# hepnnlr (the top level)", "", _automodule("hepnnlr", [])]
    # the table names each object by its home, from no current module
    out += ["## The names of `import hepnnlr`", "", "```{eval-rst}", ".. currentmodule:: None"]
    out += ["", ".. autosummary::", ""]
    for module, names in top._EXPORTS.items():
        out += [f"   ~{home_of(f'{module}.{name}')}" for name in names]
    out += ["```", ""]
    for module in public_modules("hepnnlr"):
        out += [f"## `{module}`", "", _automodule(module, defined_names(module))]
    return "\n".join(out)


def write_api_pages(folder: Path) -> list[str]:
    """Write ``folder/<package>.md`` for the top level and every package of
    :data:`PACKAGES`; a page is rewritten only when its text changed (Sphinx rereads it).
    Returns the page names, for the toctree of ``docs/api.md``."""
    folder.mkdir(exist_ok=True)
    pages = {"hepnnlr": _top_page()}
    pages.update((package, _page(package, title)) for package, title in PACKAGES)
    for name, text in pages.items():
        path = folder / f"{name}.md"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    return list(pages)
