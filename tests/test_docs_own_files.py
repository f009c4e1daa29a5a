"""The "your own files" page (docs/guide/own_files.md) runs as printed.

Every block in page order, in an empty folder: the YAML blocks written to the files they
name, the shell lines as ``hepnnlr`` commands in this process, the Python blocks in one
namespace (``docs/_guide_blocks.run_page``). The whole chain (three generations, an
unfolding with two trainings per step and iteration, ``hepnnlr reweight`` on a dask
cluster, a processor of one's own on another, the real PFNano file) took 61 CPU s in the
test's process (the dask workers' besides) and 2 min 41 s of wall time on two cores shared
with other jobs (load ~15), so it is ``slow``; the default run checks
that every block is one the runner takes (commands parsed by the CLI's parser, Python
compiled) and that every YAML file loads with its command's typed loader.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))

from _guide_blocks import page_blocks, run_page, shell_commands  # noqa: E402

PAGE = ROOT / "docs" / "guide" / "own_files.md"


def test_every_block_is_one_the_runner_takes(tmp_path):
    run_page(PAGE, tmp_path, execute=False)  # raises on a block it cannot run
    blocks = page_blocks(PAGE)
    commands = [argv for lang, text in blocks if lang == "bash" for argv in shell_commands(text)]
    verbs = [argv[0] for argv in commands]
    # the steps of the page: files, unfold, reweight on dask, reweight on real PFNano
    assert verbs == ["generate"] * 3 + ["unfold", "reweight", "reweight"]
    assert all("--format" in argv and "nanoaod" in argv for argv in commands[:3])
    assert commands[4][commands[4].index("--executor") + 1] == "dask"
    assert commands[4][commands[4].index("--workers") + 1] == "2"
    python = [text for lang, text in blocks if lang == "python"]
    assert len(python) == 3
    assert "Weights(" in python[2] and "weightUp=" in python[2]  # Weights.add with up/down
    # the page is in the guide's toctree (Sphinx fails on a page in none)
    assert re.search(r"^own_files$", (PAGE.parent / "index.md").read_text(), flags=re.M)


def test_every_yaml_file_loads_with_its_commands_loader(tmp_path):
    """The description through ``hepnnlr.analysis.load``, the unfolding jobs through
    ``load_unfolding_job`` and the reweight jobs through ``load_reweight_job``: the typed
    loaders the commands use, which refuse an unknown key or a wrong type."""
    from hepnnlr.analysis import load
    from hepnnlr.workflows import load_unfolding_job
    from hepnnlr.workflows.reweight import load_reweight_job

    run_page(PAGE, tmp_path, execute=False)
    written = sorted(path.name for path in tmp_path.glob("*.yaml"))
    assert written == ["job.yaml", "job_xrootd.yaml", "my_dis.yaml", "reweight.yaml",
                       "reweight_xrootd.yaml"]  # fmt: skip
    description = load(tmp_path / "my_dis.yaml")
    assert description.schema == "pfnano" and set(description.levels) == {"gen", "reco"}
    assert set(description.fileset()) == {"sim", "data"}
    for name in ("job.yaml", "job_xrootd.yaml"):
        job = load_unfolding_job(tmp_path / name)
        assert Path(job.analysis) == tmp_path / "my_dis.yaml"
    assert str(load_unfolding_job(tmp_path / "job_xrootd.yaml").data_file).startswith("root://")
    model = tmp_path / "out" / "models" / "step2"  # the unfolding's, in the slow run
    model.mkdir(parents=True)  # the loader checks the folder exists; nothing reads it here
    for name, dataset in (
        ("reweight.yaml", "sim_seed3"),
        ("reweight_xrootd.yaml", "sim_variation"),
    ):
        job = load_reweight_job(model, tmp_path / name)
        assert job.analysis.name == "my_dis" and set(job.analysis.fileset()) == {dataset}


@pytest.mark.slow
def test_every_block_of_the_page_runs(tmp_path):
    from shared_data import shared_data_file

    from hepnnlr.outputs import check_complete
    from hepnnlr.results import read_weights

    # the page's section 6 reads a CMS PFNano file in its folder
    shutil.copy(shared_data_file("pfnano.root"), tmp_path / "pfnano.root")
    run_page(PAGE, tmp_path)  # the page's own asserts: the recipe's histogram, the weights
    for folder in ("out", "reweighted", "reweighted-pfnano"):
        assert check_complete(tmp_path / folder) == [], folder
    assert len(list((tmp_path / "out" / "plots").glob("*.png"))) == 5
    assert sorted(p.name for p in (tmp_path / "out" / "models" / "step2").iterdir()) == [
        "run0",
        "run1",
    ]
    weights = read_weights(tmp_path / "reweighted" / "weights_sim_seed3.parquet")
    assert weights.keys == ["run", "luminosityBlock", "event"]
    assert {"weight", "weight_up", "weight_down"} <= set(weights.table.fields)
    pfnano = read_weights(tmp_path / "reweighted-pfnano" / "weights_pfnano.parquet").table
    assert len(pfnano) == 10
