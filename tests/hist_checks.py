"""Histogram comparisons shared by test modules (imported by name: a module called
``conftest`` is ambiguous when several test folders have one)."""

from __future__ import annotations


def assert_same_hists(got, expected) -> None:
    """Two (nested) dicts of histograms with the same names, axes, values and variances
    (flow bins included), bit for bit."""
    import hist
    import numpy as np

    if isinstance(expected, hist.Hist):
        assert got.axes == expected.axes
        np.testing.assert_array_equal(got.values(flow=True), expected.values(flow=True))
        np.testing.assert_array_equal(got.variances(flow=True), expected.variances(flow=True))
        return
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert_same_hists(got[key], value)
