"""``hepnnlr``: generate samples, unfold, fit, infer, and run the end-to-end demo.

Each sub-command parses its options into the job dataclasses of :mod:`hepnnlr.workflows`
and :mod:`hepnnlr.samples` (``generate`` here, the others in their own modules); the
options' defaults are the jobs' (:mod:`hepnnlr.cli.options`). Errors of hepnnlr are
printed as one readable line (exit 2). Every verb takes ``-q/--quiet`` and ``-v/--verbose``
(before or after the verb), which set the level of the one log handler of the run
(:mod:`hepnnlr.cli.logs`); ``-q`` also turns the progress bars off.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from hepnnlr import __version__
from hepnnlr.cli.logs import LEVELS, command_logging
from hepnnlr.cli.options import FORMATTER, add_switch, add_verbosity_options
from hepnnlr.errors import HepnnlrError

__all__ = ["build_parser", "main"]

#: Required options have no default to show in --help.
REQUIRED = {"required": True, "default": argparse.SUPPRESS}


def _add_overwrite_file(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing output file (only once the new one is "
                        "complete); without it an existing file is refused")


def add_overwrite_folder(parser: argparse.ArgumentParser, *, resume: bool = False) -> None:
    """``--overwrite``: replace the outputs of another run in the output folder; with
    ``resume``, ``--resume`` too (for verbs whose trainings checkpoint: :func:`guarded`)."""
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the outputs of another run in the output folder "
                        "(its summary.json, an unfinished run's checkpoints); without it "
                        "such a folder is refused")
    if resume:
        parser.add_argument("--resume", action="store_true",
                            help="continue a killed or interrupted run in the output folder "
                            "from its checkpoints (same job and options: the same weights, "
                            "bit for bit on CPU, as an uninterrupted run)")


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

    gen = sub.add_parser(
        "generate",
        help="generate Pythia events + detector emulation -> ROOT",
        formatter_class=FORMATTER,
    )
    gen_sub = gen.add_subparsers(dest="process", required=True)
    dis = gen_sub.add_parser(
        "dis", help="deep-inelastic e p scattering at HERA energies", formatter_class=FORMATTER
    )
    dis.add_argument("--setup", choices=("data", "sim"), **REQUIRED,
                     help="physics setup: 'data' or 'sim' (see hepnnlr.samples.DIS_SETUPS)")
    dis.add_argument("--events", type=int, **REQUIRED, help="number of events")
    dis.add_argument("--seed", type=int, default=1, help="random seed")
    dis.add_argument("-o", "--output", type=Path, **REQUIRED, help="output ROOT file")
    dis.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="extra Pythia setting (repeatable), e.g. --param StringZ:aLund=0.8")
    dis.add_argument("--workers", type=int, default=1, help="generator processes")
    add_switch(dis, "progress", True, "progress bar")
    _add_overwrite_file(dis)

    for name, help_text, param_help in (
        ("zjets", "e+e- -> Z -> light-quark dijets at 91.19 GeV (SRGN parton-shower example)",
         "Pythia setting (repeatable); TimeShower:alphaSvalue, StringZ:aLund and "
         "StringFlav:probStoUD set the tuned parameters theta"),
        ("ttbar", "ttbar at 13 TeV, one W -> mu nu and one W -> hadrons (SRGN top-mass example)",
         "Pythia setting (repeatable); 6:m0 sets the top mass, PartonLevel:MPI=on switches "
         "multiparton interactions on (off by default: 5x faster)"),
        ("calo", "50 GeV photon showers on a 30x30x30 calorimeter grid (DCTRGAN toy)",
         "ShowerConfig field (repeatable), e.g. --param energy_gev=100"),
    ):
        sample = gen_sub.add_parser(name, help=help_text, formatter_class=FORMATTER)
        sample.add_argument("--events", type=int, **REQUIRED, help="number of events")
        sample.add_argument("--seed", type=int, default=1, help="random seed")
        sample.add_argument("-o", "--output", type=Path, **REQUIRED, help="output ROOT file")
        sample.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                            help=param_help)
        sample.add_argument("--workers", type=int, default=1, help="generator processes")
        add_switch(sample, "progress", True, "progress bar")
        _add_overwrite_file(sample)

    tautau = gen_sub.add_parser(
        "tautau", help="H -> tau tau (signal) or Z -> tau tau (background) at 13 TeV, one "
        "leptonic and one hadronic tau (signal-strength example)", formatter_class=FORMATTER)
    tautau.add_argument("--process", dest="process_name", choices=("signal", "background"),
                        **REQUIRED,
                        help="gg -> H(125) -> tau tau, or gamma*/Z -> tau tau")
    tautau.add_argument("--events", type=int, **REQUIRED, help="number of events")
    tautau.add_argument("--seed", type=int, default=1, help="random seed")
    tautau.add_argument("-o", "--output", type=Path, **REQUIRED, help="output ROOT file")
    scale = tautau.add_mutually_exclusive_group()
    scale.add_argument("--tau-energy-scale", type=float, default=1.0, metavar="Z",
                       help="hadronic-tau energy scale z applied at reco level")
    scale.add_argument("--tau-energy-scale-range", type=float, nargs=2, metavar=("LO", "HI"),
                       help="draw z per event uniformly in [LO, HI] instead")
    add_switch(tautau, "mpi", False, "multiparton interactions (off: faster)")
    tautau.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="extra Pythia setting (repeatable)")
    tautau.add_argument("--workers", type=int, default=1, help="generator processes")
    add_switch(tautau, "progress", True, "progress bar")
    _add_overwrite_file(tautau)

    # every process but calo (cells, not particles) can be written as CMS NanoAOD/PFNano
    for sample in gen_sub.choices.values():
        sample.add_argument("--format", choices=("hepnnlr", "nanoaod"), default="hepnnlr",
                            help="file format: hepnnlr's own tree, or CMS NanoAOD/PFNano "
                            "(tree Events, GenCands/PFCands, ...; see docs/nanoaod.md)")

    # Sub-commands that live in their own module: each adds its parser and sets ``handler``.
    from hepnnlr.cli import demo, fit, infer, unfold

    unfold.register(sub)
    demo.register(sub)
    fit.register(sub)
    infer.register(sub)
    from hepnnlr.cli import reweight  # (its own module, like the verbs above)

    reweight.register(sub)
    # -q/-v on every verb's parser too (fit's methods add theirs in hepnnlr.cli.fit)
    for name, verb in sub.choices.items():
        if name == "generate":
            for sample in gen_sub.choices.values():
                add_verbosity_options(sample)
        elif name != "fit":
            add_verbosity_options(verb)
    return parser


def _pairs(pairs: Sequence[str]) -> list[tuple[str, str]]:
    out = []
    for pair in pairs:
        if "=" not in pair:
            raise HepnnlrError(
                f"--param {pair!r} is not NAME=VALUE; write e.g. "
                "--param TimeShower:alphaSvalue=0.13"
            )
        name, value = pair.split("=", 1)
        out.append((name.strip(), value.strip()))
    return out


def _params(pairs: Sequence[str]) -> tuple[str, ...]:
    return tuple(f"{name} = {value}" for name, value in _pairs(pairs))


def _output_file(args: argparse.Namespace) -> Path:
    """``-o`` of generate, checked before any event is made: writable, not replaced unasked."""
    from hepnnlr.outputs import check_output_file

    return check_output_file(args.output, overwrite=args.overwrite)


def _generate(args: argparse.Namespace) -> Path:
    """Run ``hepnnlr generate <process>``."""
    progress = args.progress
    if args.process == "dis":
        from hepnnlr.samples import make_dis_sample

        return make_dis_sample(_output_file(args), setup=args.setup, n_events=args.events,
                               seed=args.seed, params=_params(args.param),
                               workers=args.workers, progress=progress)
    if args.process == "zjets":
        from hepnnlr.samples import ZJetsTheta, make_zjets_sample

        settings = {v: k for k, v in ZJetsTheta.SETTING_NAMES.items()}
        theta, params = {}, []
        for name, value in _pairs(args.param):
            if name in settings:
                theta[settings[name]] = float(value)
            else:
                params.append(f"{name} = {value}")
        return make_zjets_sample(_output_file(args), n_events=args.events, seed=args.seed,
                                 theta=ZJetsTheta(**theta), params=tuple(params),
                                 workers=args.workers, progress=progress)
    if args.process == "ttbar":
        from hepnnlr.samples import make_ttbar_sample

        top_mass, mpi, params = 172.5, False, []
        for name, value in _pairs(args.param):
            if name == "6:m0":
                top_mass = float(value)
            elif name == "PartonLevel:MPI":
                mpi = value.lower() in ("on", "true", "1")
            else:
                params.append(f"{name} = {value}")
        return make_ttbar_sample(_output_file(args), n_events=args.events, seed=args.seed,
                                 top_mass=top_mass, mpi=mpi, params=tuple(params),
                                 workers=args.workers, progress=progress)
    if args.process == "tautau":
        from hepnnlr.samples import make_tautau_sample

        z = (tuple(args.tau_energy_scale_range) if args.tau_energy_scale_range is not None
             else args.tau_energy_scale)
        return make_tautau_sample(_output_file(args), args.process_name, n_events=args.events,
                                  seed=args.seed, tau_energy_scale=z, mpi=args.mpi,
                                  params=_params(args.param), workers=args.workers,
                                  progress=progress)
    from hepnnlr.samples import ShowerConfig, make_calo_sample

    fields = ShowerConfig.__dataclass_fields__
    values = {}
    for name, value in _pairs(args.param):
        if name not in fields:
            raise HepnnlrError(
                f"--param {name}: ShowerConfig has no field {name!r}; its fields are "
                f"{sorted(fields)}."
            )
        values[name] = type(getattr(ShowerConfig(), name))(value)
    return make_calo_sample(_output_file(args), n_events=args.events, seed=args.seed,
                            config=ShowerConfig(**values), workers=args.workers,
                            progress=progress)


def _generate_in_format(args: argparse.Namespace) -> Path:
    """``_generate`` in the ``--format`` asked: a NanoAOD file is hepnnlr's, converted."""
    if args.format == "hepnnlr":
        return _generate(args)
    from hepnnlr.samples.nanoaod import nanoaod_output

    path = _output_file(args)  # before any event is made
    with nanoaod_output(path, args.process, seed=args.seed, params=_params(args.param)) as tmp:
        _generate(argparse.Namespace(**{**vars(args), "output": tmp}))
    return path


def _run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if getattr(args, "handler", None) is not None:
        return args.handler(args)
    if args.command == "generate":
        path = _generate_in_format(args)
        label = f"{args.setup} " if args.process == "dis" else ""
        print(f"[hepnnlr] wrote {args.events} {label}{args.process} events to {path} "
              f"in {time.perf_counter() - started:.0f} s")
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
