"""``hepnnlr demo``: generate DIS "data" and "simulation", then unfold them.

The unfolding is the job ``hepnnlr unfold`` builds from the same options
(:func:`hepnnlr.cli.unfold.unfold_job`), with the two generated files.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from hepnnlr.cli.options import (
    UNFOLD_JOB,
    add_overwrite_folder,
    add_plot_options,
    add_processing_options,
    add_training_options,
    add_verb,
    output_option,
    value_of,
)

__all__ = ["DEFAULT_EVENTS", "register", "run", "run_demo"]

_LOG = logging.getLogger(__name__)

#: Events per sample by default: sized so the whole demo finishes in minutes on 2 cores.
DEFAULT_EVENTS = 60_000


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the sub-command's parser; it sets ``handler`` (args -> exit code)."""
    demo = add_verb(
        subparsers,
        "demo",
        "end to end: Pythia DIS -> ROOT -> coffea -> OmniFold -> hist + plots",
    )
    output_option(demo, Path("hepnnlr-demo"), "the samples and the unfolding's outputs")
    demo.add_argument(
        "--events",
        type=int,
        default=DEFAULT_EVENTS,
        help="events per sample (sized to finish in minutes on 2 cores)",
    )
    add_processing_options(demo, job_file=False)
    add_training_options(demo, job_file=False)
    add_plot_options(demo, UNFOLD_JOB, job_file=False)
    add_overwrite_folder(demo, resume=True)
    demo.set_defaults(handler=run)


def run_demo(args: argparse.Namespace):
    """Generate both samples into ``args.output`` and unfold them as ``hepnnlr unfold``
    would with the same options."""
    from hepnnlr.cli.unfold import unfold_job
    from hepnnlr.samples import make_dis_sample
    from hepnnlr.workflows.unfold_dis import run_dis_unfolding

    seed = value_of(args, "seed")
    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for setup, sample_seed in (("sim", seed), ("data", seed + 1)):
        path = out / f"dis_{setup}.root"
        _LOG.info("generating %d DIS events, setup %r, seed %d", args.events, setup, sample_seed)
        files[setup] = make_dis_sample(
            path,
            setup=setup,
            n_events=args.events,
            seed=sample_seed,
            workers=value_of(args, "workers"),
            progress=value_of(args, "progress"),
        )
    return run_dis_unfolding(unfold_job(args, data=files["data"], sim=files["sim"]))


def run(args: argparse.Namespace) -> int:
    """Run the demo in a guarded output folder and print where its outputs are."""
    from hepnnlr.cli.main import run_step
    from hepnnlr.cli.unfold import report

    started = time.perf_counter()
    # the demo's job is its options (run_demo builds the unfolding job once the samples exist)
    return run_step(args, args, run_demo, lambda o: report(o, started), folder=args.output)
