"""Shared helpers of the Pythia SRGN reproductions (``srgn_zjets.py``, ``srgn_top.py``).

Everything here works on the columns a coffea processor returns for a ROOT file written by
the sample makers, exactly as a user's samples arrive: :func:`processed_columns` runs the
processor (and caches its columns next to the file as parquet, keyed on the file's size
and modification time) and the ``*_tensors`` functions turn the columns into
:class:`~hepnnlr.tensors.EventTensors`. The generator parameters stay in their own units:
the DCTR reweighter maps them onto the unit interval the networks see
(:class:`hepnnlr.methods.theta.ThetaScale`), and :attr:`hepnnlr.methods.scans.Scan.fitted`
reads the fitted value off an AUC scan (the parabola vertex around the lowest point).

Candidates for the library are marked "library:" in the docstrings.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import awkward as ak
import numpy as np

from hepnnlr.methods.dctr import with_theta
from hepnnlr.observables.substructure import STRANGE_HADRON_IDS
from hepnnlr.schema import run_processor
from hepnnlr.tensors import EventTensors, Standardizer
from hepnnlr.tensors.events import from_awkward

__all__ = [
    "Z_PARTICLE_FEATURES",
    "attach_theta",
    "processed_columns",
    "standardize",
    "top_tensors",
    "zjets_tensors",
]

Z_PARTICLE_FEATURES = (
    "log_pt",
    "pt_frac",
    "deta",
    "dphi",
    "charge",
    "is_photon",
    "is_neutral_hadron",
    "is_strange",
)
"""PFN inputs per jet constituent: kinematics (pT, η, φ relative to the jet) and type."""
_ONE_HOT = ("charge", "is_photon", "is_neutral_hadron", "is_strange")
_STRANGE = np.asarray(sorted(STRANGE_HADRON_IDS), dtype=np.int64)


def processed_columns(
    path: str | os.PathLike[str],
    processor_factory: Callable[[], object],
    collect: Callable,
    *,
    max_events: int | None = None,
    chunksize: int = 25_000,
) -> ak.Array:
    """Run a coffea processor on one ROOT file and return its per-event columns.

    The columns are cached in ``<file>.columns.parquet``; the cache is used only while the
    ROOT file has the size and modification time recorded with it (library: a column
    cache keyed on the input file belongs in ``hepnnlr.schema``). ``max_events`` keeps
    the first events only (whole chunks of ``chunksize``).
    """
    path = Path(path)
    cache = path.with_suffix(".columns.parquet")
    stamp = path.with_suffix(".columns.json")
    key = {"size": path.stat().st_size, "mtime": path.stat().st_mtime, "max_events": max_events}
    if cache.exists() and stamp.exists() and json.loads(stamp.read_text()) == key:
        return ak.from_parquet(cache)
    maxchunks = None if max_events is None else -(-int(max_events) // chunksize)
    output = run_processor(
        processor_factory(),
        {"sample": [path]},
        executor="iterative",
        chunksize=chunksize,
        maxchunks=maxchunks,
        progress=False,
    )
    columns = collect(output)
    ak.to_parquet(columns, cache)
    stamp.write_text(json.dumps(key))
    return columns


def _z_level(columns: ak.Array, level: str) -> ak.Array:
    """One record per event: constituents of the (up to) two leading jets, and counts.

    Events with fewer than two jets keep the jets they have (an empty set when none):
    every event enters, so the reweighter covers the whole generator-level sample.
    """
    jets = columns[level]
    parts, multiplicity, strange = [], 0, 0
    for slot in ("jet1", "jet2"):
        jet = jets[slot]
        parts.append(ak.fill_none(jet.constituents, [], axis=0))
        multiplicity = multiplicity + ak.fill_none(jet.multiplicity, 0)
        strange = strange + ak.fill_none(jet.n_strange, 0)
    constituents = ak.concatenate(parts, axis=1)
    abs_id = np.abs(constituents.pdgId)
    flat_id = ak.to_numpy(ak.flatten(abs_id)).astype(np.int64)
    is_strange = ak.unflatten(np.isin(flat_id, _STRANGE).astype(np.float32), ak.num(abs_id))
    particles = ak.zip(
        {
            "log_pt": np.log(constituents.pt),
            "pt_frac": constituents.pt_frac,
            "deta": constituents.deta,
            "dphi": constituents.dphi,
            "charge": ak.values_astype(constituents.charge, np.float32),
            "is_photon": ak.values_astype(abs_id == 22, np.float32),
            "is_neutral_hadron": ak.values_astype(
                (constituents.charge == 0) & (abs_id != 22), np.float32
            ),
            "is_strange": is_strange,
        }
    )
    return ak.zip(
        {"particles": particles, "multiplicity": multiplicity, "n_strange": strange}, depth_limit=1
    )


def zjets_tensors(
    columns: ak.Array, level: str, inputs: str, *, max_particles: int | None = None
) -> EventTensors:
    """Network inputs of one level of Z → jets columns.

    Args:
        columns: Columns of :class:`hepnnlr.processors.zjets.ZJetsProcessor`.
        level: ``"gen"`` or ``"reco"``.
        inputs: ``"pfn"`` (constituents, :data:`Z_PARTICLE_FEATURES`), ``"multiplicity"``
            or ``"n_strange"`` (one event feature: the sum over the two leading jets).
        max_particles: Padding length for ``"pfn"``.
    """
    records = _z_level(columns, level)
    if inputs == "pfn":
        return from_awkward(
            records,
            particle_features=Z_PARTICLE_FEATURES,
            max_particles=max_particles,
            where=f"Z->jets {level}",
        )
    return from_awkward(records, global_features=(inputs,), where=f"Z->jets {level}")


def top_tensors(
    columns: ak.Array, level: str, masses: Sequence[str]
) -> tuple[EventTensors, np.ndarray]:
    """Triplet masses of one level of tt̄ columns, and the level's selection flag.

    Every event is kept: events that fail the level's selection get zero masses and a
    ``selected`` feature of 0 (at generator level the reweighter then covers the whole
    sample, including the selection efficiency's dependence on m_t).

    Returns:
        ``(tensors, selected)`` with event features ``("selected", *masses)``.
    """
    selected = ak.to_numpy(columns[level].reason) == 0
    values = {"selected": selected.astype(np.float64)}
    for name in masses:
        mass = ak.to_numpy(ak.fill_none(columns[level][name], 0.0)).astype(np.float64)
        values[name] = np.where(selected, mass, 0.0)
    record = ak.zip({k: v for k, v in values.items()})
    tensors = from_awkward(record, global_features=tuple(values), where=f"ttbar {level}")
    return tensors, selected


def standardize(
    reference: EventTensors,
    *others: EventTensors,
    keep: Sequence[str] = (),
    weights: np.ndarray | None = None,
) -> list[EventTensors]:
    """Standardize ``reference`` and ``others`` with statistics of ``reference``.

    ``weights`` (per reference event, e.g. a selection flag) restrict the statistics to
    part of the reference: tt̄ masses are scaled by the spread of the selected events, not
    by the gap between them and the zeros of the unselected ones.
    """
    keep = tuple(k for k in keep if k in reference.particle_features + reference.global_features)
    scaler = Standardizer.fit(reference, weights, keep=keep)
    return [scaler.transform(t) for t in (reference, *others)]


def attach_theta(events: EventTensors, theta: np.ndarray, name: str) -> EventTensors:
    """``events`` carrying one parameter per event (in the parameter's own units)."""
    return with_theta(events, np.asarray(theta, np.float64).reshape(-1, 1), (name,))
