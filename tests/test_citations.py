"""Docstrings and comments cite works by identifier, never as "the paper" (issue 19).

The references live in one table, ``docs/references.md`` (identifier, authors, title,
journal). The rules checked here on the docstrings and ``#`` comments of every ``.py`` file
under ``hepnnlr/``, ``processors/``, ``benchmarks/`` and ``examples/`` (code strings such as
``--help`` texts or result keys are not prose and are not checked):

1. A line whose prose has the word "paper", "papers", "thesis" (any case, with or without
   an article or a name before it: "the paper", "the SRGN paper's", "thesis §3.3") has an
   identifier, ``arXiv:NNNN.NNNNN`` or ``hdl:NNNN/NNNNNNN``, on the same line or on the line
   just above or below it in the source.
2. Every arXiv identifier in those files is well formed (``\\d{4}.\\d{4,5}`` or old-style
   ``archive/NNNNNNN``), and every identifier is a row of ``docs/references.md``.
3. A file that cites an identifier also gives that work's title (from the table) once, so
   the first mention is the full reference and later ones may be the bare identifier.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("hepnnlr", "processors", "benchmarks", "examples")
TABLE = ROOT / "docs" / "references.md"

VAGUE = re.compile(r"\b(?:papers?|paper's|thesis|thesis's|theses)\b", re.IGNORECASE)
IDENTIFIER = re.compile(r"\b(arXiv:[\w./-]*\w|hdl:[\w./-]*\w)", re.IGNORECASE)
ARXIV_FORM = re.compile(r"arXiv:(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?")
HANDLE_FORM = re.compile(r"hdl:\d+/\d+")
MENTION = re.compile(r"paper|thes[ie]s|arxiv:|hdl:", re.IGNORECASE)


def _prose(path: Path) -> dict[int, str]:
    """Docstring (any string statement) and comment text of ``path``, by source line."""
    source = path.read_text(encoding="utf-8")
    prose: dict[int, str] = {}
    if not MENTION.search(source):
        return prose  # nothing any rule looks at; skips parsing most of the tree
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for number in range(node.lineno, node.end_lineno + 1):
                prose[number] = lines[number - 1]
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            prose[token.start[0]] = prose.get(token.start[0], "") + " " + token.string
    return prose


def _python_files() -> list[Path]:
    return sorted(p for folder in SCANNED for p in (ROOT / folder).rglob("*.py"))


def _references() -> dict[str, str]:
    """``{identifier: title}`` from the table of ``docs/references.md``."""
    references = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and IDENTIFIER.fullmatch(cells[0]):
            references[cells[0]] = cells[2]
    return references


def _normalized(text: str) -> str:
    # Titles wrap across docstring lines and sit in quotes or *emphasis*: compare words only.
    return " ".join(re.sub(r"[*\"“”`#]", " ", text).lower().split())


@pytest.fixture(scope="module")
def prose_by_file() -> dict[Path, dict[int, str]]:
    return {path: _prose(path) for path in _python_files()}


def test_reference_table_is_well_formed() -> None:
    references = _references()
    # The five works hepnnlr implements and the tools they use: far more than a handful.
    assert len(references) >= 10, f"{TABLE} lost its table (found {len(references)} rows)"
    malformed = [
        key for key in references if not (ARXIV_FORM.fullmatch(key) or HANDLE_FORM.fullmatch(key))
    ]
    assert not malformed, f"malformed identifiers in {TABLE}: {malformed}"
    assert all(references.values()), f"a row of {TABLE} has no title"


def test_no_paper_without_an_identifier(prose_by_file) -> None:
    vague = []
    for path, prose in prose_by_file.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, text in sorted(prose.items()):
            if not VAGUE.search(text):
                continue
            near = "\n".join(lines[max(0, number - 2) : number + 1])
            if not IDENTIFIER.search(near):
                vague.append(f"{path.relative_to(ROOT)}:{number}: {text.strip()}")
    assert not vague, (
        "docstrings/comments that name a paper or thesis without its identifier on the same "
        "or an adjacent line; cite it as e.g. 'Eq. 5 of arXiv:2010.03569' (identifiers in "
        "docs/references.md):\n" + "\n".join(vague)
    )


def test_identifiers_are_well_formed_and_listed(prose_by_file) -> None:
    references = {key.lower(): key for key in _references()}
    wrong = []
    for path, prose in prose_by_file.items():
        for number, text in sorted(prose.items()):
            for cited in IDENTIFIER.findall(text):
                cited = re.sub(r"v\d+$", "", cited)
                well_formed = ARXIV_FORM.fullmatch(cited) or HANDLE_FORM.fullmatch(cited)
                if not well_formed or cited.lower() not in references:
                    wrong.append(f"{path.relative_to(ROOT)}:{number}: {cited}")
    assert not wrong, (
        "identifiers that are malformed or missing from docs/references.md (add the work's "
        "row there, or correct the number):\n" + "\n".join(wrong)
    )


def test_each_cited_work_is_named_in_full_once_per_file(prose_by_file) -> None:
    titles = {key.lower(): _normalized(title) for key, title in _references().items()}
    untitled = []
    for path, prose in prose_by_file.items():
        text = "\n".join(prose[number] for number in sorted(prose))
        cited = {c.lower() for c in IDENTIFIER.findall(text)}
        words = _normalized(text)
        for key in sorted(cited & titles.keys()):
            if titles[key] not in words:
                untitled.append(f"{path.relative_to(ROOT)}: {key}")
    assert not untitled, (
        "files that cite a work by identifier but never give its title (docs/references.md) "
        "at the first mention:\n" + "\n".join(untitled)
    )
