"""Multilayer perceptron on event-level features."""

from __future__ import annotations

import keras

from hepnnlr.errors import ConfigError
from hepnnlr.models.layers import dense_stack, theta_inputs

__all__ = ["build_mlp"]


def build_mlp(
    n_features: int,
    n_theta: int = 0,
    *,
    hidden: tuple[int, ...] = (64, 64, 64),
    activation: str = "relu",
    dropout: float = 0.0,
    name: str = "mlp",
) -> keras.Model:
    """An MLP taking ``{"globals"[, "theta"]}`` and returning one logit per event.

    With ``n_theta > 0`` the parameters θ are concatenated to the event features (the
    DCTR parameterization ``f(x, θ)``).
    """
    if n_features <= 0:
        raise ConfigError(
            f"an MLP needs event-level features; got n_features={n_features}. "
            "Pass global_features when building the inputs."
        )
    globals_ = keras.Input(shape=(n_features,), name="globals")
    inputs = {"globals": globals_}
    x = globals_
    theta = theta_inputs(n_theta, "event")
    if theta is not None:
        inputs["theta"] = theta
        x = keras.layers.Concatenate(name="with_theta")([x, theta])
    x = dense_stack(x, hidden, activation=activation, dropout=dropout, prefix="hidden")
    logit = keras.layers.Dense(1, name="logit", dtype="float32")(x)  # float32 under mixed precision
    return keras.Model(inputs=inputs, outputs=logit, name=name)
