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
