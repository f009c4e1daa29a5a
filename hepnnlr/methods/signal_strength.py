"""Signal strength μ with a nuisance parameter z: classifier ratios vs conditional flows.

Implements the comparison of the Sluijter thesis (``004_…txt``) as a tool for a physicist's
own signal and background samples. The model (Eq. 2.5) is

    p(x | μ, z) = μ/(μ+1) p(x | sig, z) + 1/(μ+1) p(x | bkg, z).

Two routes give the per-event densities (or density ratios) as functions of z:

* **classifier route** (§2.3, Eq. 2.8): two parameterized classifiers ``f_sig(x, z)`` and
  ``f_bkg(x, z)`` trained against the reference mixture ``½ p(x|sig,z0) + ½ p(x|bkg,z0)``
  (batch construction of §3.2.1); ``exp(logit)`` is then the bracket of Eq. 2.8, i.e.
  ``p(x|sig,z) / p_ref(x)``, and the NLL differs from the true one by a constant; each
  bracket is divided by its mean over the reference events at every z (for the true one it
  is 1), which cuts a trained classifier's z bias by a factor 2 or more;
* **flow route** (§2.2): conditional normalizing flows for ``p(x|sig,z)`` and
  ``p(x|bkg,z)`` (:mod:`hepnnlr.models.flows`).

Both are wrapped as a :class:`MixtureLikelihood` of two :class:`ConditionalLogDensity`
objects; everything downstream (the NLL grid, profiles, Wilks intervals, iminuit, coverage,
the overlap of Eq. 3.4) is NumPy and works the same for the exact Gaussian likelihood
(:class:`ExactGaussianDensity`), a classifier pair, or a flow pair.

Inputs are plain arrays: features ``x`` of shape ``(n, d)`` (or a mapping of named columns)
with one nuisance value ``z`` per event (:class:`ParameterizedSample`).

Example (exact likelihood of the Gaussian toy)::

    toy = GaussianSignalToy(radius=2.0)
    like = MixtureLikelihood.exact_gaussian(toy)
    x, _ = toy.mixture(0.2, np.pi / 4, 9000, np.random.default_rng(1))
    scan = scan_nll(like, x, np.linspace(0, 0.5, 101), np.linspace(0.1, 0.4, 61) * np.pi)
    mu_68 = profile_interval(scan, "mu", delta_nll=0.5)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.optimize import brentq
from scipy.stats import chi2

from hepnnlr.errors import (
    ConfigError,
    MissingBranchError,
    NonFiniteInputError,
    ShapeMismatchError,
)
from hepnnlr.samples.gaussian_signal import GaussianSignalToy

if TYPE_CHECKING:  # the training layer imports TensorFlow; only the route builders need it
    from hepnnlr.models.flows import FlowSpec
    from hepnnlr.models.spec import ModelSpec
    from hepnnlr.training.config import TrainingConfig

__all__ = [
    "PARAMETERS",
    "ConditionalLogDensity",
    "CoverageResult",
    "ExactGaussianDensity",
    "Interval",
    "MinuitFit",
    "MixtureLikelihood",
    "NLLScan",
    "ParameterizedSample",
    "TestSetMetrics",
    "as_feature_matrix",
    "bootstrap_counts",
    "bootstrap_coverage",
    "coverage_from_toys",
    "evaluate_test_set",
    "likelihood_overlap",
    "minimize_nll",
    "nll_from_table",
    "profile_interval",
    "profile_nll",
    "scan_nll",
    "train_classifier_route",
    "train_flow_route",
    "wilks_intervals",
]

PARAMETERS = ("mu", "z")
"""The two parameters of the model, in grid-axis order."""

WILKS_LEVELS = {0.5: float(chi2.cdf(1.0, 1)), 2.0: float(chi2.cdf(4.0, 1))}
"""ΔNLL thresholds of the Wilks intervals and their coverage (68.27 %, 95.45 %; Table 2.1)."""

# Per-event table chunks: events x mu x z-columns kept below this many float64 values.
_CHUNK_VALUES = 4_000_000


# ----------------------------------------------------------------------------- inputs


def as_feature_matrix(data: Any, features: Sequence[str], *, where: str = "dataset") -> np.ndarray:
    """Features of ``data`` as a float64 ``(n, len(features))`` matrix, in ``features`` order.

    Args:
        data: An ``(n, d)`` array whose columns are ``features`` in order, or a mapping of
            column name -> ``(n,)`` array (a dict, a pandas DataFrame, an awkward record
            array, a coffea accumulator of columns); extra columns are ignored.
        features: The names the model was trained on.
        where: Name of the data in error messages.

    Raises:
        MissingBranchError: a mapping lacks some of ``features``.
        ShapeMismatchError: an array has the wrong number of columns.
        NonFiniteInputError: a feature holds NaN or infinity.
    """
    features = tuple(features)
    if isinstance(data, np.ndarray) or not hasattr(data, "__getitem__") or isinstance(
        data, (list, tuple)
    ):
        x = np.asarray(data, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(features):
            raise ShapeMismatchError(
                f"{where} must be an (events, {len(features)}) array with the columns "
                f"{features}, or a mapping of those columns; got shape {x.shape}."
            )
    else:
        fields = _field_names(data)
        missing = [name for name in features if name not in fields]
        if missing:
            raise MissingBranchError(
                f"{where} lacks the feature(s) {missing} the model was trained on (it has "
                f"{sorted(fields)}); add those columns, or train the model on the features "
                "the dataset has."
            )
        x = np.stack([np.asarray(data[name], dtype=np.float64) for name in features], axis=1)
    bad = ~np.isfinite(x)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise NonFiniteInputError(
            f"{where}: feature {features[col]!r} is {x[row, col]} at event {row} "
            f"({int(bad.sum())} non-finite value(s)); remove or fix those events first."
        )
    return x


def _field_names(data: Any) -> set[str]:
    for attribute in ("fields", "columns"):
        names = getattr(data, attribute, None)
        if names is not None and not callable(names):
            return {str(n) for n in names}
    if isinstance(data, Mapping):
        return {str(k) for k in data.keys()}
    raise ShapeMismatchError(
        f"cannot read named columns from a {type(data).__name__}; pass an (events, features) "
        "array or a mapping of column name -> array."
    )


@dataclass(frozen=True, eq=False)
class ParameterizedSample:
    """Events of one process (signal or background) with the nuisance value of each event.

    Attributes:
        x: ``(n, d)`` float64 features, columns in ``features`` order.
        z: ``(n,)`` nuisance value each event was simulated with.
        features: Feature names.
    """

    x: np.ndarray
    z: np.ndarray
    features: tuple[str, ...]

    def __post_init__(self) -> None:
        x = as_feature_matrix(self.x, self.features, where="ParameterizedSample.x")
        z = np.asarray(self.z, dtype=np.float64).reshape(-1)
        if len(z) != len(x):
            raise ShapeMismatchError(
                f"ParameterizedSample: {len(x)} events but {len(z)} z values; give one "
                "nuisance value per event."
            )
        if len(x) == 0:
            raise ConfigError("ParameterizedSample: the sample is empty; give events.")
        if not np.isfinite(z).all():
            raise NonFiniteInputError("ParameterizedSample.z holds NaN or infinity.")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "z", z)
        object.__setattr__(self, "features", tuple(self.features))

    @classmethod
    def from_columns(
        cls, data: Any, features: Sequence[str], z: np.ndarray | float
    ) -> ParameterizedSample:
        """From a mapping of named columns (or an array) and ``z`` (scalar or per event)."""
        x = as_feature_matrix(data, features)
        return cls(x, np.broadcast_to(np.asarray(z, dtype=np.float64), (len(x),)), tuple(features))

    def __len__(self) -> int:
        return len(self.x)


# ----------------------------------------------------------------------------- densities


@runtime_checkable
class ConditionalLogDensity(Protocol):
    """A per-event ``log p(x | z)`` (up to a constant common to signal and background).

    Implemented by :class:`ExactGaussianDensity`, by
    :class:`hepnnlr.training.flows.TrainedFlow` (``log p``) and by
    :class:`hepnnlr.training.parameterized.ParameterizedRatio` (the log of a bracket of
    Eq. 2.8, ``log p(x|·,z) - log p_ref(x)``).

    Attributes:
        features: Feature names, in the column order ``log_prob`` expects.
        z_range: The interval of z the model was trained on; it refuses values outside.
    """

    features: tuple[str, ...]
    z_range: tuple[float, float]

    def log_prob(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """``(n,)`` log densities for ``x`` of shape ``(n, d)`` and ``z`` of shape ``(n,)``."""
        ...


@dataclass(frozen=True)
class ExactGaussianDensity:
    """The exact ``log p(x | kind, z)`` of :class:`GaussianSignalToy` (the true likelihood)."""

    toy: GaussianSignalToy
    kind: str

    @property
    def features(self) -> tuple[str, ...]:
        return self.toy.features

    @property
    def z_range(self) -> tuple[float, float]:
        return (float(self.toy.z_range[0]), float(self.toy.z_range[1]))

    def log_prob(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        return self.toy.log_density(x, z, self.kind)


@dataclass(frozen=True, eq=False)
class MixtureLikelihood:
    """The per-event mixture ``μ/(μ+1) p_sig + 1/(μ+1) p_bkg`` of Eq. 2.5 (or 2.8).

    Attributes:
        signal: ``log p(x | sig, z)`` (or the log of the signal bracket of Eq. 2.8).
        background: ``log p(x | bkg, z)`` (or the background bracket).
        name: Label in messages and plots (``"exact"``, ``"classifier"``, ``"flow"``).
        mu_range: Allowed μ interval; μ < 0 makes the mixture weights negative.
    """

    signal: ConditionalLogDensity
    background: ConditionalLogDensity
    name: str = "model"
    mu_range: tuple[float, float] = (0.0, np.inf)

    def __post_init__(self) -> None:
        if tuple(self.signal.features) != tuple(self.background.features):
            raise ConfigError(
                f"{self.name}: the signal model takes features {self.signal.features} but the "
                f"background model {self.background.features}; train both on the same features."
            )
        low, high = self.mu_range
        if not (low >= 0 and high > low):
            raise ConfigError(
                f"{self.name}: mu_range={self.mu_range} must satisfy 0 <= low < high."
            )

    @classmethod
    def exact_gaussian(cls, toy: GaussianSignalToy, name: str = "exact") -> MixtureLikelihood:
        """The true likelihood of the Gaussian toy."""
        return cls(ExactGaussianDensity(toy, "signal"), ExactGaussianDensity(toy, "background"),
                   name=name)

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(self.signal.features)

    @property
    def z_range(self) -> tuple[float, float]:
        """The z interval both models were trained on (their intersection)."""
        return (max(self.signal.z_range[0], self.background.z_range[0]),
                min(self.signal.z_range[1], self.background.z_range[1]))

    def check_grid(self, mu_grid: np.ndarray, z_grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Validate a (μ, z) grid against the trained ranges; return float64 copies."""
        mu_grid = _grid("mu_grid", mu_grid)
        z_grid = _grid("z_grid", z_grid)
        low, high = self.mu_range
        if mu_grid[0] < low or mu_grid[-1] > high:
            raise ConfigError(
                f"{self.name}: mu_grid spans [{mu_grid[0]:g}, {mu_grid[-1]:g}] but the signal "
                f"strength is defined on [{low:g}, {high:g}] (μ/(μ+1) must be a fraction); "
                "choose a mu_grid inside that range."
            )
        self.check_z(z_grid, "z_grid")
        return mu_grid, z_grid

    def check_z(self, z: np.ndarray, label: str = "z") -> None:
        """Refuse z values outside the range both models were trained on."""
        low, high = self.z_range
        z = np.atleast_1d(z)
        if not np.isfinite(z).all():
            raise NonFiniteInputError(
                f"{self.name}: {label} holds NaN or infinite z values; give finite z inside "
                f"[{low:g}, {high:g}]."
            )
        # a relative slack of 1e-9 forgives the round-off of linspace end points
        slack = 1e-9 * max(1.0, abs(low), abs(high))
        outside = (z < low - slack) | (z > high + slack)
        if outside.any():
            raise ConfigError(
                f"{self.name}: {label} reaches z={z[outside][0]:g}, outside the range "
                f"[{low:g}, {high:g}] the models were trained on; a trained density does not "
                f"extrapolate. Choose a {label} inside it (the thesis scans a smaller range than "
                "it trains on) or retrain over a wider z range."
            )

    def event_log_densities(
        self, data: Any, z_grid: np.ndarray, *, batch_size: int = 65_536
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(log p_sig, log p_bkg)``, each ``(n_events, n_z)``, for every event and grid z.

        The models are evaluated on ``events x z`` rows, ``batch_size`` rows at a time.
        """
        x = as_feature_matrix(data, self.features)
        z_grid = np.atleast_1d(np.asarray(z_grid, dtype=np.float64))
        self.check_z(z_grid, "z_grid")
        n, n_z = len(x), len(z_grid)
        log_sig = np.empty((n, n_z))
        log_bkg = np.empty((n, n_z))
        per_batch = max(1, int(batch_size) // max(1, n_z))
        for start in range(0, n, per_batch):
            block = x[start:start + per_batch]
            rows = np.repeat(block, n_z, axis=0)
            zs = np.tile(z_grid, len(block))
            for out, model, label in ((log_sig, self.signal, "signal"),
                                      (log_bkg, self.background, "background")):
                values = np.asarray(model.log_prob(rows, zs), dtype=np.float64)
                _check_log_density(values, self.name, label, start // 1, rows, zs, n_z)
                out[start:start + len(block)] = values.reshape(len(block), n_z)
        return log_sig, log_bkg

    def nll(self, data: Any, mu: float, z: float) -> float:
        """``NLL(μ, z) = -Σ_i log p(x_i | μ, z)`` (up to the route's constant) at one point."""
        log_sig, log_bkg = self.event_log_densities(data, np.array([float(z)]))
        return float(nll_from_table(log_sig, log_bkg, np.array([float(mu)]))[0, 0])


def _check_log_density(values, name, label, start, rows, zs, n_z) -> None:
    if values.shape != (len(rows),):
        raise ShapeMismatchError(
            f"{name}: the {label} model returned shape {values.shape} for {len(rows)} events; "
            "log_prob must return one value per event."
        )
    bad = ~np.isfinite(values) & ~(values == -np.inf)
    if bad.any():
        k = int(np.argmax(bad))
        raise NonFiniteInputError(
            f"{name}: the {label} model's log-density is {values[k]} for event "
            f"{start + k // n_z} at z={zs[k]:g}, so its NLL is NaN. The model is broken (a "
            "diverged training, NaN weights, or inputs far outside the training data); "
            "retrain it (lower learning rate, standardized inputs) before scanning."
        )


def _grid(label: str, values: np.ndarray) -> np.ndarray:
    values = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if values.ndim != 1 or len(values) < 3:
        raise ConfigError(f"{label} needs at least 3 values in a 1-D array; got {values.shape}.")
    if not np.isfinite(values).all() or not (np.diff(values) > 0).all():
        raise ConfigError(f"{label} must be finite and strictly increasing.")
    return values


# ----------------------------------------------------------------------------- the NLL grid


def nll_from_table(
    log_sig: np.ndarray,
    log_bkg: np.ndarray,
    mu_grid: np.ndarray,
    counts: np.ndarray | None = None,
) -> np.ndarray:
    """NLL on the (μ, z) grid from per-event log densities, for one or many event sets.

    Args:
        log_sig, log_bkg: ``(n_events, n_z)`` from :meth:`MixtureLikelihood.event_log_densities`.
        mu_grid: ``(n_mu,)`` values of μ >= 0.
        counts: ``None`` for the dataset itself, or ``(n_sets, n_events)`` multiplicities of
            each event in each set (bootstrap sets: :func:`bootstrap_counts`).

    Returns:
        ``(n_mu, n_z)``, or ``(n_sets, n_mu, n_z)`` with ``counts``.
    """
    mu = np.asarray(mu_grid, dtype=np.float64)
    n, n_z = log_sig.shape
    # log[μ/(μ+1) e^{ls} + 1/(μ+1) e^{lb}] = m + log(μ e^{ls-m} + e^{lb-m}) - log(1+μ) with
    # m = max(ls, lb): one exp per (event, z) and one log per (event, μ, z).
    top = np.maximum(log_sig, log_bkg)
    e_sig = np.exp(log_sig - top)
    e_bkg = np.exp(log_bkg - top)
    weights = None if counts is None else np.asarray(counts, dtype=np.float64)
    if weights is None:
        const = -top.sum(axis=0)[None, :] + n * np.log1p(mu)[:, None]
        out = np.empty((len(mu), n_z))
    else:
        const = (-(weights @ top))[:, None, :] + (
            weights.sum(axis=1)[:, None, None] * np.log1p(mu)[None, :, None])
        out = np.empty((len(weights), len(mu), n_z))
    step = max(1, _CHUNK_VALUES // max(1, n * len(mu)))
    with np.errstate(divide="ignore"):  # μ = 0 and a vanishing background density: log 0
        for j in range(0, n_z, step):
            cols = slice(j, j + step)
            per_event = np.log(mu[None, :, None] * e_sig[:, None, cols] + e_bkg[:, None, cols])
            if weights is None:
                out[:, cols] = -per_event.sum(axis=0)
            else:
                block = -(weights @ per_event.reshape(n, -1))
                out[:, :, cols] = block.reshape(len(weights), len(mu), -1)
    return out + const


@dataclass(frozen=True, eq=False)
class NLLScan:
    """``NLL(μ, z)`` on a grid (thesis §3.3.1).

    Attributes:
        mu: ``(n_mu,)`` grid of μ.
        z: ``(n_z,)`` grid of z.
        nll: ``(n_mu, n_z)`` NLL values (up to a constant).
        n_events: Events in the dataset.
        name: Label of the likelihood that produced it.
    """

    mu: np.ndarray
    z: np.ndarray
    nll: np.ndarray
    n_events: int
    name: str = "model"

    def axis(self, parameter: str) -> np.ndarray:
        """The grid of ``parameter`` ('mu' or 'z')."""
        _check_parameter(parameter)
        return self.mu if parameter == "mu" else self.z

    @property
    def delta(self) -> np.ndarray:
        """``NLL - min(NLL)`` on the grid."""
        return self.nll - self.nll.min()

    def scaled(self, factor: float) -> NLLScan:
        """The scan with the NLL multiplied by ``factor`` (the thesis divides by 9, §3.3.4)."""
        return NLLScan(self.mu, self.z, self.nll * factor, self.n_events, self.name)


def scan_nll(
    likelihood: MixtureLikelihood,
    data: Any,
    mu_grid: np.ndarray,
    z_grid: np.ndarray,
    *,
    batch_size: int = 65_536,
) -> NLLScan:
    """``NLL(μ, z)`` of ``data`` on the grid ``mu_grid x z_grid`` (thesis §3.3.1).

    The densities are evaluated once per (event, z) in batches; the μ dependence is then
    exact arithmetic (Eq. 2.5). Grids outside the trained ranges raise :class:`ConfigError`;
    ``data`` lacking a feature raises :class:`MissingBranchError`; a NaN density raises
    :class:`NonFiniteInputError`.
    """
    mu_grid, z_grid = likelihood.check_grid(mu_grid, z_grid)
    log_sig, log_bkg = likelihood.event_log_densities(data, z_grid, batch_size=batch_size)
    nll = nll_from_table(log_sig, log_bkg, mu_grid)
    return NLLScan(mu_grid, z_grid, nll, len(log_sig), likelihood.name)


# ----------------------------------------------------------------------------- profiles


def _check_parameter(parameter: str) -> None:
    if parameter not in PARAMETERS:
        raise ConfigError(f"parameter={parameter!r}; choose 'mu' or 'z'.")


def _refined_min(values: np.ndarray, axis: int) -> np.ndarray:
    """Minimum along ``axis`` refined by a parabola through the lowest grid point and its
    neighbours (exact for a quadratic NLL; removes the grid-spacing bias of a plain min)."""
    v = np.moveaxis(values, axis, -1)
    k = np.clip(np.argmin(v, axis=-1), 1, v.shape[-1] - 2)
    left = np.take_along_axis(v, (k - 1)[..., None], -1)[..., 0]
    mid = np.take_along_axis(v, k[..., None], -1)[..., 0]
    right = np.take_along_axis(v, (k + 1)[..., None], -1)[..., 0]
    curvature = left - 2 * mid + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curvature > 0, 0.5 * (left - right) / curvature, 0.0)
    shift = np.clip(shift, -1.0, 1.0)
    refined = mid - 0.25 * (left - right) * shift
    return np.minimum(refined, v.min(axis=-1))


def profile_nll(scan: NLLScan, parameter: str) -> tuple[np.ndarray, np.ndarray]:
    """Profile likelihood ``NLL(θ, θ̂_1)`` in ``parameter`` (the other one minimized).

    The minimum over the other parameter's grid is refined by a parabola, so the profile
    does not carry the grid spacing as an error.

    Returns:
        ``(grid of parameter, profiled NLL)``.
    """
    _check_parameter(parameter)
    other_axis = 1 if parameter == "mu" else 0
    return scan.axis(parameter), _refined_min(scan.nll, other_axis)


@dataclass(frozen=True)
class Interval:
    """A Wilks confidence interval from a profile likelihood (thesis §2.4, Eq. 2.14).

    Attributes:
        parameter: 'mu' or 'z'.
        best: Position of the smooth minimum.
        low, high: Where ``ΔNLL`` crosses ``delta_nll``; the grid edge when it does not.
        delta_nll: The threshold (0.5: 68.27 %, 2.0: 95.45 %).
        level: The coverage Wilks' theorem gives for ``delta_nll``.
        low_closed, high_closed: Whether the crossing was found inside the grid.
    """

    parameter: str
    best: float
    low: float
    high: float
    delta_nll: float
    level: float
    low_closed: bool = True
    high_closed: bool = True

    @property
    def width(self) -> float:
        return self.high - self.low

    @property
    def closed(self) -> bool:
        return self.low_closed and self.high_closed

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def profile_interval(
    scan: NLLScan, parameter: str, delta_nll: float = 0.5, *, oversample: int = 20
) -> Interval:
    """Smooth minimum and Wilks interval ``{θ : NLL(θ) - NLL_min < delta_nll}``.

    The profile is interpolated with a cubic spline (the thesis fits a 4th-degree polynomial);
    the minimum is searched on a grid ``oversample`` times finer and the crossings of
    ``delta_nll`` are solved on the spline. A crossing beyond the grid gives the grid edge
    and ``*_closed=False``.
    """
    values, profile = profile_nll(scan, parameter)
    return interval_from_profile(values, profile, parameter, delta_nll, oversample=oversample)


def interval_from_profile(
    values: np.ndarray,
    profile: np.ndarray,
    parameter: str,
    delta_nll: float = 0.5,
    *,
    oversample: int = 20,
) -> Interval:
    """:func:`profile_interval` for a profile given as arrays."""
    if not delta_nll > 0:
        raise ConfigError(f"delta_nll={delta_nll} must be positive (0.5 gives 68.27 %).")
    spline = CubicSpline(values, profile)
    fine = np.linspace(values[0], values[-1], oversample * (len(values) - 1) + 1)
    curve = spline(fine)
    k = int(np.argmin(curve))
    best = float(fine[k])
    if 0 < k < len(fine) - 1:
        best = float(brentq(lambda t: spline(t, 1), fine[k - 1], fine[k + 1])) if (
            spline(fine[k - 1], 1) < 0 < spline(fine[k + 1], 1)) else best
    minimum = float(spline(best))
    target = minimum + delta_nll
    above = curve > target
    low, low_closed = float(values[0]), False
    left = np.nonzero(above[:k])[0]
    if len(left):
        i = left[-1]
        low = float(brentq(lambda t: spline(t) - target, fine[i], fine[i + 1]))
        low_closed = True
    high, high_closed = float(values[-1]), False
    right = np.nonzero(above[k:])[0]
    if len(right):
        i = k + right[0]
        high = float(brentq(lambda t: spline(t) - target, fine[i - 1], fine[i]))
        high_closed = True
    level = WILKS_LEVELS.get(delta_nll, float(chi2.cdf(2 * delta_nll, 1)))
    return Interval(parameter, best, low, high, float(delta_nll), level, low_closed, high_closed)


def wilks_intervals(
    scan: NLLScan, deltas: Sequence[float] = (0.5, 2.0)
) -> dict[str, list[Interval]]:
    """68.27 % and 95.45 % (by default) intervals of μ and z: ``{"mu": [...], "z": [...]}``."""
    return {p: [profile_interval(scan, p, d) for d in deltas] for p in PARAMETERS}


# ----------------------------------------------------------------------------- iminuit


@dataclass(frozen=True)
class MinuitFit:
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


def minimize_nll(
    likelihood: MixtureLikelihood,
    data: Any,
    *,
    start: tuple[float, float] | None = None,
    mu_limits: tuple[float, float] | None = None,
    minos: bool = True,
) -> MinuitFit:
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
    return MinuitFit(float(minuit.values["mu"]), float(minuit.values["z"]), float(minuit.fval),
                     mu_int, z_int, bool(minuit.valid), int(minuit.nfcn))


# ----------------------------------------------------------------------------- calibration


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
            scan = NLLScan(mu_grid, z_grid, nll, 0)
            interval = profile_interval(scan, parameter, delta_nll)
            covered.append(interval.contains(truth[parameter]))
            widths.append(interval.width)
        out[parameter] = CoverageResult(parameter, float(truth[parameter]), delta_nll,
                                        np.array(covered), np.array(widths))
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
    """Coverage of the Wilks intervals over independent toy datasets (thesis §4.1 bands).

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
    scans = np.stack([scan_nll(likelihood, generate(rng), mu_grid, z_grid).nll
                      for _ in range(int(n_toys))])
    return _coverage_of_scans(scans, mu_grid, z_grid, truth, delta_nll)


def bootstrap_counts(
    n_events: int, n_sets: int, set_size: int, rng: np.random.Generator
) -> np.ndarray:
    """``(n_sets, n_events)`` multiplicities of bootstrap sets of ``set_size`` events drawn
    with replacement from a test set of ``n_events`` (thesis §3.1.3; ``k = n_events / set_size``).
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
    """Coverage from bootstrap sets of one test set (thesis §3.3.2; biased low for small
    ``k = N / set_size``, §4.1). The densities are evaluated once on the test set."""
    truth = _check_truth(truth)
    mu_grid, z_grid = likelihood.check_grid(mu_grid, z_grid)
    log_sig, log_bkg = likelihood.event_log_densities(data, z_grid)
    counts = bootstrap_counts(len(log_sig), n_sets, set_size, rng)
    return _coverage_of_scans(nll_from_table(log_sig, log_bkg, mu_grid, counts), mu_grid, z_grid,
                              truth, delta_nll)


def likelihood_overlap(nll_model: np.ndarray, nll_true: np.ndarray) -> float:
    """Overlap of two likelihoods on the same grid, Eq. 3.4 of the thesis.

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
class TestSetMetrics:
    """The metrics of thesis §3.3 for one test set, averaged over its bootstrap sets.

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
    scan: NLLScan | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, float]:
        """The metrics as floats (without :attr:`scan`)."""
        return {k: float(getattr(self, k)) for k in self.__dataclass_fields__ if k != "scan"}


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
) -> TestSetMetrics:
    """Coverage, mean width and overlaps (Eq. 3.4, against ``reference``) on bootstrap sets.

    The same bootstrap sets are used for the model and the reference, as in the thesis.
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
            values.append([
                likelihood_overlap(_refined_min(nll, 1), _refined_min(ref, 1)),
                likelihood_overlap(_refined_min(nll, 0), _refined_min(ref, 0)),
                likelihood_overlap(nll, ref),
            ])
        overlaps = list(np.mean(values, axis=0))
    scan = NLLScan(mu_grid, z_grid, nll_from_table(log_sig, log_bkg, mu_grid), len(log_sig),
                   likelihood.name)
    return TestSetMetrics(cover["mu"].coverage, cover["z"].coverage, cover["mu"].mean_width,
                          cover["z"].mean_width, *overlaps, n_sets=int(n_sets), scan=scan)


# ----------------------------------------------------------------------------- the routes


def train_classifier_route(
    signal: ParameterizedSample,
    background: ParameterizedSample,
    signal_reference: Any,
    background_reference: Any,
    *,
    spec: ModelSpec | None = None,
    config: TrainingConfig | None = None,
    name: str = "classifier",
    members: int = 1,
    normalize: bool = True,
) -> MixtureLikelihood:
    """Train ``f_sig`` and ``f_bkg`` (thesis §2.3, §3.2.1) and combine them by Eq. 2.8.

    Args:
        signal, background: Events simulated at their own z (z drawn from a prior ``p_z``,
            e.g. uniform over the range to be scanned and a little beyond).
        signal_reference, background_reference: Signal and background events at the
            reference value ``z0`` (arrays or mappings with the same features); the negatives
            are drawn from them with probability ½ each and carry the positives' z values.
        spec: The classifier network (default: an MLP with three hidden layers of 120, as
            in the thesis).
        config: Training settings (default
            :data:`hepnnlr.training.parameterized.DEFAULT_TRAINING`: batch 512, cosine decay,
            no early stopping).
        name: Label of the likelihood.
        members: Classifiers per process; more than one are trained with the seeds of
            :func:`hepnnlr.training.ensemble.ensemble_configs` and their logits averaged
            (:class:`hepnnlr.training.parameterized.EnsembleRatio`).
        normalize: Divide each ratio by ``c(z) = ∫ r(x, z) p_ref(x) dx``, estimated on the
            reference events (:func:`hepnnlr.training.parameterized.normalize_ratio`); the
            true bracket has ``c = 1`` at every z, a trained one is off by up to ~16 %,
            varying with z, which moves ẑ by one to several σ_z on the Gaussian toy
            (docs/fragments/h2-sigstrength.md). ``False`` gives the raw Eq. 2.8 brackets.

    Returns:
        A :class:`MixtureLikelihood` whose NLL equals the true NLL up to a constant.
    """
    from hepnnlr.training.ensemble import ensemble_configs
    from hepnnlr.training.parameterized import (
        DEFAULT_TRAINING,
        EnsembleRatio,
        normalize_ratio,
        train_parameterized_ratio,
    )

    features = _same_features(signal, background)
    if int(members) < 1:
        raise ConfigError(f"members={members}: train at least one classifier per process.")
    ref_sig = as_feature_matrix(signal_reference, features, where="signal_reference")
    ref_bkg = as_feature_matrix(background_reference, features, where="background_reference")
    configs = ensemble_configs(config or DEFAULT_TRAINING, int(members))
    models = []
    for label, sample, seed_shift in (("signal", signal, 0), ("background", background, 1)):
        trained = [train_parameterized_ratio(
            sample.x, sample.z, ref_sig, ref_bkg, features=features, spec=spec, config=member,
            seed_shift=seed_shift, name=f"{name} f_{label[:3]}" + (f" #{k}" if k else ""),
        ) for k, member in enumerate(configs)]
        model = trained[0] if len(trained) == 1 else EnsembleRatio(tuple(trained))
        models.append(normalize_ratio(model, ref_sig, ref_bkg) if normalize else model)
    return MixtureLikelihood(models[0], models[1], name=name)


def train_flow_route(
    signal: ParameterizedSample,
    background: ParameterizedSample,
    *,
    spec: FlowSpec | None = None,
    config: TrainingConfig | None = None,
    name: str = "flow",
) -> MixtureLikelihood:
    """Train conditional flows for ``p(x|sig,z)`` and ``p(x|bkg,z)`` (thesis §2.2).

    Args:
        signal, background: Events simulated at their own z.
        spec: The flow (default :class:`hepnnlr.models.flows.FlowSpec`).
        config: Training settings (default :data:`hepnnlr.training.flows.DEFAULT_TRAINING`);
            the held-out NLL picks the best epoch.
        name: Label of the likelihood.
    """
    from hepnnlr.training.flows import train_flow

    features = _same_features(signal, background)
    models = [
        train_flow(sample.x, sample.z, features=features, spec=spec, config=config,
                   seed_shift=shift, name=f"{name} p_{label}")
        for label, sample, shift in (("sig", signal, 0), ("bkg", background, 1))
    ]
    return MixtureLikelihood(models[0], models[1], name=name)


def _same_features(signal: ParameterizedSample, background: ParameterizedSample) -> tuple:
    if signal.features != background.features:
        raise ConfigError(
            f"the signal sample has features {signal.features} but the background sample "
            f"{background.features}; give both the same columns in the same order."
        )
    return signal.features
