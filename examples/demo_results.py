"""The demo's χ² table for ``docs/results.md``, by running ``hepnnlr demo`` (issue 15).

Runs the README's quickstart (``hepnnlr demo``, default scale and seeds) into a temporary
folder (never the repository), reads its ``summary.json`` and writes
``docs/results/demo.json``: per observable the bins compared, the χ² of the normalized
prior (simulation truth) and of the unfolded distribution against the data truth, and
whether unfolding moved it toward the data truth; then the totals. An observable that
does not move toward the data truth is named in a note with its two χ² values. The demo's
figures shown in ``docs/results.md`` are redrawn from the run's ``histograms.root`` (one
:func:`hepnnlr.results.plots.plot_comparison` call each, label "Pseudo-data") into
``docs/figures/demo_<name>.png``.

Usage::

    nice -n 10 python examples/demo_results.py            # ~9 min wall on 2 shared cores
    python examples/demo_results.py --from-output DIR     # tabulate a finished demo run
    python examples/demo_results.py --from-output DIR --figures-only   # redraw its figures
    python examples/demo_results.py --events 2000 --json /tmp/demo.json --figures-dir /tmp

Then ``python examples/results_report.py`` renders the table into ``docs/results.md``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import RESULTS_DIR, ROOT, load_average, table, write_result

from hepnnlr.cli.demo import DEFAULT_EVENTS
from hepnnlr.results.hist_layout import cell, read_region_histograms
from hepnnlr.results.plots import plot_comparison
from hepnnlr.results.style import PlotStyle

FIGURES = ("Q2", "eta_e", "particle_deta", "particle_log_pt", "jet_tau21", "jet_dphi")
"""The observables whose demo figure ``docs/results.md`` shows."""

LABELS = {
    "Q2": "Q²",
    "y": "y",
    "eta_e": "η_e",
    "particle_deta": "particle η − η_e",
    "particle_log_pt": "particle log10 pT",
    "particle_log_pt_over_Q": "particle log10 pT/Q",
    "jet_pt": "jet pT",
    "jet_eta": "jet η",
    "jet_tau21": "jet τ21",
    "jet_dphi": "jet Δφ (from π)",
}
"""Readable names of the demo's histograms (others are shown by their key)."""


def run_demo(output: Path, extra: list[str]) -> tuple[float, float]:
    """Run ``hepnnlr demo -o output`` in a child process; ``(wall s, CPU s of children)``."""
    # ``-m`` from the repository root, so the checkout's code runs even where the
    # ``hepnnlr`` entry point belongs to another installation
    command = [sys.executable, "-m", "hepnnlr.cli.main", "demo", "-o", str(output)]
    command += ["--no-progress", *extra]
    print("[demo_results] running:", " ".join(command), flush=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def read_summary(output: Path) -> dict:
    """The demo's ``summary.json``, checked for the keys this script reads."""
    path = output / "summary.json"
    if not path.is_file():
        raise SystemExit(f"{path} not found: run `hepnnlr demo -o {output}` first")
    summary = json.loads(path.read_text())
    chi2 = summary.get("chi2_normalized_shapes")
    if not chi2:
        raise SystemExit(
            f"{path} has no 'chi2_normalized_shapes': the demo compares with the data truth "
            "only when the data file has one (hepnnlr demo always writes it)"
        )
    for name, entry in chi2.items():
        for key in ("sim_truth_vs_data_truth", "unfolded_vs_data_truth", "ndof"):
            if key not in entry:
                raise SystemExit(f"{path}: chi2_normalized_shapes[{name!r}] has no {key!r}")
    return summary


def chi2_table(chi2: dict) -> tuple[dict, list[str]]:
    """The table of χ² per observable and the names that did not move toward the data."""
    rows, worse = [], []
    total_prior = total_unfolded = 0.0
    total_ndof = 0
    for name, entry in chi2.items():
        prior, unfolded = entry["sim_truth_vs_data_truth"], entry["unfolded_vs_data_truth"]
        toward = unfolded < prior
        if not toward:
            worse.append(name)
        total_prior += prior
        total_unfolded += unfolded
        total_ndof += entry["ndof"]
        rows.append(
            [
                LABELS.get(name, name),
                entry["ndof"],
                f"{prior:,.1f}",
                f"{unfolded:,.1f}",
                "yes" if toward else "**no**",
            ]
        )
    rows.append(
        [
            "**total**",
            total_ndof,
            f"{total_prior:,.0f}",
            f"{total_unfolded:,.0f}",
            f"{len(chi2) - len(worse)} of {len(chi2)}",
        ]
    )
    return (
        table(
            "χ² of the normalized shapes against the pseudo-data truth, particle-level "
            "region Q² > 150 GeV², 0.08 < y < 0.7 (bins with > 10 entries in both, variances "
            "of both histograms; ndof = bins − 1 after normalizing)",
            ["observable", "ndof", "χ² prior (sim truth)", "χ² unfolded", "toward data truth"],
            rows,
        ),
        worse,
    )


#: The datasets of a gen-level region as the unfolding's own figures label them.
GROUP_LABELS = {
    "data": "data truth",
    "sim": "simulation truth (prior)",
    "unfolded": "unfolded (OmniFold)",
}
#: The DIS description's particle-level region, for a summary that does not name it.
DIS_REGION = r"$Q^2 > 150$ GeV$^2$, $0.08 < y < 0.7$"


def redraw_figures(output: Path, summary: dict, figures_dir: Path) -> list[str]:
    """Redraw the shown observables from ``output/histograms.root`` into
    ``figures_dir/demo_<name>.png``; paths relative to docs/.

    Each figure is its region ``gen_<name>`` read back with its dataset and variation axes
    (:func:`hepnnlr.results.read_region_histograms`); the unfolded histogram's
    uncertainty parts are its ``stat`` and ``method`` up/down variations where the run
    computed them (bootstrap, several runs); a run of one network per step has only the
    weights' own statistics.
    """
    region = summary.get("truth_region") or DIS_REGION
    title = f"OmniFold, {summary['iterations']} iterations; particle level, {region}"
    drawn = []
    regions = read_region_histograms(output / "histograms.root")
    for name in FIGURES:
        if f"gen_{name}" not in regions:
            print(f"[demo_results] no region gen_{name}; not shown", flush=True)
            continue
        stacked = regions[f"gen_{name}"]
        shown = {label: cell(stacked, d) for d, label in GROUP_LABELS.items()}
        variations = list(stacked.axes["variation"])
        parts = {
            part: (
                cell(stacked, "unfolded", f"{part}_up"),
                cell(stacked, "unfolded", f"{part}_down"),
            )
            for part in ("stat", "method")
            if f"{part}_up" in variations
        }
        target = figures_dir / f"demo_{name}"
        plot_comparison(
            shown,
            reference=GROUP_LABELS["data"],
            as_points=(GROUP_LABELS["unfolded"],),
            bands={GROUP_LABELS["unfolded"]: parts},
            title=title,
            path=target,
            formats=("png",),
            style=PlotStyle(label="Pseudo-data"),
        )
        try:
            drawn.append(target.with_suffix(".png").resolve().relative_to(ROOT / "docs"))
        except ValueError:
            drawn.append(target.with_suffix(".png"))
    return [Path(p).as_posix() for p in drawn]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--events",
        type=int,
        default=None,
        help="events per sample (default: the demo's own default)",
    )
    parser.add_argument(
        "--from-output",
        type=Path,
        default=None,
        help="tabulate this finished demo folder instead of running the demo",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="run the demo into this folder and keep it (default: temporary)",
    )
    parser.add_argument(
        "--figures-only",
        action="store_true",
        help="with --from-output: only redraw the figures (docs/results/demo.json kept)",
    )
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "demo.json")
    parser.add_argument("--figures-dir", type=Path, default=ROOT / "docs" / "figures")
    args = parser.parse_args(argv)

    if args.figures_only:
        if args.from_output is None:
            parser.error("--figures-only redraws a finished run: give --from-output DIR")
        for path in redraw_figures(
            args.from_output, read_summary(args.from_output), args.figures_dir
        ):
            print(f"[demo_results] drew {path}")
        return 0
    load_before = load_average()
    extra = [] if args.events is None else ["--events", str(args.events)]
    with tempfile.TemporaryDirectory(prefix="hepnnlr-demo-") as scratch:
        if args.from_output is not None:
            output, wall, cpu = args.from_output, None, None
        else:
            output = args.keep if args.keep is not None else Path(scratch)
            wall, cpu = run_demo(output, extra)
        summary = read_summary(output)
        figures = redraw_figures(output, summary, args.figures_dir)

    chi2_tab, worse = chi2_table(summary["chi2_normalized_shapes"])
    chi2 = summary["chi2_normalized_shapes"]
    timings = summary.get("timings_s", {})
    events = DEFAULT_EVENTS if args.events is None else args.events
    scale = (
        f"`hepnnlr demo` with {events:,} Pythia 8 DIS events per setup (`sim` as simulation, "
        f"`data` as pseudo-data; seeds 1 and 2), the default H1-like detector emulation; "
        f"{summary['data_events_reco']:,} data events pass the detector-level selection; "
        f"{summary['iterations']} OmniFold iterations with a PFN on particles plus event "
        f"features at both steps (the demo's defaults); {summary['executor']} executor"
    )
    notes = []
    if worse:
        notes.append(
            "Not moved toward the data truth: "
            + "; ".join(
                f"{LABELS.get(n, n)} (χ² {chi2[n]['sim_truth_vs_data_truth']:.1f} → "
                f"{chi2[n]['unfolded_vs_data_truth']:.1f} for {chi2[n]['ndof']} ndof)"
                for n in worse
            )
            + "."
        )
    else:
        notes.append("Every observable moves from the simulation truth toward the data truth.")
    notes.append(
        "Particle- and jet-level histograms have several correlated entries per event, so "
        "their χ² overstates the significance; at this scale (one network per step, no "
        "ensembling) OmniFold does not close fully: χ²/ndof after unfolding "
        + ", ".join(
            f"{LABELS.get(n, n)} {c['unfolded_vs_data_truth'] / max(c['ndof'], 1):.1f}"
            for n, c in chi2.items()
        )
        + "."
    )
    if wall is not None:
        notes.append(
            f"Run time {wall / 60:.1f} min wall, {cpu / 60:.1f} min CPU (the demo process "
            "and its workers)"
            + (
                "; the demo's own timings: "
                + ", ".join(f"{k.removesuffix('_s')} {v:.0f} s" for k, v in timings.items())
                if timings
                else ""
            )
            + "."
        )
    path = write_result(
        args.json,
        title="The main job: `hepnnlr demo` (OmniFold on Pythia DIS)",
        scale=scale,
        tables=[chi2_tab],
        load_before=load_before,
        figures=figures,
        notes=notes,
        script="examples/demo_results.py",
        argv=sys.argv[1:] if argv is None else argv,
    )
    print(f"[demo_results] wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
