"""The ``toy:`` section of ``hepnnlr infer``: the Gaussian toy (§3.1.1 of hdl:1887/4104579).

Reference: B. Sluijter, "Classifiers versus Normalizing Flows for uncertainty-aware
estimation of a signal ratio", MSc thesis, Leiden University 2024, hdl:1887/4104579.

Training samples of signal and background with z uniform on the toy's range (and both at
z0 for the classifiers' negatives), the three routes (``exact``, ``classifier``, ``flow``),
the fitted dataset, and the coverage of the true likelihood over independent toys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
from hepnnlr.models.spec import FlowSpec, ModelSpec
from hepnnlr.samples.gaussian_signal import GaussianSignalToy
from hepnnlr.training.config import TrainingConfig

__all__ = [
    "TOY_SAMPLES",
    "ToyConfig",
    "independent_toy_coverage",
    "toy_inputs",
    "toy_training_samples",
    "train_gaussian_routes",
]

TOY_SAMPLES = ("signal", "background", "signal_reference", "background_reference")
"""The toy's training samples, in the order they are drawn from ``seed``."""


@dataclass(frozen=True)
class ToyConfig:
    """The Gaussian toy and its training samples.

    Attributes:
        radius: 2.0 (large distance) or 0.5 (small distance).
        n_train: Events per training sample (signal, background, and each at z0).
        seed: Seed of the training samples: drawn one after the other from it in the
            order of :data:`TOY_SAMPLES`.
        seeds: Per-sample seeds (``{signal: s, background: …, signal_reference: …,
            background_reference: …}``, any subset): that sample is drawn from its own
            seed instead; the others stay as ``seed`` draws them.
    """

    radius: float = 2.0
    n_train: int = 50_000
    seed: int = 1
    seeds: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        GaussianSignalToy(self.radius)  # validates the radius
        if int(self.n_train) < 100:
            raise ConfigError(f"toy.n_train={self.n_train}: train on at least 100 events.")
        if not isinstance(self.seeds, Mapping):
            raise ConfigError(
                f"toy.seeds must map samples {list(TOY_SAMPLES)} to seeds, got {self.seeds!r}."
            )
        unknown = sorted(set(self.seeds) - set(TOY_SAMPLES))
        if unknown:
            raise ConfigError(
                f"toy.seeds: unknown sample(s) {unknown}; the toy's samples are "
                f"{list(TOY_SAMPLES)}."
            )
        for name, value in self.seeds.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"toy.seeds.{name}={value!r} must be an integer >= 0.")


def toy_training_samples(
    toy: GaussianSignalToy,
    n_train: int,
    seed: int,
    seeds: Mapping[str, int] | None = None,
    *,
    references: bool = True,
) -> dict[str, Any]:
    """The toy's training samples: ``signal``/``background`` as
    :class:`ParameterizedSample` (z uniform on the toy's range) and, with ``references``,
    ``signal_reference``/``background_reference`` feature arrays at ``z0``.

    Drawn one after the other from ``seed`` (:data:`TOY_SAMPLES` order); a sample named in
    ``seeds`` is drawn from its own seed instead, and the shared stream still draws it, so
    that the other samples stay what ``seed`` alone gives.
    """
    rng = np.random.default_rng(seed)
    seeds = dict(seeds or {})
    out: dict[str, Any] = {}
    for kind in ("signal", "background"):
        z = toy.uniform_z(n_train, rng)
        x = toy.sample(kind, z, n_train, rng)
        if kind in seeds:
            own = np.random.default_rng(seeds[kind])
            z = toy.uniform_z(n_train, own)
            x = toy.sample(kind, z, n_train, own)
        out[kind] = ParameterizedSample(x, z, toy.features)
    for kind in ("signal", "background") if references else ():
        name = f"{kind}_reference"
        x = toy.sample(kind, toy.z0, n_train, rng)
        if name in seeds:
            x = toy.sample(kind, toy.z0, n_train, np.random.default_rng(seeds[name]))
        out[name] = x
    return out


def train_gaussian_routes(
    toy: GaussianSignalToy,
    routes: Sequence[str],
    *,
    n_train: int,
    seed: int,
    classifier: ModelSpec | None = None,
    flow: FlowSpec | None = None,
    training: TrainingConfig | None = None,
    seeds: Mapping[str, int] | None = None,
) -> dict[str, MixtureLikelihood]:
    """The requested likelihoods of the toy: ``{route: MixtureLikelihood}``.

    The training samples are drawn from ``seed`` in the order of :data:`TOY_SAMPLES`; a
    sample named in ``seeds`` is drawn from its own seed instead (the shared stream still
    draws it, so the other samples do not change).
    """
    out: dict[str, MixtureLikelihood] = {}
    if "exact" in routes:
        out["exact"] = MixtureLikelihood.exact_gaussian(toy)
    if "classifier" not in routes and "flow" not in routes:
        return out

    samples = toy_training_samples(toy, n_train, seed, seeds, references="classifier" in routes)
    if "classifier" in routes:
        references = [samples["signal_reference"], samples["background_reference"]]
        out["classifier"] = train_classifier_route(
            samples["signal"],
            samples["background"],
            *references,
            spec=classifier,
            config=training,
        )
    if "flow" in routes:
        out["flow"] = train_flow_route(
            samples["signal"], samples["background"], spec=flow, config=training
        )
    return out


def toy_inputs(job: Any, keep: Callable[[Callable[[], tuple]], tuple] | None = None) -> tuple:
    """The toy steps of :func:`hepnnlr.workflows.infer.run_inference`: train the routes and
    draw the fitted dataset. ``keep(train)``: the routes and their report, ``train()``'s
    or a checkpoint's (:meth:`hepnnlr.workflows.infer_checkpoint.InferUnits.routes`).

    Returns:
        ``(likelihoods, data, truth, make_test_set, summary, tag, retrain)``; ``retrain``
        maps a training seed to the trained routes on the same samples.
    """
    toy = GaussianSignalToy(job.toy.radius)

    def train(routes: Sequence[str], training: TrainingConfig) -> dict[str, MixtureLikelihood]:
        return train_gaussian_routes(
            toy,
            routes,
            n_train=job.toy.n_train,
            seed=job.toy.seed,
            seeds=job.toy.seeds,
            classifier=job.classifier,
            flow=job.flow,
            training=training,
        )

    likelihoods, _ = (keep or _call)(lambda: (train(job.routes, job.training), {}))
    trained = [r for r in job.routes if r != "exact"]
    unit = job.grid.z_unit
    truth = {"mu": float(job.dataset.mu), "z": float(job.dataset.z) * unit}
    data, _ = toy.mixture(
        truth["mu"], truth["z"], job.dataset.n_events, np.random.default_rng(job.dataset.seed)
    )
    summary = {
        "toy": {"radius": toy.radius, "z0": toy.z0},
        "truth": truth,
        "n_events": int(job.dataset.n_events),
    }
    return (
        likelihoods,
        data,
        truth,
        lambda mu, z, n, rng: toy.mixture(mu, z, n, rng)[0],
        summary,
        "dataset",
        lambda seed: train(trained, replace(job.training, seed=seed)) if trained else {},
    )


def _call(train: Callable[[], tuple]) -> tuple:
    return train()


def independent_toy_coverage(
    job: Any, exact: MixtureLikelihood, truths: Sequence[tuple[float, float]]
) -> dict[str, Any]:
    """Coverage of the true likelihood over independent toys (no bootstrap)."""
    toy, cov = GaussianSignalToy(job.toy.radius), job.coverage
    mu_grid, z_grid = job.grid.mu_grid, job.grid.z_grid
    rng = np.random.default_rng(cov.seed + 1)
    hits: dict[str, list[bool]] = {"mu": [], "z": []}
    for mu, z in truths:
        result = coverage_from_toys(
            exact,
            lambda r, mu=mu, z=z: toy.mixture(mu, z, cov.bootstrap_size, r, fixed_counts=False)[0],
            {"mu": mu, "z": z},
            mu_grid,
            z_grid,
            n_toys=cov.independent_toys,
            rng=rng,
        )
        for p in hits:
            hits[p].extend(result[p].covered.tolist())
    return {
        p: {
            "coverage": float(np.mean(v)),
            "n": len(v),
            "binomial_error": float(np.sqrt(0.6827 * 0.3173 / len(v))),
        }
        for p, v in hits.items()
    }


# names before issue 18's naming rule (job sections end in ``Config``): still importable,
# for code written against them, but not in ``__all__``
ToySpec = ToyConfig
