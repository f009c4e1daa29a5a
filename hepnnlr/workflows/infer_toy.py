"""The ``toy:`` section of ``hepnnlr infer``: the Gaussian toy of the Sluijter thesis (§3.1.1).

Training samples of signal and background with z uniform on the toy's range (and both at
z0 for the classifiers' negatives), the three routes (``exact``, ``classifier``, ``flow``),
the fitted dataset, and the coverage of the true likelihood over independent toys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hepnnlr.errors import ConfigError
from hepnnlr.methods.signal_strength import (
    MixtureLikelihood,
    ParameterizedSample,
    coverage_from_toys,
    train_classifier_route,
    train_flow_route,
)
from hepnnlr.models.flows import FlowSpec
from hepnnlr.models.spec import ModelSpec
from hepnnlr.samples.gaussian_signal import GaussianSignalToy
from hepnnlr.training.config import TrainingConfig

__all__ = ["ToySpec", "independent_toy_coverage", "toy_inputs", "train_gaussian_routes"]


@dataclass(frozen=True)
class ToySpec:
    """The Gaussian toy and its training samples.

    Attributes:
        radius: 2.0 (large distance) or 0.5 (small distance).
        n_train: Events per training sample (signal, background, and each at z0).
        seed: Seed of the training samples.
    """

    radius: float = 2.0
    n_train: int = 50_000
    seed: int = 1

    def __post_init__(self) -> None:
        GaussianSignalToy(self.radius)  # validates the radius
        if int(self.n_train) < 100:
            raise ConfigError(f"toy.n_train={self.n_train}: train on at least 100 events.")


def train_gaussian_routes(
    toy: GaussianSignalToy,
    routes: Sequence[str],
    *,
    n_train: int,
    seed: int,
    classifier: ModelSpec | None = None,
    flow: FlowSpec | None = None,
    training: TrainingConfig | None = None,
) -> dict[str, MixtureLikelihood]:
    """The requested likelihoods of the toy: ``{route: MixtureLikelihood}``."""
    rng = np.random.default_rng(seed)
    out: dict[str, MixtureLikelihood] = {}
    if "exact" in routes:
        out["exact"] = MixtureLikelihood.exact_gaussian(toy)
    if "classifier" not in routes and "flow" not in routes:
        return out
    samples = {}
    for kind in ("signal", "background"):
        z = toy.uniform_z(n_train, rng)
        samples[kind] = ParameterizedSample(toy.sample(kind, z, n_train, rng), z, toy.features)
    if "classifier" in routes:
        references = [toy.sample(kind, toy.z0, n_train, rng) for kind in ("signal", "background")]
        out["classifier"] = train_classifier_route(
            samples["signal"], samples["background"], *references, spec=classifier,
            config=training,
        )
    if "flow" in routes:
        out["flow"] = train_flow_route(samples["signal"], samples["background"], spec=flow,
                                       config=training)
    return out


def toy_inputs(job: Any) -> tuple:
    """The toy steps of :func:`hepnnlr.workflows.infer.run_inference`: train the routes and
    draw the fitted dataset.

    Returns:
        ``(likelihoods, data, truth, make_test_set, summary, tag)``.
    """
    toy = GaussianSignalToy(job.toy.radius)
    likelihoods = train_gaussian_routes(
        toy, job.routes, n_train=job.toy.n_train, seed=job.toy.seed,
        classifier=job.classifier, flow=job.flow, training=job.training,
    )
    unit = job.grid.z_unit
    truth = {"mu": float(job.dataset.mu), "z": float(job.dataset.z) * unit}
    data, _ = toy.mixture(truth["mu"], truth["z"], job.dataset.n_events,
                          np.random.default_rng(job.dataset.seed))
    summary = {"toy": {"radius": toy.radius, "z0": toy.z0}, "truth": truth,
               "n_events": int(job.dataset.n_events)}
    return (likelihoods, data, truth, lambda mu, z, n, rng: toy.mixture(mu, z, n, rng)[0],
            summary, "dataset")


def independent_toy_coverage(job: Any, exact: MixtureLikelihood,
                             truths: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """Coverage of the true likelihood over independent toys (no bootstrap)."""
    toy, cov = GaussianSignalToy(job.toy.radius), job.coverage
    mu_grid, z_grid = job.grid.mu_grid, job.grid.z_grid
    rng = np.random.default_rng(cov.seed + 1)
    hits: dict[str, list[bool]] = {"mu": [], "z": []}
    for mu, z in truths:
        result = coverage_from_toys(
            exact,
            lambda r, mu=mu, z=z: toy.mixture(mu, z, cov.bootstrap_size, r,
                                              fixed_counts=False)[0],
            {"mu": mu, "z": z}, mu_grid, z_grid, n_toys=cov.independent_toys, rng=rng)
        for p in hits:
            hits[p].extend(result[p].covered.tolist())
    return {
        p: {"coverage": float(np.mean(v)), "n": len(v),
            "binomial_error": float(np.sqrt(0.6827 * 0.3173 / len(v)))}
        for p, v in hits.items()
    }
