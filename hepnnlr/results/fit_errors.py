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
* stat_sim (when asked for): the same spread over replicas of the *simulated* samples
  (nominal and varied events weighted by Poisson(1), the reweighter retrained, the fit
  against the unweighted target): how much the answer moves with the finite simulation;
* total: ``sqrt(σ_stat² + σ_stat_sim² + σ_method²)``, the parts taken as independent.

``σ_method`` is the spread of a single repeat; the mean of ``M′`` repeats is steadier by
``√M′``, which :attr:`ParameterError.method_of_mean` reports. The total uses the spread
of one repeat, a conservative stand-in: the repeats share the samples, so they cannot see
the part of the reweighter's error that all seeds share (``stat_sim`` measures its
statistical part). Where the errors themselves are tested (a calibration's pulls,
docs/fits.md) that stand-in would hide wrong errors, so the calibration uses
:attr:`ParameterError.of_mean`, ``sqrt(σ_stat² + σ_method²/M′)``, and the errors shared
between targets as covariances. NumPy only.
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
        stat: Spread of the target's bootstrap replicas' shifts (None: no replicas).
        method: Spread of the kept repeats (None: one kept repeat).
        repeats: Kept repeats / all repeats.
        replicas: Replicas used / all replicas.
        bootstrap_bias: Mean replica shift ``d̄`` (None: no replicas); of order
            ``σ_stat / √B`` for a fit without bootstrap bias.
        stat_simulation: Spread over replicas of the simulated samples (None: none run).
        simulation_replicas: Those replicas used / all.
    """

    value: float
    stat: float | None
    method: float | None
    repeats: tuple[int, int]
    replicas: tuple[int, int]
    bootstrap_bias: float | None = None
    stat_simulation: float | None = None
    simulation_replicas: tuple[int, int] = (0, 0)

    @property
    def total(self) -> float | None:
        """The components there are in quadrature (None: none)."""
        parts = [p for p in (self.stat, self.stat_simulation, self.method) if p is not None]
        return float(np.hypot.reduce(parts)) if parts else None

    @property
    def method_of_mean(self) -> float | None:
        """``σ_method / √M′``: the training noise left in the mean of the kept repeats."""
        return None if self.method is None else self.method / np.sqrt(self.repeats[0])

    @property
    def of_mean(self) -> float | None:
        """``sqrt(σ_stat² + σ_method²/M′)``: the error of :attr:`value` (a mean of ``M′``
        repeats with independent seeds) from the target's finite sample and the training
        noise, without the simulation's error (None: neither part). A calibration's
        targets share the simulation and the reweighters: it is their own error, with
        the shared parts as covariances (:mod:`hepnnlr.results.calibration`)."""
        parts = [p for p in (self.stat, self.method_of_mean) if p is not None]
        return float(np.hypot.reduce(parts)) if parts else None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: ``value``, ``stat``, ``method``, ``total`` and the counts."""
        return {
            "value": self.value,
            "stat": self.stat,
            "method": self.method,
            "total": self.total,
            "stat_simulation": self.stat_simulation,
            "method_of_mean": self.method_of_mean,
            "bootstrap_bias": self.bootstrap_bias,
            "repeats_kept": self.repeats[0],
            "repeats": self.repeats[1],
            "replicas_used": self.replicas[0],
            "replicas": self.replicas[1],
            "simulation_replicas_used": self.simulation_replicas[0],
            "simulation_replicas": self.simulation_replicas[1],
        }


def _spread(
    name: str, shifts: Mapping[str, np.ndarray] | None, used: np.ndarray | None
) -> tuple[float | None, float | None, tuple[int, int]]:
    """``(std, mean, (used, all))`` of one parameter's shifts over the used replicas."""
    if shifts is None:
        return None, None, (0, 0)
    d = np.asarray(shifts[name], float)
    mask = np.ones(len(d), bool) if used is None else np.asarray(used, bool)
    if mask.shape != d.shape:
        raise ShapeMismatchError(
            f"combine_errors: {name} has {d.shape} shifts but used {mask.shape}."
        )
    n = int(mask.sum())
    if n < 2:
        return None, None, (n, len(d))
    return float(d[mask].std(ddof=1)), float(d[mask].mean()), (n, len(d))


def combine_errors(
    repeats: Mapping[str, np.ndarray],
    kept: np.ndarray,
    shifts: Mapping[str, np.ndarray] | None = None,
    used: np.ndarray | None = None,
    *,
    simulation_shifts: Mapping[str, np.ndarray] | None = None,
    simulation_used: np.ndarray | None = None,
) -> dict[str, ParameterError]:
    """``{name: ParameterError}`` from the repeats' values and the replicas' shifts.

    Args:
        repeats: ``{name: (M,)}`` fitted values of every repeat.
        kept: ``(M,)`` repeats entering the value and the method spread.
        shifts: ``{name: (B,)}`` target replica shifts ``θ_b − θ_{m(b)}`` (None: none).
        used: ``(B,)`` replicas entering the statistical spread (default all).
        simulation_shifts, simulation_used: The same for replicas of the simulation.
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
        stat, bias, counts = _spread(name, shifts, used)
        sim, _, sim_counts = _spread(name, simulation_shifts, simulation_used)
        out[name] = ParameterError(
            float(v.mean()),
            stat,
            float(v.std(ddof=1)) if len(v) > 1 else None,
            (int(kept.sum()), len(kept)),
            counts,
            bias,
            sim,
            sim_counts,
        )
    return out


def _number(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def error_table(
    errors: Mapping[str, ParameterError], targets: Mapping[str, float] | None = None
) -> list[str]:
    """The printed table: one row per parameter with value, stat, method, total.

    ``stat``: bootstrap of the target (replicas used/drawn); ``stat_sim`` (only when
    replicas of the simulation ran): bootstrap of the simulation; ``method``: spread of
    the repeats (kept/run); ``total``: all in quadrature.
    """
    targets = targets or {}
    simulation = any(e.simulation_replicas[1] for e in errors.values())
    sim_head = f"{'stat_sim':>11}" if simulation else ""
    rows = [
        f"  {'parameter':<12}{'value':>12}{'stat':>11}{sim_head}{'method':>11}{'total':>11}"
        f"{'target':>10}   repeats  replicas"
    ]
    for name, e in errors.items():
        target = _number(targets.get(name), 6) if name in targets else ""
        sim = f"{_number(e.stat_simulation):>11}" if simulation else ""
        used, drawn = e.simulation_replicas
        sim_count = f"  {used:>3}/{drawn} (sim)" if simulation else ""
        rows.append(
            f"  {name:<12}{e.value:>12.6g}{_number(e.stat):>11}{sim}{_number(e.method):>11}"
            f"{_number(e.total):>11}{target:>10}   {e.repeats[0]:>3}/{e.repeats[1]:<4}"
            f"  {e.replicas[0]:>3}/{e.replicas[1]}{sim_count}"
        )
    return rows
