"""The layer rules of docs/architecture.md: imports only flow downwards, TensorFlow stays put."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Layer order from docs/architecture.md; a module may import only its own layer or lower ones.
LAYERS = [
    "errors",
    "samples",
    "schema",
    "observables",
    "analysis",
    "processors",
    "tensors",
    "models",
    "training",
    "methods",
    "results",
    "workflows",
    "cli",
]
TENSORFLOW_LAYERS = {"tensors", "models", "training"}


def _layer_of(path: Path) -> str:
    rel = path.relative_to(ROOT)
    if rel.parts[0] == "processors":
        return "processors"
    if len(rel.parts) == 2:  # hepnnlr/<module>.py
        return rel.stem if rel.stem in LAYERS else "errors"
    return rel.parts[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _imported_layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "hepnnlr" or len(parts) == 1:
        return None
    return parts[1] if parts[1] in LAYERS else None


SOURCES = sorted(
    [p for p in (ROOT / "hepnnlr").rglob("*.py")] + [p for p in (ROOT / "processors").rglob("*.py")]
)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_flow_downwards(path: Path) -> None:
    layer = _layer_of(path)
    rank = LAYERS.index(layer)
    for module in _imports(path):
        target = _imported_layer(module)
        if target is not None:
            assert LAYERS.index(target) <= rank, (
                f"{path.relative_to(ROOT)} (layer {layer}) imports {module} (layer {target})"
            )


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_tensorflow_only_in_its_layers(path: Path) -> None:
    layer = _layer_of(path)
    if layer in TENSORFLOW_LAYERS:
        return
    for module in _imports(path):
        assert module.split(".")[0] not in {"tensorflow", "keras"}, (
            f"{path.relative_to(ROOT)} (layer {layer}) imports {module}; TensorFlow and Keras "
            f"belong in {sorted(TENSORFLOW_LAYERS)}"
        )


# ----------------------------------------------------------------------------- lazy exports

# The NumPy statistics: the signal-strength likelihood, NLL grid, intervals, iminuit fit and
# coverage, the scan and fit-quality maths. They may not import the network layers or a
# methods module outside this set (signal_strength.py holds the training routes), at any
# depth: an import inside a function is still an import.
STATISTICS = {
    "hepnnlr/methods/coverage.py",
    "hepnnlr/methods/dctr_exact.py",
    "hepnnlr/methods/fit_quality.py",
    "hepnnlr/methods/intervals.py",
    "hepnnlr/methods/minuit_fit.py",
    "hepnnlr/methods/mixture_likelihood.py",
    "hepnnlr/methods/nll.py",
    "hepnnlr/methods/scans.py",
}


def _statistics_modules() -> set[str]:
    return {"hepnnlr." + Path(p).with_suffix("").as_posix()[len("hepnnlr/") :].replace("/", ".")
            for p in STATISTICS}  # fmt: skip


RESULTS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "hepnnlr" / "results").glob("*.py"))


@pytest.mark.parametrize("path", sorted(STATISTICS) + RESULTS)
def test_statistics_import_no_network_code(path: str) -> None:
    allowed = _statistics_modules()
    for module in _imports(ROOT / path):
        top = module.split(".")
        assert top[0] not in {"tensorflow", "keras"}, f"{path} imports {module}"
        assert _imported_layer(module) not in TENSORFLOW_LAYERS, (
            f"{path} imports {module}; the statistics work on NumPy arrays and must not "
            "import tensors/models/training (they import TensorFlow)"
        )
        if top[:2] == ["hepnnlr", "methods"] and len(top) > 2:
            assert module in allowed, (
                f"{path} imports {module}, which is not one of the NumPy statistics modules "
                f"{sorted(allowed)}; import the statistics from their own modules"
            )


def _lazy_exports(init: Path) -> dict[str, tuple[str, ...]] | None:
    """The ``_EXPORTS`` table of a package ``__init__`` (hepnnlr/_lazy.py), if it has one."""
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "_EXPORTS" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    return None


def _module_path(module: str) -> Path:
    parts = module.split(".")
    base = ROOT / "processors" if parts[:2] == ["hepnnlr", "processors"] else ROOT / "hepnnlr"
    rest = parts[2:] if base.name == "processors" else parts[1:]
    path = base.joinpath(*rest)
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _defined_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


LAZY_INITS = sorted(
    p for p in [*(ROOT / "hepnnlr").rglob("__init__.py"), ROOT / "processors/__init__.py"]
    if _lazy_exports(p) is not None
)  # fmt: skip


@pytest.mark.parametrize("init", LAZY_INITS, ids=lambda p: str(p.relative_to(ROOT)))
def test_lazy_exports_obey_the_layers_and_exist(init: Path) -> None:
    """A lazy export is an import that happens later: it obeys the same layer rule, and the
    name is defined where the table says. ``hepnnlr/__init__.py`` is the curated API over
    every layer but the command line."""
    table = _lazy_exports(init)
    top_level = init == ROOT / "hepnnlr" / "__init__.py"
    layer = "workflows" if top_level else _layer_of(init)
    for module, names in table.items():
        target = _imported_layer(module)
        if target is not None:
            assert LAYERS.index(target) <= LAYERS.index(layer), (
                f"{init.relative_to(ROOT)} (layer {layer}) exports from {module} (layer {target})"
            )
        defined = _defined_names(_module_path(module))
        missing = sorted(set(names) - defined)
        assert not missing, f"{init.relative_to(ROOT)}: {module} does not define {missing}"


LAZY_PACKAGES = ["", "samples", "schema", "observables", "tensors", "models", "training",
                 "methods", "results", "workflows"]  # fmt: skip


@pytest.mark.parametrize("package", LAZY_PACKAGES, ids=lambda p: f"hepnnlr.{p}".rstrip("."))
def test_package_inits_export_lazily(package: str) -> None:
    """These ``__init__``s import nothing at their top level but hepnnlr._lazy (and
    hepnnlr.tensors' TensorFlow log filter, hepnnlr's logging), so importing a package
    costs nothing."""
    init = ROOT / "hepnnlr" / package / "__init__.py"
    assert _lazy_exports(init), f"{init.relative_to(ROOT)} has no _EXPORTS table"
    imports = {
        module
        for node in ast.parse(init.read_text()).body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for module in (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
        )
    }
    extra = imports - {
        "__future__",
        "logging",  # hepnnlr's NullHandler
        "hepnnlr._lazy",
        "hepnnlr._tensorflow_logs",  # hepnnlr.tensors: TensorFlow's start-up lines
        "hepnnlr.tensors",
    }
    assert not extra, f"{init.relative_to(ROOT)} imports {sorted(extra)} when imported"
