"""The documentation site's sources: every page reachable, the README inside the repository,
and CI building the site with warnings as errors (docs/conf.py; the build itself, which
imports every public module, runs in .ci/run after the tests, not in the default run)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _toctree_entries(page: Path) -> set[Path]:
    entries = set()
    for block in re.findall(r"```\{toctree\}\n(.*?)```", page.read_text(), flags=re.S):
        for line in block.splitlines():
            if line.strip() and not line.startswith(":"):
                entries.add((page.parent / f"{line.strip()}.md").resolve())
    return entries


def test_every_docs_page_is_in_a_toctree():
    """Sphinx fails the build on a page no toctree lists: a page added to docs/ must be
    linked from docs/index.md (or a page it lists)."""
    listed = {(DOCS / "index.md").resolve()}
    for page in DOCS.rglob("*.md"):
        listed |= _toctree_entries(page)
    pages = {
        page.resolve()
        for page in DOCS.rglob("*.md")
        if page.relative_to(DOCS).parts[0] not in ("api", "_build")  # api/: generated
    }
    missing = sorted(str(p.relative_to(DOCS)) for p in pages - listed)
    assert not missing, f"add these pages to a toctree (docs/index.md): {missing}"
    absent = sorted(str(p) for p in listed if p.parent.name != "api" and not p.exists())
    assert not absent, f"toctree entries without a page: {absent}"


def test_readme_names_no_path_outside_the_repository():
    """The README is read on its own (PyPI, a fresh clone): it names no ``../`` path."""
    readme = (ROOT / "README.md").read_text()
    outside = re.findall(r"\.\./[\w./-]+", readme)
    assert not outside, f"README.md names paths outside the repository: {outside}"
    for link in re.findall(r"\]\(([^)\s#]+)", readme):
        if not re.match(r"[a-z]+:", link):
            assert (ROOT / link).resolve().is_relative_to(ROOT), link


def test_ci_builds_the_site_with_warnings_as_errors():
    ci = (ROOT / ".ci" / "run").read_text()
    (build,) = [line for line in ci.splitlines() if "sphinx" in line and "docs" in line]
    assert "-W" in build and "--keep-going" in build and "-n" in build.split(), build
    extras = (ROOT / "pyproject.toml").read_text()
    assert re.search(r"^docs = \[.*sphinx.*myst-parser.*\]", extras, flags=re.M)
