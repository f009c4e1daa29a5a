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
from hepnnlr.samples.detector import DetectorConfig, reconstruct_particles, simulate_detector
from hepnnlr.samples.dis import BLOCK_SIZE, DIS_SETUPS, DISSetup, generate_dis, get_setup
from hepnnlr.samples.kinematics import (
    HERA_ELECTRON_ENERGY,
    HERA_PROTON_ENERGY,
    DISKinematics,
    electron_method,
    lepton_vertex_kinematics,
)
from hepnnlr.samples.production import make_dis_sample
from hepnnlr.samples.rootio import (
    DEFAULT_TREE,
    REQUIRED_BRANCHES,
    check_event_file,
    read_events,
    write_events,
)
from hepnnlr.samples.selection import pass_gen, pass_reco
from hepnnlr.samples.ttbar import TTbarConfig
from hepnnlr.samples.ttbar_reco import TTbarDetectorConfig, make_ttbar_sample
from hepnnlr.samples.zjets import ZJetsTheta, make_zjets_sample

__all__ = [
    "BLOCK_SIZE",
    "DEFAULT_TREE",
    "DISKinematics",
    "DISSetup",
    "DIS_SETUPS",
    "DetectorConfig",
    "HERA_ELECTRON_ENERGY",
    "HERA_PROTON_ENERGY",
    "REQUIRED_BRANCHES",
    "ShowerConfig",
    "TTbarConfig",
    "TTbarDetectorConfig",
    "ZJetsTheta",
    "check_event_file",
    "electron_method",
    "generate_dis",
    "get_setup",
    "hits_to_images",
    "images_to_hits",
    "lepton_vertex_kinematics",
    "make_calo_sample",
    "make_dis_sample",
    "make_ttbar_sample",
    "make_zjets_sample",
    "pass_gen",
    "pass_reco",
    "read_events",
    "reconstruct_particles",
    "simulate_detector",
    "write_events",
]
