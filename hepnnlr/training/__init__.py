"""Training classifiers with weighted binary cross entropy, and turning them into ratios.

A classifier trained with (per-class normalized) weighted BCE between samples A (label 1)
and B (label 0) learns ``f/(1-f) = p_A/p_B``; with a linear output ``logit = log(f/(1-f))``
the likelihood ratio is ``w = exp(logit)`` (Eq. 1 of the ensembling paper).
"""

from __future__ import annotations

import hepnnlr.tensors  # noqa: F401  (quiet TensorFlow start-up before keras imports it)
from hepnnlr.training.classifier import TrainedClassifier, predict_logits, train_classifier
from hepnnlr.training.config import TrainingConfig
from hepnnlr.training.ensemble import AGGREGATIONS, aggregate_weights, ensemble_configs
from hepnnlr.training.pretrain import start_from, unfreeze
from hepnnlr.training.ratio import (
    ClipReport,
    clip_weights,
    fit_temperature,
    normalize_weights,
    weights_from_logits,
)
from hepnnlr.training.saved import SavedReweighter

__all__ = [
    "AGGREGATIONS",
    "ClipReport",
    "SavedReweighter",
    "TrainedClassifier",
    "TrainingConfig",
    "aggregate_weights",
    "clip_weights",
    "ensemble_configs",
    "fit_temperature",
    "normalize_weights",
    "predict_logits",
    "start_from",
    "train_classifier",
    "unfreeze",
    "weights_from_logits",
]
