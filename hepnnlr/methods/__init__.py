"""The papers' methods, one module each, composed from tensors, models and training."""

from __future__ import annotations

from hepnnlr.methods.dctr import DCTRConfig, DCTRFitResult, DCTRReweighter, dctr_fit
from hepnnlr.methods.omnifold import OmniFoldConfig, OmniFoldResult, omnifold
from hepnnlr.methods.omnifold_ensembles import (
    EnsembleOfUnfoldings,
    bootstrap_omnifold,
    parallel_omnifold,
)
from hepnnlr.methods.srgn import (
    SRGNConfig,
    SRGNFitResult,
    SRGNObjective,
    SRGNScan,
    remove_outliers,
    repeat_fits,
    srgn_fit,
    srgn_scan,
    summarize,
)

__all__ = [
    "DCTRConfig",
    "DCTRFitResult",
    "DCTRReweighter",
    "EnsembleOfUnfoldings",
    "OmniFoldConfig",
    "OmniFoldResult",
    "bootstrap_omnifold",
    "omnifold",
    "parallel_omnifold",
    "SRGNConfig",
    "SRGNFitResult",
    "SRGNObjective",
    "SRGNScan",
    "dctr_fit",
    "remove_outliers",
    "repeat_fits",
    "srgn_fit",
    "srgn_scan",
    "summarize",
]
