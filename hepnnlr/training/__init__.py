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
from hepnnlr.training.flows import (
    TrainedFlow,
    train_flow,
)
from hepnnlr.training.gan import (
    GANConfig,
    TrainedGAN,
    train_gan,
)
from hepnnlr.training.losses import (
    LOSS_KINDS,
    AbsoluteError,
    GaussianKernel,
    GeneralizedAbsoluteError,
    HuberError,
    LeakyGaussianKernel,
    LossSpec,
    SquaredError,
)
from hepnnlr.training.parameterized import (
    EnsembleRatio,
    NormalizedRatio,
    ParameterizedRatio,
    normalize_ratio,
    train_parameterized_ratio,
)
from hepnnlr.training.pretrain import start_from, unfreeze
from hepnnlr.training.ratio import (
    ClipReport,
    clip_weights,
    fit_temperature,
    normalize_weights,
    weights_from_logits,
)
from hepnnlr.training.refit import (
    Refitter,
)
from hepnnlr.training.regression import (
    MomentSpread,
    QuantileSpread,
    RegressorEnsemble,
    TrainedRegressor,
    train_moment_spread,
    train_quantile_spread,
    train_regressor,
    train_regressor_ensemble,
)
from hepnnlr.training.saved import SavedReweighter

__all__ = [
    "EnsembleRatio",
    "NormalizedRatio",
    "normalize_ratio",
    "AbsoluteError",
    "aggregate_weights",
    "AGGREGATIONS",
    "clip_weights",
    "ClipReport",
    "ensemble_configs",
    "fit_temperature",
    "GANConfig",
    "GaussianKernel",
    "GeneralizedAbsoluteError",
    "HuberError",
    "LeakyGaussianKernel",
    "LOSS_KINDS",
    "LossSpec",
    "MomentSpread",
    "normalize_weights",
    "ParameterizedRatio",
    "predict_logits",
    "QuantileSpread",
    "Refitter",
    "RegressorEnsemble",
    "SavedReweighter",
    "SquaredError",
    "start_from",
    "train_classifier",
    "train_flow",
    "train_gan",
    "train_moment_spread",
    "train_parameterized_ratio",
    "train_quantile_spread",
    "train_regressor",
    "train_regressor_ensemble",
    "TrainedClassifier",
    "TrainedFlow",
    "TrainedGAN",
    "TrainedRegressor",
    "TrainingConfig",
    "unfreeze",
    "weights_from_logits",
]
