"""Throughput of the samples layer: Pythia generation, detector emulation, ROOT writing.

Usage::

    python benchmarks/bench_generation.py              # 5,000 events
    python benchmarks/bench_generation.py -n 20000 --setup data

Prints events per second for each stage with ``workers=1`` and ``workers=2`` side by side
and their ratio. Only generation is spread over processes; the detector emulation and
the ROOT writing run in the calling process in both columns (they are vectorised NumPy
and I/O), so their ratio shows run-to-run noise. ``total`` is ``make_dis_sample`` end to
end, including process start-up and Pythia initialisation.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _timing import finish, load_average  # benchmarks/_timing.py

from hepnnlr.samples import generate_dis, make_dis_sample, simulate_detector, write_events


def _rate(n_events: int, action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return n_events / (time.perf_counter() - start), result


def _measure(n_events: int, setup: str, seed: int, workers: int, folder: Path) -> dict[str, float]:
    rates: dict[str, float] = {}
    rates["generation"], gen = _rate(
        n_events, lambda: generate_dis(n_events, seed=seed, setup=setup, workers=workers)
    )
    rates["detector"], events = _rate(n_events, lambda: simulate_detector(gen, seed=seed))
    rates["ROOT writing"], _ = _rate(
        n_events, lambda: write_events(folder / f"bench_w{workers}.root", events)
    )
    rates["total"], _ = _rate(
        n_events,
        lambda: make_dis_sample(
            folder / f"bench_total_w{workers}.root",
            setup,
            n_events=n_events,
            seed=seed,
            workers=workers,
            progress=False,
        ),
    )
    return rates


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark and print a table."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--events", type=int, default=5000, help="events (default 5000)")
    parser.add_argument("--setup", default="sim", choices=("sim", "data"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    load_before = load_average()

    generate_dis(10, seed=0, setup=args.setup)  # imports and first Pythia start-up
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        one = _measure(args.events, args.setup, args.seed, 1, folder)
        two = _measure(args.events, args.setup, args.seed, 2, folder)

    print(f"{args.events} {args.setup} events, events/s")
    print(f"{'stage':<14}{'workers=1':>12}{'workers=2':>12}{'ratio':>8}")
    for stage in one:
        print(f"{stage:<14}{one[stage]:>12.0f}{two[stage]:>12.0f}{two[stage] / one[stage]:>8.2f}")
    results = {
        f"{stage}_{w}w_events_per_s": rates[stage]
        for w, rates in ((1, one), (2, two))
        for stage in rates
    }
    return finish(__file__, args, argv, load_before, results)


if __name__ == "__main__":
    main()
