"""Keras 3 networks: an MLP for event features; Deep Sets (PFN, EFN) and PET for particle sets.

Every network takes the dict of inputs built by
:meth:`hepnnlr.tensors.EventTensors.as_inputs` (``particles``, ``mask``, ``globals``) and
returns one logit per event. Set networks respect the mask convention of
:mod:`hepnnlr.tensors`: they are invariant under permutations of the particles and under
adding padded slots.
"""

from __future__ import annotations

import hepnnlr.tensors  # noqa: F401  (quiet TensorFlow start-up before keras imports it)
from hepnnlr._lazy import attach

# defining module -> public names; each module is imported on first use of a name
_EXPORTS = {
    "hepnnlr.models.conv3d": ("Conv3DSpec", "RandomFlipXY", "build_conv3d"),
    "hepnnlr.models.efn": ("build_efn",),
    "hepnnlr.models.flows": ("MADE", "ConditionalMAF"),
    "hepnnlr.models.gan": ("GANSpec", "build_discriminator", "build_generator"),
    "hepnnlr.models.layers": ("MaskedSum",),
    "hepnnlr.models.mlp": ("build_mlp",),
    "hepnnlr.models.pet": ("build_pet",),
    "hepnnlr.models.pfn": ("build_pfn",),
    "hepnnlr.models.spec": ("FlowSpec", "ModelSpec"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
