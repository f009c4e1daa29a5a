"""Checkpoints of a ``hepnnlr infer`` job: its repeats and its coverage truths.

The units of an inference (:mod:`hepnnlr.workflows.infer`) and what each one keeps:

* ``routes-0``: the routes trained with ``training.seed`` (repeat 0: the dataset scan,
  the errors and the coverage study use them), their networks and everything else their
  likelihoods are made of (:mod:`hepnnlr.methods.likelihood_files`), with what the
  training reports beside them (the samples' training rows used);
* ``repeat-<r>`` (r >= 1): the trained routes retrained with the seed ``training.seed +
  r`` (:func:`hepnnlr.workflows.infer_errors.infer_uncertainties`), kept as what the
  errors need of them: each route's per-event log densities of signal and background on
  the fitted dataset at every z of the grid;
* ``coverage-<i>``: the metrics of every route over the test sets of the ``i``-th true
  ``(μ, z)`` (:func:`hepnnlr.workflows.infer.coverage_study`), the scans drawn as contours
  and the state of the study's random generator after that truth, so that the next
  truth's test sets are those of an uninterrupted study.

A resumed job loads repeat 0's routes instead of training them (the dataset scan and the
coverage study evaluate them on new events, so their networks are kept, not only their
densities; a loaded network gives the trained one's outputs bit for bit), and recomputes
the bootstrap replicas of the fitted dataset from the stored densities (a reweighting of
the stored tables: no training).

:meth:`InferUnits.of` takes the job's :class:`~hepnnlr.methods.job_checkpoint.JobCheckpoint`
from the store ``hepnnlr infer`` makes active (:func:`hepnnlr.methods.checkpoint.checkpointing`);
without one every unit is computed and nothing is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from hepnnlr.methods.checkpoint import active_store
from hepnnlr.methods.job_checkpoint import JobCheckpoint, job_record
from hepnnlr.methods.likelihood_files import (
    describe_likelihoods,
    load_likelihoods,
    write_networks,
)
from hepnnlr.methods.mixture_likelihood import MixtureLikelihood
from hepnnlr.methods.nll import PARAMETERS
from hepnnlr.methods.scans import Scan

__all__ = ["ROUTES_UNIT", "InferUnits", "Routes", "Tables"]

_LOG = logging.getLogger(__name__)

Tables = dict[str, tuple[np.ndarray, np.ndarray]]
"""Per route, the signal and background log densities of every event at every z."""

Routes = tuple[dict[str, MixtureLikelihood], dict[str, Any]]
"""The trained routes ``{route: likelihood}`` and what their training reports (JSON)."""

ROUTES_UNIT = "routes-0"
"""The unit of repeat 0's trained routes."""


class InferUnits:
    """The units of one inference job: loaded where the checkpoint holds them, else
    computed and saved (module docstring). ``checkpoint=None``: computed, nothing kept."""

    def __init__(self, checkpoint: JobCheckpoint | None = None) -> None:
        self.checkpoint = checkpoint

    @classmethod
    def of(cls, job: Any, checkpoint: JobCheckpoint | None = None) -> InferUnits:
        """``checkpoint``, else the active store's checkpoint of ``job`` (a resumed job
        with other values is refused, naming them), else none."""
        if checkpoint is None:
            store = active_store()
            if store is not None:
                checkpoint = store.job("infer", job_record(job))
        return cls(checkpoint)

    def routes(self, train: Callable[[], Routes]) -> Routes:
        """Repeat 0's routes (:data:`ROUTES_UNIT`): loaded, their training skipped (and
        logged so), or ``train()``-ed and saved."""
        ckpt = self.checkpoint
        if ckpt is not None and ckpt.has(ROUTES_UNIT):
            unit = ckpt.load(ROUTES_UNIT)
            likelihoods = load_likelihoods(unit.record["routes"], unit.arrays, unit.folder)
            _LOG.info(
                "--resume: routes %s of repeat 0 loaded from %s, not trained again",
                ", ".join(likelihoods),
                unit.folder,
            )
            return likelihoods, unit.record["report"]
        likelihoods, report = train()
        if ckpt is not None:
            record, arrays, networks = describe_likelihoods(likelihoods)
            ckpt.save(
                ROUTES_UNIT,
                {"routes": record, "report": report},
                arrays,
                write=lambda folder: write_networks(networks, folder),
            )
        return likelihoods, report

    def tables(self, name: str, compute: Callable[[], Tables]) -> Tables:
        """The routes' density tables of unit ``name``: loaded, or computed and saved."""
        ckpt = self.checkpoint
        if ckpt is not None and ckpt.has(name):
            unit = ckpt.load(name)
            return {
                route: (unit.arrays[f"{route}.signal"], unit.arrays[f"{route}.background"])
                for route in unit.record["routes"]
            }
        tables = compute()
        if ckpt is not None:
            arrays = {}
            for route, (signal, background) in tables.items():
                arrays[f"{route}.signal"], arrays[f"{route}.background"] = signal, background
            ckpt.save(name, {"routes": list(tables)}, arrays)
        return tables

    def coverage(
        self,
        name: str,
        rng: np.random.Generator,
        compute: Callable[[], tuple[dict[str, list[dict[str, float]]], dict[str, Scan] | None]],
    ) -> tuple[dict[str, list[dict[str, float]]], dict[str, Scan] | None]:
        """One coverage truth: its rows of metrics per route and its contour scans
        (``None``: not drawn). Loaded (``rng`` then set to the state it had after the
        truth), or computed with ``rng`` and saved with that state."""
        ckpt = self.checkpoint
        if ckpt is not None and ckpt.has(name):
            unit = ckpt.load(name)
            rng.bit_generator.state = unit.record["rng"]
            scans = None
            if unit.record["scans"] is not None:
                # the arrays and names as checkpoints before the one Scan type (issue 18)
                # stored them, so those resume too
                scans = {
                    route: Scan(
                        PARAMETERS,
                        (unit.arrays[f"{route}.mu"], unit.arrays[f"{route}.z"]),
                        unit.arrays[f"{route}.nll"],
                        kind="nll",
                        extras={"n_events": int(n_events), "likelihood": scan_name},
                    )
                    for route, (n_events, scan_name) in unit.record["scans"].items()
                }
            return unit.record["rows"], scans
        rows, scans = compute()
        if ckpt is not None:
            arrays: dict[str, np.ndarray] = {}
            described: Mapping[str, Any] | None = None
            if scans is not None:
                for route, s in scans.items():
                    arrays.update(
                        {
                            f"{route}.mu": s.axis("mu"),
                            f"{route}.z": s.axis("z"),
                            f"{route}.nll": s.values,
                        }
                    )
                described = {
                    route: [int(s.extras["n_events"]), s.extras["likelihood"]]
                    for route, s in scans.items()
                }
            record = {"rows": rows, "scans": described, "rng": rng.bit_generator.state}
            ckpt.save(name, record, arrays)
        return rows, scans
