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
* stat_sim (when asked for): how much the answer moves with the finite simulation, from
  replicas of the *simulated* samples (nominal and varied events weighted by Poisson(1),
  the reweighter of repeat ``m(b)`` retrained with that repeat's seed, the fit against the
  unweighted target). A replica's shift ``d_b = θ_b − θ_{m(b)}`` holds the simulation's
  fluctuation ``s_b`` *and* the difference of two trainings' noise, ``t_b − t_{m(b)}``:
  ``Var(d) = σ_sim² + 2(1 − ρ) σ_train²`` with ρ the correlation of a same-seed training
  on reweighted events with the unweighted one (0: the weights decorrelate the
  optimization path; 1: they do not). The spread of ``d`` alone (the estimator before
  issue 15) therefore counted the training noise that ``method`` already holds up to
  twice more. :func:`simulation_covariance_of` removes it for any ρ:
  ``σ_sim² = Var_b(θ_b) − Var_b(θ_{m(b)}) = Var_b(d_b) + 2 Cov_b(d_b, θ_{m(b)})``
  (the covariance term is ``−(1 − ρ) σ_train²``), floored at 0 and flagged
  (:attr:`ParameterError.stat_simulation_floored`) when the replicas' spread lies within
  the training noise;
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

__all__ = ["ParameterError", "combine_errors", "error_table", "simulation_covariance_of"]


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
        stat_simulation: The simulation's statistical error from its replicas, the
            training noise taken out (:func:`simulation_covariance_of`; None: none run).
        simulation_replicas: Those replicas used / all.
        simulation_shift_spread: The plain spread of the simulation replicas' shifts
            (the estimator before issue 15, training noise included; for comparison).
        stat_simulation_floored: The corrected variance came out negative (the
            replicas' spread is within the training noise) and was set to 0.
    """

    value: float
    stat: float | None
    method: float | None
    repeats: tuple[int, int]
    replicas: tuple[int, int]
    bootstrap_bias: float | None = None
    stat_simulation: float | None = None
    simulation_replicas: tuple[int, int] = (0, 0)
    simulation_shift_spread: float | None = None
    stat_simulation_floored: bool = False

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
            "simulation_shift_spread": self.simulation_shift_spread,
            "stat_simulation_floored": self.stat_simulation_floored,
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


def simulation_covariance_of(shifts: np.ndarray, paired: np.ndarray) -> np.ndarray:
    """The simulation's covariance between fits with the training noise taken out.

    Replica ``b`` of the simulation retrains the reweighter of repeat ``m(b)`` (its seed)
    on Poisson-weighted simulated events and fits ``θ_bk`` (target or parameter ``k``);
    ``d_bk = θ_bk − θ_{m(b)k}``. With ``θ_bk = c_k + s_bk + t_bk`` (``s``: the
    simulation's fluctuation, ``t``: training noise of variance ``σ_train²``, correlated
    by ρ with its repeat's ``t_{m(b)}``), the spread of ``d`` is
    ``σ_sim² + 2(1 − ρ)σ_train²``: the training noise, which the repeats' spread
    (``method``) already quotes, counted again. The replicas' values against their
    repeats' values remove it whatever ρ:

        C_kl = Cov_b(θ_bk, θ_bl) − Cov_b(θ_{m(b)k}, θ_{m(b)l})
             = Cov_b(d_k, d_l) + Cov_b(d_k, r_l) + Cov_b(r_k, d_l),   r_bk = θ_{m(b)k},

    (sample covariances, ddof = 1, over the same replicas), whose expectation is the
    covariance of ``s``. It needs the replicas spread over at least two repeats when ρ < 1
    (with one repeat, ``r`` is constant and ``C`` is the plain spread). Its diagonal can
    come out negative when ``σ_sim`` is small against ``σ_train``: the caller floors it.

    Args:
        shifts: ``(K, B)`` or ``(B,)`` shifts ``d_bk`` over the used replicas.
        paired: The same shape: the value ``θ_{m(b)k}`` of each replica's repeat.

    Returns:
        ``(K, K)`` covariance (``(1, 1)`` for one fit); not yet positive semi-definite.
    """
    d = np.atleast_2d(np.asarray(shifts, float))
    r = np.atleast_2d(np.asarray(paired, float))
    if d.shape != r.shape:
        raise ShapeMismatchError(
            f"simulation_covariance_of: shifts {d.shape} and paired {r.shape} differ; give "
            "each replica's shift and the value of the repeat it retrained."
        )
    if d.shape[1] < 2:
        raise EmptySelectionError(
            f"simulation_covariance_of: {d.shape[1]} replica(s); a spread needs at least 2."
        )
    joint = np.cov(np.vstack([d, r]))
    k = len(d)
    cross = joint[:k, k:]
    return joint[:k, :k] + cross + cross.T


def _simulation_spread(
    name: str,
    shifts: Mapping[str, np.ndarray] | None,
    used: np.ndarray | None,
    paired: Mapping[str, np.ndarray] | None,
) -> tuple[float | None, float | None, bool, tuple[int, int]]:
    """``(σ_sim, plain spread of the shifts, floored, (used, all))`` of one parameter."""
    raw, _, counts = _spread(name, shifts, used)
    if raw is None:
        return None, None, False, counts
    if paired is None:
        raise ValueError(
            "combine_errors: simulation_shifts without simulation_paired; give the value of "
            "the repeat each simulation replica retrained (its training noise is taken out)."
        )
    mask = np.ones(counts[1], bool) if used is None else np.asarray(used, bool)
    variance = float(
        simulation_covariance_of(
            np.asarray(shifts[name], float)[mask], np.asarray(paired[name], float)[mask]
        )[0, 0]
    )
    return float(np.sqrt(max(variance, 0.0))), raw, variance < 0, counts


def combine_errors(
    repeats: Mapping[str, np.ndarray],
    kept: np.ndarray,
    shifts: Mapping[str, np.ndarray] | None = None,
    used: np.ndarray | None = None,
    *,
    simulation_shifts: Mapping[str, np.ndarray] | None = None,
    simulation_used: np.ndarray | None = None,
    simulation_paired: Mapping[str, np.ndarray] | None = None,
) -> dict[str, ParameterError]:
    """``{name: ParameterError}`` from the repeats' values and the replicas' shifts.

    Args:
        repeats: ``{name: (M,)}`` fitted values of every repeat.
        kept: ``(M,)`` repeats entering the value and the method spread.
        shifts: ``{name: (B,)}`` target replica shifts ``θ_b − θ_{m(b)}`` (None: none).
        used: ``(B,)`` replicas entering the statistical spread (default all).
        simulation_shifts, simulation_used: The same for replicas of the simulation.
        simulation_paired: ``{name: (S,)}`` the value ``θ_{m(b)}`` of the repeat whose
            reweighter replica ``b`` retrained (needed with ``simulation_shifts``):
            ``stat_simulation`` is :func:`simulation_covariance_of`'s, floored at 0.
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
        sim, raw, floored, sim_counts = _simulation_spread(
            name, simulation_shifts, simulation_used, simulation_paired
        )
        out[name] = ParameterError(
            float(v.mean()),
            stat,
            float(v.std(ddof=1)) if len(v) > 1 else None,
            (int(kept.sum()), len(kept)),
            counts,
            bias,
            sim,
            sim_counts,
            raw,
            floored,
        )
    return out


def _number(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def error_table(
    errors: Mapping[str, ParameterError], targets: Mapping[str, float] | None = None
) -> list[str]:
    """The printed table: one row per parameter with value, stat, method, total.

    ``stat``: bootstrap of the target (replicas used/drawn); ``stat_sim`` (only when
    replicas of the simulation ran): bootstrap of the simulation with the training noise
    taken out (a line below names a parameter where it was floored at 0); ``method``:
    spread of the repeats (kept/run); ``total``: all in quadrature.
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
    rows += [
        f"  {name}: stat_sim floored at 0: the simulation replicas' spread "
        f"({_number(e.simulation_shift_spread)}) is within the training noise they hold"
        for name, e in errors.items()
        if e.stat_simulation_floored
    ]
    return rows
