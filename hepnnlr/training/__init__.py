"""Training classifiers with weighted binary cross entropy, and turning them into ratios.

A classifier trained with (per-class normalized) weighted BCE between samples A (label 1)
and B (label 0) learns ``f/(1-f) = p_A/p_B``; with a linear output ``logit = log(f/(1-f))``
the likelihood ratio is ``w = exp(logit)`` (Eq. 1 of Torales Acosta, Wamorkar, Mikuni,
Nachman, "Stabilizing Neural Likelihood Ratio Estimation", arXiv:2503.20753).
"""

from __future__ import annotations

import hepnnlr.tensors  # noqa: F401  (quiet TensorFlow start-up before keras imports it)
from hepnnlr._lazy import attach

# defining module -> public names; each module is imported on first use of a name
_EXPORTS = {
    "hepnnlr.training.classifier": ("TrainedClassifier", "predict_logits", "train_classifier"),
    "hepnnlr.training.config": ("TrainingConfig",),
    "hepnnlr.training.ensemble": ("AGGREGATIONS", "aggregate_weights", "ensemble_configs"),
    "hepnnlr.training.flows": ("TrainedFlow", "train_flow"),
    "hepnnlr.training.gan": ("GANConfig", "TrainedGAN", "train_gan"),
    "hepnnlr.training.losses": (
        "LOSS_KINDS",
        "AbsoluteError",
        "GaussianKernel",
        "GeneralizedAbsoluteError",
        "HuberError",
        "LeakyGaussianKernel",
        "LossSpec",
        "SquaredError",
    ),
    "hepnnlr.training.parameterized": (
        "EnsembleRatio",
        "NormalizedRatio",
        "ParameterizedRatio",
        "normalize_ratio",
        "train_parameterized_ratio",
    ),
    "hepnnlr.training.pretrain": ("start_from", "unfreeze"),
    "hepnnlr.training.ratio": (
        "ClipReport",
        "clip_weights",
        "fit_temperature",
        "normalize_weights",
        "weights_from_logits",
    ),
    "hepnnlr.training.refit": ("Refitter",),
    "hepnnlr.training.regression": (
        "MomentSpread",
        "QuantileSpread",
        "RegressorEnsemble",
        "TrainedRegressor",
        "train_moment_spread",
        "train_quantile_spread",
        "train_regressor",
        "train_regressor_ensemble",
    ),
    "hepnnlr.training.saved": ("SavedReweighter",),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
