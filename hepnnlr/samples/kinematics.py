"""DIS event kinematics on NumPy arrays: the lepton vertex and the electron method.

Conventions (H1): the proton beam travels along +z, the electron beam along −z, and the
polar angle θ is measured from the proton direction, so a backward-scattered electron has
θ near π and negative pseudorapidity.

The observables layer has its own awkward-array version of the electron method; the one
here works on flat NumPy arrays and is what the samples layer uses for its selections.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DISKinematics",
    "HERA_ELECTRON_ENERGY",
    "HERA_PROTON_ENERGY",
    "electron_method",
    "lepton_vertex_kinematics",
]

HERA_ELECTRON_ENERGY = 27.6
"""Electron beam energy at HERA II, GeV."""

HERA_PROTON_ENERGY = 920.0
"""Proton beam energy at HERA II, GeV."""


class DISKinematics(NamedTuple):
    """Event-level DIS variables, each a float64 array (or 0-d array)."""

    Q2: NDArray[np.float64]
    """Negative squared four-momentum transfer, GeV²."""
    x: NDArray[np.float64]
    """Bjorken x."""
    y: NDArray[np.float64]
    """Inelasticity."""


def _minkowski_dot(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Minkowski product of four-vectors stored as ``(..., 4)`` arrays ``(E, px, py, pz)``."""
    return (
        a[..., 0] * b[..., 0]
        - a[..., 1] * b[..., 1]
        - a[..., 2] * b[..., 2]
        - a[..., 3] * b[..., 3]
    )


def lepton_vertex_kinematics(
    beam_lepton: ArrayLike, scattered_lepton: ArrayLike, beam_proton: ArrayLike
) -> DISKinematics:
    """True DIS kinematics from the four-momenta at the lepton vertex.

    With q = k − k′ the four-momentum transfer, k the incoming and k′ the outgoing lepton
    and P the incoming proton:

        Q² = −q²,    y = (P·q) / (P·k),    x = Q² / (2 P·q).

    All masses are kept, so this is exact for the generator record.

    Args:
        beam_lepton: k, shape ``(..., 4)`` with components ``(E, px, py, pz)`` in GeV.
        scattered_lepton: k′, same shape.
        beam_proton: P, same shape (or broadcastable to it).

    Returns:
        ``DISKinematics(Q2, x, y)``, float64 arrays of shape ``(...)``.
    """
    k = np.asarray(beam_lepton, dtype=np.float64)
    k_prime = np.asarray(scattered_lepton, dtype=np.float64)
    p = np.asarray(beam_proton, dtype=np.float64)
    q = k - k_prime
    q2 = -_minkowski_dot(q, q)
    p_dot_q = _minkowski_dot(p, q)
    y = p_dot_q / _minkowski_dot(p, k)
    x = q2 / (2.0 * p_dot_q)
    return DISKinematics(q2, x, y)


def electron_method(
    energy: ArrayLike,
    eta: ArrayLike,
    *,
    beam_electron_energy: float = HERA_ELECTRON_ENERGY,
    beam_proton_energy: float = HERA_PROTON_ENERGY,
) -> DISKinematics:
    """DIS kinematics from the scattered electron alone (the electron method).

    With E_e the beam electron energy, E′ and θ the energy and polar angle of the scattered
    electron (θ from the proton direction, +z) and s = 4 E_e E_p:

        Q² = 2 E_e E′ (1 + cos θ),    y = 1 − E′/(2 E_e) (1 − cos θ),    x = Q² / (s y).

    The angle enters through the pseudorapidity, cos θ = tanh η, and 1 ± cos θ is evaluated
    as 2 / (1 + exp(∓2η)), which stays accurate for backward electrons where 1 + cos θ is
    small. Masses are neglected, so for an exact generator record the result differs from
    :func:`lepton_vertex_kinematics` by terms of order m_e²/E′² and m_p²/s.

    Args:
        energy: E′ in GeV (array or scalar).
        eta: pseudorapidity of the scattered electron.
        beam_electron_energy: E_e in GeV.
        beam_proton_energy: E_p in GeV.

    Returns:
        ``DISKinematics(Q2, x, y)``, float64 arrays broadcast from the inputs; x is
        infinite where y = 0.

    Example:
        >>> kin = electron_method(27.6, 0.0)   # 90 degrees, no energy loss
        >>> round(float(kin.Q2), 6), round(float(kin.y), 6)
        (1523.52, 0.5)
    """
    e_prime = np.asarray(energy, dtype=np.float64)
    eta_arr = np.asarray(eta, dtype=np.float64)
    one_plus_cos = 2.0 / (1.0 + np.exp(-2.0 * eta_arr))
    one_minus_cos = 2.0 / (1.0 + np.exp(2.0 * eta_arr))
    q2 = 2.0 * beam_electron_energy * e_prime * one_plus_cos
    y = 1.0 - e_prime / (2.0 * beam_electron_energy) * one_minus_cos
    s = 4.0 * beam_electron_energy * beam_proton_energy
    with np.errstate(divide="ignore", invalid="ignore"):
        x = q2 / (s * y)
    return DISKinematics(q2, x, y)
