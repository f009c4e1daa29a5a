"""Why the tt̄ m_t DCTR calibration's pulls were narrow: the width under each definition
of the per-target error σ (issue 15).

Reads the kept records of recorded calibration curves (``calibration.json`` of
``hepnnlr fit … --calibrate``, kept by ``examples/calibration_curves.py`` under
``docs/results/records/``) and recomputes, from their stored per-target numbers (value,
stat, stat_sim, method, kept repeats, every repeat's fit, the simulation replicas'
shifts), the pulls ``(fit − true)/σ`` of the targets in the line with

* σ = stat ⊕ method, independent (the definition the curves were recorded with);
* σ = stat ⊕ stat_sim ⊕ method (the fit's total), independent;
* σ = stat, independent;
* σ = stat ⊕ method/√M′ (the value is the mean of M′ repeats), independent;
* the same with the errors the targets share (the repeats' training noise and the
  simulation's error, :mod:`hepnnlr.results.calibration`) as covariances, decorrelated:
  the current definition.

For each: the pulls, their width (standard deviation), the two-sided probability of a
width this far from 1 if the errors were right (``(n − 1) s²`` ~ χ²_{n−1}) and the χ² about
the truth. Writes ``docs/results/calibration_ttbar_mt_dctr_pull_definitions.json``::

    python examples/calibration_pull_definitions.py \\
        docs/results/records/calibration_ttbar_mt_dctr_0226.json \\
        docs/results/records/calibration_zjets_alphas.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import RESULTS_DIR, ROOT, load_average, show_progress, table, write_result  # noqa: E402


def _definitions(record: dict) -> list[list[str]]:
    from hepnnlr.results.calibration import pulls, shared_errors
    from hepnnlr.workflows.fit_calibration import recorded_simulation

    name = record["parameter"]
    points = [p for p in record["points"] if p["sigma"] is not None]  # the line's targets
    true = np.array([p["true"] for p in points])
    fitted = np.array([p["value"] for p in points])
    stat = np.array([p["stat"] or 0.0 for p in points])
    method = np.array([p["method"] or 0.0 for p in points])
    sim = np.array([p["stat_simulation"] or 0.0 for p in points])
    kept = np.array([[r["kept"] for r in p["repeat_fits"]] for p in points])
    values = np.array([[r["theta"][name] for r in p["repeat_fits"]] for p in points])
    of_mean = np.hypot(stat, method / np.sqrt(kept.sum(axis=1)))
    simulation, _ = recorded_simulation(points, name, record["repeats"])
    cases = [
        ("stat ⊕ method, independent (as recorded)", np.hypot(stat, method), None),
        (
            "stat ⊕ stat_sim ⊕ method (the total), independent",
            np.sqrt(stat**2 + sim**2 + method**2),
            None,
        ),
        ("stat, independent", stat, None),
        ("stat ⊕ method/√M′, independent", of_mean, None),
        (
            "stat ⊕ method/√M′ + shared training noise"
            + (" + simulation" if simulation is not None else "")
            + " as covariances, decorrelated (current)",
            of_mean,
            shared_errors(values, kept, simulation),
        ),
    ]
    rows = []
    for label, sigma, correlated in cases:
        p = pulls(true, fitted, sigma, correlated)
        rows.append(
            [
                label,
                " ".join(f"{v:+.2f}" for v in p.values),
                f"{p.width:.2f}",
                f"{p.width_interval[0]:.2f}-{p.width_interval[1]:.2f}",
                f"{p.width_p_value:.2f}",
                f"{p.chi2:.2f}/{len(p.values)}",
            ]
        )
    return rows


def main(argv=None) -> int:
    show_progress()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("records", nargs="+", type=Path, help="kept calibration.json files")
    args = parser.parse_args(argv)
    load_before = load_average()
    tables, described = [], []
    for path in args.records:
        record = json.loads(path.read_text())
        n = sum(p["sigma"] is not None for p in record["points"])
        where = path.resolve().relative_to(ROOT).as_posix()
        described.append(f"{where} ({record['method'].upper()} {record['parameter']}, {n} targets)")
        tables.append(
            table(
                f"{where}: {record['method'].upper()} {record['parameter']}, the {n} targets "
                "in the line; pulls (fit − true)/σ (decorrelated: over each target's whole "
                "error), their width, its 68 % interval, the two-sided P of a width this "
                "far from 1 if the errors were right, χ² about the truth",
                ["σ", "pulls", "width", "68 % interval", "P", "χ²/n"],
                _definitions(record),
            )
        )
    write_result(
        RESULTS_DIR / "calibration_ttbar_mt_dctr_pull_definitions.json",
        title="tt̄ m_t at generator level (DCTR): the pull width under each error definition",
        scale="the stored per-target numbers of " + "; ".join(described) + "; no fitting",
        tables=tables,
        load_before=load_before,
    )
    print(f"wrote {RESULTS_DIR / 'calibration_ttbar_mt_dctr_pull_definitions.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
