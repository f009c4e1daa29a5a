"""Layer 1 — event samples: Pythia 8 DIS generation, parametric detector, ROOT files.

Typical use::

    from hepnnlr.samples import make_dis_sample
    make_dis_sample("sim.root", "sim", n_events=100_000, seed=1, workers=2)
    make_dis_sample("data.root", "data", n_events=100_000, seed=2, workers=2)

This layer imports nothing from hepnnlr but :mod:`hepnnlr.errors`.
"""

from __future__ import annotations

from hepnnlr.samples.detector import DetectorConfig, simulate_detector
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
    "check_event_file",
    "electron_method",
    "generate_dis",
    "get_setup",
    "lepton_vertex_kinematics",
    "make_dis_sample",
    "pass_gen",
    "pass_reco",
    "read_events",
    "simulate_detector",
    "write_events",
]
