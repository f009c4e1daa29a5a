"""``hepnnlr``: generate samples, unfold, fit, infer, and run the end-to-end demo.

Each sub-command parses its options into the job dataclasses of :mod:`hepnnlr.workflows`
and :mod:`hepnnlr.samples` (``generate`` here, the others in their own modules); the
options' defaults are the jobs' (:mod:`hepnnlr.cli.options`). Errors of hepnnlr are
printed as one readable line (exit 2), Ctrl-C as one line (exit 130) that gives the
command to resume with where the verb has ``--resume``. Every verb that writes an output
folder runs its job through :func:`run_step`. Every verb takes ``-q/--quiet`` and
``-v/--verbose`` (before or after any word of the command: each parser is made by
:func:`hepnnlr.cli.options.add_verb`), which set the level of the one log handler of the
run (:mod:`hepnnlr.cli.logs`); ``-q`` also turns the progress bars off.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hepnnlr import __version__
from hepnnlr.cli.logs import LEVELS, command_logging
from hepnnlr.cli.options import FORMATTER, add_verb, add_verbosity_options
from hepnnlr.errors import HepnnlrError

__all__ = ["build_parser", "guarded", "main", "run_step"]


def _add_overwrite_file(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing output file (only once the new one is "
        "complete); without it an existing file is refused",
    )


@contextlib.contextmanager
def guarded(folder: Path, args: argparse.Namespace):
    """The :class:`~hepnnlr.outputs.OutputFolder` of a run into ``folder``: created and
    probed before any work, locked, another run's outputs refused unless --overwrite or
    --resume. For verbs with ``--resume``, every OmniFold run of the job checkpoints into
    ``folder/.hepnnlr-checkpoint`` (:func:`hepnnlr.methods.checkpoint.checkpointing`)."""
    from hepnnlr.outputs import OutputFolder

    resume = getattr(args, "resume", None)
    with OutputFolder(
        folder, overwrite=getattr(args, "overwrite", False), resume=bool(resume)
    ) as out:
        if resume is None:
            yield out
            return
        from hepnnlr.methods.checkpoint import checkpointing

        with checkpointing(out.checkpoint_dir, resume=resume):
            yield out


def run_step(
    args: argparse.Namespace,
    job: Any,
    run: Callable[[Any], Any],
    report: Callable[[Any], None],
    *,
    folder: Path | None = None,
) -> int:
    """The run step of every verb that writes an output folder: ``run(job)`` in the
    :func:`guarded` folder (``job.output_dir``, or ``folder``), the folder finished (its
    ``summary.json`` written) only once ``run`` returned, then ``report(outputs)`` prints
    the result; returns the exit code, 0. An error or Ctrl-C leaves the folder unfinished
    and is turned into its exit code and line by :func:`main` (the resume command for the
    verbs with ``--resume``)."""
    with guarded(job.output_dir if folder is None else folder, args) as out:
        outputs = run(job)
        out.finish()
    report(outputs)
    return 0


def _interrupted(args: argparse.Namespace, argv: Sequence[str] | None) -> str:
    """The line printed on Ctrl-C: how to resume, for verbs that can."""
    if getattr(args, "resume", None) is None:
        return "hepnnlr: interrupted"
    words = [w for w in (sys.argv[1:] if argv is None else argv) if w != "--resume"]
    return f"hepnnlr: interrupted; resume with: {shlex.join(['hepnnlr', *words, '--resume'])}"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hepnnlr`` command."""
    parser = argparse.ArgumentParser(
        prog="hepnnlr",
        description="Neural likelihood-ratio methods for the columnar HEP analysis stack. "
        "Options that set a job's value override a job file's; defaults are shown by "
        "hepnnlr COMMAND --help.",
        formatter_class=FORMATTER,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_verbosity_options(parser)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = add_verb(sub, "generate", "generate Pythia events + detector emulation -> ROOT")
    gen_sub = gen.add_subparsers(dest="process", required=True)
    from hepnnlr.samples.generators import GENERATORS  # the table: no Pythia imported

    for name, generator in GENERATORS.items():
        sample = add_verb(gen_sub, name, generator.help)
        groups: dict[str, Any] = {}  # exclusive name -> its mutually exclusive group
        for option in generator.all_options:
            target = sample
            if option.exclusive and option.exclusive not in groups:
                groups[option.exclusive] = sample.add_mutually_exclusive_group()
            if option.exclusive:
                target = groups[option.exclusive]
            target.add_argument(*option.flags, **option.settings)
        _add_overwrite_file(sample)
        # every process but calo (cells, not particles) can be written as CMS NanoAOD/PFNano;
        # calo is offered it too and refused with the reason
        sample.add_argument(
            "--format",
            choices=("hepnnlr", "nanoaod"),
            default="hepnnlr",
            help="file format: hepnnlr's own tree, or CMS NanoAOD/PFNano "
            "(tree Events, GenCands/PFCands, Runs; see docs/nanoaod.md)",
        )

    # Sub-commands that live in their own module: each adds its parser and sets ``handler``.
    from hepnnlr.cli import demo, fit, infer, unfold

    unfold.register(sub)
    demo.register(sub)
    fit.register(sub)
    infer.register(sub)
    from hepnnlr.cli import reweight  # (its own module, like the verbs above)

    reweight.register(sub)  # every parser made by add_verb takes -q/-v too
    return parser


def _output_file(args: argparse.Namespace) -> Path:
    """``-o`` of generate, checked before any event is made: writable, not replaced unasked."""
    from hepnnlr.outputs import check_output_file

    return check_output_file(args.output, overwrite=args.overwrite)


def _generate(args: argparse.Namespace) -> Path:
    """Run ``hepnnlr generate <process>`` in the ``--format`` asked: through the process's
    entry of :data:`hepnnlr.samples.generators.GENERATORS`; a NanoAOD file is hepnnlr's,
    converted (:func:`hepnnlr.samples.nanoaod.nanoaod_output`)."""
    from hepnnlr.samples.generators import GENERATORS, pythia_settings

    generator = GENERATORS[args.process]  # argparse allows only the table's names
    arguments = generator.arguments(vars(args))  # a bad --param is named before the output
    path = _output_file(args)  # before any event is made
    if args.format == "hepnnlr":
        return generator.load()(path, **arguments)
    from hepnnlr.samples.nanoaod import nanoaod_output

    settings = pythia_settings(args.param)
    with nanoaod_output(path, args.process, seed=args.seed, params=settings) as tmp:
        generator.load()(tmp, **arguments)
    return path


def _run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if getattr(args, "handler", None) is not None:
        return args.handler(args)
    if args.command == "generate":
        from hepnnlr.samples.generators import GENERATORS

        path = _generate(args)
        label = GENERATORS[args.process].label(vars(args))
        print(
            f"[hepnnlr] wrote {args.events} {label}{args.process} events to {path} "
            f"in {time.perf_counter() - started:.0f} s"
        )
        return 0
    raise AssertionError(f"unhandled command {args.command}")  # argparse guarantees


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hepnnlr`` console script."""
    args = build_parser().parse_args(argv)
    verbosity = getattr(args, "verbosity", "default")
    if verbosity == "quiet" and hasattr(args, "progress"):
        args.progress = False  # given, so it overrides a job file's progress: true too
    with command_logging(LEVELS[verbosity]) as log:
        try:
            return _run(args)
        except HepnnlrError as error:
            log.error("%s", error)  # "hepnnlr: error: ..."
            return 2
        except KeyboardInterrupt:
            # Ctrl-C: the completed checkpoints are on disk (each written atomically), the
            # output folder's lock was released on the way out; one line, no traceback.
            print(f"\n{_interrupted(args, argv)}", file=sys.stderr)
            return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
