"""-q/-v of the command line and its one log handler (hepnnlr/cli/logs.py), on a cheap verb:
``hepnnlr generate calo`` of a few showers (no Pythia, one block, well under a second)."""

from __future__ import annotations

import logging
import os
import subprocess

import pytest

from hepnnlr.cli.main import main

_WROTE = "wrote 20 calo events"


def _generate(tmp_path, capsys, *options: str):
    argv = ["generate", "calo", "--events", "20", "-o", str(tmp_path / "c.root"), "--overwrite"]
    code = main([*options, *argv])
    out = capsys.readouterr()
    assert code == 0
    return out


def test_quiet_prints_the_result_only_and_default_and_verbose_add_to_stderr(tmp_path, capsys):
    quiet = _generate(tmp_path, capsys, "-q")
    assert quiet.out.splitlines() == [quiet.out.strip()] and _WROTE in quiet.out
    assert quiet.err == ""  # no bar, no note
    default = _generate(tmp_path, capsys)
    assert _WROTE in default.out and "1/1 blocks" in default.err  # the generation bar
    assert "hepnnlr.samples.blocks" not in default.err  # no debug lines
    verbose = _generate(tmp_path, capsys, "-v")
    assert "[hepnnlr] hepnnlr.samples.blocks: calo showers: 1 blocks" in verbose.err
    # the same option after the verb
    after = main(["generate", "calo", "--events", "20", "-o", str(tmp_path / "d.root"), "-q"])
    assert after == 0 and capsys.readouterr().err == ""


def test_errors_are_shown_under_quiet_and_no_handler_is_left(tmp_path, capsys):
    logger = logging.getLogger("hepnnlr")
    before = list(logger.handlers)
    code = main(["-q", "generate", "calo", "--events", "2", "-o", str(tmp_path / "c.root"),
                 "--param", "energy=1"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("hepnnlr: error: --param energy: ShowerConfig has no field")
    assert logger.handlers == before  # the command's handler went with the command
    assert any(isinstance(h, logging.NullHandler) for h in before)


def test_quiet_and_verbose_exclude_each_other(capsys):
    with pytest.raises(SystemExit):
        main(["-q", "-v", "generate", "calo", "--events", "2", "-o", "x.root"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_quiet_silences_fastjet_in_the_runs_processes_only(tmp_path, capsys, monkeypatch):
    from hepnnlr.cli import logs
    from hepnnlr.observables import _fastjet

    assert logs._FASTJET_VARIABLE == _fastjet.QUIET_VARIABLE  # the workers read this one
    monkeypatch.delenv(_fastjet.QUIET_VARIABLE, raising=False)
    seen = []
    monkeypatch.setattr(_fastjet, "quiet_banner", lambda: seen.append(dict(os.environ)))
    _generate(tmp_path, capsys, "-q")
    assert seen and seen[0][_fastjet.QUIET_VARIABLE] == "1"  # set while the command ran
    assert _fastjet.QUIET_VARIABLE not in os.environ  # and only then
    _generate(tmp_path, capsys)
    assert len(seen) == 1  # the default level leaves FastJet's banner alone


@pytest.mark.slow  # two small demos in fresh processes: minutes
def test_quiet_demo_prints_only_its_summary_and_the_default_one_kind_of_bar(tmp_path):
    """Issue 18: ``hepnnlr -q demo`` prints only the final summary (and errors);
    ``hepnnlr demo`` shows one kind of progress bar (rich's: generation, coffea's
    processing, training), all on stderr."""
    small = ["--events", "2000", "--iterations", "1", "--epochs", "2", "--model", "mlp"]

    def demo(*options: str) -> subprocess.CompletedProcess:
        out = tmp_path / ("quiet" if options else "default")
        command = ["hepnnlr", *options, "demo", "-o", str(out), *small]
        env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
        return subprocess.run(command, capture_output=True, text=True, env=env, check=True)

    quiet = demo("-q")
    assert quiet.stderr == ""  # no note, bar, TensorFlow line or warning
    assert quiet.stdout.lstrip().startswith("[hepnnlr] done in")  # the summary, nothing before
    assert "FastJet" not in quiet.stdout and "chi2 of normalized shapes" in quiet.stdout
    shown = demo()
    assert "FastJet" not in shown.stderr  # FastJet's banner: on stdout, as FastJet prints it
    for bar in ("Pythia DIS (2 blocks)", "Processing 100%", "OmniFold step 1, iteration 1"):
        assert bar in shown.stderr  # generation, processing and training: rich bars
    assert "Epoch 1/2" not in shown.stderr + shown.stdout  # no Keras progress lines
    assert "it/s]" not in shown.stderr  # no tqdm bar
