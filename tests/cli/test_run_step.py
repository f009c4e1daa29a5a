"""The run step every verb that writes an output folder shares (``hepnnlr.cli.main.run_step``)
and ``-q``/``-v`` on every parser of the command (``hepnnlr.cli.options.add_verb``).

No job trains: the run functions are stand-ins, the output folder is real. Well under a
second.
"""

from __future__ import annotations

import argparse
import json
import shlex
from types import SimpleNamespace

import pytest

from hepnnlr.cli.main import build_parser, main, run_step
from hepnnlr.outputs import LOCK_NAME, SUMMARY_NAME

# every command (the words before its arguments) and arguments enough to parse
COMMANDS = [
    (["fit", "dctr"], ["job.yaml"]),
    (["fit", "srgn"], ["job.yaml"]),
    (["infer"], ["job.yaml"]),
    (["unfold"], []),
    (["demo"], []),
    (["reweight"], ["model", "job.yaml"]),
    (["generate", "dis"], ["--setup", "sim", "--events", "1", "-o", "x.root"]),
]


@pytest.mark.parametrize(("words", "rest"), COMMANDS, ids=lambda c: " ".join(c))
@pytest.mark.parametrize(("flag", "level"), [("-q", "quiet"), ("--verbose", "verbose")])
def test_verbosity_goes_before_after_or_between_the_words(words, rest, flag, level):
    parse = build_parser().parse_args
    for argv in (
        [flag, *words, *rest],  # before the command
        [words[0], flag, *words[1:], *rest],  # after the verb (fit -q dctr ...)
        [*words, *rest, flag],  # at the end
    ):
        assert parse(argv).verbosity == level, argv
    assert not hasattr(parse([*words, *rest]), "verbosity")  # none given: INFO


def _args(**options) -> argparse.Namespace:
    return argparse.Namespace(overwrite=False, **options)


def test_the_folder_is_finished_after_the_run_and_before_the_report(tmp_path):
    job = SimpleNamespace(output_dir=tmp_path / "out")
    seen = []

    def run(given):
        assert given is job
        (job.output_dir / "weights.txt").write_text("w")
        assert not (job.output_dir / SUMMARY_NAME).exists()  # not finished yet
        return "outputs"

    def report(outputs):
        summary = json.loads((job.output_dir / SUMMARY_NAME).read_text())
        seen.append((outputs, list(summary["files"])))

    assert run_step(_args(), job, run, report) == 0
    assert seen == [("outputs", ["weights.txt"])]
    assert not (job.output_dir / LOCK_NAME).exists()


def test_a_failed_run_leaves_the_folder_unfinished_and_prints_nothing(tmp_path):
    def run(job):
        raise KeyboardInterrupt

    folder = tmp_path / "elsewhere"  # the demo's: its folder, not job.output_dir
    with pytest.raises(KeyboardInterrupt):
        run_step(_args(resume=False), None, run, pytest.fail, folder=folder)
    assert folder.is_dir() and not (folder / SUMMARY_NAME).exists()
    assert not (folder / LOCK_NAME).exists()  # released on the way out


def test_ctrl_c_in_the_demo_prints_how_to_resume(tmp_path, monkeypatch, capsys):
    # fit, infer and unfold: tests/workflows/test_fit_checkpoint.py, test_fault_injection.py
    import hepnnlr.cli.demo as demo

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "run_demo", interrupted)
    args = ["demo", "-o", str(tmp_path / "demo out"), "--events", "10"]
    assert main(args) == 130
    resume = shlex.join(["hepnnlr", *args, "--resume"])
    assert capsys.readouterr().err.strip() == f"hepnnlr: interrupted; resume with: {resume}"
