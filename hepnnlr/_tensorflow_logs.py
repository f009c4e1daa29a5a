"""TensorFlow's start-up lines, silenced before TensorFlow is imported, filtered where not.

Importing TensorFlow 2.21 on a machine without a GPU writes, from C++, straight to the
process's standard error::

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:1796615667.734487    7692 cudart_stub.cc:31] Could not find cuda drivers ...

twice (two libraries, each its own absl), and at the first look at the devices::

    E0000 00:00:1796615672.042811    7692 cuda_platform.cc:52] failed call to cuInit: ...

``TF_CPP_MIN_LOG_LEVEL`` (hepnnlr sets ``2`` unless the user has set it) silences
TensorFlow's own later INFO and WARNING lines, but not these: absl writes them before
TensorFlow reads the variable, and no environment variable reaches them. So the one import
of ``tensorflow`` (whoever asks for it first: a hepnnlr module, ``keras``, the user) runs
with the process's standard error (file descriptor 2) sent to a temporary file, the
devices are listed in that same window (the ``cuInit`` line), and what was written is
copied back to standard error without the lines above: the absl banner, the INFO/WARNING
lines that ``TF_CPP_MIN_LOG_LEVEL`` means to hide, and the ``failed call to cuInit`` of a
machine without a GPU driver. Every other line (an error, a Python warning) comes back in
its order.

Set ``TF_CPP_MIN_LOG_LEVEL`` yourself (``0`` shows everything) and hepnnlr leaves
TensorFlow's output alone: no default, no filter. :func:`install` does nothing once
TensorFlow is imported.

This module sits below every layer and imports nothing from hepnnlr.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["install", "quiet_lines"]

_LOG = logging.getLogger("hepnnlr.tensorflow")
_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
_DEFAULT = "2"
_BANNER = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
# absl's line prefix: severity letter, MMDD, time, thread id, file:line]
_ABSL_LINE = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] ")
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}
_NO_DRIVER = "failed call to cuInit"
# cpu_feature_guard's INFO line continues on a second line without a prefix
_CONTINUATION = "To enable the following instructions:"


def quiet_lines(text: str, min_level: int = int(_DEFAULT)) -> str:
    """``text`` without TensorFlow's start-up lines below ``min_level`` (0 INFO, 1 WARNING,
    2 ERROR), the absl banner, and a missing GPU driver's ``cuInit`` error; every other
    line kept, in order. The lines left out go to the ``hepnnlr.tensorflow`` logger at
    DEBUG (``hepnnlr -v`` shows them)."""
    kept: list[str] = []
    dropping = False  # the last absl line was left out (its continuation lines go too)
    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\n")
        match = _ABSL_LINE.match(bare)
        if match is not None:
            dropping = _SEVERITY[match.group(1)] < min_level or _NO_DRIVER in bare
        elif bare != _BANNER and not (dropping and bare.startswith(_CONTINUATION)):
            dropping = False
        if bare == _BANNER or dropping:
            _LOG.debug("TensorFlow start-up: %s", bare)
        else:
            kept.append(line)
    return "".join(kept)


@contextmanager
def _filtered_stderr(min_level: int) -> Iterator[None]:
    """File descriptor 2 into a temporary file for the block, then copied back filtered."""
    try:
        saved = os.dup(2)
    except OSError:  # no standard error to filter
        yield
        return
    with tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = quiet_lines(capture.read().decode(errors="replace"), min_level)
            if text:
                os.write(2, text.encode())


class _QuietLoader(importlib.abc.Loader):
    """The loader of ``tensorflow``, run inside :func:`_filtered_stderr`."""

    def __init__(self, loader: Any, finder: _QuietFinder) -> None:
        self._loader, self._finder = loader, finder

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        # once: the finder goes, and the module keeps TensorFlow's own loader
        # (importlib.resources and the like ask it)
        if self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        module.__loader__ = module.__spec__.loader = self._loader
        with _filtered_stderr(self._finder.min_level):
            self._loader.exec_module(module)
            # the devices' first look (a CPU machine's cuInit error), inside the window
            module.config.list_physical_devices()


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` through the other finders and wraps its loader, until the
    import happens (a mere ``importlib.util.find_spec`` probe leaves it in place)."""

    def __init__(self, min_level: int) -> None:
        self.min_level = min_level
        self._busy = False

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "tensorflow" or self._busy or name in sys.modules:
            return None
        self._busy = True  # the look-up below asks every finder, this one included
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self._busy = False
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader, self)
        return spec


def install() -> None:
    """Set ``TF_CPP_MIN_LOG_LEVEL=2`` and filter the next import of TensorFlow (see the
    module's docstring), unless the user set the variable or TensorFlow is imported."""
    if _VARIABLE in os.environ or "tensorflow" in sys.modules:
        return
    os.environ[_VARIABLE] = _DEFAULT
    if not any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder(int(_DEFAULT)))
