"""Energy Flow Network: ``logit = F( sum_j z_j Phi(angles_j) [, event features] )``.

Φ sees only the angular features (e.g. η − η_jet, φ − φ_jet) and each particle enters
linearly in its energy fraction ``z_j``, so the network is infrared and collinear safe by
construction: a particle of zero energy changes nothing, and splitting a particle into
two collinear ones of the same total ``z`` gives the same output. ``z`` must reach the
network unstandardized: fit the :class:`~hepnnlr.tensors.Standardizer` with
``keep=("pt_frac",)`` (or the name of your energy-fraction feature).
"""

from __future__ import annotations

import keras
from keras import ops

from hepnnlr.errors import ConfigError
from hepnnlr.models.layers import MaskedSum, dense_stack, theta_inputs

__all__ = ["WeightedByEnergy", "build_efn"]


@keras.saving.register_keras_serializable(package="hepnnlr")
class WeightedByEnergy(keras.layers.Layer):
    """Split particles into ``(z * mask, angular features)`` by feature index."""

    def __init__(self, energy_index: int = 0, angular_indices=(1, 2), **kwargs):
        super().__init__(**kwargs)
        self.energy_index = int(energy_index)
        self.angular_indices = tuple(int(i) for i in angular_indices)

    def call(self, inputs):
        particles, mask = inputs
        z = ops.take(particles, self.energy_index, axis=-1) * ops.cast(mask, particles.dtype)
        angles = ops.take(particles, list(self.angular_indices), axis=-1)
        return z, angles

    def compute_output_shape(self, input_shape):
        p_shape, _ = input_shape
        return (p_shape[0], p_shape[1]), (p_shape[0], p_shape[1], len(self.angular_indices))

    def get_config(self):
        return {**super().get_config(), "energy_index": self.energy_index,
                "angular_indices": list(self.angular_indices)}


def build_efn(
    n_particle_features: int,
    n_global_features: int = 0,
    n_theta: int = 0,
    *,
    energy_index: int = 0,
    angular_indices: tuple[int, ...] = (1, 2),
    phi: tuple[int, ...] = (64, 64, 64),
    hidden: tuple[int, ...] = (64, 64),
    activation: str = "relu",
    name: str = "efn",
) -> keras.Model:
    """An EFN taking ``{"particles", "mask"[, "globals", "theta"]}``; one logit per event.

    Args:
        n_particle_features, n_global_features, n_theta: Input sizes.
        energy_index: Particle feature holding the energy (pT) fraction ``z``.
        angular_indices: Particle features Φ sees.
        phi, hidden: Sizes of Φ and of F.
    """
    used = (energy_index, *angular_indices)
    if min(used) < 0 or max(used) >= n_particle_features or energy_index in angular_indices:
        raise ConfigError(
            f"EFN feature indices energy_index={energy_index}, angular_indices="
            f"{angular_indices} must be distinct and below n_particle_features="
            f"{n_particle_features}."
        )
    particles = keras.Input(shape=(None, n_particle_features), name="particles")
    mask = keras.Input(shape=(None,), name="mask")
    inputs = {"particles": particles, "mask": mask}
    z, angles = WeightedByEnergy(energy_index, angular_indices, name="split")([particles, mask])
    per_particle = dense_stack(angles, phi, activation=activation, dropout=0.0, prefix="phi")
    x = MaskedSum(name="energy_weighted_sum")([per_particle, z])
    extras = []
    if n_global_features > 0:
        extras.append(keras.Input(shape=(n_global_features,), name="globals"))
        inputs["globals"] = extras[-1]
    theta = theta_inputs(n_theta, "event")
    if theta is not None:
        inputs["theta"] = theta
        extras.append(theta)
    if extras:
        x = keras.layers.Concatenate(name="with_event_inputs")([x, *extras])
    x = dense_stack(x, hidden, activation=activation, dropout=0.0, prefix="f")
    logit = keras.layers.Dense(1, name="logit", dtype="float32")(x)
    return keras.Model(inputs=inputs, outputs=logit, name=name)
