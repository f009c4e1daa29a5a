"""``hepnnlr unfold [JOB.yaml] [--data FILE --sim FILE] [--analysis NAME_OR_PATH] [options]``:
an OmniFold unfolding through an analysis description (default ``dis``).

The options set fields of :class:`hepnnlr.workflows.DISUnfoldingJob`; with a job file, the
options given override its values and those left out keep them; without one, the job's
own defaults apply (:mod:`hepnnlr.cli.options`). Either way the job is built by one
function, :func:`unfold_job`, through the typed loader of :mod:`hepnnlr.workflows.config`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from hepnnlr.cli.options import (
    PLOT_KEYS,
    UNCERTAINTY_KEYS,
    UNFOLD_JOB,
    JobDefault,
    add_analysis_option,
    add_overwrite_folder,
    add_plot_options,
    add_processing_options,
    add_training_options,
    add_uncertainty_options,
    add_verb,
    given,
    output_option,
    overrides,
)
from hepnnlr.errors import HepnnlrError

__all__ = ["register", "report", "run", "unfold_job", "unfold_overrides"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the sub-command's parser; it sets ``handler`` (args -> exit code)."""
    unfold = add_verb(
        subparsers,
        "unfold",
        "unfold a data file with a simulation file through an analysis description "
        "(flags or a YAML job)",
        "Unfold data with OmniFold through an analysis description (--analysis; "
        "default the built-in DIS analysis). Every option sets a field of the job "
        "(hepnnlr.workflows.DISUnfoldingJob); with a YAML job file the options given "
        "override its values, the others keep them.",
    )
    unfold.add_argument(
        "config",
        nargs="?",
        type=Path,
        default=None,
        help="YAML job file (fields of hepnnlr.workflows.DISUnfoldingJob); without one, "
        "--data and --sim",
    )
    unfold.add_argument(
        "--data",
        default=JobDefault(UNFOLD_JOB, "data_file"),
        help="ROOT file of the data: a path or a URL (root://...)",
    )
    unfold.add_argument(
        "--sim",
        default=JobDefault(UNFOLD_JOB, "sim_file"),
        help="ROOT file of the simulation: a path or a URL",
    )
    add_analysis_option(
        unfold,
        JobDefault(UNFOLD_JOB, "analysis"),
        "the analysis description: a built-in name (hepnnlr.analysis.names(): dis, "
        "dis_nanoaod, pfnano_particles, ...) or the path of a description YAML",
    )
    output_option(unfold, JobDefault(UNFOLD_JOB, "output_dir"), "output_dir")
    add_processing_options(unfold, job_file=True)
    add_training_options(unfold, job_file=True)
    add_uncertainty_options(unfold, UNFOLD_JOB)
    unfold.add_argument(
        "--data-seed",
        type=int,
        default=JobDefault(UNFOLD_JOB, "seeds"),
        metavar="S",
        help="seed of the data's bootstrap replica weights (seeds.data; none: the training seed)",
    )
    unfold.add_argument(
        "--save-models",
        choices=("all", "final", "none"),
        default=JobDefault(UNFOLD_JOB, "save_models"),
        help="save the last step-1/step-2 networks under OUTPUT/models as SavedReweighters: "
        "final = those of every run, all = the bootstrap replicas' too, none",
    )
    add_plot_options(unfold, UNFOLD_JOB)
    add_overwrite_folder(unfold, resume=True)
    unfold.set_defaults(handler=run)


#: option -> key path in the job (``--model`` and ``--progress`` set two keys, below).
_KEYS = {
    "data": ("data_file",),
    "sim": ("sim_file",),
    "analysis": ("analysis",),
    "output": ("output_dir",),
    "executor": ("executor",),
    "workers": ("workers",),
    "scheduler": ("scheduler_address",),
    "chunksize": ("chunksize",),
    "iterations": ("omnifold", "iterations"),
    "epochs": ("omnifold", "training", "epochs"),
    "batch_size": ("omnifold", "training", "batch_size"),
    "learning_rate": ("omnifold", "training", "learning_rate"),
    "patience": ("omnifold", "training", "patience"),
    "seed": ("omnifold", "training", "seed"),
    **UNCERTAINTY_KEYS,
    "data_seed": ("seeds", "data"),
    "save_models": ("save_models",),
    **PLOT_KEYS,
}


def unfold_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The job keys the options given set, as a nested mapping (paths as strings)."""
    from hepnnlr.workflows.config import merge_overrides

    out = overrides(args, _KEYS)
    options = given(args)
    if "model" in options:
        kind = {"kind": options["model"]}
        out = merge_overrides(out, {"omnifold": {"step1_model": kind, "step2_model": kind}})
        if options["model"] == "mlp":
            out["particle_features"] = []  # an MLP reads event features only
    if "progress" in options:  # processing and training, whatever the job file says
        shown = options["progress"]
        out = merge_overrides(
            out, {"progress": shown, "omnifold": {"training": {"progress": shown}}}
        )
    return out


def unfold_job(args: argparse.Namespace, **files: str | Path):
    """The job of ``args``: the job file (if any) with the options given merged in;
    ``files`` (``data``, ``sim``) replace ``--data``/``--sim`` (the demo's samples)."""
    from hepnnlr.workflows.config import from_mapping, load_unfolding_job
    from hepnnlr.workflows.unfold_dis import DISUnfoldingJob

    overrides = unfold_overrides(args)
    for option, path in files.items():
        overrides[_KEYS[option][0]] = str(path)
    if getattr(args, "config", None) is not None:
        return load_unfolding_job(args.config, **overrides)
    if "data_file" not in overrides or "sim_file" not in overrides:
        raise HepnnlrError(
            "hepnnlr unfold needs a YAML job file, or both --data FILE and --sim FILE."
        )
    return from_mapping(DISUnfoldingJob, overrides, where="command line")


def run(args: argparse.Namespace) -> int:
    """Build the job, run it, print where the outputs are; returns the exit code."""
    from hepnnlr.cli.main import run_step
    from hepnnlr.workflows.unfold_dis import run_dis_unfolding

    started = time.perf_counter()
    return run_step(args, unfold_job(args), run_dis_unfolding, lambda o: report(o, started))


def report(outputs, started: float) -> None:
    """Print where an unfolding's outputs are, its χ² table and its uncertainties."""
    from hepnnlr.workflows.unfold_report import error_lines

    print(f"\n[hepnnlr] done in {time.perf_counter() - started:.0f} s")
    print(f"  histograms (ROOT): {outputs.histograms_file}")
    print(f"  per-event weights: {outputs.weights_file}")
    if outputs.models:
        print(
            f"  saved networks:    {outputs.histograms_file.parent / 'models'}/ "
            f"({len(outputs.models)} SavedReweighters)"
        )
    print(f"  summary:           {outputs.summary_file}")
    if outputs.plots:
        print(f"  plots:             {outputs.plots[0].parent}/ ({len(outputs.plots)} files)")
    if "data_truth" not in outputs.histograms:
        print("\n  no chi2: the data have no particle-level truth (the figures: unfolded vs prior)")
    if outputs.chi2:
        print("\n  chi2 of normalized shapes vs data truth (ndof):  prior -> unfolded")
        for name, c in outputs.chi2.items():
            print(
                f"    {name:<18} {c['sim_truth_vs_data_truth']:9.1f} -> "
                f"{c['unfolded_vs_data_truth']:7.1f}  ({c['ndof']})"
            )
    errors = getattr(outputs, "uncertainties", {})
    if errors:
        print()
        for row in error_lines(errors):
            print(row)
    else:
        print(
            "\n  uncertainties: neither stat nor method computed (--bootstrap B for the "
            "statistical error, --repeats M for the method error)"
        )
