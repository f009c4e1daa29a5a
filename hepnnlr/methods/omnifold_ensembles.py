"""Parallel ensembling and bootstrap replicas of whole OmniFold unfoldings.

*Parallel* ensembling (Algorithm 1 of Torales Acosta, Wamorkar, Mikuni, Nachman, "Stabilizing
Neural Likelihood Ratio Estimation", arXiv:2503.20753) repeats the full unfolding
with distinct seeds and combines the final weights afterwards, so the aggregation (mean,
median, truncated mean) can still be changed after the runs; the runs are independent and
can be dispatched as separate jobs to any executor with ``submit`` (a
``concurrent.futures.ProcessPoolExecutor`` with the ``spawn`` start method, or a
``dask.distributed.Client``). *Step* ensembling (Algorithm 2) lives in
:func:`hepnnlr.methods.omnifold.omnifold` (``OmniFoldConfig.ensemble``).

*Bootstrap* replicas rerun the whole unfolding (every classifier retrained) with
Poisson(1) weights on the data events. Replica ``b`` draws its weights from the stream
``(seed, b)`` (:func:`hepnnlr.methods.bootstrap.poisson_weights`: independent per event and
per replica, and the same however many replicas run) and trains with the network seeds of
parallel run ``b mod M`` (``repeat_seeds``), so that the shift of a replica from the run it
repeats is the data's statistical fluctuation alone; the spread of the parallel runs is the
method (training) uncertainty (docs/omnifold.md, "Uncertainties of hepnnlr unfold").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from hepnnlr.errors import ConfigError
from hepnnlr.methods.bootstrap import poisson_weights
from hepnnlr.methods.omnifold import OmniFoldConfig, OmniFoldResult, omnifold
from hepnnlr.tensors.adapt import as_events
from hepnnlr.tensors.events import EventTensors
from hepnnlr.training import aggregate_weights

__all__ = ["OmniFoldEnsembleResult", "bootstrap_omnifold", "parallel_omnifold", "run_config"]

_RUN_SEED_STRIDE = 10_000


def run_config(config: OmniFoldConfig, run: int) -> OmniFoldConfig:
    """``config`` with the training seed of parallel run ``run``: ``seed + 10000 run``.

    The stride keeps the seeds of one run's step ensembles and iterations (which count up
    from its seed) apart from the next run's.
    """
    seed = config.training.seed + _RUN_SEED_STRIDE * int(run)
    return replace(config, training=replace(config.training, seed=seed))


@dataclass
class OmniFoldEnsembleResult:
    """Several complete unfoldings of the same data (parallel members or replicas).

    Attributes:
        members: One :class:`OmniFoldResult` per run.
        kind: ``"parallel"`` or ``"bootstrap"``.
    """

    members: list[OmniFoldResult]
    kind: str
    repeat_of: tuple[int, ...] = ()
    """For bootstrap replicas: the parallel run whose network seeds each replica used."""

    def member_weights(self, iteration: int | None = None) -> np.ndarray:
        """``(runs, n_sim)`` unfolded weights of every run (after ``iteration``, 1-based)."""
        if iteration is None:
            return np.stack([m.weights for m in self.members])
        return np.stack([m.weights_at(iteration) for m in self.members])

    def weights(
        self, aggregation: str = "mean", iteration: int | None = None, **kwargs: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        """Aggregated weights and the per-event spread of the runs."""
        return aggregate_weights(self.member_weights(iteration), aggregation, **kwargs)


# The name before issue 18's naming rule (results end in ``Result``); kept so code
# written against it still runs, and left out of ``__all__``.
EnsembleOfUnfoldings = OmniFoldEnsembleResult


def _adapted(data, sim_reco, sim_gen) -> tuple[EventTensors, EventTensors, EventTensors]:
    """Plain arrays to tensors once for every run (the runs may go to other processes)."""
    return (
        as_events(data, argument="data"),
        as_events(sim_reco, argument="sim_reco"),
        as_events(sim_gen, argument="sim_gen"),
    )


def _common(kwargs: dict[str, Any]) -> None:
    for key in ("config", "data_weights"):
        if key in kwargs:
            raise ConfigError(f"pass {key} to the ensemble function itself, not in **kwargs.")


def parallel_omnifold(
    data,
    sim_reco,
    sim_gen,
    *,
    runs: int,
    config: OmniFoldConfig = OmniFoldConfig(),
    data_weights: np.ndarray | None = None,
    executor: Any = None,
    **kwargs: Any,
) -> OmniFoldEnsembleResult:
    """Repeat the whole unfolding ``runs`` times with seeds ``seed + 10000 r``.

    Args:
        data, sim_reco, sim_gen: As for :func:`~hepnnlr.methods.omnifold.omnifold`.
        runs: Number of independent full passes.
        config: Settings shared by every run (only the seed changes).
        data_weights: Data event weights (default 1).
        executor: Anything with ``submit(fn, *args, **kwargs)`` returning futures with
            ``result()``; ``None`` runs them one after the other in this process.
        **kwargs: ``pass_reco``, ``pass_gen``, ``sim_weights``, ``callback``, ``pretrained``.
    """
    if runs < 1:
        raise ConfigError(f"parallel_omnifold needs runs >= 1, got {runs}.")
    _common(kwargs)
    data, sim_reco, sim_gen = _adapted(data, sim_reco, sim_gen)
    configs = [run_config(config, r) for r in range(runs)]
    return OmniFoldEnsembleResult(
        _dispatch(executor, data, sim_reco, sim_gen, configs, [data_weights] * runs, kwargs),
        "parallel",
    )


def bootstrap_omnifold(
    data,
    sim_reco,
    sim_gen,
    *,
    replicas: int,
    seed: int = 0,
    config: OmniFoldConfig = OmniFoldConfig(),
    data_weights: np.ndarray | None = None,
    executor: Any = None,
    repeat_seeds: int = 1,
    first: int = 0,
    **kwargs: Any,
) -> OmniFoldEnsembleResult:
    """Unfold ``replicas`` bootstrap copies of the data (Poisson(1) event weights).

    Replica ``b`` (``b = first, first + 1, ...``) multiplies the data weights by
    :func:`~hepnnlr.methods.bootstrap.poisson_weights` of the stream ``(seed, b)`` and
    retrains every classifier with the seeds of parallel run ``b mod repeat_seeds``
    (:func:`run_config`). Compare each replica with that run
    (:attr:`OmniFoldEnsembleResult.repeat_of`): the shift is the data's statistical
    fluctuation, free of the training noise between runs.

    Args:
        data, sim_reco, sim_gen, config, data_weights, executor: As for
            :func:`parallel_omnifold`.
        **kwargs: As for :func:`parallel_omnifold`.
        replicas: Number of replicas (at least 2).
        seed: Seed of the Poisson weights (the data's seed, ``seeds.data`` of a job).
        repeat_seeds: Parallel runs whose seeds the replicas cycle through (1: every
            replica trains with ``config``'s seed).
        first: Index of the first replica (to add replicas to an earlier set).
    """
    if replicas < 2:
        raise ConfigError(f"bootstrap_omnifold needs replicas >= 2, got {replicas}.")
    if repeat_seeds < 1:
        raise ConfigError(f"bootstrap_omnifold needs repeat_seeds >= 1, got {repeat_seeds}.")
    _common(kwargs)
    data, sim_reco, sim_gen = _adapted(data, sim_reco, sim_gen)
    base = np.ones(len(data)) if data_weights is None else np.asarray(data_weights, float)
    indices = range(int(first), int(first) + int(replicas))
    weights = [base * poisson_weights(len(base), b, seed) for b in indices]
    repeat_of = tuple(b % int(repeat_seeds) for b in indices)
    configs = [run_config(config, r) for r in repeat_of]
    return OmniFoldEnsembleResult(
        _dispatch(executor, data, sim_reco, sim_gen, configs, weights, kwargs),
        "bootstrap",
        repeat_of,
    )


def _dispatch(executor, data, sim_reco, sim_gen, configs, data_weights, kwargs):
    if executor is None:
        return [
            omnifold(data, sim_reco, sim_gen, config=c, data_weights=w, **kwargs)
            for c, w in zip(configs, data_weights, strict=True)
        ]
    futures = [
        executor.submit(omnifold, data, sim_reco, sim_gen, config=c, data_weights=w, **kwargs)
        for c, w in zip(configs, data_weights, strict=True)
    ]
    return [future.result() for future in futures]
