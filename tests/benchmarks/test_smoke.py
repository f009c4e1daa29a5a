"""Every script in ``benchmarks/`` runs on the current code, at tiny sizes (issue 14).

The scripts are imported from ``benchmarks/`` and their ``main(argv)`` called in this
process (one import of coffea and TensorFlow for all of them), on small samples made
once: a few hundred events, one repetition, no dask cluster. They check that every
benchmark still runs through the public APIs and writes the JSON that
``benchmarks/report.py`` renders, not the numbers (those are measured at full size; see
``docs/benchmarks.md``). The two benchmarks against the ``omnifold`` package run up to
where they report that the package is missing and, where the package is installed as
they say (``$HEPNNLR_OMNIFOLD_PEER`` or ``/tmp/omnifold-peer``), at tiny sizes in a
subprocess of their own (the package needs ``TF_USE_LEGACY_KERAS`` set before TensorFlow
starts, which this process has done already). The dask timings (``dask_scaling``: two
``LocalCluster`` starts, ~15 s) are left to the full runs. A script added to
``benchmarks/`` without a smoke test here fails
:func:`test_every_benchmark_has_a_smoke_test`.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
PEER = Path(os.environ.get("HEPNNLR_OMNIFOLD_PEER", "/tmp/omnifold-peer"))
PEER_INSTALLED = all(
    importlib.machinery.PathFinder.find_spec(module, [str(PEER)]) is not None
    for module in ("omnifold", "tf_keras")
)
SMOKE_TESTED = {
    "bench_analysis",
    "bench_calo",
    "bench_clustering",
    "bench_fit_loop",
    "bench_generation",
    "bench_highmult",
    "bench_import",
    "bench_kt_subjets",
    "bench_memory",
    "bench_processor",
    "bench_srgn",
    "bench_training",
    "bench_ttbar",
    "bench_vs_multifold",
    "bench_vs_omnifold",
    "bench_zjets",
    "report",
}


@pytest.fixture(scope="module", autouse=True)
def _benchmarks_importable():
    """The scripts import ``_timing`` from their folder, as ``python benchmarks/x.py`` does."""
    sys.path.insert(0, str(BENCHMARKS))
    yield
    sys.path.remove(str(BENCHMARKS))


def _main(name: str, argv: list[str]):
    return importlib.import_module(name).main(argv)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny DIS, Z → jets and tt̄-with-MPI files (the DIS one is 10 N for bench_memory)."""
    from hepnnlr.samples import make_dis_sample, make_ttbar_sample
    from hepnnlr.samples.zjets import make_zjets_sample

    folder = tmp_path_factory.mktemp("bench")
    return {
        "dis": make_dis_sample(folder / "dis.root", "sim", n_events=600, seed=1, progress=False),
        "zjets": make_zjets_sample(folder / "z.root", n_events=300, seed=1, progress=False),
        "pp": make_ttbar_sample(folder / "tt.root", n_events=12, seed=1, mpi=True, progress=False),
    }


def _summary(path: Path) -> list[dict]:
    document = json.loads(path.read_text())
    assert document["command"].startswith("python benchmarks/")
    assert document["machine"]["cores"] >= 1
    for row in document["summary"]:
        assert row["ratio"] > 0 and row["target"]
    return document["summary"]


def test_every_benchmark_has_a_smoke_test():
    scripts = {p.stem for p in BENCHMARKS.glob("*.py") if not p.stem.startswith("_")}
    assert scripts == SMOKE_TESTED


def test_processor_benchmarks(samples, tmp_path):
    """DIS and Z → jets processors against the bare clustering, with and without I/O."""
    dis = _main(
        "bench_processor",
        ["--file", str(samples["dis"]), "--chunksize", "300", "--repeat", "1", "--no-dask",
         "--json", str(tmp_path / "dis.json")],
    )  # fmt: skip
    assert dis["events"] == 600 and dis["compute_processor_over_bare_cpu"] > 0
    zjets = _main(
        "bench_zjets",
        ["--file", str(samples["zjets"]), "--chunksize", "150", "--repeat", "1", "--no-dask",
         "--json", str(tmp_path / "z.json")],
    )  # fmt: skip
    assert zjets["cpu_bare_ClusterSequence_s"] > 0
    for name in ("dis", "z"):
        assert len(_summary(tmp_path / f"{name}.json")) == 2  # with I/O, compute only


def test_analysis_benchmark(samples, tmp_path):
    """AnalysisProcessor on the DIS, tt̄ and calo descriptions next to DISProcessor,
    TTbarProcessor and CaloProcessor (issue 16)."""
    _main(
        "bench_analysis",
        ["--file", str(samples["dis"]), "--chunksize", "300", "--repeat", "1",
         "--json", str(tmp_path / "analysis.json")],
    )  # fmt: skip
    (row,) = _summary(tmp_path / "analysis.json")
    assert row["clock"] == "CPU"
    # and on the tt̄ description next to TTbarProcessor
    _main(
        "bench_analysis",
        ["--analysis", "ttbar", "--file", str(samples["pp"]), "--repeat", "1",
         "--json", str(tmp_path / "ttbar.json")],
    )  # fmt: skip
    (row,) = _summary(tmp_path / "ttbar.json")
    assert "TTbarProcessor" in row["measurement"]
    # and on the calo description next to CaloProcessor (20 generated showers)
    _main(
        "bench_analysis",
        ["--analysis", "calo", "--events", "20", "--repeat", "1",
         "--json", str(tmp_path / "calo.json")],
    )  # fmt: skip
    (row,) = _summary(tmp_path / "calo.json")
    assert "CaloProcessor" in row["measurement"]


def test_highmult_and_clustering_benchmarks(samples, tmp_path):
    highmult = _main(
        "bench_highmult",
        ["--file", str(samples["pp"]), "--overlay", "2", "--chunksize", "3", "--repeat", "1",
         "--json", str(tmp_path / "highmult.json")],
    )  # fmt: skip
    assert highmult["overlay2_events"] == 6
    assert highmult["overlay2_particles_per_event"] > 600  # two MPI events of ~300 or more
    clustering = _main(
        "bench_clustering",
        ["--dis", str(samples["dis"]), "--zjets", str(samples["zjets"]), "--pp",
         str(samples["pp"]), "--overlay", "2", "--events", "100", "--pp-events", "4",
         "--repeat", "1", "--json", str(tmp_path / "clustering.json")],
    )  # fmt: skip
    assert clustering["pp_overlay2_events"] == 4
    assert len(_summary(tmp_path / "clustering.json")) == 2 * 3  # two ratios per sample
    assert len(_summary(tmp_path / "highmult.json")) == 2


def test_kt_subjets_benchmark(samples):
    """kT jets' τ1, τ2 from the event's own sequence equal the reclustering's on 200
    events, exactly (no tolerance: the same FastJet merges and E-scheme sums)."""
    kt = _main(
        "bench_kt_subjets", ["--file", str(samples["dis"]), "--events", "200", "--repeat", "1"]
    )
    assert kt["gen_jets"] > 0 and kt["reco_jets"] > 0
    for level in ("gen", "reco"):
        for tau in ("tau1", "tau2"):
            assert kt[f"{level}_{tau}_jets_differing"] == 0


def test_memory_benchmark(samples, tmp_path):
    """Two fresh processes (N and 10 N events), chunked processing without columns."""
    results = _main(
        "bench_memory",
        ["--file", str(samples["dis"]), "--events", "60", "--chunksize", "30", "--variants",
         "nocolumns", "--json", str(tmp_path / "memory.json")],
    )  # fmt: skip
    assert results["nocolumns_10N_peak_mib"] > 0
    (row,) = _summary(tmp_path / "memory.json")
    assert row["target"] == "<= 1.2"


def test_sample_benchmarks(tmp_path):
    """Generation (1 and 2 workers), calorimeter showers, the tt̄ chain."""
    rates = _main("bench_generation", ["-n", "40", "--json", str(tmp_path / "gen.json")])
    assert rates["total_2w_events_per_s"] > 0
    calo = _main("bench_calo", ["--events", "40", "--chunksize", "20", "--repeat", "1",
                                "--no-dask"])  # fmt: skip
    assert calo["processor_iterative_events_per_s"] > 0
    ttbar = _main("bench_ttbar", ["-n", "8"])
    assert ttbar["TTbarProcessor (iterative)"] > 0


def test_training_benchmarks(samples):
    """Network training throughput and the naive-vs-refit SRGN fits, one epoch each."""
    rates = _main(
        "bench_training",
        ["--file", str(samples["dis"]), "--epochs", "1", "--batch-size", "64", "--models",
         "mlp"],
    )  # fmt: skip
    assert rates["mlp_events_per_s_per_epoch"] > 0
    fits = _main(
        "bench_srgn",
        ["--events", "200", "--reweighter-events", "400", "--reweighter-epochs", "1",
         "--epochs", "1", "--xtol", "0.5", "--max-iterations", "1", "--repeats", "1"],
    )  # fmt: skip
    assert fits["naive_g_trainings"] >= 1 and fits["refit_g_trainings"] >= 1


def test_fit_loop_benchmark(tmp_path):
    """Keras' fit against a copy of the former loop (here: the current module itself), one
    MLP epoch on 150 + 150 random events in bench_vs_omnifold's cache layout."""
    rng = np.random.default_rng(1)
    cache = tmp_path / "inputs.npz"
    np.savez(cache, particle_features=np.array(["a"]), global_features=np.array(["x", "y"]),
             **{f"{k}_{f}": rng.normal(size=(150, 2, 1) if f == "particles" else (150, 2))
                for k in ("sim", "data") for f in ("particles", "globals")},
             sim_mask=np.ones((150, 2)), data_mask=np.ones((150, 2)))  # fmt: skip
    old = BENCHMARKS.parent / "hepnnlr" / "training" / "classifier.py"
    results = _main(
        "bench_fit_loop",
        ["--old", str(old), "--cache", str(cache), "--models", "mlp", "--epochs", "1",
         "--repeat", "1", "--json", str(tmp_path / "fit_loop.json")],
    )  # fmt: skip
    # The same module twice: the same training, to the bit.
    assert results["mlp_same_history"] == 1.0 and results["mlp_max_delta_logit"] == 0.0
    assert len(_summary(tmp_path / "fit_loop.json")) == 1


@pytest.mark.parametrize("name", ["bench_vs_omnifold", "bench_vs_multifold"])
def test_omnifold_benchmarks_name_the_missing_package(name, tmp_path, capsys):
    if importlib.util.find_spec("omnifold") is not None:
        pytest.skip("the omnifold package is installed: the benchmark would run in full")
    assert not _main(name, ["--peer-path", str(tmp_path)])
    out = capsys.readouterr().out
    assert "SKIPPED: omnifold and tf_keras not importable" in out
    assert "pip install --no-deps --target /tmp/omnifold-peer omnifold==0.1.36" in out


@pytest.mark.skipif(
    not PEER_INSTALLED,
    reason=f"the omnifold peer is not installed in {PEER} ($HEPNNLR_OMNIFOLD_PEER): pip "
    "install --no-deps --target /tmp/omnifold-peer omnifold==0.1.36 tf-keras==2.21.0",
)
@pytest.mark.parametrize(
    "name, argv, rows",
    [
        # DIS step 1, one MLP epoch: 1,000 events per setup (~320 pass reco), batch 64
        ("bench_vs_omnifold", ["--events", "1000", "--workers", "1", "--models", "mlp",
                               "--epochs", "1", "--repeat", "1", "--batch-size", "64"], 2),
        # the 2-D toy with fakes, one iteration of one epoch, 3,000 + 1,500 events
        ("bench_vs_multifold", ["--sim-events", "3000", "--data-events", "1500",
                                "--iterations", "1", "--more-iterations", "1", "--epochs",
                                "1", "--batch-size", "256"], 3),
        # Pythia DIS, 1,500 events per setup, one iteration of one epoch
        ("bench_vs_multifold", ["--sample", "dis", "--events", "1500", "--workers", "1",
                                "--iterations", "1", "--epochs", "1"], 2),
    ],
)  # fmt: skip
def test_omnifold_benchmarks_run_with_the_peer(name, argv, rows, tmp_path):
    out = tmp_path / f"{name}.json"
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), "--peer-path", str(PEER), *argv,
         "--json", str(out)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert len(_summary(out)) == rows


def test_import_benchmark(tmp_path):
    """One fresh process importing hepnnlr (the cheapest entry point), its row rendered in
    seconds by report.py."""
    results = _main(
        "bench_import",
        ["--repeat", "1", "--reference-repeat", "0", "--only", "hepnnlr", "--json",
         str(tmp_path / "import.json")],
    )  # fmt: skip
    assert results["hepnnlr"]["runs"] == 1 and not results["hepnnlr"]["tensorflow"]
    (row,) = json.loads((tmp_path / "import.json").read_text())["summary"]
    assert row["unit"] == "s" and row["value"] == results["hepnnlr"]["cpu_s"] >= 0
    assert f"**{row['value']:.2f} s** (CPU)" in importlib.import_module("report").render(tmp_path)


def test_report_renders_the_json_files(tmp_path):
    """report.py fills the table between the markers and leaves the rest untouched."""
    json_dir = tmp_path / "json"
    json_dir.mkdir()
    from _timing import write_json

    write_json(
        json_dir / "processor_zjets.json",
        script="bench_zjets.py",
        argv=["--file", "z.root"],
        load_before="1.00, 1.00, 1.00",
        results={"x": 1.0},
        summary=[{"measurement": "m", "ratio": 1.5, "clock": "CPU", "target": "<= 1.6",
                  "met": True}],
    )  # fmt: skip
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n<!-- current:start -->\nold\n<!-- current:end -->\nhistory\n")
    assert _main("report", ["--json-dir", str(json_dir), "--doc", str(doc), "--check"]) == 1
    assert _main("report", ["--json-dir", str(json_dir), "--doc", str(doc)]) == 0
    text = doc.read_text()
    assert "old" not in text and text.endswith("<!-- current:end -->\nhistory\n")
    assert "`python benchmarks/bench_zjets.py --file z.root`" in text
    assert "**1.50×** (CPU) | ≤ 1.6 | yes" in text
    assert _main("report", ["--json-dir", str(json_dir), "--doc", str(doc), "--check"]) == 0


def test_the_table_in_docs_is_the_one_of_the_json_files():
    """docs/benchmarks.md shows what docs/benchmarks/*.json hold (python
    benchmarks/report.py after writing a JSON file)."""
    assert _main("report", ["--check"]) == 0
