"""3-D convolutional classifier of calorimeter shower images (arXiv:2009.03796, Sec. III B).

Reference: Diefenbacher, Eren, Kasieczka, Korol, Nachman, Shih, "DCTRGAN: Improving the
Precision of Generative Models with Reweighting", JINST 15 (2020) P11004, arXiv:2009.03796.

The low-level DCTR classifier of arXiv:2009.03796 sees the 30 × 30 × 30 shower directly: each image
is flipped along x with probability 1/2 and along y with probability 1/2 (the transverse directions,
in which showers are symmetric; it keeps the classifier from latching onto generator artefacts),
then passes three 3 × 3 × 3 convolutions (stride 2, zero padding 1; stride 2, padding 1; stride 1,
no padding) with layer normalization between them, a flatten and dense layers with LeakyReLU (slope
0.01), and a sigmoid output.

:func:`build_conv3d` builds that network with a linear logit output (``W = exp(logit)``)
and configurable widths: arXiv:2009.03796 uses 128 filters and dense layers (64, 256, 256), too
heavy for a CPU; the defaults here are (8, 16, 16) filters and (64,) dense units.

Inputs follow :class:`hepnnlr.tensors.EventTensors`: the image arrives flattened as the
event-level features ``"globals"`` (``layers * x * y`` columns in C order of
``(layer, x, y)``, as :func:`hepnnlr.samples.calo.hits_to_images` lays them out), so the
network trains with :func:`hepnnlr.training.train_classifier` like every other one.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from hepnnlr.errors import ConfigError, ShapeMismatchError

__all__ = ["Conv3DSpec", "RandomFlipXY", "build_conv3d"]


@keras.saving.register_keras_serializable(package="hepnnlr")
class RandomFlipXY(keras.layers.Layer):
    """Flip each image independently along each of ``axes`` with probability 1/2.

    Active only in training (``training=True``); at inference it is the identity. Inputs
    are ``(batch, layers, x, y, channels)``; the default ``axes=(2, 3)`` are x and y. Each
    example is flipped on its own, so it stays paired with its own label and weight.
    """

    def __init__(self, axes: tuple[int, ...] = (2, 3), seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        axes = tuple(int(a) for a in axes)
        if not axes or any(a < 1 for a in axes):
            raise ConfigError(
                f"RandomFlipXY(axes={axes}): give the spatial axes to flip, counting the batch "
                "axis as 0 (x and y of (batch, layers, x, y, channels) are (2, 3))."
            )
        self.axes = axes
        self.seed = seed
        self._generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        x = inputs
        batch = keras.ops.shape(x)[0]
        for axis in self.axes:
            draw = keras.random.uniform((batch,), seed=self._generator)
            flip = keras.ops.reshape(draw < 0.5, (-1,) + (1,) * (len(x.shape) - 1))
            x = keras.ops.where(flip, keras.ops.flip(x, axis=axis), x)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "seed": self.seed}


def build_conv3d(
    shape: tuple[int, int, int] = (30, 30, 30),
    *,
    filters: tuple[int, int, int] = (8, 16, 16),
    dense: tuple[int, ...] = (64,),
    flip: bool = True,
    leak: float = 0.01,
    seed: int | None = None,
    name: str = "conv3d",
) -> keras.Model:
    """The low-level DCTRGAN classifier: ``{"globals": flat image}`` -> one logit.

    Args:
        shape: (layers, x, y) of the images; each must be at least 9 so the three
            convolutions leave a non-empty volume (30 -> 15 -> 8 -> 6 in
            arXiv:2009.03796).
        filters: Output channels of the three convolutions.
        dense: Hidden units after the flatten.
        flip: Random x/y flips in training (:class:`RandomFlipXY`).
        leak: Negative slope of the LeakyReLU activations.
        seed: Seed of the flips.
        name: Model name.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3 or min(shape) < 9:
        raise ConfigError(
            f"build_conv3d(shape={shape}): need (layers, x, y), each >= 9 (two stride-2 "
            "convolutions and one unpadded 3 x 3 x 3 convolution)."
        )
    if len(filters) != 3 or any(int(f) < 1 for f in filters):
        raise ConfigError(f"build_conv3d(filters={filters}): three positive channel counts.")
    if any(int(d) < 1 for d in dense):
        raise ConfigError(f"build_conv3d(dense={dense}): layer sizes must be positive.")
    flat = keras.Input(shape=(int(np.prod(shape)),), name="globals")
    x = keras.layers.Reshape((*shape, 1), name="image")(flat)
    if flip:
        x = RandomFlipXY(axes=(2, 3), seed=seed, name="flip_xy")(x)
    for i, (f, stride, padding) in enumerate(
        zip(filters, (2, 2, 1), ("same", "same", "valid"), strict=True)
    ):
        x = keras.layers.Conv3D(int(f), 3, strides=stride, padding=padding, name=f"conv_{i}")(x)
        x = keras.layers.LeakyReLU(negative_slope=leak, name=f"conv_act_{i}")(x)
        if i < 2:
            x = keras.layers.LayerNormalization(name=f"norm_{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    for i, units in enumerate(dense):
        x = keras.layers.Dense(int(units), name=f"dense_{i}")(x)
        x = keras.layers.LeakyReLU(negative_slope=leak, name=f"dense_act_{i}")(x)
    logit = keras.layers.Dense(1, name="logit", dtype="float32")(x)
    return keras.Model(inputs={"globals": flat}, outputs=logit, name=name)


@dataclass(frozen=True)
class Conv3DSpec:
    """A frozen recipe for :func:`build_conv3d`, callable as a model factory.

    ``spec(n_particle_features, n_global_features)`` builds a fresh network (the factory
    signature of :func:`hepnnlr.training.train_classifier`); it checks that the event
    features are the flattened images of ``shape``.
    """

    shape: tuple[int, int, int] = (30, 30, 30)
    filters: tuple[int, int, int] = (8, 16, 16)
    dense: tuple[int, ...] = (64,)
    flip: bool = True
    leak: float = 0.01
    seed: int | None = 0

    def __post_init__(self) -> None:
        if len(self.shape) != 3 or min(self.shape) < 9:
            raise ConfigError(f"Conv3DSpec.shape={self.shape}: (layers, x, y), each >= 9.")
        if len(self.filters) != 3 or any(int(f) < 1 for f in self.filters):
            raise ConfigError(f"Conv3DSpec.filters={self.filters}: three positive counts.")
        if any(int(d) < 1 for d in self.dense):
            raise ConfigError(f"Conv3DSpec.dense={self.dense}: sizes must be positive.")
        if not 0 <= self.leak < 1:
            raise ConfigError(f"Conv3DSpec.leak={self.leak} must be in [0, 1).")

    def __call__(self, n_particle_features: int, n_global_features: int) -> keras.Model:
        cells = int(np.prod(self.shape))
        if n_particle_features or n_global_features != cells:
            raise ShapeMismatchError(
                f"Conv3DSpec{self.shape} needs images flattened into {cells} event features "
                f"and no particles; got {n_global_features} event and {n_particle_features} "
                "particle features. Build the inputs with hepnnlr.methods.dctrgan."
                "image_tensors."
            )
        return build_conv3d(
            self.shape, filters=self.filters, dense=self.dense, flip=self.flip,
            leak=self.leak, seed=self.seed,
        )
