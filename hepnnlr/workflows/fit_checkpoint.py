"""Checkpoints of a ``hepnnlr fit`` job: each repeat's reweighter and fit, each replica.

The units of a fit (:mod:`hepnnlr.workflows.fit`) and what each one keeps:

* ``reweighter-<m>``: repeat ``m``'s reweighter (seed ``training_seed + m``), as
  :meth:`DCTRReweighter.save` writes it, with its members' training histories;
* ``repeat-<m>``: repeat ``m``'s fit of the target (:class:`OneFit`: θ, objective, curve,
  flags);
* ``replicas-<m>`` (DCTR: every replica refitted with repeat ``m``'s frozen reweighter, one
  vectorized fit) or ``replica-<b>`` (SRGN: replica ``b`` retrains ``g`` along its fit);
* ``simulation-reweighter-<b>`` and ``simulation-fit-<b>``: replica ``b`` of the
  simulation, its retrained reweighter and its fit.

A calibration (``hepnnlr fit ... --calibrate``, :mod:`hepnnlr.workflows.fit_calibration`)
keeps the same units in its own job folder (``calibration`` beside ``fit``): the repeats'
reweighters and the simulation's once, since every target shares them, and per target
``k`` the fits and replicas under the target's name (``calibration_<k>-repeat-<m>``,
``calibration_<k>-replicas-<m>``, ``calibration_<k>-simulation-fit-<b>``:
:meth:`FitUnits.within`).

Every unit's randomness comes from its own seed (the training seed of its repeat, the
Poisson(1) stream ``(seed, b)`` of its replica), never from what ran before it, so a
resumed job that loads the units an earlier run completed gives the uninterrupted job's
numbers bit for bit on CPU (``tests/workflows/test_fit_checkpoint.py``). A loaded
reweighter gives the saved one's weights bit for bit (:mod:`hepnnlr.training.saved`).

:meth:`FitUnits.of` takes the job's :class:`~hepnnlr.methods.job_checkpoint.JobCheckpoint`
from the store the command line made active (:func:`hepnnlr.methods.checkpoint.checkpointing`,
``hepnnlr fit ... --resume``); without one every unit is computed and nothing is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hepnnlr.methods.checkpoint import active_store
from hepnnlr.methods.dctr import DCTRReweighter
from hepnnlr.methods.fit_quality import FitFlags
from hepnnlr.methods.job_checkpoint import JobCheckpoint, job_record
from hepnnlr.workflows.fit_steps import OneFit

__all__ = ["FitUnits", "ReplicaRow"]

ReplicaRow = tuple[int, dict[str, float], dict[str, float], FitFlags]
"""A replica's fit: (repeat, θ_b, shift from the repeat's θ, flags)."""

_REWEIGHTER = "reweighter"


def _floats(mapping: dict[str, Any]) -> dict[str, float]:
    # JSON keeps every bit of a float (shortest round-trip repr)
    return {str(k): float(v) for k, v in mapping.items()}


def _fit_record(fit: OneFit) -> dict[str, Any]:
    return {
        "theta": _floats(fit.theta),
        "objective": float(fit.objective),
        "curve": [[[float(p) for p in point], float(value)] for point, value in fit.curve],
        "flags": fit.flags.to_dict(),
        "grid_minimum": _floats(fit.grid_minimum),
    }


def _fit_from(record: dict[str, Any]) -> OneFit:
    return OneFit(
        dict(record["theta"]),
        record["objective"],
        [(list(point), value) for point, value in record["curve"]],
        FitFlags(dict(record["flags"])),
        dict(record["grid_minimum"]),
    )


def _row_record(row: ReplicaRow) -> dict[str, Any]:
    m, theta, shift, flags = row
    return {
        "repeat": int(m),
        "theta": _floats(theta),
        "shift": _floats(shift),
        "flags": flags.to_dict(),
    }


def _row_from(record: dict[str, Any]) -> ReplicaRow:
    return (
        record["repeat"],
        dict(record["theta"]),
        dict(record["shift"]),
        FitFlags(dict(record["flags"])),
    )


class FitUnits:
    """The units of one fit job: loaded where the checkpoint holds them, else computed
    and saved (module docstring). ``checkpoint=None``: computed, nothing kept;
    ``prefix``: put before every unit's name (a calibration target's, :meth:`within`)."""

    def __init__(self, checkpoint: JobCheckpoint | None = None, prefix: str = "") -> None:
        self.checkpoint = checkpoint
        self.prefix = prefix

    @classmethod
    def of(
        cls, job: Any, checkpoint: JobCheckpoint | None = None, *, kind: str = "fit"
    ) -> FitUnits:
        """``checkpoint``, else the active store's checkpoint of ``job`` in its folder
        ``kind`` (``fit``; ``calibration`` for ``--calibrate``) with its validated fields
        (a resumed job with other values is refused, naming them), else none."""
        if checkpoint is None:
            store = active_store()
            if store is not None:
                checkpoint = store.job(kind, job_record(job))
        return cls(checkpoint)

    def within(self, group: str) -> FitUnits:
        """The units of ``group`` (a calibration target) in the same checkpoint, named
        ``<group>-<unit>`` so that every target keeps its own fits and replicas."""
        return FitUnits(self.checkpoint, f"{self.prefix}{group}-")

    def reweighter(self, name: str, train: Callable[[], DCTRReweighter]) -> DCTRReweighter:
        """The reweighter of unit ``name``: loaded, or ``train()``-ed and saved."""
        ckpt, name = self.checkpoint, self.prefix + name
        if ckpt is not None and ckpt.has(name):
            unit = ckpt.load(name)
            rw = DCTRReweighter.load(unit.folder / _REWEIGHTER)
            for member, history in zip(rw.members, unit.record["histories"], strict=True):
                member.history = history
            return rw
        rw = train()
        if ckpt is not None:
            ckpt.save(
                name,
                {"histories": [m.history for m in rw.members]},
                write=lambda folder: rw.save(Path(folder) / _REWEIGHTER),
            )
        return rw

    def fit(self, name: str, compute: Callable[[], OneFit]) -> OneFit:
        """The fit of unit ``name``: loaded, or computed and saved."""
        ckpt, name = self.checkpoint, self.prefix + name
        if ckpt is not None and ckpt.has(name):
            return _fit_from(ckpt.load(name).record)
        fit = compute()
        if ckpt is not None:
            ckpt.save(name, _fit_record(fit))
        return fit

    def rows(self, name: str, compute: Callable[[], list[ReplicaRow]]) -> list[ReplicaRow]:
        """The replica rows of unit ``name``: loaded, or computed and saved."""
        ckpt, name = self.checkpoint, self.prefix + name
        if ckpt is not None and ckpt.has(name):
            return [_row_from(r) for r in ckpt.load(name).record["rows"]]
        rows = compute()
        if ckpt is not None:
            ckpt.save(name, {"rows": [_row_record(r) for r in rows]})
        return rows
