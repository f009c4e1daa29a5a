"""The mixture likelihood of the signal-strength method: inputs, densities, the model.

The model of B. Sluijter, *Classifiers versus Normalizing Flows for uncertainty-aware estimation of
a signal ratio*, MSc thesis, Leiden University 2024, hdl:1887/4104579, Eq. 2.5, is

    p(x | μ, z) = μ/(μ+1) p(x | sig, z) + 1/(μ+1) p(x | bkg, z).

:class:`MixtureLikelihood` combines two :class:`ConditionalLogDensity` objects: the exact
Gaussian-toy densities (:class:`ExactGaussianDensity`), a pair of trained parameterized
classifiers (Eq. 2.8) or a pair of conditional flows. Inputs are plain arrays: features
``x`` of shape ``(n, d)`` (or a mapping of named columns) with one nuisance value ``z`` per
event (:class:`ParameterizedSample`).

NumPy only: nothing here (or in the NLL grid, intervals and coverage built on it) imports
TensorFlow; the routes that train the densities live in
:mod:`hepnnlr.methods.signal_strength`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from hepnnlr.errors import (
    ConfigError,
    MissingBranchError,
    NonFiniteInputError,
    ShapeMismatchError,
)
from hepnnlr.methods.nll import nll_from_table
from hepnnlr.samples.gaussian_signal import GaussianSignalToy

__all__ = [
    "ConditionalLogDensity",
    "ExactGaussianDensity",
    "MixtureLikelihood",
    "ParameterizedSample",
    "as_feature_matrix",
]


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
    if (
        isinstance(data, np.ndarray)
        or not hasattr(data, "__getitem__")
        or isinstance(data, (list, tuple))
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
        return cls(
            ExactGaussianDensity(toy, "signal"), ExactGaussianDensity(toy, "background"), name=name
        )

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(self.signal.features)

    @property
    def z_range(self) -> tuple[float, float]:
        """The z interval both models were trained on (their intersection)."""
        return (
            max(self.signal.z_range[0], self.background.z_range[0]),
            min(self.signal.z_range[1], self.background.z_range[1]),
        )

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
                f"extrapolate. Choose a {label} inside it (hdl:1887/4104579 scans a smaller "
                "range than it trains on) or retrain over a wider z range."
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
            block = x[start : start + per_batch]
            rows = np.repeat(block, n_z, axis=0)
            zs = np.tile(z_grid, len(block))
            for out, model, label in (
                (log_sig, self.signal, "signal"),
                (log_bkg, self.background, "background"),
            ):
                values = np.asarray(model.log_prob(rows, zs), dtype=np.float64)
                _check_log_density(values, self.name, label, start // 1, rows, zs, n_z)
                out[start : start + len(block)] = values.reshape(len(block), n_z)
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
