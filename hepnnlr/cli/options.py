"""The command line's shared options and the one rule for their defaults.

Every option that sets a value of a job (``--epochs``, ``--executor``, ``-o``, ...) takes
its default from the job dataclass itself (:class:`JobDefault`), so ``hepnnlr unfold
--data D --sim S`` and a job file naming only ``data_file`` and ``sim_file`` are the same
job; an option the user gives overrides the job file's value, one left out leaves it.
``--help`` shows every default (:data:`FORMATTER`); on/off options are spelled
``--NAME/--no-NAME`` on every verb (:func:`add_switch`). Every verb's parser is made by
:func:`add_verb`, and an option two verbs share is added by one function here: the verbs
that run a job file into a checkpointed folder (``fit``, ``infer``) take the same
:func:`add_run_options`, whose keys in the job are :data:`RUN_KEYS`.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
from pathlib import Path
from typing import Any

__all__ = [
    "EXECUTORS",
    "FORMATTER",
    "PLOT_KEYS",
    "RUN_KEYS",
    "STYLE_NAMES",
    "UNCERTAINTY_KEYS",
    "JobDefault",
    "add_analysis_option",
    "add_overwrite_folder",
    "add_plot_options",
    "add_processing_options",
    "add_run_options",
    "add_switch",
    "add_training_options",
    "add_uncertainty_options",
    "add_verb",
    "add_verbosity_options",
    "given",
    "output_option",
    "overrides",
    "value_of",
]

EXECUTORS = ("iterative", "futures", "dask")
FORMATTER = argparse.ArgumentDefaultsHelpFormatter
"""Every parser's help formatter: each option's help ends with its default."""
UNFOLD_JOB = "hepnnlr.workflows.unfold_dis:DISUnfoldingJob"
STYLE_NAMES = ("cms", "atlas", "lhcb", "alice", "none")
"""The ``--style`` choices: :data:`hepnnlr.results.style.STYLES` (named here so that
building a parser imports no plotting library; a test keeps the two equal)."""
PLOT_KEYS = {
    "plots": ("plots", "enabled"),
    "style": ("plots", "style"),
    "label": ("plots", "label"),
}
"""The keys of :func:`add_plot_options`' options in a job (its ``plots`` section)."""
UNCERTAINTY_KEYS = {
    "repeats": ("uncertainty", "repeats"),
    "bootstrap": ("uncertainty", "bootstrap"),
}
"""The keys of :func:`add_uncertainty_options`' options in a job (its ``uncertainty``
section)."""
RUN_KEYS = {"output": ("output_dir",), **UNCERTAINTY_KEYS, "progress": ("progress",), **PLOT_KEYS}
"""The keys of ``-o`` (:func:`output_option`) and :func:`add_run_options`' options in a job."""


class JobDefault:
    """The default of an option that sets a job's value: that field's default.

    ``--help`` prints it (``str``), looked up only then: building the parser imports no
    job module (and so no TensorFlow). Parsing leaves a ``JobDefault`` in the namespace
    for an option the user did not give (:func:`given` drops those), so the job's own
    value stays.

    Args:
        job: ``"module:Class"`` of the job dataclass.
        key: Dotted field path (``"omnifold.training.batch_size"``).
        job_file: The verb also reads a job file, whose value then applies instead.
    """

    def __init__(self, job: str, key: str, *, job_file: bool = True) -> None:
        self.job, self.key, self.job_file = job, key, job_file

    def value(self) -> Any:
        """The field's default (``dataclasses.MISSING`` for a required field)."""
        module, name = self.job.split(":")
        cls = getattr(importlib.import_module(module), name)
        first, *rest = self.key.split(".")
        field = {f.name: f for f in dataclasses.fields(cls)}[first]
        if field.default_factory is not dataclasses.MISSING:
            value = field.default_factory()
        else:
            value = field.default
        for name in rest:
            value = getattr(value, name)
        return value

    def __str__(self) -> str:
        value = self.value()
        if value is dataclasses.MISSING:
            return "the job file's value"
        shown = "none" if value is None or value == {} else str(value)
        return f"the job file's value, else {shown}" if self.job_file else shown

    __repr__ = __str__


def given(args: argparse.Namespace) -> dict[str, Any]:
    """The options of ``args`` the user gave (those left at a :class:`JobDefault` dropped)."""
    return {k: v for k, v in vars(args).items() if not isinstance(v, JobDefault)}


def overrides(args: argparse.Namespace, keys: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """The job keys set by the options of ``args`` the user gave, as a nested mapping:
    ``keys`` maps an option's ``dest`` to its key path in the job (paths as strings)."""
    options = given(args)
    out: dict[str, Any] = {}
    for option, path in keys.items():
        if options.get(option) is None:
            continue
        value = options[option]
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = str(value) if isinstance(value, Path) else value
    return out


def value_of(args: argparse.Namespace, name: str) -> Any:
    """Option ``name``: the value given, else its default (a :class:`JobDefault`'s value)."""
    value = getattr(args, name)
    return value.value() if isinstance(value, JobDefault) else value


def add_verbosity_options(parser: argparse.ArgumentParser) -> None:
    """``-q/--quiet`` and ``-v/--verbose`` (:data:`hepnnlr.cli.logs.LEVELS`), the same on the
    ``hepnnlr`` parser and on every verb's, so both ``hepnnlr -q demo`` and ``hepnnlr demo
    -q`` work. Neither parser sets a default (a verb's would replace the one given before
    the verb): without either option ``args`` has no ``verbosity`` (INFO)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-q",
        "--quiet",
        dest="verbosity",
        action="store_const",
        const="quiet",
        default=argparse.SUPPRESS,
        help="print only the results, warnings and errors: no progress notes or bars",
    )
    group.add_argument(
        "-v",
        "--verbose",
        dest="verbosity",
        action="store_const",
        const="verbose",
        default=argparse.SUPPRESS,
        help="print details (debug messages) too",
    )


def add_switch(
    parser: argparse.ArgumentParser | Any, name: str, default: Any, help_text: str
) -> None:
    """``--NAME/--no-NAME`` (``argparse.BooleanOptionalAction``), the one spelling of an
    on/off option on every verb."""
    parser.add_argument(
        f"--{name}", action=argparse.BooleanOptionalAction, default=default, help=help_text
    )


def add_processing_options(
    parser: argparse.ArgumentParser, *, job_file: bool, job: str = UNFOLD_JOB
) -> argparse._ArgumentGroup:
    """The coffea options of a job that processes events (``executor``, ``workers``,
    ``scheduler_address`` as ``--scheduler``, ``chunksize``, ``progress`` of ``job``,
    ``"module:Class"``: :class:`~hepnnlr.workflows.DISUnfoldingJob` by default); returns
    the group, for a verb's own processing options."""

    def default(key: str) -> JobDefault:
        return JobDefault(job, key, job_file=job_file)

    group = parser.add_argument_group("processing")
    group.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=default("executor"),
        help="coffea executor (dask: a local cluster unless --scheduler)",
    )
    group.add_argument("--workers", type=int, default=default("workers"), help="worker processes")
    group.add_argument(
        "--scheduler",
        default=default("scheduler_address"),
        help="address of a running dask scheduler (with --executor dask)",
    )
    group.add_argument(
        "--chunksize", type=int, default=default("chunksize"), help="events per coffea chunk"
    )
    add_switch(group, "progress", default("progress"), "progress bars of processing and training")
    return group


def add_training_options(parser: argparse.ArgumentParser, *, job_file: bool) -> None:
    """The OmniFold options of an unfolding (``omnifold`` of the job)."""

    def default(key: str) -> JobDefault:
        return JobDefault(UNFOLD_JOB, f"omnifold.{key}", job_file=job_file)

    group = parser.add_argument_group("OmniFold")
    for flag, kind, key, text in (
        ("--iterations", int, "iterations", "OmniFold iterations"),
        ("--epochs", int, "training.epochs", "maximum epochs per step"),
        ("--batch-size", int, "training.batch_size", "events per gradient step"),
        ("--learning-rate", float, "training.learning_rate", "learning rate"),
        ("--patience", int, "training.patience", "early-stopping patience (epochs)"),
    ):
        group.add_argument(flag, type=kind, default=default(key), help=text)
    group.add_argument(
        "--model",
        choices=("pfn", "pet", "mlp"),
        default=default("step1_model.kind"),
        help="network of both steps: PFN or PET on particles + event "
        "features, or an MLP on event features alone (no particle features)",
    )
    group.add_argument(
        "--seed",
        type=int,
        default=default("training.seed"),
        help="training seed (the demo: also the generation's)",
    )


def add_plot_options(parser: argparse.ArgumentParser, job: str, *, job_file: bool = True) -> None:
    """``--plots/--no-plots``, ``--style`` and ``--label``: the ``plots`` section of ``job``
    (``"module:Class"``; :class:`~hepnnlr.workflows.config.PlotConfig`), the same names on
    every verb that draws; :data:`PLOT_KEYS` maps them to the job's keys."""

    def default(key: str) -> JobDefault:
        return JobDefault(job, f"plots.{key}", job_file=job_file)

    group = parser.add_argument_group("figures (the plots section of the job)")
    add_switch(
        group,
        "plots",
        default("enabled"),
        "draw the figures (the histograms are written either way)",
    )
    group.add_argument(
        "--style",
        choices=STYLE_NAMES,
        default=default("style"),
        help="mplhep style of every figure (none: matplotlib's current rcParams)",
    )
    group.add_argument(
        "--label",
        default=default("label"),
        metavar="TEXT",
        help="the figures' label text after 'hepnnlr' (mplhep.label; '' for none; none: "
        "Pseudo-data for an unfolding of data with their truth, Internal without, "
        "Simulation for fit and infer)",
    )


def add_uncertainty_options(parser: argparse.ArgumentParser, job: str) -> argparse._ArgumentGroup:
    """``--repeats`` and ``--bootstrap``: the ``uncertainty`` section of ``job``
    (``"module:Class"``), the same names on every verb (:data:`UNCERTAINTY_KEYS`); returns
    the group, for a verb's own uncertainty options (:func:`uncertainty_option`)."""
    group = parser.add_argument_group("uncertainties (the uncertainty section of the job)")
    uncertainty_option(
        group,
        job,
        "repeats",
        "M",
        "runs with other training seeds; their spread is the method uncertainty",
    )
    uncertainty_option(
        group,
        job,
        "bootstrap",
        "B",
        "bootstrap replicas (Poisson(1) weights): the statistical uncertainty, 0: none",
    )
    return group


def uncertainty_option(
    parser: argparse.ArgumentParser | Any, job: str, key: str, metavar: str, help_text: str
) -> None:
    """``--KEY`` (``_`` spelled ``-``): the integer ``uncertainty.KEY`` of ``job``; the help
    ends with the key it sets."""
    parser.add_argument(
        f"--{key.replace('_', '-')}",
        type=int,
        default=JobDefault(job, f"uncertainty.{key}"),
        metavar=metavar,
        help=f"{help_text} (uncertainty.{key})",
    )


def add_run_options(parser: argparse.ArgumentParser, job: str, progress_help: str) -> None:
    """The options of a verb that runs a job file into a checkpointed output folder, in
    this order: :func:`add_uncertainty_options`, ``--progress/--no-progress`` (the job's
    ``progress``, described by ``progress_help``), :func:`add_plot_options` and
    ``--overwrite``/``--resume`` (:func:`add_overwrite_folder`); :data:`RUN_KEYS` maps them
    and ``-o`` to the job's keys."""
    add_uncertainty_options(parser, job)
    add_switch(parser, "progress", JobDefault(job, "progress"), progress_help)
    add_plot_options(parser, job)
    add_overwrite_folder(parser, resume=True)


def add_overwrite_folder(parser: argparse.ArgumentParser, *, resume: bool = False) -> None:
    """``--overwrite``: replace the outputs of another run in the output folder; with
    ``resume``, ``--resume`` too (for verbs whose trainings checkpoint:
    :func:`hepnnlr.cli.main.guarded`)."""
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the outputs of another run in the output folder "
        "(its summary.json, an unfinished run's checkpoints); without it "
        "such a folder is refused",
    )
    if resume:
        parser.add_argument(
            "--resume",
            action="store_true",
            help="continue a killed or interrupted run in the output folder "
            "from its checkpoints (same job and options: the same weights, "
            "bit for bit on CPU, as an uninterrupted run)",
        )


def add_analysis_option(parser: argparse.ArgumentParser, default: Any, help_text: str) -> None:
    """``--analysis NAME_OR_PATH``: the analysis description the verb reads its files with;
    ``help_text`` says what it is for that verb."""
    parser.add_argument("--analysis", default=default, metavar="NAME_OR_PATH", help=help_text)


def add_verb(
    subparsers: argparse._SubParsersAction,
    name: str,
    help_text: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """A verb's (or a fit method's, or a generated process') parser, with the one help
    formatter (:data:`FORMATTER`) and ``-q``/``-v`` (:func:`add_verbosity_options`): every
    parser of the command is made here, so they go before or after any word of it
    (``hepnnlr fit -q dctr JOB`` as ``hepnnlr fit dctr JOB -q``)."""
    parser = subparsers.add_parser(
        name, help=help_text, description=description, formatter_class=FORMATTER
    )
    add_verbosity_options(parser)
    return parser


def output_option(parser: argparse.ArgumentParser, default: Any, what: str) -> None:
    """``-o/--output``: the output folder (``output_dir`` of the job)."""
    parser.add_argument(
        "-o", "--output", type=Path, default=default, help=f"output folder ({what})"
    )
