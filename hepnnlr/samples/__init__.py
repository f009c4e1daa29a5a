"""Layer 1 — event samples: Pythia 8 generation (DIS, e+e- -> Z -> jets, tt̄), a parametric
calorimeter-shower toy, tt̄ at 13 TeV, parametric detectors, ROOT files.

Typical use::

    from hepnnlr.samples import make_dis_sample
    make_dis_sample("sim.root", "sim", n_events=100_000, seed=1, workers=2)
    make_dis_sample("data.root", "data", n_events=100_000, seed=2, workers=2)

This layer imports nothing from hepnnlr but :mod:`hepnnlr.errors`.
"""

from __future__ import annotations

from hepnnlr._lazy import attach

# defining module -> public names; each module is imported on first use of a name
_EXPORTS = {
    "hepnnlr.samples.calo": (
        "ShowerConfig",
        "hits_to_images",
        "images_to_hits",
        "make_calo_sample",
    ),
    "hepnnlr.samples.calo_surrogate": ("ShowerRenderer", "describe_showers"),
    "hepnnlr.samples.detector": ("DetectorConfig", "reconstruct_particles", "simulate_detector"),
    "hepnnlr.samples.dis": ("BLOCK_SIZE", "DIS_SETUPS", "DISSetup", "generate_dis", "get_setup"),
    "hepnnlr.samples.gaussian": (
        "full_phase_space_sample",
        "gaussian_sample",
        "gaussian_weights",
        "varied_gaussian_sample",
    ),
    "hepnnlr.samples.gaussian_signal": ("GAUSSIAN_FEATURES", "GaussianSignalToy"),
    "hepnnlr.samples.kinematics": (
        "HERA_ELECTRON_ENERGY",
        "HERA_PROTON_ENERGY",
        "DISKinematics",
        "electron_method",
        "lepton_vertex_kinematics",
    ),
    "hepnnlr.samples.multimodal": ("GaussianMixture",),
    "hepnnlr.samples.production": ("make_dis_sample",),
    "hepnnlr.samples.response_toys": (
        "JetResponseToy",
        "MuonResolutionToy",
        "crystal_ball_cdf",
        "crystal_ball_pdf",
        "crystal_ball_ppf",
        "jet_energy_resolution",
        "jet_energy_response",
        "muon_momentum_resolution",
    ),
    "hepnnlr.samples.rootio": (
        "DEFAULT_TREE",
        "REQUIRED_BRANCHES",
        "check_event_file",
        "read_events",
        "write_events",
    ),
    "hepnnlr.samples.selection": ("pass_gen", "pass_reco"),
    "hepnnlr.samples.tautau": ("TauTauConfig", "generate_tautau"),
    "hepnnlr.samples.tautau_reco": (
        "TauTauDetectorConfig",
        "make_tautau_sample",
        "simulate_tautau_detector",
    ),
    "hepnnlr.samples.ttbar": ("TTbarConfig",),
    "hepnnlr.samples.ttbar_reco": ("TTbarDetectorConfig", "make_ttbar_sample"),
    "hepnnlr.samples.zjets": ("ZJetsTheta", "make_zjets_sample"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
