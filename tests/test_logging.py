"""One logging system (issue 18, item 3): the library reports through the "hepnnlr" logger,
configures no handler, draws one kind of progress bar, and quiets TensorFlow's start-up."""

from __future__ import annotations

import ast
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import hepnnlr
from hepnnlr._tensorflow_logs import quiet_lines
from hepnnlr.progress import progress_bar

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = sorted(
    p
    for p in [*(ROOT / "hepnnlr").rglob("*.py"), *(ROOT / "processors").rglob("*.py")]
    if "cli" not in p.relative_to(ROOT).parts  # the command prints its results
)


def test_library_code_does_not_print() -> None:
    printing = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in LIBRARY
        if "print(" in (text := path.read_text())  # parse only the candidates: cheaper
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        and node.func.id == "print"
    ]  # fmt: skip
    assert not printing, f"{printing} print; log through logging.getLogger(__name__)"


def test_the_package_logger_has_only_a_null_handler() -> None:
    handlers = logging.getLogger(hepnnlr.__name__).handlers
    assert [type(h) for h in handlers] == [logging.NullHandler]


def test_progress_bar_counts_its_steps_and_shows_its_note(capsys) -> None:
    with progress_bar(3, "blocks of a test", "block") as bar:
        for k in range(3):
            bar.note(f"  step {k}")
            bar.advance()
    captured = capsys.readouterr()
    assert captured.out == ""  # bars are not a result: stderr
    assert "blocks of a test" in captured.err and "3/3 blocks" in captured.err
    assert "step 2" in captured.err


# What TensorFlow 2.21 writes on import on a machine without a GPU (times shortened)
_START_UP = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796615667.734487    7692 cudart_stub.cc:31] Could not find cuda drivers on your \
machine, GPU will not be used.
I0000 00:00:1796615667.787088    7692 cpu_feature_guard.cc:227] This TensorFlow binary is \
optimized to use available CPU instructions in performance-critical operations.
To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow.
a Python warning
E0000 00:00:1796615672.042811    7692 cuda_platform.cc:52] failed call to cuInit: INTERNAL: \
CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)
W0000 00:00:1796615672.042811    7692 some.cc:1] a warning
E1207 04:00:12.042811    7692 other.cc:52] a real error
F1207 04:00:12.042811    7692 other.cc:53] a fatal one
"""


def test_quiet_lines_drops_the_start_up_noise_and_keeps_errors() -> None:
    assert quiet_lines(_START_UP) == (
        "a Python warning\n"
        "E1207 04:00:12.042811    7692 other.cc:52] a real error\n"
        "F1207 04:00:12.042811    7692 other.cc:53] a fatal one\n"
    )
    # below min_level only: at 0 (INFO) the INFO and WARNING lines stay
    kept = quiet_lines(_START_UP, min_level=0)
    assert "cudart_stub" in kept and "a warning" in kept and "AVX2" in kept
    assert "absl::InitializeLog" not in kept and "cuInit" not in kept


@pytest.mark.slow  # a fresh TensorFlow import: ~5 s of CPU
def test_importing_tensorflow_through_hepnnlr_writes_nothing() -> None:
    code = "import hepnnlr.training.setup, keras, tensorflow as tf; tf.zeros(1)"
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}

    def run(env: dict[str, str]) -> subprocess.CompletedProcess:
        command = [sys.executable, "-c", code]
        return subprocess.run(command, capture_output=True, text=True, env=env, check=True)

    quiet = run(env)
    assert quiet.stderr == "" and quiet.stdout == ""
    # a user's own setting: hepnnlr neither sets nor filters (TensorFlow's lines come back)
    own = run({**env, "TF_CPP_MIN_LOG_LEVEL": "0"})
    assert "absl::InitializeLog" in own.stderr
