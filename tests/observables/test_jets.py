"""Jet clustering and N-subjettiness of :mod:`hepnnlr.observables.jets` and
:mod:`hepnnlr.observables.subjets`.

Kinds of checks:

* real Pythia events clustered by :func:`cluster_jets` (FastJet's multi-event awkward
  interface, all events at once) against FastJet's single-event ``PseudoJet`` interface,
  event by event, with τN recomputed in NumPy from the exclusive-kT axes of each jet;
* τN against FastJet-contrib's own ``Nsubjettiness`` (``KT_Axes``,
  ``NormalizedMeasure``) through the ``fastjet`` package's ``njettiness``, and against
  the NumPy reference of ``_fastjet_reference.py``;
* τ1 against a FastJet-free NumPy computation (its axis is the jet momentum) and τ2
  against a brute-force minimum over all two-way splits of small jets;
* exact answers for two-prong and single-particle jets;
* exclusive jets (``n_jets``, ``dcut``) and the e+e− algorithms against FastJet's own
  ``exclusive_jets``, with every particle in exactly one jet.
"""

from __future__ import annotations

import itertools
import math
import warnings

import awkward as ak
import fastjet
import numpy as np
import pytest
import uproot
from _fastjet_reference import fastjet_tau, flat_constituents

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.observables.dis import select_fiducial
from hepnnlr.observables.jets import (
    JetConfig,
    cluster_flat,
    cluster_flat_momenta,
    cluster_flat_particles,
    cluster_jets,
    cluster_jets_with_constituents,
    dphi_from_pi,
    nsubjettiness,
    per_jet_sequence,
    subjettiness,
)
from hepnnlr.observables.subjets import offsets_of

# double-precision agreement between two implementations of the same arithmetic
TIGHT = 1e-9


def _table(jets: ak.Array) -> ak.Array:
    """Plain records of the jets' pT, η, φ (vector's properties), τ1, τ2 and constituents."""
    return ak.zip(
        {
            "pt": jets.pt,
            "eta": jets.eta,
            "phi": jets.phi,
            "n_constituents": jets.n_constituents,
            "tau1": jets.nsubjettiness.tau1,
            "tau2": jets.nsubjettiness.tau2,
        }
    )


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
    for event, event_jets in zip(pythia_particles.tolist(), _table(jets).tolist(), strict=True):
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
    nsub = jets.nsubjettiness
    tau21 = nsub.tau21
    expected = ak.where(nsub.tau1 > 0, nsub.tau2 / ak.where(nsub.tau1 > 0, nsub.tau1, 1.0), 0.0)
    assert ak.all(tau21 == expected)


def test_cluster_flat_particles_is_cluster_jets_flat(pythia_particles) -> None:
    """The flat form gives cluster_jets' jets exactly (same arithmetic, no tolerance), and
    its constituent positions pick, from the flattened input, the particles that
    cluster_jets_with_constituents returns; also with a weight that zeroes some particles
    (they are no constituents) and with a None event (no jets)."""
    particles = ak.concatenate([pythia_particles, ak.Array([None])])
    weights = ak.where(ak.local_index(particles) % 5 == 0, 0.0, 0.9)
    for weight in (None, weights):
        records = cluster_jets(particles, weight=weight)
        flat = cluster_flat_particles(particles, weight=weight)
        assert flat.n_jets.tolist() == ak.num(records, axis=1).tolist()
        assert flat.n_jets[-1] == 0
        jets = ak.flatten(records, axis=1)
        for field in ("px", "py", "pz", "E", "n_constituents"):
            assert np.array_equal(flat.__dict__[field], ak.to_numpy(jets[field]))
        for field in ("tau1", "tau2", "tau21"):
            assert np.array_equal(flat.__dict__[field], ak.to_numpy(jets.nsubjettiness[field]))
        members = ak.flatten(cluster_jets_with_constituents(particles, weight=weight).constituents)
        inputs = ak.flatten(particles, axis=1)
        picked = ak.unflatten(inputs[flat.constituents], flat.n_constituents)
        assert ak.array_equal(picked, members)
        if weight is not None:
            zeroed = ak.to_numpy(ak.flatten(weight == 0.0))
            assert not zeroed[flat.constituents].any()
            assert zeroed.sum() > 0  # the test saw weighted-away particles


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
            assert ours[k].nsubjettiness.tau1 == pytest.approx(tau1, rel=TIGHT, abs=TIGHT)
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
            assert ours[k].nsubjettiness.tau2 >= best - TIGHT
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
    assert jet.nsubjettiness.tau1 == pytest.approx(a / radius, rel=1e-12)
    # each prong is exactly collinear: the two exclusive-kT axes sit on the prongs
    assert jet.nsubjettiness.tau2 == pytest.approx(0.0, abs=1e-12)
    assert jet.nsubjettiness.tau21 == pytest.approx(0.0, abs=1e-12)
    assert jet.pt == pytest.approx(12.0 * math.cos(a), rel=1e-12)
    assert jet.phi == pytest.approx(0.0, abs=1e-12)
    assert jet.n_constituents == 5


def test_unequal_prongs_tau1_exact() -> None:
    a, hard, soft = 0.25, 8.0, 4.0
    jets = cluster_jets(ak.Array([[_particle(hard, 0.0, a), _particle(soft, 0.0, -a)]]))
    axis_phi = math.atan2((hard - soft) * math.sin(a), (hard + soft) * math.cos(a))
    tau1 = (hard * abs(a - axis_phi) + soft * abs(a + axis_phi)) / (hard + soft)
    nsub = jets[0, 0].nsubjettiness
    assert nsub.tau1 == pytest.approx(tau1, rel=1e-12)
    assert nsub.tau2 == 0.0  # two constituents, two axes
    assert nsub.tau21 == 0.0


def test_single_particle_jet_has_zero_taus() -> None:
    jets = cluster_jets(ak.Array([[_particle(7.0, 1.0, 2.0)]]))
    assert jets[0, 0].n_constituents == 1
    assert jets[0, 0].nsubjettiness.tolist() == {"tau1": 0.0, "tau2": 0.0, "tau21": 0.0}


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
    assert ak.fields(jets) == ["px", "py", "pz", "E", "n_constituents", "nsubjettiness"]
    assert ak.fields(jets.nsubjettiness) == ["tau1", "tau2", "tau21"]


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
        ({"algorithm": "genkt"}, "p .*needed by"),
        ({"p": 1.0}, "p .*needed by"),
        ({"algorithm": "ee_kt"}, "n_jets .*or dcut"),
        ({"n_jets": 2, "dcut": 1.0}, "both given"),
        ({"algorithm": "antikt", "n_jets": 2}, "not meaningful"),
        ({"algorithm": "ee_genkt", "p": -1.0, "dcut": 4.0}, "not meaningful"),
        ({"n_jets": 0}, "n_jets must be"),
        ({"dcut": float("nan")}, "dcut must be"),
    ],
)
def test_jet_config_validation(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        JetConfig(**kwargs)


def test_missing_energy_field() -> None:
    with pytest.raises(MissingBranchError, match=r"no temporal coordinates.*E or mass"):
        cluster_jets(ak.Array([[{"pt": 6.0, "eta": 0.0, "phi": 0.0}]]))


def test_taus_equal_fastjet_contribs_nsubjettiness(pythia_particles) -> None:
    """τ1, τ2, τ3 of the kT R = 1.0 jets of Pythia DIS events against FastJet-contrib's
    ``Nsubjettiness`` (``KT_Axes``, ``NormalizedMeasure(β = 1, R0 = R)``, the ``fastjet``
    package's ``njettiness`` on the same per-jet lists) and against the NumPy reference.

    The axes are FastJet's in all three; the sums over constituents differ in order and
    in NumPy's against libm's log/atan2 (a few ulp per term): about 1e-15 relative, hence
    rtol 1e-12.
    """
    four, n_const = flat_constituents(cluster_jets_with_constituents(pythia_particles))
    assert len(n_const) >= 30 and n_const.max() >= 20  # real jets, with real clusterings
    contrib = per_jet_sequence(*four, n_const).njettiness(
        measure_definition="NormalizedMeasure",
        axes_definition="KT_Axes",
        njets=[1, 2, 3],
        beta=1.0,
        R0=1.0,
    )
    contrib = ak.to_numpy(contrib).reshape(len(n_const), 3)
    for n in (1, 2, 3):
        got = subjettiness(*four, n_const, 1.0, n)
        np.testing.assert_allclose(got, contrib[:, n - 1], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(got, fastjet_tau(four, n_const, 1.0, n), rtol=1e-12, atol=0)
        assert (got > 0).sum() >= 20
    tau1, tau2, tau21 = nsubjettiness(*four, n_const, 1.0)
    np.testing.assert_array_equal(tau1, subjettiness(*four, n_const, 1.0, 1))
    np.testing.assert_array_equal(tau2, subjettiness(*four, n_const, 1.0, 2))
    np.testing.assert_array_equal(tau21, np.where(tau1 > 0, tau2 / np.where(tau1 > 0, tau1, 1), 0))


def test_bad_inputs_of_the_flat_functions(pythia_particles) -> None:
    from hepnnlr.errors import ShapeMismatchError

    jets = cluster_jets_with_constituents(pythia_particles)
    four, n_const = flat_constituents(jets)
    alone = nsubjettiness(*four, n_const, 1.0)
    np.testing.assert_allclose(
        alone[0], ak.to_numpy(ak.flatten(jets.nsubjettiness.tau1)), rtol=TIGHT, atol=0
    )
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
            fastjet.PseudoJet(
                p["pt"] * math.cos(p["phi"]),
                p["pt"] * math.sin(p["phi"]),
                p["pt"] * math.sinh(p["eta"]),
                p["E"],
            )
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
    prongs = [
        _particle(3.0, 0.0, 0.3),
        _particle(1.0, 0.0, 0.3),
        _particle(4.0, 0.0, -0.3),
        _particle(2.0, 0.0, -0.3),
        _particle(5.0, 0.4, 0.0),
        _particle(1.0, 0.4, 0.0),
    ]
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
# exclusive jets and the e+e− algorithms
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def z_events() -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Particle counts and flat (px, py, pz, E) of 300 Pythia e+e− → Z → qq̄ events, plus
    two hand-made events with fewer particles than three exclusive jets."""
    from hepnnlr.samples.zjets import generate_zjets

    particles = generate_zjets(300, seed=7).GenPart
    counts = np.concatenate([ak.to_numpy(ak.num(particles)), [1, 0]]).astype(np.int64)
    pt, eta, phi, energy = (
        np.concatenate([ak.to_numpy(ak.flatten(particles[f])), [extra]]).astype(np.float64)
        for f, extra in (("pt", 3.0), ("eta", 0.5), ("phi", 1.0), ("E", 3.0 * math.cosh(0.5)))
    )
    return counts, (pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), energy)


def _fastjet_exclusive(counts, four, config: JetConfig, n: int | None):  # noqa: ANN001, ANN202
    """FastJet's own exclusive jets of every event: jets per event and sorted px."""
    events = ak.unflatten(ak.zip(dict(zip(("px", "py", "pz", "E"), four, strict=True))), counts)
    sequence = fastjet.ClusterSequence(events, config.jet_definition())
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="dcut and exclusive jets")
        jets = sequence.exclusive_jets(n_jets=-1, dcut=config.dcut) if n is None else None
        if n is not None:
            jets = sequence.exclusive_jets_up_to(n)
    return ak.to_numpy(ak.num(jets)), np.sort(ak.to_numpy(ak.flatten(jets.px)))


@pytest.mark.parametrize(
    "config",
    [
        JetConfig("ee_kt", pt_min=0.0, n_jets=3),
        JetConfig("ee_kt", pt_min=0.0, dcut=25.0),
        JetConfig("cambridge", 0.4, 0.0, n_jets=2),
        JetConfig("ee_genkt", 0.7, 0.0, p=1.0, n_jets=2),
    ],
    ids=["durham-3", "durham-dcut25", "ca-2", "ee_genkt-p1-2"],
)
def test_exclusive_jets_are_fastjets(z_events, config: JetConfig) -> None:
    """Jets per event and momenta as FastJet's ``exclusive_jets`` (``exclusive_jets_up_to``
    for events with fewer particles than ``n_jets``); no particle in two jets (and, with
    Durham, which has no beam distance, every particle in one), and each jet the E-scheme
    sum of its constituents."""
    counts, four = z_events
    jets = cluster_flat_momenta(counts, *four, config)
    n_ref, px_ref = _fastjet_exclusive(counts, four, config, config.n_jets)
    np.testing.assert_array_equal(jets.n_jets, n_ref)
    np.testing.assert_allclose(np.sort(jets.px), px_ref, rtol=0, atol=1e-12)
    assert len(np.unique(jets.constituents)) == len(jets.constituents)
    if config.algorithm == "ee_kt":
        assert sorted(jets.constituents.tolist()) == list(range(int(counts.sum())))
    starts = jets.constituent_offsets()[:-1]
    for component, name in zip(four, ("px", "py", "pz", "E"), strict=True):
        sums = np.add.reduceat(component[jets.constituents], starts)
        # E-scheme sums of up to ~60 momenta of O(45 GeV): round-off well below 1e-10 GeV
        np.testing.assert_allclose(sums, getattr(jets, name), rtol=0, atol=1e-10, err_msg=name)
    assert jets.n_jets[-2:].tolist() == [1, 0]  # one particle: one jet; none: none


def test_exclusive_jets_sorted_and_above_threshold(z_events) -> None:
    counts, four = z_events
    jets = cluster_flat_momenta(counts, *four, JetConfig("ee_kt", pt_min=10.0, n_jets=4))
    assert jets.pt.min() >= 10.0
    assert jets.n_jets.max() <= 4 and jets.n_jets.sum() < 4 * len(counts)  # some dropped
    first = np.repeat(offsets_of(jets.n_jets)[:-1], jets.n_jets)
    rank = np.arange(len(jets.pt)) - first
    assert np.all(jets.pt[rank > 0] <= jets.pt[np.flatnonzero(rank > 0) - 1])


def test_genkt_with_p_minus_one_is_antikt(z_events) -> None:
    counts, four = z_events
    genkt = cluster_flat_momenta(counts, *four, JetConfig("genkt", 0.4, 2.0, p=-1.0))
    antikt = cluster_flat_momenta(counts, *four, JetConfig("antikt", 0.4, 2.0))
    np.testing.assert_array_equal(genkt.n_jets, antikt.n_jets)
    np.testing.assert_array_equal(genkt.constituents, antikt.constituents)


def test_kt_threshold_is_fastjets_d_ib_test() -> None:
    """FastJet keeps a kT inclusive jet when its d_iB = (R² kt2)·(1/R²) >= pt_min², not
    perp2: at R = 0.15 a 3 GeV jet has (0.0225 · 9)/0.0225 < 9 in floating point, so
    FastJet drops it for kT at pt_min = 3, while anti-kT keeps it (hepnnlr applies no
    threshold of its own to inclusive jets)."""
    assert (0.15 * 0.15 * 9.0) * (1.0 / (0.15 * 0.15)) < 9.0
    one = [np.array([1]), np.array([3.0]), np.array([0.0]), np.array([0.0]), np.array([3.0])]
    for algorithm, expected in (("kt", 0), ("antikt", 1), ("cambridge", 1)):
        jets = cluster_flat(*one, JetConfig(algorithm, 0.15, 3.0), with_nsubjettiness=False)
        assert jets.n_jets.tolist() == [expected], algorithm
