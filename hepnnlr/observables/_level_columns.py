"""The checks of the processor columns a histogram filler reads (DIS: :mod:`.histos`,
Z → qq: :mod:`.zjets_histos`): a missing field and a non-finite value are refused the same
way, with the histogram's name in the message."""

from __future__ import annotations

import awkward as ak
import numpy as np

from hepnnlr.errors import MissingBranchError, NonFiniteInputError


def level_field(array: ak.Array, field: str, histogram: str, columns: str) -> ak.Array:
    """``array[field]``; a missing field names the ``histogram`` that needs it and the
    processor ``columns`` to pass (e.g. ``"the DIS processor columns (...)"``)."""
    if field not in ak.fields(array):
        raise MissingBranchError(
            f"histogram {histogram!r} needs the field {field!r}, which the columns lack "
            f"(available: {sorted(ak.fields(array))}). Pass the 'gen' or 'reco' record of "
            f"{columns}."
        )
    return array[field]


def check_finite_values(name: str, source: str, values: np.ndarray) -> None:
    """Refuse NaN or infinity among the values of observable ``name`` (read from the
    ``source`` field): hepnnlr does not histogram them."""
    bad = ~np.isfinite(values)
    if bad.any():
        raise NonFiniteInputError(
            f"observable {name!r} ({source}) has {int(bad.sum())} non-finite value(s), e.g. "
            f"{values[bad][:3].tolist()}; fix the columns that produced them (they come from "
            "the event file or the observables), hepnnlr does not histogram NaN or infinity."
        )
