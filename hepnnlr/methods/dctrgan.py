"""DCTRGAN: post-hoc likelihood-ratio weights for a generative model.

Diefenbacher, Eren, Kasieczka, Korol, Nachman, Shih, "DCTRGAN: improving the precision of
generative models with reweighting", JINST 15 (2020) P11004, arXiv:2009.03796:

* A classifier ``h`` is trained with binary cross entropy between *reference* examples
  (label 1: the truth, Geant4 in arXiv:2009.03796) and *generated* examples (label 0: the GAN);
  the weight of a generated example is ``W(x) = h / (1 - h) = exp(logit)`` (Sec. II C),
  which approaches ``p_T(x) / p_G(x)`` (Eq. 3) so that ``p_G W ~ p_T``.
* The classifier is calibrated with temperature scaling, ``W = exp(logit / T)`` with ``T``
  fitted on held-out events, and per-example weights are clipped at 5 (Sec. III B).
* The weights are applied to *new* generated examples (``DCTRGANReweighter.weights``);
  their quality and cost are measured with ``<S^2>`` (Eq. 15) and ``r``
  (:mod:`hepnnlr.weighted`).

Two classifiers of the calorimeter study of arXiv:2009.03796 compose from the shared parts: the
high-level one, an MLP on the 33 shower features (``ModelSpec("mlp", hidden=(128, 128))``,
inputs from :func:`feature_tensors`), and the low-level one on the 30 × 30 × 30 images
(:class:`hepnnlr.models.conv3d.Conv3DSpec`, 3-D convolutions with flip augmentation,
inputs from :func:`image_tensors`). Training goes through
:func:`hepnnlr.training.train_classifier`; this module imports no TensorFlow.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import awkward as ak
import numpy as np

from hepnnlr.errors import (
    AllWeightsClippedError,
    ConfigError,
    MissingBranchError,
    ShapeMismatchError,
    WeightClippingWarning,
)
from hepnnlr.models.conv3d import Conv3DSpec
from hepnnlr.models.spec import ModelSpec
from hepnnlr.tensors.adapt import EventsLike, as_events
from hepnnlr.tensors.checks import check_finite
from hepnnlr.tensors.events import EventTensors, from_awkward
from hepnnlr.tensors.scaling import Standardizer
from hepnnlr.training import (
    TrainedClassifier,
    TrainingConfig,
    clip_weights,
    fit_temperature,
    train_classifier,
    weights_from_logits,
)

__all__ = [
    "AllWeightsClippedError",
    "DCTRGANConfig",
    "DCTRGANReweighter",
    "DCTRGANResult",
    "WeightClippingWarning",
    "array_tensors",
    "dctrgan_weights",
    "feature_tensors",
    "image_tensors",
]


_MAX_LOG_WEIGHT = 700.0  # exp(709.8) overflows float64


@dataclass(frozen=True)
class DCTRGANConfig:
    """How to train a DCTRGAN reweighter.

    Attributes:
        model: The classifier: a :class:`ModelSpec` (arXiv:2009.03796's high-level network is
            ``ModelSpec("mlp", hidden=(128, 128))``, the default; its 1-D toy uses three
            layers of 20, the 2-D toys (64, 128, 256)) or a :class:`Conv3DSpec` for images.
        training: Training settings (arXiv:2009.03796: Adam, batch 128, 50 epochs for the
            high-level network; here early stopping on a validation split).
        clip_max: Upper bound of each weight (5 in arXiv:2009.03796); ``None``: no clipping.
        temperature_scaling: Calibrate ``W = exp(logit / T)`` with ``T`` fitted on held-out
            events (Guo, Pleiss, Sun, Weinberger, *On Calibration of Modern Neural
            Networks*, arXiv:1706.04599; the low-level model of arXiv:2009.03796). Off: ``T = 1``.
        calibration_fraction: Fraction of each sample held out (from the classifier's
            training) to fit ``T``; ignored without temperature scaling.
        standardize: Standardize the event features (fitted on the training events of both
            classes). ``None``: yes for a ``ModelSpec``, no for images (``Conv3DSpec``).
        warn_clipped_fraction: Warn (:class:`WeightClippingWarning`) when more than this
            fraction of the weights is clipped.
    """

    model: ModelSpec | Conv3DSpec = ModelSpec("mlp", hidden=(128, 128))
    training: TrainingConfig = TrainingConfig(epochs=50, batch_size=128, patience=5)
    clip_max: float | None = 5.0
    temperature_scaling: bool = True
    calibration_fraction: float = 0.2
    standardize: bool | None = None
    warn_clipped_fraction: float = 0.01

    def __post_init__(self) -> None:
        if not isinstance(self.model, ModelSpec | Conv3DSpec):
            raise ConfigError(
                f"DCTRGANConfig.model must be a ModelSpec or a Conv3DSpec, got "
                f"{type(self.model).__name__}."
            )
        if not isinstance(self.training, TrainingConfig):
            raise ConfigError(
                f"DCTRGANConfig.training must be a TrainingConfig, got "
                f"{type(self.training).__name__}."
            )
        if self.clip_max is not None and not (np.isfinite(self.clip_max) and self.clip_max > 0):
            raise ConfigError(
                f"DCTRGANConfig.clip_max={self.clip_max!r} must be a positive weight (the "
                "paper: 5) or None for no clipping."
            )
        if not 0 < self.calibration_fraction < 1:
            raise ConfigError(
                f"DCTRGANConfig.calibration_fraction={self.calibration_fraction} must be in "
                "(0, 1)."
            )
        if not 0 <= self.warn_clipped_fraction <= 1:
            raise ConfigError(
                f"DCTRGANConfig.warn_clipped_fraction={self.warn_clipped_fraction} must be "
                "in [0, 1]."
            )

    @property
    def standardizes(self) -> bool:
        """Whether the event features are standardized before training."""
        if self.standardize is None:
            return isinstance(self.model, ModelSpec)
        return bool(self.standardize)


@dataclass(frozen=True, eq=False)
class DCTRGANResult:
    """DCTRGAN weights of generated examples and what was done to them.

    Attributes:
        weights: Final per-example weights (after clipping).
        raw: ``exp(logit / T)`` before clipping.
        temperature: ``T``.
        clip_max: The clipping bound (``None``: none).
        n_clipped: How many weights the bound changed.
    """

    weights: np.ndarray
    raw: np.ndarray
    temperature: float
    clip_max: float | None
    n_clipped: int

    @property
    def clipped_fraction(self) -> float:
        """Fraction of the examples whose weight was clipped."""
        return self.n_clipped / len(self.weights) if len(self.weights) else 0.0


# The name before issue 18's naming rule (results end in ``Result``); kept so code
# written against it still runs, and left out of ``__all__``.
DCTRGANWeights = DCTRGANResult


def dctrgan_weights(
    logits: np.ndarray,
    *,
    temperature: float = 1.0,
    clip_max: float | None = 5.0,
    warn_clipped_fraction: float = 0.01,
    name: str = "DCTRGAN classifier",
) -> DCTRGANResult:
    """``W = min(exp(logit / T), clip_max)`` with a report of the clipping.

    Raises:
        AllWeightsClippedError: every weight exceeded ``clip_max`` (message with the
            smallest raw weight and what it means), or some ``|logit / T|`` is beyond
            700 (a perfectly separated example, whose weight no float represents).
        NonFiniteInputError: NaN logits.
        ConfigError: non-positive ``temperature``.

    Warns:
        WeightClippingWarning: more than ``warn_clipped_fraction`` of the weights clipped.
    """
    if not (np.isfinite(temperature) and temperature > 0):
        raise ConfigError(f"temperature={temperature!r} must be a positive number.")
    logits = np.asarray(logits, np.float64).reshape(-1) / temperature
    check_finite(f"logits of {name}", logits)
    extreme = np.abs(logits) > _MAX_LOG_WEIGHT
    if extreme.any():
        raise AllWeightsClippedError(
            f"{int(extreme.sum())} of {len(logits)} examples have |log W| > "
            f"{_MAX_LOG_WEIGHT:g} under {name} (first: log W = {logits[extreme][0]:.3g} at "
            f"example {int(np.argmax(extreme))}): the classifier separates those generated "
            "examples from the reference perfectly, so no finite weight describes them. The "
            "generator does not cover the reference's phase space there; improve it before "
            "reweighting."
        )
    raw = weights_from_logits(logits, name=name)
    report = clip_weights(raw, maximum=clip_max)
    n = len(raw)
    if n and report.n_clipped == n:
        raise AllWeightsClippedError(
            f"all {n} weights of {name} exceed clip_max={clip_max:g} (the smallest raw "
            f"weight is {raw.min():.3g}): the classifier finds every generated example far "
            "less likely than the reference, so the clipped weights are a constant and "
            "correct nothing. The generator misses the reference's phase space (or the "
            "samples were swapped: the reference is label 1). Improve the generator, check "
            "the inputs, or raise clip_max knowingly."
        )
    if n and report.n_clipped / n > warn_clipped_fraction:
        warnings.warn(
            f"{report.n_clipped} of {n} weights of {name} ({report.n_clipped / n:.1%}) "
            f"were clipped at {clip_max:g}; the weighted generator still under-populates "
            "those regions. Check the weight distribution before trusting the result.",
            WeightClippingWarning,
            stacklevel=2,
        )
    return DCTRGANResult(report.weights, raw, float(temperature), clip_max, report.n_clipped)


def array_tensors(values: np.ndarray, names: Sequence[str]) -> EventTensors:
    """Event-level inputs from an ``(n, k)`` array (e.g. generated feature vectors)."""
    values = np.asarray(values, np.float64)
    if values.ndim == 1:
        values = values[:, None]
    names = tuple(names)
    if values.ndim != 2 or values.shape[1] != len(names):
        raise ShapeMismatchError(
            f"array_tensors: values of shape {values.shape} for {len(names)} names {names}."
        )
    check_finite("features", values)
    return EventTensors(None, None, values.astype(np.float32), (), names)


def feature_tensors(
    columns: ak.Array | Mapping[str, np.ndarray], names: Sequence[str]
) -> EventTensors:
    """Event-level inputs from per-event columns (e.g. the calo processor's 33 features).

    Raises:
        MissingBranchError: a feature is missing, or ``None`` in some event (e.g. the
            centroid of an empty shower): select the events where it is defined first.
    """
    if isinstance(columns, Mapping):
        columns = ak.zip({k: np.asarray(v) for k, v in columns.items()}, depth_limit=1)
    return from_awkward(columns, global_features=tuple(names), where="DCTRGAN inputs")


def image_tensors(images: np.ndarray) -> EventTensors:
    """Flattened ``log(1 + E / MeV)`` shower images as event-level inputs of a
    :class:`Conv3DSpec` network.

    The logarithm compresses the cell energies (from 0.1 MeV to hundreds of MeV) to
    order-one inputs; empty cells stay 0. Features are named ``cell_<layer>_<x>_<y>``.

    Raises:
        ShapeMismatchError: ``images`` is not ``(events, layers, x, y)``.
        ConfigError: a negative cell energy.
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 4:
        raise ShapeMismatchError(
            f"image_tensors needs (events, layers, x, y) images, got shape {images.shape}."
        )
    check_finite("shower images", images.reshape(len(images), -1))
    if (images < 0).any():
        raise ConfigError(
            f"shower images hold a negative cell energy ({images.min():g} MeV); cell "
            "energies must be >= 0."
        )
    _, n_l, n_x, n_y = images.shape
    names = tuple(f"cell_{a}_{b}_{c}" for a in range(n_l) for b in range(n_x) for c in range(n_y))
    flat = np.log1p(images.reshape(len(images), -1))
    return EventTensors(None, None, flat, (), names)


def _split(n: int, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(n)
    n_hold = max(1, int(round(fraction * n)))
    if n_hold >= n:
        raise ConfigError(
            f"a sample of {n} events cannot give up {n_hold} for calibration; provide more "
            "events or a smaller calibration_fraction."
        )
    return np.sort(order[n_hold:]), np.sort(order[:n_hold])


@dataclass
class DCTRGANReweighter:
    """A trained DCTRGAN weight function ``W(x) ~ p_reference(x) / p_generated(x)``.

    Build one with :meth:`train`; apply it to new generated examples with :meth:`weights`.

    Attributes:
        classifier: The trained classifier (reference = label 1).
        temperature: ``T`` of the calibration (1 without temperature scaling).
        clip_max: Clipping bound of the weights.
        standardizer: Feature standardization applied before the classifier, or ``None``.
        features: Names of the event features the classifier was trained on.
        warn_clipped_fraction: See :class:`DCTRGANConfig`.
        name: Used in messages.
    """

    classifier: TrainedClassifier
    temperature: float
    clip_max: float | None
    standardizer: Standardizer | None
    features: tuple[str, ...]
    warn_clipped_fraction: float = 0.01
    name: str = "DCTRGAN"

    @classmethod
    def train(
        cls,
        reference: EventsLike,
        generated: EventsLike,
        config: DCTRGANConfig = DCTRGANConfig(),
        *,
        reference_weights: np.ndarray | None = None,
        generated_weights: np.ndarray | None = None,
        name: str = "DCTRGAN",
    ) -> DCTRGANReweighter:
        """Train the classifier between ``reference`` (label 1) and ``generated`` (label 0).

        ``config.calibration_fraction`` of each sample (seeded by ``config.training.seed``)
        is held out of the training to fit the temperature; the classifier's own
        validation split for early stopping comes out of the rest. Both samples are
        :class:`EventTensors` or plain arrays (:func:`hepnnlr.tensors.as_events`).
        """
        reference = as_events(reference, argument="reference")
        generated = as_events(generated, argument="generated")
        if (reference.particle_features, reference.global_features) != (
            generated.particle_features, generated.global_features
        ):
            raise MissingBranchError(
                f"{name}: the reference has features {reference.global_features[:5]}... and "
                f"the generated sample {generated.global_features[:5]}...; build both with "
                "the same features in the same order."
            )
        if reference.particles is not None:
            raise ConfigError(
                f"{name}: DCTRGAN takes event-level inputs (features or flattened images); "
                "got particle sets."
            )
        w_ref = np.ones(len(reference)) if reference_weights is None else reference_weights
        w_gen = np.ones(len(generated)) if generated_weights is None else generated_weights
        w_ref, w_gen = np.asarray(w_ref, np.float64), np.asarray(w_gen, np.float64)
        rng = np.random.default_rng(config.training.seed + 101)
        if config.temperature_scaling:
            ref_fit, ref_cal = _split(len(reference), config.calibration_fraction, rng)
            gen_fit, gen_cal = _split(len(generated), config.calibration_fraction, rng)
        else:
            ref_fit, gen_fit = np.arange(len(reference)), np.arange(len(generated))
            ref_cal = gen_cal = np.zeros(0, int)
        standardizer = None
        if config.standardizes:
            union = EventTensors.concatenate([reference.subset(ref_fit), generated.subset(gen_fit)])
            standardizer = Standardizer.fit(union)

        def prepare(events: EventTensors) -> EventTensors:
            return standardizer.transform(events) if standardizer is not None else events

        classifier = train_classifier(
            config.model,
            prepare(reference.subset(ref_fit)), w_ref[ref_fit],
            prepare(generated.subset(gen_fit)), w_gen[gen_fit],
            config.training,
            name=name,
        )
        temperature = 1.0
        if config.temperature_scaling:
            logits = np.concatenate([
                classifier.logits(prepare(reference.subset(ref_cal))),
                classifier.logits(prepare(generated.subset(gen_cal))),
            ])
            labels = np.concatenate([np.ones(len(ref_cal)), np.zeros(len(gen_cal))])
            # balance the classes as in training, so T calibrates the same ratio
            weights = np.concatenate([
                w_ref[ref_cal] / w_ref[ref_cal].sum(), w_gen[gen_cal] / w_gen[gen_cal].sum()
            ])
            temperature = fit_temperature(logits, labels, weights)
        return cls(
            classifier, temperature, config.clip_max, standardizer,
            reference.global_features, config.warn_clipped_fraction, name,
        )

    def raw_logits(self, generated: EventsLike) -> np.ndarray:
        """Logits of the classifier for ``generated`` examples, before calibration."""
        generated = as_events(generated, argument="generated")
        if generated.global_features != self.features:
            missing = [f for f in self.features if f not in generated.global_features]
            raise MissingBranchError(
                f"{self.name} was trained on {len(self.features)} features "
                f"{self.features[:5]}...; the events have {len(generated.global_features)}: "
                f"{generated.global_features[:5]}..."
                f"{f' (missing {missing[:5]})' if missing else ''}; build them with the "
                "same features in the same order."
            )
        events = self.standardizer.transform(generated) if self.standardizer else generated
        return self.classifier.logits(events)

    def logits(self, generated: EventsLike) -> np.ndarray:
        """Calibrated logits ``logit / T``: ``log W`` before clipping."""
        return self.raw_logits(generated) / self.temperature

    def weights(self, generated: EventsLike) -> DCTRGANResult:
        """DCTRGAN weights of ``generated`` examples (clipped; see :func:`dctrgan_weights`).

        Apply them to generated examples the classifier was not trained on.
        """
        return dctrgan_weights(
            self.raw_logits(generated), temperature=self.temperature, clip_max=self.clip_max,
            warn_clipped_fraction=self.warn_clipped_fraction, name=self.name,
        )
