"""The uncertainties of ``hepnnlr unfold``: per observable and bin, stat, method and total.

:func:`unfolding_errors` turns the parallel runs (other training seeds: the *method*
uncertainty) and the bootstrap replicas of the data (Poisson(1) weights, every classifier
retrained: the *statistical* uncertainty) into :class:`~hepnnlr.results.BinErrors` per
unfolded histogram; the other functions put them into the outputs: the regions of
``histograms.root`` (:func:`unfolding_regions`: ``gen_<name>/unfolded_stat_up``, ...), the
plots' bands, the summary's
``uncertainties`` and ``error_model``, and the printed lines (docs/omnifold.md,
"Uncertainties of hepnnlr unfold").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import hist
import numpy as np

from hepnnlr.errors import ConfigError, EmptySelectionError
from hepnnlr.results.hist_layout import stack_variations, variation_histograms
from hepnnlr.results.stats import chi2_test
from hepnnlr.results.uncertainties import BinErrors, bin_errors, with_errors
from hepnnlr.workflows.uncertainty import check_uncertainty

if TYPE_CHECKING:  # annotations only: the ensembles module trains networks (TensorFlow)
    from hepnnlr.methods.omnifold_ensembles import EnsembleOfUnfoldings

__all__ = [
    "ERROR_MODEL",
    "UnfoldUncertaintyConfig",
    "comparison",
    "error_bands",
    "error_lines",
    "truth_chi2",
    "unfolding_errors",
    "unfolding_regions",
    "with_total",
]

_LOG = logging.getLogger(__name__)

ERROR_MODEL = {
    "value": "unfolded histogram of the aggregated weights of the runs "
    "(omnifold.aggregation, default mean)",
    "stat": "statistical: standard deviation over bootstrap replicas of the data (every data "
    "event weighted by Poisson(1), stream (seeds.data, b); the whole OmniFold retrained with "
    "the seeds of run b mod repeats) of each replica's shift from that run, per bin",
    "method": "method: standard deviation over the runs with other training seeds "
    "(uncertainty.repeats; run r trains with seed + 10000 r), per bin: the spread of one run",
    "total": "stat and method in quadrature, per bin; the unfolded histograms' variances",
    "method_of_mean": "method / sqrt(repeats): the training noise left in the mean of the runs",
    "not_included": "the simulation's statistical error (its events are not resampled) and "
    "the model dependence of the prior",
}
"""What each component in ``summary.json["uncertainties"]`` means."""


@dataclass(frozen=True)
class UnfoldUncertaintyConfig:
    """The uncertainties of the unfolded histograms (the ``uncertainty`` section; the same
    names and meanings as ``hepnnlr fit``'s, docs/omnifold.md).

    Attributes:
        repeats: Full unfoldings with other training seeds (run ``r``: ``seed + 10000 r``;
            parallel ensembling, Algorithm 1 of Torales Acosta, Wamorkar, Mikuni, Nachman,
            "Stabilizing Neural Likelihood Ratio Estimation", arXiv:2503.20753), combined by
            ``omnifold.aggregation``; their spread per bin is the *method* uncertainty (2 or
            more to quote it).
        bootstrap: Bootstrap replicas of the data (0: none, else at least 2): every data
            event weighted by Poisson(1) and the whole OmniFold retrained; the spread of
            their shifts per bin is the *statistical* uncertainty. Each costs one run.
        seed: Training seed of run 0 (default ``omnifold.training.seed``).
    """

    repeats: int = 1
    bootstrap: int = 0
    seed: int | None = None

    def __post_init__(self) -> None:
        check_uncertainty(self.repeats, self.bootstrap, self.seed, training="unfolding")


def unfolding_errors(
    unfolded: Mapping[str, hist.Hist],
    histograms_of: Callable[[np.ndarray], Mapping[str, hist.Hist]],
    runs: EnsembleOfUnfoldings,
    replicas: EnsembleOfUnfoldings | None,
) -> dict[str, BinErrors]:
    """``{observable: BinErrors}`` of every 1-D unfolded histogram.

    Args:
        unfolded: The unfolded histograms (of the aggregated weights).
        histograms_of: ``weights -> {observable: Hist}``, the same filling as ``unfolded``.
        runs: The parallel runs (their spread: method).
        replicas: The bootstrap replicas (their shifts from the run they retrain: stat).
    """

    def contents(weights: np.ndarray) -> dict[str, np.ndarray]:
        return {k: h.values() for k, h in histograms_of(weights).items()}

    run_contents = [contents(w) for w in runs.member_weights()]
    replica_contents = [] if replicas is None else [contents(w) for w in replicas.member_weights()]
    out = {}
    for name, h in unfolded.items():
        if len(h.axes) != 1:
            continue
        repeats = np.stack([c[name] for c in run_contents])
        kwargs: dict[str, Any] = {"repeats": repeats}
        if replicas is not None:
            kwargs["replicas"] = np.stack([c[name] for c in replica_contents])
            kwargs["replica_reference"] = repeats[list(replicas.repeat_of)]
        out[name] = bin_errors(h, **kwargs)
    return out


def with_total(
    unfolded: Mapping[str, hist.Hist], errors: Mapping[str, BinErrors]
) -> dict[str, hist.Hist]:
    """The unfolded histograms with variance = total² where a component was computed."""
    return {
        name: with_errors(h, errors[name].total) if name in errors else h
        for name, h in unfolded.items()
    }


#: group of the unfolding's histograms -> (level, dataset) in the regions' layout
REGION_DATASETS = {
    "data_reco": ("reco", "data"),
    "sim_reco": ("reco", "sim"),
    "data_truth": ("gen", "data"),
    "sim_truth": ("gen", "sim"),
    "unfolded": ("gen", "unfolded"),
}


def unfolding_regions(
    groups: Mapping[str, Mapping[str, hist.Hist]], errors: Mapping[str, BinErrors]
) -> dict[str, hist.Hist]:
    """``{<level>_<name>: Hist(dataset, variation, observable)}`` of an unfolding's groups
    (:data:`REGION_DATASETS`: ``reco_Q2`` holds ``data`` and ``sim``, ``gen_Q2`` ``data``
    (the data's truth, where there is one), ``sim`` (the prior) and ``unfolded``). The
    variations are the unfolded histogram ± each computed part of ``errors``:
    ``stat_up/down`` (bootstrap of the data), ``method_up/down`` (the runs' spread); its
    nominal's variance is the total². :func:`~hepnnlr.results.hist_layout.
    write_region_histograms` writes them as ``{region}/{dataset}_{variation}``."""
    nominal: dict[str, dict[str, hist.Hist]] = {}
    unknown = sorted(set(groups) - set(REGION_DATASETS))
    if unknown:
        raise ConfigError(f"unfolding_regions: groups {unknown} are not {list(REGION_DATASETS)}.")
    for group in REGION_DATASETS:  # the datasets in one order: data, sim, unfolded
        level, dataset = REGION_DATASETS[group]
        for name, h in groups.get(group, {}).items():
            nominal.setdefault(f"{level}_{name}", {})[dataset] = h
    out = {}
    for region, datasets in nominal.items():
        level, _, name = region.partition("_")
        e = errors.get(name) if level == "gen" else None
        parts = {} if e is None else {p: getattr(e, p) for p in ("stat", "method")}
        parts = {p: error for p, error in parts.items() if error is not None}
        shifted = {"unfolded": variation_histograms(datasets["unfolded"], parts)} if parts else {}
        out[region] = stack_variations(datasets, shifted)
    return out


def error_bands(e: BinErrors | None) -> list[tuple[str, np.ndarray]]:
    """The plot bands of one observable, labelled with what each is."""
    if e is None:
        return []
    bands = []
    if e.stat is not None:
        bands.append((f"stat: bootstrap of the data ({e.replicas} replicas)", e.stat))
    if e.method is not None:
        bands.append((f"method: training seeds ({e.repeats} runs)", e.method))
    return bands


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f} %"


def error_lines(errors: Mapping[str, BinErrors]) -> list[str]:
    """One printed line per observable: median relative stat, method and total error."""
    if not errors:
        return []
    first = next(iter(errors.values()))
    rows = [
        f"  median relative error over filled bins ({first.replicas} bootstrap replicas of "
        f"the data, {first.repeats} runs):",
        f"    {'observable':<24}{'stat':>10}{'method':>10}{'total':>10}",
    ]
    for name, e in errors.items():
        rows.append(
            f"    {name:<24}{_percent(e.median_relative('stat')):>10}"
            f"{_percent(e.median_relative('method')):>10}{_percent(e.median_relative('total')):>10}"
        )
    rows.append(
        "    stat: bootstrap of the data (Poisson(1), OmniFold retrained); method: "
        "spread of runs with other training seeds; total: both in quadrature"
    )
    return rows


def comparison(has_truth: bool) -> dict[str, Any]:
    """What the figures and the χ² compare the unfolded histograms with, for the summary.

    With the data's truth (simulated "data": the demo, closure tests): the figures'
    ratio reference and the χ² are the ``data_truth``, the label ``Pseudo-data``. Without
    (real data): no χ², since there is no truth to compare with; the figures show the
    unfolded histograms over the simulation truth (the prior) and are labelled
    ``Internal`` (the experiments' word for not approved).
    """
    if has_truth:
        return {"data_truth": True, "reference": "data_truth", "chi2": "data_truth",
                "label": "Pseudo-data"}  # fmt: skip
    return {
        "data_truth": False,
        "reference": "sim_truth",
        "chi2": None,
        "label": "Internal",
        "note": "the data have no particle-level truth: no chi2; the figures show the "
        "unfolded histograms over the simulation truth (the prior), not a closure",
    }


def truth_chi2(groups: Mapping[str, Mapping[str, hist.Hist]], name: str) -> dict | None:
    """χ² of the normalized shapes of the prior and the unfolded histogram ``name`` against
    the data truth, with the ndof; None where the groups have no ``data_truth`` or no bin
    holds more than 10 entries in both (tiny files)."""
    if "data_truth" not in groups:
        return None
    truth = groups["data_truth"][name]
    try:
        tests = {
            g: chi2_test(truth, groups[g][name], normalize=True, min_entries=10)
            for g in ("sim_truth", "unfolded")
        }
    except EmptySelectionError:
        _LOG.info("no chi2 for %s: no bin has more than 10 entries in both", name)
        return None
    out: dict[str, float] = {f"{g}_vs_data_truth": t.chi2 for g, t in tests.items()}
    out["ndof"] = tests["unfolded"].ndof
    return out


# names before issue 18's naming rule (job sections end in ``Config``): still importable,
# for code written against them, but not in ``__all__``
UnfoldUncertainty = UnfoldUncertaintyConfig
