"""The ``hepnnlr`` command's logging: one handler on the ``hepnnlr`` logger, on stderr.

The library reports through ``logging.getLogger("hepnnlr")`` and its module loggers and
configures no handler (:mod:`hepnnlr` adds only a ``NullHandler``); the command is the
application, so it adds the one handler, for the run of one command
(:func:`command_logging`). ``-q/--quiet`` shows warnings and errors only (and no progress
bars), the default adds the progress notes (INFO), ``-v/--verbose`` the details (DEBUG)
and the warnings of TensorFlow's Python loggers, which are otherwise left at errors.

A command's result (the summary tables, where its outputs are) is printed on stdout, not
logged, so ``-q`` still shows it and ``hepnnlr ... > result.txt`` keeps only it. FastJet
prints its banner on stdout at its first clustering in a process; ``-q`` asks FastJet not
to, in every process of the run (:mod:`hepnnlr.observables._fastjet`); the other levels
leave FastJet's default alone.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["LEVELS", "command_logging"]

LEVELS = {"quiet": logging.WARNING, "default": logging.INFO, "verbose": logging.DEBUG}
"""The level of the ``hepnnlr`` logger for ``-q``, no option, ``-v``."""

# Python loggers of TensorFlow and Keras' absl (retracing notes, saving formats): errors
# only, unless -v. (Their C++ start-up lines are hepnnlr.tensors' concern.)
_TENSORFLOW_LOGGERS = ("tensorflow", "absl")
# hepnnlr.observables._fastjet.QUIET_VARIABLE (imported only under -q: it imports FastJet)
_FASTJET_VARIABLE = "HEPNNLR_QUIET_FASTJET"


class _Formatter(logging.Formatter):
    """``[hepnnlr] note`` for progress notes, ``hepnnlr: warning: ...`` (the prefix of the
    command's errors) for warnings and errors; details (-v) name their module."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{self.formatException(record.exc_info)}"
        if record.levelno >= logging.WARNING:
            return f"hepnnlr: {record.levelname.lower()}: {message}"
        if record.levelno <= logging.DEBUG:
            return f"[hepnnlr] {record.name}: {message}"
        return f"[hepnnlr] {message}"


@contextmanager
def command_logging(level: int, stream: TextIO | None = None) -> Iterator[logging.Logger]:
    """One handler on the ``hepnnlr`` logger at ``level`` for the block (on ``stream``,
    default the current ``sys.stderr``); the logger's level, handlers and TensorFlow's
    loggers' levels are restored after it, so a command run in-process (tests, a notebook)
    leaves no handler behind."""
    logger = logging.getLogger("hepnnlr")
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(_Formatter())
    previous = logger.level
    others = {name: logging.getLogger(name).level for name in _TENSORFLOW_LOGGERS}
    logger.addHandler(handler)
    logger.setLevel(level)
    banner = os.environ.get(_FASTJET_VARIABLE)
    if level >= logging.WARNING:
        from hepnnlr.observables._fastjet import QUIET_VARIABLE, quiet_banner

        os.environ[QUIET_VARIABLE] = "1"  # for this run's worker processes too
        quiet_banner()
    for name in _TENSORFLOW_LOGGERS:
        logging.getLogger(name).setLevel(
            logging.WARNING if level <= logging.DEBUG else logging.ERROR
        )
    try:
        yield logger
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        for name, old in others.items():
            logging.getLogger(name).setLevel(old)
        if banner is None:
            os.environ.pop(_FASTJET_VARIABLE, None)
        else:
            os.environ[_FASTJET_VARIABLE] = banner
