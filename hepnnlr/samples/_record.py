"""Turn a batch of Pythia event records into flat NumPy columns.

``pythia8mc.Pythia.nextBatch`` returns the full event record of many events as one awkward
array. Everything here is vectorised over all particles of the batch: no per-event Python.
The result is a :class:`BlockColumns`: event-level arrays plus flat per-particle arrays
with per-event counts, cheap to send between processes and to concatenate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import awkward as ak
import numpy as np
from numpy.typing import NDArray

from hepnnlr.errors import HepnnlrError
from hepnnlr.samples.kinematics import lepton_vertex_kinematics

__all__ = ["BlockColumns", "FlatRecord", "columns_from_batch", "concatenate_blocks"]

_NEUTRINOS = (12, 14, 16)
_CHARGED_LEPTONS = (11, 13, 15)
_BEAM_PROTON_INDEX = 1
_BEAM_LEPTON_INDEX = 2
_HARD_OUTGOING_STATUS = 23
_MAX_COPY_DEPTH = 64
_ETA_AT_ZERO_PT = 20.0  # what Pythia's Particle::eta() returns along the beam axis

GEN_ELECTRON_FIELDS = ("pt", "eta", "phi", "E")
GEN_PART_FIELDS = ("pt", "eta", "phi", "E", "pdgId", "charge")


@dataclass(frozen=True)
class BlockColumns:
    """Generator-level columns of a block of events.

    Attributes:
        event_columns: ``weight``, ``gen_Q2``, ``gen_x``, ``gen_y`` (float64, one per event).
        electron_counts: 0 or 1 per event.
        electron_columns: ``pt``, ``eta``, ``phi``, ``E`` (float64) of the found electrons.
        particle_counts: number of stable visible particles per event.
        particle_columns: ``pt``, ``eta``, ``phi``, ``E`` (float32), ``pdgId`` (int32),
            ``charge`` (int8), flat over the block.
    """

    event_columns: dict[str, NDArray]
    electron_counts: NDArray[np.int64]
    electron_columns: dict[str, NDArray]
    particle_counts: NDArray[np.int64]
    particle_columns: dict[str, NDArray]

    @property
    def n_events(self) -> int:
        """Number of events in the block."""
        return int(self.particle_counts.size)


def _flat(batch: ak.Array, *path: str) -> NDArray:
    return ak.to_numpy(ak.flatten(batch[("prt", *path)], axis=1))


@dataclass(frozen=True)
class FlatRecord:
    """The event records of a ``nextBatch`` array as flat NumPy arrays over all entries.

    Entry ``i`` of every array is one particle of the record; ``event_of[i]`` its event
    and ``offsets[event]`` the global index of the event's entry 0, so a record-local index
    ``j`` of an event (mother, daughter) is the global index ``offsets[event] + j``.
    """

    counts: NDArray[np.int64]
    offsets: NDArray[np.int64]
    event_of: NDArray[np.int64]
    pid: NDArray[np.int32]
    abs_pid: NDArray[np.int64]
    status: NDArray[np.int32]
    mother1: NDArray[np.int64]
    daughter1: NDArray[np.int32]
    daughter2: NDArray[np.int32]
    px: NDArray[np.float64]
    py: NDArray[np.float64]
    pz: NDArray[np.float64]
    energy: NDArray[np.float64]

    @classmethod
    def from_batch(cls, batch: ak.Array) -> FlatRecord:
        """Flatten the ``prt`` records of a ``Pythia.nextBatch`` array."""
        counts = ak.to_numpy(ak.num(batch["prt"], axis=1)).astype(np.int64)
        offsets = np.zeros(counts.size + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        pid = _flat(batch, "id").astype(np.int32)
        return cls(
            counts=counts,
            offsets=offsets,
            event_of=np.repeat(np.arange(counts.size, dtype=np.int64), counts),
            pid=pid,
            abs_pid=np.abs(pid).astype(np.int64),
            status=_flat(batch, "status").astype(np.int32),
            mother1=_flat(batch, "mother1").astype(np.int64),
            daughter1=_flat(batch, "daughter1").astype(np.int32),
            daughter2=_flat(batch, "daughter2").astype(np.int32),
            px=_flat(batch, "p", "px").astype(np.float64),
            py=_flat(batch, "p", "py").astype(np.float64),
            pz=_flat(batch, "p", "pz").astype(np.float64),
            energy=_flat(batch, "p", "e").astype(np.float64),
        )

    @property
    def n_events(self) -> int:
        """Number of events in the batch."""
        return int(self.counts.size)

    def follow(self, start: NDArray[np.int64]) -> NDArray[np.int64]:
        """:func:`_follow_lepton` of the entries ``start`` (global indices)."""
        return _follow_lepton(start, self.offsets, self.event_of, self.pid, self.status,
                              self.daughter1, self.daughter2)


def _pt_eta_phi(
    px: NDArray[np.float64], py: NDArray[np.float64], pz: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.where(pt > 0.0, np.arcsinh(pz / pt), np.copysign(_ETA_AT_ZERO_PT, pz))
    return pt, eta, np.arctan2(py, px)


def _follow_lepton(
    start: NDArray[np.int64],
    offsets: NDArray[np.int64],
    event_of: NDArray[np.int64],
    pid: NDArray[np.int32],
    status: NDArray[np.int32],
    daughter1: NDArray[np.int32],
    daughter2: NDArray[np.int32],
) -> NDArray[np.int64]:
    """Follow each lepton down its line of same-flavour daughters to the last one.

    A step goes from a decayed entry (status < 0) to its daughter of the same PDG id:
    a carbon copy (one daughter) or, if QED radiation is switched on, the lepton after an
    emission. The chain stops at a final-state entry or where no such daughter exists.
    """
    idx = start.copy()
    for _ in range(_MAX_COPY_DEPTH):
        first = daughter1[idx].astype(np.int64)
        last = np.maximum(daughter2[idx].astype(np.int64), first)
        base = offsets[event_of[idx]]
        moved = np.zeros(idx.size, dtype=bool)
        new_idx = idx.copy()
        span = int((last - first).max(initial=0)) + 1
        for k in range(span):
            local = first + k
            candidate = base + local
            ok = (status[idx] < 0) & (first > 0) & (local <= last) & ~moved
            candidate = np.where(ok, candidate, idx)
            ok &= pid[candidate] == pid[idx]
            new_idx = np.where(ok, candidate, new_idx)
            moved |= ok
        if not moved.any():
            return idx
        idx = new_idx
    raise HepnnlrError(
        f"the scattered lepton could not be followed through more than {_MAX_COPY_DEPTH} "
        "copies in the Pythia event record; the record looks corrupt. Report the seed and "
        "settings that produced it."
    )


def columns_from_batch(batch: ak.Array, charge_of: Callable[[int], float]) -> BlockColumns:
    """Extract the generator-level content of a ``nextBatch`` array.

    Rules (all documented in :mod:`hepnnlr.samples.dis`):

    * entry 1 of each record is the proton beam P, entry 2 the lepton beam k;
    * the outgoing lepton of the hard process is the entry with status ±23 that is a
      lepton; it gives k′ and the true Q², x, y (:func:`lepton_vertex_kinematics`);
    * the scattered electron is found by following that entry down through its
      same-flavour daughters to the final state; it is kept when it is a final-state
      charged lepton (always the case for neutral-current DIS);
    * stable visible particles are all final-state entries except that electron and
      neutrinos.

    Args:
        batch: array returned by ``Pythia.nextBatch``.
        charge_of: maps a PDG id to its electric charge (``ParticleData.charge``).

    Returns:
        The block's columns.

    Raises:
        HepnnlrError: if an event lacks a unique outgoing hard-process lepton (the
            settings no longer describe lepton–proton scattering).
    """
    record = FlatRecord.from_batch(batch)
    n_events, offsets, event_of = record.n_events, record.offsets, record.event_of
    pid, abs_pid, status = record.pid, record.abs_pid, record.status
    px, py, pz, energy = record.px, record.py, record.pz, record.energy
    four = np.stack([energy, px, py, pz], axis=-1)

    is_lepton = np.isin(abs_pid, _CHARGED_LEPTONS + _NEUTRINOS)
    hard_lepton = np.flatnonzero((np.abs(status) == _HARD_OUTGOING_STATUS) & is_lepton)
    if hard_lepton.size != n_events or np.any(event_of[hard_lepton] != np.arange(n_events)):
        raise HepnnlrError(
            "every event must have exactly one outgoing lepton in its hard process (status "
            f"±{_HARD_OUTGOING_STATUS}), but {hard_lepton.size} were found in {n_events} "
            "events. The Pythia settings no longer describe lepton-proton scattering; "
            "remove the --param that changed the beams or the process."
        )
    starts = offsets[:-1]
    kin = lepton_vertex_kinematics(
        four[starts + _BEAM_LEPTON_INDEX], four[hard_lepton], four[starts + _BEAM_PROTON_INDEX]
    )

    final_lepton = record.follow(hard_lepton)
    has_electron = (status[final_lepton] > 0) & np.isin(abs_pid[final_lepton], _CHARGED_LEPTONS)
    electron_idx = final_lepton[has_electron]
    e_pt, e_eta, e_phi = _pt_eta_phi(px[electron_idx], py[electron_idx], pz[electron_idx])

    visible = (status > 0) & ~np.isin(abs_pid, _NEUTRINOS)
    visible[electron_idx] = False
    part_idx = np.flatnonzero(visible)
    p_pt, p_eta, p_phi = _pt_eta_phi(px[part_idx], py[part_idx], pz[part_idx])
    part_pid = pid[part_idx]
    unique_ids, inverse = np.unique(part_pid, return_inverse=True)
    charges = np.array([charge_of(int(i)) for i in unique_ids], dtype=np.float64)
    part_charge = np.rint(charges[inverse]).astype(np.int8)

    weight = ak.to_numpy(ak.fill_none(ak.firsts(batch["info", "weights"]), 1.0))
    return BlockColumns(
        event_columns={
            "weight": weight.astype(np.float64),
            "gen_Q2": kin.Q2,
            "gen_x": kin.x,
            "gen_y": kin.y,
        },
        electron_counts=has_electron.astype(np.int64),
        electron_columns={"pt": e_pt, "eta": e_eta, "phi": e_phi, "E": energy[electron_idx]},
        particle_counts=np.bincount(event_of[part_idx], minlength=n_events).astype(np.int64),
        particle_columns={
            "pt": p_pt.astype(np.float32),
            "eta": p_eta.astype(np.float32),
            "phi": p_phi.astype(np.float32),
            "E": energy[part_idx].astype(np.float32),
            "pdgId": part_pid.astype(np.int32),
            "charge": part_charge,
        },
    )


def concatenate_blocks(blocks: list[BlockColumns]) -> ak.Array:
    """Join blocks (in order) into the generator-level event array.

    Returns:
        Array with fields ``event`` (uint64, 0..N-1), ``weight``, ``gen_Q2``, ``gen_x``,
        ``gen_y``, ``GenElectron`` (list of 0 or 1 records) and ``GenPart`` (list of records).
    """

    def cat(arrays: list[NDArray]) -> NDArray:
        return np.concatenate(arrays) if arrays else np.zeros(0)

    n_events = sum(b.n_events for b in blocks)
    out: dict[str, ak.Array | NDArray] = {"event": np.arange(n_events, dtype=np.uint64)}
    for name in ("weight", "gen_Q2", "gen_x", "gen_y"):
        out[name] = cat([b.event_columns[name] for b in blocks]).astype(np.float64)
    e_counts = cat([b.electron_counts for b in blocks]).astype(np.int64)
    out["GenElectron"] = ak.unflatten(
        ak.zip(
            {f: cat([b.electron_columns[f] for b in blocks]) for f in GEN_ELECTRON_FIELDS},
            depth_limit=1,
        ),
        e_counts,
    )
    p_counts = cat([b.particle_counts for b in blocks]).astype(np.int64)
    out["GenPart"] = ak.unflatten(
        ak.zip(
            {f: cat([b.particle_columns[f] for b in blocks]) for f in GEN_PART_FIELDS},
            depth_limit=1,
        ),
        p_counts,
    )
    return ak.zip(out, depth_limit=1)
