"""The compiled passes of hepnnlr.observables._kernels against the NumPy they replace."""

from __future__ import annotations

import numpy as np

from hepnnlr.observables import _kernels
from hepnnlr.observables.subjets import rapidity_phi


def _momenta() -> tuple[np.ndarray, ...]:
    """Random massive constituents plus the edge cases of rapidity_phi: a massless
    particle along each beam (m_T = 0), a space-like one (E < |p|, m_T² raised to pT²),
    E = |pz| with pT > 0, and a NaN."""
    rng = np.random.default_rng(7)
    px, py, pz = rng.normal(0.0, 20.0, size=(3, 2000))
    energy = np.sqrt(px**2 + py**2 + pz**2 + rng.uniform(0.0, 5.0, 2000) ** 2)
    extra = np.array(
        [
            [0.0, 0.0, 7.0, 7.0],
            [0.0, 0.0, -3.0, 3.0],
            [1.0, 2.0, 30.0, 10.0],
            [1e-3, 0.0, 5.0, 5.0],
            [np.nan, 1.0, 2.0, 3.0],
        ]
    ).T
    return tuple(np.concatenate([a, e]) for a, e in zip((px, py, pz, energy), extra, strict=True))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit for bit: the same values, NaN where NaN, and the same signs of zero."""
    return np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))


def test_kinematics_is_numpys_rapidity_phi_and_hypot() -> None:
    four = _momenta()
    rapidity, phi = rapidity_phi(*four)
    expected = (rapidity, phi, np.hypot(four[0], four[1]))
    for got, want in zip(_kernels.kinematics(*four), expected, strict=True):
        assert _same(got, want)


def test_gathered_kinematics_is_the_gather_then_kinematics() -> None:
    four = _momenta()
    index = np.random.default_rng(8).integers(0, len(four[0]), 3000)
    gathered = tuple(a[index] for a in four)
    expected = (*gathered, *_kernels.kinematics(*gathered))
    for got, want in zip(_kernels.gathered_kinematics(index, *four), expected, strict=True):
        assert _same(got, want)


def test_constituent_positions_is_the_numpy_gather() -> None:
    rng = np.random.default_rng(9)
    n_const = rng.integers(1, 6, 40)
    offsets = np.concatenate([[0], np.cumsum(n_const)])
    local = rng.integers(0, 50, int(offsets[-1])).astype(np.int32)
    event_start = rng.integers(0, 1000, 40)
    order = rng.permutation(40)
    expected = np.concatenate(
        [local[offsets[j] : offsets[j + 1]].astype(np.int64) + event_start[j] for j in order]
    )
    got = _kernels.constituent_positions(local, offsets, order, event_start)
    assert got.dtype == np.int64 and np.array_equal(got, expected)


def test_polar_momenta_is_numpys_cos_sin_sinh_times_pt() -> None:
    # cartesian_of (the DIS and Z clustering input) through the compiled pass: the same
    # libm functions and products as the NumPy expressions, so equality is exact, also
    # for a zero, negative, infinite or NaN entry
    rng = np.random.default_rng(11)
    pt = np.concatenate([rng.exponential(5.0, 3000), [0.0, -0.0, 2.0, np.inf, np.nan, 1.0]])
    eta = np.concatenate([rng.uniform(-8.0, 8.0, 3000), [1.0, -2.0, 900.0, 0.5, 0.1, -0.0]])
    phi = np.concatenate([rng.uniform(-4.0, 4.0, 3000), [0.3, 1.0, -np.pi, 2.0, 0.0, np.nan]])
    with np.errstate(all="ignore"):
        expected = (np.cos(phi) * pt, np.sin(phi) * pt, np.sinh(eta) * pt)
    for got, want in zip(_kernels.polar_momenta(pt, eta, phi), expected, strict=True):
        assert _same(got, want)
