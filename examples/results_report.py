"""Render the current results into ``docs/results.md`` from the JSON files of the scripts.

Every script that measures a result writes ``docs/results/<name>.json`` with
``examples/_results.py`` (``write_result``: title, command, scale, date, commit, machine,
load before and after, tables, figures, notes). This script renders each file as one
section, between the markers ``<!-- current:start -->`` and ``<!-- current:end -->`` of
``docs/results.md``: the known results in the order of :data:`ORDER`, any other file after
them by name. Each section has an anchor ``result-<name>`` (the file's stem), so other
documents can link to it. The rest of the document is left as it is. It behaves as
``benchmarks/report.py`` does for ``docs/benchmarks.md``.

Usage::

    python examples/results_report.py                 # rewrite the current part of docs/results.md
    python examples/results_report.py --check         # exit 1 if it is not up to date
    python examples/results_report.py --json-dir DIR --doc FILE

A file that does not have the layout of ``_results.py`` stops the script with an error
naming the file and the key; re-run the script named in it (or fix the file by hand).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from hepnnlr.provenance import render_report

ROOT = Path(__file__).resolve().parents[1]
ORDER = (
    "demo.json",
    "omnifold_fakes_toy.json",
    "omnifold_bootstrap_toy.json",
    "omnifold_peer.json",
    "calibration_zjets_alphas.json",
    "calibration_ttbar_mt.json",
    "dctr_bootstrap_gaussian.json",
    "infer_bootstrap_gaussian.json",
)
"""The files in the order of the document; any other JSON file follows, by name."""

REQUIRED = {
    "title": str,
    "command": str,
    "scale": str,
    "date": str,
    "commit": str,
    "machine": dict,
    "load_before": str,
    "load_after": str,
    "tables": list,
}
"""The keys every result must have, and their JSON types (``_results.write_result``)."""


class ResultFileError(ValueError):
    """A JSON file in ``docs/results/`` that does not have the layout of ``_results.py``."""


def _rank(path: Path) -> tuple[int, str]:
    return (ORDER.index(path.name), "") if path.name in ORDER else (len(ORDER), path.name)


def _fail(path: Path, key: str, problem: str) -> ResultFileError:
    return ResultFileError(
        f"{path}: {key} {problem}; re-run the script that writes it (its 'command'), which "
        "writes the layout of examples/_results.py"
    )


def validate(path: Path, document: object) -> dict:
    """Check ``document`` (read from ``path``) against the layout; return it."""
    if not isinstance(document, dict):
        raise _fail(path, "the document", f"is a {type(document).__name__}, not an object")
    for key, kind in REQUIRED.items():
        if key not in document:
            raise _fail(path, repr(key), "is missing")
        if not isinstance(document[key], kind):
            raise _fail(
                path, repr(key), f"is a {type(document[key]).__name__}, not {kind.__name__}"
            )
    for key in ("figures", "notes"):
        value = document.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _fail(path, repr(key), "must be a list of strings")
    for t, tab in enumerate(document["tables"]):
        where = f"'tables[{t}]'"
        if not isinstance(tab, dict):
            raise _fail(path, where, "is not an object")
        for key in ("caption", "columns", "rows"):
            if key not in tab:
                raise _fail(path, f"'tables[{t}].{key}'", "is missing")
        columns, rows = tab["columns"], tab["rows"]
        if not isinstance(columns, list) or not columns:
            raise _fail(path, f"'tables[{t}].columns'", "must be a non-empty list")
        if not isinstance(rows, list):
            raise _fail(path, f"'tables[{t}].rows'", "must be a list of rows")
        for r, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != len(columns):
                raise _fail(
                    path,
                    f"'tables[{t}].rows[{r}]'",
                    f"must have one cell for each of the {len(columns)} columns {columns}",
                )
    return document


def load(json_dir: Path) -> list[tuple[Path, dict]]:
    """Every ``*.json`` of ``json_dir`` in the document's order, read and validated."""
    documents = []
    for path in sorted(json_dir.glob("*.json"), key=_rank):
        try:
            document = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ResultFileError(f"{path}: not valid JSON ({error}); re-run its script") from None
        documents.append((path, validate(path, document)))
    return documents


def _cell(value: object) -> str:
    """A table cell as it is written, with the characters that break a Markdown row escaped."""
    text = "—" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(tab: dict) -> list[str]:
    columns = tab["columns"]
    # numbers right-aligned: a column is numeric when every cell is a JSON number
    numeric = [
        all(isinstance(row[c], int | float) and not isinstance(row[c], bool) for row in tab["rows"])
        and bool(tab["rows"])
        for c in range(len(columns))
    ]
    lines = []
    if tab["caption"]:
        lines += [f"*{tab['caption']}*", ""]
    lines.append("| " + " | ".join(_cell(c) for c in columns) + " |")
    lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in tab["rows"]]
    return lines + [""]


def _machine(doc: dict) -> str:
    machine = doc["machine"]
    return (
        f"{machine.get('cores', '?')} cores, {machine.get('memory_gib', '?')} GiB, GPU: "
        f"{machine.get('gpu', '?')}, Python {machine.get('python', '?')}"
    )


def anchor(path: Path) -> str:
    """The section's anchor: ``result-<stem>`` with ``_`` as ``-``."""
    return "result-" + path.stem.replace("_", "-")


def render(json_dir: Path) -> str:
    """The Markdown between the markers (markers excluded)."""
    documents = load(json_dir)
    lines = [
        "",
        "## Current results",
        "",
        "Generated by `python examples/results_report.py` from the JSON files in "
        "`docs/results/`, each written by the script in its command; nothing here is typed "
        "by hand. To update a section, re-run its command, then `results_report.py`. The "
        "load averages (1, 5, 15 min, as `uptime` prints them) before and after each run "
        "tell how busy the shared machine was.",
        "",
    ]
    lines += [f"- [{doc['title']}](#{anchor(path)})" for path, doc in documents]
    lines.append("")
    for path, doc in documents:
        commit = f"`{doc['commit'] or 'unknown'}`"
        if doc.get("dirty"):
            commit += " with uncommitted changes in the tree"
        lines += [
            f'<a id="{anchor(path)}"></a>',
            "",
            f"### {doc['title']}",
            "",
            "```bash",
            doc["command"],
            "```",
            "",
            f"- **Scale**: {doc['scale']}",
            f"- **Run**: {doc['date']}, commit {commit}; {_machine(doc)}; load "
            f"{doc['load_before']} → {doc['load_after']}",
            f"- **Result file**: [`docs/results/{path.name}`](results/{path.name})",
            "",
        ]
        for tab in doc["tables"]:
            lines += _table(tab)
        for note in doc.get("notes", []):
            lines.append(f"- {note}")
        if doc.get("notes"):
            lines.append("")
        for figure in doc.get("figures", []):
            lines.append(f"![{Path(figure).stem}]({figure})")
        if doc.get("figures"):
            lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    return render_report(
        argv,
        description=__doc__.splitlines()[0],
        json_dir=ROOT / "docs" / "results",
        doc=ROOT / "docs" / "results.md",
        render=render,
        part="results",
        place="where the current results go (below the introduction)",
        command="python examples/results_report.py",
        no_json="run the scripts that write them",
        errors=(ResultFileError,),
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main())
