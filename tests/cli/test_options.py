"""Typed job files, one set of defaults for the command line and the job files, options
that override a job file on every verb, ``--help`` with defaults and ``--version``.

Every case stops before any work (the job is built or refused), so the file runs in
about a second once TensorFlow is imported by the session.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from hepnnlr import __version__
from hepnnlr.cli.main import build_parser, main
from hepnnlr.cli.options import JobDefault
from hepnnlr.cli.unfold import unfold_job
from hepnnlr.workflows.config import load_unfolding_job, read_yaml_mapping

CONFIGS = Path(__file__).parents[2] / "examples" / "configs"
FILES = "data_file: /in/data.root\nsim_file: /in/sim.root\n"


def _yaml(tmp_path: Path, text: str, name: str = "job.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


# --- typed job files -------------------------------------------------------------------------


def test_yaml_numbers_follow_yaml_1_2(tmp_path):
    """PyYAML's YAML 1.1 resolver reads ``1e-3`` as a string; the job reader a float."""
    path = _yaml(tmp_path, "a: 1e-3\nb: -2.5E+2\nc: 3\nd: '1e-3'\ne: 1.5\nf: 1_000\n")
    data = read_yaml_mapping(path, "job file", dict, "")
    assert data == {"a": 0.001, "b": -250.0, "c": 3, "d": "1e-3", "e": 1.5, "f": 1000}
    assert isinstance(data["a"], float) and isinstance(data["c"], int)
    job = load_unfolding_job(
        _yaml(tmp_path, FILES + "omnifold: {training: {learning_rate: 2e-3}}\n")
    )
    assert job.omnifold.training.learning_rate == 0.002


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # the cases of issue 17: each names the key path, the value and the type
        ("omnifold: {iterations: '1'}", "omnifold.iterations = '1' (str): expected int"),
        ("omnifold: {iterations: 1.5}", "omnifold.iterations = 1.5 (float): expected int"),
        ("progress: 'no'", "progress = 'no' (str): expected bool (true or false)"),
        ("progress: 1", "progress = 1 (int): expected bool (true or false)"),
        (
            "omnifold: {training: {learning_rate: fast}}",
            "omnifold.training.learning_rate = 'fast' (str): expected float",
        ),
        ("workers: true", "workers = True (bool): expected int"),
        (
            "omnifold: {step1_model: {hidden: [16, x]}}",
            "omnifold.step1_model.hidden.1 = 'x' (str): expected int",
        ),
        ("seeds: {data: '7'}", "seeds.data = '7' (str): expected int"),
        ("region: 5", "region = 5 (int): expected a mapping of KinematicRegion fields"),
        ("omnifold: {trainig: {}}", "omnifold: unknown key(s) ['trainig'] for OmniFoldConfig"),
    ],
)
def test_a_bad_type_is_one_line_naming_key_value_and_type(tmp_path, capsys, text, shown):
    path = _yaml(tmp_path, FILES + text + "\n")
    assert main(["unfold", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hepnnlr: error: {path}: {shown}") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "text", "shown"),
    [
        (
            ["fit", "srgn"],
            "uncertainty: {keep_flagged: 'yes'}",
            "uncertainty.keep_flagged = 'yes' (str): expected bool",
        ),
        (
            ["fit", "dctr"],
            "training: {reweighter: {epochs: 2.5}}",
            "training.reweighter.epochs = 2.5 (float): expected int",
        ),
        (["infer"], "training: {batch_size: '256'}", "training.batch_size = '256' (str)"),
        (["infer"], "grid: {mu: [0, 1, many]}", "grid.mu.2 = 'many' (str): expected int"),
    ],
)
def test_fit_and_infer_jobs_are_typed_too(tmp_path, capsys, argv, text, shown):
    path = _yaml(tmp_path, f"output_dir: out\n{text}\n")
    assert main([*argv, str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hepnnlr: error: {path}: ") and shown in err


# --- one set of defaults ---------------------------------------------------------------------


def _job_defaults(argv: list[str]) -> dict[str, JobDefault]:
    """The options of a verb left at a job's field, by ``dest`` (parsed with none given)."""
    args = build_parser().parse_args(argv)
    return {k: v for k, v in vars(args).items() if isinstance(v, JobDefault)}


def _value(job, key: str):
    for name in key.split("."):
        job = getattr(job, name)
    return job


def test_flags_and_a_job_file_share_one_set_of_defaults(tmp_path):
    """The same unfolding by both routes (issue 17: batch 256 vs 512, patience 5 vs 3)."""
    yaml_job = load_unfolding_job(_yaml(tmp_path, FILES))
    files = ["unfold", "--data", "/in/data.root", "--sim", "/in/sim.root"]
    flags_job = unfold_job(build_parser().parse_args(files))
    assert flags_job == yaml_job
    # a section given in part keeps the job's defaults for the rest, by both routes
    partial = load_unfolding_job(_yaml(tmp_path, FILES + "omnifold: {iterations: 1}\n"))
    assert partial == unfold_job(build_parser().parse_args([*files, "--iterations", "1"]))
    assert partial.omnifold.training == yaml_job.omnifold.training
    assert yaml_job.omnifold.training.batch_size == 256 and yaml_job.omnifold.training.patience == 5
    # every option's shown default is the job's value (none left to drift)
    defaults = _job_defaults(["unfold"])
    assert {"batch_size", "patience", "epochs", "executor", "output", "progress"} <= set(defaults)
    for dest, default in defaults.items():
        if default.value() is not dataclasses.MISSING:
            assert default.value() == _value(yaml_job, default.key), dest
    demo = _job_defaults(["demo"])
    assert {d: v.value() for d, v in demo.items()} == {
        d: v.value() for d, v in defaults.items() if d in demo
    }


def test_a_partial_section_keeps_the_jobs_settings_but_not_its_example_samples(tmp_path):
    from hepnnlr.workflows.fit import load_fit_job
    from hepnnlr.workflows.infer import load_inference_job

    fit = load_fit_job(
        _yaml(
            tmp_path,
            "samples: {generator: gaussian, parameters: {mu: [-1, 1]}}\n"
            "training: {reweighter: {epochs: 5}}\n",
        )
    )
    assert fit.training.reweighter.batch_size == 1000  # FitJob's reweighter training
    assert fit.samples.target == {}  # FitJob's samples are an example, not defaults
    infer = load_inference_job(_yaml(tmp_path, "output_dir: o\ntraining: {epochs: 2}\n"))
    assert infer.training.schedule == "cosine" and infer.training.epochs == 2


def test_fit_and_infer_options_leave_the_job_as_the_file_says():
    from hepnnlr.workflows.fit import load_fit_job
    from hepnnlr.workflows.infer import load_inference_job

    fit_file, infer_file = CONFIGS / "gaussian_srgn.yaml", CONFIGS / "infer_gaussian.yaml"
    args = build_parser().parse_args(["fit", "srgn", str(fit_file)])
    from hepnnlr.cli.fit import _KEYS as FIT_KEYS
    from hepnnlr.cli.infer import _KEYS as INFER_KEYS
    from hepnnlr.cli.options import overrides

    assert overrides(args, FIT_KEYS) == {}
    assert load_fit_job(fit_file, "srgn", **overrides(args, FIT_KEYS)) == load_fit_job(
        fit_file, "srgn"
    )
    args = build_parser().parse_args(["infer", str(infer_file)])
    assert overrides(args, INFER_KEYS) == {}
    assert load_inference_job(infer_file).progress is False
    for verb in (["fit", "srgn", str(fit_file)], ["infer", str(infer_file)]):
        for dest, default in _job_defaults(verb).items():
            assert str(default), dest  # each looks its default up in the job class


# --- the command line overrides a job file ---------------------------------------------------


def test_unfold_options_override_a_job_file(tmp_path):
    path = _yaml(
        tmp_path,
        FILES + "output_dir: from_file\nexecutor: dask\nprogress: true\n"
        "omnifold: {training: {epochs: 7, batch_size: 100, progress: true}}\n",
    )
    argv = ["unfold", str(path), "-o", "cli_out", "--executor", "iterative", "--no-progress"]
    job = unfold_job(build_parser().parse_args([*argv, "--epochs", "3"]))
    assert job.output_dir == Path("cli_out")  # relative to the working folder, not the file's
    assert job.executor == "iterative"
    assert job.progress is False and job.omnifold_config.training.progress is False
    assert job.omnifold.training.epochs == 3
    assert job.omnifold.training.batch_size == 100  # not given: the file's value stays
    assert load_unfolding_job(path).output_dir == tmp_path / "from_file"


def test_fit_and_infer_options_override_a_job_file(tmp_path):
    from hepnnlr.cli.fit import _KEYS as FIT_KEYS
    from hepnnlr.cli.infer import _KEYS as INFER_KEYS
    from hepnnlr.cli.options import overrides
    from hepnnlr.workflows.fit import load_fit_job
    from hepnnlr.workflows.infer import load_inference_job

    fit_file = CONFIGS / "gaussian_srgn.yaml"
    args = build_parser().parse_args(
        ["fit", "srgn", str(fit_file), "-o", str(tmp_path / "f"), "--progress", "--repeats", "5"]
    )
    job = load_fit_job(fit_file, "srgn", **overrides(args, FIT_KEYS))
    assert job.output_dir == tmp_path / "f" and job.progress is True
    assert job.uncertainty.repeats == 5
    assert job.uncertainty.bootstrap == load_fit_job(fit_file).uncertainty.bootstrap
    infer_file = CONFIGS / "infer_gaussian.yaml"
    argv = ["infer", str(infer_file), "-o", str(tmp_path / "i"), "--progress", "--no-plots"]
    job = load_inference_job(infer_file, **overrides(build_parser().parse_args(argv), INFER_KEYS))
    assert job.output_dir == tmp_path / "i" and job.progress is True
    assert job.plots.enabled is False


@pytest.mark.parametrize("verb", ["unfold", "demo", "fit", "infer"])
def test_style_and_label_reach_every_drawing_verbs_job(tmp_path, verb):
    """``--style``/``--label`` set ``plots.style``/``plots.label`` on every verb that draws;
    without them the job file's ``plots`` section (or the one-line ``plots: false``) stays."""
    from hepnnlr.cli.fit import _KEYS as FIT_KEYS
    from hepnnlr.cli.infer import _KEYS as INFER_KEYS
    from hepnnlr.cli.options import overrides
    from hepnnlr.workflows.fit import load_fit_job
    from hepnnlr.workflows.infer import load_inference_job

    section = "plots: {style: lhcb, label: Work in progress}\n"
    if verb in ("unfold", "demo"):
        path = _yaml(tmp_path, FILES + section)

        def load(argv):
            args = build_parser().parse_args(argv)
            if verb == "demo":  # no job file: the generated files stand in for --data/--sim
                return unfold_job(args, data="/in/d.root", sim="/in/s.root")
            return unfold_job(args)

        head = ["demo", "-o", str(tmp_path / "d")] if verb == "demo" else ["unfold", str(path)]
    else:
        source = CONFIGS / ("gaussian_srgn.yaml" if verb == "fit" else "infer_gaussian.yaml")
        data = yaml.safe_load(source.read_text())  # the shipped job, its plots replaced
        data["plots"] = yaml.safe_load(section)["plots"]
        path = _yaml(tmp_path, yaml.safe_dump(data), f"{verb}.yaml")
        keys, loader = (
            (FIT_KEYS, load_fit_job) if verb == "fit" else (INFER_KEYS, load_inference_job)
        )

        def load(argv):
            return loader(path, **overrides(build_parser().parse_args(argv), keys))

        head = ["fit", "srgn", str(path)] if verb == "fit" else ["infer", str(path)]
    job = load([*head, "--style", "atlas", "--label", "Preliminary"])
    assert (job.plots.style, job.plots.label, job.plots.enabled) == ("atlas", "Preliminary", True)
    assert job.plots.look("Simulation").label == "Preliminary"
    job = load(head)
    if verb == "demo":  # the demo reads no job file: the job's defaults
        assert (job.plots.style, job.plots.label) == ("cms", None)
        assert job.plots.look("Pseudo-data").label == "Pseudo-data"
    else:
        assert (job.plots.style, job.plots.label) == ("lhcb", "Work in progress")
    assert load([*head, "--no-plots"]).plots.enabled is False


def test_plots_section_one_line_form_and_bad_style(tmp_path, capsys):
    from hepnnlr.cli.options import STYLE_NAMES
    from hepnnlr.results.style import STYLES

    assert sorted(STYLE_NAMES) == sorted(STYLES)  # --style offers exactly the styles there are
    job = load_unfolding_job(_yaml(tmp_path, FILES + "plots: false\n"))
    assert job.plots.enabled is False and job.plots.style == "cms"
    path = _yaml(tmp_path, FILES + "plots: {style: d0}\n", "bad.yaml")
    assert main(["unfold", str(path), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "plots.style='d0'" in err and "atlas" in err


# --- help and version ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["unfold"], "(default: the job file's value, else 256)"),
        (["demo"], "(default: 256)"),
        (["fit", "srgn"], "(default: the job file's value, else 2)"),
        (["infer"], "(default: the job file's value, else True)"),
        (["generate", "dis"], "--progress, --no-progress"),
    ],
)
def test_help_shows_the_defaults(capsys, argv, shown):
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # help wraps lines
    assert shown in out and "(default:" in out


def test_version_prints_without_tensorflow():
    code = (
        "import sys\nfrom hepnnlr.cli.main import main\ntry:\n    main(['--version'])\n"
        "except SystemExit as e:\n    assert e.code == 0\n"
        "assert 'tensorflow' not in sys.modules, 'TensorFlow imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout == f"hepnnlr {__version__}\n"


def test_reweight_options_show_the_reweight_jobs_defaults_and_override_only_when_given():
    """hepnnlr reweight follows the same rule: each option's default is ReweightJob's field
    (shown by --help), and only the options given reach the job."""
    from hepnnlr.cli.options import given
    from hepnnlr.workflows.reweight import ReweightJob

    defaults = _job_defaults(["reweight", "model", "job.yaml"])
    assert {"executor", "workers", "chunksize", "weights_format", "progress"} <= set(defaults)
    fields = {f.name: f.default for f in dataclasses.fields(ReweightJob)}
    for dest, default in defaults.items():
        assert default.value() == fields[default.key], dest
    args = build_parser().parse_args(["reweight", "m", "j.yaml", "--workers", "3", "--no-progress"])
    assert {k: v for k, v in given(args).items() if k in defaults} == {
        "workers": 3,
        "progress": False,
    }
