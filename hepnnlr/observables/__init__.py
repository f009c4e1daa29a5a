"""Observables on awkward arrays: DIS electron-method kinematics and particle features,
four-momenta of any representation, jets and N-subjettiness (FastJet), jet substructure
(ECFs, strange hadrons), the tt̄ triplet masses with the neutrino solver,
calorimeter-shower features, and the binning and filling of their histograms
(``*_histos`` modules).

Pure functions of awkward arrays; nothing here imports coffea or TensorFlow.
"""

from __future__ import annotations

from hepnnlr.observables.calo import shower_features
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
from hepnnlr.observables.fourvectors import FlatMomenta, flat_momenta, momentum4d
from hepnnlr.observables.histos import (
    DIS_OBSERVABLES,
    book_dis_histograms,
    fill_dis_histograms,
)
from hepnnlr.observables.jets import (
    JET_ALGORITHMS,
    NSUBJETTINESS,
    JetConfig,
    cluster_flat_momenta,
    cluster_flat_particles,
    cluster_jets,
    cluster_jets_with_constituents,
    dphi_from_pi,
    nsubjettiness,
    per_jet_sequence,
    subjettiness,
)
from hepnnlr.observables.substructure import (
    count_strange,
    decreasing_pt_order,
    energy_correlation,
    jet_shapes_flat,
)
from hepnnlr.observables.tau import (
    TauTauSelectionConfig,
    collinear_mass,
    pt_ratio,
    tautau_features,
    visible_mass,
)
from hepnnlr.observables.top import reconstruct_top, solve_neutrino_pz
from hepnnlr.observables.zjets_histos import (
    fill_zjets_histograms_flat,
)

__all__ = [
    "JET_ALGORITHMS",
    "NSUBJETTINESS",
    "FlatMomenta",
    "cluster_flat_momenta",
    "cluster_flat_particles",
    "flat_momenta",
    "momentum4d",
    "BeamConfig",
    "book_dis_histograms",
    "cluster_jets",
    "cluster_jets_with_constituents",
    "collinear_mass",
    "count_strange",
    "decreasing_pt_order",
    "DIS_OBSERVABLES",
    "dphi_from_pi",
    "electron_kinematics",
    "energy_correlation",
    "FiducialCuts",
    "fill_dis_histograms",
    "fill_zjets_histograms_flat",
    "HERA",
    "jet_shapes_flat",
    "JetConfig",
    "KinematicRegion",
    "nsubjettiness",
    "particle_features",
    "per_jet_sequence",
    "subjettiness",
    "pt_ratio",
    "reconstruct_top",
    "select_fiducial",
    "shower_features",
    "solve_neutrino_pz",
    "tautau_features",
    "TauTauSelectionConfig",
    "visible_mass",
    "wrap_phi",
]
