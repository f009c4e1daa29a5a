"""OmniFold: unbinned unfolding by iterated classifier reweighting.

Implements the two-step iteration of Eqs. 1-3 of Torales Acosta, Wamorkar, Mikuni, Nachman,
"Stabilizing Neural Likelihood Ratio Estimation", arXiv:2503.20753, after Andreassen et al.,
"OmniFold: A Method to Simultaneously Unfold All Observables", PRL 124 (2020) 182001,
arXiv:1911.09107, with the treatment of events failing a selection (the footnote to Sec. 2 of
arXiv:2503.20753) of the OmniFold authors' Gaussian example (github.com/hep-lbdl/OmniFold,
``GaussianExample.ipynb``: steps 1b and 2b). docs/omnifold.md derives the conventions.

Notation: simulated event ``i`` has weight ``w_i`` (after the normalization below),
detector-level ``x_i`` and particle-level ``z_i``; ``R`` and ``G`` are the events passing
the detector- and particle-level selections; ``B = R & G``, the missed events
``M = G & ~R`` (inefficiency) and the fakes ``F = R & ~G``. Data events ``j`` have
weights ``d_j``; ``N = sum_j d_j``. ``nu_0 = 1``.

* **Step 1** (Eq. 3): a classifier between the data and the detector-level simulation, in
  which the events of ``B`` carry ``w nu_{n-1}`` and the fakes ``w phi_{n-1}`` (their fake
  model, below), gives ``omega_n(x) = p_data(x) / p_sim(x)``. It is the ratio of *counts*
  (data over signal plus fakes), fixed by::

      (N1)  sum_{i in R} w_i nu_{n-1,i} omega_n(x_i) = N          (phi for i in F)

* **Step 1b** (missed events): ``acceptance="extrapolate"`` gives each event of ``M`` the
  average ``omega_n`` at its ``z``, ``E[omega_n | z, detected]``, from a particle-level
  classifier between the events of ``B`` weighted by ``w nu_{n-1} omega_n`` and by
  ``w nu_{n-1}``, with ``(N1b)``: its ratio keeps ``sum_B w nu_{n-1} omega_n``. This is
  the expectation-maximization (Richardson-Lucy) update with an efficiency; use it for an
  inefficiency inside the detector's phase space. ``acceptance="keep"`` (the default, and
  the ``omnifold`` package's choice) sets ``omega = 1`` there: the same fixed point,
  reached more slowly (the update is damped by the efficiency), and no extrapolation of a
  classifier where no event is detected (a particle-level phase space wider than the
  detector's, as Q^2 > 100 vs 150 GeV^2 in the DIS selection of arXiv:2503.20753).
  The pulled weights are ``pi_n = nu_{n-1} omega_n``.
* **Step 2** (Eq. 2): a classifier between the events of ``G`` weighted by ``w pi_n`` and
  by ``w`` gives the pushed weights ``nu_n(z)``, fixed by::

      (N2)  sum_{i in G} w_i nu_n(z_i) = sum_{i in G} w_i pi_{n,i}

* **Fakes** take no part in step 2 and never enter particle-level (unfolded) results;
  their weight in the next step 1 is their fake model ``phi_n`` (``fakes=``):

  - ``"prior"`` (default; the ``omnifold`` package's choice): ``phi = 1``, the
    simulation's fake model. Right when fakes come from a process of their own (noise,
    pile-up, an unrelated background) that the simulation models.
  - ``"learned"`` ("step 2b"): ``phi_n(x) = E[nu_n | x]``, the average pushed weight of the
    events of ``B`` at the fake's detector-level ``x``, from a detector-level classifier
    between ``B`` weighted by ``w nu_n`` and by ``w``, with ``(N2b)``: it keeps
    ``sum_B w nu_n``. Right when the fakes follow the signal at detector level (a
    particle-level requirement uncorrelated with what is unfolded, migrations across a
    particle-level cut).
  - ``"pulled"``: ``phi_n = pi_n = prod_k omega_k(x)``, the fakes fitted to the data at
    detector level by the accumulated step-1 factors (hepnnlr's convention before issue
    15). Right only where the fakes are separated from the signal at detector level (e.g.
    migrations from below a particle-level cut into a detector region the signal does
    not reach, whose rate in the data the simulation gets wrong); where they overlap the
    signal, the fakes absorb the difference that belongs to the particle-level
    reweighting (their total grows, the unfolded shifts and widths fall short:
    tests/methods/test_omnifold_closure.py).

* **Normalization**: the simulation weights are first scaled (``mc_scale``) so that
  ``sum_R w = N``: the prior fake model then predicts the simulation's fake *fraction* of
  the data, and unfolded histograms are in units of data events. (N1), (N2), (N1b) and
  (N2b) are exact properties of the ratios (sums of known weights), imposed by one factor
  per classifier: an early-stopped classifier's ratio averages to 1 over its denominator
  only to a few per cent, which would go straight into the unfolded total. With them the
  unfolded total is ``sum_G w nu_n = N - sum_F w phi omega + sum_M w pi``; at the fixed
  point (``omega = 1``) it is ``(N - N_fakes) / efficiency``, the data's particle-level
  total within its statistical error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from hepnnlr.errors import ConfigError, EmptySelectionError
from hepnnlr.methods.checkpoint import OmniFoldCheckpoint, PhaseState, active_store, fingerprint
from hepnnlr.methods.omnifold_config import OmniFoldConfig
from hepnnlr.tensors.adapt import EventsLike, as_events
from hepnnlr.tensors.checks import check_finite, check_same_length
from hepnnlr.tensors.events import EventTensors
from hepnnlr.training import (
    TrainedClassifier,
    TrainingConfig,
    aggregate_weights,
    ensemble_configs,
    start_from,
    train_classifier,
    weights_from_logits,
)

__all__ = ["OmniFoldConfig", "OmniFoldResult", "omnifold"]


@dataclass
class OmniFoldResult:
    """Weights of every iteration.

    Attributes:
        sim_weights: The simulation's event weights after the normalization to data.
        pull: ``(iterations, n_sim)`` step-1 weight factors ``nu_{n-1} * omega_n`` (for
            fakes, their fake-model weight times ``omega_n``).
        push: ``(iterations, n_sim)`` step-2 weight factors ``nu_n``; for fakes, their
            fake-model weight ``phi_n`` used in the next step 1.
        history: Per iteration and step (``step1``, ``step1b`` and ``step2b`` when they
            ran, ``step2``), the training history (``loss``, ``val_loss``) of each
            ensemble member.
        push_spread: ``(iterations, n_sim)`` standard deviation of the step-2 ensemble
            members' weights (zeros without an ensemble): the model uncertainty.
        mc_scale: Factor applied to the input simulation weights for the normalization.
        classifiers: The last iteration's trained classifiers per step (``step1``,
            ``step2``, ...; one per ensemble member), to save and apply elsewhere.
        scales: The last iteration's normalization factor per step (``step1``, ``step2``):
            that step's weights are ``scales[step]`` times the classifiers' aggregated
            ``exp(logit) * total_ratio``.
    """

    sim_weights: np.ndarray
    pull: np.ndarray
    push: np.ndarray
    history: list[dict[str, list[dict[str, list[float]]]]] = field(default_factory=list)
    mc_scale: float = 1.0
    push_spread: np.ndarray | None = None
    classifiers: dict[str, list[TrainedClassifier]] = field(default_factory=dict)
    scales: dict[str, float] = field(default_factory=dict)

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
    data: EventsLike,
    sim_reco: EventsLike,
    sim_gen: EventsLike,
    *,
    pass_reco: np.ndarray | None = None,
    pass_gen: np.ndarray | None = None,
    sim_weights: np.ndarray | None = None,
    data_weights: np.ndarray | None = None,
    config: OmniFoldConfig = OmniFoldConfig(),
    callback: Callable[[int, str], None] | None = None,
    pretrained: object | None = None,
    checkpoint: OmniFoldCheckpoint | None = None,
) -> OmniFoldResult:
    """Unfold ``data`` with the paired simulation ``(sim_gen, sim_reco)``.

    Args:
        data: Detector-level inputs of the data events (all pass the detector selection).
            :class:`EventTensors` or plain arrays (NumPy ``(events, features)`` or
            zero-padded ``(events, slots, features)``, a mapping of columns, awkward
            particle lists), which :func:`hepnnlr.tensors.as_events` turns into tensors.
        sim_reco: Detector-level inputs of every simulated event (rows of events failing
            ``pass_reco`` are ignored); the same kinds of input as ``data``.
        sim_gen: Particle-level inputs of every simulated event, same order (rows of events
            failing ``pass_gen`` are ignored).
        pass_reco, pass_gen: Per simulated event, whether it passes the detector- and
            particle-level selections (default: every event passes, as the ``omnifold``
            package's ``DataLoader`` assumes).
        sim_weights: Per simulated event MC weights (default 1; negative allowed).
        data_weights: Per data event weights (default 1).
        config: Iterations, networks and training settings.
        callback: Called as ``callback(iteration, step)`` before each training (progress).
        pretrained: A Keras classifier pre-trained on a separate sample (Sec. 4.2 of
            arXiv:2503.20753: the task of step 1, iteration 1). Every step's classifier of
            the first iteration starts from a copy of it, fine-tuned with the learning rate
            scaled by ``config.finetune_learning_rate_factor``; it must take the inputs
            of both levels (same features at detector and particle level).
        checkpoint: Where to save each completed phase of each iteration (the pull: step
            1 and 1b; the push: step 2 and 2b) and from which to resume: the phases found
            there are skipped, their weights, histories and classifiers read back
            (:mod:`hepnnlr.methods.checkpoint`); a checkpoint written for other inputs or
            settings is refused (:class:`~hepnnlr.methods.checkpoint.CheckpointMismatchError`).
            ``None``: the store :func:`~hepnnlr.methods.checkpoint.checkpointing` made
            active (``hepnnlr unfold``), if any; otherwise no checkpoints. The seeds of a
            step depend on its iteration only, so a resumed run on CPU gives the weights of
            an uninterrupted one bit for bit.

    Returns:
        The weights of every iteration (see :class:`OmniFoldResult`).
    """
    data = as_events(data, argument="data")
    sim_reco = as_events(sim_reco, argument="sim_reco")
    sim_gen = as_events(sim_gen, argument="sim_gen")
    pass_reco = np.ones(len(sim_reco), bool) if pass_reco is None else np.asarray(pass_reco, bool)
    pass_gen = np.ones(len(sim_gen), bool) if pass_gen is None else np.asarray(pass_gen, bool)
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
    fakes = pass_reco & ~pass_gen
    step = _StepTrainer(config, callback, pretrained)
    saved = _bound_checkpoint(
        checkpoint,
        config=config,
        data=data,
        sim_reco=sim_reco,
        sim_gen=sim_gen,
        pass_reco=pass_reco,
        pass_gen=pass_gen,
        sim_weights=sim_weights,
        data_weights=data_weights,
        pretrained=None if pretrained is None else list(pretrained.get_weights()),
    )
    data_total = float(data_weights.sum())
    push = np.ones(n_sim)
    pulls, pushes, spreads, history = [], [], [], []
    for iteration in range(config.iterations):
        step.start(iteration)
        if saved is not None and saved.has(iteration, "pull"):
            state = step.restore(saved, iteration, "pull")
            pull, scales = state.arrays["pull"], dict(state.scales)
        else:
            # Step 1 (Eq. 3): data vs the simulation weighted by the current pushed
            # weights, fakes included with their fake-model weight; Eq. (N1) fixes its
            # total.
            omega = np.ones(n_sim)
            sim1 = (sim_weights * push)[pass_reco]
            ratio, _ = step.ratio("step1", data, data_weights, reco_x, sim1, reco_x)
            scales = {"step1": _scale(data_total, sim1 @ ratio, "step 1")}
            omega[pass_reco] = ratio * scales["step1"]
            if config.acceptance == "extrapolate" and missed.any() and both.any():
                # Step 1b: the average omega at fixed z, for events the detector missed.
                omega[missed] = _average(
                    step, "step1b", sim_gen, both, missed, sim_weights * push, omega
                )
            pull = push * omega
            step.save(saved, iteration, "pull", {"pull": pull}, scales)

        if saved is not None and saved.has(iteration, "push"):
            state = step.restore(saved, iteration, "push")
            new_push, spread = state.arrays["push"], state.arrays["spread"]
            scales["step2"] = state.scales["step2"]
        else:
            # Step 2 (Eq. 2): the simulation weighted by the pulled weights vs the prior
            # simulation; Eq. (N2) fixes its total.
            new_push, spread = np.ones(n_sim), np.zeros(n_sim)
            ratio, members = step.ratio(
                "step2",
                gen_x,
                (sim_weights * pull)[pass_gen],
                gen_x,
                sim_weights[pass_gen],
                gen_x,
            )
            factor = _scale(
                (sim_weights * pull)[pass_gen].sum(), sim_weights[pass_gen] @ ratio, "step 2"
            )
            new_push[pass_gen], spread[pass_gen] = ratio * factor, members * factor
            scales["step2"] = factor
            if fakes.any():
                new_push[fakes] = _fake_weights(
                    config.fakes, step, sim_reco, both, fakes, sim_weights, new_push, pull
                )
            step.save(
                saved, iteration, "push", {"push": new_push, "spread": spread}, {"step2": factor}
            )
        push = new_push
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
        classifiers={k: step.classifiers[k] for k in ("step1", "step2")},
        scales=scales,
    )


def _bound_checkpoint(
    checkpoint: OmniFoldCheckpoint | None, *, config: OmniFoldConfig, **inputs
) -> OmniFoldCheckpoint | None:
    """``checkpoint`` (or the active store's run for these inputs) bound to their
    fingerprint; the progress setting is left out of it (it changes no weight)."""
    store = active_store()
    if checkpoint is None and store is None:
        return None
    quiet = replace(config, training=replace(config.training, progress=False))
    key = fingerprint(config=quiet, **inputs)
    if checkpoint is None:
        checkpoint = store.run(key)
    checkpoint.bind(key)
    return checkpoint


def _scale(target: float, current: float, where: str) -> float:
    """The factor that makes a classifier's weighted total ``current`` equal ``target``."""
    if not (target > 0 and current > 0):
        raise EmptySelectionError(
            f"OmniFold {where}: the weighted totals are {target:g} (required) and "
            f"{current:g} (from the classifier); both must be positive to normalize the "
            "weights. Check for negative simulation weights dominating the selection."
        )
    return target / current


def _average(
    step: _StepTrainer,
    name: str,
    level: EventTensors,
    trained_on: np.ndarray,
    evaluate_on: np.ndarray,
    weights: np.ndarray,
    factor: np.ndarray,
) -> np.ndarray:
    """``E[factor | level]`` at the ``evaluate_on`` events, learned on ``trained_on``.

    A classifier between the ``trained_on`` events weighted by ``weights * factor`` and by
    ``weights`` (step 1b: ``omega`` at fixed particle-level z; step 2b: the pushed weight
    at fixed detector-level x). Its ratio is scaled so that it keeps the weighted total of
    ``factor`` on the events it was trained on (Eq. N1b / N2b).
    """
    inputs = level.subset(trained_on | evaluate_on)
    train = trained_on[trained_on | evaluate_on]
    same = inputs.subset(train)  # one object for both classes: the same events
    ratio, _ = step.ratio(
        name, same, (weights * factor)[trained_on], same, weights[trained_on], inputs
    )
    where = name.replace("step", "step ")
    target = (weights * factor)[trained_on].sum()
    return ratio[~train] * _scale(target, weights[trained_on] @ ratio[train], where)


def _fake_weights(
    convention: str,
    step: _StepTrainer,
    sim_reco: EventTensors,
    both: np.ndarray,
    fakes: np.ndarray,
    sim_weights: np.ndarray,
    push: np.ndarray,
    pull: np.ndarray,
) -> np.ndarray:
    """Pushed weights of the fakes under ``convention`` (module docstring, "Fakes")."""
    if convention == "pulled":
        return pull[fakes]
    if convention == "prior" or not both.any():
        return np.ones(int(fakes.sum()))
    # Step 2b: the average pushed weight at fixed detector-level x.
    return _average(step, "step2b", sim_reco, both, fakes, sim_weights, push)


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
            "step2b": [config.step1_model] * config.ensemble,
        }
        self.iteration = 0
        self.histories: dict[str, list[dict[str, list[float]]]] = {}
        self.classifiers: dict[str, list[TrainedClassifier]] = {}

    def start(self, iteration: int) -> None:
        self.iteration = iteration
        self.histories = {}

    _PHASES = {"pull": ("step1", "step1b"), "push": ("step2", "step2b")}

    def save(self, checkpoint, iteration, phase, arrays, scales) -> None:
        """Checkpoint the phase just completed (nothing without a checkpoint)."""
        if checkpoint is None:
            return
        steps = [s for s in self._PHASES[phase] if s in self.histories]
        checkpoint.save(
            iteration,
            phase,
            PhaseState(
                arrays=arrays,
                scales=scales,
                histories={s: self.histories[s] for s in steps},
                classifiers={s: self.classifiers[s] for s in steps},
            ),
        )

    def restore(self, checkpoint, iteration, phase) -> PhaseState:
        """Read a completed phase back as if it had just been trained: its histories, and
        (unless the next iteration's phase is complete too) its classifiers, which the next
        iteration warm-starts from and the result keeps."""
        models = not checkpoint.has(iteration + 1, phase)
        state = checkpoint.load(iteration, phase, models=models)
        self.histories.update(state.histories)
        for name, classifiers in state.classifiers.items():
            self.classifiers[name] = classifiers
            if self.config.warm_start:
                self.models[name] = [c.model for c in classifiers]
        return state

    def ratio(self, name, numerator, w_num, denominator, w_den, evaluate_on):
        """Aggregated ``p_num / p_den`` at ``evaluate_on`` and the members' spread."""
        if self.callback is not None:
            self.callback(self.iteration + 1, name)
        if name == "step2b":  # after every seed of steps 1, 1b and 2 of the whole run
            offset = 3 * self.config.iterations + self.iteration
        else:
            offset = 3 * self.iteration + self._OFFSETS[name]
        base = _reseeded(self.config.training, offset)
        fine_tuning = self.pretrained is not None and self.iteration == 0
        if fine_tuning:
            base = replace(
                base,
                learning_rate=base.learning_rate * self.config.finetune_learning_rate_factor,
            )
        members, histories, classifiers = [], [], []
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
            classifiers.append(trained)
            if self.config.warm_start:
                self.models[name][k] = trained.model
        self.histories[name] = histories
        self.classifiers[name] = classifiers
        return aggregate_weights(np.stack(members), self.config.aggregation)


def _reseeded(config: TrainingConfig, offset: int) -> TrainingConfig:
    return replace(config, seed=config.seed + offset)
