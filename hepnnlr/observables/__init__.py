"""Observables on awkward arrays: DIS electron-method kinematics and particle features,
four-momenta of any representation, jets and N-subjettiness (FastJet), jet substructure
(ECFs, strange hadrons), the tt̄ triplet masses with the neutrino solver,
calorimeter-shower features, and the binning and filling of their histograms
(``*_histos`` modules).

Pure functions of awkward arrays; nothing here imports coffea or TensorFlow.
"""

from __future__ import annotations

from hepnnlr._lazy import attach

# defining module -> public names; each module is imported on first use of a name
_EXPORTS = {
    "hepnnlr.observables.calo": ("shower_features",),
    "hepnnlr.observables.dis": (
        "HERA",
        "BeamConfig",
        "FiducialCuts",
        "KinematicRegion",
        "electron_kinematics",
        "particle_features",
        "select_fiducial",
        "wrap_phi",
    ),
    "hepnnlr.observables.fourvectors": ("FlatMomenta", "flat_momenta", "momentum4d"),
    "hepnnlr.observables.histos": ("DIS_OBSERVABLES", "book_dis_histograms", "fill_dis_histograms"),
    "hepnnlr.observables.jets": (
        "JET_ALGORITHMS",
        "NSUBJETTINESS",
        "JetConfig",
        "cluster_flat_momenta",
        "cluster_flat_particles",
        "cluster_jets",
        "cluster_jets_with_constituents",
        "dphi_from_pi",
        "nsubjettiness",
        "per_jet_sequence",
        "subjettiness",
    ),
    "hepnnlr.observables.substructure": (
        "count_strange",
        "decreasing_pt_order",
        "energy_correlation",
        "jet_shapes_flat",
    ),
    "hepnnlr.observables.tau": (
        "TauTauSelectionConfig",
        "collinear_mass",
        "pt_ratio",
        "tautau_features",
        "visible_mass",
    ),
    "hepnnlr.observables.top": ("reconstruct_top", "solve_neutrino_pz"),
    "hepnnlr.observables.zjets_histos": ("fill_zjets_histograms_flat",),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
