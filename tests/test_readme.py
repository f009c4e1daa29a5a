"""The README's quickstart and CI run the same test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ci_command() -> str:
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd ", "export "))
    ]
    assert len(lines) == 1, f".ci/run should run exactly one command, found {lines}"
    return lines[0]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", readme, flags=re.S)
    commands = {line.strip() for block in blocks for line in block.splitlines()}
    assert _ci_command() in commands, "README must show the exact command .ci/run runs"


def test_the_readme_processor_runs_on_the_cms_file() -> None:
    """The README's "Using it from Python" processor runs as printed, on dask, on the real
    CMS PFNano file (its path put in for the README's file name): the example cannot rot."""
    from shared_data import shared_data_file

    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    (code,) = [block for block in blocks if "class FatJets" in block]
    code = code.replace('"pfnano.root"', repr(str(shared_data_file("pfnano.root"))))
    namespace = {"__name__": "__main__"}  # dask pickles the processor class by value
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    h = namespace["out"]["jets"]
    assert list(h.axes["dataset"]) == ["qcd"]
    # the file's 10 boosted events hold 24 PUPPI AK8 jets above 170 GeV, as CMS's FatJets
    # (tests/observables/test_jets_cms.py)
    assert h.sum(flow=True).value == 24
