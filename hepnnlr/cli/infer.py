"""``hepnnlr infer CONFIG``: signal strength μ with a nuisance z, intervals and coverage.

The YAML config holds the fields of :class:`hepnnlr.workflows.infer.InferenceJob`: the
Gaussian toy (``examples/configs/infer_gaussian.yaml``) or ROOT samples through a processor
(``examples/configs/infer_tautau.yaml``: H → ττ vs Z → ττ with the τ_h energy scale); a
``coverage`` section adds the study over test sets and bootstrap sets (``--no-coverage``
skips it).

Every fitted number (μ, z and their 68.27 % interval ends) is printed with its statistical
error (``stat``: bootstrap replicas of the fitted dataset, densities frozen), its method
error (``method``: the routes retrained with other seeds) and both in quadrature
(``total``); ``--repeats``/``--bootstrap`` override ``uncertainty`` (docs/infer.md).

The trained routes, each retrained repeat and each coverage truth are checkpointed in
``OUTPUT/.hepnnlr-checkpoint/infer`` (:mod:`hepnnlr.workflows.infer_checkpoint`);
``--resume`` continues a killed job, loading them instead of training them again.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from hepnnlr.cli.main import run_step
from hepnnlr.cli.options import (
    RUN_KEYS,
    JobDefault,
    add_run_options,
    add_switch,
    add_verb,
    given,
    output_option,
    overrides,
)
from hepnnlr.errors import ConfigError

__all__ = ["register", "run"]


INFER_JOB = "hepnnlr.workflows.infer_config:InferenceJob"
#: option -> key path in the job file (the options given override its values): infer's
#: options that set the job are all shared with fit (-o and add_run_options)
_KEYS = RUN_KEYS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the sub-command's parser; it sets ``handler`` (args -> exit code)."""
    parser = add_verb(
        subparsers,
        "infer",
        "fit a signal strength mu with a nuisance z (true / classifier / flow likelihoods),"
        " write NLL scans, Wilks intervals, plots and optionally a coverage study",
        "Signal strength mu with a nuisance z from a YAML job; the options "
        "given override the job file's values.",
    )
    parser.add_argument(
        "config", type=Path, help="YAML job (fields of hepnnlr.workflows.infer.InferenceJob)"
    )
    output_option(parser, JobDefault(INFER_JOB, "output_dir"), "output_dir")
    add_switch(
        parser,
        "coverage",
        JobDefault(INFER_JOB, "coverage"),
        "run the coverage section of the job file (--no-coverage skips it)",
    )
    add_run_options(parser, INFER_JOB, "progress bars of processing")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load the job, run it and print where the results are."""
    from hepnnlr.workflows.infer import load_inference_job, run_inference

    started = time.perf_counter()
    changes = overrides(args, _KEYS)
    if "output_dir" in changes:  # samples may live under it (relative_to: output_dir)
        changes["output_dir"] = str(Path(changes["output_dir"]).resolve())
    coverage = given(args).get("coverage")
    if coverage is False:
        changes["coverage"] = None
    job = load_inference_job(args.config, **changes)
    if coverage and job.coverage is None:
        raise ConfigError(
            f"--coverage: the job file {args.config} has no coverage section; add one "
            "(see examples/configs/infer_gaussian.yaml) or leave --coverage out."
        )
    return run_step(args, job, run_inference, lambda outputs: _report(outputs, started))


def _report(outputs, started: float) -> None:
    """Print the fitted values, their errors, the coverage and where the outputs are."""
    print(f"[hepnnlr] infer done in {time.perf_counter() - started:.0f} s")
    fitted = outputs.summary.get("fitted", "dataset")
    unit = outputs.summary["z_unit"]
    unit_name = "π" if math.isclose(unit, math.pi) else f"{unit:g}"
    print(
        f"  fitted: {fitted} ({outputs.summary['n_events']} events); z in units of "
        f"{unit_name} (summary.json: z as scanned)"
    )
    for name, result in outputs.summary[fitted].items():
        mu, z = (
            result["mu"][0],
            {k: v / unit for k, v in result["z"][0].items() if k in ("best", "low", "high")},
        )
        print(
            f"  {name:<10} mu = {mu['best']:.4f} [{mu['low']:.4f}, {mu['high']:.4f}]   "
            f"z = {z['best']:.4f} [{z['low']:.4f}, {z['high']:.4f}]  (68.3 %)"
        )
        if result["minuit"].get("minos_error"):
            print(f"  {'':<10} MINOS failed, MIGRAD kept: {result['minuit']['minos_error']}")
    _print_errors(outputs.summary, unit, unit_name)
    if "coverage" in outputs.summary:
        print("  coverage (bootstrap, k = {:g}):".format(outputs.summary["coverage"]["k"]))
        for name, m in outputs.summary["coverage"]["mean"].items():
            print(
                f"    {name:<10} mu {m['mu_coverage']:.3f}  z {m['z_coverage']:.3f}  "
                f"widths {m['mu_width']:.4f} {m['z_width'] / unit:.4f}"
            )
    print(f"  summary: {outputs.summary_file}")
    if outputs.plots:
        print(f"  plots:   {outputs.plots[0].parent}/ ({len(outputs.plots)} files)")


def _print_errors(summary: dict, unit: float, unit_name: str) -> None:
    """The table of every route's fitted numbers with stat, method and total."""
    from hepnnlr.results.fit_errors import ParameterError, error_table

    errors = summary.get("uncertainties")
    if not errors:
        return
    settings = summary["uncertainty"]
    print(
        f"  uncertainties ({settings['bootstrap']} bootstrap replicas of the fitted data, "
        f"{settings['repeats']} repeats; z in units of {unit_name}):"
    )
    for route, per_name in errors.items():
        print(f"  {route}:")
        table = {}
        for name, e in per_name.items():
            scale = unit if name.startswith("z") else 1.0

            def scaled(v, scale=scale):
                return None if v is None else v / scale

            table[name] = ParameterError(
                e["value"] / scale,
                scaled(e["stat"]),
                scaled(e["method"]),
                (e["repeats_kept"], e["repeats"]),
                (e["replicas_used"], e["replicas"]),
                scaled(e["bootstrap_bias"]),
            )
        for row in error_table(table):
            print(row)
    print(
        "  stat: spread over bootstrap replicas of the fitted data (Poisson(1) weights, "
        "trained densities frozen); method: spread of the routes retrained with other "
        "seeds (none for exact); total: both in quadrature"
    )
