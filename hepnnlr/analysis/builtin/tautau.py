"""The ℓ τ_h analysis's selection and features, as functions of the events.

``tautau.yaml`` names them as ``hepnnlr.analysis.builtin.tautau:gen`` and ``...:reco``:
each takes a chunk of hepnnlr ττ events
(:func:`hepnnlr.samples.tautau_reco.make_tautau_sample`: H → ττ signal or Z → ττ
background, one leptonic and one hadronic τ) and returns one record per event, that of
:func:`hepnnlr.observables.tau.tautau_features`: ``reason`` (0 = selected), the visible
mass ``m_vis``, ``pt_ratio`` = pT(ℓ)/pT(τ_h), ``dphi``, the collinear mass ``m_col``,
``collinear_ok``, ``lep_pt`` and ``tau_pt`` (None where the event is not selected).
:func:`level_features` is the one implementation, which ``TauTauProcessor`` calls too, so
both give the same values bit for bit (``tests/processors/test_tautau_processor.py``).

The features ``m_vis`` and ``pt_ratio`` are those of B. Sluijter, "Classifiers versus
Normalizing Flows for uncertainty-aware estimation of a signal ratio", MSc thesis, Leiden
University 2024, hdl:1887/4104579 (§3.1.2), where the hadronic-τ energy scale z is the
nuisance parameter of the signal-strength fit.
"""

from __future__ import annotations

from typing import Any

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError
from hepnnlr.observables.tau import TauTauSelectionConfig, tautau_features

__all__ = ["OBJECT_FIELDS", "gen", "level_features", "reco"]

OBJECT_FIELDS = ("pt", "eta", "phi", "E", "charge")
"""Fields of the lepton and τ_h collections read at both levels."""
_LEVELS = {"gen": ("Gen", "GenMET"), "reco": ("Reco", "MET")}


def gen(events: Any) -> ak.Array:
    """Generator-level selection and features (``GenLepton``, ``GenTauh``, ``GenMET``)."""
    return level_features(events, "gen")


def reco(events: Any) -> ak.Array:
    """Detector-level selection and features (``RecoLepton``, ``RecoTauh``, ``MET``)."""
    return level_features(events, "reco")


def level_features(
    events: Any, level: str, selection: TauTauSelectionConfig | None = None
) -> ak.Array:
    """:func:`~hepnnlr.observables.tau.tautau_features` of one level of a chunk.

    Args:
        events: hepnnlr ττ events (NanoEvents or a plain awkward record array).
        level: ``"gen"`` or ``"reco"``.
        selection: The object selection (default :class:`TauTauSelectionConfig`).
    """
    if level not in _LEVELS:
        raise ConfigError(f"level_features(level={level!r}): choose one of {list(_LEVELS)}.")
    prefix, met = _LEVELS[level]
    return tautau_features(
        _plain(events[f"{prefix}Lepton"]),
        _plain(events[f"{prefix}Tauh"]),
        events[f"{met}_pt"],
        events[f"{met}_phi"],
        selection,
    )


def _plain(collection: Any) -> ak.Array:
    """pt, eta, phi, E (float64) and charge as plain records (no NanoEvents behaviour)."""
    return ak.zip(
        {
            f: ak.values_astype(collection[f], np.int8 if f == "charge" else np.float64)
            for f in OBJECT_FIELDS
        }
    )
