"""``samples.generate`` of ``hepnnlr infer``: make the missing ττ files with Pythia.

:class:`GenerateConfig` (sizes, detector passes, the training z range and the seeds, one per
process and role where asked) and :func:`generate_missing_files`, which writes the
training, reference and test files of a
:class:`~hepnnlr.workflows.infer_samples.SamplesConfig` that do not exist yet (test files
at several z share their generator events and detector random numbers).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hepnnlr.errors import ConfigError

if TYPE_CHECKING:
    from hepnnlr.workflows.infer_samples import SamplesConfig

__all__ = ["PROCESSES", "ROLES", "GenerateConfig", "generate_missing_files"]

PROCESSES = ("signal", "background")
ROLES = ("train", "reference", "test")
_FILE_KEYS = tuple(f"{p}_{r}" for r in ROLES for p in PROCESSES)
_LOG = logging.getLogger(__name__)


def _positive_int(value: Any, where: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where}={value!r} must be an integer >= {minimum}.")
    return value


def _per_process(value: Any, where: str) -> dict[str, int]:
    """An event count for both processes, or ``{signal: n, background: m}``."""
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(PROCESSES))
        if unknown or set(value) != set(PROCESSES):
            raise ConfigError(
                f"{where}={dict(value)!r}: give one count for both processes or "
                "{signal: n, background: m}."
            )
        return {p: _positive_int(value[p], f"{where}.{p}") for p in PROCESSES}
    n = _positive_int(value, where)
    return dict.fromkeys(PROCESSES, n)


@dataclass(frozen=True)
class GenerateConfig:
    """Make the missing files of a :class:`SamplesConfig` with Pythia (``tautau`` only).

    Attributes:
        train_events, reference_events, test_events: Generator events per process and role
            (a number for both processes, or ``{signal: n, background: m}``), split over the
            role's files; test events are shared by the files at every z.
        train_passes, reference_passes: Detector passes of every generator event (other
            detector seeds, and for training other z): more rows for the same Pythia time.
        z_range: Training z, drawn per event uniformly in ``[low, high]``.
        seed: Seed of everything generated (each process, role and file gets its own,
            derived from it).
        seeds: Per-sample seeds that replace ``seed`` for one process and role:
            ``{signal_train: s, background_test: …}`` (keys ``{process}_{role}``, any
            subset): a new test sample with the same training samples, say.
        workers: Pythia processes.
    """

    train_events: Any = 2000
    reference_events: Any = 2000
    test_events: Any = 2000
    train_passes: int = 1
    reference_passes: int = 1
    z_range: tuple[float, float] = (0.85, 1.15)
    seed: int = 1
    seeds: dict[str, int] = field(default_factory=dict)
    workers: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.seeds, Mapping):
            raise ConfigError(
                f"samples.generate.seeds must map samples {list(_FILE_KEYS)} to "
                f"seeds, got {self.seeds!r}."
            )
        unknown = sorted(set(self.seeds) - set(_FILE_KEYS))
        if unknown:
            raise ConfigError(
                f"samples.generate.seeds: unknown sample(s) {unknown}; the "
                f"generated samples are {list(_FILE_KEYS)}."
            )
        for name, value in self.seeds.items():
            _positive_int(value, f"samples.generate.seeds.{name}", minimum=0)
        for name in ("train_events", "reference_events", "test_events"):
            object.__setattr__(
                self, name, _per_process(getattr(self, name), f"samples.generate.{name}")
            )
        for name in ("train_passes", "reference_passes", "workers"):
            _positive_int(getattr(self, name), f"samples.generate.{name}")
        for name in ("train_passes", "reference_passes"):
            if getattr(self, name) > 64:
                raise ConfigError(f"samples.generate.{name}={getattr(self, name)}: at most 64.")
        _positive_int(self.seed, "samples.generate.seed", minimum=0)
        if len(self.z_range) != 2 or not float(self.z_range[0]) < float(self.z_range[1]):
            raise ConfigError(
                f"samples.generate.z_range={list(self.z_range)}: give [low, high] with low < high."
            )


def generate_missing_files(spec: SamplesConfig) -> list[Path]:
    """Make the missing training, reference and test files of ``spec`` (its ``generate``),
    each noted on the ``hepnnlr.workflows.infer_generate`` logger (INFO).

    Returns:
        The files written (none when every file exists).
    """
    gen = spec.generate
    if gen is None:
        return []
    from hepnnlr.samples.tautau import TauTauConfig, generate_tautau
    from hepnnlr.samples.tautau_reco import simulate_tautau_detector, write_tautau_events

    written: list[Path] = []
    for p, process in enumerate(PROCESSES):
        for r, role in enumerate(ROLES):
            if role == "test":
                by_z = getattr(spec, f"{process}_test")
                n_files = max((len(f) for f in by_z.values()), default=0)
                targets = [
                    [(z, Path(files[i])) for z, files in sorted(by_z.items()) if i < len(files)]
                    for i in range(n_files)
                ]
            else:
                targets = [[(None, Path(f))] for f in getattr(spec, f"{process}_{role}")]
            total = getattr(gen, f"{role}_events")[process]
            for i, group in enumerate(targets):
                missing = [(z, path) for z, path in group if not path.is_file()]
                if not missing:
                    continue
                n = total // len(targets) + (1 if i < total % len(targets) else 0)
                base = gen.seeds.get(f"{process}_{role}", gen.seed)
                seed = 10_000 * base + 1000 * r + 100 * p + i
                started = time.process_time()
                events = generate_tautau(
                    n, seed=seed, config=TauTauConfig(process), workers=gen.workers, progress=False
                )
                passes = {"train": gen.train_passes, "reference": gen.reference_passes}.get(role, 1)
                for z, path in missing:
                    scale = {
                        "train": tuple(float(v) for v in gen.z_range),
                        "reference": float(spec.z0),
                    }.get(role, z)
                    reco = [
                        simulate_tautau_detector(events, tau_energy_scale=scale, seed=64 * seed + k)
                        for k in range(passes)
                    ]
                    written.append(write_tautau_events(path, _renumbered(reco)))
                _LOG.info(
                    "generated %s %s: %d events x %d detector pass(es) -> %d file(s), %.1f s CPU",
                    process,
                    role,
                    n,
                    passes,
                    len(missing),
                    time.process_time() - started,
                )
    return written


def _renumbered(parts: list) -> Any:
    import awkward as ak

    events = ak.concatenate(parts) if len(parts) > 1 else parts[0]
    return ak.with_field(events, np.arange(len(events), dtype=np.uint64), "event")


# names before issue 18's naming rule (job sections end in ``Config``): still importable,
# for code written against them, but not in ``__all__``
GenerateSpec = GenerateConfig
