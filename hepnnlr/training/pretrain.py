"""Pre-training and fine-tuning (Sec. 4.2 of arXiv:2503.20753).

Reference: Torales Acosta, Wamorkar, Mikuni, Nachman, "Stabilizing Neural Likelihood Ratio
Estimation", arXiv:2503.20753.

A classifier trained once (for OmniFold: step 1 of iteration 1 on a separate sample) is
the starting point of later trainings instead of a random initialization. ``start_from``
copies a trained model (weights and architecture), optionally freezing layers by name
prefix (e.g. ``"phi"``, the per-particle body of a PFN); ``unfreeze`` releases them.
Fine-tuning usually takes a smaller learning rate: pass
``dataclasses.replace(config, learning_rate=config.learning_rate * factor)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from hepnnlr.errors import ConfigError

__all__ = ["start_from", "unfreeze"]


def start_from(pretrained: keras.Model, *, freeze: Sequence[str] = ()) -> keras.Model:
    """A new model with the architecture and weights of ``pretrained``.

    Args:
        pretrained: A trained model (left untouched).
        freeze: Name prefixes of layers to keep fixed during training. A prefix that
            matches no layer is an error (it would silently freeze nothing).
    """
    model = keras.models.clone_model(pretrained)
    model.set_weights(pretrained.get_weights())
    names = [layer.name for layer in model.layers]
    for prefix in freeze:
        matched = [layer for layer in model.layers if layer.name.startswith(prefix)]
        if not matched:
            raise ConfigError(
                f"freeze={prefix!r} matches no layer of {pretrained.name!r}; its layers are "
                f"{names}."
            )
        for layer in matched:
            layer.trainable = False
    return model


def unfreeze(model: keras.Model) -> keras.Model:
    """Make every layer of ``model`` trainable again (in place) and return it."""
    for layer in model.layers:
        layer.trainable = True
    return model
