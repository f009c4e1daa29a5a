"""Conditional masked autoregressive flow (MAF) in Keras 3, for ``p(x | z)``.

Reference: B. Sluijter, "Classifiers versus Normalizing Flows for uncertainty-aware
estimation of a signal ratio", MSc thesis, Leiden University 2024, hdl:1887/4104579.

Each layer is a MADE (Germain, Gregor, Murray, Larochelle, "MADE: Masked Autoencoder for
Distribution Estimation", arXiv:1502.03509) that maps ``(x, context)`` to a shift ``m_k`` and
a log-scale ``s_k`` per feature, each depending only on ``x_<k`` and the context; the layer
maps ``u_k = (x_k - m_k) exp(-s_k)`` with ``log|det| = -Σ s_k`` (Papamakarios, Pavlakou, Murray,
"Masked Autoregressive Flow for Density Estimation", arXiv:1705.07057).
Layers alternate the feature order; the base density is a standard normal:

    log p(x | c) = log N(u; 0, 1) + Σ_layers Σ_k (-s_k).

Hidden units of degree 0 see the context only, so the first feature is conditioned on the context
too. The log-scales are soft-clamped, ``s = b tanh(s_raw / b)``, for stable training.
hdl:1887/4104579 (§2.2) used rational-quadratic spline MAF layers (nflows); this is the affine
variant, written directly in Keras 3 (no tensorflow-probability).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from hepnnlr.models.spec import FlowSpec  # the recipe, TensorFlow-free; re-exported

__all__ = ["ConditionalMAF", "FlowSpec", "MADE"]

_HALF_LOG_2PI = 0.5 * float(np.log(2 * np.pi))


def _degrees(n_features: int, hidden: tuple[int, ...]) -> list[np.ndarray]:
    """MADE degrees: inputs 1..D, hidden units cycling over 0..D-1."""
    degrees = [np.arange(1, n_features + 1)]
    for size in hidden:
        degrees.append(np.arange(size) % n_features)
    return degrees


@keras.saving.register_keras_serializable(package="hepnnlr")
class MADE(keras.layers.Layer):
    """Masked autoencoder with a context input: ``(x, c) -> (shift, log_scale)``, each (b, D).

    Args:
        n_features: ``D``.
        hidden: Hidden layer sizes (each at least ``D`` is advisable).
        log_scale_bound: ``b`` of the soft clamp of the log-scales.
        activation: Hidden activation.
    """

    def __init__(
        self,
        n_features: int,
        hidden: tuple[int, ...] = (64, 64),
        log_scale_bound: float = 5.0,
        activation: str = "relu",
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.n_features = int(n_features)
        self.hidden = tuple(int(h) for h in hidden)
        self.log_scale_bound = float(log_scale_bound)
        self.activation = keras.activations.get(activation)
        self._activation_name = activation
        degrees = _degrees(self.n_features, self.hidden)
        self._masks = [
            (degrees[i + 1][None, :] >= degrees[i][:, None]).astype("float32")
            for i in range(len(self.hidden))
        ]
        out_mask = np.arange(1, self.n_features + 1)[None, :] > degrees[-1][:, None]
        self._out_mask = np.concatenate([out_mask, out_mask], axis=1).astype("float32")

    def build(self, input_shape) -> None:
        x_shape, c_shape = input_shape
        sizes = (self.n_features, *self.hidden)
        self.kernels, self.biases = [], []
        for i, size in enumerate(self.hidden):
            self.kernels.append(
                self.add_weight(
                    shape=(sizes[i], size), name=f"kernel_{i}", initializer="glorot_uniform"
                )
            )
            self.biases.append(
                self.add_weight(shape=(size,), name=f"bias_{i}", initializer="zeros")
            )
        self.context_kernel = self.add_weight(
            shape=(int(c_shape[-1]), self.hidden[0]),
            name="context_kernel",
            initializer="glorot_uniform",
        )
        # the output starts near zero: every layer begins as the identity map
        self.out_kernel = self.add_weight(
            shape=(self.hidden[-1], 2 * self.n_features),
            name="out_kernel",
            initializer=keras.initializers.RandomNormal(stddev=1e-3),
        )
        self.out_context = self.add_weight(
            shape=(int(c_shape[-1]), 2 * self.n_features), name="out_context", initializer="zeros"
        )
        self.out_bias = self.add_weight(
            shape=(2 * self.n_features,), name="out_bias", initializer="zeros"
        )

    def call(self, inputs):
        x, context = inputs
        h = x
        for i, (kernel, bias) in enumerate(zip(self.kernels, self.biases, strict=True)):
            h = ops.matmul(h, kernel * self._masks[i]) + bias
            if i == 0:
                h = h + ops.matmul(context, self.context_kernel)
            h = self.activation(h)
        # the direct context term conditions every output, the first feature included
        out = (
            ops.matmul(h, self.out_kernel * self._out_mask)
            + ops.matmul(context, self.out_context)
            + self.out_bias
        )
        shift = out[:, : self.n_features]
        raw = out[:, self.n_features :]
        log_scale = self.log_scale_bound * ops.tanh(raw / self.log_scale_bound)
        return shift, log_scale

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            n_features=self.n_features,
            hidden=list(self.hidden),
            log_scale_bound=self.log_scale_bound,
            activation=self._activation_name,
        )
        return config


@keras.saving.register_keras_serializable(package="hepnnlr")
class ConditionalMAF(keras.Model):
    """``log p(x | context)`` of a stack of MADE affine layers; ``call`` returns it per event.

    Inputs: ``{"x": (b, D), "context": (b, C)}``; output ``(b,)`` log-densities.
    """

    def __init__(
        self,
        n_features: int,
        n_context: int,
        layers: int = 5,
        hidden: tuple[int, ...] = (64, 64),
        log_scale_bound: float = 5.0,
        activation: str = "relu",
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.n_features = int(n_features)
        self.n_context = int(n_context)
        self.n_layers = int(layers)
        self.hidden = tuple(int(h) for h in hidden)
        self.log_scale_bound = float(log_scale_bound)
        self.activation_name = activation
        self.mades = [
            MADE(self.n_features, self.hidden, self.log_scale_bound, activation, name=f"made_{i}")
            for i in range(self.n_layers)
        ]

    def call(self, inputs):
        u = inputs["x"]
        context = inputs["context"]
        log_det = ops.zeros_like(u[:, 0])
        for i, made in enumerate(self.mades):
            if i % 2 == 1:  # alternate the autoregressive order
                u = ops.flip(u, axis=1)
            shift, log_scale = made((u, context))
            u = (u - shift) * ops.exp(-log_scale)
            log_det = log_det - ops.sum(log_scale, axis=1)
            if i % 2 == 1:
                u = ops.flip(u, axis=1)
        base = -0.5 * ops.sum(u * u, axis=1) - self.n_features * _HALF_LOG_2PI
        return base + log_det

    def get_config(self) -> dict:
        return {
            "n_features": self.n_features,
            "n_context": self.n_context,
            "layers": self.n_layers,
            "hidden": list(self.hidden),
            "log_scale_bound": self.log_scale_bound,
            "activation": self.activation_name,
            "name": self.name,
        }

    def sample(self, context: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw one ``x`` per row of ``context`` (inverts each layer feature by feature)."""
        context = np.asarray(context, dtype=np.float32).reshape(-1, self.n_context)
        x = rng.standard_normal((len(context), self.n_features)).astype(np.float32)
        for i in reversed(range(self.n_layers)):
            u = x[:, ::-1] if i % 2 == 1 else x
            out = np.zeros_like(u)
            for k in range(self.n_features):  # x_k = u_k exp(s_k) + m_k, s_k, m_k from x_<k
                shift, log_scale = self.mades[i]((out, context))
                shift = keras.ops.convert_to_numpy(shift)
                log_scale = keras.ops.convert_to_numpy(log_scale)
                out[:, k] = u[:, k] * np.exp(log_scale[:, k]) + shift[:, k]
            x = out[:, ::-1] if i % 2 == 1 else out
        return x.astype(np.float64)
