"""A fitted parameter with its statistical and its method uncertainty, apart and combined.

For a fit repeated ``M`` times with different training seeds on the same samples, and
refitted on ``B`` bootstrap replicas of the target (docs/fits.md):

* value: the mean of the kept repeats, ``θ̂ = (1/M′) Σ_m θ_m``;
* method: their standard deviation, ``σ_method = sqrt(Σ_m (θ_m − θ̂)² / (M′ − 1))``: how
  much the answer moves with the networks' initialization, batch order and parameter
  draws (None with a single kept repeat);
* stat: the standard deviation of the replica shifts ``d_b = θ_b − θ_{m(b)}`` (replica
  ``b`` refits repeat ``m(b)``'s fit on the target reweighted by Poisson(1) weights),
  ``σ_stat = sqrt(Σ_b (d_b − d̄)² / (B′ − 1))``: how much the answer moves with the finite
  target sample (None without replicas);
* total: ``sqrt(σ_stat² + σ_method²)``, the two taken as independent.

``σ_method`` is the spread of a single repeat; the mean of ``M′`` repeats is steadier by
``√M′``, which :attr:`ParameterError.method_of_mean` reports, but the total uses the
spread of one repeat: the repeats share the samples, so averaging them does not average
the reweighter's systematic error away. NumPy only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from hepnnlr.errors import EmptySelectionError, ShapeMismatchError

__all__ = ["ParameterError", "combine_errors", "error_table"]


@dataclass(frozen=True)
class ParameterError:
    """One fitted parameter: value, statistical, method and total uncertainty.

    Attributes:
        value: Mean of the kept repeats.
        stat: Spread of the bootstrap replicas' shifts (None: no replicas).
        method: Spread of the kept repeats (None: one kept repeat).
        repeats: Kept repeats / all repeats.
        replicas: Replicas used / all replicas.
        bootstrap_bias: Mean replica shift ``d̄`` (None: no replicas); of order
            ``σ_stat / √B`` for a fit without bootstrap bias.
    """

    value: float
    stat: float | None
    method: float | None
    repeats: tuple[int, int]
    replicas: tuple[int, int]
    bootstrap_bias: float | None = None

    @property
    def total(self) -> float | None:
        """``sqrt(stat² + method²)`` of the components there are (None: neither)."""
        parts = [p for p in (self.stat, self.method) if p is not None]
        return float(np.hypot.reduce(parts)) if parts else None

    @property
    def method_of_mean(self) -> float | None:
        """``σ_method / √M′``: the training noise left in the mean of the kept repeats."""
        return None if self.method is None else self.method / np.sqrt(self.repeats[0])

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: ``value``, ``stat``, ``method``, ``total`` and the counts."""
        return {
            "value": self.value,
            "stat": self.stat,
            "method": self.method,
            "total": self.total,
            "method_of_mean": self.method_of_mean,
            "bootstrap_bias": self.bootstrap_bias,
            "repeats_kept": self.repeats[0],
            "repeats": self.repeats[1],
            "replicas_used": self.replicas[0],
            "replicas": self.replicas[1],
        }


def combine_errors(
    repeats: Mapping[str, np.ndarray],
    kept: np.ndarray,
    shifts: Mapping[str, np.ndarray] | None = None,
    used: np.ndarray | None = None,
) -> dict[str, ParameterError]:
    """``{name: ParameterError}`` from the repeats' values and the replicas' shifts.

    Args:
        repeats: ``{name: (M,)}`` fitted values of every repeat.
        kept: ``(M,)`` repeats entering the value and the method spread.
        shifts: ``{name: (B,)}`` replica shifts ``θ_b − θ_{m(b)}`` (None: no replicas).
        used: ``(B,)`` replicas entering the statistical spread (default all).
    """
    kept = np.asarray(kept, bool)
    if not kept.any():
        raise EmptySelectionError("combine_errors: no repeat is kept; nothing to report.")
    out = {}
    for name, values in repeats.items():
        values = np.asarray(values, float)
        if values.shape != kept.shape:
            raise ShapeMismatchError(
                f"combine_errors: {name} has {values.shape} repeats but kept {kept.shape}."
            )
        v = values[kept]
        stat = bias = None
        n_used = n_all = 0
        if shifts is not None:
            d = np.asarray(shifts[name], float)
            mask = np.ones(len(d), bool) if used is None else np.asarray(used, bool)
            if mask.shape != d.shape:
                raise ShapeMismatchError(
                    f"combine_errors: {name} has {d.shape} shifts but used {mask.shape}."
                )
            n_used, n_all = int(mask.sum()), len(d)
            if n_used >= 2:
                stat = float(d[mask].std(ddof=1))
                bias = float(d[mask].mean())
        out[name] = ParameterError(
            float(v.mean()),
            stat,
            float(v.std(ddof=1)) if len(v) > 1 else None,
            (int(kept.sum()), len(kept)),
            (n_used, n_all),
            bias,
        )
    return out


def _number(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def error_table(
    errors: Mapping[str, ParameterError], targets: Mapping[str, float] | None = None
) -> list[str]:
    """The printed table: one row per parameter with value, stat, method, total.

    ``stat``: bootstrap of the target (replicas used/drawn); ``method``: spread of the
    repeats (kept/run); ``total``: both in quadrature.
    """
    targets = targets or {}
    rows = [
        f"  {'parameter':<12}{'value':>12}{'stat':>11}{'method':>11}{'total':>11}"
        f"{'target':>10}   repeats  replicas"
    ]
    for name, e in errors.items():
        target = _number(targets.get(name), 6) if name in targets else ""
        rows.append(
            f"  {name:<12}{e.value:>12.6g}{_number(e.stat):>11}{_number(e.method):>11}"
            f"{_number(e.total):>11}{target:>10}   {e.repeats[0]:>3}/{e.repeats[1]:<4}"
            f"  {e.replicas[0]:>3}/{e.replicas[1]}"
        )
    return rows
