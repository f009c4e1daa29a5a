"""Checkpoints for ``--resume``: an OmniFold run's phases, a fit or inference job's units.

:class:`CheckpointStore` is the store of a command line's job (``OUTPUT/.hepnnlr-checkpoint``);
:meth:`CheckpointStore.job` gives a fit or inference job its
:class:`~hepnnlr.methods.job_checkpoint.JobCheckpoint` (repeats, replicas, coverage truths).
The rest of this module is OmniFold's, whose units are the phases below.

An OmniFold iteration has two phases (:mod:`hepnnlr.methods.omnifold`): the *pull* (step 1
and, when it runs, step 1b) and the *push* (step 2 and, when it runs, step 2b). After each
completed phase :func:`~hepnnlr.methods.omnifold.omnifold` hands this module its state —
the weight arrays the loop carries on (``pull``; ``push`` and ``spread``), the
normalization factors, the training histories and the trained classifiers (their Keras
models, for the warm start of the next iteration and for ``OmniFoldResult.classifiers``) —
and a resumed run skips the phases found here. Every training is seeded from (iteration,
step) alone (``_reseeded`` in :mod:`hepnnlr.methods.omnifold`) and starts from the saved
model of the previous iteration, so on CPU a resumed run gives the weights of an
uninterrupted one bit for bit (``tests/methods/test_checkpoint.py``).

Layout of one run's folder::

    fingerprint.json            what the run was started with (a sha256 of its inputs)
    it1-pull/state.json         written last: the phase is complete only when it exists
    it1-pull/arrays.npz         the phase's weight arrays and held-out indices
    it1-pull/step1-0.keras      the classifier of each step and ensemble member

:class:`CheckpointStore` holds the runs of one job (the parallel runs and bootstrap replicas
of ``hepnnlr unfold``: one folder per run, named by its fingerprint), and
:func:`checkpointing` makes a store the one :func:`omnifold` uses when it is given no
checkpoint of its own, so a command line turns checkpoints on for every unfolding it runs
without threading an argument through each workflow.

Every file is written with :func:`hepnnlr.outputs.atomic_write`; the networks are saved
and loaded by :mod:`hepnnlr.training.model_files` (Keras is imported only there, when a
model is saved or loaded).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import hashlib
import json
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hepnnlr.errors import HepnnlrError
from hepnnlr.outputs import CHECKPOINT_NAME, atomic_write, write_json

__all__ = [
    "CHECKPOINT_DIR",
    "CheckpointMismatchError",
    "CheckpointStore",
    "OmniFoldCheckpoint",
    "PhaseState",
    "active_store",
    "checkpointing",
    "fingerprint",
]

CHECKPOINT_DIR = CHECKPOINT_NAME
"""The folder of a job's checkpoints inside its output folder (a hidden one, not an output)."""
_FINGERPRINT = "fingerprint.json"
_STATE = "state.json"
_ARRAYS = "arrays.npz"
_MANIFEST = "runs.json"


class CheckpointMismatchError(HepnnlrError):
    """A checkpoint was written by another job than the one asked to resume from it."""


@dataclass
class PhaseState:
    """The state of one completed phase (pull or push) of one iteration.

    Attributes:
        arrays: Weight arrays the loop carries on (``pull``; ``push``, ``spread``).
        scales: The phase's normalization factors (``step1``; ``step2``).
        histories: Per step of the phase, the training history of each ensemble member.
        classifiers: Per step of the phase, the trained classifiers (one per member);
            empty when loaded without models (a later iteration's phase replaces them).
    """

    arrays: dict[str, np.ndarray]
    scales: dict[str, float]
    histories: dict[str, list[dict[str, list[float]]]]
    classifiers: dict[str, list[Any]] = field(default_factory=dict)


def _digest_value(digest: Any, value: Any) -> None:
    """Feed ``value`` into ``digest``: arrays by dtype, shape and bytes; dataclasses field
    by field; the rest by ``repr`` (settings: numbers, strings, tuples)."""
    if isinstance(value, np.ndarray):
        digest.update(f"{value.dtype.str}{value.shape}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(type(value).__name__.encode())
        for f in dataclasses.fields(value):
            digest.update(f.name.encode())
            _digest_value(digest, getattr(value, f.name))
    elif isinstance(value, Mapping):
        for key in sorted(value):
            digest.update(str(key).encode())
            _digest_value(digest, value[key])
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__}{len(value)}".encode())
        for item in value:
            _digest_value(digest, item)
    else:
        digest.update(repr(value).encode())


def fingerprint(**parts: Any) -> str:
    """A sha256 of everything a run's weights depend on (inputs, weights, settings)."""
    digest = hashlib.sha256()
    _digest_value(digest, parts)
    return digest.hexdigest()


class OmniFoldCheckpoint:
    """The checkpoint folder of one OmniFold run (module docstring: the layout).

    Args:
        folder: Where the phases are written (created when the run binds to it).
        resume: Reuse the phases found in ``folder`` (a run started with another
            fingerprint is refused); ``False``: start over, removing them.
    """

    def __init__(self, folder: str | Path, *, resume: bool = True) -> None:
        self.folder = Path(folder)
        self.resume = bool(resume)
        self.key: str | None = None

    def bind(self, key: str) -> None:
        """Tie the folder to the run whose :func:`fingerprint` is ``key``.

        Raises:
            CheckpointMismatchError: ``folder`` holds the phases of a run with another
                fingerprint (other inputs, weights or settings).
        """
        marker = self.folder / _FINGERPRINT
        if marker.is_file() and self.resume:
            try:
                found = json.loads(marker.read_text()).get("fingerprint")
            except (OSError, ValueError, AttributeError):
                found = None
            if found != key:
                raise CheckpointMismatchError(
                    f"the checkpoint {self.folder} was written by another job (other inputs, "
                    "event weights or OmniFold settings) than the one asked to resume from "
                    "it; resume with the same job, or start over (--overwrite on the command "
                    "line, resume=False in Python)."
                )
        elif self.folder.exists():
            shutil.rmtree(self.folder)
        if not marker.is_file():
            self.folder.mkdir(parents=True, exist_ok=True)
            write_json(marker, {"fingerprint": key})
        self.key = key

    def _phase(self, iteration: int, phase: str) -> Path:
        return self.folder / f"it{iteration + 1}-{phase}"

    def has(self, iteration: int, phase: str) -> bool:
        """Whether the phase (0-based ``iteration``, ``pull``/``push``) is complete here."""
        return (self._phase(iteration, phase) / _STATE).is_file()

    def save(self, iteration: int, phase: str, state: PhaseState) -> None:
        """Write the phase: the arrays and models first, ``state.json`` last."""
        folder = self._phase(iteration, phase)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = dict(state.arrays)
        meta: dict[str, Any] = {"scales": state.scales, "histories": state.histories}
        classifiers: dict[str, list[dict[str, Any]]] = {}
        if state.classifiers:
            from hepnnlr.training.model_files import save_network
        for step, members in state.classifiers.items():
            classifiers[step] = []
            for k, trained in enumerate(members):
                save_network(trained.model, folder / f"{step}-{k}.keras")
                if trained.held_out is not None:
                    arrays[f"held_out_{step}_{k}_num"] = trained.held_out[0]
                    arrays[f"held_out_{step}_{k}_den"] = trained.held_out[1]
                classifiers[step].append(
                    {
                        "name": trained.name,
                        "total_ratio": trained.total_ratio,
                        "theta_range": trained.theta_range,
                        "held_out": trained.held_out is not None,
                    }
                )
        meta["classifiers"] = classifiers
        with atomic_write(folder / _ARRAYS) as tmp:
            np.savez(tmp, **arrays)
        # float.hex keeps every bit of the factors (JSON's decimal repr does too, but hex
        # says so at a glance).
        meta["scales"] = {k: float(v).hex() for k, v in state.scales.items()}
        write_json(folder / _STATE, meta)

    def load(self, iteration: int, phase: str, *, models: bool = True) -> PhaseState:
        """Read a complete phase; ``models=False`` leaves its classifiers out."""
        folder = self._phase(iteration, phase)
        meta = json.loads((folder / _STATE).read_text())
        with np.load(folder / _ARRAYS) as stored:
            arrays = {k: stored[k] for k in stored.files}
        classifiers: dict[str, list[Any]] = {}
        if models:
            from hepnnlr.training import TrainedClassifier
            from hepnnlr.training.model_files import load_network

            for step, members in meta["classifiers"].items():
                classifiers[step] = []
                for k, info in enumerate(members):
                    held = None
                    if info["held_out"]:
                        held = (
                            arrays[f"held_out_{step}_{k}_num"],
                            arrays[f"held_out_{step}_{k}_den"],
                        )
                    model = load_network(folder / f"{step}-{k}.keras")
                    classifiers[step].append(
                        TrainedClassifier(
                            model=model,
                            history=meta["histories"][step][k],
                            name=info["name"],
                            total_ratio=info["total_ratio"],
                            theta_range={n: tuple(r) for n, r in info["theta_range"].items()},
                            held_out=held,
                        )
                    )
        return PhaseState(
            arrays={k: v for k, v in arrays.items() if not k.startswith("held_out_")},
            scales={k: float.fromhex(v) for k, v in meta["scales"].items()},
            histories=meta["histories"],
            classifiers=classifiers,
        )


class CheckpointStore:
    """The checkpoints of one job's OmniFold runs, one folder per run.

    A run's folder is named by its fingerprint, so the parallel runs (their seeds) and
    bootstrap replicas (their data weights) of a job each get their own, and a resumed job
    finds each unit it had completed. ``runs.json`` lists the runs in the order they
    started: a resumed job whose first run is not the stored first is another job
    (:class:`CheckpointMismatchError`).

    Args:
        folder: The store's folder (``OUTPUT/.hepnnlr-checkpoint`` on the command line).
        resume: Continue the runs found there; ``False`` removes them first.
    """

    def __init__(self, folder: str | Path, *, resume: bool = False) -> None:
        self.folder = Path(folder)
        self.resume = bool(resume)
        self._opened: list[str] = []
        if not self.resume and self.folder.exists():
            shutil.rmtree(self.folder)

    def _manifest(self) -> list[str]:
        try:
            runs = json.loads((self.folder / _MANIFEST).read_text())
        except (OSError, ValueError):
            return []
        return [str(r) for r in runs] if isinstance(runs, list) else []

    def run(self, key: str) -> OmniFoldCheckpoint:
        """The checkpoint of the run with fingerprint ``key`` (created if new)."""
        stored = self._manifest()
        if self.resume and key not in stored and len(self._opened) < len(stored):
            raise CheckpointMismatchError(
                f"the checkpoints in {self.folder} were written by another job (its run "
                f"{len(self._opened) + 1} had other inputs, event weights or OmniFold "
                "settings); resume with the same job and options, or start over with "
                "--overwrite."
            )
        self._opened.append(key)
        if key not in stored:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_json(self.folder / _MANIFEST, [*stored, key])
        return OmniFoldCheckpoint(self.folder / key[:16], resume=True)

    def job(
        self,
        name: str,
        record: Mapping[str, Any],
        *,
        after_unit: Callable[[str], None] | None = None,
    ) -> Any:
        """The :class:`JobCheckpoint` of a fit or inference job (``name``: ``fit``,
        ``infer``) in this store, continued when the store resumes."""
        from hepnnlr.methods.job_checkpoint import JobCheckpoint

        return JobCheckpoint(self.folder / name, record, resume=self.resume, after_unit=after_unit)

    def remove(self) -> None:
        """Delete the store (after the job's outputs are complete)."""
        shutil.rmtree(self.folder, ignore_errors=True)


_ACTIVE: contextvars.ContextVar[CheckpointStore | None] = contextvars.ContextVar(
    "hepnnlr_checkpoint_store", default=None
)


def active_store() -> CheckpointStore | None:
    """The store :func:`checkpointing` made active here, if any."""
    return _ACTIVE.get()


@contextlib.contextmanager
def checkpointing(folder: str | Path, *, resume: bool = False) -> Iterator[CheckpointStore]:
    """Make a :class:`CheckpointStore` in ``folder`` the one every :func:`omnifold` call
    without a checkpoint of its own uses, for the duration of the block."""
    store = CheckpointStore(folder, resume=resume)
    token = _ACTIVE.set(store)
    try:
        yield store
    finally:
        _ACTIVE.reset(token)
