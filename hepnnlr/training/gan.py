"""Adversarial training of the generators of :mod:`hepnnlr.models.gan` (DCTRGAN, Eq. 1).

Reference: Diefenbacher, Eren, Kasieczka, Korol, Nachman, Shih, "DCTRGAN: Improving the
Precision of Generative Models with Reweighting", JINST 15 (2020) P11004, arXiv:2009.03796.

``min_G max_D E_X[log D(X)] + E_Z[log(1 - D(G(Z)))]``, trained by alternating Adam steps
(the generator with the non-saturating loss ``-log D(G(Z))`` of Goodfellow et al., "Generative
Adversarial Networks", arXiv:1406.2661). A "step" is one batch, as the "epochs" of the toys of
arXiv:2009.03796 are (10,000 of batch 128).

The data are standardized per feature before training and the generator's output is
mapped back, so :meth:`TrainedGAN.sample` returns samples in the units of the data.
Training is deterministic for a given seed on a given machine: the initialization is
seeded with ``keras.utils.set_random_seed(seed)``, the batches and the noise are drawn
from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from hepnnlr.errors import ConfigError, EmptySelectionError, ShapeMismatchError
from hepnnlr.models.gan import GANSpec
from hepnnlr.tensors.checks import check_finite
from hepnnlr.training.inference import predict_batches

__all__ = ["GANConfig", "TrainedGAN", "train_gan"]

LATENTS = ("normal", "uniform")


@dataclass(frozen=True)
class GANConfig:
    """How to train a GAN.

    Attributes:
        steps: Generator updates (batches); arXiv:2009.03796's toys: 10,000.
        batch_size: Real (and generated) examples per step; arXiv:2009.03796: 128.
        learning_rate: Adam learning rate of both networks.
        beta_1: Adam's first-moment decay (0.5 is the usual GAN choice).
        discriminator_steps: Discriminator updates per generator update.
        latent: ``"normal"`` or ``"uniform"`` (on [-1, 1]; the calorimeter GAN of
            arXiv:2009.03796).
        seed: Seeds initialization, batches and noise.
        log_every: Record the mean losses every this many steps.
    """

    steps: int = 10_000
    batch_size: int = 128
    learning_rate: float = 1e-3
    beta_1: float = 0.5
    discriminator_steps: int = 1
    latent: str = "normal"
    seed: int = 0
    log_every: int = 100

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "discriminator_steps", "log_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) < 1:
                raise ConfigError(f"GANConfig.{name}={value!r} must be an integer >= 1.")
        if not self.learning_rate > 0:
            raise ConfigError(f"GANConfig.learning_rate={self.learning_rate} must be > 0.")
        if not 0 <= self.beta_1 < 1:
            raise ConfigError(f"GANConfig.beta_1={self.beta_1} must be in [0, 1).")
        if self.latent not in LATENTS:
            raise ConfigError(f"GANConfig.latent={self.latent!r}; choose one of {LATENTS}.")


def _noise(rng: np.random.Generator, n: int, dim: int, latent: str) -> np.ndarray:
    if latent == "uniform":
        return rng.uniform(-1.0, 1.0, (n, dim)).astype(np.float32)
    return rng.standard_normal((n, dim)).astype(np.float32)


@dataclass
class TrainedGAN:
    """A trained generator with the standardization of its data.

    Attributes:
        generator, discriminator: The Keras networks (the generator works in standardized
            units).
        latent_dim, latent: Noise dimension and distribution.
        mean, scale: Per-feature standardization of the training data.
        feature_names: Names of the generated columns (may be empty).
        history: ``{"step", "d_loss", "g_loss"}`` every ``log_every`` steps.
    """

    generator: keras.Model
    discriminator: keras.Model
    latent_dim: int
    latent: str
    mean: np.ndarray
    scale: np.ndarray
    feature_names: tuple[str, ...] = ()
    history: dict[str, list[float]] = field(default_factory=dict)

    def sample(self, n: int, seed: int, *, batch_size: int = 8192) -> np.ndarray:
        """``(n, features)`` float64 samples in the units of the training data.

        The same ``seed`` gives the same samples; draw new samples (e.g. for applying
        DCTRGAN weights to events the classifier never saw) with another seed.
        """
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ConfigError(f"TrainedGAN.sample(n={n!r}): n must be an integer >= 0.")
        z = _noise(np.random.default_rng(seed), int(n), self.latent_dim, self.latent)
        out = (
            predict_batches(self.generator, z, batch_size)
            if n
            else np.zeros((0, len(self.mean)), np.float32)
        )
        samples = np.asarray(out, np.float64) * self.scale + self.mean
        check_finite("generated samples", samples)
        return samples


def train_gan(
    spec: GANSpec,
    data: np.ndarray,
    config: GANConfig = GANConfig(),
    *,
    feature_names: tuple[str, ...] = (),
) -> TrainedGAN:
    """Train a generator on ``data`` (``(n, features)``, or ``(n,)`` for one feature).

    Args:
        spec: Network sizes.
        data: Real examples.
        config: Training settings.
        feature_names: Optional column names kept with the result.

    Raises:
        EmptySelectionError: fewer examples than one batch.
        NonFiniteInputError: NaN or infinity in ``data`` or in a loss.
    """
    data = np.asarray(data, np.float64)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2:
        raise ShapeMismatchError(f"train_gan needs data of shape (n, features), got {data.shape}.")
    if feature_names and len(feature_names) != data.shape[1]:
        raise ShapeMismatchError(
            f"train_gan: {len(feature_names)} feature names for {data.shape[1]} columns."
        )
    if len(data) < config.batch_size:
        raise EmptySelectionError(
            f"train_gan got {len(data)} examples, fewer than one batch of "
            f"{config.batch_size}; provide more data or a smaller batch_size."
        )
    check_finite("GAN training data", data)
    mean = data.mean(axis=0)
    scale = data.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    real = ((data - mean) / scale).astype(np.float32)

    keras.utils.set_random_seed(config.seed)
    generator, discriminator = spec.build(real.shape[1])
    g_opt = keras.optimizers.Adam(config.learning_rate, beta_1=config.beta_1)
    d_opt = keras.optimizers.Adam(config.learning_rate, beta_1=config.beta_1)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def d_step(x_real, z):
        with tf.GradientTape() as tape:
            fake = generator(z, training=True)
            real_logit = discriminator(x_real, training=True)
            fake_logit = discriminator(fake, training=True)
            loss = bce(tf.ones_like(real_logit), real_logit) + bce(
                tf.zeros_like(fake_logit), fake_logit
            )
        grads = tape.gradient(loss, discriminator.trainable_variables)
        d_opt.apply_gradients(zip(grads, discriminator.trainable_variables, strict=True))
        return loss

    @tf.function
    def g_step(z):
        with tf.GradientTape() as tape:
            fake_logit = discriminator(generator(z, training=True), training=True)
            loss = bce(tf.ones_like(fake_logit), fake_logit)  # non-saturating
        grads = tape.gradient(loss, generator.trainable_variables)
        g_opt.apply_gradients(zip(grads, generator.trainable_variables, strict=True))
        return loss

    rng = np.random.default_rng(config.seed)
    history: dict[str, list[float]] = {"step": [], "d_loss": [], "g_loss": []}
    d_sum = g_sum = 0.0
    for step in range(1, config.steps + 1):
        for _ in range(config.discriminator_steps):
            batch = real[rng.integers(0, len(real), config.batch_size)]
            z = _noise(rng, config.batch_size, spec.latent_dim, config.latent)
            d_sum += float(d_step(batch, z)) / config.discriminator_steps
        g_sum += float(g_step(_noise(rng, config.batch_size, spec.latent_dim, config.latent)))
        if step % config.log_every == 0 or step == config.steps:
            count = (step - 1) % config.log_every + 1
            history["step"].append(float(step))
            history["d_loss"].append(d_sum / count)
            history["g_loss"].append(g_sum / count)
            check_finite("GAN losses", np.array([d_sum, g_sum]), where=f"step {step}")
            d_sum = g_sum = 0.0
    return TrainedGAN(
        generator,
        discriminator,
        spec.latent_dim,
        config.latent,
        mean,
        scale,
        tuple(feature_names),
        history,
    )
