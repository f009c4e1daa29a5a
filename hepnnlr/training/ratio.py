"""From classifier logits to likelihood-ratio weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

from hepnnlr.errors import ConfigError, EmptySelectionError, ShapeMismatchError
from hepnnlr.tensors.checks import check_finite

__all__ = [
    "ClipReport",
    "clip_weights",
    "fit_temperature",
    "normalize_weights",
    "weights_from_logits",
]

# exp(709.78) is the largest finite float64; a logit anywhere near it means the classifier
# separates the samples perfectly and no finite ratio describes that region.
_MAX_LOGIT = 700.0


def weights_from_logits(logits: np.ndarray, *, name: str = "classifier") -> np.ndarray:
    """Return ``w = exp(logit)`` in float64 (no clipped ``f/(1-f)``).

    Raises:
        NonFiniteInputError: for NaN logits or logits too large to exponentiate, naming
            the classifier.
    """
    logits = np.asarray(logits, dtype=np.float64).reshape(-1)
    check_finite(f"logits of {name}", logits)
    too_large = np.abs(logits) > _MAX_LOGIT
    if too_large.any():
        check_finite(f"logits of {name}", np.where(too_large, np.inf, logits))
    return np.exp(logits)


@dataclass(frozen=True)
class ClipReport:
    """What :func:`clip_weights` did: the weights and how many it changed at each bound."""

    weights: np.ndarray
    n_above: int
    n_below: int
    maximum: float | None
    minimum: float | None

    @property
    def n_clipped(self) -> int:
        """Number of weights changed."""
        return self.n_above + self.n_below


def clip_weights(
    weights: np.ndarray, *, maximum: float | None = None, minimum: float | None = None
) -> ClipReport:
    """Clip weights explicitly and report how many were touched (nothing is hidden).

    Args:
        weights: Per-event weights.
        maximum, minimum: Bounds (``None``: no bound on that side).
    """
    weights = np.asarray(weights, dtype=np.float64)
    check_finite("weights to clip", weights)
    if maximum is not None and minimum is not None and minimum > maximum:
        raise ConfigError(f"clip_weights: minimum={minimum} is above maximum={maximum}.")
    above = weights > maximum if maximum is not None else np.zeros(len(weights), bool)
    below = weights < minimum if minimum is not None else np.zeros(len(weights), bool)
    clipped = np.clip(weights, minimum, maximum) if (maximum, minimum) != (None, None) else weights
    return ClipReport(clipped, int(above.sum()), int(below.sum()), maximum, minimum)


def normalize_weights(weights: np.ndarray, total: float) -> np.ndarray:
    """Scale ``weights`` so they sum to ``total``."""
    weights = np.asarray(weights, dtype=np.float64)
    current = weights.sum()
    if not current > 0:
        raise EmptySelectionError(
            f"cannot normalize weights with total {current:g}; they must sum to a positive value."
        )
    return weights * (total / current)


def fit_temperature(
    logits: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """Temperature ``T`` minimizing the weighted BCE of ``sigmoid(logit / T)``.

    Temperature scaling (Guo, Pleiss, Sun, Weinberger, "On Calibration of Modern Neural
    Networks", arXiv:1706.04599; used for DCTRGAN weights) rescales an
    over- or under-confident classifier's logits without changing its ranking; the
    calibrated ratio is ``exp(logit / T)``. Fit it on held-out events.
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    weights = np.ones(len(logits)) if weights is None else np.asarray(weights, np.float64)
    if not (len(logits) == len(labels) == len(weights)):
        raise ShapeMismatchError(
            f"fit_temperature: {len(logits)} logits, {len(labels)} labels, {len(weights)} weights."
        )
    check_finite("logits", logits)

    def loss(log_t: float) -> float:
        z = logits / np.exp(log_t)
        # BCE with logits, stable: max(z, 0) - z y + log(1 + exp(-|z|))
        per_event = np.maximum(z, 0) - z * labels + np.log1p(np.exp(-np.abs(z)))
        return float((weights * per_event).sum() / weights.sum())

    result = minimize_scalar(loss, bounds=(np.log(1e-2), np.log(1e2)), method="bounded")
    return float(np.exp(result.x))
