"""``hepnnlr reweight MODEL FILESET_OR_JOB [options]``: apply a saved reweighter.

MODEL is a folder written by ``SavedReweighter.save`` or a folder of them (an ensemble, as
``hepnnlr unfold --save-models`` writes ``OUTPUT/models/step2``); FILESET_OR_JOB a job YAML
(``analysis``, ``fileset``, ...; :mod:`hepnnlr.workflows.reweight`), a fileset YAML or a
ROOT file with ``--analysis``. The options given override the job file's values.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from hepnnlr.cli.options import (
    JobDefault,
    add_analysis_option,
    add_overwrite_folder,
    add_processing_options,
    add_verb,
    output_option,
    overrides,
)

__all__ = ["register", "run"]

REWEIGHT_JOB = "hepnnlr.workflows.reweight:ReweightJob"


def _default(key: str) -> JobDefault:
    """The job dataclass's default of ``key`` (shown by ``--help``; see cli/options.py)."""
    return JobDefault(REWEIGHT_JOB, key)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the sub-command's parser; it sets ``handler`` (args -> exit code)."""
    parser = add_verb(
        subparsers,
        "reweight",
        "apply a saved reweighter (or an ensemble, with up/down) to a fileset",
        "Apply a saved reweighter inside a coffea processor, through an analysis "
        "description: per-event weights (with up/down for an ensemble) and reweighted "
        "histograms. Options given override the job file's values; the others keep them.",
    )
    parser.add_argument(
        "model",
        type=Path,
        metavar="MODEL",
        help="folder of a saved reweighter, or a folder of them (an ensemble)",
    )
    parser.add_argument(
        "job",
        metavar="FILESET_OR_JOB",
        help="job YAML (analysis, fileset, ...), fileset YAML or ROOT file",
    )
    add_analysis_option(
        parser,
        None,
        "the analysis description, a built-in name or a YAML path; None: the job file's",
    )
    parser.add_argument(
        "--level",
        default=_default("level"),
        choices=("gen", "reco"),
        help="the description's level holding the inputs (none: the level the reweighter "
        "was trained on)",
    )
    output_option(parser, _default("output_dir"), "output_dir")
    group = add_processing_options(parser, job_file=True, job=REWEIGHT_JOB)
    group.add_argument(
        "--aggregation",
        default=_default("aggregation"),
        help="how ensemble members combine (none: the members' own, else mean)",
    )
    group.add_argument(
        "--format",
        dest="weights_format",
        choices=("parquet", "root"),
        default=_default("weights_format"),
        help="weights file format",
    )
    add_overwrite_folder(parser)
    parser.set_defaults(handler=run)  # fmt: skip


#: option -> key of the job (read by options.overrides, as for unfold).
_KEYS = {
    **{key: (key,) for key in ("level", "executor", "workers", "chunksize",
                               "aggregation", "weights_format", "progress")},
    "output": ("output_dir",),
    "scheduler": ("scheduler_address",),
}  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Build the job, run it in a guarded output folder, print what it wrote."""
    from hepnnlr.cli.main import run_step
    from hepnnlr.workflows.reweight import load_reweight_job, run_reweight

    started = time.perf_counter()
    # the options left at their JobDefault keep the job file's value
    job = load_reweight_job(args.model, args.job, analysis=args.analysis, **overrides(args, _KEYS))
    return run_step(args, job, run_reweight, lambda outputs: _report(outputs, started))


def _report(outputs, started: float) -> None:
    """Print what the reweighting wrote."""
    print(f"[hepnnlr] reweighted in {time.perf_counter() - started:.0f} s")
    for dataset, path in outputs.weights_files.items():
        entry = outputs.summary["datasets"][dataset]
        selected = entry["pass_" + outputs.summary["level"]]
        print(f"  {dataset}: {entry['events']} events, {selected} selected; weights: {path}")
    print(f"  histograms: {outputs.histograms_file}")
    print(f"  summary:    {outputs.summary_file}")
