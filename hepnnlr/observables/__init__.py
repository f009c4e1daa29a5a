"""DIS observables on awkward arrays: electron-method kinematics, particle features, jets
and N-subjettiness (FastJet), and the binning and filling of their histograms.

Pure functions of awkward arrays; nothing here imports coffea or TensorFlow.
"""

from __future__ import annotations

from hepnnlr.observables.dis import (
    HERA,
    BeamConfig,
    FiducialCuts,
    KinematicRegion,
    electron_kinematics,
    particle_features,
    select_fiducial,
    wrap_phi,
)
from hepnnlr.observables.histos import (
    DIS_OBSERVABLES,
    book_dis_histograms,
    fill_dis_histograms,
)
from hepnnlr.observables.jets import JetConfig, cluster_jets, dphi_from_pi

__all__ = [
    "DIS_OBSERVABLES",
    "HERA",
    "BeamConfig",
    "FiducialCuts",
    "JetConfig",
    "KinematicRegion",
    "book_dis_histograms",
    "cluster_jets",
    "dphi_from_pi",
    "electron_kinematics",
    "fill_dis_histograms",
    "particle_features",
    "select_fiducial",
    "wrap_phi",
]
