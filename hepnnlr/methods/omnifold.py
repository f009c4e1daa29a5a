"""OmniFold: unbinned unfolding by iterated classifier reweighting.

Implements the two-step iteration of Eqs. 1-3 of the ensembling paper (Torales Acosta et
al., "Stabilizing Neural Likelihood Ratio Estimation"), after Andreassen et al.:

* **Step 1** (detector level): a classifier between data and simulation weighted by the
  current particle-level weights ``nu_{n-1}(z)`` gives ``omega_n(x) = p_data(x) / p_sim(x)``;
  the *pulled* weights are ``nu_{n-1} * omega_n``.
* **Step 2** (particle level): a classifier between the simulation weighted by the pulled
  weights and the unweighted prior simulation gives the *pushed* weights ``nu_n(z)``
  (Eq. 2); ``nu_0 = 1``.

The unfolded particle-level distribution is the simulation weighted by ``nu_N``.

Acceptance convention (events failing a selection, the footnote to Sec. 2 of the paper):

* Simulated events failing the **detector-level** selection take no part in step 1.
  With ``acceptance="keep"`` (the default) they keep ``omega = 1``: their pulled weight
  is their pushed weight. The data say nothing about them, so where the particle-level
  phase space is wider than the detector-level one (Q^2 > 100 vs Q^2 > 150 GeV^2 in the
  paper's DIS selection) the result there stays at the prior, reweighted only through the
  correlations step 2 learns. With ``acceptance="extrapolate"`` their factor is the
  average ``omega`` at the same particle-level ``z``, learned by an extra particle-level
  classifier between events passing both selections weighted by the pulled and by the
  pushed weights ("step 1b"). Use it for inefficiencies *inside* the detector's phase
  space: it extrapolates the classifier, which is unreliable where no event passes the
  detector-level selection.
* Simulated events failing the **particle-level** selection (fakes) take no part in step 2
  and carry their pulled weight as their pushed weight, so their detector-level
  contribution stays reweighted in the next step 1; they never enter particle-level
  (unfolded) histograms.
* Data events are all detector-level events (only those passing the detector selection
  are passed in).

Normalization: the simulation weights are first scaled so that simulated events passing
the detector selection have the same total weight as the data; unfolded histograms are
then in units of data events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from hepnnlr.errors import ConfigError, EmptySelectionError
from hepnnlr.models.spec import ModelSpec
from hepnnlr.tensors.checks import check_finite, check_same_length
from hepnnlr.tensors.events import EventTensors
from hepnnlr.training import (
    AGGREGATIONS,
    TrainingConfig,
    aggregate_weights,
    ensemble_configs,
    start_from,
    train_classifier,
    weights_from_logits,
)

__all__ = ["OmniFoldConfig", "OmniFoldResult", "omnifold"]

_ACCEPTANCE = ("keep", "extrapolate")


@dataclass(frozen=True)
class OmniFoldConfig:
    """Settings of an OmniFold unfolding.

    Attributes:
        iterations: Number of (step 1, step 2) iterations; the paper uses 3-5.
        step1_model, step2_model: Networks for the detector- and particle-level classifiers.
        training: Training settings of every classifier; the classifiers of iteration
            ``n`` (0-based) are seeded ``training.seed + 3 * n + {0, 1, 2}`` for steps 1,
            1b and 2, so no two share a seed.
        acceptance: ``"keep"`` or ``"extrapolate"``: how simulated events failing the
            detector-level selection are weighted in step 1 (module docstring).
        warm_start: Start each step's classifier from the trained classifier of the same
            step in the previous iteration (as the original OmniFold code does) instead of
            from a fresh random initialization; this lowers the iteration-to-iteration
            noise of the weights.
        ensemble: Classifiers trained per step with distinct seeds ("step" ensembling,
            Algorithm 2 of the ensembling paper); their weights are combined before they
            are passed on.
        aggregation: How members are combined: ``mean`` (the paper's baseline),
            ``median``, ``truncated_mean`` or ``mean_logit``.
        finetune_learning_rate_factor: With a ``pretrained`` model, the learning rate of
            the trainings that start from it is ``training.learning_rate`` times this.
    """

    iterations: int = 3
    step1_model: ModelSpec = ModelSpec()
    step2_model: ModelSpec = ModelSpec()
    training: TrainingConfig = TrainingConfig()
    acceptance: str = "keep"
    warm_start: bool = True
    ensemble: int = 1
    aggregation: str = "mean"
    finetune_learning_rate_factor: float = 1.0

    def __post_init__(self) -> None:
        if int(self.iterations) < 1:
            raise ConfigError(f"OmniFoldConfig.iterations={self.iterations} must be >= 1.")
        if not self.finetune_learning_rate_factor > 0:
            raise ConfigError(
                "OmniFoldConfig.finetune_learning_rate_factor="
                f"{self.finetune_learning_rate_factor} must be > 0."
            )
        if int(self.ensemble) < 1:
            raise ConfigError(f"OmniFoldConfig.ensemble={self.ensemble} must be >= 1.")
        if self.aggregation not in AGGREGATIONS:
            raise ConfigError(
                f"OmniFoldConfig.aggregation={self.aggregation!r}; choose one of {AGGREGATIONS}."
            )
        if self.acceptance not in _ACCEPTANCE:
            raise ConfigError(
                f"OmniFoldConfig.acceptance={self.acceptance!r}; choose one of {_ACCEPTANCE} "
                "(see the module docstring for what each does)."
            )


@dataclass
class OmniFoldResult:
    """Weights of every iteration.

    Attributes:
        sim_weights: The simulation's event weights after the normalization to data.
        pull: ``(iterations, n_sim)`` step-1 weight factors ``nu_{n-1} * omega_n``.
        push: ``(iterations, n_sim)`` step-2 weight factors ``nu_n``.
        history: Per iteration and step (``step1``, ``step1b`` when it ran, ``step2``), the
            training history (``loss``, ``val_loss``) of each ensemble member.
        push_spread: ``(iterations, n_sim)`` standard deviation of the step-2 ensemble
            members' weights (zeros without an ensemble): the model uncertainty.
        mc_scale: Factor applied to the input simulation weights for the normalization.
    """

    sim_weights: np.ndarray
    pull: np.ndarray
    push: np.ndarray
    history: list[dict[str, list[dict[str, list[float]]]]] = field(default_factory=list)
    mc_scale: float = 1.0
    push_spread: np.ndarray | None = None

    @property
    def weights(self) -> np.ndarray:
        """Unfolded per-event weights of the simulation: ``sim_weights * nu_N``."""
        return self.sim_weights * self.push[-1]

    def weights_at(self, iteration: int) -> np.ndarray:
        """Unfolded weights after ``iteration`` (1-based) iterations."""
        if not 1 <= iteration <= len(self.push):
            raise ConfigError(
                f"iteration={iteration}: this result has iterations 1..{len(self.push)}."
            )
        return self.sim_weights * self.push[iteration - 1]


def omnifold(
    data: EventTensors,
    sim_reco: EventTensors,
    sim_gen: EventTensors,
    *,
    pass_reco: np.ndarray,
    pass_gen: np.ndarray,
    sim_weights: np.ndarray | None = None,
    data_weights: np.ndarray | None = None,
    config: OmniFoldConfig = OmniFoldConfig(),
    callback: Callable[[int, str], None] | None = None,
    pretrained: object | None = None,
) -> OmniFoldResult:
    """Unfold ``data`` with the paired simulation ``(sim_gen, sim_reco)``.

    Args:
        data: Detector-level inputs of the data events (all pass the detector selection).
        sim_reco: Detector-level inputs of every simulated event (rows of events failing
            ``pass_reco`` are ignored).
        sim_gen: Particle-level inputs of every simulated event, same order (rows of events
            failing ``pass_gen`` are ignored).
        pass_reco, pass_gen: Per simulated event, whether it passes the detector- and
            particle-level selections.
        sim_weights: Per simulated event MC weights (default 1; negative allowed).
        data_weights: Per data event weights (default 1).
        config: Iterations, networks and training settings.
        callback: Called as ``callback(iteration, step)`` before each training (progress).
        pretrained: A Keras classifier pre-trained on a separate sample (Sec. 4.2 of the
            ensembling paper: the task of step 1, iteration 1). Every step's classifier of
            the first iteration starts from a copy of it, fine-tuned with the learning rate
            scaled by ``config.finetune_learning_rate_factor``; it must take the inputs
            of both levels (same features at detector and particle level).

    Returns:
        The weights of every iteration (see :class:`OmniFoldResult`).
    """
    pass_reco = np.asarray(pass_reco, dtype=bool)
    pass_gen = np.asarray(pass_gen, dtype=bool)
    n_sim = check_same_length(
        {"sim_reco": sim_reco, "sim_gen": sim_gen, "pass_reco": pass_reco, "pass_gen": pass_gen}
    )
    sim_weights = np.ones(n_sim) if sim_weights is None else np.asarray(sim_weights, float)
    data_weights = np.ones(len(data)) if data_weights is None else np.asarray(data_weights, float)
    check_same_length({"sim inputs": sim_reco, "sim_weights": sim_weights})
    check_same_length({"data inputs": data, "data_weights": data_weights})
    check_finite("sim_weights", sim_weights)
    check_finite("data_weights", data_weights)
    if len(data) == 0:
        raise EmptySelectionError(
            "OmniFold got no data events; check the data file and its detector-level selection."
        )
    if not pass_reco.any():
        raise EmptySelectionError(
            "no simulated event passes the detector-level selection (pass_reco); OmniFold "
            "cannot learn the data/simulation ratio. Check the simulation file."
        )
    if not pass_gen.any():
        raise EmptySelectionError(
            "no simulated event passes the particle-level selection (pass_gen); there is "
            "nothing to unfold to. Check the simulation file."
        )

    reco_total = sim_weights[pass_reco].sum()
    if not reco_total > 0:
        raise EmptySelectionError(
            f"simulated events passing pass_reco have total weight {reco_total:g}; it must "
            "be positive to normalize the simulation to the data."
        )
    mc_scale = float(data_weights.sum() / reco_total)
    sim_weights = sim_weights * mc_scale

    reco_x = sim_reco.subset(pass_reco)
    gen_x = sim_gen.subset(pass_gen)
    both = pass_reco & pass_gen
    missed = pass_gen & ~pass_reco
    both_x = sim_gen.subset(both)
    step = _StepTrainer(config, callback, pretrained)
    push = np.ones(n_sim)
    pulls, pushes, spreads, history = [], [], [], []
    for iteration in range(config.iterations):
        step.start(iteration)
        # Step 1: data vs simulation weighted by the current particle-level weights.
        omega = np.ones(n_sim)
        omega[pass_reco], _ = step.ratio(
            "step1", data, data_weights, reco_x, (sim_weights * push)[pass_reco], reco_x
        )
        if config.acceptance == "extrapolate" and missed.any() and both.any():
            # Step 1b: the average omega at fixed z, for events the detector missed.
            omega[missed], _ = step.ratio(
                "step1b", both_x, (sim_weights * push * omega)[both],
                both_x, (sim_weights * push)[both], sim_gen.subset(missed),
            )
        pull = push * omega

        # Step 2: simulation weighted by the pulled weights vs the prior simulation.
        push = pull.copy()  # fakes carry their pulled weight
        spread = np.zeros(n_sim)
        push[pass_gen], spread[pass_gen] = step.ratio(
            "step2", gen_x, (sim_weights * pull)[pass_gen], gen_x, sim_weights[pass_gen], gen_x
        )
        pulls.append(pull)
        pushes.append(push)
        spreads.append(spread)
        history.append(step.histories)
    return OmniFoldResult(
        sim_weights=sim_weights,
        pull=np.stack(pulls),
        push=np.stack(pushes),
        history=history,
        mc_scale=mc_scale,
        push_spread=np.stack(spreads),
    )


class _StepTrainer:
    """Trains the (ensembles of) classifiers of each step and keeps them for warm starts."""

    _OFFSETS = {"step1": 0, "step1b": 1, "step2": 2}

    def __init__(self, config: OmniFoldConfig, callback, pretrained=None) -> None:
        self.config = config
        self.callback = callback
        self.pretrained = pretrained
        self.models = {
            "step1": [config.step1_model] * config.ensemble,
            "step1b": [config.step2_model] * config.ensemble,
            "step2": [config.step2_model] * config.ensemble,
        }
        self.iteration = 0
        self.histories: dict[str, list[dict[str, list[float]]]] = {}

    def start(self, iteration: int) -> None:
        self.iteration = iteration
        self.histories = {}

    def ratio(self, name, numerator, w_num, denominator, w_den, evaluate_on):
        """Aggregated ``p_num / p_den`` at ``evaluate_on`` and the members' spread."""
        if self.callback is not None:
            self.callback(self.iteration + 1, name)
        base = _reseeded(self.config.training, 3 * self.iteration + self._OFFSETS[name])
        fine_tuning = self.pretrained is not None and self.iteration == 0
        if fine_tuning:
            base = replace(
                base,
                learning_rate=base.learning_rate * self.config.finetune_learning_rate_factor,
            )
        members, histories = [], []
        for k, training in enumerate(ensemble_configs(base, self.config.ensemble)):
            if fine_tuning:
                self.models[name][k] = start_from(self.pretrained)
            label = f"OmniFold {name.replace('step', 'step ')}, iteration {self.iteration + 1}"
            if self.config.ensemble > 1:
                label += f", member {k + 1}"
            trained = train_classifier(
                self.models[name][k], numerator, w_num, denominator, w_den, training, name=label
            )
            members.append(
                weights_from_logits(trained.logits(evaluate_on), name=label) * trained.total_ratio
            )
            histories.append(trained.history)
            if self.config.warm_start:
                self.models[name][k] = trained.model
        self.histories[name] = histories
        return aggregate_weights(np.stack(members), self.config.aggregation)


def _reseeded(config: TrainingConfig, offset: int) -> TrainingConfig:
    return replace(config, seed=config.seed + offset)
