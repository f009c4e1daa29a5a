"""From awkward arrays to tensors: padding, masks, standardization, ``tf.data``.

Mask convention (used by every network in :mod:`hepnnlr.models`): a padded particle array
has shape ``(events, slots, features)`` and comes with a boolean ``mask`` of shape
``(events, slots)`` that is ``True`` for a real particle and ``False`` for a padded slot.
Padded slots hold zeros in every feature, before and after standardization.
"""

from __future__ import annotations

from hepnnlr._lazy import attach
from hepnnlr._tensorflow_logs import install

# TensorFlow writes C++ start-up lines on import that no setting silences; quiet them
# (TF_CPP_MIN_LOG_LEVEL=2, and a filter on the one import: hepnnlr._tensorflow_logs)
# unless the user set TF_CPP_MIN_LOG_LEVEL. This runs on any import from hepnnlr.tensors,
# hepnnlr.models or hepnnlr.training (their packages import this one), before the first
# module that imports TensorFlow.
install()

# defining module -> public names; each module is imported on first use of a name
_EXPORTS = {
    "hepnnlr.tensors.adapt": ("EventsLike", "as_columns", "as_events"),
    "hepnnlr.tensors.checks": ("check_finite", "check_same_length"),
    "hepnnlr.tensors.dataset": ("batches", "make_dataset"),
    "hepnnlr.tensors.events": ("EventTensors", "from_awkward"),
    "hepnnlr.tensors.jagged": ("JaggedEventTensors", "from_awkward_jagged"),
    "hepnnlr.tensors.padding": ("pad_particles",),
    "hepnnlr.tensors.scaling": ("Standardizer",),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
