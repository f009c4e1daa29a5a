"""Keras 3 networks: an MLP for event features; Deep Sets (PFN, EFN) and PET for particle sets.

Every network takes the dict of inputs built by
:meth:`hepnnlr.tensors.EventTensors.as_inputs` (``particles``, ``mask``, ``globals``) and
returns one logit per event. Set networks respect the mask convention of
:mod:`hepnnlr.tensors`: they are invariant under permutations of the particles and under
adding padded slots.
"""

from __future__ import annotations

import hepnnlr.tensors  # noqa: F401  (quiet TensorFlow start-up before keras imports it)
from hepnnlr.models.conv3d import (
    Conv3DSpec,
    RandomFlipXY,
    build_conv3d,
)
from hepnnlr.models.efn import build_efn
from hepnnlr.models.flows import (
    MADE,
    ConditionalMAF,
    FlowSpec,
)
from hepnnlr.models.gan import (
    GANSpec,
    build_discriminator,
    build_generator,
)
from hepnnlr.models.layers import MaskedSum
from hepnnlr.models.mlp import build_mlp
from hepnnlr.models.pet import build_pet
from hepnnlr.models.pfn import build_pfn
from hepnnlr.models.spec import ModelSpec

__all__ = [
    "build_conv3d",
    "build_discriminator",
    "build_efn",
    "build_generator",
    "build_mlp",
    "build_pet",
    "build_pfn",
    "ConditionalMAF",
    "Conv3DSpec",
    "FlowSpec",
    "GANSpec",
    "MADE",
    "MaskedSum",
    "ModelSpec",
    "RandomFlipXY",
]
