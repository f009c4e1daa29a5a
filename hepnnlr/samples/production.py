"""One call from Pythia settings to a ROOT event file: generate, reconstruct, write."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from hepnnlr.samples.detector import DetectorConfig, simulate_detector
from hepnnlr.samples.dis import BLOCK_SIZE, DISSetup, generate_dis
from hepnnlr.samples.rootio import DEFAULT_TREE, write_events

__all__ = ["make_dis_sample"]


def make_dis_sample(
    path: str | os.PathLike[str],
    setup: str | DISSetup = "sim",
    *,
    n_events: int,
    seed: int,
    detector: DetectorConfig | None = None,
    params: Sequence[str] = (),
    workers: int = 1,
    progress: bool = True,
    tree: str = DEFAULT_TREE,
    block_size: int = BLOCK_SIZE,
) -> Path:
    """Generate DIS events, pass them through the detector and write a ROOT file.

    The generator is seeded as described in :func:`hepnnlr.samples.generate_dis` and the
    detector with ``numpy.random.default_rng(seed)``, so the file depends on the arguments
    only (not on ``workers``).

    Args:
        path: output ``.root`` file (parent folders are created); an existing file is
            replaced only once the new one is complete (written under a temporary
            name and renamed).
        setup: ``"sim"``, ``"data"`` or a :class:`DISSetup`.
        n_events: number of events, at least 1.
        seed: non-negative integer seed.
        detector: detector settings; ``DetectorConfig()`` if not given.
        params: extra Pythia settings ``"Name = value"``.
        workers: processes used for generation.
        progress: show a progress bar during generation.
        tree: tree name.
        block_size: events per independently seeded generator block.

    Returns:
        The path written.

    Raises:
        ConfigError: for invalid arguments or Pythia settings.

    Example:
        >>> make_dis_sample("sim.root", "sim", n_events=2000, seed=1)  # doctest: +SKIP
        PosixPath('sim.root')
    """
    gen = generate_dis(
        n_events,
        seed=seed,
        setup=setup,
        params=params,
        workers=workers,
        progress=progress,
        block_size=block_size,
    )
    events = simulate_detector(gen, detector, seed=seed)
    return write_events(Path(path), events, tree)
