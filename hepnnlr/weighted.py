"""Statistics of weighted samples, shared by every layer (pure NumPy).

hepnnlr's weights come from likelihood ratios; these functions say how much statistical
power a weighted sample keeps and how well two samples are separated.
"""

from __future__ import annotations

import numpy as np

from hepnnlr.errors import EmptySelectionError, ShapeMismatchError

__all__ = [
    "kish_effective_size",
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
