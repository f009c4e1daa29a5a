"""Parallel ensembling and bootstrap replicas of whole OmniFold unfoldings.

*Parallel* ensembling (Algorithm 1 of the ensembling paper) repeats the full unfolding
with distinct seeds and combines the final weights afterwards, so the aggregation (mean,
median, truncated mean) can still be changed after the runs; the runs are independent and
can be dispatched as separate jobs to any executor with ``submit`` (a
``concurrent.futures.ProcessPoolExecutor`` with the ``spawn`` start method, or a
``dask.distributed.Client``). *Step* ensembling (Algorithm 2) lives in
:func:`hepnnlr.methods.omnifold.omnifold` (``OmniFoldConfig.ensemble``).

*Bootstrap* replicas refit with Poisson(1) weights on the data events and one fixed seed,
so their spread is the statistical uncertainty of the data alone; the spread of parallel
members is the model uncertainty of the networks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from hepnnlr.errors import ConfigError
from hepnnlr.methods.omnifold import OmniFoldConfig, OmniFoldResult, omnifold
from hepnnlr.training import aggregate_weights

__all__ = ["EnsembleOfUnfoldings", "bootstrap_omnifold", "parallel_omnifold"]

_RUN_SEED_STRIDE = 10_000


@dataclass
class EnsembleOfUnfoldings:
    """Several complete unfoldings of the same data (parallel members or replicas).

    Attributes:
        members: One :class:`OmniFoldResult` per run.
        kind: ``"parallel"`` or ``"bootstrap"``.
    """

    members: list[OmniFoldResult]
    kind: str

    def member_weights(self, iteration: int | None = None) -> np.ndarray:
        """``(runs, n_sim)`` unfolded weights of every run (after ``iteration``, 1-based)."""
        if iteration is None:
            return np.stack([m.weights for m in self.members])
        return np.stack([m.weights_at(iteration) for m in self.members])

    def weights(self, aggregation: str = "mean", iteration: int | None = None,
                **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
        """Aggregated weights and the per-event spread of the runs."""
        return aggregate_weights(self.member_weights(iteration), aggregation, **kwargs)


def _common(kwargs: dict[str, Any]) -> None:
    for key in ("config", "data_weights"):
        if key in kwargs:
            raise ConfigError(f"pass {key} to the ensemble function itself, not in **kwargs.")


def parallel_omnifold(
    data, sim_reco, sim_gen, *, runs: int, config: OmniFoldConfig = OmniFoldConfig(),
    data_weights: np.ndarray | None = None, executor: Any = None, **kwargs: Any,
) -> EnsembleOfUnfoldings:
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
    configs = [
        replace(config, training=replace(config.training,
                                         seed=config.training.seed + _RUN_SEED_STRIDE * r))
        for r in range(runs)
    ]
    return EnsembleOfUnfoldings(
        _dispatch(executor, data, sim_reco, sim_gen, configs, [data_weights] * runs, kwargs),
        "parallel",
    )


def bootstrap_omnifold(
    data, sim_reco, sim_gen, *, replicas: int, seed: int = 0,
    config: OmniFoldConfig = OmniFoldConfig(), data_weights: np.ndarray | None = None,
    executor: Any = None, **kwargs: Any,
) -> EnsembleOfUnfoldings:
    """Unfold ``replicas`` bootstrap copies of the data (Poisson(1) event weights).

    Every replica uses the same network seeds, so the spread of the replicas is the data's
    statistical uncertainty. The Poisson draws come from ``seed``.
    """
    if replicas < 2:
        raise ConfigError(f"bootstrap_omnifold needs replicas >= 2, got {replicas}.")
    _common(kwargs)
    base = np.ones(len(data)) if data_weights is None else np.asarray(data_weights, float)
    rng = np.random.default_rng(seed)
    weights = [base * rng.poisson(1.0, len(base)) for _ in range(replicas)]
    return EnsembleOfUnfoldings(
        _dispatch(executor, data, sim_reco, sim_gen, [config] * replicas, weights, kwargs),
        "bootstrap",
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
