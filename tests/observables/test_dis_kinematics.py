"""Electron-method kinematics, particle features and the fiducial selection.

Exact answers: hand-built electrons and particles, compared with the formulas of Sec. 3
evaluated independently with ``math`` (θ taken from the polar angle, not from η).
"""

from __future__ import annotations

import math

import awkward as ak
import numpy as np
import pytest

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.observables.dis import (
    HERA,
    BeamConfig,
    FiducialCuts,
    electron_kinematics,
    particle_features,
    select_fiducial,
    wrap_phi,
)


def _electron(energy: float, theta: float, phi: float) -> dict[str, float]:
    eta = -math.log(math.tan(theta / 2.0))
    return {"pt": energy * math.sin(theta), "eta": eta, "phi": phi, "E": energy}


def _hand_kinematics(energy: float, theta: float, e_beam: float, p_beam: float):
    q2 = 2.0 * e_beam * energy * (1.0 + math.cos(theta))
    y = 1.0 - energy / (2.0 * e_beam) * (1.0 - math.cos(theta))
    return q2, y, q2 / (4.0 * e_beam * p_beam * y)


@pytest.mark.parametrize(
    ("energy", "theta_deg"), [(20.0, 150.0), (27.0, 170.0), (25.0, 120.0), (60.0, 40.0)]
)
def test_electron_method_matches_hand_calculation(energy: float, theta_deg: float) -> None:
    theta = math.radians(theta_deg)
    electrons = ak.Array([_electron(energy, theta, 0.3)])
    out = electron_kinematics(electrons)[0]
    q2, y, x = _hand_kinematics(energy, theta, 27.6, 920.0)
    # tolerance: double-precision round trip θ -> η -> tanh(η)
    assert out["Q2"] == pytest.approx(q2, rel=1e-12)
    assert out["y"] == pytest.approx(y, rel=1e-12)
    assert out["x"] == pytest.approx(x, rel=1e-12)
    assert out["eta_e"] == pytest.approx(-math.log(math.tan(theta / 2.0)), rel=1e-15)
    assert out["phi_e"] == 0.3


def test_electron_method_other_beams() -> None:
    beams = BeamConfig(electron_energy=18.0, proton_energy=275.0)
    theta = math.radians(140.0)
    out = electron_kinematics(ak.Array([_electron(15.0, theta, 0.0)]), beams)[0]
    q2, y, x = _hand_kinematics(15.0, theta, 18.0, 275.0)
    assert (out["Q2"], out["y"], out["x"]) == pytest.approx((q2, y, x), rel=1e-12)
    assert beams.s == 4 * 18.0 * 275.0
    assert HERA.s == pytest.approx(4 * 27.6 * 920.0)


def test_backward_electron_at_beam_energy_has_zero_q2() -> None:
    # an electron that keeps the beam energy and direction (θ = π): Q² = 0, y = 0
    out = electron_kinematics(ak.Array([{"pt": 0.0, "eta": -30.0, "phi": 0.0, "E": 27.6}]))
    assert out.Q2[0] == pytest.approx(0.0, abs=1e-9)
    assert out.y[0] == pytest.approx(0.0, abs=1e-12)
    assert out.x[0] is None  # x = Q²/(s y) is undefined at y = 0


def test_missing_electron_gives_none() -> None:
    electrons = ak.firsts(
        ak.Array([[_electron(20.0, 2.6, 0.0)], [], [_electron(30.0, 2.9, 1.0)]]), axis=1
    )
    out = electron_kinematics(electrons)
    assert out.tolist()[1] is None
    assert ak.is_none(out).tolist() == [False, True, False]
    assert ak.is_none(out.Q2).tolist() == [False, True, False]


def test_particle_features_hand_values() -> None:
    theta = math.radians(160.0)
    electron = _electron(25.0, theta, 3.0)
    kinematics = electron_kinematics(ak.Array([electron, None]))
    particles = ak.Array(
        [
            [{"pt": 2.0, "eta": 0.5, "phi": -3.0}, {"pt": 0.5, "eta": 2.0, "phi": 3.1}],
            [{"pt": 1.0, "eta": 0.0, "phi": 0.0}],
        ]
    )
    out = particle_features(particles, kinematics)
    q = math.sqrt(_hand_kinematics(25.0, theta, 27.6, 920.0)[0])
    first = out[0, 0]
    assert first["log_pt"] == pytest.approx(math.log10(2.0))
    assert first["deta"] == pytest.approx(0.5 - electron["eta"])
    # −3 − 3 = −6 rad wraps to −6 + 2π
    assert first["dphi"] == pytest.approx(-6.0 + 2 * math.pi)
    assert first["log_pt_over_Q"] == pytest.approx(math.log10(2.0 / q))
    assert out[0, 1]["dphi"] == pytest.approx(0.1)
    # no electron: no frame for the features, the event's list is empty
    assert out[1].tolist() == []


@pytest.mark.parametrize(
    ("angle", "expected"),
    [
        (math.pi, math.pi),
        (-math.pi, math.pi),
        (3 * math.pi, math.pi),
        (-3 * math.pi, math.pi),
        (0.0, 0.0),
        (2 * math.pi, 0.0),
        (7.0, 7.0 - 2 * math.pi),
        (-7.0, -7.0 + 2 * math.pi),
        (math.pi - 1e-9, math.pi - 1e-9),
        (-math.pi + 1e-9, -math.pi + 1e-9),
    ],
)
def test_wrap_phi_known_values(angle: float, expected: float) -> None:
    assert wrap_phi(np.array([angle]))[0] == pytest.approx(expected, abs=1e-12)


def test_wrap_phi_interval_and_period() -> None:
    rng = np.random.default_rng(7)
    angles = rng.uniform(-20.0, 20.0, 10_000)
    wrapped = wrap_phi(angles)
    assert np.all(wrapped > -np.pi) and np.all(wrapped <= np.pi)
    turns = (angles - wrapped) / (2 * np.pi)
    np.testing.assert_allclose(turns, np.round(turns), atol=1e-9)
    # tiny values just below −π must not land on −π after rounding
    assert wrap_phi(np.array([-np.pi - 1e-17]))[0] == pytest.approx(np.pi)
    jagged = wrap_phi(ak.Array([[4.0], []]))
    assert jagged.tolist() == [[pytest.approx(4.0 - 2 * np.pi)], []]


def test_fiducial_cuts_are_strict() -> None:
    particles = ak.Array(
        [
            [
                {"pt": 0.1, "eta": 0.0},  # pT == threshold: out
                {"pt": 0.11, "eta": -1.5},  # η == lower edge: out
                {"pt": 0.11, "eta": 2.75},  # η == upper edge: out
                {"pt": 0.11, "eta": -1.49},
                {"pt": 5.0, "eta": 2.74},
            ],
            [],
        ]
    )
    kept = select_fiducial(particles)
    assert kept.eta.tolist() == [[-1.49, 2.74], []]
    narrow = select_fiducial(particles, FiducialCuts(pt_min=1.0, eta_min=-1.0, eta_max=3.0))
    assert narrow.pt.tolist() == [[5.0], []]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"eta_min": 2.0, "eta_max": 1.0}, "eta_min < eta_max"),
        ({"pt_min": -1.0}, "pt_min"),
        ({"eta_max": float("nan")}, "finite"),
    ],
)
def test_fiducial_cuts_validation(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        FiducialCuts(**kwargs)


def test_beam_config_validation() -> None:
    with pytest.raises(ConfigError, match="electron_energy"):
        BeamConfig(electron_energy=-27.6)
    with pytest.raises(ConfigError, match="proton_energy"):
        BeamConfig(proton_energy=float("inf"))


def test_missing_fields_name_the_field() -> None:
    with pytest.raises(MissingBranchError, match=r"\['E'\]"):
        electron_kinematics(ak.Array([{"pt": 1.0, "eta": 0.0, "phi": 0.0}]))
    with pytest.raises(MissingBranchError, match="eta"):
        select_fiducial(ak.Array([[{"pt": 1.0}]]))
