"""The calorimeter analysis's shower features, as a function of the events.

``calo.yaml`` names :func:`reco` as ``hepnnlr.analysis.builtin.calo:reco``: it takes a
chunk of hepnnlr shower events (:func:`hepnnlr.samples.calo.make_calo_sample`, the
``Hit`` collection of :mod:`hepnnlr.samples.calo_io`) and returns one record per event,
that of :func:`hepnnlr.observables.calo.shower_features`: the 33 high-level features
(``n_hits``, ``centroid``, ``E_total``, ``E_layer_1`` … ``E_layer_30``) and the 60 per-layer
second moments (``x2_layer_k``, ``y2_layer_k``; None for an empty layer, and the centroid
None for an empty shower). :func:`shower_columns` is the one implementation, which
``CaloProcessor`` calls too, so both give the same values bit for bit
(``tests/processors/test_calo_processor.py``).

The showers and features are those of Sec. III B of Diefenbacher, Eren, Kasieczka, Korol,
Nachman & Shih, "DCTRGAN: Improving the Precision of Generative Models with Reweighting",
JINST 15 (2020) P11004, arXiv:2009.03796, where the 33 features are the inputs of the
high-level DCTR network that reweights GAN showers to Geant4 ones.
"""

from __future__ import annotations

from typing import Any

import awkward as ak
import numpy as np

from hepnnlr.errors import NonFiniteInputError
from hepnnlr.observables.calo import N_LAYERS, shower_features

__all__ = ["HIT_FIELDS", "reco", "shower_columns"]

HIT_FIELDS = ("layer", "ix", "iy", "E")
"""Fields of the ``Hit`` collection read."""


def reco(events: Any) -> ak.Array:
    """The shower features of every event (every stored cell, 30 layers)."""
    return shower_columns(events)


def shower_columns(events: Any, *, threshold: float = 0.0, n_layers: int = N_LAYERS) -> ak.Array:
    """:func:`~hepnnlr.observables.calo.shower_features` of a chunk's ``Hit`` collection.

    Args:
        events: hepnnlr shower events (NanoEvents or a plain awkward record array).
        threshold: Extra cell-energy cut in MeV (0: the cells as stored).
        n_layers: Layers of the calorimeter (30 in arXiv:2009.03796).

    Raises:
        NonFiniteInputError: a cell energy is NaN or infinite (the message names the file
            and the first entry): checked here, before any cut, because the threshold
            would drop such cells silently.
    """
    hit = events["Hit"]
    hits = ak.zip({f: hit[f] for f in HIT_FIELDS})
    energy = ak.to_numpy(ak.flatten(hits.E, axis=None))
    if not np.isfinite(energy).all():
        metadata = getattr(events, "metadata", None) or {}
        bad = ak.to_numpy(ak.any(~np.isfinite(hits.E), axis=1))
        entry = int(metadata.get("entrystart", 0) or 0) + int(np.argmax(bad))
        raise NonFiniteInputError(
            f"branch Hit_E of {metadata.get('filename', '?')} holds NaN or infinite values "
            f"(first in entry {entry}); regenerate the file or fix the step that wrote it."
        )
    return shower_features(hits, n_layers, threshold=threshold)
