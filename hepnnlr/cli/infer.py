"""``hepnnlr infer CONFIG``: signal strength μ with a nuisance z, intervals and coverage.

The YAML config holds the fields of :class:`hepnnlr.workflows.infer.InferenceJob`: the
Gaussian toy (``examples/configs/infer_gaussian.yaml``) or ROOT samples through a processor
(``examples/configs/infer_tautau.yaml``: H → ττ vs Z → ττ with the τ_h energy scale); a
``coverage`` section adds the study over test sets and bootstrap sets (``--no-coverage``
skips it).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the sub-command's parser; it sets ``handler`` (args -> exit code)."""
    parser = subparsers.add_parser(
        "infer",
        help="fit a signal strength mu with a nuisance z (true / classifier / flow likelihoods),"
        " write NLL scans, Wilks intervals, plots and optionally a coverage study",
    )
    parser.add_argument("config", type=Path,
                        help="YAML job (fields of hepnnlr.workflows.infer.InferenceJob)")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="output folder (overrides output_dir of the config)")
    parser.add_argument("--no-coverage", action="store_true",
                        help="skip the coverage section of the config")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load the job, run it and print where the results are."""
    from hepnnlr.workflows.infer import load_inference_job, run_inference

    started = time.perf_counter()
    overrides = {}
    if args.output is not None:
        overrides["output_dir"] = str(args.output.resolve())
    if args.no_coverage:
        overrides["coverage"] = None
    outputs = run_inference(load_inference_job(args.config, **overrides))
    print(f"[hepnnlr] infer done in {time.perf_counter() - started:.0f} s")
    fitted = outputs.summary.get("fitted", "dataset")
    unit = outputs.summary["z_unit"]
    unit_name = "π" if math.isclose(unit, math.pi) else f"{unit:g}"
    print(f"  fitted: {fitted} ({outputs.summary['n_events']} events); z in units of "
          f"{unit_name} (summary.json: z as scanned)")
    for name, result in outputs.summary[fitted].items():
        mu, z = result["mu"][0], {k: v / unit for k, v in result["z"][0].items()
                                  if k in ("best", "low", "high")}
        print(f"  {name:<10} mu = {mu['best']:.4f} [{mu['low']:.4f}, {mu['high']:.4f}]   "
              f"z = {z['best']:.4f} [{z['low']:.4f}, {z['high']:.4f}]  (68.3 %)")
        if result["minuit"].get("minos_error"):
            print(f"  {'':<10} MINOS failed, MIGRAD kept: {result['minuit']['minos_error']}")
    if "coverage" in outputs.summary:
        print("  coverage (bootstrap, k = {:g}):".format(outputs.summary["coverage"]["k"]))
        for name, m in outputs.summary["coverage"]["mean"].items():
            print(f"    {name:<10} mu {m['mu_coverage']:.3f}  z {m['z_coverage']:.3f}  "
                  f"widths {m['mu_width']:.4f} {m['z_width'] / unit:.4f}")
    print(f"  summary: {outputs.summary_file}")
    if outputs.plots:
        print(f"  plots:   {outputs.plots[0].parent}/ ({len(outputs.plots)} files)")
    return 0
