"""Statistics of weighted samples, shared by every layer (pure NumPy).

hepnnlr's weights come from likelihood ratios; these functions say how much statistical
power a weighted sample keeps and how well two samples are separated.

Diefenbacher, Eren, Kasieczka, Korol, Nachman, Shih, "DCTRGAN: Improving the Precision of
Generative Models with Reweighting", JINST 15 (2020) P11004, arXiv:2009.03796, quantify a weighted
generated sample against a reference with three numbers, all here: the separation power
``<S^2>`` of two histograms (Eq. 15, :func:`separation_power`), the ratio ``r`` of the
uncertainties on the mean of an observable (:func:`uncertainty_ratio`) and the number of
generated events ``N_G`` needed to match the precision of ``N_T`` reference events for a
chosen observable or binning (Eq. 9, :func:`required_generated_events`).
:func:`compare_to_reference` computes them together and :func:`legend_label` writes them
into a plot legend as the figures of arXiv:2009.03796 do.
"""

from __future__ import annotations

import numpy as np

from hepnnlr.errors import (
    ConfigError,
    EmptySelectionError,
    NonFiniteInputError,
    ShapeMismatchError,
)

__all__ = [
    "compare_to_reference",
    "histogram_separation_power",
    "kish_effective_size",
    "legend_label",
    "mean_uncertainty",
    "required_generated_events",
    "separation_power",
    "uncertainty_ratio",
    "reliability",
    "weight_summary",
    "weighted_auc",
    "weighted_mean_and_std",
]


def _pair(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, float)
    weights = np.asarray(weights, float)
    if values.shape[0] != weights.shape[0]:
        raise ShapeMismatchError(f"{len(values)} values but {len(weights)} weights.")
    return values, weights


def weighted_mean_and_std(values: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Weighted mean and (population) standard deviation of ``values``."""
    values, weights = _pair(values, weights)
    total = weights.sum()
    if not total > 0:
        raise EmptySelectionError(f"weighted mean needs a positive total weight, got {total:g}.")
    mean = float((weights * values).sum() / total)
    var = float((weights * (values - mean) ** 2).sum() / total)
    return mean, float(np.sqrt(var))


def kish_effective_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` (0 for an empty sample)."""
    weights = np.asarray(weights, float)
    denominator = (weights**2).sum()
    if denominator == 0:
        return 0.0
    return float(weights.sum() ** 2 / denominator)


def weight_summary(weights: np.ndarray) -> dict[str, float]:
    """Count, sum, mean, spread, extremes, quantiles and Kish size of a weight array."""
    weights = np.asarray(weights, float)
    if len(weights) == 0:
        raise EmptySelectionError("weight_summary got no weights.")
    q = np.quantile(weights, [0.01, 0.5, 0.99])
    return {
        "n": float(len(weights)),
        "sum": float(weights.sum()),
        "mean": float(weights.mean()),
        "std": float(weights.std()),
        "min": float(weights.min()),
        "q01": float(q[0]),
        "median": float(q[1]),
        "q99": float(q[2]),
        "max": float(weights.max()),
        "negative_fraction": float((weights < 0).mean()),
        "kish_effective_size": kish_effective_size(weights),
    }


def weighted_auc(
    scores: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """Area under the ROC curve of ``scores`` for ``labels`` (1 signal, 0 background).

    Equals the weighted probability that a random label-1 event scores above a random
    label-0 event (ties count one half). Exact, by sorting: O(n log n).
    """
    scores = np.asarray(scores, float)
    labels = np.asarray(labels).astype(bool)
    weights = np.ones(len(scores)) if weights is None else np.asarray(weights, float)
    if not (len(scores) == len(labels) == len(weights)):
        raise ShapeMismatchError(
            f"weighted_auc: {len(scores)} scores, {len(labels)} labels, {len(weights)} weights."
        )
    w1, w0 = weights[labels].sum(), weights[~labels].sum()
    if not (w1 > 0 and w0 > 0):
        raise EmptySelectionError("weighted_auc needs positive total weight in both classes.")
    order = np.argsort(scores, kind="mergesort")
    s, lab, w = scores[order], labels[order], weights[order]
    # Group ties: within a group of equal scores, pairs count one half.
    _, start = np.unique(s, return_index=True)
    group_w1 = np.add.reduceat(np.where(lab, w, 0.0), start)
    group_w0 = np.add.reduceat(np.where(lab, 0.0, w), start)
    below_w0 = np.cumsum(group_w0) - group_w0
    auc = (group_w1 * (below_w0 + 0.5 * group_w0)).sum() / (w1 * w0)
    return float(auc)


def reliability(
    logits: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    bins: int = 10,
) -> dict[str, np.ndarray]:
    """Calibration (reliability) check of a classifier's probabilities ``sigmoid(logit)``.

    Events are grouped in ``bins`` quantile bins of the predicted probability; in each the
    weighted fraction of label-1 events is compared with the mean prediction. For a
    calibrated classifier ``observed`` matches ``predicted`` within ``error`` (the binomial
    error with the Kish effective count of the bin).

    Returns:
        ``{"predicted", "observed", "error", "count"}`` arrays, one entry per bin.
    """
    logits = np.asarray(logits, float)
    labels = np.asarray(labels).astype(float)
    weights = np.ones(len(logits)) if weights is None else np.asarray(weights, float)
    if not (len(logits) == len(labels) == len(weights)):
        raise ShapeMismatchError(
            f"reliability: {len(logits)} logits, {len(labels)} labels, {len(weights)} weights."
        )
    if bins < 1 or len(logits) < bins:
        raise EmptySelectionError(f"reliability needs at least bins={bins} events.")
    probability = 1.0 / (1.0 + np.exp(-logits))
    edges = np.quantile(probability, np.linspace(0, 1, bins + 1))
    index = np.clip(np.searchsorted(edges, probability, side="right") - 1, 0, bins - 1)
    predicted, observed, error, count = (np.zeros(bins) for _ in range(4))
    for b in range(bins):
        w, p, y = weights[index == b], probability[index == b], labels[index == b]
        total = w.sum()
        predicted[b] = (w * p).sum() / total
        observed[b] = (w * y).sum() / total
        count[b] = kish_effective_size(w)
        error[b] = np.sqrt(max(observed[b] * (1 - observed[b]), 1e-12) / count[b])
    return {"predicted": predicted, "observed": observed, "error": error, "count": count}


def _finite(name: str, values: np.ndarray) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        raise NonFiniteInputError(
            f"{name} holds {int(bad.sum())} NaN or infinite value(s), first at index "
            f"{int(np.argmax(bad.reshape(-1)))}; find where they come from before comparing."
        )


def _counts_and_edges(histogram: object, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Bin contents (and edges, for ``hist.Hist``-like objects) of one histogram."""
    if hasattr(histogram, "values") and hasattr(histogram, "axes"):
        axes = histogram.axes
        if len(axes) != 1:
            raise ShapeMismatchError(
                f"{name} has {len(axes)} axes; separation_power compares 1-D histograms "
                "(project or flatten the others first)."
            )
        return np.asarray(histogram.values(), float), np.asarray(axes[0].edges, float)
    counts = np.asarray(histogram, float)
    if counts.ndim != 1:
        raise ShapeMismatchError(
            f"{name} must be a 1-D array of bin contents (or a 1-D hist.Hist), got shape "
            f"{counts.shape}; flatten multi-dimensional histograms with .reshape(-1)."
        )
    return counts, None


def separation_power(first: object, second: object) -> float:
    """Separation power ``<S^2>`` of two histograms (Eq. 15 of arXiv:2009.03796).

    ``<S^2> = 1/2 sum_i (h1_i - h2_i)^2 / (h1_i + h2_i)`` with each histogram normalized to
    unit sum (the triangular discrimination): 0 for identical shapes, 1 for histograms
    that never fill the same bin. Bins empty in both are skipped. Flow bins are not part of
    ``values()``, so they do not enter (as in the figures of
    arXiv:2009.03796).

    Args:
        first, second: Bin contents (1-D arrays, weighted sums allowed) or 1-D
            ``hist.Hist`` objects; they must have the same binning.

    Raises:
        ShapeMismatchError: different numbers of bins, or ``hist`` axes with other edges.
        ConfigError: a negative bin content (a density ratio needs non-negative bins).
        EmptySelectionError: a histogram with no positive content.
        NonFiniteInputError: NaN or infinite contents.

    Example:
        >>> separation_power([1, 2, 1], [2, 4, 2]), separation_power([1, 0], [0, 3])
        (0.0, 1.0)
    """
    h1, edges1 = _counts_and_edges(first, "the first histogram")
    h2, edges2 = _counts_and_edges(second, "the second histogram")
    if h1.shape != h2.shape:
        raise ShapeMismatchError(
            f"separation_power: the histograms have {len(h1)} and {len(h2)} bins; fill both "
            "with the same binning."
        )
    if edges1 is not None and edges2 is not None and not np.array_equal(edges1, edges2):
        raise ShapeMismatchError(
            f"separation_power: the histograms have different bin edges ({edges1[:3]}... vs "
            f"{edges2[:3]}...); fill both with the same axis."
        )
    for name, h in (("first", h1), ("second", h2)):
        _finite(f"the {name} histogram", h)
        if (h < 0).any():
            raise ConfigError(
                f"the {name} histogram has a negative bin content {h[h < 0][0]:g} (bin "
                f"{int(np.argmax(h < 0))}); <S^2> compares non-negative densities. Negative "
                "weighted bins mean too few events or negative weights: merge bins."
            )
        if not h.sum() > 0:
            raise EmptySelectionError(
                f"the {name} histogram is empty (total {h.sum():g}); <S^2> needs events in "
                "both histograms."
            )
    p1, p2 = h1 / h1.sum(), h2 / h2.sum()
    total = p1 + p2
    filled = total > 0
    return float(0.5 * ((p1[filled] - p2[filled]) ** 2 / total[filled]).sum())


def _values_weights(
    values: np.ndarray, weights: np.ndarray | None, name: str
) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, float).reshape(-1)
    weights = np.ones(len(values)) if weights is None else np.asarray(weights, float).reshape(-1)
    if len(values) != len(weights):
        raise ShapeMismatchError(f"{name}: {len(values)} values but {len(weights)} weights.")
    _finite(f"{name} values", values)
    _finite(f"{name} weights", weights)
    if len(values) == 0:
        raise EmptySelectionError(f"{name} has no events.")
    return values, weights


def _check_edges(edges: np.ndarray | int) -> np.ndarray:
    edges = np.asarray(edges, float)
    if edges.ndim != 1 or len(edges) < 2 or not np.all(np.diff(edges) > 0):
        raise ConfigError(
            f"bin edges must be at least two increasing values, got {edges!r}; e.g. "
            "np.linspace(low, high, 41)."
        )
    _finite("bin edges", edges)
    return edges


def histogram_separation_power(
    values: np.ndarray,
    reference: np.ndarray,
    edges: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    reference_weights: np.ndarray | None = None,
) -> float:
    """``<S^2>`` (Eq. 15) of two (weighted) samples histogrammed with the same ``edges``.

    Entries outside ``edges`` are left out (no under- or overflow bins).
    """
    edges = _check_edges(edges)
    values, weights = _values_weights(values, weights, "the sample")
    reference, reference_weights = _values_weights(reference, reference_weights, "the reference")
    h1, _ = np.histogram(values, edges, weights=weights)
    h2, _ = np.histogram(reference, edges, weights=reference_weights)
    return separation_power(h1, h2)


def mean_uncertainty(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Statistical uncertainty of the weighted mean of ``values``.

    ``sqrt(sum_i w_i^2 (x_i - xbar)^2) / sum_i w_i``, the sampling estimate of Eqs. 7–8 of
    arXiv:2009.03796 for ``f = x`` (``std / sqrt(N)`` for unit weights).
    """
    values, weights = _values_weights(values, weights, "the sample")
    total = weights.sum()
    if not total > 0:
        raise EmptySelectionError(
            f"mean_uncertainty needs a positive total weight, got {total:g}."
        )
    mean = (weights * values).sum() / total
    return float(np.sqrt((weights**2 * (values - mean) ** 2).sum()) / total)


def uncertainty_ratio(
    values: np.ndarray,
    reference: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    reference_weights: np.ndarray | None = None,
) -> float:
    """The ``r`` of arXiv:2009.03796: uncertainty of the mean of an observable in a (weighted)
    sample over that in the reference sample (:func:`mean_uncertainty` of each).

    For samples of equal size ``r ~ 1`` without weights; ``r^2`` is roughly the ratio of the
    reference's size to the weighted sample's effective size (Sec. III B).
    """
    denominator = mean_uncertainty(reference, reference_weights)
    if not denominator > 0:
        raise EmptySelectionError(
            "the reference sample has no spread (every value equal), so the uncertainty of "
            "its mean is 0 and r is undefined; pick an observable that varies."
        )
    return mean_uncertainty(values, weights) / denominator


def required_generated_events(
    values: np.ndarray,
    weights: np.ndarray,
    n_reference: float,
    *,
    edges: np.ndarray | None = None,
) -> float | np.ndarray:
    """``N_G`` of Eq. 9 of arXiv:2009.03796: generated events needed, with weights ``W``,
    to estimate ``E[f]`` as precisely as ``n_reference`` unweighted reference events.

    ``N_G = N_T * int p_T W df^2 / int p_T df^2`` with ``df = f - E_T[f]``. Since
    ``p_T = p_G W``, both integrals are estimated on the weighted generated sample:
    ``N_G / N_T = sum W^2 df^2 / sum W df^2`` (``W`` normalized to mean 1 first, as Eq. 10
    implies). Unit weights give ``N_G = N_T`` for every observable.

    Args:
        values: The observable on the generated events.
        weights: Their weights ``W`` (non-negative).
        n_reference: ``N_T``.
        edges: ``None``: ``f`` is the observable itself. Bin edges: ``f`` is the indicator
            of each bin, and one ``N_G`` per bin is returned (for narrow bins
            ``N_G -> N_T W(x0)``, Eq. 11).

    Raises:
        ConfigError: negative weights, non-positive ``n_reference`` or bad edges.
        EmptySelectionError: an observable without spread or a bin without events.
    """
    values, weights = _values_weights(values, weights, "the generated sample")
    if not n_reference > 0:
        raise ConfigError(f"n_reference={n_reference!r} must be a positive number of events.")
    if (weights < 0).any():
        raise ConfigError(
            f"Eq. 9 needs weights >= 0; got {weights[weights < 0][0]:g} (event "
            f"{int(np.argmax(weights < 0))})."
        )
    if not weights.sum() > 0:
        raise EmptySelectionError("the generated sample has zero total weight.")
    w = weights / weights.mean()
    if edges is None:
        delta = values - (w * values).sum() / w.sum()
        denominator = (w * delta**2).sum()
        if not denominator > 0:
            raise EmptySelectionError(
                "the observable takes one value on every weighted event; Eq. 9 needs an "
                "observable with spread."
            )
        return float(n_reference * (w**2 * delta**2).sum() / denominator)
    edges = _check_edges(edges)
    index = np.searchsorted(edges, values, side="right") - 1
    inside = (values >= edges[0]) & (values <= edges[-1])
    index = np.where(values == edges[-1], len(edges) - 2, index)
    n_bins = len(edges) - 1
    bins = index[inside]
    sum_w, sum_w2 = w.sum(), (w**2).sum()
    in_w = np.bincount(bins, weights=w[inside], minlength=n_bins)
    in_w2 = np.bincount(bins, weights=w[inside] ** 2, minlength=n_bins)
    if (in_w == 0).any():
        raise EmptySelectionError(
            f"bin {int(np.argmax(in_w == 0))} of the given edges holds no weighted event; "
            "Eq. 9 is undefined there. Use wider bins or a narrower range."
        )
    p = in_w / sum_w  # E_T of the bin indicator
    # df = 1 - p inside the bin, -p outside: split each sum into the two parts.
    numerator = in_w2 * (1 - p) ** 2 + (sum_w2 - in_w2) * p**2
    denominator = in_w * (1 - p) ** 2 + (sum_w - in_w) * p**2
    return n_reference * numerator / denominator


def compare_to_reference(
    values: np.ndarray,
    reference: np.ndarray,
    edges: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    reference_weights: np.ndarray | None = None,
) -> dict[str, float]:
    """The figures of merit of arXiv:2009.03796 of a (weighted) sample against a reference.

    Returns:
        A dict with the keys ``separation_power`` (``<S^2>`` of Eq. 15 in the bins of
        ``edges``), ``uncertainty_ratio`` (r), ``kish_effective_size`` (of ``weights``) and
        ``n_generated_needed`` (N_G of Eq. 9 for the mean of the observable with
        N_T = len(reference)).
    """
    values, weights = _values_weights(values, weights, "the sample")
    reference, reference_weights = _values_weights(reference, reference_weights, "the reference")
    n_needed = required_generated_events(values, weights, len(reference))
    return {
        "separation_power": histogram_separation_power(
            values, reference, edges, weights=weights, reference_weights=reference_weights
        ),
        "uncertainty_ratio": uncertainty_ratio(
            values, reference, weights=weights, reference_weights=reference_weights
        ),
        "kish_effective_size": kish_effective_size(weights),
        "n_generated_needed": n_needed,
    }


def legend_label(
    name: str,
    separation: float | None = None,
    ratio: float | None = None,
    *,
    digits: int = 2,
) -> str:
    """A legend entry in the style of the figures of arXiv:2009.03796.

    Example:
        >>> legend_label("DCTRGAN", 0.000123, 1.43)
        'DCTRGAN ($\\\\langle S^2\\\\rangle$=1.2e-04, r=1.43)'
    """
    if digits < 1:
        raise ConfigError(f"legend_label(digits={digits}) must be >= 1.")
    parts = []
    if separation is not None:
        if not np.isfinite(separation) or separation < 0:
            raise ConfigError(f"separation={separation!r} must be a finite <S^2> >= 0.")
        parts.append(rf"$\langle S^2\rangle$={separation:.{digits - 1}e}")
    if ratio is not None:
        if not np.isfinite(ratio) or ratio < 0:
            raise ConfigError(f"ratio={ratio!r} must be a finite r >= 0.")
        parts.append(f"r={ratio:.{digits}f}")
    return f"{name} ({', '.join(parts)})" if parts else name
