"""e+e− → Z → light-quark generation (:mod:`hepnnlr.samples.zjets`) on real Pythia events."""

from __future__ import annotations

import dataclasses
import math

import awkward as ak
import numpy as np
import pytest
import uproot

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.samples.detector import DetectorConfig, reconstruct_particles
from hepnnlr.samples.zjets import (
    LEP_DETECTOR,
    ZJETS_BRANCHES,
    ZJetsTheta,
    generate_zjets,
    make_zjets_sample,
    read_zjets_events,
)

N_EVENTS = 600
BLOCK = 200


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("zjets") / "z.root"
    return make_zjets_sample(path, n_events=N_EVENTS, seed=11, progress=False, block_size=BLOCK)


@pytest.fixture(scope="module")
def events(sample_file) -> ak.Array:
    return read_zjets_events(sample_file)


def test_file_layout(sample_file, events) -> None:
    with uproot.open(sample_file) as file:
        tree = file["events"]
        assert set(ZJETS_BRANCHES) <= set(tree.keys())
        arrays = tree.arrays(["event", "GenPart_pt", "RecoPart_pdgId", "theta_aLund"])
    assert arrays.event.type.content.primitive == "uint64"
    assert ak.type(arrays.GenPart_pt).content.content.primitive == "float32"
    assert ak.type(arrays.RecoPart_pdgId).content.content.primitive == "int32"
    assert arrays.theta_aLund.type.content.primitive == "float64"
    assert len(events) == N_EVENTS
    assert ak.all(events.event == np.arange(N_EVENTS))
    assert ak.all(events.weight == 1.0)
    theta = ZJetsTheta()
    assert ak.all(events.theta_alphaS == theta.alphaS)
    assert ak.all(events.theta_aLund == theta.aLund)
    assert ak.all(events.theta_probStoUD == theta.probStoUD)
    assert ak.all(events.pass_gen == (ak.num(events.GenPart) > 0))
    assert ak.all(events.pass_reco == (ak.num(events.RecoPart) > 0))


def test_gen_particles_are_a_hadronic_z_decay(events) -> None:
    gen = events.GenPart
    pid = np.abs(ak.to_numpy(ak.flatten(gen.pdgId)))
    assert not np.isin(pid, (12, 14, 16)).any()
    # cτ > 10 mm is stable: K0S and Λ reach the final state, π0 does not
    assert (pid == 310).any() and (pid == 3122).any() and not (pid == 111).any()
    # total visible energy is √s up to neutrinos from heavy-flavour-free decays (rare)
    visible = ak.to_numpy(ak.sum(ak.values_astype(gen.E, np.float64), axis=1))
    assert np.median(visible) == pytest.approx(91.19, rel=1e-4)
    assert np.all(visible <= 91.19 * (1 + 1e-5))
    # charge conservation: the final state is neutral (float32 storage is exact for ints)
    assert ak.all(ak.sum(gen.charge, axis=1) == 0)
    # a Z -> qq event has tens of particles (Pythia at LEP: ~20 charged, ~40 in total)
    assert 30 < ak.mean(ak.num(gen)) < 50


def test_reco_follows_the_lep_detector(events) -> None:
    reco = events.RecoPart
    eta = ak.to_numpy(ak.flatten(reco.eta))
    pt = ak.to_numpy(ak.flatten(reco.pt))
    assert np.all(np.abs(eta) < LEP_DETECTOR.eta_max)
    assert np.all(pt > LEP_DETECTOR.pt_min)
    codes = set(np.abs(ak.to_numpy(ak.flatten(reco.pdgId))).tolist())
    assert codes <= {211, 22, 130, 11, 13}
    assert ak.all(ak.num(reco) <= ak.num(events.GenPart))
    assert ak.mean(ak.num(reco)) < 0.9 * ak.mean(ak.num(events.GenPart))


def test_reproducible_and_independent_of_workers(events, tmp_path) -> None:
    again = make_zjets_sample(
        tmp_path / "z2.root",
        n_events=N_EVENTS,
        seed=11,
        progress=False,
        block_size=BLOCK,
        workers=2,
    )
    assert ak.array_equal(read_zjets_events(again), events)
    other = generate_zjets(BLOCK, seed=12, block_size=BLOCK)
    assert not ak.array_equal(other.GenPart, events.GenPart[:BLOCK])


def test_theta_ranges_draw_one_theta_per_block() -> None:
    ranges = {"alphaS": (0.10, 0.16), "probStoUD": (0.15, 0.30)}
    kwargs = dict(seed=5, theta=ZJetsTheta(aLund=0.8), theta_ranges=ranges, block_size=50)
    gen = generate_zjets(200, **kwargs)
    alpha = ak.to_numpy(gen.theta_alphaS).reshape(4, 50)
    strange = ak.to_numpy(gen.theta_probStoUD).reshape(4, 50)
    assert np.all(alpha == alpha[:, :1]) and np.all(strange == strange[:, :1])
    assert len(np.unique(alpha[:, 0])) == 4 and len(np.unique(strange[:, 0])) == 4
    assert np.all((alpha >= 0.10) & (alpha <= 0.16))
    assert np.all((strange >= 0.15) & (strange <= 0.30))
    assert ak.all(gen.theta_aLund == 0.8)
    # the block of a parameterised run equals a fixed-θ run of that block's θ and seed
    assert ak.array_equal(generate_zjets(200, workers=2, **kwargs), gen)


def _welch_t(low: np.ndarray, high: np.ndarray) -> float:
    """Welch's t = (⟨high⟩ − ⟨low⟩) / √(s_low²/n_low + s_high²/n_high)."""
    return (high.mean() - low.mean()) / math.sqrt(
        low.var(ddof=1) / low.size + high.var(ddof=1) / high.size
    )


def test_alpha_s_changes_multiplicity() -> None:
    """Final-state α_s 0.10 vs 0.16 (the paper's scan range): more radiation, more hadrons.

    Test statistic: Welch's t = Δ⟨n⟩ / √(s1²/n1 + s2²/n2) of the per-event particle
    multiplicity, required above 5 (a 5σ difference). With 500 events each the shift
    (⟨n⟩ ≈ 32 → 44, σ(n) ≈ 10) gives t ≈ 17.
    """
    counts = {
        alpha: ak.to_numpy(
            ak.num(generate_zjets(500, seed=21, theta=ZJetsTheta(alphaS=alpha)).GenPart)
        ).astype(float)
        for alpha in (0.10, 0.16)
    }
    assert _welch_t(counts[0.10], counts[0.16]) > 5.0


def test_probstoud_changes_strange_hadron_count_only() -> None:
    """StringFlav:probStoUD 0.15 vs 0.35: many more strange hadrons, multiplicity ~kept.

    Test statistic: Welch's t of the per-event number of strange hadrons (by |PDG id|,
    as hepnnlr.observables.substructure counts them), required above 5 (measured ~11).
    The parameter acts on a narrow region of phase space (Sec. III B of the SRGN paper):
    the relative shift of the strange count (~+65%) must exceed five times that of the
    total multiplicity (~−7%: heavier strange hadrons, fewer decay products).
    """
    from hepnnlr.observables.substructure import count_strange

    strange, total = {}, {}
    for value in (0.15, 0.35):
        gen = generate_zjets(500, seed=22, theta=ZJetsTheta(probStoUD=value)).GenPart
        strange[value] = ak.to_numpy(count_strange(gen.pdgId)).astype(float)
        total[value] = ak.to_numpy(ak.num(gen)).astype(float)
    assert _welch_t(strange[0.15], strange[0.35]) > 5.0
    strange_shift = strange[0.35].mean() / strange[0.15].mean() - 1.0
    total_shift = total[0.35].mean() / total[0.15].mean() - 1.0
    assert strange_shift > 5.0 * abs(total_shift)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alphaS": 0.5}, "alphaS"),
        ({"aLund": -0.1}, "aLund"),
        ({"probStoUD": math.nan}, "probStoUD"),
        ({"alphaS": "0.1"}, "must be a number"),
    ],
)
def test_theta_is_validated(kwargs, match) -> None:
    with pytest.raises(ConfigError, match=match):
        ZJetsTheta(**kwargs)


def test_theta_settings() -> None:
    assert ZJetsTheta().settings() == (
        "TimeShower:alphaSvalue = 0.1365",
        "StringZ:aLund = 0.68",
        "StringFlav:probStoUD = 0.217",
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"theta_ranges": {"alphaT": (0.1, 0.2)}}, "unknown parameter 'alphaT'"),
        ({"theta_ranges": {"alphaS": (0.2, 0.1)}}, "low < high"),
        ({"theta_ranges": {"alphaS": (0.01, 0.1)}}, "low < high"),
        ({"params": ["TimeShower:alphaSvalue = 0.12"]}, "theta=ZJetsTheta"),
        ({"params": ["Random:seed = 3"]}, "seed="),
        ({"params": ["NoSuch:thing = 3"]}, "no setting called"),
        ({"theta": 0.12}, "must be a ZJetsTheta"),
        ({"workers": 0}, "workers"),
    ],
)
def test_bad_arguments(kwargs, match) -> None:
    with pytest.raises(ConfigError, match=match):
        generate_zjets(10, seed=1, **kwargs)


def test_reconstruct_particles_perfect_detector_is_identity(events) -> None:
    gen = events.GenPart[:50]
    config = DetectorConfig.perfect(acceptance=False)
    reco = reconstruct_particles(gen, dataclasses.replace(config, pt_min=0.0), seed=1)
    assert ak.all(ak.num(reco) == ak.num(gen))
    for field in ("pt", "eta", "phi", "E"):
        np.testing.assert_allclose(
            ak.to_numpy(ak.flatten(reco[field])),
            ak.to_numpy(ak.flatten(gen[field])),
            rtol=1e-6,  # float32 storage, recomputed through θ and p
            atol=1e-6,
        )
    assert ak.all(ak.num(reconstruct_particles(gen[:0], config, seed=1)) == 0)


def test_reconstruct_particles_errors(events) -> None:
    with pytest.raises(ConfigError, match="DetectorConfig"):
        reconstruct_particles(events.GenPart, {"pt_min": 0.1}, seed=1)
    with pytest.raises(MissingBranchError, match="pdgId"):
        reconstruct_particles(events.GenPart[["pt", "eta", "phi", "E"]], seed=1)


def test_read_refuses_a_dis_file(tmp_path) -> None:
    path = tmp_path / "bad.root"
    with uproot.recreate(path) as file:
        file.mktree("events", {"event": np.uint64})
    with pytest.raises(MissingBranchError, match="weight"):
        read_zjets_events(path)
