"""Calibration curves of the Z → jets α_s (DCTR) and tt̄ m_t (SRGN) fits (issue 15).

Runs ``hepnnlr fit … --calibrate`` (:func:`hepnnlr.workflows.fit_calibration.run_calibration`)
on ``examples/configs/zjets_dctr.yaml`` and ``examples/configs/ttbar_srgn.yaml`` at the
scale given on the command line, and writes ``docs/results/calibration_zjets_alphas.json``
and ``docs/results/calibration_ttbar_mt.json`` (:mod:`examples._results`) with the figures
``docs/figures/calibration_zjets_alphas.png`` and ``docs/figures/calibration_ttbar_mt.png``::

    nice -n 10 python examples/calibration_curves.py zjets --events 60000 \\
        --varied-events 60000 --target-events 15000 --points 5
    nice -n 10 python examples/calibration_curves.py ttbar --events 20000 \\
        --varied-events 20000 --target-events 10000 --points 5

The tt̄ SRGN curve with power (docs/fits.md, tt̄ SRGN items 4–9): targets given by value
inside a varied range wider than the config's, and a larger nominal sample kept beside the
other curves by ``--tag`` (items 9 and 11; the config's reweighter of 4 networks with
EMA; ``--reweighter-members 1 --no-reweighter-ema`` gives the single network of items 4–8)::

    python examples/calibration_curves.py ttbar --events 150000 --varied-events 60000 \\
        --runs 60 --parameter-range 167 183 --targets 169 172 175 178 181 \\
        --target-events 120000 --repeats 3 --bootstrap 5 --simulation-bootstrap 0 \\
        --tag nominal150k-members4ema --keep-flagged --cache \\
        --output out/calibration_ttbar_srgn_wide_n150k_m4ema

Every target is an independent sample with its own seed (``calibration.target_seed + k``);
the nominal and varied samples and the reweighters are shared (docs/fits.md). Pythia
files are kept under ``--output`` and reused by a rerun with the same recipe.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import (  # noqa: E402
    RESULTS_DIR,
    ROOT,
    load_average,
    show_progress,
    table,
    write_result,
)

CASES = {
    "zjets": ("zjets_dctr.yaml", "dctr", "calibration_zjets_alphas", "Z → jets α_s (DCTR)"),
    "ttbar": ("ttbar_srgn.yaml", "srgn", "calibration_ttbar_mt", "tt̄ m_t (SRGN)"),
}


def _arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--events", type=int, default=None, help="nominal events")
    parser.add_argument("--varied-events", type=int, default=None)
    parser.add_argument(
        "--runs",
        type=int,
        default=None,
        help="generator runs of the varied sample (samples.runs), each at its own θ",
    )
    parser.add_argument("--target-events", type=int, default=None, help="events per target")
    parser.add_argument("--points", type=int, default=None, help="targets across the range")
    parser.add_argument(
        "--targets",
        nargs="+",
        type=float,
        default=None,
        metavar="VALUE",
        help="the targets' true values of the calibrated parameter (calibration.points as a "
        "list; instead of --points), e.g. a longer lever arm inside a --parameter-range; "
        "writes <name>_targets<FIRST>-<LAST>.json",
    )
    parser.add_argument(
        "--parameter-range",
        nargs=2,
        type=float,
        default=None,
        metavar=("LOW", "HIGH"),
        help="draw the varied runs' θ of the calibrated parameter from [LOW, HIGH] instead "
        "of samples.parameters, with the targets kept where the config's range puts them "
        "(a reweighter trained beyond the outermost targets: no target near an edge); "
        "writes <name>_range<LOW>-<HIGH>.json",
    )
    parser.add_argument(
        "--tag",
        default=None,
        help="append _TAG to the result's name: another scale of the same curve, kept "
        "beside it (e.g. --tag nominal150k)",
    )
    parser.add_argument(
        "--srgn-objective",
        choices=("auc", "auc_excess"),
        default=None,
        help="what the SRGN fit minimizes (fit.objective; default the config's, 'auc'); "
        "auc_excess keeps the result beside the AUC one (name _auc-excess)",
    )
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--bootstrap", type=int, default=None)
    parser.add_argument("--simulation-bootstrap", type=int, default=None)
    parser.add_argument("--output", type=Path, default=None, help="default out/calibration_<case>")
    parser.add_argument(
        "--method",
        choices=("dctr", "srgn"),
        default=None,
        help="fit with another method than the config's (a diagnostic: e.g. the tt̄ "
        "reweighter's generator-level DCTR fit); writes <name>_<method>.json",
    )
    parser.add_argument(
        "--reweighter-epochs",
        type=int,
        default=None,
        help="override training.reweighter.epochs (the early-stopping patience stays)",
    )
    parser.add_argument(
        "--nominal-draws",
        type=int,
        default=None,
        help="override training.nominal_draws (parameter points per nominal training event)",
    )
    parser.add_argument(
        "--training-seed",
        type=int,
        default=None,
        help="override uncertainty.seed (repeat m trains with seed + m; default the config's "
        "samples.seed): other trainings on the same samples",
    )
    parser.add_argument(
        "--reweighter-members",
        type=int,
        default=None,
        help="override training.reweighter_members (networks per repeat, averaged in log w)",
    )
    parser.add_argument(
        "--reweighter-ema",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="override training.reweighter.ema (a moving average of the reweighter's weights); "
        "ttbar_srgn.yaml sets it, --no-reweighter-ema and --reweighter-members 1 rerun the "
        "curves recorded before (tt̄ SRGN items 1-8 of docs/fits.md)",
    )
    parser.add_argument(
        "--keep-flagged",
        action="store_true",
        help="keep flagged repeats and replicas in the values and errors "
        "(uncertainty.keep_flagged; the flags stay in calibration.json)",
    )
    parser.add_argument("--progress", action="store_true")
    parser.add_argument(
        "--cache",
        action="store_true",
        help="keep the processed samples in <output>/samples_cache.pkl and reuse them when "
        "their sizes match the job's (examples/ttbar_dctr_diagnosis.py writes the same file)",
    )
    parser.add_argument(
        "--rederive",
        action="store_true",
        help="recompute the recorded curve's line and pulls from its kept record "
        "(docs/results/records/<name>.json) under the current error definition, without "
        "fitting (the fits and flags are the record's)",
    )
    parser.add_argument(
        "--separation",
        action="store_true",
        help="instead of the curve: how well g tells the outermost targets apart at "
        "detector level (writes <name>_separation.json)",
    )
    return parser.parse_args(argv)


def replace_given(settings, **changes):
    """``settings`` (a frozen dataclass) with the ``changes`` given on the command line
    (those not None)."""
    return replace(settings, **{k: v for k, v in changes.items() if v is not None})


def load_cached_samples(job, *, cache: bool):
    """The processed samples of ``job`` and its calibration targets (``load_samples``).

    With ``cache``, kept in ``<output>/samples_cache.pkl`` with their recipe
    (:func:`samples_recipe`) and read from there when it is the job's (processing 170,000
    events costs minutes);
    ``examples/ttbar_dctr_diagnosis.py`` shares the file.
    """
    import pickle

    from hepnnlr.workflows.fit_calibration import calibration_targets
    from hepnnlr.workflows.fit_inputs import load_samples

    path = job.output_dir / "samples_cache.pkl"
    key = samples_recipe(job)
    kept = pickle.loads(path.read_bytes()) if cache and path.is_file() else None
    # a file of another recipe (other θ range, seeds, sizes, features) or of the layout
    # before the recipe was kept is processed again, never reused
    if isinstance(kept, dict) and kept.get("recipe") == key:
        return kept["samples"]
    samples = load_samples(job, calibration_targets(job)[1])
    if cache:
        path.write_bytes(pickle.dumps({"recipe": key, "samples": samples}))
    return samples


def samples_recipe(job) -> str:
    """What the processed samples of ``job`` and its calibration targets depend on: the
    generator, θ ranges and points, sizes, runs, seeds and features (not how they are
    executed). Equal recipes give the same samples."""
    from hepnnlr.workflows.fit_calibration import calibration_targets

    s = job.samples
    return repr(
        (
            s.generator,
            sorted(s.parameters.items()),
            sorted(s.nominal.items()),
            s.events,
            s.varied_events or s.events // 2,
            s.runs,
            s.seed,
            sorted(s.seeds.items()),
            s.epsilon,
            s.mpi,
            repr(s.files),
            repr(job.features),
            calibration_targets(job)[1],
        )
    )


def widened(samples, calibration, bounds: tuple[float, float]):
    """``samples`` with the calibrated parameter's range ``samples.parameters`` replaced by
    ``bounds`` and ``calibration`` with its targets given explicitly where the original
    range put them (a number of points: the centres of equal parts of that range), so
    that only the varied sample's θ draws (and the fit's bounds) change."""
    parameter, points = calibration.resolve(samples)
    low, high = bounds
    ranges = {**samples.parameters, parameter: (low, high)}
    widened_samples = replace(samples, parameters=ranges)
    widened_calibration = replace(calibration, points=points)
    # the targets must stay inside the range the reweighter is trained on
    widened_calibration.resolve(widened_samples)
    return widened_samples, widened_calibration


def _variants(args: argparse.Namespace, parameter: str) -> list[tuple[str, str]]:
    """What ``--parameter-range``, ``--targets``, ``--srgn-objective auc_excess`` and
    ``--tag`` change, in order: each as (the result name's suffix, the title's words)."""
    out = []
    if args.parameter_range is not None:
        low, high = args.parameter_range
        out.append((f"range{low:g}-{high:g}", f", varied {parameter} on [{low:g}, {high:g}]"))
    if args.targets is not None:
        out.append(
            (
                f"targets{min(args.targets):g}-{max(args.targets):g}",
                f", targets at {', '.join(f'{v:g}' for v in args.targets)}",
            )
        )
    if getattr(args, "srgn_objective", None) == "auc_excess":
        out.append(("auc-excess", ", objective (AUC − ½)² above identical samples"))
    if args.tag is not None:
        if not re.fullmatch(r"[A-Za-z0-9-]+", args.tag):
            raise SystemExit(f"--tag {args.tag!r}: use letters, digits and '-' (a file name)")
        out.append((args.tag, f" ({args.tag})"))
    return out


def _members_and_ema(job) -> str:
    """The reweighter's ensemble and weight averaging for the scale line ('' if neither)."""
    parts = []
    if job.training.reweighter_members > 1:
        parts.append(f"{job.training.reweighter_members} networks averaged in log w")
    if job.training.reweighter.ema:
        parts.append("EMA of its weights")
    return "".join(f", {p}" for p in parts)


def _name(args: argparse.Namespace, name: str) -> str:
    """The result's name: ``--parameter-range``, ``--targets``, ``--srgn-objective`` and
    ``--tag`` runs are kept beside the config's range and targets and beside each other."""
    return "_".join([name, *(suffix for suffix, _ in _variants(args, ""))])


def titled(args: argparse.Namespace, title: str, job) -> str:
    """``title`` with what the options of :func:`_name` change, so that the curves kept
    beside each other have titles of their own."""
    parameter = job.calibration.resolve(job.samples)[0]
    return title + "".join(words for _, words in _variants(args, parameter))


def _ranges(samples) -> str:
    return ", ".join(f"{k} [{lo:g}, {hi:g}]" for k, (lo, hi) in samples.parameters.items())


def _job(args: argparse.Namespace):
    from hepnnlr.workflows.fit import load_fit_job

    config, method, name, _ = CASES[args.case]
    output = args.output or ROOT / "out" / f"calibration_{args.case}"
    job = load_fit_job(ROOT / "examples" / "configs" / config, method, output_dir=str(output))
    s = replace_given(
        job.samples, events=args.events, varied_events=args.varied_events, runs=args.runs
    )
    c = replace_given(job.calibration, target_events=args.target_events, points=args.points)
    if args.parameter_range is not None:
        s, c = widened(s, c, tuple(args.parameter_range))
    if args.targets is not None:
        if args.points is not None:
            raise SystemExit("--targets and --points: give one (the values or their number)")
        c = replace(c, points=tuple(args.targets))
        c.resolve(s)  # a target outside the range the reweighter is trained on is refused
    u = replace_given(
        job.uncertainty,
        repeats=args.repeats,
        bootstrap=args.bootstrap,
        simulation_bootstrap=args.simulation_bootstrap,
        keep_flagged=True if args.keep_flagged else None,
        seed=args.training_seed,
    )
    method = args.method or job.method
    if args.reweighter_epochs is not None:
        training = replace(
            job.training,
            reweighter=replace(job.training.reweighter, epochs=args.reweighter_epochs),
        )
        job = replace(job, training=training)
    if args.nominal_draws is not None:
        job = replace(job, training=replace(job.training, nominal_draws=args.nominal_draws))
    if args.reweighter_members is not None:
        job = replace(
            job, training=replace(job.training, reweighter_members=args.reweighter_members)
        )
    if args.reweighter_ema is not None:
        reweighter = replace(job.training.reweighter, ema=args.reweighter_ema)
        training = replace(job.training, reweighter=reweighter)
        job = replace(job, training=training)
    if args.srgn_objective is not None:
        job = replace(job, fit=replace(job.fit, objective=args.srgn_objective))
    return replace(
        job, method=method, samples=s, calibration=c, uncertainty=u, progress=args.progress
    )


def separation(args: argparse.Namespace, load_before: str) -> int:
    """How well the job's classifier ``g`` tells the two outermost calibration targets
    apart at detector level (the most the SRGN fit can see): held-out AUC over training
    seeds, its error at 0.5, and each feature's mean shift in units of its spread."""
    import numpy as np

    from hepnnlr.tensors.events import EventTensors
    from hepnnlr.training.classifier import train_classifier
    from hepnnlr.weighted import weighted_auc
    from hepnnlr.workflows.fit_calibration import calibration_targets
    from hepnnlr.workflows.fit_inputs import Inputs, read_sample

    job = _job(args)
    _, _, name, title = CASES[args.case]
    name = _name(args, name)
    parameter, targets = calibration_targets(job)
    (key_a, (a_point, n, a_seed)), (key_b, (b_point, _, b_seed)) = (
        list(targets.items())[0],
        list(targets.items())[-1],
    )
    low = read_sample(job, key_a, a_point, n, a_seed)
    high = read_sample(job, key_b, b_point, n, b_seed)
    inputs = Inputs(low)
    a = inputs.events(low.reco.subset(low.reco_rows()), "reco")
    b = inputs.events(high.reco.subset(high.reco_rows()), "reco")
    rng = np.random.default_rng(job.samples.seed)
    halves = [np.array_split(rng.permutation(len(t)), 2) for t in (a, b)]
    test = EventTensors.concatenate([a.subset(halves[0][1]), b.subset(halves[1][1])])
    labels = np.r_[np.ones(len(halves[0][1])), np.zeros(len(halves[1][1]))]
    n1, n0 = len(halves[0][1]), len(halves[1][1])
    null = float(np.sqrt((n1 + n0 + 1) / (12 * n1 * n0)))  # Mann-Whitney at AUC = 1/2
    rows = []
    for batch, epochs in (
        (job.training.classifier.batch_size, job.training.classifier.epochs),
        (200, 30),
        (100, 60),
    ):
        for m in range(2):
            config = replace(
                job.training.classifier,
                seed=job.training_seed + m + 101,
                batch_size=batch,
                epochs=epochs,
            )
            g = train_classifier(
                job.network.classifier,
                a.subset(halves[0][0]),
                np.ones(len(halves[0][0])),
                b.subset(halves[1][0]),
                np.ones(len(halves[1][0])),
                config,
            )
            auc = max(
                weighted_auc(g.logits(test), labels), 1 - weighted_auc(g.logits(test), labels)
            )
            rows.append([batch, epochs, config.seed, f"{auc:.4f}", f"{(auc - 0.5) / null:.1f}"])
            print(rows[-1], flush=True)
    shifts = []
    for k, feature in enumerate(a.global_features):
        xa, xb = a.globals[:, k], b.globals[:, k]
        shifts.append(
            [feature, f"{(xb.mean() - xa.mean()) / np.sqrt(0.5 * (xa.var() + xb.var())):.3f}"]
        )
    write_result(
        RESULTS_DIR / f"{name}_separation.json",
        title=f"Calibration curve: {title}, what the detector level can see",
        scale=(
            f"the outermost calibration targets {parameter} = {a_point[parameter]:g} and "
            f"{b_point[parameter]:g}, {n:,} events generated each, {len(a):,} and "
            f"{len(b):,} pass the detector-level selection; half of each trains g, half "
            "gives the held-out AUC"
        ),
        tables=[
            table(
                f"g between the targets at {a_point[parameter]:g} and {b_point[parameter]:g}: "
                f"held-out max(AUC, 1 - AUC); error at 0.5: {null:.4f}",
                ["batch", "epochs", "seed", "AUC", "(AUC - 0.5)/error"],
                rows,
            ),
            table(
                "Mean shift of each standardized detector-level feature between the two "
                "targets, in units of its spread (d')",
                ["feature", "d'"],
                shifts,
            ),
        ],
        load_before=load_before,
    )
    return 0


RECORDS = RESULTS_DIR / "records"
"""Each curve's ``calibration.json`` (every target, repeat and replica shift), kept so that
the line and the pulls can be re-derived when only the error definition changes."""


def _tables(record: dict, line, pull, alone, simulated: bool) -> list[dict]:
    """The per-target table and the line-and-pulls table of one calibration record."""
    p = record["parameter"]
    pulls_left = iter(pull.values)  # the targets in the line, in order

    def number(value, digits=3):
        return "n/a" if value is None else f"{value:.{digits}g}"

    rows = [
        [
            f"{pt['true']:.5g}",
            pt["seed"],
            pt["events"],
            f"{pt['value']:.5g}",
            number(pt["stat"]),
            "-" if pt["stat_simulation"] is None else number(pt["stat_simulation"]),
            number(pt.get("simulation_shift_spread")) if pt["stat_simulation"] is not None else "-",
            number(pt["method"]),
            pt["repeats_kept"],
            "none" if pt["sigma"] is None else number(pt["sigma"]),
            "excluded" if pt["sigma"] is None else f"{next(pulls_left):+.2f}",
        ]
        for pt in record["points"]
    ]
    lo, hi = pull.width_interval
    shared = "the repeats' training noise" + (" and the simulation's error" if simulated else "")
    summary = [
        [
            "slope (1 if calibrated)",
            f"{line.slope:.4f} ± {line.slope_error:.4f}",
            f"{line.slope_pull:+.2f} σ",
        ],
        [
            f"offset: bias at {p} = {line.pivot:.5g} (0 if calibrated)",
            f"{line.offset:.4g} ± {line.offset_error:.2g}",
            f"{line.offset_pull:+.2f} σ",
        ],
        ["χ²/ndf of the line", f"{line.chi2:.2f}/{line.ndf}", ""],
        ["the line's errors", f"σ per target + {shared} as covariances between targets", ""],
        *(
            [
                [
                    "slope without the simulation's error",
                    f"{alone.slope:.4f} ± {alone.slope_error:.4f}",
                    f"{alone.slope_pull:+.2f} σ",
                ],
                [
                    "offset without the simulation's error",
                    f"{alone.offset:.4g} ± {alone.offset_error:.2g}",
                    f"{alone.offset_pull:+.2f} σ",
                ],
            ]
            if simulated
            else []
        ),
        ["χ² of the points about the truth", f"{pull.chi2:.2f}/{len(pull.values)}", ""],
        ["pull mean (0), decorrelated", f"{pull.mean:+.2f} ± {pull.mean_error:.2f}", ""],
        [
            "pull width (1), decorrelated; ± the spread of a unit width",
            f"{pull.width:.2f} ± {pull.width_error:.2f}",
            f"68 % interval {lo:.2f}-{hi:.2f}; P = {pull.width_p_value:.2f}",
        ],
    ]
    return [
        table(
            f"Fitted {p} per target: stat (target bootstrap), stat_sim (replicas of the "
            "simulation, shared by the targets; their training noise taken out: "
            "Var(θ_b) − Var(θ_m(b)), docs/fits.md), d spread (the replicas' plain shift "
            "spread θ_b − θ_m(b), the estimator before: training noise included), method "
            "(spread of the M′ kept repeats), "
            "σ = stat ⊕ method/√M′ (the target's own error: its value is the mean of M′ "
            "repeats), pull (fit − true)/σ_whole with σ_whole² = σ² + its share of the "
            "shared errors",
            ["true", "seed", "events used", "fitted", "stat", "stat_sim", "d spread", "method"]
            + ["M′", "σ"]
            + ["pull"],
            rows,
        ),
        table(
            "Linearity (weighted line of fitted vs true) and pulls; the pulls' mean and "
            "width are over the decorrelated pulls L⁻¹(fit − true), V = L Lᵀ (docs/fits.md)",
            ["quantity", "value", "from expectation"],
            summary,
        ),
    ]


def rederive(record: dict) -> tuple[dict, object, object, object]:
    """``record`` (a ``calibration.json``) with its line and pulls recomputed under the
    current error definition (:mod:`hepnnlr.workflows.fit_calibration`); the fits, their
    flags and the excluded targets are the record's. Returns (record, line, pulls,
    line without the simulation's covariance)."""
    import numpy as np

    from hepnnlr.results.calibration import fit_line, pulls, shared_errors
    from hepnnlr.workflows.fit_calibration import recorded_simulation

    name = record["parameter"]
    points = [dict(pt) for pt in record["points"]]
    _, per_point = recorded_simulation(points, name, record["repeats"])
    for pt, (sim, spread, floored) in zip(points, per_point, strict=True):
        if pt["sigma"] is not None:  # the exclusion rule is unchanged
            method = 0.0 if pt["method"] is None else pt["method"] / np.sqrt(pt["repeats_kept"])
            pt["sigma"] = float(np.hypot(pt["stat"] or 0.0, method))
        if spread is not None:  # stat_sim without the replicas' training noise
            pt["simulation_shift_spread"] = spread
            pt["stat_simulation"], pt["stat_simulation_floored"] = sim, floored
            parts = [pt["stat"], sim, pt["method"]]
            pt["total"] = float(np.sqrt(sum(x**2 for x in parts if x is not None)))
    measured = [pt for pt in points if pt["sigma"] is not None]
    true = np.array([pt["true"] for pt in measured])
    fitted = np.array([pt["value"] for pt in measured])
    sigma = np.array([pt["sigma"] for pt in measured])
    values = np.array([[r["theta"][name] for r in pt["repeat_fits"]] for pt in measured])
    kept = np.array([[r["kept"] for r in pt["repeat_fits"]] for pt in measured])
    simulation, _ = recorded_simulation(measured, name, record["repeats"])
    alone = fit_line(true, fitted, sigma, None, shared_errors(values, kept))
    correlated = shared_errors(values, kept, simulation)
    line = fit_line(true, fitted, sigma, None, correlated)
    pull = pulls(true, fitted, sigma, correlated)
    for pt, value in zip(measured, pull.values, strict=True):
        pt["pull"] = value
    out = {
        **record,
        "points": points,
        "training_covariance": shared_errors(values, kept).tolist(),
        "simulation_covariance": None if simulation is None else simulation.tolist(),
        "line": line.to_dict(),
        "line_without_simulation": alone.to_dict(),
        "pulls": pull.to_dict(),
    }
    return out, line, pull, alone


def _rederived(args: argparse.Namespace, load_before: str) -> int:
    """``--rederive``: the recorded curve's line and pulls under the current definition,
    from its kept record; the scale, date and commit of the run are carried over."""
    import numpy as np

    from hepnnlr.workflows.fit_calibration import plot_calibration

    _, method, name, title = CASES[args.case]
    if args.method and args.method != method:
        name, method = f"{name}_{args.method}", args.method
        title = f"{title.split(' (')[0]}, {method.upper()} on the same samples"
    name = _name(args, name)
    source = RECORDS / f"{name}.json"
    if not source.is_file():
        raise SystemExit(
            f"--rederive: no record {source}; run the curve once (it keeps its record there)"
        )
    previous = json.loads((RESULTS_DIR / f"{name}.json").read_text())
    record, line, pull, alone = rederive(json.loads(source.read_text()))
    measured = [pt for pt in record["points"] if pt["sigma"] is not None]
    figure = Path("figures") / f"{name}.png"
    plot_calibration(
        record["parameter"],
        np.array([pt["true"] for pt in measured]),
        np.array([pt["value"] for pt in measured]),
        np.array([pt["sigma"] for pt in measured]),
        line,
        pull,
        ROOT / "docs" / figure,
    )
    scale, _, before = previous["scale"].partition("; line and pulls re-derived")
    # a result re-derived before names the run it came from: keep that run, not the re-derivation
    origin = re.search(r"run ([^,]+), commit (\w+)\)", before)
    run, commit = origin.groups() if origin else (previous["date"], previous["commit"])
    write_result(
        RESULTS_DIR / f"{name}.json",
        title=previous["title"],
        scale=(
            f"{scale}; line and pulls re-derived from the run's record "
            f"(docs/results/records/{name}.json: run {run}, commit "
            f"{commit}) with the error definition of this commit; the fits and "
            "their flags are the run's"
        ),
        tables=_tables(record, line, pull, alone, record["simulation_covariance"] is not None),
        load_before=load_before,
        figures=[figure.as_posix()],
        notes=previous.get("notes", []),
    )
    print(f"wrote {RESULTS_DIR / f'{name}.json'} and docs/{figure}")
    return 0


def main(argv=None) -> int:
    args = _arguments(argv)
    show_progress()  # the reweighters' and each target's notes, as `hepnnlr fit` prints them
    load_before = load_average()
    if args.separation:
        return separation(args, load_before)
    if args.rederive:
        return _rederived(args, load_before)
    from hepnnlr.results.calibration import LineFit
    from hepnnlr.workflows.fit_calibration import run_calibration

    job = _job(args)
    _, method, name, title = CASES[args.case]
    if job.method != method:  # the diagnostic run with the other method
        name, method = f"{name}_{job.method}", job.method
        title = f"{title.split(' (')[0]}, {method.upper()} on the same samples"
    name = _name(args, name)
    title = titled(args, title, job)
    samples = load_cached_samples(job, cache=True) if args.cache else None
    outputs = run_calibration(job, samples)
    for row in outputs.table:
        print(row)
    figure = Path("figures") / f"{name}.png"
    (ROOT / "docs" / figure).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(outputs.plot, ROOT / "docs" / figure)
    RECORDS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(outputs.file, RECORDS / f"{name}.json")
    s, u, c = job.samples, job.uncertainty, job.calibration
    record = json.loads(outputs.file.read_text())
    alone = LineFit(
        **{
            k: record["line_without_simulation"][k]
            for k in ("slope", "slope_error", "offset", "offset_error", "pivot", "chi2", "ndf")
        },
        covariance=tuple(tuple(r) for r in record["line_without_simulation"]["covariance"]),
    )
    write_result(
        RESULTS_DIR / f"{name}.json",
        title=f"Calibration curve: {title}",
        scale=(
            f"{len(outputs.points)} independent targets of {c.events(s):,} events each "
            f"(seeds {outputs.points[0].seed}..{outputs.points[-1].seed}); nominal "
            f"{s.events:,} events (half trains the reweighter, half is fitted), varied "
            f"{s.varied_events or s.events // 2:,} events in {s.runs} generator runs "
            f"(θ uniform in {_ranges(s)}); "
            f"{u.repeats} repeats, {u.bootstrap} bootstrap replicas of each target, "
            f"{u.simulation_bootstrap} replicas of the simulation; {method.upper()}; "
            f"{'flagged fits kept; ' if u.keep_flagged else ''}"
            f"reweighter: up to {job.training.reweighter.epochs} epochs, patience "
            f"{job.training.reweighter.patience}; nominal anchor "
            f"{job.training.nominal_anchor:g}, {job.training.nominal_draws} nominal draw(s)"
            f"{_members_and_ema(job)}; "
            # the run's own priority: a long run alone on the machine is not niced
            f"{outputs.seconds:.0f} s{' niced' if os.nice(0) > 0 else ''} on the shared "
            "2-core machine"
        ),
        tables=_tables(
            record,
            outputs.line,
            outputs.pulls,
            alone,
            record["simulation_covariance"] is not None,
        ),
        load_before=load_before,
        figures=[figure.as_posix()],
        notes=[
            "The targets share the nominal and varied samples and the reweighters: the "
            "simulation's statistical error and the repeats' training noise are common "
            "to the points and enter the line and the pulls as covariances between "
            "targets (docs/fits.md).",
        ],
    )
    print(f"wrote {RESULTS_DIR / f'{name}.json'} and docs/{figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
