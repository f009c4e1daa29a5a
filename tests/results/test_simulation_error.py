"""The simulation's error without the training noise (issue 15; docs/fits.md, stat_sim).

Synthetic numbers, no training: fit values θ = c + s + t with a known simulation
fluctuation s (σ_sim) and training noise t (σ_train), where simulation replica b retrains
repeat m(b) = b mod M with its seed, so its training noise has the correlation ρ with the
repeat's (0: the Poisson weights decorrelate the optimization path; 1: they do not).
"""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.results.fit_errors import combine_errors, error_table, simulation_covariance_of
from hepnnlr.workflows.fit_calibration import recorded_simulation

SIM, TRAIN, M, S, TRIALS = 1.0, 1.0, 4, 8, 1500


def _job(rng, rho):
    """One fit job: M repeats' values, S simulation replicas' shifts and paired values."""
    t = rng.normal(0.0, TRAIN, M)
    m = np.arange(S) % M
    replica_t = rho * t[m] + np.sqrt(1.0 - rho**2) * rng.normal(0.0, TRAIN, S)
    theta = rng.normal(0.0, SIM, S) + replica_t
    return t, theta - t[m], t[m]


@pytest.mark.parametrize("rho", [0.0, 0.5, 1.0])
def test_the_estimator_recovers_the_simulation_error_where_the_shifts_do_not(rho):
    rng = np.random.default_rng(15 + int(10 * rho))
    new, old = [], []
    for _ in range(TRIALS):
        _, d, r = _job(rng, rho)
        new.append(simulation_covariance_of(d, r)[0, 0])
        old.append(d.var(ddof=1))
    new, old = np.array(new), np.array(old)
    # Expectations over jobs (docs/fits.md): with v = E Var_b(t_m(b)) = S/(S-1) (M-1)/M
    # σ_train² (M repeats, each paired with S/M replicas), the estimator has
    # σ_sim² + (1-ρ²)(σ_train² - v): a remainder below σ_train²/M; the plain spread of
    # the shifts has σ_sim² + (1-ρ)² v + (1-ρ²) σ_train².
    v = S / (S - 1) * (M - 1) / M * TRAIN**2
    expected_new = SIM**2 + (1 - rho**2) * (TRAIN**2 - v)
    expected_old = SIM**2 + (1 - rho) ** 2 * v + (1 - rho**2) * TRAIN**2
    # 4 standard errors of a mean over 1,500 jobs (about 0.05 here): a wrong formula (a
    # σ_train² too much or too little) is 20 of them away
    assert new.mean() == pytest.approx(expected_new, abs=4 * new.std() / np.sqrt(TRIALS))
    assert old.mean() == pytest.approx(expected_old, abs=4 * old.std() / np.sqrt(TRIALS))
    assert abs(expected_new - SIM**2) <= TRAIN**2 / M
    if rho == 0.0:  # independent training noise, counted again: σ_train² or more
        assert old.mean() > SIM**2 + TRAIN**2
    if rho < 1.0:
        assert abs(new.mean() - SIM**2) < 0.3 * (old.mean() - SIM**2)


def test_combine_errors_uses_it_floors_and_flags_a_negative_variance():
    rng = np.random.default_rng(3)
    t, d, r = _job(rng, 0.0)
    ((_, e),) = combine_errors(
        {"mu": t},
        np.ones(M, bool),
        simulation_shifts={"mu": d},
        simulation_paired={"mu": r},
    ).items()
    variance = np.var(d + r, ddof=1) - np.var(r, ddof=1)  # Var(θ_b) − Var(θ_m(b))
    assert e.stat_simulation == pytest.approx(np.sqrt(max(variance, 0.0)))
    assert e.stat_simulation_floored == (variance < 0)
    assert e.simulation_shift_spread == pytest.approx(d.std(ddof=1))
    assert e.total == pytest.approx(np.hypot(e.stat_simulation, e.method))
    # replicas that scatter less than their repeats: nothing left for the simulation
    r = np.array([0.0, 1.0, 2.0, 3.0])
    ((_, e),) = combine_errors(
        {"mu": r},
        np.ones(4, bool),
        simulation_shifts={"mu": 1.5 - r + [0.01, -0.01, 0.02, -0.02]},
        simulation_paired={"mu": r},
    ).items()
    assert e.stat_simulation == 0.0 and e.stat_simulation_floored
    assert e.to_dict()["stat_simulation_floored"] is True
    assert any("floored at 0" in row for row in error_table({"mu": e}))
    with pytest.raises(ValueError, match="simulation_paired"):
        combine_errors({"mu": r}, np.ones(4, bool), simulation_shifts={"mu": r})


def test_a_calibration_record_gives_a_positive_semidefinite_covariance():
    # 3 targets, 6 replicas of one simulation: each replica moves every target alike
    rng = np.random.default_rng(7)
    repeats = rng.normal(0.0, 1.0, (3, 3))  # (target, repeat)
    m = np.arange(6) % 3
    theta = rng.normal(0.0, 1.0, 6) + rng.normal(0.0, 1.0, (3, 6))
    points = [
        {
            "repeat_fits": [{"theta": {"x": float(v)}} for v in repeats[k]],
            "simulation_shifts": (theta[k] - repeats[k][m]).tolist(),
        }
        for k in range(3)
    ]
    points[0]["simulation_shifts"][5] = None  # flagged at one target: out of the covariance
    covariance, per_point = recorded_simulation(points, "x", repeats=3)
    assert np.linalg.eigvalsh(covariance).min() >= -1e-12
    # before the projection: Cov(θ_b) − Cov(θ_m(b)) over the 5 replicas used everywhere
    raw = np.cov(theta[:, :5]) - np.cov(repeats[:, m[:5]])
    assert np.allclose(covariance, raw) or np.linalg.eigvalsh(raw).min() < 0
    sim, spread, floored = per_point[1]
    assert spread == pytest.approx(np.std(theta[1] - repeats[1][m], ddof=1))
    expected = np.var(theta[1], ddof=1) - np.var(repeats[1][m], ddof=1)
    assert sim == pytest.approx(np.sqrt(max(expected, 0.0))) and floored == (expected < 0)
