"""``hepnnlr fit dctr|srgn CONFIG``: a parameter fit described by a YAML job.

The YAML holds the fields of :class:`hepnnlr.workflows.fit.FitJob` (samples, features,
network, training, fit; see ``examples/configs/``); the sub-command picks the method.
Event-feature jobs use MLPs; a Z → jets job can give the networks the jet constituents
(``features.generator_particles`` / ``simulation_particles`` with ``kind: pfn``,
``examples/configs/zjets_dctr_pfn.yaml``).

Every fitted value is printed with its statistical uncertainty (``stat``: bootstrap
replicas of the target), its method uncertainty (``method``: the spread of repeats with
other training seeds) and both in quadrature (``total``); flagged and excluded repeats are
listed with the reason (docs/fits.md).

``--calibrate`` fits the targets of the config's ``calibration:`` section instead (each
an independent sample of known θ) and prints the calibration curve: the fitted values
with their total errors, the weighted line of fitted against true (slope, offset,
χ²/ndf) and the pulls' mean and width (:mod:`hepnnlr.workflows.fit_calibration`).

Both checkpoint their units in ``OUTPUT/.hepnnlr-checkpoint`` (a fit's in ``fit/``, a
calibration's in ``calibration/``: :mod:`hepnnlr.workflows.fit_checkpoint`), and
``--resume`` continues a killed run of the same job with the same options.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from hepnnlr.cli.main import run_step
from hepnnlr.cli.options import (
    RUN_KEYS,
    JobDefault,
    add_analysis_option,
    add_run_options,
    add_verb,
    output_option,
    overrides,
    uncertainty_option,
)

__all__ = ["register", "run"]


FIT_JOB = "hepnnlr.workflows.fit_config:FitJob"
#: option -> key path in the job file (the options given override its values).
_KEYS = {
    **RUN_KEYS,
    "simulation_bootstrap": ("uncertainty", "simulation_bootstrap"),
    "analysis": ("analysis",),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the sub-command's parser; it sets ``handler`` (args -> exit code)."""
    fit = add_verb(
        subparsers,
        "fit",
        "fit generator parameters: DCTR (generator level) or SRGN (detector level)",
    )
    methods = fit.add_subparsers(dest="method", required=True)
    for method, help_text in (
        (
            "dctr",
            "DCTR fit (Eq. 3 of arXiv:2010.03569): frozen parameterized reweighter, "
            "generator level",
        ),
        (
            "srgn",
            "SRGN fit (Eq. 5 of arXiv:2010.03569): generator-level reweighting, "
            "detector-level classifier AUC",
        ),
    ):
        sub = add_verb(
            methods,
            method,
            help_text,
            f"{help_text}. The options given override the job file's values.",
        )
        sub.add_argument(
            "config",
            type=Path,
            help="YAML job (fields of hepnnlr.workflows.fit.FitJob; see examples/configs/)",
        )
        add_analysis_option(
            sub,
            JobDefault(FIT_JOB, "analysis"),
            "the analysis description the samples' files are read with: a built-in "
            "name (hepnnlr.analysis.names(): zjets, ttbar, ...) or the path of a description "
            "YAML; default the generator's own",
        )
        output_option(sub, JobDefault(FIT_JOB, "output_dir"), "output_dir")
        uncertainty_option(
            sub,
            FIT_JOB,
            "simulation_bootstrap",
            "B",
            "replicas of the simulated samples, reweighter retrained per replica: "
            "stat_sim, 0: none",
        )
        sub.add_argument(
            "--calibrate",
            action="store_true",
            help="calibration curve: fit the independent targets of the config's "
            "calibration section (true values, seeds) with the job's simulation and "
            "reweighters; linearity (slope, offset) and pulls (docs/fits.md)",
        )
        add_run_options(sub, FIT_JOB, "progress of generation, processing and training")
        sub.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load the job, run it, print where the outputs are; returns the exit code."""
    from hepnnlr.workflows.fit import load_fit_job, run_fit

    started = time.perf_counter()
    job = load_fit_job(args.config, args.method, **overrides(args, _KEYS))
    if args.calibrate:
        from hepnnlr.workflows.fit_calibration import run_calibration

        return run_step(
            args, job, run_calibration, lambda o: _report_calibration(o, args.method, started)
        )
    return run_step(args, job, run_fit, lambda o: _report(o, job, args.method, started))


def _report(outputs, job, method: str, started: float) -> None:
    """Print every fitted value with its errors, the flagged repeats and the outputs."""
    print(f"[hepnnlr] {method} fit done in {time.perf_counter() - started:.0f} s")
    from hepnnlr.results.fit_errors import error_table

    for row in error_table(outputs.errors, job.target_point()):
        print(row)
    print(
        "  stat: spread over bootstrap replicas of the target (Poisson(1) weights); "
        "method: spread of the repeats (training seeds); total: all in quadrature"
    )
    if job.uncertainty.simulation_bootstrap:
        print("  stat_sim: spread over replicas of the simulated samples (reweighter retrained)")
    else:
        print(
            "  not included: the simulated samples' statistical error "
            "(uncertainty.simulation_bootstrap: 0)"
        )
    for r, (flags, kept) in enumerate(zip(outputs.flags, outputs.kept, strict=True)):
        for flag, reason in flags.items():
            print(f"  repeat {r} flagged {flag}{'' if kept else ' (excluded)'}: {reason}")
    if all(outputs.flags) and not job.uncertainty.keep_flagged:
        print("  warning: every repeat is flagged; the value averages them all")
    for name in outputs.errors:
        if outputs.grid_minimum:
            grid = ", ".join(f"{v:.5g}" for v in outputs.grid_minimum[name])
            print(f"  {name}: parabola vertex around the grid minimum; grid minima: {grid}")
    print(f"  summary:       {outputs.summary_file}")
    print(f"  fitted values: {outputs.fit_file}")
    print(f"  curves:        {outputs.curves_file}")
    print(f"  histograms:    {outputs.histograms_file}")
    print(f"  plots:         {outputs.fit_file.parent}/ ({len(outputs.plots)} files)")
    print(f"  reweighter:    {outputs.fit_file.parent / 'reweighter'}/")


def _report_calibration(outputs, method: str, started: float) -> None:
    """Print the calibration curve's table and where it is."""
    print(
        f"[hepnnlr] {method} calibration: {len(outputs.points)} targets in "
        f"{time.perf_counter() - started:.0f} s"
    )
    for row in outputs.table:
        print(row)
    print(
        "  sigma: total of each target (stat: bootstrap of the target; stat_sim if run; "
        "method: repeats); offset: the bias fitted - true of the line at the pivot"
    )
    print(f"  calibration: {outputs.file}")
    if outputs.plot is not None:
        print(f"  plot:        {outputs.plot}")
