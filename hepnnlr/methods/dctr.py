"""DCTR: a parameterized reweighter ``w(x, θ)`` and the DCTR fit of θ (arXiv:2010.03569, Sec. II).

Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter estimation using neural networks in
the presence of detector effects", arXiv:2010.03569 (SRGN), after Andreassen and Nachman,
"Neural Networks for Full Phase-space Reweighting and Parameter Tuning", Phys. Rev. D 101
(2020) 091901, arXiv:1907.08209 (DCTR):

* **Training** (Eqs. 1, 2): a classifier ``f(x, θ)`` is trained between a *varied* sample,
  ``x ~ p(x | θ)`` with ``θ`` drawn from a prior over a range (label 1), and the *nominal*
  sample ``x ~ p(x | θ0)`` whose events carry parameters drawn from the same prior
  (label 0). It learns ``f / (1 - f) = p(x | θ) / p(x | θ0)`` at every ``θ`` of the range,
  so ``w(x, θ) = exp(logit f(x, θ))`` (times the ratio of the sample totals) reweights the
  nominal sample to any ``θ`` in the range (Gaussian closure: Eqs. 10, 11). Given the
  nominal point ``θ0``, the nominal events also enter both classes at ``θ0``
  (:attr:`~hepnnlr.methods.dctr_config.DCTRConfig.nominal_anchor`), pinning
  ``w(x, θ0) = 1`` where the loss alone hardly constrains ``f``.
* **Fit** (Eq. 3): with ``f`` frozen, ``θ*`` maximizes the cross entropy of ``f(·, θ)``
  between the unknown data (label 1) and the nominal sample (label 0): the loss, its fit
  and its scan live in :mod:`hepnnlr.methods.dctr_fits` (``dctr_fit``, ``dctr_loss``,
  ``dctr_scan``, ``scan_axes`` are importable from here too).

Parameters enter the network on a unit scale: :class:`~hepnnlr.methods.theta.ThetaScale`
maps the training range ``[low, high]`` of each θ onto ``u = (θ − c) / h ∈ [−1, 1]``
(``c`` the middle, ``h`` the half width). The reweighter fits that map in
:meth:`DCTRReweighter.train`, applies it to every θ it is given and saves it with the model
(:meth:`DCTRReweighter.save`), as a :class:`~hepnnlr.tensors.Standardizer` does for the
features: a parameter that varies by 0.01 (α_s) or is of order 170 (m_t in GeV) then moves
the network's input by order 1. Users and the fits work in the parameter's own units
throughout. Its settings, :class:`~hepnnlr.methods.dctr_config.DCTRConfig`, live apart
(no TensorFlow to load a job file); both are importable from here.

TensorFlow stays in :mod:`hepnnlr.training`; this module composes it through
:func:`hepnnlr.training.train_classifier` and the trained classifier's logits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from hepnnlr.errors import ConfigError, InputFileError
from hepnnlr.methods.dctr_config import _MEMBER_SEED, DCTRConfig
from hepnnlr.methods.theta import (
    ThetaScale,
    check_features,
    scaled_standardizer,
    theta_row,
    with_theta,
)
from hepnnlr.tensors.adapt import EventsLike, as_events
from hepnnlr.tensors.events import EventTensors
from hepnnlr.training import SavedReweighter, TrainedClassifier, train_classifier

# DCTRConfig (methods/dctr_config.py), ThetaScale and with_theta (methods/theta.py) are
# importable from here too, as before they moved
__all__ = ["DCTRReweighter"]


@dataclass
class DCTRReweighter:
    """A trained parameterized reweighter ``w(x, θ) = p(x | θ) / p(x | θ0)``.

    Build one with :meth:`train` (or :meth:`load` a saved one). Every θ it takes and
    reports is in the parameter's own units; the network sees ``theta_scale.to_unit(θ)``.

    Attributes:
        classifier: The trained ``f(x, u)`` (the first member of an ensemble).
        theta_names: Parameter names, in column order.
        theta_range: ``{name: (low, high)}`` seen in training (parameter units).
        features: ``(particle_features, global_features)`` of the training inputs.
        theta_scale: The map θ → u the network was trained with (``None``: identity).
        ensemble: Further members
            (:attr:`~hepnnlr.methods.dctr_config.DCTRConfig.members`), trained on the
            same events with other seeds; ``log w`` is the mean over :attr:`members`.
    """

    classifier: TrainedClassifier
    theta_names: tuple[str, ...]
    theta_range: dict[str, tuple[float, float]] = field(default_factory=dict)
    features: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    theta_scale: ThetaScale | None = None
    ensemble: tuple[TrainedClassifier, ...] = ()

    @property
    def members(self) -> tuple[TrainedClassifier, ...]:
        """Every trained ``f``: :attr:`classifier`, then :attr:`ensemble`."""
        return (self.classifier, *self.ensemble)

    @property
    def scale(self) -> ThetaScale:
        """:attr:`theta_scale`, or the identity when there is none."""
        return self.theta_scale or ThetaScale.identity(self.theta_names)

    @classmethod
    def train(
        cls,
        nominal: EventsLike,
        varied: EventsLike,
        config: DCTRConfig = DCTRConfig(),
        *,
        varied_theta: np.ndarray | Mapping[str, np.ndarray] | None = None,
        nominal_weights: np.ndarray | None = None,
        varied_weights: np.ndarray | None = None,
        name: str = "DCTR reweighter",
        theta_range: Mapping[str, tuple[float, float]] | None = None,
        nominal_theta: float | Sequence[float] | Mapping[str, float] | None = None,
    ) -> DCTRReweighter:
        """Train ``f(x, θ)`` between ``varied`` (label 1) and ``nominal`` (label 0).

        Args:
            nominal: Events of the nominal sample ``θ0``, without parameters.
            varied: Events ``x ~ p(x | θ)`` with their ``θ`` (``varied.theta``, in the
                parameters' own units), drawn from the prior over the training range.
                Both samples may also be plain arrays (:func:`hepnnlr.tensors.as_events`).
            config: Network and training settings.
            varied_theta: The ``θ`` of each varied event when ``varied`` is plain arrays:
                ``(events,)``, ``(events, k)`` (parameters named ``theta0``, …) or a
                ``{name: column}`` mapping.
            nominal_weights, varied_weights: Event weights (default 1).
            name: Used in messages.
            theta_range: The prior's range ``{name: (low, high)}`` the varied θ were drawn
                from (default: the smallest and largest drawn value). It becomes the range
                :meth:`weights` accepts without ``extrapolate``, and the range
                ``config.scale_theta`` maps onto ``[-1, 1]``; every drawn θ must lie in it.
            nominal_theta: The nominal point ``θ0`` (inside the range). Given, and with
                ``config.nominal_anchor = a > 0``, the nominal events also enter both
                classes at ``θ = θ0`` (a share ``a`` of each class's weight), which pins
                ``w(x, θ0) = 1``. Near ``θ0`` the classes differ little, so the loss barely
                constrains ``f`` there; without the anchor a 3 × 50 network trained on
                ~10^4 events learned ``log w(x, θ0) ≈ -0.15 x`` instead of 0, and the DCTR
                fit of a target 0.4 from the nominal landed 0.05-0.12 short of it.

        The nominal events carry parameters drawn from the same prior: the varied sample's
        parameter rows, resampled at random (seeded by the member's training seed;
        ``config.nominal_draws`` rows per event), so the classifier cannot separate the
        classes by ``θ`` alone. With ``config.members = k`` the whole training runs ``k``
        times (:attr:`~hepnnlr.methods.dctr_config.DCTRConfig.members`).
        """
        nominal = as_events(nominal, argument="nominal")
        varied = as_events(varied, theta=varied_theta, argument="varied")
        if varied.theta is None:
            raise ConfigError(
                f"{name}: the varied sample has no parameters; build it with theta (one row "
                "per event, the θ each event was generated with) and theta_names."
            )
        if nominal.theta is not None:
            raise ConfigError(
                f"{name}: the nominal sample already carries parameters "
                f"{nominal.theta_names}; pass it without theta, the reweighter assigns "
                "parameters drawn from the varied sample's prior."
            )
        check_features(
            nominal, (varied.particle_features, varied.global_features), "the nominal sample"
        )
        names = tuple(varied.theta_names)
        theta = np.asarray(varied.theta, np.float64)
        seen_range = {
            n: (float(theta[:, k].min()), float(theta[:, k].max())) for k, n in enumerate(names)
        }
        ranges = dict(seen_range)
        if theta_range is not None:
            for name_k in names:
                if name_k not in theta_range:
                    raise ConfigError(
                        f"{name}: theta_range has no range for parameter {name_k!r}; give "
                        f"one (low, high) per parameter of {names}."
                    )
                low, high = (float(v) for v in theta_range[name_k])
                seen = seen_range[name_k]
                if not low <= seen[0] <= seen[1] <= high:
                    raise ConfigError(
                        f"{name}: the varied sample's {name_k} spans [{seen[0]:g}, "
                        f"{seen[1]:g}], outside the declared theta_range ({low:g}, {high:g}); "
                        "declare the range the parameters were drawn from."
                    )
                ranges[name_k] = (low, high)
        scale = (
            ThetaScale.from_range(ranges, names)
            if config.scale_theta
            else (ThetaScale.identity(names))
        )
        unit = scale.to_unit(theta)
        w1 = np.ones(len(varied)) if varied_weights is None else varied_weights
        w0 = np.ones(len(nominal)) if nominal_weights is None else nominal_weights
        w1, w0 = np.asarray(w1, np.float64), np.asarray(w0, np.float64)
        # nominal_draws copies of the nominal sample, each 1/draws of the event weights
        draws = config.nominal_draws
        repeated = nominal if draws == 1 else EventTensors.concatenate([nominal] * draws)
        w0 = w0 if draws == 1 else np.tile(w0 / draws, draws)
        anchor = None
        if nominal_theta is not None and config.nominal_anchor > 0 and w0.sum() > 0:
            # (a non-positive nominal total is train_classifier's error to report)
            row = theta_row(nominal_theta, names)
            for name_k, value in zip(names, row, strict=True):
                low, high = ranges[name_k]
                if not low <= value <= high:
                    raise ConfigError(
                        f"{name}: the nominal {name_k}={value:g} lies outside the training "
                        f"range [{low:g}, {high:g}]; the anchor w(x, θ0) = 1 needs θ0 inside "
                        "it. Widen theta_range, or set DCTRConfig.nominal_anchor = 0."
                    )
            # the copies, too: the anchor's weight spread over draws x the events
            anchor = with_theta(repeated, scale.to_unit(row), names)
            share = config.nominal_anchor / (1.0 - config.nominal_anchor)
            w1, w0 = (
                np.concatenate([w1, w0 * (share * w1.sum() / w0.sum())]),
                np.concatenate([w0, w0 * share]),
            )
        # the classifiers' own range, on their (unit) scale
        unit_range = {
            n: tuple(
                float(v)
                for v in scale.to_unit(
                    np.array([[ranges[m][0] for m in names], [ranges[m][1] for m in names]])
                )[:, k]
            )
            for k, n in enumerate(names)
        }
        numerator = with_theta(varied, unit, names)
        if anchor is not None:
            numerator = EventTensors.concatenate([numerator, anchor])
        members = []
        for k in range(config.members):
            training = replace(config.training, seed=config.training.seed + _MEMBER_SEED * k)
            rng = np.random.default_rng(training.seed + 7)
            drawn = unit[rng.integers(0, len(varied), draws * len(nominal))]
            denominator = with_theta(repeated, drawn, names)
            if anchor is not None:
                denominator = EventTensors.concatenate([denominator, anchor])
            classifier = train_classifier(
                config.model,
                numerator,
                w1,
                denominator,
                w0,
                training,
                name=name if config.members == 1 else f"{name} (member {k})",
            )
            classifier.theta_range = dict(unit_range)
            members.append(classifier)
        return cls(
            members[0],
            names,
            ranges,
            (varied.particle_features, varied.global_features),
            scale,
            tuple(members[1:]),
        )

    def _check_range(self, row: np.ndarray) -> None:
        for name, value in zip(self.theta_names, row, strict=True):
            low, high = self.theta_range.get(name, (-np.inf, np.inf))
            if not low <= value <= high:
                raise ConfigError(
                    f"{self.classifier.name}: parameter {name}={value:g} lies outside the "
                    f"range [{low:g}, {high:g}] the reweighter was trained on; a "
                    "parameterized reweighter does not extrapolate. Choose a value inside "
                    "the range, retrain with a range that covers it, or pass "
                    "extrapolate=True to evaluate the network there anyway."
                )

    def logits(
        self,
        events: EventsLike,
        theta: float | Sequence[float] | Mapping[str, float],
        *,
        extrapolate: bool = False,
    ) -> np.ndarray:
        """``log w(x, θ)`` without the total-ratio constant, for every event at one ``θ``."""
        events = as_events(events, argument="events")
        check_features(events, self.features, "the events to reweight")
        row = theta_row(theta, self.theta_names)
        if not extrapolate:
            self._check_range(row)
        unit = self.scale.to_unit(row)
        inputs = with_theta(events, unit, self.theta_names)
        # the range was checked above in the parameters' units (exactly, in float64)
        logits = self.classifier.logits(inputs, allow_extrapolation=True)
        if self.ensemble:
            for member in self.ensemble:
                logits = logits + member.logits(inputs, allow_extrapolation=True)
            logits = logits / len(self.members)
        return logits

    def weights(
        self,
        events: EventsLike,
        theta: float | Sequence[float] | Mapping[str, float],
        *,
        extrapolate: bool = False,
    ) -> np.ndarray:
        """Weights taking nominal ``events`` to parameter point ``theta``.

        ``w = exp(logit) × total_ratio`` (the ratio of the weighted event densities).

        Args:
            events: Nominal events (the features the reweighter was trained on).
            theta: One parameter point: a number (one parameter), a sequence in the order
                of :attr:`theta_names`, or a ``{name: value}`` mapping (parameter units).
            extrapolate: Evaluate ``θ`` outside the training range as it is. Off by
                default, and then such a ``θ`` is a :class:`ConfigError`: the network was
                never trained there.
        """
        logits = self.logits(events, theta, extrapolate=extrapolate)
        return np.exp(logits) * self.classifier.total_ratio

    def save(self, directory: str | Path) -> Path:
        """Write the network(s), the θ scale, range and features into ``directory``.

        The files are those of :class:`hepnnlr.training.SavedReweighter` (``model.keras``,
        ``reweighter.json``); the θ scale is stored as the Standardizer's parameter
        statistics (the features pass unchanged), the range, names and the number of
        members under ``"dctr"``. Ensemble member ``k >= 1`` goes to ``member_<k>/``.
        """
        directory = Path(directory)
        standardizer = scaled_standardizer(self.features, self.scale)
        info = {
            "theta_names": list(self.theta_names),
            "theta_range": {k: list(v) for k, v in self.theta_range.items()},
            "scaled": self.theta_scale is not None,
            "members": len(self.members),
        }
        for k, member in enumerate(self.members):
            SavedReweighter(member, standardizer, level="gen", meta={"dctr": info}).save(
                directory if k == 0 else directory / f"member_{k}"
            )
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> DCTRReweighter:
        """A reweighter written by :meth:`save`, giving identical weights."""
        directory = Path(directory)
        saved = SavedReweighter.load(directory)
        info = saved.meta.get("dctr")
        if info is None:
            raise InputFileError(
                f"{directory} holds a saved reweighter but not a DCTR reweighter (no 'dctr' "
                "entry in reweighter.json); write one with DCTRReweighter.save."
            )
        std = saved.standardizer
        names = tuple(info["theta_names"])
        scale = (
            ThetaScale(std.theta_names, std.theta_mean, std.theta_scale) if info["scaled"] else None
        )
        ensemble = []
        for k in range(1, int(info.get("members", 1))):
            if not (directory / f"member_{k}").is_dir():
                raise InputFileError(
                    f"{directory} records {info['members']} ensemble members but has no "
                    f"member_{k}/; save the reweighter again with DCTRReweighter.save."
                )
            ensemble.append(SavedReweighter.load(directory / f"member_{k}").classifier)
        return cls(
            saved.classifier,
            names,
            {k: (float(v[0]), float(v[1])) for k, v in info["theta_range"].items()},
            (std.particle_features, std.global_features),
            scale,
            tuple(ensemble),
        )


_FIT_NAMES = ("DCTRFitResult", "dctr_fit", "dctr_loss", "dctr_scan", "scan_axes")


def __getattr__(name: str) -> Any:
    """The fit of Eq. 3 moved to :mod:`hepnnlr.methods.dctr_fits`; its names stay here."""
    if name in _FIT_NAMES:
        from hepnnlr.methods import dctr_fits

        return getattr(dctr_fits, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
