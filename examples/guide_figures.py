"""Draw the user guide's figures by running its pages' code (docs/guide/*.md).

Every ``python`` block of a page runs in order, in one namespace, in a temporary folder
(as ``tests/test_docs_guide.py`` runs them); the PNG files the last block saves are copied
to ``docs/figures/guide/``, where the pages show them. The figures are therefore the
output of exactly the code the pages print, at the pages' tiny sizes (seconds to a minute
per page on a 2-core CPU).

    nice -n 10 python examples/guide_figures.py [PAGE ...]   # e.g. omnifold dctrgan
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _results import show_progress

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))

from _guide_blocks import guide_pages, run_blocks  # noqa: E402

FIGURES = ROOT / "docs" / "figures" / "guide"


def main(argv: list[str] | None = None) -> int:
    show_progress()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help="page names (default: every guide page)")
    args = parser.parse_args(argv)
    pages = {page.stem: page for page in guide_pages()}
    unknown = sorted(set(args.pages) - set(pages))
    if unknown:
        parser.error(f"no guide page {unknown}; choose from {sorted(pages)}")
    FIGURES.mkdir(parents=True, exist_ok=True)
    for name in args.pages or sorted(pages):
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            run_blocks(pages[name], Path(folder))
            drawn = sorted(Path(folder).glob("*.png"))
            if not drawn:
                raise SystemExit(f"docs/guide/{name}.md drew no PNG; its last block must save one")
            for png in drawn:
                shutil.copyfile(png, FIGURES / png.name)
        print(f"{name}: {[p.name for p in drawn]} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
