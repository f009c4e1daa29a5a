"""Small generative adversarial networks (Eq. 1 of arXiv:2009.03796) for vectors.

Reference: Diefenbacher, Eren, Kasieczka, Korol, Nachman, Shih, "DCTRGAN: Improving the
Precision of Generative Models with Reweighting", JINST 15 (2020) P11004, arXiv:2009.03796.

The toy GANs of arXiv:2009.03796 (Sec. III A) are fully connected: a generator with two hidden
layers of 15 ReLU units mapping a latent vector (dimension 5, 8 and 25 for the 1-D bimodal, the ring
and the grid) to the data space, and a discriminator with two hidden layers of 25 ReLU units. The
same networks, wider, serve as the surrogate of the calorimeter showers' 33 high-level features
(:mod:`hepnnlr.methods.dctrgan`). The discriminator returns a logit; training is in
:mod:`hepnnlr.training.gan`.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras

from hepnnlr.errors import ConfigError
from hepnnlr.models.layers import dense_stack

__all__ = ["GANSpec", "build_discriminator", "build_generator"]


def _check(sizes: tuple[int, ...], what: str) -> None:
    if any(int(s) < 1 for s in sizes):
        raise ConfigError(f"{what}={sizes}: layer sizes must be positive.")


def build_generator(
    latent_dim: int,
    n_features: int,
    *,
    hidden: tuple[int, ...] = (15, 15),
    activation: str = "relu",
    name: str = "generator",
) -> keras.Model:
    """``G: R^latent_dim -> R^n_features``, dense layers and a linear output."""
    if latent_dim < 1 or n_features < 1:
        raise ConfigError(
            f"build_generator(latent_dim={latent_dim}, n_features={n_features}): both >= 1."
        )
    _check(hidden, "generator hidden")
    z = keras.Input(shape=(int(latent_dim),), name="latent")
    x = dense_stack(z, tuple(hidden), activation=activation, dropout=0.0, prefix="g_hidden")
    out = keras.layers.Dense(int(n_features), name="sample", dtype="float32")(x)
    return keras.Model(z, out, name=name)


def build_discriminator(
    n_features: int,
    *,
    hidden: tuple[int, ...] = (25, 25),
    activation: str = "relu",
    name: str = "discriminator",
) -> keras.Model:
    """``D: R^n_features -> logit`` (``sigmoid(logit)`` is the probability of "real")."""
    if n_features < 1:
        raise ConfigError(f"build_discriminator(n_features={n_features}) must be >= 1.")
    _check(hidden, "discriminator hidden")
    x_in = keras.Input(shape=(int(n_features),), name="sample")
    x = dense_stack(x_in, tuple(hidden), activation=activation, dropout=0.0, prefix="d_hidden")
    logit = keras.layers.Dense(1, name="logit", dtype="float32")(x)
    return keras.Model(x_in, logit, name=name)


@dataclass(frozen=True)
class GANSpec:
    """Sizes of a generator/discriminator pair (defaults: the 1-D toy of arXiv:2009.03796).

    Attributes:
        latent_dim: Dimension of the latent noise (arXiv:2009.03796: 5, 8, 25 for the
            three toys).
        generator_hidden: Hidden sizes of ``G`` (arXiv:2009.03796: (15, 15)).
        discriminator_hidden: Hidden sizes of ``D`` (arXiv:2009.03796: (25, 25)).
        activation: Hidden activation of both.
    """

    latent_dim: int = 5
    generator_hidden: tuple[int, ...] = (15, 15)
    discriminator_hidden: tuple[int, ...] = (25, 25)
    activation: str = "relu"

    def __post_init__(self) -> None:
        if isinstance(self.latent_dim, bool) or int(self.latent_dim) < 1:
            raise ConfigError(f"GANSpec.latent_dim={self.latent_dim} must be >= 1.")
        _check(self.generator_hidden, "GANSpec.generator_hidden")
        _check(self.discriminator_hidden, "GANSpec.discriminator_hidden")

    def build(self, n_features: int) -> tuple[keras.Model, keras.Model]:
        """Fresh ``(generator, discriminator)`` for ``n_features``-dimensional data."""
        return (
            build_generator(self.latent_dim, n_features, hidden=self.generator_hidden,
                            activation=self.activation),
            build_discriminator(n_features, hidden=self.discriminator_hidden,
                                activation=self.activation),
        )
