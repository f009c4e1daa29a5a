"""The continuous minimum of the signal-strength NLL with iminuit (MIGRAD + MINOS).

An alternative to the grid scan of :mod:`hepnnlr.methods.nll` for the mixture likelihood of
B. Sluijter, *Classifiers versus Normalizing Flows for uncertainty-aware estimation of a
signal ratio*, MSc thesis, Leiden University 2024, hdl:1887/4104579;
iminuit is imported when a fit runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hepnnlr.methods.mixture_likelihood import MixtureLikelihood, as_feature_matrix
from hepnnlr.methods.nll import nll_from_table

__all__ = ["MinuitFitResult", "minimize_nll"]


@dataclass(frozen=True)
class MinuitFitResult:
    """Continuous minimum of the NLL with iminuit (MIGRAD + MINOS at ΔNLL = 0.5).

    Attributes:
        mu, z: Best-fit values.
        nll: NLL at the minimum.
        mu_interval, z_interval: MINOS 68.27 % intervals ``(low, high)`` (profile intervals).
        valid: Whether MIGRAD converged.
        calls: NLL evaluations.
    """

    mu: float
    z: float
    nll: float
    mu_interval: tuple[float, float]
    z_interval: tuple[float, float]
    valid: bool
    calls: int


# The name before issue 18's naming rule (results end in ``Result``); kept so code
# written against it still runs, and left out of ``__all__``.
MinuitFit = MinuitFitResult


def minimize_nll(
    likelihood: MixtureLikelihood,
    data: Any,
    *,
    start: tuple[float, float] | None = None,
    mu_limits: tuple[float, float] | None = None,
    minos: bool = True,
) -> MinuitFitResult:
    """Minimize ``NLL(μ, z)`` with iminuit, as an alternative to the grid scan.

    Args:
        likelihood: The model.
        data: Features (array or mapping of columns).
        start: Starting ``(μ, z)``; default ``(0.2, middle of the z range)``.
        mu_limits: Bounds of μ; default ``likelihood.mu_range`` capped at 10.
        minos: Also run MINOS for the profile intervals (ΔNLL = 0.5); an interval MINOS
            cannot find (e.g. a step outside where the model is defined) is (nan, nan).
    """
    from iminuit import Minuit

    x = as_feature_matrix(data, likelihood.features)
    z_low, z_high = likelihood.z_range
    mu_limits = mu_limits or (likelihood.mu_range[0], min(likelihood.mu_range[1], 10.0))
    start = start or (0.2, 0.5 * (z_low + z_high))
    cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def nll(mu: float, z: float) -> float:
        if not (np.isfinite(mu) and np.isfinite(z)):
            # MINOS can probe a non-finite point; no model has a density there, so the
            # step fails (iminuit rejects it) instead of the whole fit.
            return float("inf")
        key = float(z)
        if key not in cache:
            if len(cache) > 64:
                cache.clear()
            cache[key] = likelihood.event_log_densities(x, np.array([key]))
        log_sig, log_bkg = cache[key]
        return float(nll_from_table(log_sig, log_bkg, np.array([float(mu)]))[0, 0])

    minuit = Minuit(nll, mu=float(start[0]), z=float(start[1]))
    minuit.errordef = Minuit.LIKELIHOOD  # 0.5: NLL, not chi2
    minuit.limits["mu"] = mu_limits
    minuit.limits["z"] = (z_low, z_high)
    minuit.migrad()
    mu_int = z_int = (np.nan, np.nan)
    if minos and minuit.valid:
        minuit.minos()
        mu_err, z_err = minuit.merrors["mu"], minuit.merrors["z"]
        if mu_err.is_valid:
            mu_int = (minuit.values["mu"] + mu_err.lower, minuit.values["mu"] + mu_err.upper)
        if z_err.is_valid:
            z_int = (minuit.values["z"] + z_err.lower, minuit.values["z"] + z_err.upper)
    return MinuitFitResult(
        float(minuit.values["mu"]),
        float(minuit.values["z"]),
        float(minuit.fval),
        mu_int,
        z_int,
        bool(minuit.valid),
        int(minuit.nfcn),
    )
