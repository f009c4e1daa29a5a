"""Regression losses that pick a summary statistic of the response p(y|x).

Sec. 3 of Cheong, Cukierman, Nachman, Safdari, Schwartzman, "Parametrizing the Detector Response
with Neural Networks", arXiv:1910.03773: the loss decides
which statistic of ``p(y|x)`` a regression ``ν(x)`` learns (Eq. 2.3):

=================  ===============================================  ====================
kind               loss ℓ(y, ν)                                     minimizer
=================  ===============================================  ====================
``"mse"``          (y − ν)²                                         mean (Sec. 3.1)
``"mae"``          |y − ν|                                          median (Sec. 3.2)
``"gk"``           −exp(−(y − ν)²/2h²) / (√(2π) h)                  mode (Sec. 3.3)
``"lgk"``          GK + α |y − ν|  (Eq. 3.3)                        mode, α-suppressed bias
``"gae"``          q |y − ν| if y ≥ ν else (1 − q) |y − ν|  (3.4)   q-quantile (Sec. 3.5)
``"huber"``        ½ (y − ν)² if |y − ν| ≤ δ else δ(|y − ν| − ½δ)   between median, mean
=================  ===============================================  ====================

The GK loss's minimizer is the mode of ``p`` smoothed with N(0, h²) (a shift of order h²
for a smooth mode: exactly h² at leading order for the Gamma(2, 1) of Fig. 1); the LGK
leak adds a bias that grows with α and goes to the median as α → ∞ (Fig. 2).

:class:`LossSpec` is the frozen, validated description of a loss; :meth:`LossSpec.build`
makes the Keras loss (parameters in the units of the target). Every loss class has
``get_config`` and is registered with Keras, so compiled models save and reload.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import keras
from keras import ops

from hepnnlr.errors import ConfigError

__all__ = [
    "LOSS_KINDS",
    "AbsoluteError",
    "GaussianKernel",
    "GeneralizedAbsoluteError",
    "HuberError",
    "LeakyGaussianKernel",
    "LossSpec",
    "SquaredError",
]

LOSS_KINDS = ("mse", "mae", "gk", "lgk", "gae", "huber")
"""Allowed values of :attr:`LossSpec.kind`."""

_STATISTIC = {
    "mse": "mean",
    "mae": "median",
    "gk": "mode",
    "lgk": "mode",
    "gae": "quantile",
    "huber": "huber",
}


def _positive(owner: str, name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ConfigError(
            f"{owner}: {name}={value!r} must be a number > 0 (it is a width in the units "
            f"of the target); give e.g. {name}=0.1."
        )
    if not math.isfinite(value):
        raise ConfigError(f"{owner}: {name}={value!r} must be finite.")
    return float(value)


def _bandwidth(owner: str, value: float) -> float:
    return _positive(owner, "bandwidth", value)


def _leakiness(owner: str, value: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ConfigError(
            f"{owner}: leakiness={value!r} must be a finite number >= 0 (arXiv:1910.03773 uses "
            "alpha << 1, e.g. 1e-4; 0 gives the plain Gaussian kernel)."
        )
    return float(value)


def _quantile(owner: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 < value < 1.0:
        raise ConfigError(
            f"{owner}: quantile={value!r} must lie strictly inside (0, 1); e.g. 0.16 and "
            "0.84 bound the central 68% of the response."
        )
    return float(value)


def _residual(y_true, y_pred):
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    return y_true - y_pred


def _per_sample(values):
    """Average over the last axis (one output per sample), as Keras' own losses do."""
    return ops.mean(values, axis=-1)


@keras.saving.register_keras_serializable(package="hepnnlr")
class SquaredError(keras.losses.Loss):
    """ℓ_SE = (y − ν)²: ν learns the conditional mean (Sec. 3.1)."""

    def __init__(self, name: str = "squared_error", **kwargs) -> None:
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return _per_sample(ops.square(_residual(y_true, y_pred)))


@keras.saving.register_keras_serializable(package="hepnnlr")
class AbsoluteError(keras.losses.Loss):
    """ℓ_AE = |y − ν|: ν learns the conditional median (Sec. 3.2, Eq. 3.1)."""

    def __init__(self, name: str = "absolute_error", **kwargs) -> None:
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return _per_sample(ops.abs(_residual(y_true, y_pred)))


@keras.saving.register_keras_serializable(package="hepnnlr")
class GaussianKernel(keras.losses.Loss):
    """ℓ_GK = −exp(−(y − ν)²/(2h²)) / (√(2π) h): ν learns the mode (Sec. 3.3).

    Args:
        bandwidth: h > 0, in the units of the target.
    """

    def __init__(self, bandwidth: float = 0.1, name: str = "gaussian_kernel", **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.bandwidth = _bandwidth("GaussianKernel", bandwidth)

    def _kernel(self, residual):
        h = self.bandwidth
        return -ops.exp(-ops.square(residual) / (2.0 * h * h)) / (math.sqrt(2.0 * math.pi) * h)

    def call(self, y_true, y_pred):
        return _per_sample(self._kernel(_residual(y_true, y_pred)))

    def get_config(self) -> dict:
        """Keras config, with the bandwidth."""
        return {**super().get_config(), "bandwidth": self.bandwidth}


@keras.saving.register_keras_serializable(package="hepnnlr")
class LeakyGaussianKernel(GaussianKernel):
    """ℓ_LGK = ℓ_GK + α |y − ν| (Eq. 3.3): the mode, with gradients far from it.

    Args:
        bandwidth: h > 0, in the units of the target.
        leakiness: α ≥ 0; the bias towards the median grows with α (Fig. 2).
    """

    def __init__(
        self,
        bandwidth: float = 0.1,
        leakiness: float = 1e-4,
        name: str = "leaky_gaussian_kernel",
        **kwargs,
    ) -> None:
        super().__init__(bandwidth=bandwidth, name=name, **kwargs)
        self.leakiness = _leakiness("LeakyGaussianKernel", leakiness)

    def call(self, y_true, y_pred):
        residual = _residual(y_true, y_pred)
        return _per_sample(self._kernel(residual) + self.leakiness * ops.abs(residual))

    def get_config(self) -> dict:
        """Keras config, with the bandwidth and the leakiness."""
        return {**super().get_config(), "leakiness": self.leakiness}


@keras.saving.register_keras_serializable(package="hepnnlr")
class GeneralizedAbsoluteError(keras.losses.Loss):
    """ℓ_GAE of Eq. 3.4 (the pinball loss): ν learns the q-quantile (Sec. 3.5).

    Args:
        quantile: q in (0, 1).
    """

    def __init__(
        self, quantile: float = 0.5, name: str = "generalized_absolute_error", **kwargs
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.quantile = _quantile("GeneralizedAbsoluteError", quantile)

    def call(self, y_true, y_pred):
        residual = _residual(y_true, y_pred)
        q = self.quantile
        return _per_sample(ops.maximum(q * residual, (q - 1.0) * residual))

    def get_config(self) -> dict:
        """Keras config, with the quantile."""
        return {**super().get_config(), "quantile": self.quantile}


@keras.saving.register_keras_serializable(package="hepnnlr")
class HuberError(keras.losses.Loss):
    """Huber's loss: quadratic within ±δ, linear outside (arXiv:1910.03773, Sec. 3 and
    its Ref. [3]: P. J. Huber, Ann. Math. Statist. 35 (1964) 73).

    Its minimizer solves E[clip(y − ν, −δ, δ) | x] = 0: the mean for δ → ∞, the median for
    δ → 0.

    Args:
        delta: δ > 0, in the units of the target.
    """

    def __init__(self, delta: float = 1.0, name: str = "huber_error", **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.delta = _positive("HuberError", "delta", delta)

    def call(self, y_true, y_pred):
        a = ops.abs(_residual(y_true, y_pred))
        d = self.delta
        quadratic = ops.minimum(a, d)
        # ½ min(a, δ)² + δ (a − min(a, δ)): equal to the two branches, smooth at a = δ.
        return _per_sample(0.5 * ops.square(quadratic) + d * (a - quadratic))

    def get_config(self) -> dict:
        """Keras config, with δ."""
        return {**super().get_config(), "delta": self.delta}


@dataclass(frozen=True)
class LossSpec:
    """Which response statistic to learn, as a loss and its parameters.

    Attributes:
        kind: One of :data:`LOSS_KINDS`.
        bandwidth: h of ``"gk"``/``"lgk"`` (target units; > 0).
        leakiness: α of ``"lgk"`` (>= 0).
        quantile: q of ``"gae"``, in (0, 1).
        delta: δ of ``"huber"`` (target units; > 0).

    Example:
        >>> LossSpec("lgk", bandwidth=0.5, leakiness=1e-4).statistic
        'mode'
    """

    kind: str = "mse"
    bandwidth: float = 0.1
    leakiness: float = 1e-4
    quantile: float = 0.5
    delta: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in LOSS_KINDS:
            raise ConfigError(f"LossSpec.kind={self.kind!r}; choose one of {LOSS_KINDS}.")
        _bandwidth("LossSpec", self.bandwidth)
        _leakiness("LossSpec", self.leakiness)
        _quantile("LossSpec", self.quantile)
        _positive("LossSpec", "delta", self.delta)

    @property
    def statistic(self) -> str:
        """What ν learns: ``"mean"``, ``"median"``, ``"mode"``, ``"quantile"``, ``"huber"``."""
        return _STATISTIC[self.kind]

    @property
    def label(self) -> str:
        """Short text for legends, e.g. ``"LGK (h=0.5, α=1e-04)"``."""
        if self.kind in ("gk", "lgk"):
            text = f"h={self.bandwidth:g}"
            if self.kind == "lgk":
                text += f", α={self.leakiness:.0e}"
            return f"{self.kind.upper()} ({text})"
        if self.kind == "gae":
            return f"GAE (q={self.quantile:g})"
        if self.kind == "huber":
            return f"Huber (δ={self.delta:g})"
        return self.kind.upper()

    def build(self, dtype: str | None = None) -> keras.losses.Loss:
        """The Keras loss (parameters in the units of the target).

        Args:
            dtype: Compute dtype of the loss (``None``: Keras' float type, float32);
                ``"float64"`` for precise evaluations of expected losses.
        """
        if self.kind == "mse":
            return SquaredError(dtype=dtype)
        if self.kind == "mae":
            return AbsoluteError(dtype=dtype)
        if self.kind == "gk":
            return GaussianKernel(self.bandwidth, dtype=dtype)
        if self.kind == "lgk":
            return LeakyGaussianKernel(self.bandwidth, self.leakiness, dtype=dtype)
        if self.kind == "gae":
            return GeneralizedAbsoluteError(self.quantile, dtype=dtype)
        return HuberError(self.delta, dtype=dtype)
