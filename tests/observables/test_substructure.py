"""Jet substructure of :mod:`hepnnlr.observables.substructure` and jet constituents.

* the compiled e_N and jet_shapes_flat against FastJet-contrib's ``EnergyCorrelator``
  and FastJet's exclusive-kT axes (``_fastjet_reference.py``);
* ECF(N, β) of real Pythia Z → qq jets (anti-kT R = 0.8) against a brute-force NumPy sum
  over all constituent pairs and triplets, and against exact two- and three-particle jets;
* multiplicity and strange-hadron counts against per-jet Python counts;
* the constituents of :func:`cluster_jets_with_constituents` against the jets themselves.
"""

from __future__ import annotations

import itertools
import math

import awkward as ak
import numpy as np
import pytest
from _fastjet_reference import fastjet_ecf, fastjet_tau, flat_constituents

from hepnnlr.errors import (
    ConfigError,
    MissingBranchError,
    NonFiniteInputError,
    ShapeMismatchError,
)
from hepnnlr.observables.jets import (
    JetConfig,
    cluster_jets,
    cluster_jets_with_constituents,
    nsubjettiness,
)
from hepnnlr.observables.substructure import (
    STRANGE_HADRON_IDS,
    constituent_features,
    count_strange,
    decreasing_pt_order,
    energy_correlation,
    energy_correlation_flat,
    jet_mass,
    jet_shapes_flat,
)
from hepnnlr.samples.zjets import generate_zjets

ANTIKT08 = JetConfig("antikt", 0.8, 5.0)
# two double-precision evaluations of the same sums, in different orders
TIGHT = 1e-9


@pytest.fixture(scope="module")
def particles() -> ak.Array:
    """Stable particles of 40 Pythia e+e− → Z → light-quark events (float32 as in files)."""
    return generate_zjets(40, seed=7).GenPart


@pytest.fixture(scope="module")
def jets(particles) -> ak.Array:
    return cluster_jets_with_constituents(particles, ANTIKT08)


def _particle(pt: float, eta: float, phi: float, mass: float = 0.0, pdg: int = 211) -> dict:
    return {
        "pt": pt,
        "eta": eta,
        "phi": phi,
        "E": math.hypot(pt * math.cosh(eta), mass),
        "pdgId": pdg,
        "charge": 1,
    }


def _brute_ecf(constituents: list[dict], npoint: int, beta: float) -> float:
    """ECF(N, β) (unnormalised) by explicit sums over pairs/triplets, NumPy only."""
    pt = np.array([c["pt"] for c in constituents], dtype=np.float64)
    eta = np.array([c["eta"] for c in constituents], dtype=np.float64)
    phi = np.array([c["phi"] for c in constituents], dtype=np.float64)
    energy = np.array([c["E"] for c in constituents], dtype=np.float64)
    pz = pt * np.sinh(eta)
    # FastJet's rapidity, with m² clipped at 0 (float32 particles can have m² < 0)
    m2 = np.maximum(energy**2 - pt**2 - pz**2, 0.0)
    rapidity = np.sign(pz) * -0.5 * np.log((pt**2 + m2) / (energy + np.abs(pz)) ** 2)
    dphi = np.arctan2(np.sin(phi[:, None] - phi[None, :]), np.cos(phi[:, None] - phi[None, :]))
    r = np.hypot(rapidity[:, None] - rapidity[None, :], dphi)
    if npoint == 1:
        return float(pt.sum())
    total = 0.0
    for idx in itertools.combinations(range(pt.size), npoint):
        angles = np.prod([r[a, b] for a, b in itertools.combinations(idx, 2)])
        total += float(np.prod(pt[list(idx)])) * angles**beta
    return total


@pytest.mark.parametrize("npoint", [1, 2, 3])
@pytest.mark.parametrize("beta", [1.0, 4.0])
def test_ecf_matches_brute_force_on_pythia_jets(jets, npoint, beta) -> None:
    subset = jets[:15]
    raw = energy_correlation(subset.constituents, npoint, beta, normalized=False)
    normalized = energy_correlation(subset.constituents, npoint, beta)
    n_checked = 0
    for event, values, norm_values in zip(
        subset.tolist(), raw.tolist(), normalized.tolist(), strict=True
    ):
        for jet, value, norm in zip(event, values, norm_values, strict=True):
            expected = _brute_ecf(jet["constituents"], npoint, beta)
            ecf1 = _brute_ecf(jet["constituents"], 1, beta)
            assert value == pytest.approx(expected, rel=TIGHT, abs=1e-300)
            assert norm == pytest.approx(expected / ecf1**npoint, rel=TIGHT, abs=1e-300)
            n_checked += 1
    assert n_checked >= 25


@pytest.mark.parametrize(("npoint", "beta"), [(2, 1.0), (2, 4.0), (3, 1.0), (3, 4.0)])
def test_kernel_ecf_equals_fastjet_energy_correlator(jets, npoint, beta) -> None:
    """The compiled e_N against FastJet-contrib's ``EnergyCorrelator`` (through FastJet's
    awkward interface on each jet's own ``ClusterSequence``, _fastjet_reference.py) on
    every anti-kT 0.8 jet of the Pythia Z sample. Both add the same positive terms with
    the same angles, FastJet in its constituent order and with its normalisation inside
    the sum, so they agree to a few ulp (at most 8.7e-15 relative over 13,600 jets of
    3,000 Z events): rtol 1e-12."""
    four, n_const = flat_constituents(jets)
    got = energy_correlation_flat(*four, n_const, npoint, beta)
    np.testing.assert_allclose(got, fastjet_ecf(four, n_const, npoint, beta), rtol=1e-12, atol=0)
    assert (got > 0).sum() >= 40


def test_fused_jet_shapes_equal_the_separate_functions(jets) -> None:
    """jet_shapes_flat (τ1, τ2, τ21, e3) gives the values of nsubjettiness and
    energy_correlation_flat bit for bit, and τN agrees with FastJet's axes (rtol 1e-12, the
    reason is in test_jets.py)."""
    four, n_const = flat_constituents(jets)
    tau1, tau2, tau21, e3 = jet_shapes_flat(*four, n_const, 0.8, 3, 4.0)
    for got, want in zip((tau1, tau2, tau21), nsubjettiness(*four, n_const, 0.8), strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(e3, energy_correlation_flat(*four, n_const, 3, 4.0))
    np.testing.assert_allclose(tau2, fastjet_tau(four, n_const, 0.8, 2), rtol=1e-12, atol=0)
    np.testing.assert_allclose(
        tau21, ak.to_numpy(ak.flatten(jets.nsubjettiness.tau21)), rtol=0, atol=0
    )
    with pytest.raises(ConfigError, match="npoint"):
        jet_shapes_flat(*four, n_const, 0.8, 4, 4.0)
    with pytest.raises(ConfigError, match="beta"):
        energy_correlation_flat(*four, n_const, 3, -1.0)


def test_decreasing_pt_order_is_the_stable_lexsort() -> None:
    rng = np.random.default_rng(5)
    counts = rng.integers(1, 40, 500)
    pt = rng.exponential(3.0, counts.sum()).round(1)  # rounded: many exact ties
    jet_of = np.repeat(np.arange(len(counts)), counts)
    order = decreasing_pt_order(pt, counts)
    np.testing.assert_array_equal(order, np.lexsort((-pt, jet_of)))
    assert len(np.unique(pt)) < len(pt) / 10  # ties were exercised
    np.testing.assert_array_equal(decreasing_pt_order(pt[:0], counts[:0]), np.zeros(0, int))
    with pytest.raises(ShapeMismatchError, match="n_constituents sums to"):
        decreasing_pt_order(pt[:-1], counts)
    with pytest.raises(NonFiniteInputError, match="position 3"):
        decreasing_pt_order(np.array([1.0, 2.0, 3.0, np.nan]), np.array([4]))


def test_ecf_exact_configurations() -> None:
    pair = [_particle(10.0, 0.0, 0.0), _particle(5.0, 0.0, 0.5)]
    triplet = [*pair, _particle(2.0, 0.3, 0.1)]
    single = [_particle(7.0, 0.2, 1.0)]
    constituents = ak.Array([[single, pair, triplet], []])
    ecf2 = energy_correlation(constituents, 2, 2.0, normalized=False).tolist()
    ecf3 = energy_correlation(constituents, 3, 1.0, normalized=False).tolist()
    # massless particles: rapidity = η, so ΔR is exact
    r12, r13, r23 = 0.5, math.hypot(0.3, 0.1), math.hypot(0.3, 0.4)
    assert ecf2[0][0] == 0.0
    assert ecf2[0][1] == pytest.approx(10 * 5 * r12**2, rel=1e-12)
    assert ecf2[0][2] == pytest.approx(
        10 * 5 * r12**2 + 10 * 2 * r13**2 + 5 * 2 * r23**2, rel=1e-12
    )
    assert ecf3[0][:2] == [0.0, 0.0]
    assert ecf3[0][2] == pytest.approx(10 * 5 * 2 * r12 * r13 * r23, rel=1e-12)
    assert ecf3[1] == []
    e3 = energy_correlation(constituents, 3, 1.0).tolist()
    assert e3[0][2] == pytest.approx(100 * r12 * r13 * r23 / 17**3, rel=1e-12)
    assert energy_correlation(constituents, 1, 4.0).tolist() == [[1.0, 1.0, 1.0], []]
    assert energy_correlation(constituents[1:], 2, 1.0).tolist() == [[]]


@pytest.mark.parametrize(
    ("npoint", "beta", "match"),
    [(4, 1.0, "npoint"), (0, 1.0, "npoint"), (2, 0.0, "beta"), (2, math.inf, "beta")],
)
def test_ecf_arguments(jets, npoint, beta, match) -> None:
    with pytest.raises(ConfigError, match=match):
        energy_correlation(jets.constituents, npoint, beta)


def test_ecf_missing_fields(jets) -> None:
    with pytest.raises(MissingBranchError, match="E"):
        energy_correlation(jets.constituents[["pt", "eta", "phi"]], 2, 1.0)


def test_constituents_make_up_the_jets(particles, jets) -> None:
    plain = cluster_jets(particles, ANTIKT08)
    for field in ("px", "py", "pz", "E", "pt", "eta", "phi", "n_constituents"):
        assert ak.all(getattr(jets, field) == getattr(plain, field))
    assert ak.all(jets.nsubjettiness.tau21 == plain.nsubjettiness.tau21)
    assert ak.all(ak.num(jets.constituents, axis=2) == jets.n_constituents)
    constituents = jets.constituents
    pt = ak.values_astype(constituents.pt, np.float64)
    px = ak.sum(pt * np.cos(constituents.phi), axis=2)
    pz = ak.sum(pt * np.sinh(ak.values_astype(constituents.eta, np.float64)), axis=2)
    energy = ak.sum(ak.values_astype(constituents.E, np.float64), axis=2)
    # E-scheme: the jet four-momentum is the sum of its constituents' (float32 inputs
    # converted identically on both sides, summed in another order)
    for mine, theirs in ((px, jets.px), (pz, jets.pz), (energy, jets.E)):
        np.testing.assert_allclose(
            ak.to_numpy(ak.flatten(mine)), ak.to_numpy(ak.flatten(theirs)), atol=1e-9
        )
    # every constituent is a particle of its event, and no particle is in two jets
    for event_particles, event_jets in zip(
        particles.tolist(), ak.to_list(ak.Array(jets.layout)), strict=True
    ):
        keys = [tuple(p.values()) for p in event_particles]
        used = [tuple(c.values()) for jet in event_jets for c in jet["constituents"]]
        assert len(set(used)) == len(used)
        assert set(used) <= set(keys)


def test_multiplicity_and_strange_counts_match_python(jets) -> None:
    n_strange = count_strange(jets.constituents.pdgId).tolist()
    n_total = 0
    for event, counts in zip(ak.to_list(ak.Array(jets.layout)), n_strange, strict=True):
        for jet, count in zip(event, counts, strict=True):
            ids = [c["pdgId"] for c in jet["constituents"]]
            assert jet["n_constituents"] == len(ids)
            assert count == sum(1 for i in ids if abs(i) in STRANGE_HADRON_IDS)
            n_total += count
    assert n_total > 20  # the sample does contain kaons and hyperons


def test_count_strange_by_id() -> None:
    strange = [321, -321, 310, 130, 3122, -3222, 3112, 3312, -3334, 3322]
    ids = ak.Array([[strange], [[211, 22, 2212]], []])
    assert count_strange(ids).tolist() == [[10], [0], []]
    assert count_strange(ak.Array([[321, 211], []])).tolist() == [1, 0]


def test_jet_mass(jets) -> None:
    flat = ak.flatten(jets)
    m2 = flat.E**2 - flat.px**2 - flat.py**2 - flat.pz**2
    np.testing.assert_allclose(
        ak.to_numpy(ak.flatten(jet_mass(jets))), np.sqrt(np.maximum(ak.to_numpy(m2), 0)), rtol=0
    )
    assert ak.all(ak.flatten(jet_mass(jets)) > 0)


def test_constituent_features(jets) -> None:
    features = constituent_features(jets)
    assert ak.fields(features) == ["pt", "pt_frac", "deta", "dphi", "pdgId", "charge"]
    pt = features.pt
    assert ak.all(pt[:, :, 1:] <= pt[:, :, :-1])  # sorted by decreasing pT
    assert ak.all(ak.sum(features.pt_frac, axis=2) >= 1.0 - 1e-6)  # scalar sum >= vector
    assert ak.all(np.abs(features.dphi) <= np.pi)
    # anti-kT R = 0.8: hard constituents lie within R of the axis (soft ones may stray)
    hard = features.pt_frac > 0.1
    assert ak.all(np.hypot(features.deta, features.dphi)[hard] < 1.0)
    # a jet across φ = ±π: relative azimuths stay small
    across = ak.Array(
        [[_particle(20.0, 0.0, math.pi - 0.05), _particle(10.0, 0.0, -math.pi + 0.05)]]
    )
    jet = cluster_jets_with_constituents(across, ANTIKT08)
    dphi = constituent_features(jet).dphi.tolist()[0][0]
    assert max(abs(d) for d in dphi) < 0.1


def test_events_without_particles(particles) -> None:
    mixed = ak.concatenate([particles[:2], particles[2:3][:, :0]])  # last event: none
    jets = cluster_jets_with_constituents(mixed, ANTIKT08)
    assert ak.num(jets)[-1] == 0
    assert energy_correlation(jets.constituents, 3, 4.0).tolist()[-1] == []
    assert count_strange(jets.constituents.pdgId).tolist()[-1] == []
