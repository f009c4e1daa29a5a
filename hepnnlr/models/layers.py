"""Custom Keras layers shared by the set networks."""

from __future__ import annotations

import keras

__all__ = [
    "MaskedSum",
    "Multiplicity",
    "PerParticle",
    "dense_stack",
    "set_inputs",
    "theta_inputs",
]


@keras.saving.register_keras_serializable(package="hepnnlr")
class MaskedSum(keras.layers.Layer):
    """Sum per-particle vectors over real particles: ``sum_j mask[:, j] * x[:, j, :]``.

    Inputs are ``[x, mask]`` with ``x`` of shape ``(batch, slots, d)`` and ``mask`` of shape
    ``(batch, slots)`` (1 for a real particle, 0 for padding). The sum makes the output
    invariant under permutations of the particles and under added padded slots.
    """

    def call(self, inputs):
        x, mask = inputs
        mask = keras.ops.cast(mask, x.dtype)
        return keras.ops.sum(x * keras.ops.expand_dims(mask, -1), axis=1)

    def compute_output_shape(self, input_shape):
        x_shape, _ = input_shape
        return (x_shape[0], x_shape[2])


@keras.saving.register_keras_serializable(package="hepnnlr")
class Multiplicity(keras.layers.Layer):
    """``log(1 + n)`` per event, ``n`` its real particles: mask ``(batch, slots) -> (batch, 1)``.

    A set network that normalizes over the particles (attention, means) cannot see how
    many there are; this gives it the count, invariant under permutations and padding.
    """

    def call(self, inputs):
        mask = keras.ops.cast(inputs, self.compute_dtype)
        return keras.ops.log1p(keras.ops.sum(mask, axis=1, keepdims=True))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)


@keras.saving.register_keras_serializable(package="hepnnlr")
class PerParticle(keras.layers.Layer):
    """Append event-level values ``(batch, d)`` to every particle ``(batch, slots, f)``.

    Used for the DCTR parameterization with θ per particle: each particle sees the
    generator parameters of its event. Padded slots get them too; the mask removes them.
    """

    def call(self, inputs):
        particles, values = inputs
        shape = keras.ops.shape(particles)
        tiled = keras.ops.broadcast_to(
            keras.ops.expand_dims(keras.ops.cast(values, particles.dtype), 1),
            (shape[0], shape[1], keras.ops.shape(values)[-1]),
        )
        return keras.ops.concatenate([particles, tiled], axis=-1)

    def compute_output_shape(self, input_shape):
        p_shape, v_shape = input_shape
        return (p_shape[0], p_shape[1], p_shape[2] + v_shape[-1])


THETA_MODES = ("event", "particle")


def theta_inputs(n_theta: int, theta_mode: str):
    """The ``theta`` input of a parameterized network (``None`` when ``n_theta`` is 0)."""
    if theta_mode not in THETA_MODES:
        from hepnnlr.errors import ConfigError

        raise ConfigError(f"theta_mode={theta_mode!r}; choose one of {THETA_MODES}.")
    if n_theta <= 0:
        return None
    return keras.Input(shape=(n_theta,), name="theta")


def set_inputs(n_particle_features: int, n_theta: int, theta_mode: str):
    """Inputs of a particle-set network and the per-particle features it starts from.

    Returns:
        ``(inputs, features)``: ``inputs`` is ``{"particles", "mask"}`` plus ``"theta"``
        when ``n_theta > 0``; ``features`` are the particles, with θ appended to every
        particle when ``theta_mode == "particle"`` (per-event θ is the caller's to add).
    """
    particles = keras.Input(shape=(None, n_particle_features), name="particles")
    mask = keras.Input(shape=(None,), name="mask")
    inputs = {"particles": particles, "mask": mask}
    theta = theta_inputs(n_theta, theta_mode)
    features = particles
    if theta is not None:
        inputs["theta"] = theta
        if theta_mode == "particle":
            features = PerParticle(name="theta_per_particle")([particles, theta])
    return inputs, features


def dense_stack(
    x, sizes: tuple[int, ...], *, activation: str, dropout: float, prefix: str
):
    """Apply ``Dense`` layers of the given sizes (and optional dropout) to ``x``."""
    for i, size in enumerate(sizes):
        x = keras.layers.Dense(size, activation=activation, name=f"{prefix}_{i}")(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, name=f"{prefix}_dropout_{i}")(x)
    return x
