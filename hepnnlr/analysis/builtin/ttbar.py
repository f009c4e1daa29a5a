"""The tt̄ analysis's top-mass observables, as functions of the events.

``ttbar.yaml`` names them as ``hepnnlr.analysis.builtin.ttbar:gen`` and ``...:reco``: each
takes a chunk of hepnnlr tt̄ → b b j j μ ν events
(:func:`hepnnlr.samples.make_ttbar_sample`) and returns one record per event, that of
:func:`hepnnlr.observables.top.reconstruct_top`: ``reason`` (0 = selected, else the first
failed requirement), ``nu_real``, ``nu_pz`` and the four masses m(b1 μ ν), m(b2 μ ν),
m(b1 j1 j2), m(b2 j1 j2) (None where the event is not selected). :func:`level_columns` is
the one implementation, which ``TTbarProcessor`` calls too, so both give the same values
bit for bit (``tests/processors/test_ttbar_processor.py``).

The analysis is the top-quark mass example of Sec. III C of Andreassen, Hsu, Nachman,
Suaysom & Suresh, "Parameter Estimation using Neural Networks in the Presence of Detector
Effects" (SRGN), arXiv:2010.03569: at generator level ``GenJet``, ``GenMuon``
and the true neutrino (``GenNeutrino``; SRGN keeps the neutrino there; ``gen_met``
solves the W-mass constraint on ``GenMET`` instead), at detector level ``RecoJet``,
``RecoMuon`` and the missing transverse momentum ``MET``.
"""

from __future__ import annotations

from typing import Any

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError
from hepnnlr.observables.top import TopSelectionConfig, reconstruct_top

__all__ = ["GEN_NEUTRINO_MODES", "JET_FIELDS", "gen", "gen_met", "level_columns", "reco"]

GEN_NEUTRINO_MODES = ("truth", "met")
"""The generator-level neutrino: the true one (arXiv:2010.03569) or solved from
``GenMET``."""
JET_FIELDS = ("pt", "eta", "phi", "mass", "btag")
"""Jet fields read at both levels."""
_MUON_FIELDS = ("pt", "eta", "phi", "E")
_NEUTRINO_FIELDS = ("pt", "eta", "phi", "E")
_LEVELS = ("gen", "reco")


def gen(events: Any) -> ak.Array:
    """Generator-level top-mass record of every event (the true neutrino)."""
    return level_columns(events, "gen")


def gen_met(events: Any) -> ak.Array:
    """Generator-level top-mass record with the neutrino solved from ``GenMET``."""
    return level_columns(events, "gen", gen_neutrino="met")


def reco(events: Any) -> ak.Array:
    """Detector-level top-mass record of every event (``MET`` as the neutrino's pT)."""
    return level_columns(events, "reco")


def level_columns(
    events: Any,
    level: str,
    *,
    selection: TopSelectionConfig | None = None,
    gen_neutrino: str = "truth",
) -> ak.Array:
    """:func:`~hepnnlr.observables.top.reconstruct_top` of one level of a chunk.

    Args:
        events: hepnnlr tt̄ events (NanoEvents or a plain awkward record array).
        level: ``"gen"`` or ``"reco"``.
        selection: Object selection and neutrino rule (default: that of arXiv:2010.03569).
        gen_neutrino: ``"truth"`` or ``"met"`` (generator level only).
    """
    if level not in _LEVELS:
        raise ConfigError(f"level_columns(level={level!r}): choose one of {list(_LEVELS)}.")
    if gen_neutrino not in GEN_NEUTRINO_MODES:
        raise ConfigError(
            f"gen_neutrino={gen_neutrino!r} is not known; use one of {list(GEN_NEUTRINO_MODES)}."
        )
    prefix = "Gen" if level == "gen" else "Reco"
    jets = _plain(events[f"{prefix}Jet"], JET_FIELDS)
    muons = _plain(events[f"{prefix}Muon"], _MUON_FIELDS)
    if level == "gen" and gen_neutrino == "truth":
        nu = ak.firsts(_plain(events["GenNeutrino"], _NEUTRINO_FIELDS), axis=1)
        return reconstruct_top(jets, muons, neutrino=nu, config=selection)
    met = "GenMET" if level == "gen" else "MET"
    pt = ak.values_astype(events[f"{met}_pt"], np.float64)
    phi = ak.values_astype(events[f"{met}_phi"], np.float64)
    return reconstruct_top(jets, muons, pt * np.cos(phi), pt * np.sin(phi), config=selection)


def _plain(collection: Any, fields: tuple[str, ...]) -> ak.Array:
    """The listed fields as plain float64/bool records (no NanoEvents behaviour)."""
    return ak.zip(
        {
            f: collection[f] if f == "btag" else ak.values_astype(collection[f], np.float64)
            for f in fields
        }
    )
