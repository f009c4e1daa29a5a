"""The two classes of a likelihood-ratio classifier, prepared for training.

:func:`~hepnnlr.training.train_classifier` and :class:`~hepnnlr.training.refit.Refitter`
train the same classifier (weighted binary cross entropy, exp(logit) = p1/p0): both check
the classes, balance their weights to equal totals and split them into training and
validation events the same way, with :func:`prepared_classes`, so a refit equals a fresh
training with the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hepnnlr.errors import EmptySelectionError, ShapeMismatchError
from hepnnlr.tensors.checks import check_finite, check_same_length
from hepnnlr.tensors.events import EventTensors
from hepnnlr.training.config import TrainingConfig

__all__ = ["PreparedClasses", "prepared_classes"]


@dataclass(frozen=True)
class PreparedClasses:
    """Checked, balanced and split classes (numerator first, label 1).

    Attributes:
        numerator_weights, denominator_weights: The caller's weights as float64.
        labels: 1 for the numerator's events, then 0 for the denominator's (float64).
        weights: Both classes' weights, each class scaled to half the events in total.
        train_idx, val_idx: Indices into the concatenated classes (``_class_split``).
        rng: The generator the split was drawn from (``config.seed``), to draw on from.
    """

    numerator_weights: np.ndarray
    denominator_weights: np.ndarray
    labels: np.ndarray
    weights: np.ndarray
    train_idx: np.ndarray
    val_idx: np.ndarray
    rng: np.random.Generator


def prepared_classes(
    numerator: EventTensors,
    numerator_weights: np.ndarray,
    denominator: EventTensors,
    denominator_weights: np.ndarray,
    config: TrainingConfig,
    name: str,
    *,
    paired: bool,
) -> PreparedClasses:
    """Check both classes, balance their weights and split them.

    Args:
        numerator, numerator_weights: Label-1 events and their weights.
        denominator, denominator_weights: Label-0 events and their weights.
        config: ``seed`` seeds the split's generator; ``validation_fraction`` of each
            class is held out.
        name: The training's name, in error messages.
        paired: The classes are the same events: one split serves both.
    """
    numerator_weights, denominator_weights = _checked_classes(
        numerator, numerator_weights, denominator, denominator_weights, name
    )
    n_total = len(numerator) + len(denominator)
    w1 = _balanced(numerator_weights, n_total / 2, "numerator", name)
    w0 = _balanced(denominator_weights, n_total / 2, "denominator", name)
    rng = np.random.default_rng(config.seed)
    train_idx, val_idx = _class_split(
        (len(numerator), len(denominator)), config.validation_fraction, rng, name, paired=paired
    )
    labels = np.concatenate([np.ones(len(numerator)), np.zeros(len(denominator))])
    return PreparedClasses(
        numerator_weights,
        denominator_weights,
        labels,
        np.concatenate([w1, w0]),
        train_idx,
        val_idx,
        rng,
    )


def _balanced(weights: np.ndarray, target: float, label: str, name: str) -> np.ndarray:
    total = weights.sum()
    if not total > 0:
        raise EmptySelectionError(
            f"the {label} class of {name} has a total weight of {total:g}; the likelihood "
            "ratio needs a positive total weight in both classes. Check the selection and "
            "the event weights."
        )
    return weights * (target / total)


def _checked_classes(
    numerator: EventTensors,
    numerator_weights: np.ndarray,
    denominator: EventTensors,
    denominator_weights: np.ndarray,
    name: str,
) -> tuple[np.ndarray, np.ndarray]:
    """The two classes' weights as float64, after the checks every classifier training
    makes: inputs and weights of equal length, no empty class, no NaN or inf."""
    numerator_weights = np.asarray(numerator_weights, dtype=np.float64)
    denominator_weights = np.asarray(denominator_weights, dtype=np.float64)
    check_same_length(
        {f"{name} numerator inputs": numerator, f"{name} numerator weights": numerator_weights}
    )
    check_same_length(
        {
            f"{name} denominator inputs": denominator,
            f"{name} denominator weights": denominator_weights,
        }
    )
    for label, inputs in (("numerator", numerator), ("denominator", denominator)):
        if len(inputs) == 0:
            raise EmptySelectionError(
                f"the {label} sample of {name} is empty: no events passed the selection. "
                "Check the input files and the selection cuts."
            )
    numerator.check_finite(where=f"the numerator sample of {name}")
    denominator.check_finite(where=f"the denominator sample of {name}")
    check_finite(f"{name} numerator weights", numerator_weights)
    check_finite(f"{name} denominator weights", denominator_weights)
    return numerator_weights, denominator_weights


def _class_split(
    sizes: tuple[int, ...],
    validation_fraction: float,
    rng: np.random.Generator,
    name: str,
    *,
    paired: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation indices into the concatenated classes of ``sizes``.

    Each class gives a random ``validation_fraction`` (at least one event) to validation;
    the indices come class after class, in ``rng``'s order within each class. With
    ``paired`` the classes are the same events under different weights: one draw holds
    out the same events of every class, so no event is trained on in one class while
    its copy in another validates (early stopping would then partly measure memorization).
    """
    if paired and len(set(sizes)) > 1:
        raise ShapeMismatchError(
            f"{name}: paired classes must be the same events, but they have {sizes} "
            "events; pass paired=False for different samples."
        )
    train_idx, val_idx = [], []
    offset = 0
    order = None
    for n in sizes:
        if order is None or not paired:
            order = rng.permutation(n)
        n_val = max(1, int(round(validation_fraction * n)))
        if n_val >= n:
            raise EmptySelectionError(
                f"{name}: a class with {n} event(s) cannot be split into training and "
                "validation sets; provide more events."
            )
        val_idx.append(order[:n_val] + offset)
        train_idx.append(order[n_val:] + offset)
        offset += n
    return np.concatenate(train_idx), np.concatenate(val_idx)


def _held_out(val_idx: np.ndarray, n_numerator: int) -> tuple[np.ndarray, np.ndarray]:
    """The validation indices of :func:`_class_split` per class, sorted."""
    val_idx = np.sort(val_idx)
    return val_idx[val_idx < n_numerator], val_idx[val_idx >= n_numerator] - n_numerator
