"""DCTR: a parameterized reweighter ``w(x, θ)`` and the DCTR fit of θ (SRGN paper, Sec. II).

Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter estimation using neural networks in
the presence of detector effects" (SRGN paper), after Andreassen and Nachman (DCTR):

* **Training** (Eqs. 1, 2): a classifier ``f(x, θ)`` is trained between a *varied* sample,
  ``x ~ p(x | θ)`` with ``θ`` drawn from a prior over a range (label 1), and the *nominal*
  sample ``x ~ p(x | θ0)`` whose events carry parameters drawn from the same prior
  (label 0). It learns ``f / (1 - f) = p(x | θ) / p(x | θ0)`` at every ``θ`` of the range,
  so ``w(x, θ) = exp(logit f(x, θ))`` (times the ratio of the sample totals) reweights the
  nominal sample to any ``θ`` in the range (Gaussian closure: Eqs. 10, 11).
* **Fit** (Eq. 3): with ``f`` frozen, ``θ*`` maximizes the cross entropy of ``f(·, θ)``
  between the unknown data (label 1) and the nominal sample (label 0)
  (:func:`dctr_fit`).

TensorFlow stays in :mod:`hepnnlr.training`; this module composes it through
:func:`hepnnlr.training.train_classifier` and the trained classifier's logits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize, minimize_scalar

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.models.spec import ModelSpec
from hepnnlr.tensors.events import EventTensors
from hepnnlr.training import TrainedClassifier, TrainingConfig, train_classifier

__all__ = [
    "DCTRConfig",
    "DCTRFitResult",
    "DCTRReweighter",
    "DCTRScan",
    "dctr_fit",
    "dctr_loss",
    "dctr_scan",
    "with_theta",
]


@dataclass(frozen=True)
class DCTRConfig:
    """How to train a parameterized reweighter ``f(x, θ)``.

    Attributes:
        model: The network; the paper's Gaussian examples use 3 hidden layers of 50 ReLU
            units (``ModelSpec("mlp", hidden=(50, 50, 50))``, the default).
        training: Training settings (the paper: up to 200 epochs, patience 10, batches of
            ``10^5`` for ``10^6`` events; scale the batch with the sample).
    """

    model: ModelSpec = ModelSpec("mlp", hidden=(50, 50, 50))
    training: TrainingConfig = TrainingConfig(epochs=40, batch_size=1000, patience=6)

    def __post_init__(self) -> None:
        if not isinstance(self.model, ModelSpec):
            raise ConfigError(f"DCTRConfig.model must be a ModelSpec, got {type(self.model)}.")
        if not isinstance(self.training, TrainingConfig):
            raise ConfigError(
                f"DCTRConfig.training must be a TrainingConfig, got {type(self.training)}."
            )


def _theta_row(theta: float | Sequence[float] | Mapping[str, float], names: tuple[str, ...]):
    """One parameter point as a float array in the order of ``names``."""
    if isinstance(theta, Mapping):
        missing = [n for n in names if n not in theta]
        extra = [n for n in theta if n not in names]
        if missing or extra:
            raise ConfigError(
                f"parameter point {dict(theta)} does not match the reweighter's parameters "
                f"{names}: missing {missing}, unknown {extra}."
            )
        return np.array([float(theta[n]) for n in names])
    row = np.atleast_1d(np.asarray(theta, dtype=np.float64)).reshape(-1)
    if len(row) != len(names):
        raise ConfigError(
            f"parameter point {row.tolist()} has {len(row)} value(s) but the reweighter is "
            f"parameterized in {len(names)}: {names}; give one value per parameter."
        )
    return row


def with_theta(
    events: EventTensors, theta: float | Sequence[float] | Mapping[str, float] | np.ndarray,
    names: Sequence[str],
) -> EventTensors:
    """``events`` carrying parameters: one point for every event, or a ``(n, k)`` array."""
    names = tuple(names)
    theta_array = np.asarray(theta if not isinstance(theta, Mapping) else [], dtype=np.float64)
    if theta_array.ndim == 2:
        values = theta_array
    else:
        values = np.broadcast_to(_theta_row(theta, names), (len(events), len(names)))
    return EventTensors(
        events.particles, events.mask, events.globals, events.particle_features,
        events.global_features, np.ascontiguousarray(values, dtype=np.float32), names,
    )


def _check_features(events: EventTensors, reference: EventTensors | tuple, what: str) -> None:
    """Raise if ``events`` lacks the features (names, in order) the network was trained on."""
    if isinstance(reference, EventTensors):
        expected = (reference.particle_features, reference.global_features)
    else:
        expected = reference
    got = (events.particle_features, events.global_features)
    if got != expected:
        missing = [f for f in expected[0] + expected[1] if f not in got[0] + got[1]]
        raise MissingBranchError(
            f"{what} has particle features {got[0]} and event features {got[1]}, but the "
            f"network was trained on {expected[0]} and {expected[1]}"
            f"{f' (missing {missing})' if missing else ''}; build {what} with the same "
            "features, in the same order."
        )


@dataclass
class DCTRReweighter:
    """A trained parameterized reweighter ``w(x, θ) = p(x | θ) / p(x | θ0)``.

    Build one with :meth:`train`. Attributes:
        classifier: The trained ``f(x, θ)``.
        theta_names: Parameter names, in column order.
        theta_range: ``{name: (low, high)}`` seen in training.
        features: ``(particle_features, global_features)`` of the training inputs.
    """

    classifier: TrainedClassifier
    theta_names: tuple[str, ...]
    theta_range: dict[str, tuple[float, float]] = field(default_factory=dict)
    features: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())

    @classmethod
    def train(
        cls,
        nominal: EventTensors,
        varied: EventTensors,
        config: DCTRConfig = DCTRConfig(),
        *,
        nominal_weights: np.ndarray | None = None,
        varied_weights: np.ndarray | None = None,
        name: str = "DCTR reweighter",
        theta_range: Mapping[str, tuple[float, float]] | None = None,
    ) -> DCTRReweighter:
        """Train ``f(x, θ)`` between ``varied`` (label 1) and ``nominal`` (label 0).

        Args:
            nominal: Events of the nominal sample ``θ0``, without parameters.
            varied: Events ``x ~ p(x | θ)`` with their ``θ`` (``varied.theta``), drawn from
                the prior over the training range.
            config: Network and training settings.
            nominal_weights, varied_weights: Event weights (default 1).
            name: Used in messages.
            theta_range: The prior's range ``{name: (low, high)}`` the varied θ were drawn
                from (default: the smallest and largest drawn value). It becomes the range
                :meth:`weights` accepts without ``extrapolate``; every drawn θ must lie in it.

        The nominal events carry parameters drawn from the same prior: the varied sample's
        parameter rows, resampled at random (seeded by ``config.training.seed``), so the
        classifier cannot separate the classes by ``θ`` alone.
        """
        if varied.theta is None:
            raise ConfigError(
                f"{name}: the varied sample has no parameters; build it with theta (one row "
                "per event, the θ each event was generated with) and theta_names."
            )
        if nominal.theta is not None:
            raise ConfigError(
                f"{name}: the nominal sample already carries parameters "
                f"{nominal.theta_names}; pass it without theta, the reweighter assigns "
                "parameters drawn from the varied sample's prior."
            )
        _check_features(nominal, (varied.particle_features, varied.global_features),
                        "the nominal sample")
        declared = None
        if theta_range is not None:
            declared = {}
            for k, name_k in enumerate(varied.theta_names):
                if name_k not in theta_range:
                    raise ConfigError(
                        f"{name}: theta_range has no range for parameter {name_k!r}; give "
                        f"one (low, high) per parameter of {varied.theta_names}."
                    )
                low, high = (float(v) for v in theta_range[name_k])
                seen = (float(varied.theta[:, k].min()), float(varied.theta[:, k].max()))
                if not low <= seen[0] <= seen[1] <= high:
                    raise ConfigError(
                        f"{name}: the varied sample's {name_k} spans [{seen[0]:g}, "
                        f"{seen[1]:g}], outside the declared theta_range ({low:g}, {high:g}); "
                        "declare the range the parameters were drawn from."
                    )
                declared[name_k] = (low, high)
        rng = np.random.default_rng(config.training.seed + 7)
        drawn = varied.theta[rng.integers(0, len(varied), len(nominal))]
        denominator = with_theta(nominal, drawn, varied.theta_names)
        w1 = np.ones(len(varied)) if varied_weights is None else varied_weights
        w0 = np.ones(len(nominal)) if nominal_weights is None else nominal_weights
        classifier = train_classifier(
            config.model, varied, w1, denominator, w0, config.training, name=name
        )
        if declared is not None:
            classifier.theta_range = declared
        return cls(
            classifier,
            varied.theta_names,
            dict(classifier.theta_range),
            (varied.particle_features, varied.global_features),
        )

    def logits(
        self,
        events: EventTensors,
        theta: float | Sequence[float] | Mapping[str, float],
        *,
        extrapolate: bool = False,
    ) -> np.ndarray:
        """``log w(x, θ)`` without the total-ratio constant, for every event at one ``θ``."""
        _check_features(events, self.features, "the events to reweight")
        return self.classifier.logits(
            with_theta(events, theta, self.theta_names), allow_extrapolation=extrapolate
        )

    def weights(
        self,
        events: EventTensors,
        theta: float | Sequence[float] | Mapping[str, float],
        *,
        extrapolate: bool = False,
    ) -> np.ndarray:
        """Weights taking nominal ``events`` to parameter point ``theta``.

        ``w = exp(logit) × total_ratio`` (the ratio of the weighted event densities).

        Args:
            events: Nominal events (the features the reweighter was trained on).
            theta: One parameter point: a number (one parameter), a sequence in the order
                of :attr:`theta_names`, or a ``{name: value}`` mapping.
            extrapolate: Evaluate ``θ`` outside the training range as it is. Off by
                default, and then such a ``θ`` is a :class:`ConfigError`: the network was
                never trained there.
        """
        logits = self.logits(events, theta, extrapolate=extrapolate)
        return np.exp(logits) * self.classifier.total_ratio


@dataclass(frozen=True)
class DCTRFitResult:
    """Result of :func:`dctr_fit`: the fitted point, its loss, and the scipy result."""

    theta: dict[str, float]
    loss: float
    n_evaluations: int
    success: bool


def _bce(logits: np.ndarray, label: int) -> float:
    """Mean binary cross entropy of ``sigmoid(logit)`` for events of one label (stable)."""
    z = -logits if label == 1 else logits
    return float(np.mean(np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))))


def dctr_fit(
    reweighter: DCTRReweighter,
    data: EventTensors,
    nominal: EventTensors,
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    xtol: float = 1e-4,
    max_iterations: int = 100,
    start: Sequence[float] | None = None,
    extrapolate: bool = False,
) -> DCTRFitResult:
    """The DCTR fit of Eq. 3 of the SRGN paper: ``θ* = argmax_θ′ L(θ′)`` with ``f`` frozen.

    ``L(θ′) = Σ_data log f(x, θ′) + Σ_nominal log(1 − f(x, θ′))`` (each sum normalized
    by its sample size). The paper performs this maximization by gradient descent on
    ``θ′`` with the network weights frozen; here the same loss, evaluated through the
    frozen classifier's logits, is minimized (its negative) with scipy: a bounded
    Brent search for one parameter, bounded Powell for several. Both searches look for
    the same optimum of the same function of ``θ′``; the loss is smooth in ``θ′`` (the
    network is), so a derivative-free search converges to the minimum that gradient
    descent would reach, without needing TensorFlow gradients in the method layer. For
    the optimal classifier ``f = p(x|θ′) / (p(x|θ′) + p(x|θ0))``, ``L`` is maximal (the
    cross entropy minimal) where ``p(x|θ′) / p(x|θ0)`` equals the data's ratio
    ``p(x|θ_true) / p(x|θ0)``, i.e. at ``θ′ = θ_true``.

    Args:
        reweighter: The trained ``f(x, θ)``.
        data: Events of the unknown sample (same features as the reweighter's).
        nominal: Events of the nominal sample (ideally not those ``f`` was trained on).
        bounds: Search range per parameter (default: the training range).
        xtol: Convergence tolerance on ``θ``.
        max_iterations: Iteration limit of the optimizer.
        start: Starting point of Powell (several parameters; default: the middle of the
            bounds).
        extrapolate: Allow bounds outside the reweighter's training range (the network is
            then evaluated where it was never trained).
    """
    names = reweighter.theta_names
    bounds = dict(reweighter.theta_range if bounds is None else bounds)
    for name in names:
        if name not in bounds:
            raise ConfigError(f"dctr_fit: no bounds for parameter {name!r}; give {names}.")
        low, high = reweighter.theta_range[name]
        if not extrapolate and (bounds[name][0] < low or bounds[name][1] > high):
            raise ConfigError(
                f"dctr_fit: bounds {bounds[name]} of {name} reach outside the reweighter's "
                f"training range [{low:g}, {high:g}]; narrow the bounds (or pass "
                "extrapolate=True)."
            )
    _check_features(data, reweighter.features, "the data")
    _check_features(nominal, reweighter.features, "the nominal sample")
    evaluations = 0

    def loss(theta) -> float:
        nonlocal evaluations
        evaluations += 1
        return dctr_loss(reweighter, data, nominal, np.atleast_1d(theta),
                         extrapolate=extrapolate)

    box = [tuple(bounds[n]) for n in names]
    if len(names) == 1:
        result = minimize_scalar(
            loss, bounds=box[0], method="bounded",
            options={"xatol": xtol, "maxiter": max_iterations},
        )
        x = np.atleast_1d(result.x)
    else:
        start = np.array([0.5 * (lo + hi) for lo, hi in box] if start is None else start,
                         float)
        result = minimize(
            loss, start, method="Powell", bounds=box,
            options={"xtol": xtol, "ftol": xtol, "maxiter": max_iterations},
        )
        x = np.atleast_1d(result.x)
    return DCTRFitResult(
        {n: float(v) for n, v in zip(names, x, strict=True)},
        float(result.fun), evaluations, bool(result.success),
    )


def dctr_loss(
    reweighter: DCTRReweighter,
    data: EventTensors,
    nominal: EventTensors,
    theta: float | Sequence[float] | Mapping[str, float],
    *,
    extrapolate: bool = False,
) -> float:
    """The cross entropy of Eq. 3 at one ``θ′`` (minimal at the fitted point).

    ``-(1/N_data) Σ_data log f(x, θ′) - (1/N_nom) Σ_nominal log(1 - f(x, θ′))``.
    """
    return _bce(reweighter.logits(data, theta, extrapolate=extrapolate), 1) + _bce(
        reweighter.logits(nominal, theta, extrapolate=extrapolate), 0
    )


@dataclass(frozen=True)
class DCTRScan:
    """The loss of Eq. 3 on a grid: ``points`` ``(n, k)``, ``loss`` ``(n,)``."""

    theta_names: tuple[str, ...]
    points: np.ndarray
    loss: np.ndarray

    @property
    def best(self) -> dict[str, float]:
        """The grid point of lowest loss."""
        row = self.points[int(np.argmin(self.loss))]
        return {n: float(v) for n, v in zip(self.theta_names, row, strict=True)}


def dctr_scan(
    reweighter: DCTRReweighter,
    data: EventTensors,
    nominal: EventTensors,
    grid: Mapping[str, Sequence[float]],
    *,
    extrapolate: bool = False,
) -> DCTRScan:
    """Evaluate the loss of Eq. 3 on the product grid of ``grid`` (one axis per parameter)."""
    from itertools import product

    names = reweighter.theta_names
    missing = [n for n in names if n not in grid]
    if missing:
        raise ConfigError(f"dctr_scan: no grid for parameter(s) {missing}; give {names}.")
    axes = [np.asarray(grid[n], dtype=float) for n in names]
    if any(len(a) == 0 for a in axes):
        raise ConfigError("dctr_scan: every grid axis needs at least one value.")
    _check_features(data, reweighter.features, "the data")
    _check_features(nominal, reweighter.features, "the nominal sample")
    points = np.array(list(product(*axes)))
    loss = np.array([dctr_loss(reweighter, data, nominal, p, extrapolate=extrapolate)
                     for p in points])
    return DCTRScan(names, points, loss)
