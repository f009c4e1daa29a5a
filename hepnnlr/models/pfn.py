"""Deep Sets / Particle Flow Network on padded particle sets.

``logit = F( sum_j mask_j * Phi(p_j) [, event features] )``: Phi acts on each particle, the
masked sum makes the network permutation invariant and blind to padding, F acts on the sum
concatenated with the event-level features when there are any.
"""

from __future__ import annotations

import keras

from hepnnlr.errors import ConfigError
from hepnnlr.models.layers import MaskedSum, dense_stack, set_inputs

__all__ = ["build_pfn"]


def build_pfn(
    n_particle_features: int,
    n_global_features: int = 0,
    n_theta: int = 0,
    *,
    theta_mode: str = "event",
    phi: tuple[int, ...] = (64, 64, 64),
    hidden: tuple[int, ...] = (64, 64),
    activation: str = "relu",
    dropout: float = 0.0,
    name: str = "pfn",
) -> keras.Model:
    """A PFN taking ``{"particles", "mask"[, "globals", "theta"]}``; one logit per event.

    Parameters θ (``n_theta > 0``) enter per event (concatenated after the sum, with the
    event features) or per particle (appended to every particle before Φ), the two DCTR
    parameterizations of Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation
    using Neural Networks in the Presence of Detector Effects", arXiv:2010.03569.
    """
    if n_particle_features <= 0:
        raise ConfigError(
            f"a PFN needs particle features; got n_particle_features={n_particle_features}."
        )
    inputs, per_particle = set_inputs(n_particle_features, n_theta, theta_mode)
    mask, theta = inputs["mask"], inputs.get("theta")
    per_particle = dense_stack(per_particle, phi, activation=activation, dropout=0.0,
                               prefix="phi")
    x = MaskedSum(name="sum")([per_particle, mask])
    if n_global_features > 0:
        globals_ = keras.Input(shape=(n_global_features,), name="globals")
        inputs["globals"] = globals_
        x = keras.layers.Concatenate(name="with_globals")([x, globals_])
    if theta is not None and theta_mode == "event":
        x = keras.layers.Concatenate(name="with_theta")([x, theta])
    x = dense_stack(x, hidden, activation=activation, dropout=dropout, prefix="f")
    logit = keras.layers.Dense(1, name="logit", dtype="float32")(x)  # float32 under mixed precision
    return keras.Model(inputs=inputs, outputs=logit, name=name)
