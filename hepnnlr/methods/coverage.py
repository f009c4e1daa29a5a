"""Calibration of the signal-strength intervals: coverage and the test-set metrics.

How often the Wilks intervals of :mod:`hepnnlr.methods.intervals` contain the truth, over
independent toys (the bands of §4.1 of B. Sluijter, *Classifiers versus Normalizing Flows
for uncertainty-aware estimation of a signal ratio*, MSc thesis, Leiden University 2024,
hdl:1887/4104579) or over bootstrap sets of one test set (§3.1.3, §3.3.2), and the metrics
of §3.3 (coverage, mean width, the likelihood overlap of Eq. 3.4). NumPy only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import chi2

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.methods.intervals import WILKS_LEVELS, profile_interval
from hepnnlr.methods.mixture_likelihood import MixtureLikelihood
from hepnnlr.methods.nll import PARAMETERS, _refined_min, nll_from_table, scan_nll
from hepnnlr.methods.scans import Scan

__all__ = [
    "CoverageResult",
    "TestSetResult",
    "bootstrap_counts",
    "bootstrap_coverage",
    "coverage_from_toys",
    "evaluate_test_set",
    "likelihood_overlap",
]


@dataclass(frozen=True)
class CoverageResult:
    """How often Wilks intervals of one parameter contain the truth.

    Attributes:
        parameter: 'mu' or 'z'.
        truth: The true value.
        delta_nll: Threshold of the intervals (0.5: nominal 68.27 %).
        covered: ``(n_sets,)`` whether each interval contains the truth.
        widths: ``(n_sets,)`` interval widths.
    """

    parameter: str
    truth: float
    delta_nll: float
    covered: np.ndarray
    widths: np.ndarray

    @property
    def n(self) -> int:
        return len(self.covered)

    @property
    def coverage(self) -> float:
        return float(np.mean(self.covered))

    @property
    def coverage_error(self) -> float:
        """Binomial standard error ``sqrt(p (1 - p) / n)`` at the nominal level."""
        p = WILKS_LEVELS.get(self.delta_nll, float(chi2.cdf(2 * self.delta_nll, 1)))
        return float(np.sqrt(p * (1 - p) / self.n))

    @property
    def mean_width(self) -> float:
        return float(np.mean(self.widths))


def _coverage_of_scans(
    nll_sets: np.ndarray, mu_grid, z_grid, truth: Mapping[str, float], delta_nll: float
) -> dict[str, CoverageResult]:
    out = {}
    for parameter in PARAMETERS:
        covered, widths = [], []
        for nll in nll_sets:
            scan = Scan(PARAMETERS, (mu_grid, z_grid), nll, kind="nll")
            interval = profile_interval(scan, parameter, delta_nll)
            covered.append(interval.contains(truth[parameter]))
            widths.append(interval.width)
        out[parameter] = CoverageResult(
            parameter, float(truth[parameter]), delta_nll, np.array(covered), np.array(widths)
        )
    return out


def _check_truth(truth: Mapping[str, float]) -> dict[str, float]:
    missing = [p for p in PARAMETERS if p not in truth]
    if missing:
        raise ConfigError(f"truth lacks {missing}; give {{'mu': ..., 'z': ...}}.")
    return {p: float(truth[p]) for p in PARAMETERS}


def coverage_from_toys(
    likelihood: MixtureLikelihood,
    generate: Callable[[np.random.Generator], Any],
    truth: Mapping[str, float],
    mu_grid: np.ndarray,
    z_grid: np.ndarray,
    *,
    n_toys: int,
    rng: np.random.Generator,
    delta_nll: float = 0.5,
) -> dict[str, CoverageResult]:
    """Coverage of the Wilks intervals over independent toy datasets (§4.1 of hdl:1887/4104579).

    Args:
        likelihood: The model whose intervals are tested.
        generate: ``rng -> dataset`` drawing one toy at the true ``(μ, z)``.
        truth: ``{"mu": μ_true, "z": z_true}``.
        mu_grid, z_grid: The scan grid.
        n_toys: Number of toys.
        rng: Random generator handed to ``generate``.
        delta_nll: Interval threshold.

    Returns:
        ``{"mu": CoverageResult, "z": CoverageResult}``.
    """
    truth = _check_truth(truth)
    mu_grid, z_grid = likelihood.check_grid(mu_grid, z_grid)
    if int(n_toys) < 1:
        raise ConfigError(f"n_toys={n_toys} must be >= 1.")
    scans = np.stack(
        [scan_nll(likelihood, generate(rng), mu_grid, z_grid).values for _ in range(int(n_toys))]
    )
    return _coverage_of_scans(scans, mu_grid, z_grid, truth, delta_nll)


def bootstrap_counts(
    n_events: int, n_sets: int, set_size: int, rng: np.random.Generator
) -> np.ndarray:
    """``(n_sets, n_events)`` multiplicities of bootstrap sets of ``set_size`` events drawn
    with replacement from a test set of ``n_events`` (§3.1.3 of hdl:1887/4104579;
    ``k = n_events / set_size``).
    """
    if int(set_size) < 1 or int(n_sets) < 1 or int(n_events) < 1:
        raise ConfigError(
            f"bootstrap needs n_events, n_sets and set_size >= 1; got {n_events}, {n_sets}, "
            f"{set_size}."
        )
    draws = rng.integers(0, int(n_events), size=(int(n_sets), int(set_size)))
    counts = np.zeros((int(n_sets), int(n_events)))
    np.add.at(counts, (np.repeat(np.arange(int(n_sets)), int(set_size)), draws.ravel()), 1.0)
    return counts


def bootstrap_coverage(
    likelihood: MixtureLikelihood,
    data: Any,
    truth: Mapping[str, float],
    mu_grid: np.ndarray,
    z_grid: np.ndarray,
    *,
    n_sets: int = 100,
    set_size: int = 1000,
    rng: np.random.Generator,
    delta_nll: float = 0.5,
) -> dict[str, CoverageResult]:
    """Coverage from bootstrap sets of one test set (§3.3.2 of hdl:1887/4104579; biased
    low for small ``k = N / set_size``, §4.1). The densities are evaluated once on the test set."""
    truth = _check_truth(truth)
    mu_grid, z_grid = likelihood.check_grid(mu_grid, z_grid)
    log_sig, log_bkg = likelihood.event_log_densities(data, z_grid)
    counts = bootstrap_counts(len(log_sig), n_sets, set_size, rng)
    return _coverage_of_scans(
        nll_from_table(log_sig, log_bkg, mu_grid, counts), mu_grid, z_grid, truth, delta_nll
    )


def likelihood_overlap(nll_model: np.ndarray, nll_true: np.ndarray) -> float:
    """Overlap of two likelihoods on the same grid, Eq. 3.4 of hdl:1887/4104579.

    Each ``exp(-NLL)`` is normalized over the grid (Eq. 3.3);
    ``overlap = 1 - ½ Σ |p_model - p_true|``: 1 for identical shapes, 0 for disjoint ones.
    """
    a = np.asarray(nll_model, dtype=np.float64)
    b = np.asarray(nll_true, dtype=np.float64)
    if a.shape != b.shape:
        raise ShapeMismatchError(
            f"likelihood_overlap: the model NLL has shape {a.shape} but the true one {b.shape}; "
            "scan both on the same grid."
        )
    p = np.exp(-(a - a.min()))
    q = np.exp(-(b - b.min()))
    return float(1.0 - 0.5 * np.abs(p / p.sum() - q / q.sum()).sum())


@dataclass(frozen=True)
class TestSetResult:
    """The metrics of §3.3 of hdl:1887/4104579 for one test set, averaged over its bootstrap sets.

    ``*_overlap`` are NaN when no reference (true) likelihood was given; ``scan`` is the NLL
    grid of the whole test set (for contour plots).
    """

    mu_coverage: float
    z_coverage: float
    mu_width: float
    z_width: float
    mu_overlap: float
    z_overlap: float
    total_overlap: float
    n_sets: int
    scan: Scan | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, float]:
        """The metrics as floats (without :attr:`scan`)."""
        return {k: float(getattr(self, k)) for k in self.__dataclass_fields__ if k != "scan"}


# The name before issue 18's naming rule (results end in ``Result``); kept so code
# written against it still runs, and left out of ``__all__``.
TestSetMetrics = TestSetResult


def evaluate_test_set(
    likelihood: MixtureLikelihood,
    data: Any,
    truth: Mapping[str, float],
    mu_grid: np.ndarray,
    z_grid: np.ndarray,
    *,
    reference: MixtureLikelihood | None = None,
    n_sets: int = 100,
    set_size: int = 1000,
    rng: np.random.Generator,
    delta_nll: float = 0.5,
) -> TestSetResult:
    """Coverage, mean width and overlaps (Eq. 3.4, against ``reference``) on bootstrap sets.

    The same bootstrap sets are used for the model and the reference, as in hdl:1887/4104579.
    """
    truth = _check_truth(truth)
    mu_grid, z_grid = likelihood.check_grid(mu_grid, z_grid)
    log_sig, log_bkg = likelihood.event_log_densities(data, z_grid)
    counts = bootstrap_counts(len(log_sig), n_sets, set_size, rng)
    sets = nll_from_table(log_sig, log_bkg, mu_grid, counts)
    cover = _coverage_of_scans(sets, mu_grid, z_grid, truth, delta_nll)
    overlaps = [np.nan, np.nan, np.nan]
    if reference is not None:
        reference.check_grid(mu_grid, z_grid)
        ref_sets = nll_from_table(*reference.event_log_densities(data, z_grid), mu_grid, counts)
        values = []
        for nll, ref in zip(sets, ref_sets, strict=True):
            values.append(
                [
                    likelihood_overlap(_refined_min(nll, 1), _refined_min(ref, 1)),
                    likelihood_overlap(_refined_min(nll, 0), _refined_min(ref, 0)),
                    likelihood_overlap(nll, ref),
                ]
            )
        overlaps = list(np.mean(values, axis=0))
    scan = Scan(
        PARAMETERS,
        (mu_grid, z_grid),
        nll_from_table(log_sig, log_bkg, mu_grid),
        kind="nll",
        extras={"n_events": len(log_sig), "likelihood": likelihood.name},
    )
    return TestSetResult(
        cover["mu"].coverage,
        cover["z"].coverage,
        cover["mu"].mean_width,
        cover["z"].mean_width,
        *overlaps,
        n_sets=int(n_sets),
        scan=scan,
    )
