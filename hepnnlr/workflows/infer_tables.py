"""The processing step of ``hepnnlr infer``'s ``samples:`` section: the files through the
job's analysis description, one table of model inputs per file key
(:mod:`hepnnlr.workflows.infer_samples` has the section, the routes and the test sets)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import awkward as ak
import numpy as np

from hepnnlr.errors import EmptySelectionError, MissingBranchError
from hepnnlr.workflows.infer_generate import PROCESSES

if TYPE_CHECKING:
    from hepnnlr.workflows.infer_samples import SamplesConfig

__all__ = ["SampleTables", "data_truth", "feature_table", "load_sample_tables"]


@dataclass
class SampleTables:
    """Selected events of every role: ``{"x": (n, d), "z": (n,), "is_signal": (n,)}``
    (test pools: ``x`` only); ``cutflow`` is the processor's per dataset, ``{file key:
    {cut: count}}`` (one dataset per key of the ``samples`` section)."""

    train: dict[str, dict[str, np.ndarray]]
    reference: dict[str, dict[str, np.ndarray]]
    test: dict[tuple[str, float], np.ndarray]
    data: dict[str, np.ndarray] | None
    cutflow: dict[str, dict[str, int]]

    def cutflow_all_files(self) -> dict[str, int]:
        """``cutflow`` summed over every file, cut by cut."""
        total: dict[str, int] = {}
        for counts in self.cutflow.values():
            for cut, n in counts.items():
                total[cut] = total.get(cut, 0) + n
        return total

    def counts(self) -> dict[str, int]:
        out = {f"{p}_train": len(t["x"]) for p, t in self.train.items()}
        out |= {f"{p}_reference": len(t["x"]) for p, t in self.reference.items()}
        out |= {f"{p}_test[{z:g}]": len(x) for (p, z), x in self.test.items()}
        if self.data is not None:
            out["data"] = len(self.data["x"])
        return out


def load_sample_tables(spec: SamplesConfig, *, progress: bool = False) -> SampleTables:
    """Run the analysis over every file (one run, one dataset per config key)."""
    from hepnnlr.processors.analysis import run_analysis

    fileset = {key: [str(p) for p in files] for key, files in spec.files().items() if files}
    output = run_analysis(
        spec.description,
        fileset,
        parameters=True,
        executor=spec.executor,
        workers=spec.workers,
        chunksize=spec.chunksize,
        progress=progress,
    )
    tables = {}
    for key in fileset:
        try:
            tables[key] = feature_table(output, key, spec)
        except EmptySelectionError as error:
            raise EmptySelectionError(f"samples.{key}: {error}") from error
    cutflow = output.get("cutflow", {})  # {dataset: {cut: count}}
    test = {(p, z): tables[f"{p}_test[{z:g}]"]["x"] for p in PROCESSES for z in spec.test_z}
    return SampleTables(
        train={p: tables[f"{p}_train"] for p in PROCESSES},
        reference={p: tables[f"{p}_reference"] for p in PROCESSES},
        test=test,
        data=tables.get("data"),
        cutflow={key: {cut: int(n) for cut, n in cuts.items()} for key, cuts in cutflow.items()},
    )


def feature_table(output: Mapping[str, Any], dataset: str, spec: SamplesConfig) -> dict[str, Any]:
    """The model inputs of one dataset's events that pass ``spec.level`` with every
    feature defined: ``x`` ``(n, len(features))`` float64, ``z`` (the nuisance), ``weight``,
    ``is_signal`` (the level's ``is_signal`` feature; None without one) and ``event`` (the
    file's ``event`` number, else the entry)."""
    from hepnnlr.processors.chunks import collect_columns

    columns = collect_columns(output, dataset)
    fields = ak.fields(columns)
    if "parameters" not in fields:
        raise MissingBranchError(f"the analysis {spec.analysis!r} gave no parameters column.")
    rows = columns[spec.level]
    keep = ak.to_numpy(columns[f"pass_{spec.level}"]).astype(bool)
    for name in spec.features:
        keep &= ~ak.to_numpy(ak.is_none(rows[name]))
    if not keep.any():
        raise EmptySelectionError(
            f"no {spec.level}-level event passes the selection with features "
            f"{list(spec.features)} ({len(columns)} events); generate more events or "
            "loosen the selection."
        )
    x = np.stack([ak.to_numpy(ak.drop_none(rows[name][keep])) for name in spec.features], axis=1)
    labels = ak.to_numpy(rows.is_signal)[keep] if "is_signal" in ak.fields(rows) else None
    return {
        "x": x.astype(np.float64),
        "z": ak.to_numpy(columns.parameters[spec.nuisance])[keep].astype(np.float64),
        "weight": ak.to_numpy(columns.weight)[keep].astype(np.float64),
        "is_signal": None if labels is None else labels.astype(bool),
        "event": ak.to_numpy(columns["event" if "event" in fields else "entry"])[keep],
    }


def data_truth(table: Mapping[str, np.ndarray]) -> dict[str, float] | None:
    """The simulated truth of fitted files: μ = selected signal / background events, z where
    the files hold one value (``None`` where either is undefined, or without labels)."""
    if table.get("is_signal") is None:
        return None
    is_signal = np.asarray(table["is_signal"], dtype=bool)
    z = np.unique(table["z"])
    if is_signal.all() or len(z) != 1:
        return None
    return {"mu": float(is_signal.sum() / (~is_signal).sum()), "z": float(z[0])}
