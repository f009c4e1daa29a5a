"""Layer 1 — event samples: Pythia 8 generation (DIS, e+e- -> Z -> jets, tt̄), a parametric
calorimeter-shower toy, tt̄ at 13 TeV, parametric detectors, ROOT files.

Typical use::

    from hepnnlr.samples import make_dis_sample
    make_dis_sample("sim.root", "sim", n_events=100_000, seed=1, workers=2)
    make_dis_sample("data.root", "data", n_events=100_000, seed=2, workers=2)

This layer imports nothing from hepnnlr but :mod:`hepnnlr.errors`.
"""

from __future__ import annotations

from hepnnlr.samples.calo import ShowerConfig, hits_to_images, images_to_hits, make_calo_sample
from hepnnlr.samples.calo_surrogate import ShowerRenderer, describe_showers
from hepnnlr.samples.detector import DetectorConfig, reconstruct_particles, simulate_detector
from hepnnlr.samples.dis import BLOCK_SIZE, DIS_SETUPS, DISSetup, generate_dis, get_setup
from hepnnlr.samples.gaussian import (
    full_phase_space_sample,
    gaussian_sample,
    gaussian_weights,
    varied_gaussian_sample,
)
from hepnnlr.samples.gaussian_signal import (
    GAUSSIAN_FEATURES,
    GaussianSignalToy,
)
from hepnnlr.samples.kinematics import (
    HERA_ELECTRON_ENERGY,
    HERA_PROTON_ENERGY,
    DISKinematics,
    electron_method,
    lepton_vertex_kinematics,
)
from hepnnlr.samples.multimodal import (
    GaussianMixture,
)
from hepnnlr.samples.production import make_dis_sample
from hepnnlr.samples.response_toys import (
    JetResponseToy,
    MuonResolutionToy,
    crystal_ball_cdf,
    crystal_ball_pdf,
    crystal_ball_ppf,
    jet_energy_resolution,
    jet_energy_response,
    muon_momentum_resolution,
)
from hepnnlr.samples.rootio import (
    DEFAULT_TREE,
    REQUIRED_BRANCHES,
    check_event_file,
    read_events,
    write_events,
)
from hepnnlr.samples.selection import pass_gen, pass_reco
from hepnnlr.samples.tautau import (
    TauTauConfig,
    generate_tautau,
)
from hepnnlr.samples.tautau_reco import (
    TauTauDetectorConfig,
    make_tautau_sample,
    simulate_tautau_detector,
)
from hepnnlr.samples.ttbar import TTbarConfig
from hepnnlr.samples.ttbar_reco import TTbarDetectorConfig, make_ttbar_sample
from hepnnlr.samples.zjets import ZJetsTheta, make_zjets_sample

__all__ = [
    "BLOCK_SIZE",
    "check_event_file",
    "crystal_ball_cdf",
    "crystal_ball_pdf",
    "crystal_ball_ppf",
    "DEFAULT_TREE",
    "DetectorConfig",
    "DIS_SETUPS",
    "DISKinematics",
    "DISSetup",
    "electron_method",
    "full_phase_space_sample",
    "GAUSSIAN_FEATURES",
    "gaussian_sample",
    "gaussian_weights",
    "GaussianMixture",
    "GaussianSignalToy",
    "generate_dis",
    "generate_tautau",
    "get_setup",
    "HERA_ELECTRON_ENERGY",
    "HERA_PROTON_ENERGY",
    "hits_to_images",
    "images_to_hits",
    "jet_energy_resolution",
    "jet_energy_response",
    "JetResponseToy",
    "lepton_vertex_kinematics",
    "make_calo_sample",
    "make_dis_sample",
    "make_tautau_sample",
    "make_ttbar_sample",
    "make_zjets_sample",
    "muon_momentum_resolution",
    "MuonResolutionToy",
    "pass_gen",
    "pass_reco",
    "read_events",
    "reconstruct_particles",
    "REQUIRED_BRANCHES",
    "ShowerConfig",
    "ShowerRenderer",
    "describe_showers",
    "simulate_detector",
    "simulate_tautau_detector",
    "TauTauConfig",
    "TauTauDetectorConfig",
    "TTbarConfig",
    "TTbarDetectorConfig",
    "varied_gaussian_sample",
    "write_events",
    "ZJetsTheta",
]
