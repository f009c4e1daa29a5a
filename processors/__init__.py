"""Coffea processors shipped with hepnnlr (installed as ``hepnnlr.processors``).

One processor per built-in analysis, each reading the trees our samples write
(:mod:`hepnnlr.samples`) through :class:`hepnnlr.schema.HepnnlrSchema`:

- :class:`DISProcessor`: DIS at HERA, electron-method kinematics and lab-frame kT jets;
- :class:`ZJetsProcessor`: e+e− → Z → dijets, anti-kT R = 0.8 substructure (τ21, ECF, counts);
- :class:`TTbarProcessor`: tt̄ → b b j j μ ν, the four triplet masses of Andreassen, Hsu,
  Nachman, Suaysom, Suresh, "Parameter Estimation using Neural Networks in the Presence of
  Detector Effects", arXiv:2010.03569;
- :class:`CaloProcessor`: calorimeter showers, the 33 DCTRGAN features;
- :class:`TauTauProcessor`: H/Z → τ_ℓ τ_h, m_vis and pT(ℓ)/pT(τ_h);

one that runs any analysis description (:mod:`hepnnlr.analysis`), with any coffea schema:

- :class:`AnalysisProcessor`: datasets, selections, observables and particle sets from a
  declarative description (``AnalysisProcessor(hepnnlr.analysis.get("dis"))``);

one that applies a saved reweighter (or an ensemble, with up/down) through a
description, the model travelling with it as bytes:

- :class:`ReweightProcessor`: per-event weights keyed for joining back, and the
  description's observables per variation (``hepnnlr reweight``);

and one for the user's own files, with any coffea schema:

- :class:`JetSubstructureProcessor`: jets of any particle collection (NanoAOD/PFNano
  ``PFCands``, ``GenPart``, EDM4hep, ...; PUPPI weights), pT, mass, τ21, multiplicity.

All of them return weighted ``hist`` histograms with a leading ``dataset`` category axis
(filled from ``events.metadata["dataset"]``, the fileset key), a cut-flow per dataset
(``{dataset: {cut: count}}``, from a :class:`coffea.analysis_tools.PackedSelection`) and
per-event columns per chunk (switchable for :class:`DISProcessor` and
:class:`ZJetsProcessor`), so that the datasets of one run never mix. One dataset is read
back with :func:`collect_hists` (``h[{"dataset": name}]``), :func:`collect_cutflow` and
:func:`collect_columns` (its chunks concatenated in event order).
"""

from __future__ import annotations

from hepnnlr.processors.analysis import AnalysisProcessor
from hepnnlr.processors.calo import CaloProcessor
from hepnnlr.processors.chunks import collect_columns, collect_cutflow, collect_hists
from hepnnlr.processors.dis import DISProcessor
from hepnnlr.processors.jetsubstructure import JetSubstructureProcessor
from hepnnlr.processors.reweight import ReweightProcessor
from hepnnlr.processors.tautau import TauTauProcessor, feature_table
from hepnnlr.processors.ttbar import TTbarProcessor
from hepnnlr.processors.zjets import ZJetsProcessor

__all__ = [
    "AnalysisProcessor",
    "CaloProcessor",
    "DISProcessor",
    "JetSubstructureProcessor",
    "ReweightProcessor",
    "TTbarProcessor",
    "TauTauProcessor",
    "ZJetsProcessor",
    "collect_columns",
    "collect_cutflow",
    "collect_hists",
    "feature_table",
]
