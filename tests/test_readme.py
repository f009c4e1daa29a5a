"""The README and docs as a newcomer uses them: the quickstart and CI run the same test
command, the README's code runs as printed, and every link in README.md and docs/ resolves."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _ci_command() -> str:
    """The first command of .ci/run: the tests (the docs build follows them)."""
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd ", "export "))
    ]
    assert lines, ".ci/run runs no command"
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


def test_the_readme_recipe_rebuilds_the_unfolded_histogram(
    dis_data_file, dis_sim_file, tmp_path, tmp_path_factory
) -> None:
    """The README's "Rebuilding the unfolded Q² histogram" block, run as printed on a tiny
    unfolding's output (its DIR put in), equals ``gen_Q2/unfolded_nominal`` of
    ``histograms.root``."""
    import uproot
    from tiny_unfolding import shared_tiny_unfolding

    out = shared_tiny_unfolding(dis_data_file, dis_sim_file, tmp_path_factory)
    # DIR as the demo leaves it: the outputs beside dis_sim.root
    (tmp_path / "weights.parquet").symlink_to(out.weights_file)
    (tmp_path / "dis_sim.root").symlink_to(dis_sim_file)
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    (code,) = [block for block in blocks if "weights.parquet" in block]
    code = code.replace('"DIR/', f'"{tmp_path}/')
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    with uproot.open(out.histograms_file) as f:
        expected = f["gen_Q2/unfolded_nominal"].to_hist()
    np.testing.assert_array_equal(namespace["h"].axes[0].edges, expected.axes[0].edges)
    # the same events and weights, summed in another order: float64 rounding only
    np.testing.assert_allclose(
        namespace["h"].values(flow=True), expected.values(flow=True), rtol=1e-12
    )
    np.testing.assert_allclose(
        namespace["h"].variances(flow=True), expected.variances(flow=True), rtol=1e-12
    )
    assert namespace["meta"]["keys"] == ["file", "entry"]


def _anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file: ``<a id=...>`` and GitHub's heading slugs (lower
    case, punctuation dropped, spaces as ``-``, ``-1``, ``-2`` … on repeated headings)."""
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    anchors = set(re.findall(r'<a id="([^"]+)"', text))
    for heading in re.findall(r"^#+\s+(.*?)\s*$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        k = 0
        while (f"{slug}-{k}" if k else slug) in anchors:
            k += 1
        anchors.add(f"{slug}-{k}" if k else slug)
    return anchors


def test_every_link_in_the_docs_resolves() -> None:
    """Every relative link of README.md and docs/**/*.md names a file that exists and, for a
    Markdown file, an anchor it has: a newcomer following the docs finds what they name."""
    broken = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = re.sub(r"```.*?```", "", doc.read_text(), flags=re.S)
        for link in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", link):  # http:, https:, mailto:
                continue
            path, _, anchor = link.partition("#")
            target = (doc.parent / path).resolve() if path else doc
            if not target.is_relative_to(ROOT):
                broken.append(f"{doc.relative_to(ROOT)}: {link} (outside the repository)")
            elif not target.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {link} (no such file)")
            elif anchor and target.suffix == ".md" and anchor not in _anchors(target):
                broken.append(f"{doc.relative_to(ROOT)}: {link} (no such anchor)")
    assert not broken, "broken links; fix the link or the heading:\n" + "\n".join(broken)
