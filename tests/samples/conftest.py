"""Fixtures of the samples tests: generator-level events made once per session."""

from __future__ import annotations

import awkward as ak
import pytest

from hepnnlr.samples import generate_dis


@pytest.fixture(scope="session")
def sim_gen() -> ak.Array:
    """2,000 generator-level "sim" events (seed 7), in two blocks."""
    return generate_dis(2000, seed=7, setup="sim")
