"""The DIS analysis's quantities that are more than an expression, as functions of the events.

``dis.yaml`` names them as ``hepnnlr.analysis.builtin.dis:gen`` and ``...:reco``: each
takes a chunk of hepnnlr DIS events and returns one record per event with the
electron-method kinematics (``Q2``, ``log_Q2``, ``y``, ``x``, ``eta_e``, ``phi_e``; None
without an electron), the fiducial particles (``particles``: ``pt``, ``eta``, ``phi``,
``charge``, ``log_pt``, ``deta``, ``dphi``, ``log_pt_over_Q``) and the kT R = 1.0,
pT > 5 GeV jets (``jets``: ``pt``, ``eta``, ``phi``, ``tau21``, ``dphi_e``), the same
record as ``DISProcessor.level_columns`` (which computes it with :func:`level_from_flat`).
``dis_nanoaod.yaml`` names ``...:nanoaod_gen`` and ``...:nanoaod_reco``: the same record
from the same events written by ``hepnnlr generate dis --format nanoaod``
(``GenDressedLepton`` and ``GenCands``, ``Electron`` and ``PFCands``; docs/nanoaod.md),
whose four-vectors are (pt, eta, phi, mass): the energy is sqrt(p^2 + m^2) in float64,
rounded to the stored precision (float64 electrons: hepnnlr's E exactly; float32
particles: E to the last bit for most, one float32 ulp off for the rest, which only the
kT clustering's rapidities see).

The analysis is Sec. 3 of Torales Acosta, Wamorkar, Mikuni & Nachman, "Stabilizing Neural
Likelihood Ratio Estimation", arXiv:2503.20753 (electron method, fiducial particles pT > 0.1 GeV,
−1.5 < η < 2.75).
Everything is computed by :mod:`hepnnlr.observables` (``electron_method``, ``wrap_phi``,
``cluster_flat``, ``dphi_from_pi``) on the chunk's flat float64 buffers, one NumPy call
per quantity, by :func:`level_from_flat`, the one implementation that ``DISProcessor``
calls too, so both give the same values bit for bit
(``tests/analysis/test_analysis_processor.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np

from hepnnlr.analysis.builtin._buffers import flat_fields
from hepnnlr.errors import NonFiniteInputError
from hepnnlr.observables.dis import HERA, BeamConfig, FiducialCuts, electron_method, wrap_phi
from hepnnlr.observables.jets import JetConfig, cluster_flat, dphi_from_pi

__all__ = [
    "DISLevel",
    "check_finite",
    "gen",
    "level_from_flat",
    "nanoaod_gen",
    "nanoaod_reco",
    "reco",
]

_FIDUCIAL = FiducialCuts()
_JETS = JetConfig()
_COLLECTIONS = {"gen": ("GenElectron", "GenPart"), "reco": ("RecoElectron", "RecoPart")}
_NANOAOD = {"gen": ("GenDressedLepton", "GenCands"), "reco": ("Electron", "PFCands")}


def gen(events: Any) -> ak.Array:
    """Particle-level DIS record of every event (``GenElectron``, ``GenPart``)."""
    return _level(events, *_COLLECTIONS["gen"])


def reco(events: Any) -> ak.Array:
    """Detector-level DIS record of every event (``RecoElectron``, ``RecoPart``)."""
    return _level(events, *_COLLECTIONS["reco"])


def nanoaod_gen(events: Any) -> ak.Array:
    """:func:`gen` of a NanoAOD-format DIS file (``GenDressedLepton``, ``GenCands``)."""
    return _level(events, *_NANOAOD["gen"])


def nanoaod_reco(events: Any) -> ak.Array:
    """:func:`reco` of a NanoAOD-format DIS file (``Electron``, ``PFCands``)."""
    return _level(events, *_NANOAOD["reco"])


def _kinematics(collection: Any, fields: tuple[str, ...]) -> tuple[np.ndarray, dict]:
    """Counts and flat ``fields`` (with ``E``) of hepnnlr's (pt, eta, phi, E) records or
    NanoAOD's (pt, eta, phi, mass)."""
    if "E" in ak.fields(collection):
        return flat_fields(collection, fields)
    needed = tuple(f for f in fields if f != "E")
    counts, flat = flat_fields(collection, needed + tuple(sorted({"mass", "pt"} - set(needed))))
    pt = flat["pt"].astype(np.float64)
    p = pt * np.cosh(flat["eta"].astype(np.float64))
    mass = flat.pop("mass").astype(np.float64)
    # the stored precision of the file's four-vectors (float32 particles, float64 leptons)
    flat["E"] = np.sqrt(p * p + mass * mass).astype(flat["pt"].dtype)
    return counts, flat


def _level(events: Any, electron_name: str, particle_name: str) -> ak.Array:
    n_counts, electrons = _kinematics(events[electron_name], ("eta", "phi", "E"))
    counts, particles = _kinematics(events[particle_name], ("pt", "eta", "phi", "E", "charge"))
    check_finite(events, electron_name, n_counts, electrons)
    check_finite(events, particle_name, counts, particles)
    return level_from_flat(n_counts, electrons, counts, particles).record


@dataclass(frozen=True)
class DISLevel:
    """One level's record and the flat arrays behind it (what histograms are filled from).

    Attributes:
        record: One record per event (the module docstring's layout).
        event_fields: ``{name: (values, valid)}`` of the event quantities (``Q2``, ...).
        particles: Per-event counts and flat fields of the fiducial particles.
        jets: Per-event counts and flat fields of the jets.
    """

    record: ak.Array
    event_fields: dict[str, tuple[np.ndarray, np.ndarray]]
    particles: tuple[np.ndarray, dict[str, np.ndarray]]
    jets: tuple[np.ndarray, dict[str, np.ndarray]]


def level_from_flat(
    n_electrons: np.ndarray,
    electrons: dict[str, np.ndarray],
    counts: np.ndarray,
    particles: dict[str, np.ndarray],
    *,
    fiducial: FiducialCuts = _FIDUCIAL,
    jets: JetConfig = _JETS,
    beams: BeamConfig = HERA,
) -> DISLevel:
    """The DIS record of one level from the chunk's flat buffers (the one implementation,
    which ``DISProcessor`` calls too).

    Args:
        n_electrons: Electrons per event (0 or 1).
        electrons: Flat electron ``eta``, ``phi``, ``E``.
        counts: Particles per event.
        particles: Flat particle ``pt``, ``eta``, ``phi``, ``E``, ``charge``.
        fiducial: Fiducial region of the particles.
        jets: Jet definition, clustered on the fiducial particles.
        beams: Beam energies of the electron method.
    """
    n_events = len(counts)
    has_electron = n_electrons > 0
    first = (np.cumsum(n_electrons) - n_electrons)[has_electron]
    # electron-method inputs in double precision, 0 where there is no electron
    eta_e, phi_e, energy_e = (np.zeros(n_events) for _ in range(3))
    for out, field in ((eta_e, "eta"), (phi_e, "phi"), (energy_e, "E")):
        out[has_electron] = electrons[field][first]
    q2, y, x = electron_method(eta_e, energy_e, beams)
    log_q2 = np.zeros(n_events)
    log_q2[has_electron] = np.log10(q2[has_electron])

    pt, eta, phi, energy = (
        particles[f].astype(np.float64, copy=False) for f in ("pt", "eta", "phi", "E")
    )
    # FiducialCuts.mask, on the flat arrays
    keep = (pt > fiducial.pt_min) & (eta > fiducial.eta_min) & (eta < fiducial.eta_max)
    keep &= np.repeat(has_electron, counts)
    event_of = np.repeat(np.arange(n_events), counts)[keep]
    n_fiducial = np.bincount(event_of, minlength=n_events).astype(np.int64)
    pt, eta, phi, energy = pt[keep], eta[keep], phi[keep], energy[keep]
    log_pt = np.log10(pt)
    log_q = np.log10(np.sqrt(np.where(has_electron, q2, 1.0)))
    particle_fields = {
        "pt": pt,
        "eta": eta,
        "phi": phi,
        "charge": particles["charge"][keep],
        "log_pt": log_pt,
        "deta": eta - eta_e[event_of],
        "dphi": wrap_phi(phi - phi_e[event_of]),
        "log_pt_over_Q": log_pt - log_q[event_of],
    }
    clustered = cluster_flat(n_fiducial, pt, eta, phi, energy, jets)
    jet_event = np.repeat(np.arange(n_events), clustered.n_jets)
    jet_fields = {
        "pt": clustered.pt,
        "eta": clustered.eta,
        "phi": clustered.phi,
        "tau21": clustered.tau21,
        "dphi_e": dphi_from_pi(clustered.phi, phi_e[jet_event]),
    }
    event_fields = {
        "Q2": (q2, has_electron),
        "log_Q2": (log_q2, has_electron),
        "y": (y, has_electron),
        "x": (x, has_electron & (y > 0)),
        "eta_e": (eta_e, has_electron),
        "phi_e": (phi_e, has_electron),
    }
    contents = [
        ak.contents.ByteMaskedArray(
            ak.index.Index8(valid.view(np.int8)), ak.contents.NumpyArray(values), valid_when=True
        )
        for values, valid in event_fields.values()
    ]
    contents += [_lists(n_fiducial, particle_fields), _lists(clustered.n_jets, jet_fields)]
    return DISLevel(
        record=ak.Array(ak.contents.RecordArray(contents, [*event_fields, "particles", "jets"])),
        event_fields=event_fields,
        particles=(n_fiducial, particle_fields),
        jets=(clustered.n_jets, jet_fields),
    )


def check_finite(events: Any, name: str, counts: np.ndarray, flat: dict) -> None:
    """Refuse NaN/inf kinematics of collection ``name`` (``counts`` per event, ``flat``
    fields): the fiducial cut (pT > 0.1 GeV) would drop them silently."""
    for field, values in flat.items():
        if np.issubdtype(values.dtype, np.floating) and not np.isfinite(values).all():
            event_of = np.repeat(np.arange(len(counts)), counts)
            metadata = getattr(events, "metadata", None) or {}
            entry = int(metadata.get("entrystart") or 0) + int(event_of[~np.isfinite(values)][0])
            raise NonFiniteInputError(
                f"branch {name}_{field} of {metadata.get('filename', '?')} holds NaN or "
                f"infinite values (first in entry {entry}); cuts would drop such objects "
                "silently, so hepnnlr stops here. Regenerate the file or fix the step that "
                "wrote it."
            )


def _lists(counts: np.ndarray, fields: dict[str, np.ndarray]) -> ak.contents.Content:
    """``var * {fields}`` layout from per-event counts and flat NumPy fields."""
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    content = ak.contents.RecordArray(
        [ak.contents.NumpyArray(np.ascontiguousarray(v)) for v in fields.values()], list(fields)
    )
    return ak.contents.ListOffsetArray(ak.index.Index64(offsets), content)
