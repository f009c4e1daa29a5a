"""TensorFlow only where a network is built, trained or loaded (issue 18, item 2).

Each check runs in a fresh ``python -c`` process, since this test process has imported
TensorFlow already (other tests train networks). The child installs an import hook that
stops at the first import of ``tensorflow`` or ``keras`` and prints the chain of hepnnlr
modules that asked for it, so a failure names the import to cut, not only the fact. The
lazy exports themselves (``hepnnlr/_lazy.py``) are checked on a package made in
``tmp_path``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The child: a meta-path hook that aborts the first TensorFlow/Keras import with the chain
# of hepnnlr frames, then the modules of the group, one after the other.
_CHILD = """
import importlib, pkgutil, sys, traceback

class _NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras"):
            chain = [f"{f.filename.rsplit('/', 2)[-2]}/{f.filename.rsplit('/', 1)[-1]}:{f.lineno}"
                     for f in traceback.extract_stack()
                     if "hepnnlr" in f.filename or "processors" in f.filename]
            raise SystemExit(f"{CURRENT} imported {name} via " + " -> ".join(chain))
        return None

sys.meta_path.insert(0, _NoTensorFlow())
CURRENT = None

def every_module(package):
    yield package
    module = importlib.import_module(package)
    for info in pkgutil.iter_modules(module.__path__, package + "."):
        yield info.name

<BODY>
print("clean")
"""


def _run_child(body: str) -> subprocess.CompletedProcess:
    code = _CHILD.replace("<BODY>", textwrap.dedent(body))
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=120,
    )


IMPORTS = {
    # what a coffea worker that only runs a processor imports
    "columnar": [
        "hepnnlr",
        "*hepnnlr.samples",
        "*hepnnlr.schema",
        "*hepnnlr.observables",
        "*hepnnlr.processors",
    ],
    # the NumPy statistics: NLL grid, profiles, intervals, coverage, scans, fit flags, and
    # the results layer; signal_strength re-exports them (its training routes import
    # TensorFlow only when called)
    "statistics": [
        "hepnnlr.methods",
        "hepnnlr.methods.mixture_likelihood",
        "hepnnlr.methods.nll",
        "hepnnlr.methods.intervals",
        "hepnnlr.methods.minuit_fit",
        "hepnnlr.methods.coverage",
        "hepnnlr.methods.signal_strength",
        "hepnnlr.methods.scans",
        "hepnnlr.methods.fit_quality",
        "hepnnlr.methods.dctr_exact",
        "hepnnlr.weighted",
        "*hepnnlr.results",
        # the packages whose modules do use TensorFlow: importing the package alone does not
        "hepnnlr.tensors",
        "hepnnlr.tensors.adapt",  # the methods' plain-array adapter: NumPy and awkward only
        "hepnnlr.models",
        "hepnnlr.training",
        "hepnnlr.workflows",
    ],
}


@pytest.mark.parametrize("group", sorted(IMPORTS))
def test_imports_load_no_tensorflow(group):
    """A leading ``*`` imports the package and every module in it."""
    body = f"for entry in {IMPORTS[group]!r}:\n" + textwrap.indent(
        textwrap.dedent("""
        names = every_module(entry[1:]) if entry.startswith("*") else [entry]
        for CURRENT in names:
            importlib.import_module(CURRENT)
        """),
        "    ",
    )
    done = _run_child(body)
    assert done.returncode == 0 and done.stdout.strip().endswith("clean"), done.stderr[-3000:]


def test_cli_help_loads_no_tensorflow():
    """``hepnnlr --help``, ``--version`` and every verb's ``--help`` (which shows the job
    dataclasses' defaults, so reads every job's configuration classes)."""
    done = _run_child("""
        import contextlib, io, re
        from hepnnlr.cli.main import build_parser, main
        # the verbs as the usage line lists them: {generate,unfold,...}
        verbs = re.search(r"{([a-z,]+)}", build_parser().format_usage()).group(1).split(",")
        assert "demo" in verbs, verbs
        for argv in [["--help"], ["--version"]] + [[verb, "--help"] for verb in verbs]:
            CURRENT = "hepnnlr " + " ".join(argv)
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    main(argv)
                except SystemExit as stop:
                    assert stop.code == 0, (argv, stop.code)
    """)
    assert done.returncode == 0 and done.stdout.strip().endswith("clean"), done.stderr[-3000:]


def test_import_hepnnlr_imports_only_its_top_level():
    """``import hepnnlr`` loads no NumPy, no other hepnnlr module; names load on first use."""
    done = _run_child("""
        import hepnnlr
        loaded = sorted(m for m in sys.modules if m.startswith(("hepnnlr", "numpy")))
        assert loaded == ["hepnnlr", "hepnnlr._lazy"], loaded
        assert set(hepnnlr.__all__) <= set(dir(hepnnlr)), "dir() lacks exported names"
        assert {"omnifold", "scan_nll", "run_processor", "SavedReweighter"} <= set(
            hepnnlr.__all__
        )
        hepnnlr.scan_nll  # the NumPy statistics, without TensorFlow
        assert "hepnnlr.methods.nll" in sys.modules
        hepnnlr.results.read_weights  # subpackages are attributes too
    """)
    assert done.returncode == 0 and done.stdout.strip().endswith("clean"), done.stderr[-3000:]


@pytest.fixture()
def toy_package(tmp_path, monkeypatch):
    """``toypkg`` with lazy exports, one of them named like its submodule (as
    ``hepnnlr.methods.omnifold``)."""
    package = tmp_path / "toypkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from hepnnlr._lazy import attach\n"
        "_EXPORTS = {'toypkg.thing': ('thing', 'Other'), 'toypkg.tool': ('tool_value',)}\n"
        "__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)\n"
    )
    (package / "thing.py").write_text("def thing():\n    return 1\n\nclass Other:\n    pass\n")
    (package / "tool.py").write_text("tool_value = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "toypkg"
    for name in [m for m in sys.modules if m == "toypkg" or m.startswith("toypkg.")]:
        del sys.modules[name]


def test_lazy_exports_load_on_first_use(toy_package):
    import importlib

    toypkg = importlib.import_module(toy_package)
    assert "toypkg.tool" not in sys.modules
    assert toypkg.__all__ == ["Other", "thing", "tool_value"]
    assert {"Other", "thing", "tool_value"} <= set(dir(toypkg))
    assert toypkg.tool_value == 42 and "toypkg.tool" in sys.modules
    with pytest.raises(AttributeError, match="'toypkg' has no attribute 'nothing'"):
        toypkg.nothing  # noqa: B018


def test_an_export_named_like_its_module_stays_the_export(toy_package):
    """Importing the submodule first used to leave the module where the function was."""
    import importlib

    from_module = importlib.import_module("toypkg.thing").Other  # the submodule first
    toypkg = sys.modules["toypkg"]
    assert callable(toypkg.thing) and toypkg.thing() == 1
    assert toypkg.Other is from_module
    assert sys.modules["toypkg.thing"].__name__ == "toypkg.thing"


def test_a_name_exported_twice_is_refused():
    from hepnnlr._lazy import attach

    with pytest.raises(ValueError, match="'x' is exported by both a.b and a.c"):
        attach("hepnnlr", {"a.b": ("x",), "a.c": ("x",)})
