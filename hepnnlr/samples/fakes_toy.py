"""A 2-D unfolding toy with an inefficiency and fakes (the OmniFold closure of issue 15).

Particle-level truth z is a correlated 2-D Gaussian; the detector smears it,
x = z + N(0, ``RESOLUTION``²) per coordinate, and keeps an event with an x-dependent
efficiency of 50 % to 95 % (:func:`efficiency`), so the events it misses have
``pass_gen & ~pass_reco``. Fakes (``pass_reco & ~pass_gen``) are ``Binomial(n, FAKE_RATE)``
extra events spread uniformly over the detector box ``[-BOX, BOX]²``.

:func:`ideal_unfolding` knows this detector exactly and gives the statistical yardstick of
an unfolding: :func:`statistical_errors` is its spread over data replicas. The log-ratio of
two Gaussians is a quadratic form, so :func:`quadratic_features` lists the features it is
linear in.

Used by ``tests/methods/test_omnifold_closure.py``, ``examples/omnifold_fakes_toy.py`` and
``benchmarks/bench_vs_multifold.py``, which must all see the same samples: the random
numbers are drawn in a fixed order (truth, smearing, efficiency, fake count, fake
positions), so a seed gives the same events everywhere, and all three take the closure's
samples and σ from :func:`closure_toy`.

Typical use::

    sim, data, sigma = closure_toy()  # seed 15 for the samples, 16 for sigma
"""

from __future__ import annotations

import numpy as np

RESOLUTION = 0.3
FAKE_RATE = 0.04  # fakes per generated event, uniform in the box [-BOX, BOX]^2
BOX = 4.0
N_SIM, N_DATA = 40_000, 20_000
# (means, widths, correlation) of the particle-level truth; the data's is shifted, wider
# and more correlated than the simulation's, so the prior is far from it
SIM_TRUTH = ((0.0, 0.0), (1.0, 1.0), 0.3)
DATA_TRUTH = ((0.4, 0.3), (1.2, 1.1), 0.45)
QUANTITIES = ("mean 1", "mean 2", "width 1", "width 2", "correlation", "total")
FEATURE_NAMES = ("v1", "v2", "v1^2", "v2^2", "v1*v2")

Truth = tuple[tuple[float, float], tuple[float, float], float]
FakesToy = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def efficiency(x: np.ndarray) -> np.ndarray:
    """Detector efficiency at detector-level ``x`` (shape ``(n, 2)``): 50 % to 95 %."""
    return 0.5 + 0.45 / (1.0 + np.exp(-(x[:, 0] + x[:, 1])))


def make_fakes_toy(rng: np.random.Generator, n: int, truth: Truth) -> FakesToy:
    """``n`` generated events of ``truth`` and their fakes: ``(z, x, pass_reco, pass_gen)``.

    ``truth`` is ``((mean1, mean2), (width1, width2), correlation)``. Fakes are
    ``Binomial(n, FAKE_RATE)`` extra events uniform in the box at detector level, a process
    of their own (their z is a dummy zero, never read), appended after the ``n`` events.
    """
    (m1, m2), (s1, s2), rho = truth
    cov = [[s1 * s1, rho * s1 * s2], [rho * s1 * s2, s2 * s2]]
    z = rng.multivariate_normal((m1, m2), cov, n)
    x = z + rng.normal(0.0, RESOLUTION, (n, 2))
    pass_reco = rng.random(n) < efficiency(x)
    n_fake = rng.binomial(n, FAKE_RATE)
    return (
        np.concatenate([z, np.zeros((n_fake, 2))]),
        np.concatenate([x, rng.uniform(-BOX, BOX, (n_fake, 2))]),
        np.concatenate([pass_reco, np.ones(n_fake, bool)]),
        np.concatenate([np.ones(n, bool), np.zeros(n_fake, bool)]),
    )


def quadratic_features(v: np.ndarray) -> np.ndarray:
    """``(n, 5)`` float32 features ``FEATURE_NAMES`` of 2-D events ``v``: those a quadratic
    log-ratio (of two Gaussians) is linear in."""
    features = np.column_stack([v, v[:, 0] ** 2, v[:, 1] ** 2, v[:, 0] * v[:, 1]])
    return features.astype(np.float32)


def summary(z: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Means, widths, correlation and total weight of 2-D events (``QUANTITIES``)."""
    weights = np.ones(len(z)) if weights is None else weights
    mean = np.average(z, axis=0, weights=weights)
    cov = np.cov(z.T, aweights=weights, ddof=0)
    width = np.sqrt(np.diag(cov))
    return np.array([*mean, *width, cov[0, 1] / (width[0] * width[1]), weights.sum()])


def ideal_unfolding(x: np.ndarray, n_generated: int) -> np.ndarray:
    """:func:`summary` of the truth from detector-level events, knowing the detector exactly.

    Weights the events by 1/efficiency(x), subtracts the fakes' expected contribution
    (``FAKE_RATE * n_generated`` events, integrated on a grid over the box) and
    deconvolves the moments (means of x; covariance of x minus ``RESOLUTION``²).
    """
    a = 1.0 / efficiency(x)
    # the fakes' expected contribution, integrated on a grid of midpoints over the box
    edges = np.linspace(-BOX, BOX, 201)
    mid = 0.5 * (edges[1:] + edges[:-1])
    grid = np.stack(np.meshgrid(mid, mid), -1).reshape(-1, 2)
    a_fake, n_fake = 1.0 / efficiency(grid), FAKE_RATE * n_generated
    s0 = a.sum() - n_fake * a_fake.mean()
    s1 = a @ x - n_fake * (a_fake @ grid) / len(grid)
    s2 = (a[:, None] * x).T @ x - n_fake * ((a_fake[:, None] * grid).T @ grid) / len(grid)
    mean = s1 / s0
    cov = s2 / s0 - np.outer(mean, mean) - RESOLUTION**2 * np.eye(2)
    width = np.sqrt(np.diag(cov))
    return np.array([*mean, *width, cov[0, 1] / (width[0] * width[1]), s0])


def statistical_errors(
    sim: FakesToy,
    data: FakesToy,
    rng: np.random.Generator,
    *,
    truth: Truth = DATA_TRUTH,
    replicas: int = 100,
) -> np.ndarray:
    """Statistical errors σ of ``QUANTITIES`` for unfolding ``data`` with ``sim``.

    The spread of :func:`ideal_unfolding` over ``replicas`` data replicas of ``truth``
    (drawn from ``rng``, each of the size generated for ``data``), relative to each
    replica's own truth, so it carries the data's fluctuations of signal, inefficiency
    and fakes. The simulation adds a second sample of the same kind: a classifier learns
    p_data/p_sim from both, so to first order the variance grows by the factor
    (1 + N_data/N_sim) of a two-sample ratio (counts at detector level).
    """
    n_data = int(data[3].sum())
    spread = np.std(
        [
            ideal_unfolding(x[reco], n_data) - summary(z[gen])
            for z, x, reco, gen in (make_fakes_toy(rng, n_data, truth) for _ in range(replicas))
        ],
        axis=0,
    )
    return spread * np.sqrt(1 + data[2].sum() / sim[2].sum())


def closure_toy(
    seed: int | tuple[int, ...] = 15, n_sim: int = N_SIM, n_data: int = N_DATA
) -> tuple[FakesToy, FakesToy, np.ndarray]:
    """The closure's simulation (``SIM_TRUTH``) and data (``DATA_TRUTH``), drawn in that
    order from ``np.random.default_rng(seed)``, and their :func:`statistical_errors` (data
    replicas from ``np.random.default_rng(16)``): ``(sim, data, sigma)``."""
    rng = np.random.default_rng(seed)
    sim = make_fakes_toy(rng, n_sim, SIM_TRUTH)
    data = make_fakes_toy(rng, n_data, DATA_TRUTH)
    return sim, data, statistical_errors(sim, data, np.random.default_rng(16))
