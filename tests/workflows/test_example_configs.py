"""``examples/configs/``: a job file for every CLI verb and method, each one read by its
verb's loader here and run at a tiny size by a test (named in :data:`RUN_BY`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

CONFIGS = Path(__file__).resolve().parents[2] / "examples" / "configs"

#: every shipped job file -> (verb, method or input kind)
JOBS = {
    "unfold_dis": ("unfold", "omnifold"),
    "unfold_pfnano": ("unfold", "nanoaod"),
    "gaussian_srgn": ("fit", "srgn"),
    "gaussian_2d_dctr": ("fit", "dctr"),
    "zjets_dctr": ("fit", "dctr"),
    "zjets_dctr_pfn": ("fit", "dctr"),
    "ttbar_srgn": ("fit", "srgn"),
    "infer_gaussian": ("infer", "toy"),
    "infer_tautau": ("infer", "samples"),
    "reweight_pfnano": ("reweight", "nanoaod"),
}
#: where each job file runs at a tiny size (``generate`` and ``demo`` take no job file)
RUN_BY = {
    "unfold_dis": "tests/workflows/test_unfold_analysis.py (the tiny unfolding itself)",
    "unfold_pfnano": "tests/workflows/test_unfold_analysis.py",
    "gaussian_srgn": "tests/cli/test_fit_cli.py",
    "gaussian_2d_dctr": "this file (slow)",
    "zjets_dctr": "tests/methods/test_srgn_pythia.py",
    "zjets_dctr_pfn": "tests/workflows/test_fit.py (slow)",
    "ttbar_srgn": "this file (slow)",
    "infer_gaussian": "this file (slow)",
    "infer_tautau": "this file (slow)",
    "reweight_pfnano": "tests/cli/test_reweight_cli.py",
}


def test_every_verb_and_method_has_a_job_file():
    shipped = {p.stem for p in CONFIGS.glob("*.yaml")}
    assert shipped == set(JOBS) == set(RUN_BY), "register a new job file in JOBS and RUN_BY"
    kinds = set(JOBS.values())
    for needed in [("unfold", "omnifold"), ("fit", "dctr"), ("fit", "srgn"), ("infer", "toy")]:
        assert needed in kinds
    assert ("reweight", "nanoaod") in kinds and ("unfold", "nanoaod") in kinds
    for name in RUN_BY:
        test_file = RUN_BY[name].split()[0]
        if test_file != "this":
            assert name in (CONFIGS.parents[1] / test_file).read_text(), (name, test_file)


@pytest.mark.parametrize("name", sorted(JOBS))
def test_every_job_file_loads_with_its_verbs_reader(name, tmp_path):
    path = CONFIGS / f"{name}.yaml"
    verb, kind = JOBS[name]
    if verb == "unfold":
        from hepnnlr.workflows.config import load_unfolding_job

        job = load_unfolding_job(path)
        assert job.plots.enabled and job.plots.style == "cms"
    elif verb == "fit":
        from hepnnlr.workflows.fit import load_fit_job

        job = load_fit_job(path)
        assert job.method == kind
    elif verb == "infer":
        from hepnnlr.workflows.infer import load_inference_job

        job = load_inference_job(path)
        assert (job.toy is not None) == (kind == "toy")
    else:
        from hepnnlr.workflows.reweight import load_reweight_job

        job = load_reweight_job(tmp_path, path)  # any folder stands for the saved model
        assert job.analysis.name == "pfnano_particles"


def _tiny(name: str, tmp_path: Path, **sections) -> Path:
    """The shipped job ``name`` with ``sections`` merged in key by key, in ``tmp_path``."""
    from hepnnlr.workflows.config import merge_overrides

    data = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())
    data = merge_overrides(data, {"output_dir": "out", **sections})
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.slow  # two trainings (classifier, flow): ~80 s wall at load 16
def test_infer_gaussian_job_runs_at_tiny_size(tmp_path):
    from hepnnlr.cli.main import main

    # the shipped routes, networks and grid ranges; 600 training events, one epoch, a
    # coarse grid, no coverage study, no figures
    path = _tiny(
        "infer_gaussian",
        tmp_path,
        toy={"n_train": 600},
        training={"epochs": 1, "batch_size": 200},
        grid={"mu": [0.0, 0.5, 11], "z": [0.1, 0.4, 7]},
        dataset={"n_events": 300},
        plots=False,
    )
    assert main(["infer", str(path), "--no-coverage"]) == 0
    import json

    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert set(summary["dataset"]) == {"exact", "classifier", "flow"}
    # the exact likelihood's 68 % interval of mu holds its best fit, on the grid's range
    mu = summary["dataset"]["exact"]["mu"][0]
    assert 0.0 <= mu["low"] <= mu["best"] <= mu["high"] <= 0.5


@pytest.mark.slow  # one reweighter training and a grid fit: ~50 s wall at load 16
def test_gaussian_2d_dctr_job_runs_at_tiny_size(tmp_path):
    from hepnnlr.workflows.fit import load_fit_job, run_fit

    path = _tiny(
        "gaussian_2d_dctr",
        tmp_path,
        samples={"events": 1000, "target_events": 500, "varied_events": 1000},
        training={"reweighter": {"epochs": 2, "batch_size": 500, "patience": 1}},
        fit={"grid_points": 3},
        uncertainty={"repeats": 1, "bootstrap": 0, "simulation_bootstrap": 0},
        plots=False,
    )
    outputs = run_fit(load_fit_job(path))
    assert set(outputs.errors) == {"mu", "sigma"} and list(outputs.plots) == []
    assert outputs.histograms_file.is_file()


@pytest.mark.slow
def test_infer_tautau_job_runs_at_tiny_size(tmp_path):
    from hepnnlr.cli.main import main

    # Pythia H/Z -> tau tau generated into the output folder at a few hundred events
    path = _tiny(
        "infer_tautau",
        tmp_path,
        samples={
            "generate": {
                "train_events": {"signal": 300, "background": 400},
                "reference_events": {"signal": 200, "background": 300},
                "test_events": {"signal": 200, "background": 300},
                "train_passes": 1,
                "reference_passes": 1,
            }
        },
        training={"epochs": 1},
        grid={"mu": [0.0, 2.0, 11], "z": [0.88, 1.12, 7]},
        dataset={"n_events": 100},
        plots=False,
    )
    assert main(["infer", str(path), "--no-coverage"]) == 0
    assert (tmp_path / "out" / "summary.json").is_file()


@pytest.mark.slow
def test_ttbar_srgn_job_runs_at_tiny_size(tmp_path):
    from hepnnlr.workflows.fit import load_fit_job, run_fit

    path = _tiny(
        "ttbar_srgn",
        tmp_path,
        samples={"events": 400, "target_events": 200, "varied_events": 400},
        training={
            "reweighter": {"epochs": 1, "patience": 1},
            "classifier": {"epochs": 1, "patience": 1},
        },
        uncertainty={"repeats": 1, "bootstrap": 0, "simulation_bootstrap": 0},
        plots=False,
    )
    outputs = run_fit(load_fit_job(path))
    assert outputs.histograms_file.is_file()
