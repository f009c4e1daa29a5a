"""The parameterized classifiers ``f_sig(x, z)``, ``f_bkg(x, z)`` (§2.3 of hdl:1887/4104579).

Reference: B. Sluijter, "Classifiers versus Normalizing Flows for uncertainty-aware
estimation of a signal ratio", MSc thesis, Leiden University 2024, hdl:1887/4104579.

Batch construction of §3.2.1: positives are events of one process at their own z (drawn
from a prior ``p_z``); negatives are reference events at ``z0``, signal or background with
probability ½ each, and carry the z values of the positives. Then
``p(x, z | -) = [½ p(x|sig,z0) + ½ p(x|bkg,z0)] p_z(z)`` and a Bayes-optimal classifier has
``exp(logit) = p(x|·,z) / [½ p(x|sig,z0) + ½ p(x|bkg,z0)]``: the bracket of Eq. 2.8.

:func:`train_parameterized_ratio` builds every batch that way (``B`` positives, ``B``
negatives carrying the same ``B`` z values, negatives redrawn from the reference samples
for every batch), so the z marginals of the two classes agree inside each batch, not only
on average. :func:`parameterized_training_sets` builds the same construction once over a
whole sample (for :func:`hepnnlr.training.train_classifier` or for inspection).

Two corrections of a trained ratio ``r(x, z)``, both NumPy on top of any
``ConditionalLogDensity``:

* :func:`normalize_ratio` imposes the identity every true ratio satisfies,
  ``∫ r(x, z) p_ref(x) dx = 1`` for each z, by dividing by ``c(z)``, the mean of
  ``r(x_ref, z)`` over the reference events at z0 (a cubic spline through knots in z). A
  trained classifier misses it by up to ~16 %, differently at each z, and the spurious
  ``log c(z)`` in every event's term moves ẑ by one to several σ_z of a few thousand
  events (the classifier route's z bias, docs/fragments/h2-sigstrength.md);
* :class:`EnsembleRatio` averages the logits of members trained with distinct seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np
from scipy.interpolate import CubicSpline

from hepnnlr.errors import (
    ConfigError,
    EmptySelectionError,
    NonFiniteInputError,
    ShapeMismatchError,
)
from hepnnlr.models.spec import ModelSpec
from hepnnlr.tensors.events import EventTensors
from hepnnlr.training.classifier import TrainedClassifier
from hepnnlr.training.conditional import (
    CONDITIONAL_TRAINING,
    Standardization,
    check_z_in_range,
    conditional_config,
    fit_conditional,
    standardize,
)
from hepnnlr.training.config import TrainingConfig

__all__ = [
    "DEFAULT_TRAINING",
    "EnsembleRatio",
    "NormalizedRatio",
    "ParameterizedRatio",
    "normalize_ratio",
    "parameterized_training_sets",
    "train_parameterized_ratio",
]

DEFAULT_TRAINING = CONDITIONAL_TRAINING
""":data:`hepnnlr.training.conditional.CONDITIONAL_TRAINING`: cosine decay, no early
stopping (the same default as the conditional flow's)."""


THESIS_CLASSIFIER = ModelSpec("mlp", hidden=(120, 120, 120))
"""Three hidden layers of 120 ReLU units (§3.2.1 of hdl:1887/4104579)."""


@dataclass(frozen=True, eq=False)
class ParameterizedRatio:
    """``log[p(x|·,z) / p_ref(x)]`` from a trained parameterized classifier (its logit).

    Satisfies :class:`hepnnlr.methods.signal_strength.ConditionalLogDensity`.

    Attributes:
        classifier: The trained classifier (inputs standardized with the fields below).
        features: Feature names, in column order.
        z_range: Range of z of the training positives; outside it the ratio is refused.
        x_loc, x_scale, z_loc, z_scale: Standardization of the inputs.
    """

    classifier: TrainedClassifier
    features: tuple[str, ...]
    z_range: tuple[float, float]
    x_loc: np.ndarray
    x_scale: np.ndarray
    z_loc: float
    z_scale: float

    def inputs(self, x: np.ndarray, z: np.ndarray) -> EventTensors:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.features):
            raise ShapeMismatchError(
                f"{self.classifier.name}: x must be (events, {len(self.features)}) with the "
                f"columns {self.features}; got {x.shape}."
            )
        z = np.broadcast_to(np.asarray(z, dtype=np.float64), (len(x),))
        return _tensors(x, z, self)

    def log_prob(self, x: np.ndarray, z: np.ndarray, batch_size: int = 65_536) -> np.ndarray:
        """The logit: the log of the Eq. 2.8 bracket, one float64 per event."""
        z = np.broadcast_to(np.asarray(z, dtype=np.float64), (len(x),))
        check_z_in_range(z, self.z_range, self.classifier.name, "classifier")
        # The range was checked above in physical units. The model is called directly,
        # batch by batch: ``predict`` costs a fixed ~0.3 s per call, too much for the many
        # small evaluations of a continuous minimization.
        inputs = self.inputs(x, z).as_inputs()
        out = np.empty(len(x))
        for start in range(0, len(x), int(batch_size)):
            batch = {k: v[start : start + int(batch_size)] for k, v in inputs.items()}
            out[start : start + int(batch_size)] = keras.ops.convert_to_numpy(
                self.classifier.model(batch, training=False)
            ).reshape(-1)
        if np.isnan(out).any():
            k = int(np.argmax(np.isnan(out)))
            raise NonFiniteInputError(
                f"{self.classifier.name}: the classifier's logit is NaN for event {k} "
                f"(z={z[k]:g}); its weights are broken. Retrain it."
            )
        return out


@dataclass(frozen=True, eq=False)
class EnsembleRatio:
    """The mean of the logits (a geometric mean of the ratios) of several trained ratios.

    Satisfies :class:`hepnnlr.methods.signal_strength.ConditionalLogDensity`; the members
    are e.g. :class:`ParameterizedRatio` objects trained with the configurations of
    :func:`hepnnlr.training.ensemble.ensemble_configs` (distinct seeds).

    Attributes:
        members: The trained ratios, all on the same features.
    """

    members: tuple

    def __post_init__(self) -> None:
        members = tuple(self.members)
        if not members:
            raise ConfigError("EnsembleRatio needs at least one member; give trained ratios.")
        features = {tuple(m.features) for m in members}
        if len(features) != 1:
            raise ConfigError(
                f"EnsembleRatio: the members take different features {sorted(features)}; "
                "train all members on the same features."
            )
        object.__setattr__(self, "members", members)

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(self.members[0].features)

    @property
    def z_range(self) -> tuple[float, float]:
        """The z interval all members were trained on (their intersection)."""
        return (
            max(float(m.z_range[0]) for m in self.members),
            min(float(m.z_range[1]) for m in self.members),
        )

    def log_prob(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """The mean of the members' log ratios, one float64 per event."""
        return np.mean(
            [np.asarray(m.log_prob(x, z), dtype=np.float64) for m in self.members], axis=0
        )


@dataclass(frozen=True, eq=False)
class NormalizedRatio:
    """``log r(x, z) - log c(z)``: a ratio divided by its mean over the reference sample.

    Made by :func:`normalize_ratio`. ``log c`` is a cubic spline through ``log_norm`` at
    ``z_knots``.

    Attributes:
        ratio: The uncorrected ratio (a ``ConditionalLogDensity``).
        z_knots: ``(k,)`` increasing z values spanning ``ratio.z_range``.
        log_norm: ``(k,)`` ``log c(z)`` at the knots.
    """

    ratio: object
    z_knots: np.ndarray
    log_norm: np.ndarray

    def __post_init__(self) -> None:
        knots = np.asarray(self.z_knots, dtype=np.float64)
        values = np.asarray(self.log_norm, dtype=np.float64)
        if knots.ndim != 1 or knots.shape != values.shape or len(knots) < 2:
            raise ShapeMismatchError(
                f"NormalizedRatio: z_knots {knots.shape} and log_norm {values.shape} must be "
                "1-D arrays of the same length >= 2."
            )
        if not (np.isfinite(values).all() and (np.diff(knots) > 0).all()):
            raise NonFiniteInputError(
                "NormalizedRatio: log_norm must be finite and z_knots strictly increasing."
            )
        object.__setattr__(self, "z_knots", knots)
        object.__setattr__(self, "log_norm", values)
        object.__setattr__(self, "_spline", CubicSpline(knots, values))

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(self.ratio.features)

    @property
    def z_range(self) -> tuple[float, float]:
        return (float(self.ratio.z_range[0]), float(self.ratio.z_range[1]))

    def log_prob(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """The normalized log ratio, one float64 per event."""
        z = np.broadcast_to(np.asarray(z, dtype=np.float64), (len(x),))
        values = np.asarray(self.ratio.log_prob(x, z), dtype=np.float64)
        return values - self._spline(z)


def normalize_ratio(
    ratio,
    reference_signal_x: np.ndarray,
    reference_background_x: np.ndarray,
    *,
    knots: int = 33,
) -> NormalizedRatio:
    """Divide a trained ratio by ``c(z) = ∫ r(x, z) p_ref(x) dx``, estimated on events at z0.

    For the exact bracket of Eq. 2.8, ``r = p(x|·,z) / p_ref(x)`` with
    ``p_ref = ½ p(x|sig,z0) + ½ p(x|bkg,z0)``, ``c(z) = 1`` at every z. A trained classifier
    misses this by up to ~16 % (Gaussian toy, 20,000 training events), and the NLL of ``n``
    events then carries a spurious z-dependent term of order ``n · log c(z)`` that moves ẑ.
    ``c`` is the ½/½ mix of the means of ``r`` over the signal and the background reference
    events, at ``knots`` values of z evenly spaced over ``ratio.z_range``.

    Args:
        ratio: A trained ratio (``log_prob(x, z)``, ``features``, ``z_range``).
        reference_signal_x, reference_background_x: ``(n, d)`` events at z0 (the negatives'
            samples, or an independent set of them).
        knots: Number of z values ``c`` is computed at (spline knots), >= 4.

    Raises:
        ConfigError: fewer than 4 knots.
        EmptySelectionError: an empty reference sample.
        NonFiniteInputError: the ratio is NaN or infinite on a reference event.
    """
    if int(knots) < 4:
        raise ConfigError(f"knots={knots}: give at least 4 z values for the spline of c(z).")
    refs = [np.asarray(r, dtype=np.float64) for r in (reference_signal_x, reference_background_x)]
    for label, ref in zip(("signal", "background"), refs, strict=True):
        if ref.ndim != 2 or len(ref) == 0:
            raise EmptySelectionError(
                f"normalize_ratio: the {label} reference sample has shape {ref.shape}; give "
                "(events, features) events at z0."
            )
    z_knots = np.linspace(float(ratio.z_range[0]), float(ratio.z_range[1]), int(knots))
    log_norm = np.empty(len(z_knots))
    for k, z in enumerate(z_knots):
        parts = []
        for ref in refs:
            values = np.asarray(ratio.log_prob(ref, np.full(len(ref), z)), dtype=np.float64)
            if not np.isfinite(values).all():
                raise NonFiniteInputError(
                    f"normalize_ratio: the log ratio is {values[~np.isfinite(values)][0]} on a "
                    f"reference event at z={z:g}; the model is broken, retrain it."
                )
            top = values.max()
            parts.append(top + np.log(np.mean(np.exp(values - top))))
        log_norm[k] = np.logaddexp(*parts) - np.log(2.0)
    return NormalizedRatio(ratio, z_knots, log_norm)


def _tensors(
    x: np.ndarray, z: np.ndarray, scales: ParameterizedRatio | Standardization
) -> EventTensors:
    xs, zs = standardize(scales, x, z)
    return EventTensors(None, None, xs, (), tuple(scales.features), theta=zs, theta_names=("z",))


def parameterized_training_sets(
    positive_x: np.ndarray,
    positive_z: np.ndarray,
    reference_signal_x: np.ndarray,
    reference_background_x: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positives and negatives of §3.2.1: ``(x_pos, z_pos, x_neg, z_neg)``.

    One negative per positive: signal or background reference event (probability ½ each,
    drawn without replacement), carrying a random permutation of the positives' z.
    """
    n = len(positive_x)
    if len(positive_z) != n:
        raise ShapeMismatchError(
            f"{n} positive events but {len(positive_z)} z values; give one z per event."
        )
    n_sig = int(rng.binomial(n, 0.5))
    for label, ref, need in (
        ("signal", reference_signal_x, n_sig),
        ("background", reference_background_x, n - n_sig),
    ):
        if len(ref) < need:
            raise EmptySelectionError(
                f"the {label} reference sample at z0 has {len(ref)} events but the negative "
                f"class needs {need} of them (about half the {n} positives); generate more "
                "reference events or use fewer positives."
            )
    x_neg = np.concatenate(
        [
            reference_signal_x[rng.permutation(len(reference_signal_x))[:n_sig]],
            reference_background_x[rng.permutation(len(reference_background_x))[: n - n_sig]],
        ]
    )
    x_neg = x_neg[rng.permutation(n)]
    return positive_x, positive_z, x_neg, positive_z[rng.permutation(n)]


def train_parameterized_ratio(
    positive_x: np.ndarray,
    positive_z: np.ndarray,
    reference_signal_x: np.ndarray,
    reference_background_x: np.ndarray,
    *,
    features: Sequence[str],
    spec: ModelSpec | None = None,
    config: TrainingConfig | None = None,
    seed_shift: int = 0,
    name: str = "f",
) -> ParameterizedRatio:
    """Train one of ``f_sig`` / ``f_bkg`` with paired batches (hdl:1887/4104579, §2.3.3, §3.2.1).

    Binary cross entropy on logits; a held-out ``config.validation_fraction`` of the
    positives, paired the same way, drives early stopping (best weights kept).

    Args:
        positive_x, positive_z: ``(n, d)`` events of the process and the z each was made at.
        reference_signal_x, reference_background_x: Events of both processes at ``z0``.
        features: Feature names.
        spec: Network (default :data:`THESIS_CLASSIFIER`; must be an ``"mlp"``).
        config: Training settings (default :data:`DEFAULT_TRAINING`: batch 512 as
            hdl:1887/4104579, cosine decay, no early stopping).
        seed_shift: Added to ``config.seed`` (so f_sig and f_bkg differ in initialization).
        name: Label in messages.
    """
    spec = spec or THESIS_CLASSIFIER
    if spec.kind != "mlp":
        raise ConfigError(
            f"{name}: spec.kind={spec.kind!r}; the parameterized ratio takes event-level "
            "features only: use ModelSpec('mlp', ...)."
        )
    config = conditional_config(config, seed_shift)
    x = np.asarray(positive_x, dtype=np.float64)
    z = np.asarray(positive_z, dtype=np.float64).reshape(-1)
    ref_sig = np.asarray(reference_signal_x, dtype=np.float64)
    ref_bkg = np.asarray(reference_background_x, dtype=np.float64)
    if len(x) != len(z):
        raise ShapeMismatchError(f"{name}: {len(x)} positive events but {len(z)} z values.")
    if min(len(ref_sig), len(ref_bkg)) == 0:
        raise EmptySelectionError(
            f"{name}: a reference sample at z0 is empty; give signal and background events "
            "at z0 for the negative class."
        )
    rng = np.random.default_rng(config.seed)
    scales = Standardization.of(features, np.concatenate([x, ref_sig, ref_bkg]), z, name)
    order = rng.permutation(len(x))
    n_val = max(config.batch_size, int(round(config.validation_fraction * len(x))))
    if n_val >= len(x):
        raise EmptySelectionError(
            f"{name}: {len(x)} positive events cannot be split into training and "
            f"{n_val} validation events; give more events."
        )
    val, train = order[:n_val], order[n_val:]
    # validation: one fixed paired set, the same construction as the training batches
    vx_pos, vz_pos, vx_neg, vz_neg = parameterized_training_sets(
        x[val], z[val], ref_sig, ref_bkg, rng
    )
    val_inputs = EventTensors.concatenate(
        [_tensors(vx_pos, vz_pos, scales), _tensors(vx_neg, vz_neg, scales)]
    ).as_inputs()
    val_labels = np.concatenate([np.ones(n_val), np.zeros(n_val)]).astype(np.float32)
    batches = _PairedBatches(
        x[train], z[train], ref_sig, ref_bkg, scales, config.batch_size // 2, config.seed
    )

    network, history = fit_conditional(
        lambda: spec.build(0, len(features), 1),
        keras.losses.BinaryCrossentropy(from_logits=True),
        batches,
        config=config,
        steps_per_epoch=len(batches),
        name=name,
        validation_data=(val_inputs, val_labels),
    )
    classifier = TrainedClassifier(
        network, history, name, 1.0, {"z": (float(z.min()), float(z.max()))}
    )
    return ParameterizedRatio(
        classifier,
        tuple(features),
        (float(z.min()), float(z.max())),
        scales.x_loc,
        scales.x_scale,
        scales.z_loc,
        scales.z_scale,
    )


class _PairedBatches(keras.utils.PyDataset):
    """Batches of §3.2.1: ``half`` positives, then ``half`` negatives with the same z.

    The positives run through a new permutation every epoch; the negatives are drawn afresh
    for every batch (reference signal or background with probability ½).
    """

    def __init__(self, x, z, ref_sig, ref_bkg, scales, half, seed):
        super().__init__()
        self.x, self.z, self.ref_sig, self.ref_bkg = x, z, ref_sig, ref_bkg
        self.scales, self.half = scales, max(1, int(half))
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(x))
        self.labels = np.concatenate([np.ones(self.half), np.zeros(self.half)]).astype("float32")

    def __len__(self) -> int:
        return len(self.x) // self.half

    def __getitem__(self, index: int):
        rows = self.order[index * self.half : (index + 1) * self.half]
        z = self.z[rows]
        from_signal = self.rng.random(len(rows)) < 0.5
        negatives = np.where(
            from_signal[:, None],
            self.ref_sig[self.rng.integers(0, len(self.ref_sig), len(rows))],
            self.ref_bkg[self.rng.integers(0, len(self.ref_bkg), len(rows))],
        )
        inputs = EventTensors.concatenate(
            [_tensors(self.x[rows], z, self.scales), _tensors(negatives, z, self.scales)]
        ).as_inputs()
        return inputs, self.labels[: 2 * len(rows)]

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.x))
