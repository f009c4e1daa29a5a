"""From classifier logits to likelihood-ratio weights."""

from __future__ import annotations

import numpy as np

from hepnnlr.tensors.checks import check_finite

__all__ = ["weights_from_logits"]

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
