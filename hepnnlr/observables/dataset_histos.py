"""The ``dataset`` axis of every processor histogram, and the one place that selects it.

coffea's idiom: a processor books its histograms with a leading
``hist.axis.StrCategory(..., growth=True, name="dataset")`` axis and fills it with
``events.metadata["dataset"]``. A run over ``{"sim": [...], "data": [...]}`` then keeps
the two samples in separate rows of the same histograms, which coffea merges by addition
(the category axis grows), and nothing can add data to simulation by accident.

* :func:`book_histogram` makes one ``Weight``-storage histogram of an observable axis,
  with the dataset axis in front when a dataset is named. The dataset's category is
  created when booking: a chunk in which no event passes still leaves its dataset's
  (empty) row, so selecting that dataset after the run never fails.
  ``dataset=None`` books the plain one-axis histogram, for weights that belong to no
  input dataset (unfolded or reweighted distributions of the results layer).
* :func:`fill_histogram` fills either kind; the dataset is named exactly when the
  histogram has the axis, otherwise it is an error.
* :func:`select_dataset` is ``h[{"dataset": name}]`` over a (nested) dict of histograms:
  the one place where the axis is removed, with an error naming the datasets present.

Example:
    >>> import hist
    >>> h = book_histogram(hist.axis.Regular(4, 0.0, 1.0, name="y"), dataset="sim")
    >>> fill_histogram(h, [0.1, 0.7], [1.0, 2.0], dataset="sim")
    >>> [a.name for a in h.axes]
    ['dataset', 'y']
    >>> float(select_dataset({"y": h}, "sim")["y"].sum().value)
    3.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import awkward as ak
import hist
import numpy as np

from hepnnlr.errors import ConfigError, NonFiniteInputError, ShapeMismatchError

__all__ = [
    "DATASET_AXIS",
    "book_histogram",
    "checked_weights",
    "dataset_axis",
    "datasets_of",
    "fill_histogram",
    "fill_present",
    "has_dataset_axis",
    "observable_axis",
    "select_dataset",
]

DATASET_AXIS = "dataset"
"""Name of the category axis that keeps the datasets of one run apart."""


def _check_dataset(dataset: Any) -> str:
    if not isinstance(dataset, str) or not dataset:
        raise ConfigError(
            f"dataset must be a non-empty string (the fileset key, events.metadata"
            f"['dataset']), got {dataset!r}."
        )
    return dataset


def dataset_axis(dataset: str) -> hist.axis.StrCategory:
    """``StrCategory([dataset], growth=True, name="dataset")``: grows with every dataset
    filled or merged in, and holds ``dataset`` from the start."""
    return hist.axis.StrCategory(
        [_check_dataset(dataset)], growth=True, name=DATASET_AXIS, label="Dataset"
    )


def book_histogram(
    axis: hist.axis.AxesMixin, *, dataset: str | None, label: str | None = None
) -> hist.Hist:
    """An empty ``Weight``-storage histogram of one observable axis.

    Args:
        axis: The observable's axis.
        dataset: The dataset the entries come from: the histogram gets the leading
            :func:`dataset_axis`. ``None``: no dataset axis (results-layer histograms).
        label: The histogram's label (e.g. the level).
    """
    axes = (axis,) if dataset is None else (dataset_axis(dataset), axis)
    return hist.Hist(*axes, storage=hist.storage.Weight(), label=label)


def has_dataset_axis(histogram: hist.Hist) -> bool:
    """Whether ``histogram`` has the ``dataset`` axis."""
    return DATASET_AXIS in histogram.axes.name


def observable_axis(histogram: hist.Hist) -> hist.axis.AxesMixin:
    """The observable's axis, with or without the dataset axis in front."""
    return histogram.axes[-1]


def fill_histogram(histogram: hist.Hist, values: Any, weights: Any, *, dataset: str | None) -> None:
    """Fill ``histogram`` in place with ``values`` and their ``weights``.

    Args:
        histogram: From :func:`book_histogram`.
        values: One value per entry.
        weights: One weight per entry.
        dataset: The entries' dataset; required when the histogram has the dataset axis
            and refused when it has none.
    """
    name = observable_axis(histogram).name
    if has_dataset_axis(histogram):
        if dataset is None:
            raise ConfigError(
                f"histogram {name!r} has a dataset axis (datasets "
                f"{list(histogram.axes[DATASET_AXIS])}); pass dataset=... with the dataset "
                "the entries come from (events.metadata['dataset'] in a processor)."
            )
        histogram.fill(_check_dataset(dataset), values, weight=weights)
        return
    if dataset is not None:
        raise ConfigError(
            f"histogram {name!r} has no dataset axis, so it cannot keep dataset "
            f"{dataset!r} apart; book it with dataset={dataset!r}, or fill it without "
            "dataset=."
        )
    histogram.fill(values, weight=weights)


def fill_present(
    histogram: hist.Hist, values: ak.Array, weight: np.ndarray, *, dataset: str | None
) -> None:
    """Fill ``histogram`` with the events whose value is present (not ``None``), each with
    its event's weight (``weight``: one per row of ``values``); see :func:`fill_histogram`."""
    keep = ak.to_numpy(~ak.is_none(values)).astype(bool)
    fill_histogram(
        histogram,
        ak.to_numpy(ak.drop_none(values)).astype(np.float64),
        weight[keep],
        dataset=dataset,
    )


def checked_weights(weight: Any, n_events: int) -> np.ndarray:
    """``weight`` as float64, checked to be one finite weight per event to fill.

    Raises:
        ShapeMismatchError: not one weight per event.
        NonFiniteInputError: a NaN or infinite weight (the positions are named).
    """
    weight = np.asarray(weight, dtype=np.float64)
    if weight.ndim != 1 or len(weight) != n_events:
        raise ShapeMismatchError(
            f"weight has shape {weight.shape} but there are {n_events} events to "
            "fill; pass one weight per event, selected with the same mask as the columns."
        )
    if not np.all(np.isfinite(weight)):
        bad = np.flatnonzero(~np.isfinite(weight))
        raise NonFiniteInputError(
            f"{len(bad)} event weight(s) are not finite (first at positions "
            f"{bad[:5].tolist()}); find where they were produced instead of filling them."
        )
    return weight


def _histograms(tree: Any) -> Iterable[hist.Hist]:
    if isinstance(tree, Mapping):
        for value in tree.values():
            yield from _histograms(value)
    elif isinstance(tree, hist.Hist):
        yield tree


def datasets_of(hists: Any) -> list[str]:
    """Sorted datasets of the histograms of a (nested) dict, e.g. a processor's ``hists``."""
    found: set[str] = set()
    for histogram in _histograms(hists):
        if has_dataset_axis(histogram):
            found.update(histogram.axes[DATASET_AXIS])
    return sorted(found)


def select_dataset(hists: Any, dataset: str) -> Any:
    """One dataset's histograms: ``h[{"dataset": dataset}]`` for every histogram.

    Args:
        hists: A histogram or a (nested) dict of histograms with the dataset axis, e.g.
            the ``hists`` of a processor output.
        dataset: The dataset to keep.

    Returns:
        The same nesting, each histogram without its dataset axis (its values and
        variances are that dataset's, bit for bit).

    Raises:
        ConfigError: ``dataset`` is not among the histograms' datasets (the message
            names them), or a histogram has no dataset axis.
    """
    if isinstance(hists, Mapping):
        return {key: select_dataset(value, dataset) for key, value in hists.items()}
    if not isinstance(hists, hist.Hist):
        raise ConfigError(
            f"select_dataset expects histograms or dicts of them, got {type(hists).__name__}."
        )
    if not has_dataset_axis(hists):
        raise ConfigError(
            f"histogram {observable_axis(hists).name!r} has no dataset axis "
            f"(axes {list(hists.axes.name)}); only processor histograms carry one."
        )
    present = list(hists.axes[DATASET_AXIS])
    if dataset not in present:
        raise ConfigError(
            f"dataset {dataset!r} is not in histogram {observable_axis(hists).name!r}; "
            f"datasets present: {sorted(present)}."
        )
    return hists[{DATASET_AXIS: dataset}]
