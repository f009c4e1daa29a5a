"""SRGN: fit generator parameters at detector level, reweighting at generator level.

Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural Networks in the
Presence of Detector Effects", arXiv:2010.03569, Sec. II, Eqs. 4, 5:

1. A parameterized reweighter ``w(x_G, θ′)`` is trained at generator level
   (:class:`hepnnlr.methods.dctr.DCTRReweighter`).
2. For a candidate ``θ′`` the one simulated sample (pairs ``x_G``, ``x_S``) is weighted by
   ``w(x_G, θ′)`` and a detector-level classifier ``g`` is trained between the target data
   (label 1) and the weighted simulation (label 0) (Eq. 4).
3. The objective is the AUC of ``g`` on held-out events (Eq. 5); ``θ*`` minimizes it. When
   ``x_G`` is the full phase space, ``θ* = θ_true`` (Eqs. 7-9).

The AUC is not differentiable, so ``θ′`` is fitted with bounded Powell (as arXiv:2010.03569, with
``xtol = ftol = 1e-4`` and at most 100 iterations) or scanned on a grid.

Cost: every objective evaluation trains ``g``; ``SRGNConfig.strategy`` chooses how:

* ``"naive"`` (or ``naive=True``): a new ``g`` built, compiled and trained from a fresh
  initialization with the full ``training`` schedule at every ``θ′`` (the reference);
* ``"refit"``: the same trainings (the same initial weights, the full schedule, early
  stopping) on one network compiled and traced once (:class:`hepnnlr.training.Refitter`),
  several times cheaper, with the naive fit's answer distribution;
* ``"warm"`` (the default when ``strategy`` is not given, for compatibility): ``g`` starts
  from the classifier of the previous evaluation and trains ``warm_epochs`` epochs; the
  fitted value then depends on the path the optimizer took.

The reweighter outputs are cached per ``θ′`` within one objective.
The held-out AUC of any fixed classifier is 0.5 when the two samples agree, but a
warm-started ``g`` that still ranks events as at the previous ``θ′`` can score below 0.5
where the samples differ the other way; the objective is therefore ``max(AUC, 1 − AUC)``,
which equals the AUC of Eq. 5 for a converged ``g`` and counts a reversed ranking as the
separation it is. Every ``g`` uses the same seed (common random numbers), which makes the
objective smoother in ``θ′``.

``SRGNConfig.objective = "auc_excess"`` minimizes instead (AUC − ½)² − σ₀², with
σ₀² = (n₁ + n₀ + 1) / (12 n₁ n₀) the variance of the AUC of a fixed score between two
identical samples (Mann–Whitney) of the held-out effective sizes (Kish's n_eff of the
weighted target and simulation): an estimate of the squared separation whose expectation
does not grow where the weights spread. The plain AUC's floor does: away from the nominal
θ the weights ``w(x_G, θ′)`` spread, n_eff of the simulation falls and
E[max(AUC, 1 − AUC)] rises above ½ for samples that agree, which can pull the fitted
``θ′`` back toward the nominal. On the tt̄ m_t calibration curve the two objectives gave
the same compression (docs/fits.md, tt̄ SRGN item 7): there the floor was not its cause.

Repeated fits (Tables I, II): :func:`repeat_fits` runs a fit per seed;
:func:`~hepnnlr.methods.fit_quality.remove_outliers` applies the rule of arXiv:2010.03569 (drop runs
within 5% of the bound range from a bound, then runs outside 2σ of the mean of the other
runs) and :func:`~hepnnlr.methods.fit_quality.summarize` gives the mean ± std (both
importable from here). Each evaluation records the AUC's statistical error
(:func:`~hepnnlr.methods.fit_quality.auc_error`) and whether ``g`` scored every held-out
event alike (:attr:`SRGNObjective.points`), for the flags of
:func:`~hepnnlr.methods.fit_quality.flag_fit`.

Bootstrap replicas of the target (:mod:`hepnnlr.methods.bootstrap`): ``data_weights``
weight the target events in ``g``'s training (Eq. 4) and in the held-out AUC (Eq. 5).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import product

import numpy as np
from scipy.optimize import minimize

from hepnnlr.errors import ConfigError, EmptySelectionError, ShapeMismatchError
from hepnnlr.methods.dctr import DCTRReweighter
from hepnnlr.methods.dctr_fits import _checked_weights, _from_unit, _unit_box, scan_axes
from hepnnlr.methods.fit_quality import auc_error, remove_outliers, summarize
from hepnnlr.methods.scans import Scan
from hepnnlr.methods.theta import check_features
from hepnnlr.models.spec import ModelSpec
from hepnnlr.tensors.adapt import EventsLike, as_events
from hepnnlr.tensors.events import EventTensors
from hepnnlr.training import TrainedClassifier, TrainingConfig, start_from, train_classifier
from hepnnlr.training.refit import Refitter
from hepnnlr.weighted import kish_effective_size, weighted_auc

__all__ = [
    "SRGN_OBJECTIVES",
    "SRGN_STRATEGIES",
    "SRGNConfig",
    "SRGNFitResult",
    "SRGNObjective",
    "SRGNPoint",
    "remove_outliers",
    "repeat_fits",
    "srgn_fit",
    "srgn_scan",
    "summarize",
]


SRGN_STRATEGIES = ("naive", "refit", "warm")
"""How ``g`` is trained at each ``θ′`` (:attr:`SRGNConfig.strategy`)."""
SRGN_OBJECTIVES = ("auc", "auc_excess")
"""What the fit minimizes (:attr:`SRGNConfig.objective`, module docstring)."""


@dataclass(frozen=True)
class SRGNConfig:
    """Settings of an SRGN fit.

    Attributes:
        model: The detector-level classifier ``g`` (arXiv:2010.03569: 2 hidden layers of 128
            ReLU).
        training: Training of ``g`` from scratch (arXiv:2010.03569: batch 1000, patience 5).
        naive: Retrain ``g`` from scratch at every ``θ′`` (the reference, slow) instead of
            warm-starting it from the previous ``θ′``.
        warm_epochs: Epochs of a warm-started ``g`` (the first ``θ′`` always trains from
            scratch with ``training``).
        test_fraction: Fraction of the data and of the simulation held out for the AUC.
        xtol, ftol: Powell's convergence tolerances (arXiv:2010.03569: 1e-4 for both).
        max_iterations: Powell's iteration limit (arXiv:2010.03569: 100).
        seed: Seeds the held-out split and ``g``'s training.
        strategy: ``"naive"``, ``"refit"`` or ``"warm"`` (module docstring); ``None``
            (default) means ``"naive"`` when ``naive`` is set, else ``"warm"``.
        objective: ``"auc"`` (Eq. 5: the held-out ``max(AUC, 1 − AUC)``) or
            ``"auc_excess"`` ((AUC − ½)² minus its value for identical samples of the
            held-out effective sizes; module docstring).
    """

    model: ModelSpec = ModelSpec("mlp", hidden=(128, 128))
    training: TrainingConfig = TrainingConfig(epochs=30, batch_size=1000, patience=5)
    naive: bool = False
    warm_epochs: int = 2
    test_fraction: float = 0.5
    xtol: float = 1e-4
    ftol: float = 1e-4
    max_iterations: int = 100
    seed: int = 0
    strategy: str | None = None
    objective: str = "auc"

    @property
    def mode(self) -> str:
        """The strategy in effect (``strategy``, or what ``naive`` implies)."""
        if self.strategy is not None:
            return self.strategy
        return "naive" if self.naive else "warm"

    def __post_init__(self) -> None:
        if self.strategy is not None and self.strategy not in SRGN_STRATEGIES:
            raise ConfigError(
                f"SRGNConfig.strategy={self.strategy!r}; choose one of {SRGN_STRATEGIES}."
            )
        if self.objective not in SRGN_OBJECTIVES:
            raise ConfigError(
                f"SRGNConfig.objective={self.objective!r}; choose one of {SRGN_OBJECTIVES}."
            )
        if self.naive and self.strategy not in (None, "naive"):
            raise ConfigError(
                f"SRGNConfig: naive=True contradicts strategy={self.strategy!r}; give one."
            )
        if not isinstance(self.model, ModelSpec):
            raise ConfigError(f"SRGNConfig.model must be a ModelSpec, got {type(self.model)}.")
        if not isinstance(self.training, TrainingConfig):
            raise ConfigError(
                f"SRGNConfig.training must be a TrainingConfig, got {type(self.training)}."
            )
        if int(self.warm_epochs) < 1:
            raise ConfigError(f"SRGNConfig.warm_epochs={self.warm_epochs} must be >= 1.")
        if not 0.0 < self.test_fraction < 1.0:
            raise ConfigError(
                f"SRGNConfig.test_fraction={self.test_fraction} must be in (0, 1): the AUC "
                "needs held-out events and g needs training events."
            )
        if not (self.xtol > 0 and self.ftol > 0 and self.max_iterations >= 1):
            raise ConfigError(
                f"SRGNConfig: xtol={self.xtol}, ftol={self.ftol} must be > 0 and "
                f"max_iterations={self.max_iterations} >= 1."
            )


def _split(n: int, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(n)
    n_test = int(round(fraction * n))
    if n_test < 1 or n_test >= n:
        raise EmptySelectionError(
            f"cannot hold out test_fraction={fraction} of {n} events for the AUC and keep "
            "events for training; provide more events."
        )
    return np.sort(order[n_test:]), np.sort(order[:n_test])


@dataclass(frozen=True)
class SRGNPoint:
    """One evaluation of :class:`SRGNObjective`: ``θ′``, ``max(AUC, 1 − AUC)``, its
    statistical error (:func:`~hepnnlr.methods.fit_quality.auc_error` with Kish's
    effective sizes of the held-out target and weighted simulation) and whether ``g``
    gave every held-out event the same score (``constant``: the AUC is 0.5 by ties);
    ``value``: what the fit minimizes there (``auc`` itself, or the excess of
    ``SRGNConfig.objective = "auc_excess"``)."""

    theta: tuple[float, ...]
    auc: float
    error: float
    constant: bool
    value: float | None = None

    def __post_init__(self) -> None:
        if self.value is None:
            object.__setattr__(self, "value", self.auc)


class SRGNObjective:
    """``θ′ -> AUC`` of Eq. 5 for one simulated sample and one target data set.

    Callable on a parameter point (sequence in the order of the reweighter's
    ``theta_names``). Keeps, per instance, the held-out split, a cache of the reweighter
    outputs per ``θ′``, the last trained ``g`` (for warm starts) and every evaluation in
    :attr:`history`. With the ``"naive"`` and ``"refit"`` strategies ``g`` at a given
    ``θ′`` is always the same training (same seed, same initial state), so a point
    evaluated before returns its AUC without training again (Powell's line searches
    revisit points); :attr:`n_trainings` counts the trainings of ``g``. :attr:`points`
    holds every evaluation with the AUC's error (:class:`SRGNPoint`).

    Args:
        reweighter: ``w(x_G, θ′)`` trained at generator level.
        generator: Generator-level features ``x_G`` of the simulation.
        simulation: Detector-level features ``x_S`` of the same events, in the same order.
        data: Target detector-level events (the features of ``simulation``). The three
            samples are :class:`EventTensors` or plain arrays
            (:func:`hepnnlr.tensors.as_events`).
        config: Settings.
        extrapolate: Allow ``θ′`` outside the reweighter's training range.
        data_weights: Per-event weights of ``data`` (default 1): a bootstrap replica of
            the target (Poisson(1) weights). They weight the target in ``g``'s training
            and in the held-out AUC; the split into training and held-out events is that
            of ``config.seed``, whatever the weights.
        simulation_weights: Per-event weights of the simulated events (default 1): a
            bootstrap replica of the simulation; they multiply ``w(x_G, θ′)``.
    """

    def __init__(
        self,
        reweighter: DCTRReweighter,
        generator: EventsLike,
        simulation: EventsLike,
        data: EventsLike,
        config: SRGNConfig = SRGNConfig(),
        *,
        extrapolate: bool = False,
        data_weights: np.ndarray | None = None,
        simulation_weights: np.ndarray | None = None,
    ) -> None:
        generator = as_events(generator, argument="generator")
        simulation = as_events(simulation, argument="simulation")
        data = as_events(data, argument="data")
        if len(generator) != len(simulation):
            raise ShapeMismatchError(
                f"SRGN needs paired simulation: the generator-level sample has "
                f"{len(generator)} events but the simulation-level sample {len(simulation)}; "
                "pass x_G and x_S of the same events, in the same order."
            )
        check_features(generator, reweighter.features, "the generator-level sample")
        check_features(data, simulation, "the target data")
        self.reweighter = reweighter
        self.config = config
        self.extrapolate = extrapolate
        rng = np.random.default_rng(config.seed)
        sim_train, sim_test = _split(len(simulation), config.test_fraction, rng)
        data_train, data_test = _split(len(data), config.test_fraction, rng)
        self._generator = generator
        self._sim = (simulation.subset(sim_train), simulation.subset(sim_test))
        self._sim_index = (sim_train, sim_test)
        self._data = (data.subset(data_train), data.subset(data_test))
        self._simulation_weights = _checked_weights(
            simulation_weights, len(simulation), "SRGNObjective simulation_weights"
        )
        weights = _checked_weights(data_weights, len(data), "SRGNObjective data_weights")
        weights = np.ones(len(data)) if weights is None else weights
        self._data_weights = (weights[data_train], weights[data_test])
        if not (self._data_weights[0].sum() > 0 and self._data_weights[1].sum() > 0):
            raise EmptySelectionError(
                "SRGNObjective: the data_weights leave no weight in the training or the "
                "held-out target events; draw the weights again or provide more events."
            )
        self._weights: dict[tuple[float, ...], np.ndarray] = {}
        self._previous: TrainedClassifier | None = None
        self._refitter: Refitter | None = None
        self.history: list[tuple[tuple[float, ...], float]] = []
        self.points: list[SRGNPoint] = []
        self.n_trainings = 0
        self._auc: dict[tuple[float, ...], SRGNPoint] = {}

    @property
    def theta_names(self) -> tuple[str, ...]:
        """Parameter names, in the order a point is given."""
        return self.reweighter.theta_names

    def weights(self, theta: Sequence[float]) -> np.ndarray:
        """``w(x_G, θ′)`` for every simulated event, times its ``simulation_weights``
        (cached per ``θ′``)."""
        key = tuple(float(t) for t in np.atleast_1d(theta))
        if key not in self._weights:
            w = self.reweighter.weights(self._generator, key, extrapolate=self.extrapolate)
            if self._simulation_weights is not None:
                w = w * self._simulation_weights
            self._weights[key] = w
        return self._weights[key]

    def classifier(self, theta: Sequence[float]) -> TrainedClassifier:
        """Train ``g`` between the data and the simulation weighted to ``θ′`` (Eq. 4)."""
        w = self.weights(theta)
        # The same seed at every θ′ (common random numbers): the AUC differences between
        # points then come from θ′, not from the initialization and batch order.
        training = replace(self.config.training, seed=self.config.seed + 101)
        data_train, _ = self._data
        sim_train, _ = self._sim
        w_train = w[self._sim_index[0]]
        if self.config.mode == "refit":
            # One network compiled once, reset to the same initial state at every θ′: the
            # trainings of "naive" without their build/compile/trace cost.
            if self._refitter is None:
                self._refitter = Refitter(self.config.model, training, name="SRGN classifier g")
            g = self._refitter.fit(data_train, self._data_weights[0], sim_train, w_train)
            self._previous = g
            return g
        if self.config.mode == "naive" or self._previous is None:
            model: ModelSpec | object = self.config.model
        else:
            model = start_from(self._previous.model)
            training = replace(training, epochs=self.config.warm_epochs)
        g = train_classifier(
            model,
            data_train,
            self._data_weights[0],
            sim_train,
            w_train,
            training,
            name=f"SRGN classifier g at {dict(zip(self.theta_names, theta, strict=True))}",
        )
        self._previous = g
        return g

    def __call__(self, theta: Sequence[float]) -> float:
        """What the fit minimizes at ``θ′``: the held-out ``max(AUC, 1 - AUC)`` of ``g``
        trained there (Eq. 5), or its excess (``SRGNConfig.objective``); the AUC itself
        is in :attr:`points`."""
        point = tuple(float(t) for t in np.atleast_1d(theta))
        if point in self._auc:
            self.history.append((point, self._auc[point].value))
            self.points.append(self._auc[point])
            return self._auc[point].value
        g = self.classifier(point)
        self.n_trainings += 1
        _, data_test = self._data
        _, sim_test = self._sim
        # One prediction call for both samples: each call costs a graph trace.
        test = EventTensors.concatenate([data_test, sim_test])
        scores = self._refitter.logits(test) if self.config.mode == "refit" else g.logits(test)
        labels = np.concatenate([np.ones(len(data_test)), np.zeros(len(sim_test))])
        sim_weights = self.weights(point)[self._sim_index[1]]
        weights = np.concatenate([self._data_weights[1], sim_weights])
        auc = weighted_auc(scores, labels, weights)
        # A warm-started g can keep the ranking learned at the previous θ′ while the
        # samples now differ the other way; its AUC then drops below 0.5 although the
        # samples are separable. max(AUC, 1 - AUC) counts separation either way and equals
        # the AUC of Eq. 5 for a g trained to convergence (AUC >= 0.5).
        separation = max(auc, 1.0 - auc)
        used = weights > 0
        n_data, n_sim = kish_effective_size(self._data_weights[1]), kish_effective_size(sim_weights)
        value = separation
        if self.config.objective == "auc_excess":
            # (AUC - 1/2)^2 less its expectation for identical samples of these effective
            # sizes (Mann-Whitney): no floor that rises as the weights spread
            value = (auc - 0.5) ** 2 - (n_data + n_sim + 1.0) / (12.0 * n_data * n_sim)
        evaluation = SRGNPoint(
            point,
            separation,
            auc_error(separation, n_data, n_sim),
            bool(np.ptp(scores[used]) == 0.0) if used.any() else True,
            value,
        )
        self.history.append((point, value))
        self.points.append(evaluation)
        if self.config.mode != "warm":  # a warm start depends on the previous point
            self._auc[point] = evaluation
        return value


@dataclass(frozen=True)
class SRGNFitResult:
    """A fitted point: ``theta`` by name, its AUC (``max(AUC, 1 − AUC)``), the objective's
    evaluations (``g`` trainings plus revisits of a point, see :class:`SRGNObjective`),
    history (``θ′``, the minimized value) and ``value``, the minimized value at ``theta``
    (the AUC itself with ``SRGNConfig.objective = "auc"``)."""

    theta: dict[str, float]
    auc: float
    n_evaluations: int
    history: tuple[tuple[tuple[float, ...], float], ...] = ()
    value: float | None = None

    def __post_init__(self) -> None:
        if self.value is None:
            object.__setattr__(self, "value", self.auc)


def srgn_fit(
    objective: SRGNObjective,
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    start: Sequence[float] | None = None,
) -> SRGNFitResult:
    """Minimize the AUC of Eq. 5 over ``θ′`` with bounded Powell (scipy).

    Powell runs on the reweighter's unit scale ``u`` (:class:`~hepnnlr.methods.theta.ThetaScale`),
    so ``SRGNConfig.xtol`` is a fraction of the half width of the training
    range; ``bounds``, ``start``, the result and the history are in parameter units.

    Args:
        objective: The ``θ′ -> AUC`` function (carries the samples and the settings).
        bounds: ``{name: (low, high)}`` (default: the reweighter's training range;
            arXiv:2010.03569 fits μ in [-2, 2] and σ in [0.25, 4]). Outside the training
            range only with an objective built with ``extrapolate=True``.
        start: Starting point (default: the middle of the bounds).
    """
    reweighter = objective.reweighter
    bounds = dict(reweighter.theta_range if bounds is None else bounds)
    box = _unit_box(reweighter, bounds, "srgn_fit", objective.extrapolate)
    x0 = (
        np.array([0.5 * (lo + hi) for lo, hi in box])
        if start is None
        else reweighter.scale.to_unit(np.asarray(start, float))
    )
    config = objective.config
    result = minimize(
        lambda unit: objective(_from_unit(reweighter, unit, bounds)),
        x0,
        method="Powell",
        bounds=box,
        options={"xtol": config.xtol, "ftol": config.ftol, "maxiter": config.max_iterations},
    )
    point = _from_unit(reweighter, result.x, bounds)
    # Powell reports the best point it evaluated: its AUC is that of the last evaluation
    # there with the minimized value (a warm start can give a revisited point another);
    # never the minimized value itself, which is an AUC only for objective "auc"
    key = tuple(float(t) for t in np.atleast_1d(point))
    there = [p for p in objective.points if p.theta == key]
    at = [p for p in there if p.value == float(result.fun)] or there
    return SRGNFitResult(
        {n: float(v) for n, v in zip(objective.theta_names, point, strict=True)},
        at[-1].auc if at else float("nan"),
        len(objective.history),
        tuple(objective.history),
        float(result.fun),
    )


def srgn_scan(
    objective: SRGNObjective, grid: Mapping[str, Sequence[float]], *, clip: bool = False
) -> Scan:
    """Evaluate the AUC of Eq. 5 on the product grid of ``grid`` (one axis per parameter).

    Returns a :class:`~hepnnlr.methods.scans.Scan` of kind ``"srgn auc"``: the held-out
    ``max(AUC, 1 − AUC)`` per point with its statistical error (:class:`SRGNPoint`).
    arXiv:2010.03569 reads θ* off the minimum of the AUC curve; :attr:`Scan.fitted
    <hepnnlr.methods.scans.Scan.fitted>` is the parabola vertex around it, not tied to the
    grid step.

    Points are visited in order (the last axis fastest), so a warm-started ``g`` moves in
    small steps; order each axis monotonically. The grid is checked against the
    reweighter's training range before any ``g`` is trained: a value outside it is an
    error naming the range, unless ``clip`` (moved onto the range's edge, repeats
    dropped) or the objective was built with ``extrapolate=True``.
    """
    axes = scan_axes(
        objective.reweighter, grid, extrapolate=objective.extrapolate, clip=clip, where="srgn_scan"
    )
    evaluated = []
    for point in product(*axes):
        objective(point)
        evaluated.append(objective.points[-1])  # the evaluation of this point, with its error
    return Scan(
        objective.theta_names,
        axes,
        [e.value for e in evaluated],
        # the excess (AUC - 1/2)^2 - s0^2 of an AUC measured to +- e: Var(X^2) for
        # X ~ N(d, e^2) is 4 d^2 e^2 + 2 e^4
        [
            e.error
            if objective.config.objective == "auc"
            else float(np.sqrt(4 * (e.auc - 0.5) ** 2 * e.error**2 + 2 * e.error**4))
            for e in evaluated
        ],
        kind="srgn auc" if objective.config.objective == "auc" else "srgn auc excess",
    )


def repeat_fits(
    fit: Callable[[int], Mapping[str, float]], seeds: Sequence[int]
) -> dict[str, np.ndarray]:
    """Run ``fit(seed)`` for every seed; return ``{name: values over runs}``."""
    if len(seeds) == 0:
        raise ConfigError("repeat_fits needs at least one seed.")
    results = [dict(fit(int(s))) for s in seeds]
    return {n: np.array([r[n] for r in results]) for n in results[0]}
