"""Binning and filling of the e+e− → Z → dijet observables (arXiv:2010.03569, Sec. III B, Fig. 9).

Reference: Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural
Networks in the Presence of Detector Effects", arXiv:2010.03569.

Same conventions as :mod:`hepnnlr.observables.histos`: one observable axis per
histogram, preceded by the ``dataset`` category axis when booked for a dataset
(:mod:`hepnnlr.observables.dataset_histos`), ``Weight`` storage, flow bins kept, and two
functions shared by the processor and the results layer:

* :func:`book_zjets_histograms` creates empty histograms for one level (and dataset);
* :func:`fill_zjets_histograms` fills them from the ``gen`` or ``reco`` record of
  :class:`hepnnlr.processors.zjets.ZJetsProcessor`'s columns and one weight per event,
  in the row of ``dataset=`` (required exactly when the histograms have the axis).

Histograms: event level ``n_jets``; jet level (one entry for each of the two leading jets
that exists, with its event's weight) ``jet_pt``, ``jet_eta``, ``jet_mass``,
``jet_multiplicity``, ``jet_n_strange``, ``jet_tau21`` and ``jet_ecf3`` (e_3 with β = 4,
22 log-spaced bins from 1e-12 to 0.1, median ~1e-5; jets with fewer than three
constituents have e_3 = 0 and land in the underflow bin).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import awkward as ak
import hist
import numpy as np

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.observables._level_columns import check_finite_values, level_field
from hepnnlr.observables.dataset_histos import (
    book_histogram,
    checked_weights,
    fill_histogram,
    observable_axis,
)

__all__ = [
    "JET_SLOTS",
    "ZJETS_LEVELS",
    "ZJETS_OBSERVABLES",
    "ZJetsObservable",
    "book_zjets_histograms",
    "fill_zjets_histograms",
    "fill_zjets_histograms_flat",
    "zjets_observable_values",
]

ZJETS_LEVELS = ("gen", "reco")
"""Particle (generator) level and detector (reconstructed) level."""

JET_SLOTS = ("jet1", "jet2")
"""Fields of a level record holding the leading and subleading jet (``None`` if absent)."""


@dataclass(frozen=True)
class ZJetsObservable:
    """One histogrammed observable.

    Args:
        name: Histogram (and axis) name.
        field: Field of the level record (event level) or of the jet records.
        per_jet: One entry per leading/subleading jet (True) or per event (False).
        axis: Factory of the hist axis.
    """

    name: str
    field: str
    per_jet: bool
    axis: Callable[[], hist.axis.AxesMixin]


def _observables() -> dict[str, ZJetsObservable]:
    # ranges chosen on Pythia Z -> light-quark samples at sqrt(s) = 91.19 GeV
    # (anti-kT R = 0.8, pT > 5 GeV): jets carry at most ~45 GeV, have <= ~40 constituents
    table: list[tuple[str, str, bool, Callable[[], hist.axis.AxesMixin]]] = [
        ("n_jets", "n_jets", False, lambda: hist.axis.Integer(0, 8, name="n_jets", label="jets")),
        (
            "jet_pt",
            "pt",
            True,
            lambda: hist.axis.Regular(25, 0.0, 50.0, name="jet_pt", label=r"$p_T$ [GeV]"),
        ),
        (
            "jet_eta",
            "eta",
            True,
            lambda: hist.axis.Regular(25, -2.5, 2.5, name="jet_eta", label=r"$\eta$"),
        ),
        (
            "jet_mass",
            "mass",
            True,
            lambda: hist.axis.Regular(30, 0.0, 30.0, name="jet_mass", label=r"$m$ [GeV]"),
        ),
        (
            "jet_multiplicity",
            "multiplicity",
            True,
            lambda: hist.axis.Integer(0, 50, name="jet_multiplicity", label="constituents"),
        ),
        (
            "jet_n_strange",
            "n_strange",
            True,
            lambda: hist.axis.Integer(0, 12, name="jet_n_strange", label="strange hadrons"),
        ),
        (
            "jet_tau21",
            "tau21",
            True,
            lambda: hist.axis.Regular(24, 0.0, 1.2, name="jet_tau21", label=r"$\tau_{21}$"),
        ),
        (
            "jet_ecf3",
            "ecf3",
            True,
            lambda: hist.axis.Regular(
                22,
                1e-12,
                1e-1,
                transform=hist.axis.transform.log,
                name="jet_ecf3",
                label=r"$e_3^{(\beta=4)}$",
            ),
        ),
    ]
    return {name: ZJetsObservable(name, field, flag, axis) for name, field, flag, axis in table}


ZJETS_OBSERVABLES: Mapping[str, ZJetsObservable] = _observables()
"""Every histogrammed Z → dijet observable, by histogram name."""


def book_zjets_histograms(level: str, dataset: str | None = None) -> dict[str, hist.Hist]:
    """Empty ``Weight``-storage histograms of every Z → dijet observable for one level.

    Args:
        level: ``"gen"`` or ``"reco"``.
        dataset: Dataset of the entries (the processor passes
            ``events.metadata["dataset"]``): the leading ``dataset`` axis, holding it.
            ``None``: one axis only (results-layer distributions).
    """
    if level not in ZJETS_LEVELS:
        raise ConfigError(f"level={level!r} is not a Z->qq level; use one of {list(ZJETS_LEVELS)}.")
    return {
        name: book_histogram(spec.axis(), dataset=dataset)
        for name, spec in ZJETS_OBSERVABLES.items()
    }


def _field(array: ak.Array, field: str, name: str) -> ak.Array:
    return level_field(
        array, field, name, "the ZJetsProcessor columns (hepnnlr.processors.zjets.collect_columns)"
    )


def zjets_observable_values(
    level_columns: ak.Array, name: str, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Flat values of one observable and the weight of each value.

    Event-level observables give one value per event; jet observables one value per
    existing leading and subleading jet (``None`` slots are skipped), each with its
    event's weight.
    """
    if name not in ZJETS_OBSERVABLES:
        raise ConfigError(
            f"histogram {name!r} is not a Z->qq observable; known: {sorted(ZJETS_OBSERVABLES)}."
        )
    spec = ZJETS_OBSERVABLES[name]
    weight = checked_weights(weight, len(level_columns))
    if spec.per_jet:
        values_list, weights_list = [], []
        for slot in JET_SLOTS:
            values = _field(_field(level_columns, slot, name), spec.field, name)
            present = ak.to_numpy(~ak.is_none(values))
            values_list.append(ak.to_numpy(values[present]).astype(np.float64))
            weights_list.append(weight[present])
        values, weights = np.concatenate(values_list), np.concatenate(weights_list)
    else:
        values = ak.to_numpy(_field(level_columns, spec.field, name)).astype(np.float64)
        weights = weight
    _check_values(name, values)
    return values, weights


def _check_values(name: str, values: np.ndarray) -> None:
    check_finite_values(name, f"field {ZJETS_OBSERVABLES[name].field!r}", values)


def _fill(
    histogram: hist.Hist, values: np.ndarray, weights: np.ndarray, dataset: str | None
) -> None:
    if isinstance(observable_axis(histogram), hist.axis.Integer):
        values = values.astype(np.int64)  # counts: exact integers, as the axis needs
    fill_histogram(histogram, values, weights, dataset=dataset)


def fill_zjets_histograms_flat(
    hists: Mapping[str, hist.Hist],
    n_jets: np.ndarray,
    jets: Mapping[str, np.ndarray],
    jet_rank: np.ndarray,
    jet_event: np.ndarray,
    weight: np.ndarray,
    *,
    dataset: str | None = None,
) -> None:
    """:func:`fill_zjets_histograms` from flat arrays (what the processor holds).

    Same values, in the same order (all leading jets, then all subleading ones), same
    checks, so the histograms are bit for bit those of :func:`fill_zjets_histograms`
    on the columns; it only skips building and reading back awkward records.

    Args:
        hists: Histograms from :func:`book_zjets_histograms` (or a subset of them).
        n_jets: Jets per selected event.
        jets: Per-jet observables (fields of the jet records: ``pt``, ``eta``, ``mass``,
            ``multiplicity``, ``n_strange``, ``tau21``, ``ecf3``), one entry per leading
            or subleading jet of the selected events, in event order.
        jet_rank: 0 (leading) or 1 (subleading) for each of those jets.
        jet_event: Index of each jet's event among the selected events.
        weight: One weight per selected event.
        dataset: Dataset of the events: required for histograms booked with a dataset,
            refused for those without.
    """
    weight = checked_weights(weight, len(n_jets))
    slots = [np.flatnonzero(jet_rank == k) for k in range(len(JET_SLOTS))]
    slot_weights = np.concatenate([weight[jet_event[s]] for s in slots])
    for name, histogram in hists.items():
        if name not in ZJETS_OBSERVABLES:
            raise ConfigError(
                f"histogram {name!r} is not a Z->qq observable; known: {sorted(ZJETS_OBSERVABLES)}."
            )
        spec = ZJETS_OBSERVABLES[name]
        if spec.per_jet:
            if spec.field not in jets:
                raise MissingBranchError(
                    f"histogram {name!r} needs the jet field {spec.field!r}, which is not "
                    f"among {sorted(jets)}."
                )
            field = np.asarray(jets[spec.field])
            values = np.concatenate([field[s] for s in slots]).astype(np.float64)
            weights = slot_weights
        elif spec.field == "n_jets":
            values, weights = np.asarray(n_jets).astype(np.float64), weight
        else:  # pragma: no cover - every event-level observable must be handled above
            raise ConfigError(f"event-level observable {name!r} has no flat filler.")
        _check_values(name, values)
        _fill(histogram, values, weights, dataset)


def fill_zjets_histograms(
    hists: Mapping[str, hist.Hist],
    level_columns: ak.Array,
    weight: np.ndarray,
    *,
    dataset: str | None = None,
) -> None:
    """Fill Z → dijet histograms in place from one level of the processor columns.

    Args:
        hists: Histograms from :func:`book_zjets_histograms` (or a subset of them).
        level_columns: ``gen`` or ``reco`` record array of the columns, restricted to the
            events to fill (e.g. ``columns.gen[columns.pass_gen]``).
        weight: One weight per event of ``level_columns``.
        dataset: Dataset of the events: required for histograms booked with a dataset,
            refused for those without.
    """
    for name, histogram in hists.items():
        values, weights = zjets_observable_values(level_columns, name, weight)
        _fill(histogram, values, weights, dataset)
