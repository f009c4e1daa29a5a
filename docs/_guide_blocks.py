"""The ``python`` code blocks of the user guide (docs/guide/*.md), and running them.

``tests/test_docs_guide.py`` runs them (a page's blocks in order, in one namespace, in a
temporary folder) and ``examples/guide_figures.py`` runs them the same way to draw the
figures the pages show: the code a reader copies is the code that was run.

A walk-through (``WALKTHROUGHS``: ``own_files.md``) runs commands as well: :func:`run_page`
takes its blocks in page order, the YAML ones written to the file their first line names,
the ``bash`` ones as ``hepnnlr`` commands in this process, the ``python`` ones as above
(``tests/test_docs_own_files.py``).
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

GUIDE = Path(__file__).resolve().parent / "guide"
_BLOCK = re.compile(r"^```python\n(.*?)^```", flags=re.S | re.M)
_ANY_BLOCK = re.compile(r"^```(\S*)\n(.*?)^```", flags=re.S | re.M)
_FILE_NAME = re.compile(r"# ([\w.-]+\.ya?ml)\n")
WALKTHROUGHS = ("own_files",)
"""Guide pages that run commands too (:func:`run_page`), not a method page."""


def guide_pages() -> list[Path]:
    """The guide's method pages (every ``docs/guide/*.md`` holding a python block, but the
    walk-throughs)."""
    return [
        page
        for page in sorted(GUIDE.glob("*.md"))
        if page.stem not in WALKTHROUGHS and python_blocks(page)
    ]


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


def page_blocks(page: Path) -> list[tuple[str, str]]:
    """Every fenced block of ``page`` as (language, text), in page order (MyST directives
    such as ``{toctree}`` left out)."""
    return [(lang, text) for lang, text in _ANY_BLOCK.findall(page.read_text())
            if not lang.startswith("{")]  # fmt: skip


def yaml_file_name(text: str) -> str:
    """The file a YAML block is written to: its first line, ``# name.yaml``."""
    match = _FILE_NAME.match(text)
    if match is None:
        raise ValueError(f"a YAML block must start with '# NAME.yaml', got {text[:40]!r}")
    return match.group(1)


def shell_commands(text: str) -> list[list[str]]:
    """The ``hepnnlr`` commands of a ``bash`` block (one per line, ``\\`` continues), each
    as its arguments after ``hepnnlr``."""
    commands = []
    for line in text.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        if words[0] != "hepnnlr":
            raise ValueError(f"a shell block runs hepnnlr commands only, got {line!r}")
        commands.append(words[1:])
    return commands


def run_page(page: Path, folder: Path, *, execute: bool = True) -> dict:
    """Run every block of a walk-through in page order with ``folder`` as the working
    directory: ``yaml`` written to its file, ``bash`` lines through
    ``hepnnlr.cli.main.main`` (a command that does not exit 0 raises), ``python``
    executed in one namespace; return the namespace. ``execute=False`` writes the YAML
    files, parses the commands with the CLI's parser and compiles the Python, running
    nothing: every block is one this runner takes."""
    from hepnnlr.cli.main import build_parser, main

    namespace: dict = {"__name__": "__main__"}
    here = Path.cwd()
    os.chdir(folder)
    try:
        for i, (lang, text) in enumerate(page_blocks(page)):
            where = f"{page.name}, block {i + 1} ({lang})"
            if lang == "yaml":
                Path(yaml_file_name(text)).write_text(text)
            elif lang == "bash":
                for argv in shell_commands(text):
                    if not execute:
                        build_parser().parse_args(argv)
                    elif (code := main(argv)) != 0:
                        raise RuntimeError(f"{where}: hepnnlr {shlex.join(argv)} exited {code}")
            elif lang == "python":
                code = compile(text, where, "exec")
                if execute:
                    exec(code, namespace)  # noqa: S102
            else:
                raise ValueError(f"{where}: no runner for {lang!r} blocks")
    finally:
        os.chdir(here)
    return namespace
