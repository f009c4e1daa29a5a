"""The calo description: registered, its fit inputs and histograms those of the DCTRGAN
features, and its shower function (also CaloProcessor's) on tiny in-memory showers.

That it gives CaloProcessor's histograms, cut flow and columns bit for bit on a shower
file is checked next to that processor's tests, on their file
(``tests/processors/test_calo_processor.py``).
"""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepnnlr.analysis import get, names
from hepnnlr.analysis.builtin.calo import shower_columns
from hepnnlr.errors import NonFiniteInputError
from hepnnlr.observables.calo import DCTR_FEATURES, WIDTH_FEATURES, shower_features
from hepnnlr.observables.calo_histos import book_calo_histograms


def _showers(energies: list[list[float]]) -> ak.Array:
    """One event per list of cell energies, the cells on layers 0, 1, ... at (2, 3)."""
    return ak.Array(
        [
            {
                "weight": 1.0,
                "E_true": 50.0,
                "Hit": [{"layer": k, "ix": 2, "iy": 3, "E": e} for k, e in enumerate(cells)],
            }
            for cells in energies
        ]
    )


def test_calo_is_registered_with_the_dctr_inputs_and_the_calo_histograms() -> None:
    assert "calo" in names()
    description = get("calo")
    assert list(description.levels) == ["reco"]  # detector-level showers alone
    level = description.levels["reco"]
    assert list(level.features) == ["E_true", *DCTR_FEATURES, *WIDTH_FEATURES]
    # a fit reads the 33 inputs of the high-level network of arXiv:2009.03796
    assert level.inputs == DCTR_FEATURES
    # the histograms of Figs. 3-6: the binning and labels of calo_histos, name by name
    booked = book_calo_histograms()
    assert list(level.observables) == list(booked)
    for name, observable in level.observables.items():
        assert observable.bins.axis(name, observable.label) == booked[name].axes[0], name


def test_shower_columns_are_the_shower_features_and_refuse_nan() -> None:
    events = _showers([[1.0, 2.0], [], [0.5]])
    features = shower_columns(events)
    assert ak.array_equal(features, shower_features(events.Hit))
    assert features.n_hits.tolist() == [2, 0, 1]
    # (1 * 1 + 2 * 2) / 3, layers counted from 1; none for the empty shower
    assert features.centroid.tolist() == [pytest.approx(5 / 3), None, 1.0]
    with pytest.raises(NonFiniteInputError, match=r"Hit_E of \? .*first in entry 1"):
        shower_columns(_showers([[1.0], [2.0, np.nan]]))
