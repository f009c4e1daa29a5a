"""``hepnnlr``: generate samples, unfold, and run the end-to-end demo.

Each sub-command parses its options into the job dataclasses of :mod:`hepnnlr.workflows`
and :mod:`hepnnlr.samples`; errors of hepnnlr are printed as one readable line (exit 2).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from hepnnlr.errors import HepnnlrError

__all__ = ["build_parser", "main"]

EXECUTORS = ("iterative", "futures", "dask")


def _add_training_options(parser: argparse.ArgumentParser, *, epochs: int, iterations: int) -> None:
    group = parser.add_argument_group("OmniFold")
    group.add_argument("--iterations", type=int, default=iterations, help="OmniFold iterations")
    group.add_argument("--epochs", type=int, default=epochs, help="maximum epochs per step")
    group.add_argument("--batch-size", type=int, default=256, help="events per gradient step")
    group.add_argument("--learning-rate", type=float, default=1e-3, help="Adam learning rate")
    group.add_argument("--patience", type=int, default=5, help="early-stopping patience")
    group.add_argument("--model", choices=("pfn", "pet", "mlp"), default="pfn",
                       help="network: PFN or PET on particles + event features, or an MLP on "
                       "event features alone")
    group.add_argument("--seed", type=int, default=1, help="seed of generation and training")


def _add_processing_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("processing")
    group.add_argument("--executor", choices=EXECUTORS, default="futures",
                       help="coffea executor (dask: a local 2-worker cluster unless --scheduler)")
    group.add_argument("--workers", type=int, default=2, help="worker processes")
    group.add_argument("--scheduler", default=None,
                       help="address of a running dask scheduler (with --executor dask)")
    group.add_argument("--chunksize", type=int, default=25_000, help="events per coffea chunk")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def _add_uncertainty_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "uncertainties (the same names as hepnnlr fit; they override a YAML job's)"
    )
    group.add_argument("--repeats", type=int, default=None, metavar="M",
                       help="unfoldings with other training seeds, averaged; their spread is "
                       "the method uncertainty (uncertainty.repeats, default 1)")
    group.add_argument("--bootstrap", type=int, default=None, metavar="B",
                       help="bootstrap replicas of the data (Poisson(1) weights, OmniFold "
                       "retrained per replica): the statistical uncertainty "
                       "(uncertainty.bootstrap, default 0: none)")
    group.add_argument("--data-seed", type=int, default=None, metavar="S",
                       help="seed of the data's replica weights (seeds.data; default the "
                       "training seed)")


def _uncertainty_overrides(args: argparse.Namespace, job):
    """``job`` with the --repeats/--bootstrap/--data-seed given (the demo has none)."""
    from dataclasses import replace

    changes = {k: getattr(args, k, None) for k in ("repeats", "bootstrap")}
    changes = {k: v for k, v in changes.items() if v is not None}
    if changes:
        job = replace(job, uncertainty=replace(job.uncertainty, **changes))
    if getattr(args, "data_seed", None) is not None:
        job = replace(job, seeds={**job.seeds, "data": args.data_seed})
    return job


def _add_overwrite_file(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing output file (only once the new one is "
                        "complete); without it an existing file is refused")


def add_overwrite_folder(parser: argparse.ArgumentParser) -> None:
    """``--overwrite``: replace the outputs of another run in the output folder."""
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the outputs of another run in the output folder "
                        "(its summary.json); without it such a folder is refused")


def guarded(folder: Path, args: argparse.Namespace):
    """The :class:`~hepnnlr.outputs.OutputFolder` of a run into ``folder``: created and
    probed before any work, locked, another run's outputs refused unless --overwrite."""
    from hepnnlr.outputs import OutputFolder

    return OutputFolder(folder, overwrite=getattr(args, "overwrite", False))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hepnnlr`` command."""
    parser = argparse.ArgumentParser(
        prog="hepnnlr",
        description="Neural likelihood-ratio methods for the columnar HEP analysis stack.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="generate Pythia events + detector emulation -> ROOT")
    gen_sub = gen.add_subparsers(dest="process", required=True)
    dis = gen_sub.add_parser("dis", help="deep-inelastic e p scattering at HERA energies")
    dis.add_argument("--setup", choices=("data", "sim"), required=True,
                     help="physics setup: 'data' or 'sim' (see hepnnlr.samples.DIS_SETUPS)")
    dis.add_argument("--events", type=int, required=True, help="number of events")
    dis.add_argument("--seed", type=int, default=1, help="random seed")
    dis.add_argument("-o", "--output", type=Path, required=True, help="output ROOT file")
    dis.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="extra Pythia setting (repeatable), e.g. --param StringZ:aLund=0.8")
    dis.add_argument("--workers", type=int, default=1, help="generator processes")
    dis.add_argument("--no-progress", action="store_true", help="no progress bar")
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
        sample = gen_sub.add_parser(name, help=help_text)
        sample.add_argument("--events", type=int, required=True, help="number of events")
        sample.add_argument("--seed", type=int, default=1, help="random seed")
        sample.add_argument("-o", "--output", type=Path, required=True, help="output ROOT file")
        sample.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                            help=param_help)
        sample.add_argument("--workers", type=int, default=1, help="generator processes")
        sample.add_argument("--no-progress", action="store_true", help="no progress bar")
        _add_overwrite_file(sample)

    tautau = gen_sub.add_parser(
        "tautau", help="H -> tau tau (signal) or Z -> tau tau (background) at 13 TeV, one "
        "leptonic and one hadronic tau (signal-strength example)")
    tautau.add_argument("--process", dest="process_name", choices=("signal", "background"),
                        required=True,
                        help="gg -> H(125) -> tau tau, or gamma*/Z -> tau tau")
    tautau.add_argument("--events", type=int, required=True, help="number of events")
    tautau.add_argument("--seed", type=int, default=1, help="random seed")
    tautau.add_argument("-o", "--output", type=Path, required=True, help="output ROOT file")
    scale = tautau.add_mutually_exclusive_group()
    scale.add_argument("--tau-energy-scale", type=float, default=1.0, metavar="Z",
                       help="hadronic-tau energy scale z applied at reco level (default 1.0)")
    scale.add_argument("--tau-energy-scale-range", type=float, nargs=2, metavar=("LO", "HI"),
                       help="draw z per event uniformly in [LO, HI] instead")
    tautau.add_argument("--mpi", action="store_true",
                        help="multiparton interactions on (off by default: faster)")
    tautau.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="extra Pythia setting (repeatable)")
    tautau.add_argument("--workers", type=int, default=1, help="generator processes")
    tautau.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_overwrite_file(tautau)

    # every process but calo (cells, not particles) can be written as CMS NanoAOD/PFNano
    for sample in gen_sub.choices.values():
        sample.add_argument("--format", choices=("hepnnlr", "nanoaod"), default="hepnnlr",
                            help="file format: hepnnlr's own tree, or CMS NanoAOD/PFNano "
                            "(tree Events, GenCands/PFCands, ...; see docs/nanoaod.md)")

    unfold = sub.add_parser(
        "unfold", help="unfold a DIS data file with a simulation file (flags or a YAML job)"
    )
    unfold.add_argument("config", nargs="?", type=Path, default=None,
                        help="YAML job file (fields of hepnnlr.workflows.DISUnfoldingJob); "
                        "when given, the other options are ignored except --repeats, "
                        "--bootstrap, --data-seed and --save-models")
    unfold.add_argument("--data", help="ROOT file of the data: a path or a URL (root://...)")
    unfold.add_argument("--sim", help="ROOT file of the simulation: a path or a URL")
    unfold.add_argument("-o", "--output", type=Path, default=Path("hepnnlr-unfold"),
                        help="output folder")
    _add_processing_options(unfold)
    _add_training_options(unfold, epochs=20, iterations=3)
    _add_uncertainty_options(unfold)
    unfold.add_argument("--save-models", choices=("all", "final", "none"), default=None,
                        help="save the last step-1/step-2 networks under OUTPUT/models as "
                        "SavedReweighters: final = those of every run (default), all = the "
                        "bootstrap replicas' too, none")
    add_overwrite_folder(unfold)

    demo = sub.add_parser(
        "demo", help="end to end: Pythia DIS -> ROOT -> coffea -> OmniFold -> hist + plots"
    )
    demo.add_argument("-o", "--output", type=Path, default=Path("hepnnlr-demo"),
                      help="output folder")
    demo.add_argument("--events", type=int, default=None,
                      help="events per sample (default: sized to finish in minutes on 2 cores)")
    _add_processing_options(demo)
    _add_training_options(demo, epochs=20, iterations=3)
    add_overwrite_folder(demo)

    # Sub-commands that live in their own module: each adds its parser and sets ``handler``.
    from hepnnlr.cli import fit, infer

    fit.register(sub)
    infer.register(sub)
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
    progress = not args.no_progress
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


def _omnifold_config(args: argparse.Namespace):
    from hepnnlr.methods.omnifold import OmniFoldConfig
    from hepnnlr.models.spec import ModelSpec
    from hepnnlr.training.config import TrainingConfig

    spec = ModelSpec(kind=args.model)
    training = TrainingConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        patience=args.patience,
        seed=args.seed,
        progress=not args.no_progress,
    )
    return OmniFoldConfig(
        iterations=args.iterations, step1_model=spec, step2_model=spec, training=training
    )


def _unfold(args: argparse.Namespace, data: Path, sim: Path):
    from hepnnlr.workflows.unfold_dis import (
        GLOBAL_FEATURES,
        PARTICLE_FEATURES,
        DISUnfoldingJob,
        run_dis_unfolding,
    )

    job = DISUnfoldingJob(
        data_file=data,
        sim_file=sim,
        output_dir=args.output,
        executor=args.executor,
        workers=args.workers,
        scheduler_address=args.scheduler,
        chunksize=args.chunksize,
        omnifold=_omnifold_config(args),
        particle_features=() if args.model == "mlp" else PARTICLE_FEATURES,
        global_features=GLOBAL_FEATURES,
        progress=not args.no_progress,
        save_models=getattr(args, "save_models", None) or "final",
    )
    return run_dis_unfolding(_uncertainty_overrides(args, job))


def _report(outputs, started: float) -> None:
    print(f"\n[hepnnlr] done in {time.perf_counter() - started:.0f} s")
    print(f"  histograms (ROOT): {outputs.histograms_file}")
    print(f"  per-event weights: {outputs.weights_file}")
    if outputs.models:
        print(f"  saved networks:    {outputs.histograms_file.parent / 'models'}/ "
              f"({len(outputs.models)} SavedReweighters)")
    print(f"  summary:           {outputs.summary_file}")
    print(f"  plots:             {outputs.plots[0].parent}/ ({len(outputs.plots)} files)")
    if outputs.chi2:
        print("\n  chi2 of normalized shapes vs data truth (ndof):  prior -> unfolded")
        for name, c in outputs.chi2.items():
            print(f"    {name:<18} {c['sim_truth_vs_data_truth']:9.1f} -> "
                  f"{c['unfolded_vs_data_truth']:7.1f}  ({c['ndof']})")
    from hepnnlr.workflows.unfold_report import error_lines

    errors = getattr(outputs, "uncertainties", {})
    if errors:
        print()
        for row in error_lines(errors):
            print(row)
    else:
        print("\n  uncertainties: neither stat nor method computed (--bootstrap B for the "
              "statistical error, --repeats M for the method error)")


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
    if args.command == "unfold":
        if args.config is not None:
            from hepnnlr.workflows import load_unfolding_job, run_dis_unfolding

            job = _uncertainty_overrides(args, load_unfolding_job(args.config))
            if args.save_models is not None:
                from dataclasses import replace

                job = replace(job, save_models=args.save_models)
            with guarded(job.output_dir, args) as folder:
                outputs = run_dis_unfolding(job)
                folder.finish()
            _report(outputs, started)
            return 0
        if args.data is None or args.sim is None:
            raise HepnnlrError(
                "hepnnlr unfold needs a YAML job file, or both --data FILE and --sim FILE."
            )
        with guarded(args.output, args) as folder:
            outputs = _unfold(args, args.data, args.sim)
            folder.finish()
        _report(outputs, started)
        return 0
    if args.command == "demo":
        from hepnnlr.cli.demo import run_demo

        with guarded(args.output, args) as folder:
            outputs = run_demo(args, _unfold)
            folder.finish()
        _report(outputs, started)
        return 0
    raise AssertionError(f"unhandled command {args.command}")  # argparse guarantees


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hepnnlr`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except HepnnlrError as error:
        print(f"hepnnlr: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
