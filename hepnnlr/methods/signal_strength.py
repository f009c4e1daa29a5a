"""Signal strength μ with a nuisance parameter z: classifier ratios vs conditional flows.

Implements the comparison of B. Sluijter, *Classifiers versus Normalizing Flows for
uncertainty-aware estimation of a signal ratio* (MSc thesis, Leiden University 2024,
hdl:1887/4104579) as a tool for a physicist's own signal and background
samples. The model (Eq. 2.5) is

    p(x | μ, z) = μ/(μ+1) p(x | sig, z) + 1/(μ+1) p(x | bkg, z).

Two routes give the per-event densities (or density ratios) as functions of z; they are the
only part of the method that trains a network (TensorFlow is imported when one runs):

* **classifier route** (§2.3, Eq. 2.8, :func:`train_classifier_route`): two parameterized
  classifiers ``f_sig(x, z)`` and ``f_bkg(x, z)`` trained against the reference mixture
  ``½ p(x|sig,z0) + ½ p(x|bkg,z0)`` (batch construction of §3.2.1); ``exp(logit)`` is then
  the bracket of Eq. 2.8, i.e. ``p(x|sig,z) / p_ref(x)``, and the NLL differs from the true
  one by a constant; each bracket is divided by its mean over the reference events at every
  z (for the true one it is 1), which cuts a trained classifier's z bias by a factor 2 or
  more;
* **flow route** (§2.2, :func:`train_flow_route`): conditional normalizing flows for
  ``p(x|sig,z)`` and ``p(x|bkg,z)`` (:mod:`hepnnlr.models.flows`).

Both return a :class:`MixtureLikelihood`; everything downstream is NumPy, works the same for
the exact Gaussian likelihood, a classifier pair or a flow pair, and lives in its own module
(re-exported here, so ``from hepnnlr.methods.signal_strength import scan_nll`` keeps working):

* :mod:`hepnnlr.methods.mixture_likelihood`: inputs (:class:`ParameterizedSample`), the
  densities and :class:`MixtureLikelihood`;
* :mod:`hepnnlr.methods.nll`: the NLL grid (:func:`scan_nll`) and profiles;
* :mod:`hepnnlr.methods.intervals`: Wilks intervals;
* :mod:`hepnnlr.methods.minuit_fit`: the iminuit fit;
* :mod:`hepnnlr.methods.coverage`: coverage from toys and bootstrap sets, the overlap of
  Eq. 3.4 and the test-set metrics.

Example (exact likelihood of the Gaussian toy)::

    toy = GaussianSignalToy(radius=2.0)
    like = MixtureLikelihood.exact_gaussian(toy)
    x, _ = toy.mixture(0.2, np.pi / 4, 9000, np.random.default_rng(1))
    scan = scan_nll(like, x, np.linspace(0, 0.5, 101), np.linspace(0.1, 0.4, 61) * np.pi)
    mu_68 = profile_interval(scan, "mu", delta_nll=0.5)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hepnnlr.errors import ConfigError
from hepnnlr.methods.coverage import (
    CoverageResult,
    TestSetResult,
    bootstrap_counts,
    bootstrap_coverage,
    coverage_from_toys,
    evaluate_test_set,
    likelihood_overlap,
)
from hepnnlr.methods.intervals import (
    WILKS_LEVELS,
    Interval,
    interval_from_profile,
    profile_interval,
    wilks_intervals,
)
from hepnnlr.methods.minuit_fit import MinuitFitResult, minimize_nll
from hepnnlr.methods.mixture_likelihood import (
    ConditionalLogDensity,
    ExactGaussianDensity,
    MixtureLikelihood,
    ParameterizedSample,
    as_feature_matrix,
)
from hepnnlr.methods.nll import PARAMETERS, nll_from_table, profile_nll, scan_nll
from hepnnlr.methods.scans import Scan

if TYPE_CHECKING:  # the training layer imports TensorFlow; only the route builders need it
    from hepnnlr.models.spec import FlowSpec, ModelSpec
    from hepnnlr.training.config import TrainingConfig

__all__ = [
    "PARAMETERS",
    "WILKS_LEVELS",
    "ConditionalLogDensity",
    "CoverageResult",
    "ExactGaussianDensity",
    "Interval",
    "MinuitFitResult",
    "MixtureLikelihood",
    "ParameterizedSample",
    "Scan",
    "TestSetResult",
    "as_feature_matrix",
    "bootstrap_counts",
    "bootstrap_coverage",
    "coverage_from_toys",
    "evaluate_test_set",
    "interval_from_profile",
    "likelihood_overlap",
    "minimize_nll",
    "nll_from_table",
    "profile_interval",
    "profile_nll",
    "scan_nll",
    "train_classifier_route",
    "train_flow_route",
    "wilks_intervals",
]


def train_classifier_route(
    signal: ParameterizedSample,
    background: ParameterizedSample,
    signal_reference: Any,
    background_reference: Any,
    *,
    spec: ModelSpec | None = None,
    config: TrainingConfig | None = None,
    name: str = "classifier",
    members: int = 1,
    normalize: bool = True,
) -> MixtureLikelihood:
    """Train ``f_sig`` and ``f_bkg`` (§2.3, §3.2.1 of hdl:1887/4104579) and combine them
    by Eq. 2.8.

    Args:
        signal, background: Events simulated at their own z (z drawn from a prior ``p_z``,
            e.g. uniform over the range to be scanned and a little beyond).
        signal_reference, background_reference: Signal and background events at the
            reference value ``z0`` (arrays or mappings with the same features); the negatives
            are drawn from them with probability ½ each and carry the positives' z values.
        spec: The classifier network (default: an MLP with three hidden layers of 120, as
            in hdl:1887/4104579).
        config: Training settings (default
            :data:`hepnnlr.training.parameterized.DEFAULT_TRAINING`: batch 512, cosine decay,
            no early stopping).
        name: Label of the likelihood.
        members: Classifiers per process; more than one are trained with the seeds of
            :func:`hepnnlr.training.ensemble.ensemble_configs` and their logits averaged
            (:class:`hepnnlr.training.parameterized.EnsembleRatio`).
        normalize: Divide each ratio by ``c(z) = ∫ r(x, z) p_ref(x) dx``, estimated on the
            reference events (:func:`hepnnlr.training.parameterized.normalize_ratio`); the
            true bracket has ``c = 1`` at every z, a trained one is off by up to ~16 %,
            varying with z, which moves ẑ by one to several σ_z on the Gaussian toy
            (docs/fragments/h2-sigstrength.md). ``False`` gives the raw Eq. 2.8 brackets.

    Returns:
        A :class:`MixtureLikelihood` whose NLL equals the true NLL up to a constant.
    """
    from hepnnlr.training.ensemble import ensemble_configs
    from hepnnlr.training.parameterized import (
        DEFAULT_TRAINING,
        EnsembleRatio,
        normalize_ratio,
        train_parameterized_ratio,
    )

    features = _same_features(signal, background)
    if int(members) < 1:
        raise ConfigError(f"members={members}: train at least one classifier per process.")
    ref_sig = as_feature_matrix(signal_reference, features, where="signal_reference")
    ref_bkg = as_feature_matrix(background_reference, features, where="background_reference")
    configs = ensemble_configs(config or DEFAULT_TRAINING, int(members))
    models = []
    for label, sample, seed_shift in (("signal", signal, 0), ("background", background, 1)):
        trained = [
            train_parameterized_ratio(
                sample.x,
                sample.z,
                ref_sig,
                ref_bkg,
                features=features,
                spec=spec,
                config=member,
                seed_shift=seed_shift,
                name=f"{name} f_{label[:3]}" + (f" #{k}" if k else ""),
            )
            for k, member in enumerate(configs)
        ]
        model = trained[0] if len(trained) == 1 else EnsembleRatio(tuple(trained))
        models.append(normalize_ratio(model, ref_sig, ref_bkg) if normalize else model)
    return MixtureLikelihood(models[0], models[1], name=name)


def train_flow_route(
    signal: ParameterizedSample,
    background: ParameterizedSample,
    *,
    spec: FlowSpec | None = None,
    config: TrainingConfig | None = None,
    name: str = "flow",
) -> MixtureLikelihood:
    """Train conditional flows for ``p(x|sig,z)`` and ``p(x|bkg,z)`` (§2.2 of
    hdl:1887/4104579).

    Args:
        signal, background: Events simulated at their own z.
        spec: The flow (default :class:`hepnnlr.models.flows.FlowSpec`).
        config: Training settings (default :data:`hepnnlr.training.flows.DEFAULT_TRAINING`);
            the held-out NLL picks the best epoch.
        name: Label of the likelihood.
    """
    from hepnnlr.training.flows import train_flow

    features = _same_features(signal, background)
    models = [
        train_flow(
            sample.x,
            sample.z,
            features=features,
            spec=spec,
            config=config,
            seed_shift=shift,
            name=f"{name} p_{label}",
        )
        for label, sample, shift in (("sig", signal, 0), ("bkg", background, 1))
    ]
    return MixtureLikelihood(models[0], models[1], name=name)


def _same_features(signal: ParameterizedSample, background: ParameterizedSample) -> tuple:
    if signal.features != background.features:
        raise ConfigError(
            f"the signal sample has features {signal.features} but the background sample "
            f"{background.features}; give both the same columns in the same order."
        )
    return signal.features
