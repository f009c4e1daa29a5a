"""Tests of hepnnlr.observables.top: neutrino solver, selection, triplet masses."""

from __future__ import annotations

import math

import awkward as ak
import numpy as np
import pytest

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.observables.top import (
    SELECTION_REASONS,
    TOP_MASS_FIELDS,
    W_MASS,
    TopSelectionConfig,
    reconstruct_top,
    select_top_objects,
    solve_neutrino_pz,
)
from hepnnlr.observables.top_histos import book_top_histograms, fill_top_histograms
from hepnnlr.samples.ttbar import TTbarConfig, generate_ttbar
from hepnnlr.samples.ttbar_reco import cluster_gen_jets

MUON_MASS = 0.1056583755


def _boost(p4: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Boost (E, px, py, pz) rows by velocity vectors ``beta`` (rows)."""
    b2 = np.sum(beta**2, axis=1)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.sum(beta * p4[:, 1:], axis=1)
    energy = gamma * (p4[:, 0] + bp)
    coef = np.where(b2 > 0, (gamma - 1.0) * bp / b2, 0.0) + gamma * p4[:, 0]
    return np.column_stack([energy, p4[:, 1:] + coef[:, None] * beta])


def _w_decays(n: int, seed: int, lepton_mass: float) -> tuple[np.ndarray, np.ndarray]:
    """On-shell W (m = W_MASS) with random momenta, decayed isotropically to ℓ ν."""
    rng = np.random.default_rng(seed)
    p_star = (W_MASS**2 - lepton_mass**2) / (2 * W_MASS)
    cos_t = rng.uniform(-1, 1, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    sin_t = np.sqrt(1 - cos_t**2)
    direction = np.column_stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t])
    nu = np.column_stack([np.full(n, p_star), p_star * direction])
    lep = np.column_stack([np.full(n, np.hypot(p_star, lepton_mass)), -p_star * direction])
    w_p = rng.normal(0, 150, size=(n, 3))
    beta = w_p / np.sqrt(np.sum(w_p**2, axis=1) + W_MASS**2)[:, None]
    return _boost(lep, beta), _boost(nu, beta)


def _records(p4: np.ndarray) -> ak.Array:
    pt = np.hypot(p4[:, 1], p4[:, 2])
    return ak.zip(
        {
            "pt": pt,
            "eta": np.arcsinh(p4[:, 3] / pt),
            "phi": np.arctan2(p4[:, 2], p4[:, 1]),
            "E": p4[:, 0],
        }
    )


@pytest.mark.parametrize("lepton_mass", [0.0, MUON_MASS])
def test_neutrino_solver_recovers_true_pz(lepton_mass: float) -> None:
    lep, nu = _w_decays(2000, seed=4, lepton_mass=lepton_mass)
    sol = solve_neutrino_pz(_records(lep), ak.Array(nu[:, 1]), ak.Array(nu[:, 2]))
    assert ak.all(sol.real)
    pz, other = ak.to_numpy(sol.pz), ak.to_numpy(sol.pz_other)
    # the W is exactly on shell: one root is the true pz up to float64 rounding
    err = np.minimum(np.abs(pz - nu[:, 3]), np.abs(other - nu[:, 3]))
    np.testing.assert_allclose(err, 0.0, atol=1e-7 * (1 + np.abs(nu[:, 3])).max())
    assert np.all(np.abs(pz) <= np.abs(other))  # footnote 5: the smaller |pz| first
    # both roots satisfy the constraint
    for root in (pz, other):
        e_nu = np.sqrt(nu[:, 1] ** 2 + nu[:, 2] ** 2 + root**2)
        total = lep + np.column_stack([e_nu, nu[:, 1], nu[:, 2], root])
        m = np.sqrt(total[:, 0] ** 2 - np.sum(total[:, 1:] ** 2, axis=1))
        np.testing.assert_allclose(m, W_MASS, rtol=1e-9)


def test_negative_discriminant_gives_real_part() -> None:
    # lepton and MET back to back: m_T = 2 sqrt(40 * 100) = 126 GeV > m_W, no real root
    mu = ak.Array([{"pt": 40.0, "eta": 0.5, "phi": 0.0, "mass": 0.0}])
    sol = solve_neutrino_pz(mu, ak.Array([-100.0]), ak.Array([0.0]))
    assert not sol.real[0]
    # real part of the roots: a p_z / A with a = m_W²/2 + p_T^ℓ · p_T^ν, A = p_T^ℓ²
    a = W_MASS**2 / 2 - 40.0 * 100.0
    expected = a * 40.0 * np.sinh(0.5) / 40.0**2
    assert sol.pz[0] == pytest.approx(expected, rel=1e-12)
    assert sol.pz_other[0] == pytest.approx(expected, rel=1e-12)


def _jet(pt, eta, phi, mass=0.0, btag=False):
    return {"pt": pt, "eta": eta, "phi": phi, "mass": mass, "btag": btag}


def _p4(pt, eta, phi, mass):
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return np.array([np.sqrt(px**2 + py**2 + pz**2 + mass**2), px, py, pz])


def _m(*vs):
    t = np.sum(vs, axis=0)
    return np.sqrt(t[0] ** 2 - t[1] ** 2 - t[2] ** 2 - t[3] ** 2)


MUON = {"pt": 45.0, "eta": 0.3, "phi": 0.2, "E": 45.0 * np.cosh(0.3)}
JETS = [
    _jet(120.0, 0.35, 0.25, 5.0, True),  # b-tagged but ΔR < 0.4 to the muon: removed
    _jet(90.0, 2.7, 2.0, 8.0, True),  # tagged flag beyond |η| 2.5: a light jet (j1)
    _jet(80.0, -0.5, -2.5, 10.0, True),  # b, leading b, far from the muon: b2
    _jet(60.0, 0.9, 1.0, 7.0, True),  # b closest to the muon: b1
    _jet(50.0, -1.2, 2.9, 6.0, False),  # light: j2
    _jet(40.0, 0.0, -1.0, 4.0, False),  # third light jet: unused
    _jet(15.0, 0.1, 1.5, 2.0, True),  # below 20 GeV: dropped
]


def test_triplet_masses_hand_computed() -> None:
    met_px, met_py = 30.0, -20.0
    out = reconstruct_top(
        ak.Array([JETS]), ak.Array([[MUON]]), ak.Array([met_px]), ak.Array([met_py])
    )
    assert out.reason[0] == 0 and out.nu_real[0]
    mu = np.array([MUON["E"], *_p4(45.0, 0.3, 0.2, 0.0)[1:]])
    # neutrino by hand (massless muon approximation is exact here since E = p)
    a = W_MASS**2 / 2 + mu[1] * met_px + mu[2] * met_py
    big_a = mu[0] ** 2 - mu[3] ** 2
    disc = a**2 - big_a * (met_px**2 + met_py**2)
    roots = (a * mu[3] + np.array([1, -1]) * mu[0] * np.sqrt(disc)) / big_a
    pz = roots[np.argmin(np.abs(roots))]
    nu = np.array([np.sqrt(met_px**2 + met_py**2 + pz**2), met_px, met_py, pz])
    b1, b2 = _p4(60.0, 0.9, 1.0, 7.0), _p4(80.0, -0.5, -2.5, 10.0)
    j1, j2 = _p4(90.0, 2.7, 2.0, 8.0), _p4(50.0, -1.2, 2.9, 6.0)
    assert out.nu_pz[0] == pytest.approx(pz, rel=1e-12)
    assert out.m_b1munu[0] == pytest.approx(_m(b1, mu, nu), rel=1e-12)
    assert out.m_b2munu[0] == pytest.approx(_m(b2, mu, nu), rel=1e-12)
    assert out.m_b1jj[0] == pytest.approx(_m(b1, j1, j2), rel=1e-12)
    assert out.m_b2jj[0] == pytest.approx(_m(b2, j1, j2), rel=1e-12)
    # the same with the true neutrino (generator level)
    truth = ak.Array(
        [
            {
                "pt": np.hypot(met_px, met_py),
                "eta": np.arcsinh(pz / np.hypot(met_px, met_py)),
                "phi": np.arctan2(met_py, met_px),
                "E": nu[0],
            }
        ]
    )
    gen = reconstruct_top(ak.Array([JETS]), ak.Array([[MUON]]), neutrino=truth)
    assert gen.m_b1munu[0] == pytest.approx(_m(b1, mu, nu), rel=1e-9)


def test_jet_order_does_not_matter() -> None:
    shuffled = [JETS[i] for i in (4, 6, 0, 3, 5, 2, 1)]
    args = (ak.Array([JETS, shuffled]), ak.Array([[MUON], [MUON]]))
    out = reconstruct_top(*args, ak.Array([30.0, 30.0]), ak.Array([-20.0, -20.0]))
    for name in TOP_MASS_FIELDS:
        assert out[name][0] == out[name][1]


def test_edge_cases_masked_and_counted() -> None:
    far = MUON | {"phi": -3.0}
    jets = ak.Array(
        [
            JETS,  # passes
            JETS,  # no muon
            [_jet(80.0, -0.5, -2.5, 10.0, True), *[_jet(50.0, x, 1.0) for x in (-1, 1, 2)]],
            [
                _jet(80.0, -0.5, -2.5, 10.0, True),
                _jet(60.0, 0.9, 1.0, 7.0, True),
                _jet(50.0, -1.2, 2.9, 6.0),
            ],  # one light jet
            JETS,  # no real neutrino solution
        ]
    )
    muons = ak.Array([[MUON], [], [MUON], [MUON], [far]])
    # event 4: MET back to back with a 45 GeV muon, m_T > m_W
    met_px = ak.Array([30.0, 30.0, 30.0, 30.0, 150.0 * np.cos(0.14)])
    met_py = ak.Array([-20.0, -20.0, -20.0, -20.0, 150.0 * np.sin(0.14)])
    out = reconstruct_top(jets, muons, met_px, met_py)
    assert out.reason.tolist() == [0, 1, 2, 3, 0]
    assert [SELECTION_REASONS[r] for r in out.reason.tolist()[1:4]] == [
        "no_muon",
        "fewer_than_2_b",
        "fewer_than_2_light",
    ]
    for name in TOP_MASS_FIELDS:
        assert ak.is_none(out[name]).tolist() == [False, True, True, True, False]
    assert out.nu_real.tolist() == [True, None, None, None, False]
    # paper, footnote 5: no solution -> the masses with the neutrino are zero
    assert out.m_b1munu[4] == 0.0 and out.m_b2munu[4] == 0.0
    assert out.m_b1jj[4] > 0.0 and out.m_b2jj[4] > 0.0
    real_part = reconstruct_top(
        jets, muons, met_px, met_py, config=TopSelectionConfig(no_solution="real_part")
    )
    assert real_part.m_b1munu[4] > 0.0
    hists = fill_top_histograms(book_top_histograms("reco"), out, np.ones(5))
    assert hists["m_b1munu"].sum().value == 2.0
    assert hists["m_b1munu"][0].value == 1.0  # the zero mass lands in the first bin


def test_selection_objects_and_errors() -> None:
    objects = select_top_objects(ak.Array([JETS]), ak.Array([[MUON]]))
    assert objects.n_b[0] == 2 and objects.n_light[0] == 3
    assert objects.b1.pt[0] == 60.0 and objects.b2.pt[0] == 80.0
    assert objects.j1.pt[0] == 90.0 and objects.j2.pt[0] == 50.0
    with pytest.raises(MissingBranchError, match="btag"):
        select_top_objects(ak.Array([[{"pt": 1.0, "eta": 0.0, "phi": 0.0}]]), ak.Array([[MUON]]))
    with pytest.raises(ConfigError, match="no_solution"):
        TopSelectionConfig(no_solution="imaginary")
    with pytest.raises(ConfigError, match="either"):
        reconstruct_top(ak.Array([JETS]), ak.Array([[MUON]]))


# ---- Pythia closure: gen-level masses follow the generated top mass -------------------

N_PYTHIA = 1000  # ~50% pass the gen-level selection: ~500 events per mass


def _shortest_interval_centre(values: np.ndarray, fraction: float = 0.3) -> float:
    """Centre of the shortest interval holding ``fraction`` of the values (a mode)."""
    v = np.sort(values)
    k = int(fraction * v.size)
    i = int(np.argmin(v[k:] - v[: v.size - k]))
    return 0.5 * (v[i] + v[i + k])


@pytest.fixture(scope="module")
def gen_masses() -> dict[float, ak.Array]:
    out = {}
    for mass in (170.0, 180.0):
        events = generate_ttbar(N_PYTHIA, seed=11, config=TTbarConfig(top_mass=mass))
        jets = cluster_gen_jets(events)
        out[mass] = reconstruct_top(jets, events.GenMuon, neutrino=events.GenNeutrino)
    return out


def test_gen_masses_peak_at_top_mass(gen_masses) -> None:
    for mass, out in gen_masses.items():
        leptonic = ak.to_numpy(ak.drop_none(out.m_b1munu))
        assert leptonic.size > 250
        # The mode of m(b1 mu nu) sits a few GeV below m_t (FSR outside R = 0.4,
        # neutrinos of semileptonic b decays): -3.3 GeV in 2000-event samples, bootstrap
        # spread 1.1 GeV at 250 events; 8 GeV is more than 4 sigma from the offset.
        assert abs(_shortest_interval_centre(leptonic) - mass) < 8.0, mass
        # Hadronic side: j1 j2 are the two leading light jets (no W-mass constraint,
        # paper footnote 4), often ISR jets, so m(b j1 j2) is broad. The better of the
        # two b's, min(m_b1jj, m_b2jj), peaks at m_t - 15 GeV with a spread of 5 GeV
        # between independent 700-event samples (8 seeds, both masses): accept
        # [m_t - 30, m_t + 5], 3 sigma around the offset.
        hadronic = ak.to_numpy(ak.drop_none(np.minimum(out.m_b1jj, out.m_b2jj)))
        assert mass - 30.0 < _shortest_interval_centre(hadronic) < mass + 5.0, mass


def test_top_mass_shifts_median(gen_masses) -> None:
    lo = ak.to_numpy(ak.drop_none(gen_masses[170.0].m_b1munu))
    hi = ak.to_numpy(ak.drop_none(gen_masses[180.0].m_b1munu))
    shift = np.median(hi) - np.median(lo)
    # bootstrap error of each median: ~1.2 GeV at ~500 events; the expected shift is
    # 7-10 GeV (7.5 GeV on average over three 700-event seeds, 10.3 GeV in 2000-event
    # samples), so 3 sigma is a safe significance requirement
    rng = np.random.default_rng(0)
    err = np.hypot(
        *(np.std([np.median(rng.choice(v, v.size)) for _ in range(200)]) for v in (lo, hi))
    )
    assert shift > 3 * err, (shift, err)
    assert 3.0 < shift < 15.0  # about the 10 GeV mass difference


def _bootstrap_error(values: np.ndarray, statistic, rng: np.random.Generator) -> float:
    """Standard deviation of ``statistic`` over 300 bootstrap resamples of ``values``."""
    return float(np.std([statistic(rng.choice(values, values.size)) for _ in range(300)]))


@pytest.mark.slow
def test_triplet_masses_rise_with_the_top_mass() -> None:
    """m_t = 165 vs 180 GeV (MPI off, 2,000 gen-level events each): the triplets rise.

    Hadronic side: the paper's j1, j2 are the two leading light jets (no W-mass
    constraint), often ISR jets, so m(b j1 j2) is very broad: over all selected events the
    bootstrap error of its median is ~10-13 GeV at 1,000 generated events, too large to
    see a 15 GeV shift. In events whose light pair is W-like, |m(j1 j2) − m_W| < 15 GeV
    (~18 % of the selected events), the hadronic triplet peaks near m_t. b1 is the b jet
    closest to the muon, i.e. mostly the leptonic top's b, so the hadronic top is
    m(b2 j1 j2) (or the smaller of the two triplets); m(b1 j1 j2) pairs the wrong b and
    barely moves (significance 3.1 at seed 11 but 1.3 at seed 41: not asserted).
    Measured median shifts: m(b2 j1 j2) 11.1 ± 3.1 GeV at 1,000 events per mass (seed
    11); min(m(b1 j1 j2), m(b2 j1 j2)) 14.6 ± 3.4 GeV (seed 11, 1,000 events) and 5.3σ at
    seed 41 with 2,000 events. Required here, at 2,000 events: > 2σ for m(b2 j1 j2)
    (expected ~5σ) and > 3σ for the minimum. Leptonic side: m(b1 μ ν) with the true
    neutrino, 12.8 ± 1.1 GeV at 1,000 events, 13.7σ at 2,000: required > 5σ. Every shift
    must stay below 25 GeV (the masses differ by 15). σ: bootstrap standard error of the
    difference of the medians.
    """
    def four(jet: ak.Array) -> tuple[ak.Array, ...]:
        px, py, pz = jet.pt * np.cos(jet.phi), jet.pt * np.sin(jet.phi), jet.pt * np.sinh(jet.eta)
        return px, py, pz, np.sqrt(px**2 + py**2 + pz**2 + jet.mass**2)

    rng = np.random.default_rng(0)
    masses = {}
    for top_mass in (165.0, 180.0):
        events = generate_ttbar(2000, seed=41, config=TTbarConfig(top_mass=top_mass))
        jets = cluster_gen_jets(events)
        out = reconstruct_top(jets, events.GenMuon, neutrino=events.GenNeutrino)
        objects = select_top_objects(jets, events.GenMuon)
        j1, j2 = four(objects.j1), four(objects.j2)
        px, py, pz, energy = (a + b for a, b in zip(j1, j2, strict=True))
        m_jj = np.sqrt(np.maximum(energy**2 - px**2 - py**2 - pz**2, 0.0))
        w_like = ak.fill_none(np.abs(m_jj - W_MASS) < 15.0, False)
        best = np.minimum(out.m_b1jj, out.m_b2jj)
        masses[top_mass] = {
            "m_b2jj_W": ak.to_numpy(ak.drop_none(out.m_b2jj[w_like])),
            "min_bjj_W": ak.to_numpy(ak.drop_none(best[w_like])),
            "m_b1munu": ak.to_numpy(ak.drop_none(out.m_b1munu)),
        }
    significance = {}
    for name in masses[165.0]:
        low, high = masses[165.0][name], masses[180.0][name]
        assert low.size > 200 and high.size > 200, (name, low.size, high.size)
        shift = float(np.median(high) - np.median(low))
        error = math.hypot(*(_bootstrap_error(v, np.median, rng) for v in (low, high)))
        significance[name] = shift / error
        assert shift < 25.0, (name, shift)  # about the 15 GeV mass difference
    assert significance["m_b2jj_W"] > 2.0, significance
    assert significance["min_bjj_W"] > 3.0, significance
    assert significance["m_b1munu"] > 5.0, significance
