"""Multilayer perceptron on event-level features."""

from __future__ import annotations

import keras

from hepnnlr.errors import ConfigError
from hepnnlr.models.layers import dense_stack

__all__ = ["build_mlp"]


def build_mlp(
    n_features: int,
    *,
    hidden: tuple[int, ...] = (64, 64, 64),
    activation: str = "relu",
    dropout: float = 0.0,
    name: str = "mlp",
) -> keras.Model:
    """An MLP taking ``{"globals": (batch, n_features)}`` and returning one logit per event."""
    if n_features <= 0:
        raise ConfigError(
            f"an MLP needs event-level features; got n_features={n_features}. "
            "Pass global_features when building the inputs."
        )
    inputs = keras.Input(shape=(n_features,), name="globals")
    x = dense_stack(inputs, hidden, activation=activation, dropout=dropout, prefix="hidden")
    logit = keras.layers.Dense(1, name="logit")(x)
    return keras.Model(inputs={"globals": inputs}, outputs=logit, name=name)
