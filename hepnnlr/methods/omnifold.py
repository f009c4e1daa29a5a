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
from hepnnlr.training import TrainingConfig, train_classifier, weights_from_logits

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
    """

    iterations: int = 3
    step1_model: ModelSpec = ModelSpec()
    step2_model: ModelSpec = ModelSpec()
    training: TrainingConfig = TrainingConfig()
    acceptance: str = "keep"
    warm_start: bool = True

    def __post_init__(self) -> None:
        if int(self.iterations) < 1:
            raise ConfigError(f"OmniFoldConfig.iterations={self.iterations} must be >= 1.")
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
        history: Per iteration, the training history (``loss``, ``val_loss``) of each step
            (``step1``, ``step1b`` when it ran, ``step2``).
        mc_scale: Factor applied to the input simulation weights for the normalization.
    """

    sim_weights: np.ndarray
    pull: np.ndarray
    push: np.ndarray
    history: list[dict[str, dict[str, list[float]]]] = field(default_factory=list)
    mc_scale: float = 1.0

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

    data_x = data
    reco_x = sim_reco.subset(pass_reco)
    gen_x = sim_gen.subset(pass_gen)
    both = pass_reco & pass_gen
    both_x = sim_gen.subset(both)
    training = config.training
    push = np.ones(n_sim)
    pulls, pushes, history = [], [], []
    models = {"step1": config.step1_model, "step1b": config.step2_model,
              "step2": config.step2_model}
    for iteration in range(config.iterations):
        # Step 1: data vs simulation weighted by the current particle-level weights.
        if callback is not None:
            callback(iteration + 1, "step1")
        step1 = train_classifier(
            models["step1"],
            data_x,
            data_weights,
            reco_x,
            (sim_weights * push)[pass_reco],
            _reseeded(training, 3 * iteration),
            name=f"OmniFold step 1, iteration {iteration + 1}",
        )
        steps = {"step1": step1.history}
        omega = np.ones(n_sim)
        omega[pass_reco] = (
            weights_from_logits(step1.logits(reco_x), name=step1.name) * step1.total_ratio
        )
        missed = pass_gen & ~pass_reco
        if config.acceptance == "extrapolate" and missed.any() and both.any():
            # Step 1b: the average omega at fixed z, for events the detector missed.
            if callback is not None:
                callback(iteration + 1, "step1b")
            step1b = train_classifier(
                models["step1b"],
                both_x,
                (sim_weights * push * omega)[both],
                both_x,
                (sim_weights * push)[both],
                _reseeded(training, 3 * iteration + 1),
                name=f"OmniFold step 1b, iteration {iteration + 1}",
            )
            missed_x = sim_gen.subset(missed)
            omega[missed] = (
                weights_from_logits(step1b.logits(missed_x), name=step1b.name)
                * step1b.total_ratio
            )
            steps["step1b"] = step1b.history
            if config.warm_start:
                models["step1b"] = step1b.model
        pull = push * omega

        # Step 2: simulation weighted by the pulled weights vs the prior simulation.
        if callback is not None:
            callback(iteration + 1, "step2")
        step2 = train_classifier(
            models["step2"],
            gen_x,
            (sim_weights * pull)[pass_gen],
            gen_x,
            sim_weights[pass_gen],
            _reseeded(training, 3 * iteration + 2),
            name=f"OmniFold step 2, iteration {iteration + 1}",
        )
        push = pull.copy()  # fakes carry their pulled weight
        push[pass_gen] = (
            weights_from_logits(step2.logits(gen_x), name=step2.name) * step2.total_ratio
        )
        pulls.append(pull)
        pushes.append(push)
        steps["step2"] = step2.history
        if config.warm_start:
            models["step1"], models["step2"] = step1.model, step2.model
        history.append(steps)
    return OmniFoldResult(
        sim_weights=sim_weights,
        pull=np.stack(pulls),
        push=np.stack(pushes),
        history=history,
        mc_scale=mc_scale,
    )


def _reseeded(config: TrainingConfig, offset: int) -> TrainingConfig:
    return replace(config, seed=config.seed + offset)
