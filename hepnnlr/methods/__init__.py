"""hepnnlr's methods (works in docs/references.md), one module each, composed from
tensors, models and training.

Importing this package imports none of them: each name below loads its module on first use,
so the NumPy statistics of the signal-strength method (``mixture_likelihood``, ``nll``,
``intervals``, ``minuit_fit``, ``coverage``) and the scan maths (``scans``) come without
TensorFlow, which only the modules that train or load a network import.
"""

from __future__ import annotations

from hepnnlr._lazy import attach

# defining module -> public names; each module is imported on first use of a name
_EXPORTS = {
    "hepnnlr.methods.calo_surrogate": ("CaloSurrogate", "train_calo_surrogate"),
    "hepnnlr.methods.dctr": ("DCTRReweighter",),
    "hepnnlr.methods.dctr_config": ("DCTRConfig",),
    "hepnnlr.methods.theta": ("ThetaScale", "with_theta"),
    "hepnnlr.methods.dctr_fits": (
        "DCTRFitResult",
        "dctr_fit",
        "dctr_loss",
        "dctr_scan",
        "scan_axes",
    ),
    "hepnnlr.methods.dctrgan": (
        "AllWeightsClippedError",
        "DCTRGANConfig",
        "DCTRGANReweighter",
        "DCTRGANResult",
        "WeightClippingWarning",
        "dctrgan_weights",
    ),
    "hepnnlr.methods.omnifold": ("OmniFoldResult", "omnifold"),
    "hepnnlr.methods.omnifold_config": ("OmniFoldConfig",),
    "hepnnlr.methods.omnifold_ensembles": (
        "OmniFoldEnsembleResult",
        "bootstrap_omnifold",
        "parallel_omnifold",
    ),
    "hepnnlr.methods.response": (
        "ResponseConfig",
        "ResponseModel",
        "correction_from_function",
        "generalized_numerical_inversion",
        "numerical_inversion",
    ),
    "hepnnlr.methods.scans": ("Scan", "parabola_vertex", "scan_vertex"),
    "hepnnlr.methods.coverage": (
        "CoverageResult",
        "TestSetResult",
        "bootstrap_counts",
        "bootstrap_coverage",
        "coverage_from_toys",
        "evaluate_test_set",
        "likelihood_overlap",
    ),
    "hepnnlr.methods.intervals": ("Interval", "profile_interval", "wilks_intervals"),
    "hepnnlr.methods.minuit_fit": ("MinuitFitResult", "minimize_nll"),
    "hepnnlr.methods.mixture_likelihood": (
        "ConditionalLogDensity",
        "MixtureLikelihood",
        "ParameterizedSample",
    ),
    "hepnnlr.methods.nll": ("profile_nll", "scan_nll"),
    "hepnnlr.methods.signal_strength": ("train_classifier_route", "train_flow_route"),
    "hepnnlr.methods.srgn": (
        "SRGN_STRATEGIES",
        "SRGNConfig",
        "SRGNFitResult",
        "SRGNObjective",
        "remove_outliers",
        "repeat_fits",
        "srgn_fit",
        "srgn_scan",
        "summarize",
    ),
}

# names before issue 18's naming rule (results end in ``Result``): still resolved, for code
# written against them, but not in ``__all__``
_RENAMED = {
    "DCTRGANWeights": "DCTRGANResult",
    "EnsembleOfUnfoldings": "OmniFoldEnsembleResult",
    "MinuitFit": "MinuitFitResult",
    "TestSetMetrics": "TestSetResult",
}
_getattr, __dir__, __all__ = attach(__name__, _EXPORTS)


def __getattr__(name: str):
    return _getattr(_RENAMED.get(name, name))
