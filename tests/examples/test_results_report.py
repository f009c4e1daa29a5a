"""``docs/results.md`` is the rendering of ``docs/results/*.json`` (issue 15, item 6).

``examples/results_report.py`` renders every result file that a script wrote with
``examples/_results.py`` into the current part of ``docs/results.md``. These tests render
into temporary copies (never the repository's files): the committed document must be
the rendering of the committed JSON files, a stale document must fail ``--check``, and a
malformed file must stop the renderer with an error naming the file and the key.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from example_modules import example_module

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def report():
    """The renderer and the writer, imported as ``python examples/x.py`` would find them."""
    return example_module("results_report"), example_module("_results")


def _doc(tmp_path: Path, text: str = "# Results\n\n<!-- current:start -->\n<!-- current:end -->\n"):
    path = tmp_path / "results.md"
    path.write_text(text)
    return path


def _result(results, json_dir: Path, name: str = "toy.json") -> Path:
    return results.write_result(
        json_dir / name,
        title="A toy result",
        scale="3 events",
        tables=[results.table("pulls", ["quantity", "pull"], [["mean", 0.5], ["width", -1.25]])],
        load_before="0.10, 0.20, 0.30",
        figures=["figures/toy.png"],
        notes=["A note."],
        script="examples/toy.py",
        argv=["--seed", "1"],
    )


def test_docs_results_md_is_the_rendering_of_the_json_files(report, tmp_path):
    """Render into a copy of docs/results.md; it must come out unchanged."""
    module, _ = report
    copy = tmp_path / "results.md"
    shutil.copyfile(DOCS / "results.md", copy)
    assert module.main(["--doc", str(copy), "--json-dir", str(DOCS / "results")]) == 0
    assert copy.read_text() == (DOCS / "results.md").read_text(), (
        "docs/results.md is out of date with docs/results/*.json: "
        "run python examples/results_report.py"
    )
    # every result file has its section, and the figures it shows are in docs/
    for path in (DOCS / "results").glob("*.json"):
        assert f'<a id="{module.anchor(path)}"></a>' in copy.read_text()
        for figure in json.loads(path.read_text()).get("figures", []):
            assert (DOCS / figure).is_file(), f"{path.name} shows {figure}, not in docs/"


def test_a_result_renders_with_command_scale_machine_table_figure_and_notes(report, tmp_path):
    module, results = report
    _result(results, tmp_path)
    doc = _doc(tmp_path)
    assert module.main(["--doc", str(doc), "--json-dir", str(tmp_path)]) == 0
    text = doc.read_text()
    for expected in (
        "### A toy result",
        "python examples/toy.py --seed 1",
        "**Scale**: 3 events",
        "load 0.10, 0.20, 0.30 →",
        "| quantity | pull |\n|---|---:|\n| mean | 0.5 |\n| width | -1.25 |",
        "![toy](figures/toy.png)",
        "- A note.",
        "[A toy result](#result-toy)",
    ):
        assert expected in text, expected
    # rendering twice changes nothing, and --check agrees
    assert module.main(["--doc", str(doc), "--json-dir", str(tmp_path), "--check"]) == 0


def test_check_fails_on_a_stale_document(report, tmp_path):
    module, results = report
    doc = _doc(tmp_path)
    _result(results, tmp_path)
    assert module.main(["--doc", str(doc), "--json-dir", str(tmp_path), "--check"]) == 1
    module.main(["--doc", str(doc), "--json-dir", str(tmp_path)])
    _result(results, tmp_path, "other.json")  # a new result not yet rendered
    assert module.main(["--doc", str(doc), "--json-dir", str(tmp_path), "--check"]) == 1


def test_known_results_come_first_in_their_order(report, tmp_path):
    module, results = report
    for name in ("aaa.json", "omnifold_fakes_toy.json", "demo.json"):
        _result(results, tmp_path, name)
    names = [path.name for path, _ in module.load(tmp_path)]
    assert names == ["demo.json", "omnifold_fakes_toy.json", "aaa.json"]


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d.pop("tables"), "'tables' is missing"),
        (lambda d: d.update(scale=3), "'scale' is a int, not str"),
        (lambda d: d["tables"][0]["rows"].append([1]), "'tables[0].rows[2]'"),
        (lambda d: d["tables"][0].pop("caption"), "'tables[0].caption' is missing"),
        (lambda d: d.update(notes="one note"), "'notes' must be a list of strings"),
    ],
)
def test_a_malformed_file_names_the_file_and_the_key(report, tmp_path, change, key):
    module, results = report
    path = _result(results, tmp_path, "broken.json")
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    with pytest.raises(SystemExit, match="broken.json") as error:
        module.main(["--doc", str(_doc(tmp_path)), "--json-dir", str(tmp_path)])
    assert key in str(error.value)


def test_invalid_json_names_the_file(report, tmp_path):
    module, _ = report
    (tmp_path / "cut.json").write_text('{"title": "half a fi')
    with pytest.raises(SystemExit, match=r"cut\.json: not valid JSON"):
        module.main(["--doc", str(_doc(tmp_path)), "--json-dir", str(tmp_path)])


def test_a_document_without_markers_is_refused(report, tmp_path):
    module, results = report
    _result(results, tmp_path)
    with pytest.raises(SystemExit, match="<!-- current:start -->"):
        module.main(["--doc", str(_doc(tmp_path, "# Results\n")), "--json-dir", str(tmp_path)])
