"""The ``python`` code blocks of the user guide (docs/guide/*.md), and running them.

``tests/test_docs_guide.py`` runs them (a page's blocks in order, in one namespace, in a
temporary folder) and ``examples/guide_figures.py`` runs them the same way to draw the
figures the pages show: the code a reader copies is the code that was run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parent / "guide"
_BLOCK = re.compile(r"^```python\n(.*?)^```", flags=re.S | re.M)


def guide_pages() -> list[Path]:
    """The guide's method pages (every ``docs/guide/*.md`` holding a python block)."""
    return [page for page in sorted(GUIDE.glob("*.md")) if python_blocks(page)]


def python_blocks(page: Path) -> list[str]:
    """The ``python`` fenced blocks of ``page``, in order."""
    return _BLOCK.findall(page.read_text())


def run_blocks(page: Path, folder: Path, count: int | None = None) -> dict:
    """Run the first ``count`` (default: all) python blocks of ``page`` in order, in one
    namespace, with ``folder`` as the working directory; return the namespace."""
    namespace: dict = {"__name__": "__main__"}
    here = Path.cwd()
    os.chdir(folder)
    try:
        for i, code in enumerate(python_blocks(page)[:count]):
            exec(compile(code, f"{page.name}, python block {i + 1}", "exec"), namespace)  # noqa: S102
    finally:
        os.chdir(here)
    return namespace
