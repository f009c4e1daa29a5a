"""hepnnlr's OmniFold against the ``omnifold`` package on the same arrays, for docs/results.md.

The measurement is ``benchmarks/bench_vs_multifold.py`` (the 2-D toy with an inefficiency
and fakes of ``tests/methods/test_omnifold_closure.py``, both tools side by side; its
docstring defines every figure). It writes ``docs/benchmarks/vs_omnifold_toy.json`` for
``docs/benchmarks.md``; this script turns that file into the result file of
``docs/results.md`` (``docs/results/omnifold_peer.json``): the pulls of every seed after the
shorter and the longer run, the marginals' chi^2, the CPU of each tool and the verdicts.
It computes nothing itself, so the two documents show the same run; the benchmark's
command, date and load are kept in the notes.

Usage::

    python benchmarks/bench_vs_multifold.py --peer-path /tmp/omnifold-peer --seeds 3 \
        --sim-events 100000 --data-events 50000 --json docs/benchmarks/vs_omnifold_toy.json
    python examples/omnifold_peer.py
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import RESULTS_DIR, ROOT, load_average, table, write_result  # noqa: E402

QUANTITIES = ("mean 1", "mean 2", "width 1", "width 2", "correlation", "total")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--benchmark", type=Path, default=ROOT / "docs" / "benchmarks" / "vs_omnifold_toy.json"
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "omnifold_peer.json")
    args = parser.parse_args(argv)
    load_before = load_average()
    document = json.loads(args.benchmark.read_text())
    results = document["results"]
    seeds = sorted({int(m) for m in re.findall(r"^seed(\d+)_", "\n".join(results), re.M)})
    runs = sorted({int(n) for n in re.findall(r"_it(\d+)_D$", "\n".join(results), re.M)})
    rows = []

    def cells(key: str) -> list[str]:
        """Pulls with their sign, D and chi^2 to one decimal."""
        pulls = [f"{results[key + f'pull {q}']:+.2f}" for q in QUANTITIES]
        return [*pulls, f"{results[key + 'D']:.1f}", f"{results[key + 'chi2']:.1f}"]

    for seed in seeds:
        rows.append([seed, "prior (no unfolding)", "—", *cells(f"seed{seed}_prior_")])
        for tool in ("hepnnlr", "omnifold"):
            rows += [[seed, tool, n, *cells(f"seed{seed}_{tool}_it{n}_")] for n in runs]
    first = f"seed{seeds[0]}_omnifold_it{runs[0]}_ndof"
    pulls = table(
        "Pulls (unfolded − data truth) / σ, their sum of squares D and the marginals' χ² "
        f"({results[first + ' z1']:.0f} + {results[first + ' z2']:.0f} bins at seed "
        f"{seeds[0]})",
        ["seed", "tool", "iterations", *QUANTITIES, "D", "χ²"],
        rows,
    )

    def cpu_row(seed: int) -> list:
        hep, peer = (results[f"seed{seed}_{t}_cpu_s"] for t in ("hepnnlr", "omnifold"))
        return [seed, f"{hep:.1f}", f"{peer:.1f}", f"{peer / hep:.2f}×"]

    cpu = table(
        "CPU of the whole unfolding call (s), one TensorFlow thread each",
        ["seed", "hepnnlr", "omnifold MultiFold", "ratio"],
        [cpu_row(seed) for seed in seeds],
    )
    verdicts = table(
        "Verdicts (docs/benchmarks.md table)",
        ["measurement", "ratio", "target", "met", "detail"],
        [
            [row["measurement"], f"{row['ratio']:.2f}", row["target"],
             {True: "yes", False: "no", None: "—"}[row.get("met")], row.get("note", "")]
            for row in document["summary"]
        ],
    )  # fmt: skip
    notes = [
        f"Measured by `{document['command']}` on {document['date']} (load "
        f"{document['load_before']} → {document['load_after']}); "
        f"[docs/benchmarks/{args.benchmark.name}](benchmarks/{args.benchmark.name}).",
        *[f"{k}: {v}" for k, v in document.get("notes", {}).items()],
        "σ: the spread of an ideal unfolding (the detector known exactly) over 100 data "
        "replicas, times √(1 + N_data/N_sim) (tests/methods/test_omnifold_closure.py).",
    ]
    write_result(
        args.out,
        title="OmniFold: hepnnlr vs the omnifold package's MultiFold on the 2-D toy with fakes",
        scale=document["notes"].get("sample", "") + f"; seeds {seeds}; iterations {runs}",
        tables=[verdicts, pulls, cpu],
        load_before=load_before,
        notes=notes,
        argv=argv,
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
