"""Particle-level and detector-level event selections of the H1 high-Q² analysis.

Sec. 3 of Torales Acosta, Wamorkar, Mikuni, Nachman, "Stabilizing Neural Likelihood Ratio
Estimation", arXiv:2503.20753: particle-level events need Q² > 100 GeV² and at
least one particle; detector-level events need Q² > 150 GeV², 0.08 < y < 0.7, with
particles of pT > 0.1 GeV and −1.5 < η < 2.75. Both levels compute Q² and y with the
electron method (:func:`hepnnlr.samples.kinematics.electron_method`) on their own electron.
"""

from __future__ import annotations

import awkward as ak
import numpy as np
from numpy.typing import NDArray

from hepnnlr.errors import MissingBranchError
from hepnnlr.samples.kinematics import electron_method

__all__ = [
    "FIDUCIAL_ETA_MAX",
    "FIDUCIAL_ETA_MIN",
    "FIDUCIAL_PT_MIN",
    "GEN_Q2_MIN",
    "RECO_Q2_MIN",
    "RECO_Y_MAX",
    "RECO_Y_MIN",
    "fiducial_mask",
    "pass_gen",
    "pass_reco",
]

FIDUCIAL_PT_MIN = 0.1
"""Particle pT threshold of the fiducial region, GeV."""
FIDUCIAL_ETA_MIN = -1.5
"""Lower pseudorapidity edge of the fiducial region."""
FIDUCIAL_ETA_MAX = 2.75
"""Upper pseudorapidity edge of the fiducial region."""
GEN_Q2_MIN = 100.0
"""Particle-level Q² threshold, GeV²."""
RECO_Q2_MIN = 150.0
"""Detector-level Q² threshold, GeV²."""
RECO_Y_MIN = 0.08
"""Detector-level lower inelasticity cut."""
RECO_Y_MAX = 0.7
"""Detector-level upper inelasticity cut."""


def _field(events: ak.Array, name: str, producer: str) -> ak.Array:
    if name not in ak.fields(events):
        raise MissingBranchError(
            f"the events have no field {name!r} (they have {ak.fields(events)}); "
            f"produce them with {producer}."
        )
    return events[name]


def fiducial_mask(particles: ak.Array) -> ak.Array:
    """Jagged mask of particles with pT > 0.1 GeV and −1.5 < η < 2.75."""
    return (
        (particles.pt > FIDUCIAL_PT_MIN)
        & (particles.eta > FIDUCIAL_ETA_MIN)
        & (particles.eta < FIDUCIAL_ETA_MAX)
    )


def _electron_q2_y(electrons: ak.Array) -> tuple[NDArray, NDArray, NDArray[np.bool_]]:
    has = ak.to_numpy(ak.num(electrons, axis=1)) > 0
    first = ak.firsts(electrons)
    energy = ak.to_numpy(ak.fill_none(first.E, 0.0)).astype(np.float64)
    eta = ak.to_numpy(ak.fill_none(first.eta, 0.0)).astype(np.float64)
    kin = electron_method(energy, eta)
    return kin.Q2, kin.y, has


def pass_gen(events: ak.Array) -> NDArray[np.bool_]:
    """Particle-level selection.

    An event passes when it has a scattered electron (``GenElectron``) whose
    electron-method Q² exceeds 100 GeV² and at least one ``GenPart`` in the fiducial
    region. The Q² is that of the final-state electron rather than ``gen_Q2`` (the hard
    process): in about 1% of Pythia events initial-state radiation shifts the electron,
    and the particle level is defined by what is in the final state.

    Args:
        events: array with ``GenElectron`` and ``GenPart`` collections.

    Returns:
        Boolean NumPy array, one entry per event.

    Raises:
        MissingBranchError: if a collection is missing.
    """
    electrons = _field(events, "GenElectron", "hepnnlr.samples.generate_dis")
    particles = _field(events, "GenPart", "hepnnlr.samples.generate_dis")
    q2, _, has = _electron_q2_y(electrons)
    n_fid = ak.to_numpy(ak.sum(fiducial_mask(particles), axis=1))
    return has & (q2 > GEN_Q2_MIN) & (n_fid > 0)


def pass_reco(events: ak.Array) -> NDArray[np.bool_]:
    """Detector-level selection.

    An event passes when it has a reconstructed electron with electron-method
    Q² > 150 GeV² and 0.08 < y < 0.7, and at least one ``RecoPart`` in the fiducial region.

    Args:
        events: array with ``RecoElectron`` and ``RecoPart`` collections.

    Returns:
        Boolean NumPy array, one entry per event.

    Raises:
        MissingBranchError: if a collection is missing.
    """
    electrons = _field(events, "RecoElectron", "hepnnlr.samples.simulate_detector")
    particles = _field(events, "RecoPart", "hepnnlr.samples.simulate_detector")
    q2, y, has = _electron_q2_y(electrons)
    n_fid = ak.to_numpy(ak.sum(fiducial_mask(particles), axis=1))
    return has & (q2 > RECO_Q2_MIN) & (y > RECO_Y_MIN) & (y < RECO_Y_MAX) & (n_fid > 0)
