"""Histograms of the four top-mass observables (Fig. 11 of arXiv:2010.03569).

Reference: Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural
Networks in the Presence of Detector Effects", arXiv:2010.03569.

One ``hist.Hist`` per observable and level, one regular axis from 0 to 500 GeV in 10 GeV
bins (overflow kept), preceded by the ``dataset`` category axis when booked for a dataset
(:mod:`hepnnlr.observables.dataset_histos`), ``Weight`` storage (sums of weights and of
squared weights).
Events without a real neutrino solution have m(b μ ν) = 0 (footnote 5 of arXiv:2010.03569) and
fill the first bin, as in arXiv:2010.03569.
"""

from __future__ import annotations

import awkward as ak
import hist
import numpy as np

from hepnnlr.errors import MissingBranchError, ShapeMismatchError
from hepnnlr.observables.dataset_histos import book_histogram, fill_present
from hepnnlr.observables.top import TOP_MASS_FIELDS

__all__ = ["TOP_MASS_LABELS", "book_top_histograms", "fill_top_histograms"]

TOP_MASS_LABELS: dict[str, str] = {
    "m_b1munu": r"$m_{b_1\mu\nu}$ [GeV]",
    "m_b2munu": r"$m_{b_2\mu\nu}$ [GeV]",
    "m_b1jj": r"$m_{b_1 j_1 j_2}$ [GeV]",
    "m_b2jj": r"$m_{b_2 j_1 j_2}$ [GeV]",
}
"""Axis labels of the observables of :data:`hepnnlr.observables.top.TOP_MASS_FIELDS`."""

_BINS, _START, _STOP = 50, 0.0, 500.0


def book_top_histograms(level: str, dataset: str | None = None) -> dict[str, hist.Hist]:
    """Empty histograms of the four top-mass observables of one level.

    Args:
        level: ``"gen"`` or ``"reco"`` (goes into the histogram label).
        dataset: Dataset of the entries (the processor passes
            ``events.metadata["dataset"]``): the leading ``dataset`` axis, holding it.
            ``None``: one axis only.

    Returns:
        ``{name: Hist}`` for the names of ``TOP_MASS_FIELDS``.
    """
    return {
        name: book_histogram(
            hist.axis.Regular(_BINS, _START, _STOP, name=name, label=TOP_MASS_LABELS[name]),
            dataset=dataset,
            label=level,
        )
        for name in TOP_MASS_FIELDS
    }


def fill_top_histograms(
    hists: dict[str, hist.Hist],
    masses: ak.Array,
    weight: np.ndarray,
    *,
    dataset: str | None = None,
) -> dict[str, hist.Hist]:
    """Fill the histograms with the events that pass the selection (mass not None).

    Args:
        hists: output of :func:`book_top_histograms`.
        masses: output of :func:`hepnnlr.observables.top.reconstruct_top`.
        weight: event weights, one per row of ``masses``.
        dataset: Dataset of the events: required for histograms booked with a dataset,
            refused for those without.

    Returns:
        ``hists``, filled in place.
    """
    weight = np.asarray(weight, dtype=np.float64)
    if len(masses) != weight.shape[0]:
        raise ShapeMismatchError(
            f"fill_top_histograms got {len(masses)} events but {weight.shape[0]} weights; "
            "pass one weight per event."
        )
    for name, h in hists.items():
        if name not in ak.fields(masses):
            raise MissingBranchError(
                f"the masses lack the observable {name!r}; they have {ak.fields(masses)}. "
                "Pass the output of reconstruct_top."
            )
        fill_present(h, masses[name], weight, dataset=dataset)
    return hists
