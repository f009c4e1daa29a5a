"""What every job's ``uncertainty`` section shares (unfold, infer): its checks and the
marking of the components a job left out in ``summary.json["error_model"]``.

``repeats`` (trainings with other seeds: the method uncertainty) and ``bootstrap``
(replicas of the data: the statistical uncertainty) mean the same in every job
(docs/fits.md, docs/omnifold.md, docs/infer.md), so they are validated and marked once, here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hepnnlr.errors import ConfigError

__all__ = ["check_uncertainty", "count", "error_model"]


def count(value: Any, where: str) -> int:
    """``value`` if it is an integer >= 0 (not a bool), else a ConfigError naming ``where``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where}={value!r} must be an integer >= 0.")
    return value


def check_uncertainty(repeats: Any, bootstrap: Any, seed: Any, *, training: str) -> None:
    """Validate an ``uncertainty`` section: ``repeats >= 1``, ``bootstrap`` 0 or >= 2, and
    ``seed`` ``None`` or an integer >= 0; ``training`` names one repeat in the message
    (``"unfolding"``, ``"training"``)."""
    count(repeats, "uncertainty.repeats")
    count(bootstrap, "uncertainty.bootstrap")
    if repeats < 1:
        raise ConfigError(
            f"uncertainty.repeats=0: need at least 1 {training} (2 or more to quote the "
            "method uncertainty)."
        )
    if bootstrap == 1:
        raise ConfigError(
            "uncertainty.bootstrap=1: a spread needs at least 2 replicas; give 0 (no "
            "statistical uncertainty) or 2 or more."
        )
    if seed is not None:
        count(seed, "uncertainty.seed")


def error_model(described: Mapping[str, str], repeats: int, bootstrap: int) -> dict[str, str]:
    """A job's ``described`` error model (what each component means) with the components
    this job left out (``bootstrap`` 0: no stat; ``repeats`` 1: no method) marked so."""
    model = dict(described)
    if not bootstrap:
        model["stat"] = "not computed (uncertainty.bootstrap: 0; --bootstrap B)"
    if repeats < 2:
        model["method"] = "not computed (uncertainty.repeats: 1; --repeats M)"
    return model
