"""Every hepnnlr layer and model class that Keras must find by name to load a saved network.

``keras.models.load_model`` rebuilds a network from its config and looks each custom class up
in Keras' registry, which a class enters when its module is imported
(``@keras.saving.register_keras_serializable``). The package ``__init__`` exports lazily and
imports none of them, so whoever loads a network (a saved reweighter on a dask worker, a saved
regressor) imports this module first.
"""

from __future__ import annotations

from hepnnlr.models import conv3d, efn, flows, gan, layers, mlp, pet, pfn

__all__ = ["MODULES"]

MODULES = (conv3d, efn, flows, gan, layers, mlp, pet, pfn)
"""The modules whose classes are registered (importing this module imports them)."""
