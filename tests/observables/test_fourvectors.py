"""Tests of hepnnlr.observables.fourvectors: every representation, real CMS files, errors."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import vector
import vector.backends.awkward

from hepnnlr.errors import (
    ConfigError,
    MissingBranchError,
    NonFiniteInputError,
    ShapeMismatchError,
)
from hepnnlr.observables.fourvectors import FlatMomenta, flat_momenta, momentum4d

DATA = Path("/work/shared/data")
EPS64 = np.finfo(np.float64).eps
EPS32 = float(np.finfo(np.float32).eps)
# float64 round trip truth (px, py, pz, m) -> (pt, η, φ, E, θ …) -> flat_momenta: each
# coordinate passes through ≤ 8 rounded operations, and sinh / cos amplify the rounding of η
# and φ by ≈ |η| ≤ 4 and |φ| ≤ π: ≲ 30 ulp of max(E, |p|); 64 ulp is the module's own bound.
ROUND_TRIP_ULPS = 64


def _scale(m: FlatMomenta) -> np.ndarray:
    return np.maximum(m.E, np.sqrt(m.px**2 + m.py**2 + m.pz**2))


def assert_same_momenta(got: FlatMomenta, want: FlatMomenta, ulps: float, eps: float) -> None:
    np.testing.assert_array_equal(got.counts, want.counts)
    np.testing.assert_array_equal(got.offsets, want.offsets)
    tolerance = ulps * eps * _scale(want)
    for name in ("px", "py", "pz", "E"):
        difference = np.abs(getattr(got, name) - getattr(want, name))
        assert (difference <= tolerance).all(), (name, float(np.max(difference / tolerance)))


@pytest.fixture(scope="module")
def truth() -> dict[str, np.ndarray]:
    """Random four-vectors (float64), 40 events of 0–12 particles, a third of them massless."""
    rng = np.random.default_rng(14)
    counts = rng.integers(0, 13, size=40)
    counts[[3, 17]] = 0
    n = int(counts.sum())
    pt = rng.exponential(20.0, n) + 0.5
    eta = rng.uniform(-4.0, 4.0, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    mass = np.where(rng.random(n) < 1 / 3, 0.0, rng.uniform(0.0, 5.0, n))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    energy = np.hypot(np.hypot(pt, pz), mass)
    theta = np.arctan2(pt, pz)
    return dict(
        counts=counts,
        pt=pt,
        eta=eta,
        phi=phi,
        mass=mass,
        px=px,
        py=py,
        pz=pz,
        E=energy,
        theta=theta,
    )


def _build(truth: dict, spec: dict, *, with_vector: bool = False) -> ak.Array:
    """Records whose fields are ``spec``'s keys, filled with the ``truth`` columns named by its
    values; a dict value makes a nested record (EDM4hep's ``momentum``)."""

    def column(value):
        if isinstance(value, dict):
            return ak.zip({k: column(v) for k, v in value.items()})
        return truth[value]

    columns = {name: column(value) for name, value in spec.items()}
    if with_vector:
        return vector.zip({k: ak.unflatten(v, truth["counts"]) for k, v in columns.items()})
    return ak.unflatten(ak.zip(columns, depth_limit=1), truth["counts"])


EVERYTHING = ("px", "py", "pz", "E", "pt", "eta", "phi", "mass", "theta")
POSITION = {"x": "eta", "y": "phi", "z": "pt"}  # an unrelated nested 3-vector
RECORDS = {
    "nanoaod pt eta phi mass": {"pt": "pt", "eta": "eta", "phi": "phi", "mass": "mass"},
    "cartesian px py pz E": {"px": "px", "py": "py", "pz": "pz", "E": "E"},
    "coffea EDM4HEPSchema px py pz mass": {
        "px": "px", "py": "py", "pz": "pz", "mass": "mass", "referencePoint": POSITION,
    },
    "edm4hep nested momentum, energy and mass": {
        "momentum": {"x": "px", "y": "py", "z": "pz"}, "energy": "E", "mass": "mass",
        "referencePoint": POSITION,
    },
    "edm4hep dotted names": {
        "momentum.x": "px", "momentum.y": "py", "momentum.z": "pz", "energy": "E",
    },
    "pt phi theta E": {"pt": "pt", "phi": "phi", "theta": "theta", "E": "E"},
    "pt eta phi E and mass": {"pt": "pt", "eta": "eta", "phi": "phi", "E": "E", "mass": "mass"},
    "every field at once": {name: name for name in EVERYTHING},
}  # fmt: skip
VECTORS = {
    "vector pt eta phi M": {"pt": "pt", "eta": "eta", "phi": "phi", "M": "mass"},
    "vector x y z t": {"x": "px", "y": "py", "z": "pz", "t": "E"},
    "vector rho phi eta tau": {"rho": "pt", "phi": "phi", "eta": "eta", "tau": "mass"},
    "vector px py pz energy": {"px": "px", "py": "py", "pz": "pz", "energy": "E"},
    "vector pt phi theta e": {"pt": "pt", "phi": "phi", "theta": "theta", "e": "E"},
    "vector mixed px py z t": {"px": "px", "py": "py", "z": "pz", "t": "E"},
}
REPRESENTATIONS = {
    **{name: lambda t, spec=spec: _build(t, spec) for name, spec in RECORDS.items()},
    **{
        name: lambda t, spec=spec: _build(t, spec, with_vector=True)
        for name, spec in VECTORS.items()
    },
}


@pytest.mark.parametrize("representation", list(REPRESENTATIONS))
def test_every_representation_gives_the_hepnnlr_momenta(truth, representation):
    hepnnlr = flat_momenta(_build(truth, {"pt": "pt", "eta": "eta", "phi": "phi", "E": "E"}))
    exact = FlatMomenta(
        hepnnlr.counts, hepnnlr.offsets, truth["px"], truth["py"], truth["pz"], truth["E"]
    )
    assert_same_momenta(hepnnlr, exact, ROUND_TRIP_ULPS, EPS64)
    got = flat_momenta(REPRESENTATIONS[representation](truth))
    assert_same_momenta(got, hepnnlr, ROUND_TRIP_ULPS, EPS64)
    assert got.px.dtype == np.float64 and got.counts.dtype == np.int64


def test_vector_records_agree_with_vectors_own_conversion(truth):
    particles = REPRESENTATIONS["vector pt eta phi M"](truth)
    got = flat_momenta(particles)
    assert got.fields == ("rho", "phi", "eta", "tau")  # vector.zip stores the generic names
    for name, attribute in (("px", "px"), ("py", "py"), ("pz", "pz"), ("E", "E")):
        want = ak.to_numpy(ak.flatten(getattr(particles, attribute)))
        # the same formulas in the same float64 operations, up to hypot vs sqrt of a sum
        np.testing.assert_allclose(getattr(got, name), want, rtol=8 * EPS64, atol=0)


def test_float32_edm4hep_with_energy_and_mass_passes_the_consistency_check(truth):
    """EDM4hep stores float32 momentum, energy and mass rounded one by one: consistent."""
    f32 = {k: truth[k].astype(np.float32) for k in ("px", "py", "pz", "E", "mass")}
    spec = {"momentum": {"x": "px", "y": "py", "z": "pz"}, "energy": "E", "mass": "mass"}
    particles = _build(dict(f32, counts=truth["counts"]), spec)
    got = flat_momenta(particles, what="ReconstructedParticles")
    assert got.fields == ("momentum.x", "momentum.y", "momentum.z", "energy")
    np.testing.assert_array_equal(got.E, f32["E"].astype(np.float64))  # read, not recomputed
    np.testing.assert_array_equal(got.px, f32["px"].astype(np.float64))


def test_generic_names_are_ignored_next_to_a_complete_momentum_representation(truth):
    """NanoAOD's SV has a position x, y, z next to pt, eta, phi, mass."""
    spec = {"x": "eta", "y": "phi", "z": "pt", "t": "px"}  # not a four-momentum
    particles = _build(truth, {**spec, "pt": "pt", "eta": "eta", "phi": "phi", "mass": "mass"})
    got = flat_momenta(particles)
    assert got.fields == ("pt", "phi", "eta", "mass")
    np.testing.assert_allclose(got.E, truth["E"], rtol=ROUND_TRIP_ULPS * EPS64)


def test_negative_mass_is_space_like_as_in_vector():
    records = ak.Array(
        [
            [
                {"px": 3.0, "py": 0.0, "pz": 4.0, "mass": -3.0},
                {"px": 3.0, "py": 0.0, "pz": 4.0, "mass": -6.0},
            ]
        ]
    )
    got = flat_momenta(records)
    np.testing.assert_allclose(got.E, [4.0, 0.0], rtol=4 * EPS64, atol=0)  # √(25 − 9), max(0, ·)
    vec = vector.Array(records)
    np.testing.assert_allclose(got.E, ak.to_numpy(ak.flatten(vec.E)), rtol=4 * EPS64, atol=0)


def test_none_and_empty_events_are_empty():
    records = ak.Array([[{"pt": 1.0, "eta": 0.0, "phi": 0.0, "E": 2.0}], None, []])
    got = flat_momenta(records)
    np.testing.assert_array_equal(got.counts, [1, 0, 0])
    np.testing.assert_array_equal(got.offsets, [0, 1, 1, 1])
    assert got.n_events == 3 and got.n_particles == 1
    empty = flat_momenta(records[:0])
    assert empty.n_events == 0 and empty.offsets.tolist() == [0] and len(empty.px) == 0


def test_weight_scales_the_four_momentum_and_leaves_the_input_alone(truth):
    rng = np.random.default_rng(3)
    w = rng.uniform(0.0, 1.0, int(truth["counts"].sum()))
    w[:3] = 0.0
    cartesian = {"px": "px", "py": "py", "pz": "pz", "E": "E", "puppiWeight": "w"}
    particles = _build(dict(truth, w=w), cartesian)
    before = ak.to_numpy(ak.flatten(particles.px)).copy()
    unweighted = flat_momenta(particles)
    by_name = flat_momenta(particles, weight="puppiWeight")
    by_array = flat_momenta(particles, weight=ak.unflatten(w, truth["counts"]))
    for name in ("px", "py", "pz", "E"):
        np.testing.assert_array_equal(getattr(by_name, name), getattr(unweighted, name) * w)
        np.testing.assert_array_equal(getattr(by_array, name), getattr(by_name, name))
    np.testing.assert_array_equal(ak.to_numpy(ak.flatten(particles.px)), before)
    np.testing.assert_array_equal(unweighted.px, before)


# ---------------------------------------------------------------- the real CMS files


def _events(name: str, schema: str, mode: str = "eager"):
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{path} is not there")
    from coffea import nanoevents

    with warnings.catch_warnings():  # coffea's notes about cross-references in these files
        warnings.simplefilter("ignore", RuntimeWarning)
        return nanoevents.NanoEventsFactory.from_root(
            {str(path): "Events"}, schemaclass=getattr(nanoevents, schema), mode=mode
        ).events()


@pytest.fixture(scope="module")
def pfnano():
    return _events("pfnano.root", "PFNanoAODSchema")


def _coffea_flat(collection, attribute: str) -> np.ndarray:
    return ak.to_numpy(ak.flatten(getattr(collection, attribute))).astype(np.float64)


def test_cms_pfcands_with_puppi_weights_match_coffea(pfnano):
    pf = pfnano.PFCands
    got = flat_momenta(pf, weight="puppiWeight", what="PFCands")
    assert got.fields == ("pt", "phi", "eta", "mass")
    np.testing.assert_array_equal(got.counts, ak.to_numpy(ak.num(pf)))
    w = _coffea_flat(pf, "puppiWeight")
    energy = _coffea_flat(pf, "energy")
    # coffea (vector) computes px … E in float32 from the float32 fields, a handful of
    # roundings (measured ≤ 2.2 ulp of E); hepnnlr in float64: allow 8 float32 ulp of E
    tolerance = 8 * EPS32 * energy * w
    for name, attribute in (("px", "px"), ("py", "py"), ("pz", "pz"), ("E", "energy")):
        want = _coffea_flat(pf, attribute) * w
        assert (np.abs(getattr(got, name) - want) <= tolerance).all(), name
    assert (got.E[w == 0] == 0).all() and (w == 0).any()
    keep = _coffea_flat(pf, "pt") > 5  # a selection: lists over non-contiguous content
    np.testing.assert_array_equal(flat_momenta(pf[pf.pt > 5]).E, flat_momenta(pf).E[keep])


def test_cms_virtual_arrays_give_the_eager_result(pfnano):
    eager = flat_momenta(pfnano.PFCands, weight="puppiWeight")
    virtual = flat_momenta(
        _events("pfnano.root", "PFNanoAODSchema", mode="virtual").PFCands, weight="puppiWeight"
    )
    for name in ("counts", "px", "py", "pz", "E"):
        np.testing.assert_array_equal(getattr(virtual, name), getattr(eager, name))


def test_cms_momentum4d_interoperates_with_coffea_candidates(pfnano):
    pf = pfnano.PFCands
    flat = flat_momenta(pf)
    particles = momentum4d({"px": flat.px, "py": flat.py, "pz": flat.pz, "E": flat.E}, flat.offsets)
    # same particles: η, φ recomputed in float64 from px, py, pz of the stored float32 η, φ,
    # a few float64 ulp times |η|, |φ| ≲ 5 (measured: 2 ulp)
    assert float(ak.max(particles.deltaR(pf))) < 16 * 5 * EPS64
    np.testing.assert_allclose(
        ak.to_numpy(ak.flatten(particles.pt)), _coffea_flat(pf, "pt"), rtol=4 * EPS32
    )


def test_cms_secondary_vertices_are_read_from_pt_eta_phi_mass_not_the_position():
    sv = _events("nano_dy.root", "NanoAODSchema").SV
    assert {"x", "y", "z"} <= set(sv.fields)
    got = flat_momenta(sv, what="SV")
    assert got.fields == ("pt", "phi", "eta", "mass")
    # SV records carry no Lorentz behaviour in coffea: vector on the float32 fields instead
    want = vector.zip({"pt": sv.pt, "eta": sv.eta, "phi": sv.phi, "mass": sv.mass})
    energy = _coffea_flat(want, "E")
    for name in ("px", "pz", "E"):
        assert (np.abs(getattr(got, name) - _coffea_flat(want, name)) <= 8 * EPS32 * energy).all()


def test_cms_collection_without_a_four_momentum_is_named(pfnano):
    with pytest.raises(MissingBranchError, match="FatJetPFCands") as error:
        flat_momenta(pfnano.FatJetPFCands, what="FatJetPFCands")
    message = str(error.value)
    assert "'pt'" in message and "'pFCandsIdx'" in message and "longitudinal" in message
    assert "pt, eta, phi, mass" in message


def test_cms_missing_weight_field_is_named_with_the_available_ones(pfnano):
    with pytest.raises(MissingBranchError, match="'puppiweight'") as error:
        flat_momenta(pfnano.PFCands, weight="puppiweight", what="PFCands")
    assert "PFCands" in str(error.value) and "'puppiWeight'" in str(error.value)


# ---------------------------------------------------------------- errors


def _events_of(*events: list[dict]) -> ak.Array:
    return ak.Array(list(events))


GOOD = {"pt": 10.0, "eta": 0.5, "phi": 1.0, "E": 12.0}


@pytest.mark.parametrize(
    ("bad", "names"),
    [
        ({"px": 3.0, "py": 4.0, "pz": 1.0, "E": 9.0, "pt": 5.0, "phi": 0.0}, ["pt, phi", "px, py"]),
        ({"pt": 10.0, "eta": 0.5, "phi": 1.0, "E": 12.0, "mass": 3.0}, ["(mass)", "E"]),
        ({"pt": 10.0, "eta": 0.5, "phi": 1.0, "E": 12.0, "energy": 12.5}, ["(energy)", "E"]),
        ({"pt": 10.0, "eta": 0.5, "phi": 1.0, "E": 12.0, "pz": 1.0}, ["(eta)", "pz"]),
    ],
    ids=["px vs pt", "E vs mass", "E vs energy", "eta vs pz"],
)
def test_two_representations_that_disagree_are_named(bad, names):
    particles = _events_of([], [_consistent(bad)], [bad])
    with pytest.raises(ConfigError, match="Jets") as error:
        flat_momenta(particles, what="Jets")
    message = str(error.value)
    assert "first in event 2" in message, message
    for name in names:
        assert name in message, (name, message)


def _consistent(record: dict) -> dict:
    """The same fields with values that agree, so only event 2 disagrees."""
    pt, eta, phi = 10.0, 0.5, 1.0
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    values = dict(
        pt=pt,
        eta=eta,
        phi=phi,
        px=px,
        py=py,
        pz=pz,
        E=12.0,
        energy=12.0,
        mass=float(np.sqrt(12.0**2 - pt**2 - pz**2)),
    )
    return {k: values[k] for k in record}


@pytest.mark.parametrize(
    ("field", "value", "kind"), [("eta", np.nan, "NaN"), ("pt", np.inf, "infinite")]
)
def test_non_finite_coordinate_is_named_with_its_event(field, value, kind):
    particles = _events_of([GOOD], [GOOD, dict(GOOD, **{field: value})])
    with pytest.raises(NonFiniteInputError, match=f"'{field}'") as error:
        flat_momenta(particles, what="GenPart")
    assert "event 1" in str(error.value) and kind in str(error.value)
    assert "GenPart" in str(error.value)


def test_overflowing_conversion_is_named():
    with pytest.raises(NonFiniteInputError, match="pz computed from"):
        flat_momenta(_events_of([dict(GOOD, eta=800.0)]))


def test_missing_particle_value_is_named():
    particles = ak.Array([[GOOD], [GOOD, dict(GOOD, pt=None)]])
    with pytest.raises(NonFiniteInputError, match="'pt' is missing") as error:
        flat_momenta(particles)
    assert "event 1" in str(error.value)


@pytest.mark.parametrize(
    "particles",
    [ak.Array([GOOD, GOOD]), ak.Array([[[GOOD]], [[GOOD, GOOD]]])],
    ids=["flat list", "one level too many"],
)
def test_wrong_depth_is_refused(particles):
    with pytest.raises(ShapeMismatchError, match="events × particles"):
        flat_momenta(particles)


def test_plain_numbers_and_list_valued_fields_are_refused():
    with pytest.raises(MissingBranchError, match="named fields"):
        flat_momenta(ak.Array([[1.0, 2.0]]))
    with pytest.raises(ShapeMismatchError, match="'eta'"):
        flat_momenta(ak.Array([[dict(GOOD, eta=[0.1, 0.2])]]))


def test_bad_weights_are_named():
    particles = _events_of([GOOD], [GOOD, GOOD])
    with pytest.raises(ShapeMismatchError, match="event 1 has 1 weights for 2 particles"):
        flat_momenta(particles, weight=ak.Array([[1.0], [1.0]]))
    with pytest.raises(ShapeMismatchError, match="one weight per particle"):
        flat_momenta(particles, weight=np.ones(3))
    with pytest.raises(ConfigError, match="negative .* in event 1"):
        flat_momenta(particles, weight=ak.Array([[1.0], [0.5, -0.1]]))
    with pytest.raises(NonFiniteInputError, match="weight.*event 1"):
        flat_momenta(particles, weight=ak.Array([[1.0], [np.nan, 1.0]]))


# ---------------------------------------------------------------- momentum4d


def _jets(truth: dict, **extra) -> ak.Array:
    offsets = np.concatenate([[0], np.cumsum(truth["counts"])])
    return momentum4d(
        {"px": truth["px"], "py": truth["py"], "pz": truth["pz"], "E": truth["E"], **extra}, offsets
    )


def test_momentum4d_records_have_vectors_behaviour(truth):
    n = int(truth["counts"].sum())
    jets = _jets(truth, n_constituents=np.arange(n), tau21=np.linspace(0, 1, n))
    assert jets.layout.content.parameter("__record__") == "Momentum4D"
    assert isinstance(jets, vector.backends.awkward.MomentumArray4D)
    assert ak.fields(jets) == ["px", "py", "pz", "E", "n_constituents", "tau21"]
    flat = {name: ak.to_numpy(ak.flatten(getattr(jets, name))) for name in ("pt", "eta", "phi")}
    # vector's float64 arithmetic on float64 truth: a few ulp; η and φ are bounded by 4
    np.testing.assert_allclose(flat["pt"], truth["pt"], rtol=ROUND_TRIP_ULPS * EPS64)
    for name in ("eta", "phi"):
        np.testing.assert_allclose(flat[name], truth[name], atol=4 * ROUND_TRIP_ULPS * EPS64)
    # m = √(E² − p²) cancels: compare m|m| with m², to round-off of E²
    mass = ak.to_numpy(ak.flatten(jets.mass))
    assert (
        np.abs(mass * np.abs(mass) - truth["mass"] ** 2)
        <= ROUND_TRIP_ULPS * EPS64 * truth["E"] ** 2
    ).all()
    np.testing.assert_array_equal(ak.to_numpy(ak.flatten(jets.n_constituents)), np.arange(n))
    two = jets[ak.num(jets) >= 2]
    first, second = two[:, 0], two[:, 1]
    d_phi = (first.phi - second.phi + np.pi) % (2 * np.pi) - np.pi
    want = np.sqrt((first.eta - second.eta) ** 2 + d_phi**2)
    np.testing.assert_allclose(ak.to_numpy(first.deltaR(second)), ak.to_numpy(want), rtol=1e-12)
    offsets = np.concatenate([[0], np.cumsum(truth["counts"])])
    rest = momentum4d(
        {"px": -truth["px"], "py": -truth["py"], "pz": -truth["pz"], "E": truth["E"]}, offsets
    )
    boosted = jets.boost_p4(rest)  # each vector into its own rest frame: p = 0, E = m
    # E' = γ(E − β·p) cancels: round-off γ·E·ulp = E²/m·ulp
    massive = truth["mass"] > 0
    e_rest, m = ak.to_numpy(ak.flatten(boosted.E))[massive], truth["mass"][massive]
    assert (np.abs(e_rest - m) <= ROUND_TRIP_ULPS * EPS64 * truth["E"][massive] ** 2 / m).all()


def test_momentum4d_round_trips_through_flat_momenta(truth):
    jets = _jets(truth, n_constituents=np.ones(int(truth["counts"].sum()), dtype=np.int64))
    back = flat_momenta(jets, what="jets")
    assert back.fields == ("px", "py", "pz", "E")
    for name in ("px", "py", "pz", "E"):
        np.testing.assert_array_equal(getattr(back, name), truth[name])


def test_momentum4d_takes_awkward_extra_fields(truth):
    n = int(truth["counts"].sum())
    constituents = ak.unflatten(np.arange(2 * n), np.full(n, 2))
    jets = _jets(truth, constituents=constituents)
    assert jets.constituents.ndim == 3
    assert ak.to_list(ak.flatten(jets.constituents, axis=1)[0]) == [0, 1]


def test_vector_refuses_two_representations_in_one_record():
    """Why momentum4d stores px, py, pz, E only (pt, eta, phi, mass are properties)."""
    both = ak.Array([[{"px": 1.0, "py": 0.0, "pz": 0.0, "E": 2.0, "pt": 1.0, "phi": 0.0}]])
    with pytest.raises(TypeError):
        ak.with_name(both, "Momentum4D", behavior=vector.backends.awkward.behavior)


@pytest.mark.parametrize("name", ["pt", "mass", "tau2", "rapidity"])
def test_momentum4d_refuses_extra_fields_that_vector_reads_or_hides(truth, name):
    with pytest.raises(ConfigError, match=f"'{name}'"):
        _jets(truth, **{name: np.zeros(int(truth["counts"].sum()))})


def test_momentum4d_input_errors_are_named(truth):
    n = int(truth["counts"].sum())
    offsets = np.concatenate([[0], np.cumsum(truth["counts"])])
    with pytest.raises(MissingBranchError, match=r"\['E'\]"):
        momentum4d({"px": truth["px"], "py": truth["py"], "pz": truth["pz"]}, offsets)
    with pytest.raises(ShapeMismatchError, match="'n_constituents' has 3 entries"):
        _jets(truth, n_constituents=np.zeros(3))
    with pytest.raises(ShapeMismatchError, match="offsets"):
        momentum4d({c: truth[c] for c in ("px", "py", "pz", "E")}, offsets[::-1])
    energy = truth["E"].copy()
    energy[n - 1] = np.nan
    with pytest.raises(NonFiniteInputError, match="'E'"):
        momentum4d({"px": truth["px"], "py": truth["py"], "pz": truth["pz"], "E": energy}, offsets)


def test_no_global_awkward_behaviour_is_registered():
    code = (
        "import awkward as ak; before = set(ak.behavior); "
        "import hepnnlr.observables.fourvectors as f, numpy as np; "
        "f.momentum4d({c: np.ones(1) for c in ('px', 'py', 'pz', 'E')}, np.array([0, 1])); "
        "assert set(ak.behavior) == before, set(ak.behavior) - before"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
