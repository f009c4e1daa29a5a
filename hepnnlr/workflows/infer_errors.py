"""The uncertainties of ``hepnnlr infer``: statistical and method errors of every fitted number.

For each route (``exact``, ``classifier``, ``flow``) the fitted numbers are the profile
minimum and the 68.27 % Wilks interval of μ and of z on the scan grid (``mu``,
``mu_low``, ``mu_high``, ``z``, ``z_low``, ``z_high``; :func:`fitted_values`). Their
uncertainties follow ``hepnnlr fit`` (:mod:`hepnnlr.results.fit_errors`, docs/infer.md):

* *method*: ``uncertainty.repeats`` = M trainings of the route with the training seeds
  ``seed + r`` on the same training samples; the spread of their fitted numbers (the
  exact likelihood has no training, so no method error);
* *statistical*: ``uncertainty.bootstrap`` = B replicas of the fitted dataset, each event
  weighted by Poisson(1) from the stream ``(seed, b)``
  (:func:`hepnnlr.methods.bootstrap.poisson_weights`). The trained densities stay frozen —
  they are trained on simulation only, never on the fitted data — so a replica only
  rescans: the NLL is linear in the event weights
  (:func:`~hepnnlr.methods.nll.nll_from_table` with the weights as counts).
  Replica ``b`` rescans with repeat ``b mod M``'s densities; its shift from that repeat
  is the statistical fluctuation;
* *total*: both in quadrature.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from hepnnlr.methods.intervals import profile_interval
from hepnnlr.methods.mixture_likelihood import MixtureLikelihood
from hepnnlr.methods.nll import PARAMETERS, nll_from_table
from hepnnlr.methods.scans import Scan
from hepnnlr.results.fit_errors import ParameterError, combine_errors
from hepnnlr.results.plots import save_figure
from hepnnlr.results.style import PlotStyle, experiment_label, styled
from hepnnlr.workflows.infer_checkpoint import InferUnits
from hepnnlr.workflows.uncertainty import check_uncertainty, error_model

__all__ = [
    "ERROR_MODEL",
    "FITTED",
    "InferUncertaintyConfig",
    "fitted_values",
    "infer_uncertainties",
    "plot_errors",
    "route_errors",
]

FITTED = ("mu", "mu_low", "mu_high", "z", "z_low", "z_high")
"""The fitted numbers of a route: profile minimum and 68.27 % Wilks interval of μ and z."""

ERROR_MODEL = {
    "value": "mean over the repeats of the profile minimum (mu, z) and of the 68.27 % Wilks "
    "interval ends (mu_low, mu_high, z_low, z_high) on the scan grid",
    "stat": "statistical: standard deviation over bootstrap replicas of the fitted dataset "
    "(Poisson(1) event weights, stream (uncertainty.seed, b)) of each replica's shift from "
    "the repeat whose frozen densities it rescans (repeat b mod M)",
    "method": "method: standard deviation over the repeats (the route retrained with "
    "training seed + r on the same training samples); none for the exact likelihood",
    "total": "stat and method in quadrature",
}


@dataclass(frozen=True)
class InferUncertaintyConfig:
    """The ``uncertainty`` section of an inference job (the names of ``hepnnlr fit``).

    Attributes:
        repeats: Trainings of each trained route with the seeds ``seed + r``; their
            spread is the *method* uncertainty (2 or more to quote it). Each costs a
            training of the routes.
        bootstrap: Replicas of the fitted dataset (Poisson(1) weights, densities frozen);
            their spread is the *statistical* uncertainty. 0: none, else at least 2.
            Cheap: one rescan of the event densities per replica.
        seed: Training seed of repeat 0 and seed of the replicas' weights (default
            ``training.seed``).
    """

    repeats: int = 1
    bootstrap: int = 20
    seed: int | None = None

    def __post_init__(self) -> None:
        check_uncertainty(self.repeats, self.bootstrap, self.seed, training="training")


def fitted_values(nll: np.ndarray, mu_grid: np.ndarray, z_grid: np.ndarray) -> dict[str, float]:
    """The :data:`FITTED` numbers of one ``(n_mu, n_z)`` NLL grid (68.27 %, ΔNLL = 0.5)."""
    scan = Scan(PARAMETERS, (mu_grid, z_grid), nll, kind="nll")
    out = {}
    for parameter in ("mu", "z"):
        interval = profile_interval(scan, parameter, 0.5)
        out[parameter] = interval.best
        out[f"{parameter}_low"] = interval.low
        out[f"{parameter}_high"] = interval.high
    return out


def route_errors(
    likelihoods: Sequence[MixtureLikelihood],
    data: Any,
    mu_grid: np.ndarray,
    z_grid: np.ndarray,
    *,
    bootstrap: int,
    seed: int,
) -> tuple[dict[str, ParameterError], dict[str, Any]]:
    """Value, stat, method and total of every fitted number of one route.

    Args:
        likelihoods: The route trained once per repeat (one for the exact likelihood).
        data: The fitted dataset.
        mu_grid, z_grid: The scan grid.
        bootstrap: Replicas of ``data`` (0: no statistical error).
        seed: Seed of the replicas' Poisson weights (stream ``(seed, b)``).

    Returns:
        ``({name: ParameterError}, {"repeats": {name: [...]}, "replicas": {name: [...]}})``.
    """
    tables = [lk.event_log_densities(data, z_grid) for lk in likelihoods]
    return _errors_of_tables(tables, mu_grid, z_grid, bootstrap=bootstrap, seed=seed)


def _errors_of_tables(
    tables: Sequence[tuple[np.ndarray, np.ndarray]],
    mu_grid: np.ndarray,
    z_grid: np.ndarray,
    *,
    bootstrap: int,
    seed: int,
) -> tuple[dict[str, ParameterError], dict[str, Any]]:
    """:func:`route_errors` from each repeat's per-event log densities on the dataset."""
    repeats = [fitted_values(nll_from_table(s, b, mu_grid), mu_grid, z_grid) for s, b in tables]
    n_events = len(tables[0][0])
    replicas: list[dict[str, float]] = []
    shifts: dict[str, list[float]] = {name: [] for name in FITTED}
    m = len(tables)
    if bootstrap:
        # bootstrap.py imports the DCTR fits (TensorFlow); a job's checks do not need it
        from hepnnlr.methods.bootstrap import poisson_weights

        weights = np.stack([poisson_weights(n_events, b, seed) for b in range(bootstrap)])
        nll = {r: nll_from_table(*tables[r], mu_grid, weights[r::m]) for r in range(m)}
        for b in range(bootstrap):
            values = fitted_values(nll[b % m][b // m], mu_grid, z_grid)
            replicas.append(values)
            for name in FITTED:
                shifts[name].append(values[name] - repeats[b % m][name])
    per_repeat = {name: np.array([r[name] for r in repeats]) for name in FITTED}
    errors = combine_errors(
        per_repeat,
        np.ones(m, bool),
        {k: np.array(v) for k, v in shifts.items()} if bootstrap else None,
    )
    record = {
        "repeats": {k: v.tolist() for k, v in per_repeat.items()},
        "replicas": {name: [r[name] for r in replicas] for name in FITTED},
    }
    return errors, record


@styled
def plot_errors(
    errors: Mapping[str, Mapping[str, ParameterError]],
    truth: Mapping[str, float] | None,
    path: Path,
    *,
    z_unit: float = 1.0,
    z_label: str | None = None,
    style: PlotStyle,
    formats: Sequence[str] = ("png",),
) -> list[Path]:
    """μ and z per route: the value with its stat, method and total error bars, labelled;
    ``style`` a :class:`~hepnnlr.results.PlotStyle` or a name (default CMS), ``formats``
    the files written."""
    fig = Figure(figsize=(13.5, 5.7))
    axes = fig.subplots(1, 2, sharey=True)  # one set of route names, on the left
    routes = list(errors)
    for ax, parameter in zip(axes, ("mu", "z"), strict=True):
        scale = 1.0 if parameter == "mu" else z_unit
        labelled: set[str] = set()
        for k, route in enumerate(routes):
            e = errors[route][parameter]
            for offset, width, colour, label in (
                (-0.15, e.stat, "C2", "stat (bootstrap of the data)"),
                (0.0, e.method, "C1", "method (repeats)"),
                (0.15, e.total, "0.3", "total"),
            ):
                if width is None:
                    continue
                ax.errorbar(
                    e.value / scale,
                    k + offset,
                    xerr=width / scale,
                    fmt="o",
                    color=colour,
                    ms=3,
                    capsize=3,
                    label=None if label in labelled else label,
                )
                labelled.add(label)
        if truth is not None and parameter in truth:
            ax.axvline(truth[parameter] / scale, color="k", ls="--", label="truth")
        ax.set_yticks(range(len(routes)), routes)
        ax.locator_params(axis="x", nbins=5)
        ax.set_ylim(-0.6, len(routes) - 0.4)
        unit = "" if parameter == "mu" or scale == 1.0 else " / π"
        ax.set_xlabel("μ" if parameter == "mu" else (z_label or f"z{unit}"))
    axes[0].legend(fontsize="x-small", loc="best")
    title = "fitted values: stat (bootstrap), method (repeats) and total"
    axes[1].set_title(title, fontsize="x-small", loc="right")  # the label is on the left
    experiment_label(axes[0], style)
    return save_figure(fig, Path(path), formats, dpi=style.dpi)


def infer_uncertainties(
    likelihoods: Mapping[str, MixtureLikelihood],
    retrain: Callable[[int], Mapping[str, MixtureLikelihood]],
    data: Any,
    mu_grid: np.ndarray,
    z_grid: np.ndarray,
    settings: InferUncertaintyConfig,
    seed: int,
    units: InferUnits | None = None,
) -> tuple[dict[str, dict[str, ParameterError]], dict[str, Any]]:
    """Every route's :func:`route_errors`, retraining the trained routes per repeat.

    Args:
        likelihoods: Repeat 0's routes (trained with ``seed``).
        retrain: ``training seed -> {route: MixtureLikelihood}`` of the trained routes on
            the same training samples (the exact likelihood is not retrained).
        data, mu_grid, z_grid: The fitted dataset and the scan grid.
        settings: Repeats and replicas.
        seed: Repeat 0's training seed; repeat ``r`` trains with ``seed + r``, and the
            replicas' weights use the stream ``(seed, b)``.
        units: Loads and saves each repeat's densities on ``data`` (a checkpoint unit
            per repeat, :mod:`hepnnlr.workflows.infer_checkpoint`); default: none kept.

    Returns:
        ``({route: {name: ParameterError}}, summary section)``.
    """
    units = units or InferUnits()
    # Each repeat is kept as the densities the errors need (not its networks): a resumed
    # job loads them instead of retraining.
    passes = {route: [lk.event_log_densities(data, z_grid)] for route, lk in likelihoods.items()}
    for r in range(1, settings.repeats):
        tables = units.tables(
            f"repeat-{r}",
            lambda r=r: {
                route: lk.event_log_densities(data, z_grid)
                for route, lk in retrain(seed + r).items()
            },
        )
        for route, table in tables.items():
            passes[route].append(table)
    errors, records = {}, {}
    for route, trained in passes.items():
        errors[route], records[route] = _errors_of_tables(
            trained, mu_grid, z_grid, bootstrap=settings.bootstrap, seed=seed
        )
    section = {
        "uncertainty": {"repeats": settings.repeats, "bootstrap": settings.bootstrap, "seed": seed},
        "error_model": error_model(ERROR_MODEL, settings.repeats, settings.bootstrap),
        "uncertainties": {
            route: {name: e.to_dict() for name, e in per.items()} for route, per in errors.items()
        },
        "uncertainty_passes": records,
    }
    return errors, section


# names before issue 18's naming rule (job sections end in ``Config``): still importable,
# for code written against them, but not in ``__all__``
InferUncertainty = InferUncertaintyConfig
