"""Binning and filling of the DIS observables of Sec. 3 of arXiv:2503.20753.

Reference: Torales Acosta, Wamorkar, Mikuni, Nachman, "Stabilizing Neural Likelihood Ratio
Estimation", arXiv:2503.20753.

Every histogram has ``Weight`` storage (sum of weights and sum of squared weights) and
one observable axis, preceded by the ``dataset`` category axis when booked for a dataset
(:mod:`hepnnlr.observables.dataset_histos`). The same two functions serve the coffea
processor (filling with generator weights, chunk by chunk, one dataset row per fileset
key) and the results layer (filling unfolded distributions with new per-event weights,
without a dataset axis), so they take plain awkward records, not NanoEvents:

* :func:`book_dis_histograms` creates empty histograms for one level, with the dataset
  axis when ``dataset=`` names one;
* :func:`fill_dis_histograms` fills them from the ``gen`` or ``reco`` record of the
  processor's columns (see ``docs/architecture.md``) and one weight per event, in the
  row of ``dataset=`` (required exactly when the histograms have the dataset axis).
  Particle and jet histograms get one entry per object, each carrying its event's weight.

Histogram names: event level ``Q2``, ``y``, ``eta_e``; particle level ``particle_deta``
(η − η_e), ``particle_log_pt`` (log10 pT), ``particle_log_pt_over_Q`` (log10 pT/Q); jet
level ``jet_pt``, ``jet_eta``, ``jet_tau21``, ``jet_dphi`` (π − |Δφ(jet, e)|).

Under- and overflow bins are kept, so the total sum of weights of an event-level
histogram (``h.sum(flow=True)``) equals the summed weights of the events that have the
observable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import awkward as ak
import hist
import numpy as np

from hepnnlr.errors import (
    ConfigError,
)
from hepnnlr.observables._level_columns import check_finite_values, level_field
from hepnnlr.observables.dataset_histos import book_histogram, checked_weights, fill_histogram

__all__ = [
    "DIS_OBSERVABLES",
    "LEVELS",
    "Observable",
    "book_dis_histograms",
    "fill_dis_histograms",
    "fill_dis_histograms_flat",
    "observable_values",
]

LEVELS = ("gen", "reco")
"""Levels of a DIS event: particle (generator) level and detector (reconstructed) level."""

#: lower Q² edge of both levels: the detector-level selection and the particle-level region
#: start at Q² = 150 GeV² (Sec. 3); particle-level events below it (the generator cut is
#: Q² > 100 GeV²) fall in the underflow, which hist keeps
_Q2_MIN = 150.0
_Q2_MAX = 5000.0


@dataclass(frozen=True)
class Observable:
    """One histogrammed observable: where it lives in the columns and how it is binned.

    Args:
        name: Histogram name (and axis name).
        field: Field of the level record (event level) or of its object records.
        collection: ``None`` for an event-level observable, else ``"particles"`` or
            ``"jets"``: one histogram entry per object.
        label: Axis label (LaTeX allowed, as mplhep renders it).
        axis: Factory ``level -> hist axis``.
    """

    name: str
    field: str
    collection: str | None
    label: str
    axis: Callable[[str], hist.axis.AxesMixin]


def _regular(bins: int, start: float, stop: float, name: str, label: str):
    def make(level: str) -> hist.axis.Regular:
        return hist.axis.Regular(bins, start, stop, name=name, label=label)

    return make


def _variable(edges: tuple[float, ...], name: str, label: str):
    def make(level: str) -> hist.axis.Variable:
        return hist.axis.Variable(edges, name=name, label=label)

    return make


#: Δφ^jet = π − |Δφ(jet, e)| peaks at 0 (jets back-to-back with the electron) with a long
#: tail up to π: fine bins near 0, the whole range covered
_VARIABLE_EDGES = {
    "jet_dphi": (0.0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 1.2, 1.6, 2.2, np.pi),
}


def _q2_axis(level: str) -> hist.axis.Regular:
    return hist.axis.Regular(
        20,
        _Q2_MIN,
        _Q2_MAX,
        transform=hist.axis.transform.log,
        name="Q2",
        label=r"$Q^2$ [GeV$^2$]",
    )


def _observables() -> dict[str, Observable]:
    table = [
        # name, field, collection, label, axis factory
        ("Q2", "Q2", None, r"$Q^2$ [GeV$^2$]", _q2_axis),
        ("y", "y", None, r"$y$", None),
        ("eta_e", "eta_e", None, r"$\eta_e$", None),
        ("particle_deta", "deta", "particles", r"$\eta - \eta_e$", None),
        ("particle_log_pt", "log_pt", "particles", r"$\log_{10}(p_T / \mathrm{GeV})$", None),
        ("particle_log_pt_over_Q", "log_pt_over_Q", "particles", r"$\log_{10}(p_T / Q)$", None),
        ("jet_pt", "pt", "jets", r"$p_T^\mathrm{jet}$ [GeV]", None),
        ("jet_eta", "eta", "jets", r"$\eta^\mathrm{jet}$", None),
        ("jet_tau21", "tau21", "jets", r"$\tau_{21}^\mathrm{jet}$", None),
        ("jet_dphi", "dphi_e", "jets", r"$\Delta\phi^\mathrm{jet}$ [rad]", None),
    ]
    regular = {
        # bins, low, high (same at both levels); chosen on Pythia DIS samples so that
        # well under 1% of entries fall in the flow bins
        "y": (20, 0.0, 1.0),
        "eta_e": (24, -2.0, 1.0),
        "particle_deta": (24, -1.5, 4.5),
        "particle_log_pt": (25, -1.0, 1.5),
        "particle_log_pt_over_Q": (30, -3.0, 0.0),
        "jet_pt": (24, 5.0, 65.0),
        "jet_eta": (18, -1.5, 3.0),
        "jet_tau21": (24, 0.0, 1.2),
    }
    out = {}
    for name, field, collection, label, axis in table:
        if axis is None and name in regular:
            axis = _regular(*regular[name], name=name, label=label)
        elif axis is None:
            axis = _variable(_VARIABLE_EDGES[name], name=name, label=label)
        out[name] = Observable(name, field, collection, label, axis)
    return out


DIS_OBSERVABLES: Mapping[str, Observable] = _observables()
"""Every histogrammed DIS observable, by histogram name."""


def book_dis_histograms(level: str, dataset: str | None = None) -> dict[str, hist.Hist]:
    """Empty histograms (``Weight`` storage) of every DIS observable for one level.

    Args:
        level: ``"gen"`` (particle level) or ``"reco"`` (detector level); both are binned
            alike.
        dataset: Dataset of the entries (the processor passes
            ``events.metadata["dataset"]``): every histogram gets the leading ``dataset``
            category axis, holding this dataset. ``None``: one axis only, for
            distributions of no input dataset (unfolded or reweighted).

    Returns:
        ``{name: hist.Hist}`` for every name in :data:`DIS_OBSERVABLES`.
    """
    if level not in LEVELS:
        raise ConfigError(f"level={level!r} is not a DIS level; use one of {list(LEVELS)}.")
    return {
        name: book_histogram(spec.axis(level), dataset=dataset)
        for name, spec in DIS_OBSERVABLES.items()
    }


def observable_values(
    level_columns: ak.Array, name: str, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Flat values of one observable and the weight of each value.

    Event-level observables give one value per event that has it (``None`` entries, e.g.
    events without an electron, are skipped); particle- and jet-level observables give
    one value per object, with its event's weight.

    Args:
        level_columns: ``gen`` or ``reco`` record array of the processor columns.
        name: Histogram name from :data:`DIS_OBSERVABLES`.
        weight: One weight per event, same length as ``level_columns``.

    Returns:
        ``(values, weights)``, two float64 NumPy arrays of equal length.
    """
    if name not in DIS_OBSERVABLES:
        raise ConfigError(
            f"histogram {name!r} is not a DIS observable; known names: {sorted(DIS_OBSERVABLES)}."
        )
    spec = DIS_OBSERVABLES[name]
    weight = checked_weights(weight, len(level_columns))
    container = level_columns
    if spec.collection is not None:
        container = _field(level_columns, spec.collection, name)
        container = ak.fill_none(container, [], axis=0)
    values = _field(container, spec.field, name)
    if spec.collection is None:
        per_value_weight = ak.Array(weight)
    else:
        per_value_weight, values = ak.broadcast_arrays(ak.Array(weight), values)
        per_value_weight = ak.flatten(per_value_weight, axis=1)
        values = ak.flatten(values, axis=1)
    present = ~ak.is_none(values, axis=0)
    flat_values = ak.to_numpy(values[present]).astype(np.float64, copy=False)
    flat_weights = ak.to_numpy(per_value_weight[present]).astype(np.float64, copy=False)
    _check_values(name, flat_values)
    return flat_values, flat_weights


def _check_values(name: str, values: np.ndarray) -> None:
    spec = DIS_OBSERVABLES[name]
    check_finite_values(name, f"{spec.collection or 'event'} field {spec.field!r}", values)


def fill_dis_histograms_flat(
    hists: Mapping[str, hist.Hist],
    values: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    dataset: str | None = None,
) -> None:
    """Fill DIS histograms in place from ready flat ``(values, weights)`` per histogram.

    The fast path of the processor, which has the flat arrays at hand: the pairs must be
    what :func:`observable_values` returns for the same events (one value per event
    that has the observable, or per object with its event's weight, in event order);
    the same finiteness check applies.

    Args:
        hists: Histograms from :func:`book_dis_histograms` (or any subset of them).
        values: ``{name: (values, weights)}`` for at least every name of ``hists``.
        dataset: Dataset of the events: required for histograms booked with a dataset,
            refused for those without.
    """
    for name, histogram in hists.items():
        flat_values, flat_weights = values[name]
        _check_values(name, flat_values)
        fill_histogram(histogram, flat_values, flat_weights, dataset=dataset)


def fill_dis_histograms(
    hists: Mapping[str, hist.Hist],
    level_columns: ak.Array,
    weight: np.ndarray,
    *,
    dataset: str | None = None,
) -> None:
    """Fill DIS histograms in place from one level of the processor columns.

    Args:
        hists: Histograms from :func:`book_dis_histograms` (or any subset of them).
        level_columns: The ``gen`` or ``reco`` record array of the collected columns
            (fields ``Q2``, ``y``, ``eta_e``, ``particles``, ``jets``, ...), restricted to
            the events to fill, e.g. ``columns.gen[columns.pass_gen]``.
        weight: One weight per event of ``level_columns`` (generator weights, or
            unfolded weights in the results layer).
        dataset: Dataset of the events: required for histograms booked with a dataset,
            refused for those without.
    """
    for name, histogram in hists.items():
        values, weights = observable_values(level_columns, name, weight)
        fill_histogram(histogram, values, weights, dataset=dataset)


def _field(array: ak.Array, field: str, histogram: str) -> ak.Array:
    return level_field(
        array,
        field,
        histogram,
        "the DIS processor columns (hepnnlr.processors.dis.collect_columns)",
    )
