"""Coffea processors shipped with hepnnlr (installed as ``hepnnlr.processors``).

One processor per analysis, each reading the trees our samples write
(:mod:`hepnnlr.samples`) through :class:`hepnnlr.schema.HepnnlrSchema`:

- :class:`DISProcessor`: DIS at HERA, electron-method kinematics and lab-frame kT jets;
- :class:`ZJetsProcessor`: e+e− → Z → dijets, anti-kT R = 0.8 substructure (τ21, ECF, counts);
- :class:`TTbarProcessor`: tt̄ → b b j j μ ν, the SRGN paper's four triplet masses;
- :class:`CaloProcessor`: calorimeter showers, the 33 DCTRGAN features;
- :class:`TauTauProcessor`: H/Z → τ_ℓ τ_h, m_vis and pT(ℓ)/pT(τ_h).

All of them return weighted ``hist`` histograms, a cut-flow and per-event columns (switchable
for :class:`DISProcessor`), which :func:`collect_columns` concatenates in event order.
"""

from __future__ import annotations

from hepnnlr.processors.calo import CaloProcessor
from hepnnlr.processors.dis import DISProcessor, collect_columns
from hepnnlr.processors.tautau import TauTauProcessor, feature_table
from hepnnlr.processors.ttbar import TTbarProcessor
from hepnnlr.processors.zjets import ZJetsProcessor

__all__ = [
    "CaloProcessor",
    "DISProcessor",
    "TTbarProcessor",
    "TauTauProcessor",
    "ZJetsProcessor",
    "collect_columns",
    "feature_table",
]
