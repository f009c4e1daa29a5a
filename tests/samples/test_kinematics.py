"""Electron method and lepton-vertex kinematics against exact answers."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.samples import (
    HERA_ELECTRON_ENERGY,
    HERA_PROTON_ENERGY,
    electron_method,
    lepton_vertex_kinematics,
)

E_E, E_P = HERA_ELECTRON_ENERGY, HERA_PROTON_ENERGY
S = 4 * E_E * E_P


def test_electron_at_ninety_degrees() -> None:
    # θ = 90°: Q² = 2 E_e E', y = 1 − E'/(2 E_e).
    kin = electron_method(20.0, 0.0)
    assert float(kin.Q2) == pytest.approx(2 * E_E * 20.0, rel=1e-14)
    assert float(kin.y) == pytest.approx(1 - 20.0 / (2 * E_E), rel=1e-14)
    assert float(kin.x) == pytest.approx(float(kin.Q2) / (S * float(kin.y)), rel=1e-14)


def test_matches_textbook_formula_in_theta() -> None:
    theta = np.linspace(0.2, 3.0, 15)
    energy = np.linspace(5.0, 60.0, 15)
    eta = -np.log(np.tan(theta / 2))
    kin = electron_method(energy, eta)
    np.testing.assert_allclose(kin.Q2, 2 * E_E * energy * (1 + np.cos(theta)), rtol=1e-12)
    np.testing.assert_allclose(
        kin.y, 1 - energy / (2 * E_E) * (1 - np.cos(theta)), rtol=1e-12, atol=1e-12
    )


def test_backward_electron_is_accurate() -> None:
    # 1 + cos θ → 2 e^{2η} for η → −∞: no cancellation in the stable form.
    kin = electron_method(27.6, -8.0)
    assert float(kin.Q2) == pytest.approx(2 * E_E * 27.6 * 2 * np.exp(-16.0), rel=1e-6)


def _massless(energy: np.ndarray, theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    return np.stack(
        [
            energy,
            energy * np.sin(theta) * np.cos(phi),
            energy * np.sin(theta) * np.sin(phi),
            energy * np.cos(theta),
        ],
        axis=-1,
    )


def test_vertex_and_electron_method_agree_for_massless_beams() -> None:
    rng = np.random.default_rng(0)
    n = 100
    theta = rng.uniform(0.3, 2.9, n)
    energy = rng.uniform(5.0, 50.0, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    k = np.broadcast_to(np.array([E_E, 0.0, 0.0, -E_E]), (n, 4))
    p = np.broadcast_to(np.array([E_P, 0.0, 0.0, E_P]), (n, 4))
    truth = lepton_vertex_kinematics(k, _massless(energy, theta, phi), p)
    em = electron_method(energy, -np.log(np.tan(theta / 2)))
    np.testing.assert_allclose(em.Q2, truth.Q2, rtol=1e-12)
    np.testing.assert_allclose(em.y, truth.y, rtol=1e-10)
    np.testing.assert_allclose(em.x, truth.x, rtol=1e-10)
