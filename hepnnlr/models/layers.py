"""Custom Keras layers shared by the set networks."""

from __future__ import annotations

import keras

__all__ = ["MaskedSum", "dense_stack"]


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


def dense_stack(
    x, sizes: tuple[int, ...], *, activation: str, dropout: float, prefix: str
):
    """Apply ``Dense`` layers of the given sizes (and optional dropout) to ``x``."""
    for i, size in enumerate(sizes):
        x = keras.layers.Dense(size, activation=activation, name=f"{prefix}_{i}")(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, name=f"{prefix}_dropout_{i}")(x)
    return x
