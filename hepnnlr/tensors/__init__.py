"""From awkward arrays to tensors: padding, masks, standardization, ``tf.data``.

Mask convention (used by every network in :mod:`hepnnlr.models`): a padded particle array
has shape ``(events, slots, features)`` and comes with a boolean ``mask`` of shape
``(events, slots)`` that is ``True`` for a real particle and ``False`` for a padded slot.
Padded slots hold zeros in every feature, before and after standardization.
"""

from __future__ import annotations

import os

# TensorFlow prints several lines of C++ start-up logs on import; keep them quiet unless the
# user asked otherwise. ``setdefault`` leaves a user's own setting untouched.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from hepnnlr.tensors.checks import check_finite, check_same_length  # noqa: E402
from hepnnlr.tensors.dataset import batches, make_dataset  # noqa: E402
from hepnnlr.tensors.events import EventTensors, from_awkward  # noqa: E402
from hepnnlr.tensors.jagged import (  # noqa: E402
    JaggedEventTensors,
    from_awkward_jagged,
)
from hepnnlr.tensors.padding import pad_particles  # noqa: E402
from hepnnlr.tensors.scaling import Standardizer  # noqa: E402

__all__ = [
    "batches",
    "check_finite",
    "check_same_length",
    "EventTensors",
    "from_awkward",
    "from_awkward_jagged",
    "JaggedEventTensors",
    "make_dataset",
    "pad_particles",
    "Standardizer",
]
