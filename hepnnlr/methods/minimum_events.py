"""The fewest events a method is run on: checked before any training, naming the counts.

A classifier trained on a handful of events gives weights that look like any others;
the failure shows only later (a χ² with too few entries, a flat loss). Each method states
its minimum per class and level here, and a workflow calls :func:`check_minimum_events`
with its counts before it trains.

* ``omnifold``: 50 passing events per class and level: the data and the simulation at
  detector level (step 1), the simulation at particle level (step 2). With the default
  validation fraction of 0.2 that leaves 10 events of each class for the early-stopping
  loss, and 10 entries is the least the χ² comparisons of ``hepnnlr unfold`` use per bin
  (``min_entries=10``).
* ``dctr``: 50 events per class of the reweighter's training (the nominal training half
  and the varied sample), the same 10-per-class validation split as OmniFold's.
* ``srgn``: 50 events per class of the classifier ``g`` that SRGN trains at detector level
  (the target's and the nominal fit half's events that pass there), for the same reason;
  with fewer, ``g``'s held-out AUC is a handful of events.
"""

from __future__ import annotations

from collections.abc import Mapping

from hepnnlr.errors import EmptySelectionError

__all__ = ["MINIMUM_EVENTS", "check_minimum_events"]

MINIMUM_EVENTS: Mapping[str, int] = {"omnifold": 50, "dctr": 50, "srgn": 50}
"""Method → the fewest passing events per class and level it is trained on."""

_NAMES = {"omnifold": "OmniFold", "dctr": "The DCTR reweighter", "srgn": "SRGN's classifier"}
_VALIDATION = "10 of each class in the 20 % validation split that early stopping reads"
_WHY = {"omnifold": _VALIDATION, "dctr": _VALIDATION, "srgn": _VALIDATION}


def check_minimum_events(method: str, counts: Mapping[str, tuple[int, int]], *, fix: str) -> None:
    """Refuse to train ``method`` when a class has fewer events than its minimum.

    Args:
        method: A key of :data:`MINIMUM_EVENTS`.
        counts: ``{class description: (passing events, events)}``, e.g.
            ``{"data at detector level (pass_reco) of data.root": (2, 8)}``.
        fix: How to get more events, for the message.

    Raises:
        EmptySelectionError: naming every class below the minimum with its counts.
    """
    minimum = MINIMUM_EVENTS[method]
    short = [
        f"{what}: {passing} passing of {total}"
        for what, (passing, total) in counts.items()
        if passing < minimum
    ]
    if short:
        raise EmptySelectionError(
            f"{_NAMES[method]} needs at least {minimum} passing events per class and level "
            f"({_WHY[method]}); too few for {'; '.join(short)}. {fix}"
        )
