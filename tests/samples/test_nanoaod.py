"""hepnnlr's samples in the NanoAOD / PFNano format (hepnnlr/samples/nanoaod.py): read by
coffea's PFNanoAODSchema, the same events as hepnnlr's own format, unique event ids."""

from __future__ import annotations

import warnings
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot
from coffea import processor
from coffea.nanoevents import NanoAODSchema, NanoEventsFactory, PFNanoAODSchema

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.samples import make_dis_sample, read_events
from hepnnlr.samples.nanoaod import (
    NANOAOD_NAMES,
    NANOAOD_TREE,
    RUNS_TREE,
    convert_to_nanoaod,
    event_ids,
    make_nanoaod_sample,
    runs_columns,
)
from hepnnlr.schema import HepnnlrSchema, run_processor

N_EVENTS = 50
SEED = 5
F32 = 2.0**-24  # unit roundoff of float32


def _events(path, tree=NANOAOD_TREE, schema=PFNanoAODSchema):
    with warnings.catch_warnings():
        # NanoAOD's schema warns about every CMS cross-reference (Jet_muonIdx1, ...) that a
        # file without those collections lacks
        warnings.simplefilter("ignore", RuntimeWarning)
        return NanoEventsFactory.from_root(
            {str(path): tree}, schemaclass=schema, mode="eager"
        ).events()


@pytest.fixture(scope="module")
def dis_files(tmp_path_factory):
    """50 DIS "sim" events of one seed in both formats: (hepnnlr file, NanoAOD file)."""
    folder = tmp_path_factory.mktemp("nanoaod")
    own = make_dis_sample(folder / "dis.root", "sim", n_events=N_EVENTS, seed=SEED, progress=False)
    nano = make_nanoaod_sample(
        folder / "dis.nano.root", "dis", setup="sim", n_events=N_EVENTS, seed=SEED, progress=False
    )
    return own, nano


def _energy_rtol(eta) -> float:
    # E, pt and eta are float32 in both files: p = pt cosh(eta) carries the rounding of pt
    # (2^-24) and of eta (|eta| 2^-24, times tanh(eta) <= 1), E its own 2^-24, and the
    # float32 arithmetic of the NanoAOD behaviours a few more; 8 (1 + max|eta|) 2^-24 bounds it
    return 8 * (1 + float(np.max(np.abs(eta), initial=0.0))) * F32


def test_pfnano_schema_reads_gen_and_pf_candidates_with_vector_behaviour(dis_files):
    _, nano = dis_files
    events = _events(nano)
    assert len(events) == N_EVENTS
    assert uproot.open(nano).classname_of(NANOAOD_TREE) == "TTree"
    assert ak.all(ak.num(events.GenCands) > 0)  # every DIS event has a hadronic final state
    cands = events.PFCands
    np.testing.assert_allclose(
        ak.flatten(cands.px), ak.flatten(cands.pt * np.cos(cands.phi)), rtol=4 * F32
    )
    assert ak.all(cands.energy >= cands.pt)  # E >= |p| >= pT of a massive or massless object
    assert ak.all(cands.puppiWeight == 1)
    cands = cands[ak.num(cands) >= 2]  # the detector can lose every particle of an event
    pair = cands[:, 0] + cands[:, 1]  # candidates add four-momenta and charges
    np.testing.assert_array_equal(pair.charge, cands.charge[:, 0] + cands.charge[:, 1])
    assert ak.all(events.GenDressedLepton.pdgId == 11)  # the scattered e- (beam Beams:idB 11)
    assert ak.all(events.Electron.charge == -1)


def test_nanoaod_holds_the_same_events_as_hepnnlr_format_up_to_float32(dis_files):
    own_path, nano = dis_files
    own, events = read_events(own_path), _events(nano)
    pairs = [
        ("GenPart", "GenCands"),
        ("RecoPart", "PFCands"),
        ("GenElectron", "GenDressedLepton"),
        ("RecoElectron", "Electron"),
    ]
    for source, target in pairs:
        assert NANOAOD_NAMES["dis"][source] == target
        a, b = own[source], events[target]
        np.testing.assert_array_equal(ak.num(a), ak.num(b))
        for field in ("pt", "eta", "phi"):  # copied, not recomputed: bit for bit
            np.testing.assert_array_equal(ak.flatten(a[field]), ak.flatten(b[field]))
        if source.endswith("Part"):
            np.testing.assert_array_equal(ak.flatten(a.pdgId), ak.flatten(b.pdgId))
            np.testing.assert_array_equal(ak.flatten(a.charge), ak.flatten(b.charge))
            rtol = _energy_rtol(ak.flatten(a.eta))
        else:
            # electrons are float64: the mass of an electron of tens of GeV survives
            # E^2 - p^2 to ~1e-9 of itself, the energy sqrt(p^2 + m^2) to ~1e-16
            rtol = 1e-12
        np.testing.assert_allclose(ak.flatten(b.energy), ak.flatten(a.E), rtol=rtol)
    np.testing.assert_array_equal(events.event, own.event + 1)
    np.testing.assert_array_equal(events.genWeight, own.weight)
    np.testing.assert_array_equal(events.Generator.Q2, own.gen_Q2)
    np.testing.assert_array_equal(events.passGen, own.pass_gen)
    np.testing.assert_array_equal(events.passReco, own.pass_reco)


def test_event_ids_are_unique_and_tell_the_seed(dis_files):
    _, nano = dis_files
    ids = uproot.open(nano)[NANOAOD_TREE].arrays(["run", "luminosityBlock", "event"], library="np")
    keys = set(zip(ids["run"], ids["luminosityBlock"], ids["event"], strict=True))
    assert len(keys) == N_EVENTS
    assert set(ids["luminosityBlock"]) == {SEED + 1} and set(ids["run"]) == {1}
    assert event_ids(2**32 - 1) == (2, 1)  # past the uint32 block range: the next run


def test_runs_tree_sums_the_generator_weights_of_the_events(dis_files):
    _, nano = dis_files
    with uproot.open(nano) as file:
        runs = file[RUNS_TREE].arrays(library="np")
        events = file[NANOAOD_TREE].arrays(["run", "genWeight"], library="np")
    assert list(runs) == ["run", "genEventCount", "genEventSumw", "genEventSumw2"]  # CMS's
    np.testing.assert_array_equal(runs["run"], np.unique(events["run"]))  # one entry per run
    assert runs["genEventCount"].tolist() == [N_EVENTS]
    weight = events["genWeight"].astype(np.float64)
    # the stored float32 weights summed in float64, as the writer sums them: equal exactly
    assert runs["genEventSumw"][0] == np.sum(weight) > 0
    assert runs["genEventSumw2"][0] == np.sum(weight**2)
    # CMS's plain NanoAOD schema reads the Events tree beside Runs as PFNano's does
    events = _events(nano, schema=NanoAODSchema)
    assert len(events) == N_EVENTS
    # docs/nanoaod.md's normalization lines, run on the one-file dataset
    text = (Path(__file__).resolve().parents[2] / "docs" / "nanoaod.md").read_text()
    recipe = text.split("## Normalization", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    scope = {"files": [str(nano)], "events": events, "xsec_pb": 2.5, "lumi_inv_pb": 40.0}
    exec(recipe, scope)  # the documented lines themselves
    # float32 weights times constants summed over 50 events: a few float32 roundoffs each
    assert float(ak.sum(scope["weight"])) == pytest.approx(2.5 * 40.0, rel=N_EVENTS * F32)


def test_runs_columns_sum_each_run_on_its_own():
    columns = {
        "run": ak.Array(np.array([2, 1, 2, 2], dtype=np.uint32)),
        # weights exact in binary: every sum below is exact
        "genWeight": ak.Array(np.array([0.5, 3.0, -1.0, 2.0], dtype=np.float32)),
    }
    runs = runs_columns(columns)
    np.testing.assert_array_equal(runs["run"], [1, 2])
    np.testing.assert_array_equal(runs["genEventCount"], [1, 3])
    np.testing.assert_array_equal(runs["genEventSumw"], [3.0, 1.5])
    np.testing.assert_array_equal(runs["genEventSumw2"], [9.0, 5.25])


def test_jets_cluster_from_pfcands_as_from_hepnnlr_particles(dis_files):
    from hepnnlr.observables.jets import cluster_jets

    own_path, nano = dis_files
    jets = cluster_jets(_events(nano).PFCands, what="PFCands")
    reference = cluster_jets(read_events(own_path).RecoPart)
    np.testing.assert_array_equal(ak.num(jets), ak.num(reference))
    assert ak.sum(ak.num(jets)) > 0
    pt = ak.flatten(reference.pt)
    # a jet sums float32 particles: its pT carries their relative roundoff
    np.testing.assert_allclose(ak.flatten(jets.pt), pt, rtol=_energy_rtol([5.0]))


class _CountCandidates(processor.ProcessorABC):
    """Events, PF candidates and their summed energy, from PFNanoAOD-schema chunks."""

    def process(self, events):
        return {
            "events": len(events),
            "cands": int(ak.sum(ak.num(events.PFCands))),
            "energy": float(ak.sum(events.PFCands.energy)),
        }

    def postprocess(self, accumulator):
        return accumulator


def test_run_processor_reads_it_with_the_pfnano_schema(dis_files):
    _, nano = dis_files
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the missing CMS cross-references
        out = run_processor(
            _CountCandidates(),
            {"sim": [str(nano)]},
            schema="pfnano",
            treename=NANOAOD_TREE,
            executor="iterative",
            progress=False,
            chunksize=20,
        )
    events = _events(nano)
    assert out["events"] == N_EVENTS
    assert out["cands"] == int(ak.sum(ak.num(events.PFCands)))
    # three chunks sum in another order than one array: float32 sums agree to ~1e-6
    assert out["energy"] == pytest.approx(float(ak.sum(events.PFCands.energy)), rel=1e-5)


@pytest.mark.parametrize(
    ("process", "make"),
    [
        ("zjets", lambda path: _make("make_zjets_sample", path)),
        ("ttbar", lambda path: _make("make_ttbar_sample", path)),
        ("tautau", lambda path: _make("make_tautau_sample", path, "signal")),
    ],
)
def test_other_processes_convert_with_every_collection(process, make, tmp_path):
    own = make(tmp_path / f"{process}.root")
    nano = convert_to_nanoaod(own, tmp_path / f"{process}.nano.root")  # process from the file
    reference, events = _events(own, "events", HepnnlrSchema), _events(nano)
    names = NANOAOD_NAMES[process]
    assert {name.split("_")[0] for name in names.values()} <= set(events.fields) | {
        "Electron / Muon"
    }
    for source, target in names.items():
        if source not in reference.fields or not reference[source].fields:
            continue  # a flat branch
        a = reference[source]
        parts = [events[t.strip()] for t in target.split("/")]
        assert sum(ak.sum(ak.num(p)) for p in parts) == ak.sum(ak.num(a))
        if len(parts) == 1 and "E" in a.fields:
            np.testing.assert_array_equal(ak.flatten(parts[0].pt), ak.flatten(a.pt))
            if not hasattr(parts[0], "energy"):
                continue  # GenNeutrino: no NanoAOD behaviour of that name, plain records
            single = ak.to_numpy(ak.flatten(a.pt)).dtype == np.float32
            # float64 objects (leptons): the mass of a muon of tens of GeV to ~1e-9
            rtol = _energy_rtol(ak.flatten(a.eta)) if single else 1e-9
            np.testing.assert_allclose(ak.flatten(parts[0].energy), ak.flatten(a.E), rtol=rtol)
        elif len(parts) == 1 and "mass" in a.fields:  # jets: (pt, eta, phi, mass) as they are
            np.testing.assert_array_equal(ak.flatten(parts[0].mass), ak.flatten(a.mass))
    np.testing.assert_array_equal(events.genWeight, reference.weight)


def _make(name, path, *args):
    from hepnnlr import samples

    return getattr(samples, name)(path, *args, n_events=20, seed=4, progress=False)


def test_bad_requests_name_the_process_or_field(tmp_path, dis_files):
    with pytest.raises(ConfigError, match="'calo' has no NanoAOD format.*--format hepnnlr"):
        make_nanoaod_sample(tmp_path / "c.root", "calo", n_events=2, seed=1)
    with pytest.raises(ConfigError, match="tree='events'.*leave tree out"):
        make_nanoaod_sample(tmp_path / "d.root", "dis", n_events=2, seed=1, tree="events")
    own, _ = dis_files
    with pytest.raises(MissingBranchError, match="theta_alphaS"):
        convert_to_nanoaod(own, tmp_path / "z.root", "zjets")
    assert not (tmp_path / "z.root").exists()


def test_generate_command_writes_nanoaod_of_the_same_events(tmp_path, dis_files, capsys):
    from hepnnlr.cli.main import main

    out = tmp_path / "cli.nano.root"
    argv = [
        "generate",
        "dis",
        "--setup",
        "sim",
        "--events",
        str(N_EVENTS),
        "--seed",
        str(SEED),
        "-o",
        str(out),
        "--no-progress",
        "--format",
        "nanoaod",
    ]
    assert main(argv) == 0
    _, nano = dis_files
    assert ak.array_equal(_events(out).PFCands.pt, _events(nano).PFCands.pt)
    assert [p.name for p in tmp_path.iterdir()] == ["cli.nano.root"]  # no temporary left
    assert (
        main(
            [
                "generate",
                "calo",
                "--events",
                "2",
                "-o",
                str(tmp_path / "c.root"),
                "--format",
                "nanoaod",
            ]
        )
        == 2
    )
    assert "'calo' has no NanoAOD format" in capsys.readouterr().err


def test_docs_table_names_every_branch():
    text = (Path(__file__).resolve().parents[2] / "docs" / "nanoaod.md").read_text()
    for process, names in NANOAOD_NAMES.items():
        assert f"## `{process}`" in text
        for source, target in names.items():
            for name in (source, *target.split(" / ")):
                assert f"`{name}`" in text, (process, name)
