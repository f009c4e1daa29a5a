"""The user guide's code runs as printed (docs/guide/*.md).

Each method page's ``python`` blocks run in order, in one namespace, in a temporary folder.
The default run executes the first block of every page (the samples and the exact answer,
NumPy only: about 1 s of CPU for the five pages together); the blocks that train networks
run in the ``slow`` test, about a minute per page on two cores, the same code that
``examples/guide_figures.py`` runs to draw the pages' figures.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))

from _guide_blocks import guide_pages, python_blocks, run_blocks  # noqa: E402

METHODS = {"omnifold", "dctr_srgn", "response", "dctrgan", "signal_strength"}
PAGES = {page.stem: page for page in guide_pages()}


def test_every_method_has_a_page_with_code_citations_and_its_figure():
    assert set(PAGES) == METHODS, "one guide page per method, each with python blocks"
    for name, page in PAGES.items():
        text = page.read_text()
        blocks = python_blocks(page)
        assert len(blocks) >= 2, f"{page.name}: a cheap block, then the method's own"
        # the published work the page explains, by identifier (docs/references.md)
        assert re.search(r"arXiv:\d{4}\.\d{4,5}|hdl:\d+/\d+", text), page.name
        # the figure the page shows is the one its last block saves, and it is committed
        (shown,) = re.findall(r"!\[[^\]]*\]\(\.\./figures/guide/([\w.]+)\)", text)
        # saved by hepnnlr's plot functions (path without suffix) or by hand (savefig)
        saved = (f'"{shown.removesuffix(".png")}"', f'savefig("{shown}"')
        assert any(call in blocks[-1] for call in saved), f"{page.name} shows {shown}"
        assert (ROOT / "docs" / "figures" / "guide" / shown).is_file(), shown
        # the index lists the page (Sphinx fails on a page in no toctree)
        assert name in (page.parent / "index.md").read_text()


@pytest.mark.parametrize("name", sorted(METHODS))
def test_the_first_block_of_each_page_runs(name, tmp_path):
    """Runs as printed: an error in the block (an API that moved, a renamed argument)
    fails here with the page and block named in the traceback."""
    run_blocks(PAGES[name], tmp_path, count=1)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_block_of_each_page_runs_and_draws_its_figure(name, tmp_path):
    run_blocks(PAGES[name], tmp_path)
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000
