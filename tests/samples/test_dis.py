"""Pythia DIS generation: content, reproducibility, setups and argument checking."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
from scipy import stats

from hepnnlr.errors import ConfigError
from hepnnlr.samples import DIS_SETUPS, DISSetup, electron_method, generate_dis


def _buffers(events: ak.Array) -> tuple[str, dict[str, np.ndarray]]:
    form, _, buffers = ak.to_buffers(ak.to_packed(events))
    return form.to_json(), buffers


def _assert_identical(a: ak.Array, b: ak.Array) -> None:
    form_a, buf_a = _buffers(a)
    form_b, buf_b = _buffers(b)
    assert form_a == form_b
    assert buf_a.keys() == buf_b.keys()
    for key in buf_a:
        assert buf_a[key].dtype == buf_b[key].dtype, key
        assert buf_a[key].tobytes() == buf_b[key].tobytes(), key


def test_layout_and_types(sim_gen: ak.Array) -> None:
    assert ak.fields(sim_gen) == [
        "event",
        "weight",
        "gen_Q2",
        "gen_x",
        "gen_y",
        "GenElectron",
        "GenPart",
    ]
    np.testing.assert_array_equal(sim_gen.event.to_numpy(), np.arange(2000, dtype=np.uint64))
    assert sim_gen.event.to_numpy().dtype == np.uint64
    part = ak.flatten(sim_gen.GenPart)
    assert ak.to_numpy(part.pdgId).dtype == np.int32
    assert ak.to_numpy(part.charge).dtype == np.int8
    assert ak.to_numpy(part.pt).dtype == np.float32
    np.testing.assert_array_equal(sim_gen.weight.to_numpy(), 1.0)  # unweighted generation


def test_one_scattered_electron_and_no_invisibles(sim_gen: ak.Array) -> None:
    # Neutral-current DIS: every event has its scattered electron.
    np.testing.assert_array_equal(ak.num(sim_gen.GenElectron).to_numpy(), 1)
    ids = np.abs(ak.to_numpy(ak.flatten(sim_gen.GenPart.pdgId)))
    assert not np.isin(ids, (12, 14, 16)).any()
    charges = ak.to_numpy(ak.flatten(sim_gen.GenPart.charge))
    assert set(np.unique(charges)) <= {-2, -1, 0, 1, 2}
    # A DIS final state at HERA: tens of particles, including the proton remnant.
    assert 20 < ak.mean(ak.num(sim_gen.GenPart)) < 50


def test_true_q2_above_generation_cut(sim_gen: ak.Array) -> None:
    q2 = sim_gen.gen_Q2.to_numpy()
    assert np.all(q2 > 100.0)
    x, y = sim_gen.gen_x.to_numpy(), sim_gen.gen_y.to_numpy()
    assert np.all((x > 0) & (x < 1) & (y > 0) & (y < 1))
    # Q² = 2 x y P·k exactly, and 2 P·k = 4 E_e E_p up to m_p²/(4 E_p²) ≈ 3e-7.
    np.testing.assert_allclose(q2, 4 * 27.6 * 920.0 * x * y, rtol=1e-6)


def test_electron_method_reproduces_truth(sim_gen: ak.Array) -> None:
    e = ak.firsts(sim_gen.GenElectron)
    kin = electron_method(ak.to_numpy(e.E), ak.to_numpy(e.eta))
    rel = np.abs(kin.Q2 / sim_gen.gen_Q2.to_numpy() - 1.0)
    exact = rel < 1e-6  # electron-mass terms are ~m_e²/(E'²(1+cos θ)) < 1e-7
    # QED radiation is off, so the electron carries the lepton-vertex momentum except
    # where ISR falls back to global recoil (~1% of events, 0.93% in 40k events): allow
    # up to 3%, i.e. 2% + 5 binomial sigma for 2,000 events.
    assert exact.mean() > 0.97
    assert np.max(rel[exact]) < 1e-7
    # y and x use the beam energies with massless beams: O(m_p²/s) ~ 1e-5.
    np.testing.assert_allclose(kin.y[exact], sim_gen.gen_y.to_numpy()[exact], rtol=3e-5)
    np.testing.assert_allclose(kin.x[exact], sim_gen.gen_x.to_numpy()[exact], rtol=3e-5)


def test_same_seed_is_identical() -> None:
    a = generate_dis(900, seed=5, setup="data", block_size=300)
    b = generate_dis(900, seed=5, setup="data", block_size=300)
    _assert_identical(a, b)


def test_output_independent_of_workers() -> None:
    one = generate_dis(1200, seed=11, setup="sim", block_size=300, workers=1)
    two = generate_dis(1200, seed=11, setup="sim", block_size=300, workers=2)
    _assert_identical(one, two)


def test_blocks_make_a_prefix() -> None:
    """Block b depends only on (seed, b): a shorter run is a prefix of a longer one."""
    long = generate_dis(700, seed=3, block_size=300)
    short = generate_dis(400, seed=3, block_size=300)
    _assert_identical(long[:400], short)


def test_different_seeds_differ() -> None:
    a = generate_dis(300, seed=1)
    b = generate_dis(300, seed=2)
    assert not np.array_equal(a.gen_Q2.to_numpy(), b.gen_Q2.to_numpy())
    # Different blocks of one run are seeded differently too.
    c = generate_dis(600, seed=1, block_size=300)
    assert not np.array_equal(c.gen_Q2.to_numpy()[:300], c.gen_Q2.to_numpy()[300:])


def _mean_fiducial_pt(events: ak.Array) -> np.ndarray:
    p = events.GenPart
    p = p[(p.pt > 0.1) & (p.eta > -1.5) & (p.eta < 2.75)]
    n = ak.to_numpy(ak.num(p))
    return (ak.to_numpy(ak.sum(p.pt, axis=1)) / np.maximum(n, 1))[n > 0]


def test_data_and_sim_setups_differ() -> None:
    """The setups differ in both sectors they change, beyond statistical doubt.

    Statistic: two Welch t statistics between 6,000 "sim" and 6,000 "data" events, one
    on ln x (PDF and factorisation scale) and one on the per-event mean pT of fiducial
    particles (FSR α_s and fragmentation), each event an independent draw. Under the
    hypothesis that the setups are the same each t is ~N(0, 1), so t_x² + t_pT² ~ χ²(2)
    and χ² > 25 has probability e^(−12.5) = 4e-6. The shifts measured on 40,000 events
    (ln x −0.17, mean pT +9%) predict |t| ≈ 5–6 each here, χ² ≈ 60, so the test has a
    wide margin; each |t| > 3 makes sure neither sector alone carries it.
    """
    sim = generate_dis(6000, seed=101, setup="sim")
    data = generate_dis(6000, seed=102, setup="data")
    t_x = stats.ttest_ind(
        np.log(sim.gen_x.to_numpy()), np.log(data.gen_x.to_numpy()), equal_var=False
    ).statistic
    t_pt = stats.ttest_ind(
        _mean_fiducial_pt(sim), _mean_fiducial_pt(data), equal_var=False
    ).statistic
    assert abs(t_x) > 3 and abs(t_pt) > 3
    assert t_x**2 + t_pt**2 > 25
    assert t_x > 0  # data sits at lower x (higher factorisation scale)
    assert t_pt < 0  # and has harder particles (harder fragmentation, less FSR)


def test_setups_registry() -> None:
    assert set(DIS_SETUPS) == {"sim", "data"}
    assert DIS_SETUPS["sim"].settings == ()
    assert any(s.startswith("PDF:pSet") for s in DIS_SETUPS["data"].settings)


@pytest.mark.parametrize(
    ("param", "match"),
    [
        ("Foo:barBaz = 1", "no setting called 'Foo:barBaz'"),
        ("TimeShower:alphaSvalue = 5", "TimeShower:alphaSvalue"),
        ("StringZ:aLund", "not of the form"),
        ("Random:seed = 3", "pass seed="),
        ("PhaseSpace:increaseMaximum = on", "number of workers"),
    ],
)
def test_rejected_param_names_it(param: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        generate_dis(10, seed=1, params=(param,))


def test_rejected_param_fails_before_workers_start() -> None:
    with pytest.raises(ConfigError, match="Foo:bar"):
        generate_dis(20, seed=1, params=("Foo:bar = 2",), workers=2, block_size=10)


def test_extra_param_is_applied() -> None:
    events = generate_dis(200, seed=4, params=("PhaseSpace:Q2Min = 400",))
    assert np.all(events.gen_Q2.to_numpy() > 400.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_events": 0}, "n_events must be at least 1"),
        ({"n_events": -5}, "n_events must be at least 1"),
        ({"n_events": 2.5}, "n_events must be an integer"),
        ({"workers": 0}, "workers must be at least 1"),
        ({"seed": -1}, "seed must be at least 0"),
        ({"setup": "djangoh"}, "unknown DIS setup 'djangoh'"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    args = {"n_events": 10, "seed": 1} | kwargs
    n = args.pop("n_events")
    with pytest.raises(ConfigError, match=match):
        generate_dis(n, **args)


def test_setup_validation() -> None:
    with pytest.raises(ConfigError, match="tuple"):
        DISSetup("x", ["PDF:pSet = 8"], "list, not tuple")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="not of the form"):
        DISSetup("x", ("PDF:pSet 8",), "no equals sign")
    custom = DISSetup("hardkt", ("BeamRemnants:primordialKThard = 2.5",), "custom")
    assert len(generate_dis(50, seed=1, setup=custom)) == 50
