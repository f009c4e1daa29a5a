"""Binning and filling of the shower observables plotted in arXiv:2009.03796 (Figs. 3–6).

Reference: Diefenbacher, Eren, Kasieczka, Korol, Nachman, Shih, "DCTRGAN: Improving the
Precision of Generative Models with Reweighting", JINST 15 (2020) P11004, arXiv:2009.03796.

* Fig. 3: number of activated cells ``n_hits``, total energy ``E_total`` (MeV) and
  longitudinal centroid ``centroid`` (layers counted from 1);
* Fig. 4: energy in selected layers, ``E_layer_k`` for k in :data:`SELECTED_LAYERS`;
* Fig. 5: energy differences between layer k and the layer one and four later,
  ``dE_k_{k+1}`` and ``dE_k_{k+4}`` for k = 5, 10, 15, 20 (the panels of arXiv:2009.03796);
* Fig. 6: per-layer energy-weighted second moments along x (and y, which arXiv:2009.03796
  reports to be nearly the same), ``x2_layer_k`` / ``y2_layer_k`` for the selected layers,
  in cells².

Every histogram has one observable axis, preceded by the ``dataset`` category axis when
booked for a dataset (:mod:`hepnnlr.observables.dataset_histos`), and ``Weight`` storage,
and keeps under- and overflow, so ``h.sum(flow=True)`` is the summed weight of the events
that have the observable (an empty shower has no centroid; an empty layer no second
moment). Ranges are chosen for the
default 50 GeV showers of :mod:`hepnnlr.samples.calo` (they hold > 99.8% of them).
Both functions take the plain records of
:func:`hepnnlr.observables.calo.shower_features`, so the processor (generator weights)
and the results layer (DCTR weights) fill the same histograms.
"""

from __future__ import annotations

from collections.abc import Mapping

import awkward as ak
import hist
import numpy as np

from hepnnlr.errors import MissingBranchError, NonFiniteInputError, ShapeMismatchError
from hepnnlr.observables.dataset_histos import book_histogram, fill_histogram

__all__ = [
    "CALO_HISTOGRAMS",
    "LAYER_DIFFERENCES",
    "SELECTED_LAYERS",
    "book_calo_histograms",
    "calo_observable_values",
    "fill_calo_histograms",
]

SELECTED_LAYERS: tuple[int, ...] = (5, 10, 15, 20, 25)
"""Layers (counted from 1) whose energy and second moments are histogrammed."""

LAYER_DIFFERENCES: tuple[tuple[int, int], ...] = tuple(
    (k, k + d) for k in (5, 10, 15, 20) for d in (1, 4)
)
"""(layer, later layer) pairs of Fig. 5 of arXiv:2009.03796."""

_E_LAYER_MAX = {5: 60.0, 10: 120.0, 15: 100.0, 20: 80.0, 25: 60.0}

CALO_HISTOGRAMS: dict[str, tuple[int, float, float, str]] = {
    "n_hits": (60, 450.0, 1050.0, "Number of activated cells"),
    "E_total": (70, 550.0, 900.0, "Total visible energy [MeV]"),
    "centroid": (72, 8.0, 26.0, "Longitudinal centroid [layer]"),
    **{
        f"E_layer_{k}": (60, 0.0, _E_LAYER_MAX[k], f"Energy in layer {k} [MeV]")
        for k in SELECTED_LAYERS
    },
    **{
        f"dE_{a}_{b}": (64, -80.0, 80.0, f"$E_{{{a}}} - E_{{{b}}}$ [MeV]")
        for a, b in LAYER_DIFFERENCES
    },
    **{
        f"{axis}2_layer_{k}": (50, 0.0, 20.0, rf"$\langle {axis}^2 \rangle$, layer {k} [cells$^2$]")
        for axis in "xy"
        for k in SELECTED_LAYERS
    },
}
"""Histogram name → (bins, low edge, high edge, axis label)."""


def book_calo_histograms(dataset: str | None = None) -> dict[str, hist.Hist]:
    """Empty histograms of every name in :data:`CALO_HISTOGRAMS`.

    Args:
        dataset: Dataset of the entries (the processor passes
            ``events.metadata["dataset"]``): the leading ``dataset`` axis, holding it.
            ``None``: one axis only (results-layer distributions, e.g. DCTR-weighted).
    """
    return {
        name: book_histogram(
            hist.axis.Regular(bins, low, high, name=name, label=label), dataset=dataset
        )
        for name, (bins, low, high, label) in CALO_HISTOGRAMS.items()
    }


def calo_observable_values(features: ak.Array, name: str) -> ak.Array:
    """Values of histogram ``name`` for every event (``None`` where undefined)."""
    if name.startswith("dE_"):
        a, b = name[3:].split("_")
        return features[f"E_layer_{a}"] - features[f"E_layer_{b}"]
    return features[name]


def fill_calo_histograms(
    hists: Mapping[str, hist.Hist],
    features: ak.Array,
    weight: np.ndarray,
    *,
    dataset: str | None = None,
) -> None:
    """Fill ``hists`` in place, one entry per event that has the observable.

    Args:
        hists: from :func:`book_calo_histograms` (a subset of names is fine).
        features: records of :func:`hepnnlr.observables.calo.shower_features`.
        weight: one weight per event.
        dataset: dataset of the events: required for histograms booked with a dataset,
            refused for those without.

    Raises:
        ShapeMismatchError: ``weight`` and ``features`` differ in length.
        NonFiniteInputError: a weight is NaN or infinite.
        MissingBranchError: a feature a histogram needs is missing.
    """
    weight = np.asarray(weight, dtype=np.float64)
    if weight.shape != (len(features),):
        raise ShapeMismatchError(
            f"fill_calo_histograms got {len(features)} events but weights of shape "
            f"{weight.shape}; pass one weight per event."
        )
    if not np.isfinite(weight).all():
        raise NonFiniteInputError(
            f"shower weights hold NaN or infinity (first at event "
            f"{int(np.argmax(~np.isfinite(weight)))}); fix the step that made them."
        )
    fields = set(ak.fields(features))
    for name, histogram in hists.items():
        needed = [f"E_layer_{k}" for k in name[3:].split("_")] if name.startswith("dE_") else [name]
        missing = [f for f in needed if f not in fields]
        if missing:
            raise MissingBranchError(
                f"histogram {name!r} needs shower feature {missing[0]!r}, which the records "
                "lack; pass the output of shower_features(..., widths=True)."
            )
        values = calo_observable_values(features, name)
        present = ~ak.to_numpy(ak.is_none(values))
        filled = ak.to_numpy(ak.fill_none(values, 0.0)).astype(np.float64)
        fill_histogram(histogram, filled[present], weight[present], dataset=dataset)
