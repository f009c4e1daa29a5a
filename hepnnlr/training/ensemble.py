"""Ensembles of likelihood-ratio classifiers and the aggregation of their weights.

Sec. 4.1 of Torales Acosta, Wamorkar, Mikuni, Nachman, "Stabilizing Neural Likelihood Ratio
Estimation", arXiv:2503.20753: N members with distinct seeds; their weights combined
by the mean (the baseline of arXiv:2503.20753), the median, or a truncated mean; the spread of the
members per event measures the model uncertainty. The mean of the logits (a geometric
mean of the ratios) is offered as well.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import stats

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.tensors.checks import check_finite

__all__ = ["AGGREGATIONS", "aggregate_weights", "ensemble_configs"]

AGGREGATIONS = ("mean", "median", "truncated_mean", "mean_logit")
"""How the members' weights combine (:func:`aggregate_weights`)."""


def aggregate_weights(
    members: np.ndarray, method: str = "mean", *, trim: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Combine ``(n_members, n_events)`` weights into one weight per event.

    Args:
        members: Weights of each member for the same events.
        method: ``"mean"``, ``"median"``, ``"truncated_mean"`` (drop the fraction
            ``trim`` of members at each end per event) or ``"mean_logit"``
            (``exp(mean(log w))``; needs positive weights).
        trim: Fraction cut at each end for the truncated mean, in [0, 0.5).

    Returns:
        ``(weights, spread)``: the aggregated weights and the per-event standard deviation
        of the members (the ensemble's model uncertainty).
    """
    members = np.asarray(members, dtype=np.float64)
    if members.ndim != 2 or members.shape[0] < 1:
        raise ShapeMismatchError(
            f"aggregate_weights needs a (members, events) array, got shape {members.shape}."
        )
    check_finite("ensemble member weights", members.T)
    if method not in AGGREGATIONS:
        raise ConfigError(f"aggregation {method!r} is not one of {AGGREGATIONS}.")
    if not 0.0 <= trim < 0.5:
        raise ConfigError(f"trim={trim} must be in [0, 0.5).")
    spread = members.std(axis=0)
    if method == "mean":
        return members.mean(axis=0), spread
    if method == "median":
        return np.median(members, axis=0), spread
    if method == "truncated_mean":
        return stats.trim_mean(members, trim, axis=0), spread
    if (members <= 0).any():
        raise ConfigError(
            "aggregation 'mean_logit' averages log-weights and needs positive weights; "
            "use 'mean', 'median' or 'truncated_mean' with negative weights."
        )
    return np.exp(np.log(members).mean(axis=0)), spread


def ensemble_configs(config, members: int):
    """``members`` copies of a training config with distinct seeds ``seed + 1000 k``."""
    if members < 1:
        raise ConfigError(f"an ensemble needs at least one member, got members={members}.")
    return [replace(config, seed=config.seed + 1000 * k) for k in range(members)]
