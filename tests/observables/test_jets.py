"""Jet clustering and N-subjettiness of :mod:`hepnnlr.observables.jets`.

Three kinds of checks:

* real Pythia events clustered by :func:`cluster_jets` (awkward interface, all events at
  once) against FastJet's single-event ``PseudoJet`` interface, event by event, with τN
  recomputed in NumPy from the exclusive-kT axes of each jet's constituents;
* the compiled kernel's exclusive-kT axes (bit for bit) and τN (relative 1e-12) against
  FastJet's own per-jet kT reclustering (``_fastjet_reference.py``);
* τ1 against a FastJet-free NumPy computation (its axis is the jet momentum) and τ2
  against a brute-force minimum over all two-way splits of small jets;
* exact answers for two-prong and single-particle jets;
* the native clustering engine (``JetConfig(engine="native")``,
  :func:`hepnnlr.observables._kernels.cluster_events`) against FastJet's
  ``ClusterSequence`` + ``inclusive_jets`` + ``constituent_index``: jets, four-momenta and
  constituent lists bit for bit on Pythia Z and DIS events and on hand-made events with
  exact ties, empty events, single particles and thresholds hit exactly.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import awkward as ak
import fastjet
import numpy as np
import pytest
import uproot
from _fastjet_reference import (
    assert_kernel_axes_are_fastjets,
    fastjet_inclusive,
    fastjet_tau,
    flat_constituents,
)

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.observables import _kernels
from hepnnlr.observables.dis import select_fiducial
from hepnnlr.observables.jets import (
    JetConfig,
    cluster_flat,
    cluster_jets,
    cluster_jets_with_constituents,
    dphi_from_pi,
    nsubjettiness,
    per_jet_sequence,
    subjettiness,
)

# double-precision agreement between two implementations of the same arithmetic
TIGHT = 1e-9


def _particle(pt: float, eta: float, phi: float, mass: float = 0.0) -> dict[str, float]:
    return {"pt": pt, "eta": eta, "phi": phi, "E": math.hypot(pt * math.cosh(eta), mass)}


@pytest.fixture(scope="module")
def pythia_particles(dis_sim_file) -> ak.Array:
    """Fiducial particle-level particles of the first 40 Pythia events."""
    with uproot.open(dis_sim_file) as file:
        arrays = file["events"].arrays(
            ["GenPart_pt", "GenPart_eta", "GenPart_phi", "GenPart_E"], entry_stop=40
        )
    particles = ak.zip(
        {f: ak.values_astype(arrays[f"GenPart_{f}"], np.float64) for f in ("pt", "eta", "phi", "E")}
    )
    return select_fiducial(particles)


def _rapidity_phi(px: np.ndarray, py: np.ndarray, pz: np.ndarray, energy: np.ndarray):
    """Rapidity as FastJet defines it, 0.5 ln((E + pz)/(E − pz)) written with m² clipped
    at 0: the particles of a float32 event file can have m² slightly below 0."""
    kt2 = px**2 + py**2
    m2 = np.maximum(energy**2 - kt2 - pz**2, 0.0)
    rapidity = -0.5 * np.log((kt2 + m2) / (energy + np.abs(pz)) ** 2) * np.sign(pz)
    return rapidity, np.arctan2(py, px)


def _tau_numpy(constituents: np.ndarray, axes: np.ndarray, r0: float) -> float:
    """τN of one jet from (px, py, pz, E) rows of constituents and axes."""
    pt = np.hypot(constituents[:, 0], constituents[:, 1])
    y, phi = _rapidity_phi(*constituents.T)
    ay, aphi = _rapidity_phi(*axes.T)
    dphi = np.abs(phi[:, None] - aphi[None, :])
    dphi = np.where(dphi > np.pi, 2 * np.pi - dphi, dphi)
    distance = np.sqrt((y[:, None] - ay[None, :]) ** 2 + dphi**2).min(axis=1)
    return float(np.sum(pt * distance) / (np.sum(pt) * r0))


def _reference_jets(event: list[dict[str, float]], config: JetConfig) -> list[dict[str, float]]:
    """Cluster one event with FastJet's PseudoJet interface; τN with NumPy."""
    pseudojets = [
        fastjet.PseudoJet(
            p["pt"] * math.cos(p["phi"]),
            p["pt"] * math.sin(p["phi"]),
            p["pt"] * math.sinh(p["eta"]),
            p["E"],
        )
        for p in event
    ]
    sequence = fastjet.ClusterSequence(pseudojets, config.jet_definition())
    out = []
    for jet in fastjet.sorted_by_pt(sequence.inclusive_jets(config.pt_min)):
        members = list(jet.constituents())
        four = np.array([[c.px(), c.py(), c.pz(), c.E()] for c in members])
        taus = []
        for n in (1, 2):
            if len(members) <= n:
                taus.append(0.0)
                continue
            recluster = fastjet.ClusterSequence(
                members,
                fastjet.JetDefinition(fastjet.kt_algorithm, fastjet.JetDefinition.max_allowable_R),
            )
            axes = np.array([[a.px(), a.py(), a.pz(), a.E()] for a in recluster.exclusive_jets(n)])
            taus.append(_tau_numpy(four, axes, config.radius))
        out.append(
            {
                "pt": jet.pt(),
                "eta": jet.eta(),
                "phi": jet.phi_std(),
                "n_constituents": len(members),
                "tau1": taus[0],
                "tau2": taus[1],
            }
        )
    return out


@pytest.mark.parametrize(
    "config",
    [JetConfig(), JetConfig("antikt", 0.4, 2.0), JetConfig("cambridge", 0.8, 3.0)],
    ids=["kt-R1.0-pt5", "antikt-R0.4-pt2", "cambridge-R0.8-pt3"],
)
def test_matches_fastjet_single_event_interface(pythia_particles, config: JetConfig) -> None:
    jets = cluster_jets(pythia_particles, config)
    assert len(jets) == len(pythia_particles)
    n_compared = 0
    for event, event_jets in zip(pythia_particles.tolist(), jets.tolist(), strict=True):
        reference = _reference_jets(event, config)
        assert len(event_jets) == len(reference)
        for got, want in zip(event_jets, reference, strict=True):
            for field in ("pt", "eta", "phi", "tau1", "tau2"):
                assert got[field] == pytest.approx(want[field], rel=TIGHT, abs=TIGHT), field
            assert got["n_constituents"] == want["n_constituents"]
            n_compared += 1
    assert n_compared >= 10  # the comparison saw a real number of jets


def test_jets_sorted_by_decreasing_pt_and_above_threshold(pythia_particles) -> None:
    jets = cluster_jets(pythia_particles)
    pts = jets.pt
    assert ak.all(pts[:, 1:] <= pts[:, :-1])
    assert ak.all(pts >= 5.0)
    tau21 = jets.tau21
    expected = ak.where(jets.tau1 > 0, jets.tau2 / ak.where(jets.tau1 > 0, jets.tau1, 1.0), 0.0)
    assert ak.all(tau21 == expected)


def test_tau1_axis_is_jet_momentum_and_tau2_not_below_brute_force(pythia_particles) -> None:
    config = JetConfig()
    n_small = 0
    for index, event in enumerate(pythia_particles.tolist()):
        pseudojets = [
            fastjet.PseudoJet(
                p["pt"] * math.cos(p["phi"]),
                p["pt"] * math.sin(p["phi"]),
                p["pt"] * math.sinh(p["eta"]),
                p["E"],
            )
            for p in event
        ]
        sequence = fastjet.ClusterSequence(pseudojets, config.jet_definition())
        ours = cluster_jets(pythia_particles[index : index + 1], config)[0]
        for k, jet in enumerate(fastjet.sorted_by_pt(sequence.inclusive_jets(config.pt_min))):
            four = np.array([[c.px(), c.py(), c.pz(), c.E()] for c in jet.constituents()])
            # τ1: one axis, the sum of all constituents (FastJet-free)
            tau1 = _tau_numpy(four, four.sum(axis=0, keepdims=True), config.radius)
            assert ours[k].tau1 == pytest.approx(tau1, rel=TIGHT, abs=TIGHT)
            if not 3 <= len(four) <= 9:
                continue
            # τ2: exclusive-kT axes are one particular split of the constituents, so τ2 is
            # at least the minimum over all two-way splits (with group momenta as axes)
            best = np.inf
            for mask in itertools.product((False, True), repeat=len(four) - 1):
                group = np.array((True, *mask))
                if group.all():
                    continue
                axes = np.stack([four[group].sum(axis=0), four[~group].sum(axis=0)])
                best = min(best, _tau_numpy(four, axes, config.radius))
            assert ours[k].tau2 >= best - TIGHT
            n_small += 1
    assert n_small >= 3


@pytest.mark.parametrize("radius", [1.0, 0.8])
def test_two_collinear_prongs_exact(radius: float) -> None:
    a = 0.3  # prongs at φ = ±a, η = 0: ΔR = 0.6 < R, one jet
    prong_a = [_particle(3.0, 0.0, a), _particle(2.0, 0.0, a), _particle(1.0, 0.0, a)]
    prong_b = [_particle(4.0, 0.0, -a), _particle(2.0, 0.0, -a)]
    jets = cluster_jets(ak.Array([prong_a + prong_b]), JetConfig(radius=radius))
    assert ak.num(jets).tolist() == [1]
    jet = jets[0, 0]
    # equal prong pT: the τ1 axis is at φ = 0, y = 0, every particle a distance a from it
    assert jet.tau1 == pytest.approx(a / radius, rel=1e-12)
    # each prong is exactly collinear: the two exclusive-kT axes sit on the prongs
    assert jet.tau2 == pytest.approx(0.0, abs=1e-12)
    assert jet.tau21 == pytest.approx(0.0, abs=1e-12)
    assert jet.pt == pytest.approx(12.0 * math.cos(a), rel=1e-12)
    assert jet.phi == pytest.approx(0.0, abs=1e-12)
    assert jet.n_constituents == 5


def test_unequal_prongs_tau1_exact() -> None:
    a, hard, soft = 0.25, 8.0, 4.0
    jets = cluster_jets(ak.Array([[_particle(hard, 0.0, a), _particle(soft, 0.0, -a)]]))
    axis_phi = math.atan2((hard - soft) * math.sin(a), (hard + soft) * math.cos(a))
    tau1 = (hard * abs(a - axis_phi) + soft * abs(a + axis_phi)) / (hard + soft)
    assert jets[0, 0].tau1 == pytest.approx(tau1, rel=1e-12)
    assert jets[0, 0].tau2 == 0.0  # two constituents, two axes
    assert jets[0, 0].tau21 == 0.0


def test_single_particle_jet_has_zero_taus() -> None:
    jets = cluster_jets(ak.Array([[_particle(7.0, 1.0, 2.0)]]))
    assert jets.tolist()[0][0]["n_constituents"] == 1
    assert (jets[0, 0].tau1, jets[0, 0].tau2, jets[0, 0].tau21) == (0.0, 0.0, 0.0)


def test_events_without_particles_or_jets() -> None:
    events = ak.Array(
        [
            [],  # no particles
            [_particle(1.0, 0.0, 0.0), _particle(0.5, 1.0, 1.0)],  # particles, no jet
            None,  # no level at all
            [_particle(6.0, 0.0, 0.0)],
        ]
    )
    jets = cluster_jets(events)
    assert ak.num(jets).tolist() == [0, 0, 0, 1]
    assert ak.fields(jets) == [
        "px", "py", "pz", "E", "pt", "eta", "phi", "n_constituents", "tau1", "tau2", "tau21"
    ]  # fmt: skip


def test_all_events_empty_and_zero_events() -> None:
    empty = ak.Array([[_particle(1.0, 0.0, 0.0)]])[:, :0]
    jets = cluster_jets(ak.concatenate([empty, empty]))
    assert ak.num(jets).tolist() == [0, 0]
    assert len(cluster_jets(empty[:0])) == 0


def test_dphi_from_pi() -> None:
    phi_e = ak.Array([0.5, 3.0, -1.0])
    jet_phi = ak.Array([[0.5 + math.pi, 0.5 + math.pi / 2], [-3.0], []])
    out = dphi_from_pi(jet_phi, phi_e)
    assert out[0].tolist() == pytest.approx([0.0, math.pi / 2], abs=1e-12)
    # φ_jet = −3, φ_e = 3: |Δφ| = 2π − 6 through the ±π seam
    assert out[1, 0] == pytest.approx(math.pi - (2 * math.pi - 6.0), abs=1e-12)
    assert out[2].tolist() == []
    rng = np.random.default_rng(3)
    values = dphi_from_pi(rng.uniform(-10, 10, 1000), rng.uniform(-10, 10, 1000))
    assert np.all((values >= 0) & (values <= math.pi))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"algorithm": "siscone"}, "antikt"),
        ({"radius": 0.0}, "radius"),
        ({"pt_min": -1.0}, "pt_min"),
        ({"engine": "cgal"}, "engine='cgal'.*fastjet.*native"),
    ],
)
def test_jet_config_validation(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        JetConfig(**kwargs)


def test_missing_energy_field() -> None:
    with pytest.raises(MissingBranchError, match=r"\['E'\]"):
        cluster_jets(ak.Array([[{"pt": 6.0, "eta": 0.0, "phi": 0.0}]]))


def test_kernel_axes_and_taus_equal_fastjet_per_jet_reclustering(pythia_particles) -> None:
    """The compiled kernel against FastJet's own per-jet kT reclustering
    (tests/observables/_fastjet_reference.py) on the kT R = 1.0 jets of Pythia DIS events.

    The exclusive-kT axes must be *identical* (same merges in the same order, each an
    E-scheme sum of the same two operands). τN then differs only by the order of the sums
    over constituents and by NumPy's against libm's log/atan2 (a few ulp per term): about
    1e-15 relative, at most 1.6e-13 over 13,600 jets of 3,000 Pythia Z events clustered
    with anti-kT 0.8 and kT 1.0 (a constituent very close to an axis), hence rtol 1e-12.
    """
    four, n_const = flat_constituents(cluster_jets_with_constituents(pythia_particles))
    assert len(n_const) >= 30 and n_const.max() >= 20  # real jets, with real clusterings
    for n in (1, 2, 3):
        assert_kernel_axes_are_fastjets(four, n_const, n)
        got = subjettiness(*four, n_const, 1.0, n)
        np.testing.assert_allclose(got, fastjet_tau(four, n_const, 1.0, n), rtol=1e-12, atol=0)
        assert (got > 0).sum() >= 20
    tau1, tau2, tau21 = nsubjettiness(*four, n_const, 1.0)
    np.testing.assert_array_equal(tau1, subjettiness(*four, n_const, 1.0, 1))
    np.testing.assert_array_equal(tau2, subjettiness(*four, n_const, 1.0, 2))
    np.testing.assert_array_equal(tau21, np.where(tau1 > 0, tau2 / np.where(tau1 > 0, tau1, 1), 0))


def test_kernel_breaks_exact_ties_as_fastjet() -> None:
    """Constituents on a coarse (η, φ) grid with few distinct pT values make many pairs
    exactly equally distant (ΔR = 0 included): the kernel's choice between equal
    distances, FastJet's N2Plain one, must give FastJet's axes bit for bit."""
    rng = np.random.default_rng(3)
    jets = [[_particle(1.0, 0.0, 0.1 * k) for k in range(12)]]  # equally spaced, equal pT
    for _ in range(150):
        n = int(rng.integers(3, 15))
        grid = (
            rng.choice([1.0, 2.0, 3.0], n),  # pT
            rng.choice([0.0, 0.1, 0.2], n),  # η
            rng.choice([0.0, 0.1, 0.2], n),  # φ
        )
        jets.append([_particle(*values) for values in zip(*grid, strict=True)])
    n_const = np.array([len(jet) for jet in jets])
    assert (n_const >= 10).sum() >= 20  # > 9 constituents on 9 grid points: some coincide
    four = tuple(
        np.array([f(p) for jet in jets for p in jet])
        for f in (
            lambda p: p["pt"] * math.cos(p["phi"]),
            lambda p: p["pt"] * math.sin(p["phi"]),
            lambda p: p["pt"] * math.sinh(p["eta"]),
            lambda p: p["E"],
        )
    )
    for n in (2, 3):
        assert_kernel_axes_are_fastjets(four, n_const, n)


def test_deprecated_sequence_argument_and_bad_inputs(pythia_particles) -> None:
    """``sequence=`` still accepted (same values) but warns; bad shapes are refused."""
    from hepnnlr.errors import ShapeMismatchError
    from hepnnlr.observables.substructure import energy_correlation_flat

    jets = cluster_jets_with_constituents(pythia_particles)
    four, n_const = flat_constituents(jets)
    sequence = per_jet_sequence(*four, n_const)
    alone = nsubjettiness(*four, n_const, 1.0)
    with pytest.warns(DeprecationWarning, match="sequence=.*no longer used"):
        shared = nsubjettiness(*four, n_const, 1.0, sequence=sequence)
    for got, want in zip(shared, alone, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(alone[0], ak.to_numpy(ak.flatten(jets.tau1)), rtol=TIGHT, atol=0)
    with pytest.warns(DeprecationWarning, match="subjettiness"):
        subjettiness(*four, n_const, 1.0, 3, sequence=sequence)
    with pytest.warns(DeprecationWarning, match="energy_correlation_flat"):
        energy_correlation_flat(*four, n_const, 3, 4.0, sequence=sequence)
    with pytest.raises(ShapeMismatchError, match="n_constituents sums to"):
        nsubjettiness(*(a[: n_const[0]] for a in four), n_const, 1.0)
    with pytest.raises(ShapeMismatchError, match="no constituents"):
        nsubjettiness(*four, np.concatenate([[0], n_const]), 1.0)
    with pytest.raises(ConfigError, match="n=True"):
        subjettiness(*four, n_const, 1.0, True)
    empty = nsubjettiness(*(a[:0] for a in four), n_const[:0], 1.0)
    assert [len(a) for a in empty] == [0, 0, 0]


def test_tau3_not_below_brute_force_and_consistent_with_tau1_tau2(pythia_particles) -> None:
    config = JetConfig()
    n_small = 0
    for event in pythia_particles.tolist():
        pseudojets = [
            fastjet.PseudoJet(p["pt"] * math.cos(p["phi"]), p["pt"] * math.sin(p["phi"]),
                              p["pt"] * math.sinh(p["eta"]), p["E"])
            for p in event
        ]
        sequence = fastjet.ClusterSequence(pseudojets, config.jet_definition())
        for jet in sequence.inclusive_jets(config.pt_min):
            four = np.array([[c.px(), c.py(), c.pz(), c.E()] for c in jet.constituents()])
            counts = np.array([len(four)])
            tau3 = subjettiness(*four.T, counts, config.radius, 3)[0]
            # the general function reproduces tau1 and tau2 of nsubjettiness exactly
            tau1, tau2, _ = nsubjettiness(*four.T, counts, config.radius)
            for n, want in ((1, tau1[0]), (2, tau2[0])):
                got = subjettiness(*four.T, counts, config.radius, n)[0]
                assert got == pytest.approx(want, rel=TIGHT, abs=TIGHT)
            if not 4 <= len(four) <= 8:
                assert len(four) > 3 or tau3 == 0.0  # at most 3 constituents: 3 axes, 0
                continue
            # exclusive-kT axes are one particular 3-way split of the constituents, so tau3
            # is at least the minimum over all 3-way splits with group momenta as axes
            best = np.inf
            for labels in itertools.product(range(3), repeat=len(four) - 1):
                group = np.array((0, *labels))
                if len(set(group)) < 3:
                    continue
                axes = np.stack([four[group == g].sum(axis=0) for g in range(3)])
                best = min(best, _tau_numpy(four, axes, config.radius))
            assert tau3 >= best - TIGHT
            n_small += 1
    assert n_small >= 3


def test_three_collinear_prongs_have_zero_tau3() -> None:
    prongs = [_particle(3.0, 0.0, 0.3), _particle(1.0, 0.0, 0.3), _particle(4.0, 0.0, -0.3),
              _particle(2.0, 0.0, -0.3), _particle(5.0, 0.4, 0.0), _particle(1.0, 0.4, 0.0)]
    jets = cluster_jets_with_constituents(ak.Array([prongs]), JetConfig(radius=1.0))
    assert ak.num(jets).tolist() == [1]
    c = jets[0, 0].constituents
    px, py = c.pt * np.cos(c.phi), c.pt * np.sin(c.phi)
    pz = c.pt * np.sinh(c.eta)
    four = [ak.to_numpy(a).astype(np.float64) for a in (px, py, pz, c.E)]
    counts = np.array([len(four[0])])
    # three exactly collinear prongs: the three exclusive-kT axes sit on them
    assert subjettiness(*four, counts, 1.0, 3)[0] == pytest.approx(0.0, abs=1e-12)
    assert subjettiness(*four, counts, 1.0, 2)[0] > 0.01
    with pytest.raises(ConfigError, match="n=0"):
        subjettiness(*four, counts, 1.0, 0)


# ---------------------------------------------------------------------------------------
# the native clustering engine
# ---------------------------------------------------------------------------------------

_FLAT_JET_FIELDS = (
    "n_jets", "px", "py", "pz", "E", "pt", "eta", "phi", "n_constituents", "constituents",
    "tau1", "tau2", "tau21",
)  # fmt: skip


def _flat_event_arrays(particles: ak.Array) -> tuple[np.ndarray, list[np.ndarray]]:
    counts = ak.to_numpy(ak.num(particles)).astype(np.int64)
    return counts, [ak.to_numpy(ak.flatten(particles[f])) for f in ("pt", "eta", "phi", "E")]


@pytest.fixture(scope="module")
def z_events() -> tuple[np.ndarray, list[np.ndarray]]:
    """Stable particles of 300 Pythia e+e− → Z → light-quark events (73% have more than
    30, so FastJet runs its tiled strategies on them, not N2Plain)."""
    from hepnnlr.samples.zjets import generate_zjets

    return _flat_event_arrays(generate_zjets(300, seed=7).GenPart)


@pytest.fixture(scope="module")
def dis_events(dis_sim_file) -> tuple[np.ndarray, list[np.ndarray]]:
    """Fiducial particle-level particles of the 1,500 events of the session DIS file."""
    with uproot.open(dis_sim_file) as file:
        arrays = file["events"].arrays([f"GenPart_{f}" for f in ("pt", "eta", "phi", "E")])
    particles = ak.zip(
        {f: ak.values_astype(arrays[f"GenPart_{f}"], np.float64) for f in ("pt", "eta", "phi", "E")}
    )
    return _flat_event_arrays(select_fiducial(particles))


def _four(flat: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """(px, py, pz, E) exactly as cluster_flat computes them."""
    pt, eta, phi, energy = (np.asarray(a, dtype=np.float64) for a in flat)
    return pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), energy


def _assert_native_is_fastjet(counts, four, config, *, raw_order: bool) -> int:  # noqa: ANN001
    """cluster_events against FastJet, bit for bit; returns the number of jets.

    ``raw_order``: FastJet's ``inclusive_jets`` order too (else jets per event and, after
    the same ordering by pT, momenta and constituents; see cluster_flat's docstring)."""
    n_jets, momenta, n_const, constituents = fastjet_inclusive(counts, four, config)
    native = _kernels.cluster_events(
        *four,
        np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        _kernels.ALGORITHM_CODES[config.algorithm],
        config.radius,
        config.pt_min,
    )
    np.testing.assert_array_equal(native[4], n_jets)
    if raw_order:
        np.testing.assert_array_equal(np.stack(native[:4]), momenta)
        np.testing.assert_array_equal(native[5], n_const)
        np.testing.assert_array_equal(native[6], constituents)
    else:
        event = np.repeat(np.arange(len(counts)), n_jets)
        ours = np.lexsort((-np.hypot(native[0], native[1]), event))
        theirs = np.lexsort((-np.hypot(momenta[0], momenta[1]), event))
        np.testing.assert_array_equal(np.stack(native[:4])[:, ours], momenta[:, theirs])
        np.testing.assert_array_equal(native[5][ours], n_const[theirs])
        ours_c = np.split(native[6], np.cumsum(native[5])[:-1])
        theirs_c = np.split(constituents, np.cumsum(n_const)[:-1])
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(ours_c[a], theirs_c[b])
    return int(n_jets.sum())


@pytest.mark.parametrize(
    "config",
    [
        JetConfig("antikt", 0.8, 5.0),  # the Z → jets processor's jets
        JetConfig("kt", 1.0, 5.0),
        JetConfig("kt", 0.4, 1.0),
        JetConfig("cambridge", 0.8, 5.0),
        JetConfig("antikt", 0.4, 0.0),  # every particle ends in a jet
    ],
    ids=str,
)
def test_native_engine_is_fastjet_on_pythia_z_events(z_events, config: JetConfig) -> None:
    """All FlatJets fields of the two engines identical (jets, momenta, η, φ, constituent
    lists, τN) on real events; kT and anti-kT in FastJet's own jet order as well. For
    Cambridge/Aachen the last beam recombinations, all at d_iB = R², are exact ties that
    FastJet's tiled strategies take in another order: same jets, other order."""
    counts, flat = z_events
    fastjet_jets = cluster_flat(counts, *flat, dataclasses.replace(config, engine="fastjet"))
    native = cluster_flat(counts, *flat, dataclasses.replace(config, engine="native"))
    assert len(native.px) > len(counts)  # ≥ 2 jets per event on average: a real comparison
    for field in _FLAT_JET_FIELDS:
        np.testing.assert_array_equal(
            getattr(native, field), getattr(fastjet_jets, field), err_msg=field
        )
    _assert_native_is_fastjet(
        counts, _four(flat), config, raw_order=config.algorithm != "cambridge"
    )


@pytest.mark.parametrize(
    "config",
    [JetConfig("kt", 1.0, 5.0), JetConfig("antikt", 1.0, 2.0), JetConfig("cambridge", 0.6, 2.0)],
    ids=str,
)
def test_native_engine_is_fastjet_on_pythia_dis_events(dis_events, config: JetConfig) -> None:
    """The paper's kT R = 1.0 jets (and the other algorithms) of 1,500 DIS events."""
    counts, flat = dis_events
    n_jets = _assert_native_is_fastjet(
        counts, _four(flat), config, raw_order=config.algorithm != "cambridge"
    )
    assert n_jets > 1000
    fastjet_jets = cluster_flat(
        counts, *flat, dataclasses.replace(config, engine="fastjet"), with_nsubjettiness=False
    )
    native = cluster_flat(
        counts, *flat, dataclasses.replace(config, engine="native"), with_nsubjettiness=False
    )
    for field in _FLAT_JET_FIELDS[:10]:
        np.testing.assert_array_equal(
            getattr(native, field), getattr(fastjet_jets, field), err_msg=field
        )


def _grid_events(seed: int, n_events: int, largest: int) -> tuple[np.ndarray, tuple]:
    """Events of 1 … ``largest`` particles on a 4 × 5 (η, φ) grid with 4 pT values: many
    pairs exactly equally distant, coincident particles, equal pT and equal jets."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, largest + 1, n_events)
    total = int(counts.sum())
    pt = rng.choice([1.0, 2.0, 3.0, 6.0], total)
    eta = rng.choice([0.0, 0.3, 0.6, 0.9], total)
    phi = rng.choice([0.0, 0.3, 0.6, 3.0, 5.5], total)
    return counts, (pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta))


@pytest.mark.parametrize("algorithm", ["kt", "antikt", "cambridge"])
@pytest.mark.parametrize("radius", [0.4, 1.0])
def test_native_engine_breaks_exact_ties_as_fastjet(algorithm: str, radius: float) -> None:
    """Up to 30 particles FastJet runs N2Plain, whose choice between equal distances the
    engine follows: same jets, same order, same momenta (same summation order), same
    constituents, on 300 events full of exact ties. (Above ~30 particles FastJet's tiled
    strategies break such ties in another order; real events have none, see the Pythia
    tests.)"""
    counts, four = _grid_events(5, 300, 30)
    assert (counts > 20).sum() > 50  # more particles than grid points: coincident pairs
    n_jets = _assert_native_is_fastjet(
        counts, four, JetConfig(algorithm, radius, 2.0), raw_order=True
    )
    assert n_jets > 300


def test_native_engine_edge_cases() -> None:
    """Empty events, single particles, no jet above threshold, zero events, particles
    along the beam (kt2 = 0: anti-kT's 1e300 momentum factor, FastJet's MaxRap rapidity)
    and a jet exactly at the threshold."""
    four = (
        np.array([6.0, 0.0, 1.0, 0.0, 3.0, 0.0, 0.0]),
        np.array([0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]),
        np.array([1.0, 9.0, 0.5, -4.0, 0.0, 0.0, 2.0]),
        np.array([7.0, 9.0, 2.0, 4.0, 3.0, 0.0, 2.0]),
    )
    # events: [], [6 GeV], [], [beam 9 GeV, soft], [beam, 3 GeV at threshold, E = 0, beam]
    counts = np.array([0, 1, 0, 2, 4], dtype=np.int64)
    for algorithm in ("kt", "antikt", "cambridge"):
        for radius, pt_min in ((1.0, 3.0), (0.4, 0.0), (0.7, 10.0)):
            config = JetConfig(algorithm, radius, pt_min)
            _assert_native_is_fastjet(counts, four, config, raw_order=True)
    jets = _kernels.cluster_events(*four, np.array([0, 0, 1, 1, 3, 7]), 2, 1.0, 3.0)
    np.testing.assert_array_equal(jets[4], [0, 1, 0, 0, 1])  # pT = 6 and pT = 3 (>= 3)
    nothing = _kernels.cluster_events(*four, np.array([0, 7]), 0, 1.0, 100.0)
    assert nothing[4].tolist() == [0] and len(nothing[6]) == 0
    no_events = _kernels.cluster_events(*four, np.array([0]), 0, 1.0, 5.0)
    assert len(no_events[4]) == 0 and len(no_events[0]) == 0


def test_native_kt_threshold_is_fastjets_d_ib_test() -> None:
    """FastJet keeps a kT inclusive jet when its d_iB = (R² kt2)·(1/R²) >= pt_min², not
    perp2: at R = 0.15 a 3 GeV jet has (0.0225 · 9)/0.0225 < 9 in floating point, so
    FastJet (and the engine) drop it for kT at pt_min = 3, while anti-kT keeps it."""
    assert (0.15 * 0.15 * 9.0) * (1.0 / (0.15 * 0.15)) < 9.0
    one = [np.array([1]), np.array([3.0]), np.array([0.0]), np.array([0.0]), np.array([3.0])]
    for algorithm, expected in (("kt", 0), ("antikt", 1), ("cambridge", 1)):
        for engine in ("fastjet", "native"):
            jets = cluster_flat(
                *one, JetConfig(algorithm, 0.15, 3.0, engine=engine), with_nsubjettiness=False
            )
            assert jets.n_jets.tolist() == [expected], (algorithm, engine)


def test_native_engine_through_cluster_jets_with_constituents(pythia_particles) -> None:
    """The awkward entry points give the same records with either engine."""
    config = JetConfig("kt", 1.0, 5.0, engine="fastjet")
    native = JetConfig("kt", 1.0, 5.0, engine="native")
    reference = cluster_jets_with_constituents(pythia_particles, config)
    ours = cluster_jets_with_constituents(pythia_particles, native)
    assert ak.sum(ak.num(reference)) > 20
    assert ak.to_list(ours) == ak.to_list(reference)


def _assert_outputs_identical(native: dict, reference: dict) -> None:
    assert native["cutflow"] == reference["cutflow"]
    assert native["hists"].keys() == reference["hists"].keys()
    for level, hists in reference["hists"].items():
        assert native["hists"][level].keys() == hists.keys()
        for name, h in hists.items():
            other = native["hists"][level][name]
            np.testing.assert_array_equal(other.values(flow=True), h.values(flow=True), name)
            np.testing.assert_array_equal(other.variances(flow=True), h.variances(flow=True), name)
    assert native["columns"].keys() == reference["columns"].keys()
    for key, columns in reference["columns"].items():
        assert ak.to_list(native["columns"][key]) == ak.to_list(columns), key


def test_processors_give_identical_outputs_with_the_native_engine(
    dis_sim_file, tmp_path
) -> None:
    """The DIS (kT 1.0) and Z → jets (anti-kT 0.8) processors with ``engine="native"``:
    cutflows, every histogram (values and variances, flow bins) and every column equal
    to those of the FastJet engine, over two chunks each."""
    from hepnnlr.processors.dis import DISProcessor
    from hepnnlr.processors.zjets import ZJETS_JETS, ZJetsProcessor
    from hepnnlr.samples.zjets import make_zjets_sample
    from hepnnlr.schema import run_processor

    z_file = make_zjets_sample(tmp_path / "z.root", n_events=400, seed=3, progress=False)
    for make, jets, path, chunksize in (
        (DISProcessor, JetConfig(), dis_sim_file, 750),
        (ZJetsProcessor, ZJETS_JETS, z_file, 200),
    ):
        outputs = [
            run_processor(
                make(jets=dataclasses.replace(jets, engine=engine)),
                {"s": [path]},
                chunksize=chunksize,
                progress=False,
            )
            for engine in ("fastjet", "native")
        ]
        assert outputs[0]["cutflow"]["events"] in (400, 1500)
        assert sum(h.sum(flow=True).value for h in outputs[0]["hists"]["gen"].values()) > 0
        _assert_outputs_identical(outputs[1], outputs[0])
