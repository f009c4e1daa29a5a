"""Where the tests find the real experiment files of the shared, read-only data folder.

The files (CMS PFNano and NanoAOD, written by CMS software; see the folder's README) lie in
``shared/data`` beside the repository (``../shared/data`` from its root), or where
``$HEPNNLR_TEST_DATA`` points. Tests only read them; they never write next to them.

Where the folder is missing a test that needs it is skipped with the reason, except under
CI (``$CI`` set), where the folder is always there and a missing file is an error.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT_FOLDER = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_data_file(name: str) -> Path:
    """Path of the real experiment file ``name`` (e.g. ``"pfnano.root"``)."""
    folder = Path(os.environ.get("HEPNNLR_TEST_DATA", DEFAULT_FOLDER))
    path = folder / name
    if not path.is_file():
        message = (
            f"{path} is not there: the real experiment files are read from ../shared/data "
            "beside the repository, or from $HEPNNLR_TEST_DATA."
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
