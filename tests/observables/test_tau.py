"""Tests of hepnnlr.observables.tau: closure against exact kinematics, masking, errors."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepnnlr.errors import ConfigError, MissingBranchError, ShapeMismatchError
from hepnnlr.observables.tau import (
    TAUTAU_REASONS,
    TauTauSelectionConfig,
    collinear_mass,
    delta_phi,
    pt_ratio,
    select_tautau,
    tautau_features,
    visible_mass,
)


def _records(pt, eta, phi, mass, charge):
    pt, eta, phi, mass = (np.asarray(a, dtype=np.float64) for a in (pt, eta, phi, mass))
    energy = np.sqrt((pt * np.cosh(eta)) ** 2 + mass**2)
    return ak.zip(
        {"pt": pt, "eta": eta, "phi": phi, "E": energy, "charge": np.asarray(charge, np.int8)}
    )


def _jagged(records, present):
    """One record per event where ``present``, none elsewhere."""
    present = np.asarray(present, dtype=bool)
    return ak.unflatten(records[present], present.astype(np.int64))


def _four(r):
    return np.stack(
        [
            ak.to_numpy(r.E),
            ak.to_numpy(r.pt * np.cos(r.phi)),
            ak.to_numpy(r.pt * np.sin(r.phi)),
            ak.to_numpy(r.pt * np.sinh(r.eta)),
        ],
        axis=1,
    )


def test_visible_mass_matches_four_vector_sum_and_scales_with_sqrt_z() -> None:
    rng = np.random.default_rng(3)
    n = 500
    tau = _records(
        rng.uniform(20, 80, n),
        rng.uniform(-2, 2, n),
        rng.uniform(-3, 3, n),
        rng.uniform(0.14, 1.7, n),
        -np.ones(n),
    )
    lep = _records(
        rng.uniform(15, 60, n),
        rng.uniform(-2, 2, n),
        rng.uniform(-3, 3, n),
        np.full(n, 0.1057),
        np.ones(n),
    )
    total = _four(tau) + _four(lep)
    expected = np.sqrt(total[:, 0] ** 2 - np.sum(total[:, 1:] ** 2, axis=1))
    np.testing.assert_allclose(ak.to_numpy(visible_mass(tau, lep)), expected, rtol=1e-12)
    # the tau energy scale z multiplies the tau four-vector: m^2 is linear in z up to mass
    # terms, m(z)^2 = z^2 m_t^2 + m_l^2 + z (m(1)^2 - m_t^2 - m_l^2) (exact)
    z = 1.1
    scaled = ak.zip({"pt": tau.pt * z, "eta": tau.eta, "phi": tau.phi, "E": tau.E * z})
    m_t2 = ak.to_numpy(tau.E**2 - (tau.pt * np.cosh(tau.eta)) ** 2)
    m_l2 = 0.1057**2
    predicted = np.sqrt(z**2 * m_t2 + m_l2 + z * (expected**2 - m_t2 - m_l2))
    np.testing.assert_allclose(ak.to_numpy(visible_mass(scaled, lep)), predicted, rtol=1e-9)
    # massless back-to-back objects at eta = 0: m = 2 sqrt(pT1 pT2)
    a = _records([30.0], [0.0], [0.5], [0.0], [1])
    b = _records([120.0], [0.0], [0.5 - np.pi], [0.0], [-1])
    assert visible_mass(a, b)[0] == pytest.approx(2 * np.sqrt(30.0 * 120.0), rel=1e-12)


def test_collinear_mass_closes_on_exactly_collinear_decays() -> None:
    # massless taus from a boson of mass M with transverse boost; each decays to a visible
    # fraction x_i along its direction, the rest is neutrinos: the collinear mass is M
    rng = np.random.default_rng(11)
    n = 400
    mass = rng.uniform(80.0, 140.0, n)
    pt1, pt2 = rng.uniform(20, 80, n), rng.uniform(20, 80, n)
    phi1 = rng.uniform(-np.pi, np.pi, n)
    phi2 = phi1 + rng.uniform(2.0, 2.8, n) * rng.choice([-1, 1], n)  # never back-to-back
    eta1 = rng.uniform(-2, 2, n)
    # choose eta2 so that m(tau1 tau2) = M: M^2 = 2 pt1 pt2 (cosh deta - cos dphi)
    cosh_deta = mass**2 / (2 * pt1 * pt2) + np.cos(phi1 - phi2)
    eta2 = eta1 + np.arccosh(np.maximum(cosh_deta, 1.0))
    ok = cosh_deta >= 1.0
    x1, x2 = rng.uniform(0.2, 0.9, n), rng.uniform(0.2, 0.9, n)
    vis1 = _records(x1 * pt1, eta1, phi1, np.zeros(n), -np.ones(n))
    vis2 = _records(x2 * pt2, eta2, phi2, np.zeros(n), np.ones(n))
    met_x = (1 - x1) * pt1 * np.cos(phi1) + (1 - x2) * pt2 * np.cos(phi2)
    met_y = (1 - x1) * pt1 * np.sin(phi1) + (1 - x2) * pt2 * np.sin(phi2)
    m_col = collinear_mass(vis1, vis2, np.hypot(met_x, met_y), np.arctan2(met_y, met_x))
    np.testing.assert_allclose(ak.to_numpy(m_col)[ok], mass[ok], rtol=1e-9)
    m_vis = ak.to_numpy(visible_mass(vis1, vis2))[ok]
    np.testing.assert_allclose(m_vis, mass[ok] * np.sqrt(x1 * x2)[ok], rtol=1e-9)
    # MET pointing away from both visible objects needs negative neutrino fractions
    away = collinear_mass(
        vis1[:1], vis2[:1], np.array([50.0]), np.array([np.arctan2(-met_y[0], -met_x[0])])
    )
    assert ak.is_none(away)[0]


def test_ratio_and_delta_phi() -> None:
    lep = _records([30.0, 10.0], [0.0, 1.0], [3.0, 0.0], [0.0, 0.0], [1, 1])
    tau = _records([60.0, 40.0], [0.0, 1.0], [-3.0, -0.5], [1.0, 1.0], [-1, -1])
    np.testing.assert_allclose(ak.to_numpy(pt_ratio(lep, tau)), [0.5, 0.25])
    # phi 3.0 and -3.0 are 2 pi - 6 apart, not 6
    np.testing.assert_allclose(ak.to_numpy(delta_phi(lep, tau)), [2 * np.pi - 6.0, 0.5])


def test_selection_masks_and_counts_every_failure() -> None:
    good_lep = dict(pt=30.0, eta=0.5, phi=0.0, mass=0.1, charge=1)
    good_tau = dict(pt=40.0, eta=-0.3, phi=2.5, mass=1.0, charge=-1)
    rows = [
        (good_lep, good_tau),  # pass
        (None, good_tau),  # no lepton at all
        ({**good_lep, "pt": 10.0}, good_tau),  # lepton below 15 GeV
        (good_lep, None),  # no tau
        (good_lep, {**good_tau, "eta": 2.4}),  # tau outside |eta| < 2.3
        (good_lep, {**good_tau, "charge": 1}),  # same charge
        (good_lep, {**good_tau, "phi": np.pi}),  # back-to-back: no collinear solution
    ]

    def collection(index):
        present = [r[index] is not None for r in rows]
        fill = [r[index] if r[index] is not None else good_lep for r in rows]
        recs = _records(
            *(np.array([f[k] for f in fill]) for k in ("pt", "eta", "phi", "mass", "charge"))
        )
        return _jagged(recs, present)

    leptons, taus = collection(0), collection(1)
    met_pt, met_phi = np.full(len(rows), 25.0), np.full(len(rows), 1.2)
    out = tautau_features(leptons, taus, met_pt, met_phi)
    assert out.reason.tolist() == [0, 1, 1, 2, 2, 3, 0]
    assert set(TAUTAU_REASONS) == {0, 1, 2, 3}
    for name in ("m_vis", "pt_ratio", "dphi", "lep_pt", "tau_pt"):
        assert ak.is_none(out[name]).tolist() == [False, True, True, True, True, True, False]
    assert out.collinear_ok.tolist() == [True] + [False] * 6
    assert ak.is_none(out.m_col).tolist() == [False] + [True] * 6
    assert out.m_vis[6] > 0  # kept although the collinear mass is not defined
    # without the charge requirement the same-charge event passes
    loose = tautau_features(
        leptons, taus, met_pt, met_phi, TauTauSelectionConfig(opposite_charge=False)
    )
    assert loose.reason.tolist()[5] == 0
    # the leading good object is chosen when several are present
    two = ak.Array(
        [
            [
                {"pt": 16.0, "eta": 0.0, "phi": 0.0, "E": 16.0, "charge": 1},
                {"pt": 50.0, "eta": 0.1, "phi": 1.0, "E": 50.3, "charge": 1},
            ]
        ]
    )
    lep, _, reason = select_tautau(two, taus[:1])
    assert lep.pt.tolist() == [50.0] and reason.tolist() == [0]


def test_bad_input_is_reported() -> None:
    with pytest.raises(ConfigError, match="tau_pt_min"):
        TauTauSelectionConfig(tau_pt_min=-1.0)
    with pytest.raises(ConfigError, match="opposite_charge"):
        TauTauSelectionConfig(opposite_charge="yes")
    recs = _jagged(_records([30.0], [0.0], [0.0], [0.0], [1]), [True])
    no_charge = ak.Array([[{"pt": 30.0, "eta": 0.0, "phi": 0.0, "E": 30.0}]])
    with pytest.raises(MissingBranchError, match="charge"):
        select_tautau(recs, no_charge)
    with pytest.raises(ShapeMismatchError, match="1 lepton rows but 2 tau rows"):
        select_tautau(recs, ak.concatenate([recs, recs]))
    with pytest.raises(ConfigError, match="TauTauSelectionConfig"):
        select_tautau(recs, recs, {"tau_pt_min": 20})
