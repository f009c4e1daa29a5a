"""One place for the options verbs share (``hepnnlr.cli.options``): the same option reads
the same on every verb's ``--help``, and sets the same key of the verb's job.

Only parsers are built (no job runs): a fraction of a second.
"""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from hepnnlr.cli.main import build_parser
from hepnnlr.cli.options import RUN_KEYS, overrides

# verb -> its argv before --help / before the positional arguments
VERBS = {
    "fit dctr": ["fit", "dctr"],
    "fit srgn": ["fit", "srgn"],
    "infer": ["infer"],
    "unfold": ["unfold"],
    "demo": ["demo"],
    "reweight": ["reweight"],
}
# the options of add_run_options and -o, on both verbs that run a job file into a
# checkpointed folder; their help differs only where the text says so (--progress)
RUN_OPTIONS = ("-o", "--repeats", "--bootstrap", "--plots", "--style", "--label")
RUN_OPTIONS += ("--overwrite", "--resume", "-q")


def _options(argv: list[str], monkeypatch) -> dict[str, str]:
    """Option string -> its help block in ``--help`` (whitespace collapsed)."""
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps to it: the same width everywhere
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        build_parser().parse_args([*argv, "--help"])
    blocks, current = {}, None
    for line in out.getvalue().splitlines():
        match = re.match(r"  (-{1,2}[\w-]+)", line)
        if match:
            current = match.group(1)
            blocks[current] = line.strip()
        elif current and line.startswith("      "):
            blocks[current] += " " + line.strip()
        else:
            current = None
    # the default shown is each job's own (fit's -o: hepnnlr-fit): compare the text before it
    return {k: re.sub(r" \(default: .*\)$", "", " ".join(v.split())) for k, v in blocks.items()}


def test_fit_and_infer_share_their_run_options_word_for_word(monkeypatch):
    helps = {verb: _options(VERBS[verb], monkeypatch) for verb in ("fit dctr", "fit srgn", "infer")}
    for option in RUN_OPTIONS:
        texts = {verb: options.get(option) for verb, options in helps.items()}
        assert None not in texts.values() and len(set(texts.values())) == 1, texts
    # --progress is on both, each saying what it shows
    assert all("--progress" in options for options in helps.values())


def test_every_verb_that_writes_a_folder_spells_overwrite_and_output_alike(monkeypatch):
    helps = {verb: _options(argv, monkeypatch) for verb, argv in VERBS.items()}
    overwrite = {verb: options["--overwrite"] for verb, options in helps.items()}
    assert len(set(overwrite.values())) == 1, overwrite
    # -o's help names what the folder holds; its spelling (-o OUTPUT, --output) is one
    assert all(
        options["-o"].startswith("-o OUTPUT, --output OUTPUT output folder")
        for options in helps.values()
    )
    analysis = [options["--analysis"] for options in helps.values() if "--analysis" in options]
    assert len(analysis) == 4 and all(a.startswith("--analysis NAME_OR_PATH") for a in analysis)


@pytest.mark.parametrize(
    "argv",
    [
        ["fit", "dctr", "job.yaml"],
        ["infer", "job.yaml"],
    ],
)
def test_the_run_options_given_set_the_same_keys_on_fit_and_infer(argv):
    args = build_parser().parse_args(
        [
            *argv,
            "-o",
            "out",
            "--repeats",
            "3",
            "--bootstrap",
            "4",
            "--no-progress",
            "--style",
            "atlas",
        ]
    )
    assert overrides(args, RUN_KEYS) == {
        "output_dir": "out",
        "uncertainty": {"repeats": 3, "bootstrap": 4},
        "progress": False,
        "plots": {"style": "atlas"},
    }


def test_reweight_output_reaches_the_jobs_output_dir():
    from hepnnlr.cli.reweight import _KEYS

    args = build_parser().parse_args(["reweight", "model", "job.yaml", "-o", "elsewhere"])
    assert overrides(args, _KEYS) == {"output_dir": "elsewhere"}
    args = build_parser().parse_args(["reweight", "model", "job.yaml"])
    assert overrides(args, _KEYS) == {}  # left out: the job file's output_dir stays
