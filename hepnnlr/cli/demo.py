"""The main job: generate DIS "data" and "simulation", then unfold (``hepnnlr demo``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["DEFAULT_EVENTS", "run_demo"]

#: Events per sample by default: sized so the whole demo finishes in minutes on 2 cores.
DEFAULT_EVENTS = 60_000


def run_demo(args: argparse.Namespace, unfold: Callable):
    """Generate both samples into ``args.output`` and unfold them with ``unfold``."""
    from hepnnlr.samples import make_dis_sample

    n_events = args.events or DEFAULT_EVENTS
    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for setup, seed in (("sim", args.seed), ("data", args.seed + 1)):
        path = out / f"dis_{setup}.root"
        print(f"[hepnnlr] generating {n_events} DIS events, setup '{setup}', seed {seed}")
        files[setup] = make_dis_sample(
            path,
            setup=setup,
            n_events=n_events,
            seed=seed,
            workers=args.workers,
            progress=not args.no_progress,
        )
    return unfold(args, files["data"], files["sim"])
