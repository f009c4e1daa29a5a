"""The settings of an OmniFold unfolding, apart from the algorithm that trains with them.

:class:`OmniFoldConfig` is read from job files and command lines (``hepnnlr unfold``,
``hepnnlr demo``) before any network exists, so this module imports no TensorFlow; the
unfolding itself, and the meaning of ``acceptance`` and ``fakes``, is in
:mod:`hepnnlr.methods.omnifold` (Andreassen et al., "OmniFold: A Method to Simultaneously
Unfold All Observables", arXiv:1911.09107), which re-exports this class. The ensembling studies
cited below are those of Torales Acosta, Wamorkar, Mikuni, Nachman, "Stabilizing Neural
Likelihood Ratio Estimation", arXiv:2503.20753.
"""

from __future__ import annotations

from dataclasses import dataclass

from hepnnlr.errors import ConfigError
from hepnnlr.models.spec import ModelSpec
from hepnnlr.training.config import TrainingConfig
from hepnnlr.training.ensemble import AGGREGATIONS

__all__ = ["OmniFoldConfig"]

_ACCEPTANCE = ("keep", "extrapolate")
_FAKES = ("prior", "learned", "pulled")


@dataclass(frozen=True)
class OmniFoldConfig:
    """Settings of an OmniFold unfolding.

    Attributes:
        iterations: Number of (step 1, step 2) iterations; arXiv:2503.20753 uses 3-5.
        step1_model, step2_model: Networks for the detector- and particle-level classifiers.
        training: Training settings of every classifier; the classifiers of iteration
            ``n`` (0-based) are seeded ``training.seed + 3 * n + {0, 1, 2}`` for steps 1,
            1b and 2 and ``training.seed + 3 * iterations + n`` for step 2b, so no two
            share a seed.
        acceptance: ``"keep"`` or ``"extrapolate"``: how simulated events failing the
            detector-level selection (missed events) are weighted
            (:mod:`hepnnlr.methods.omnifold`).
        fakes: ``"prior"``, ``"learned"`` or ``"pulled"``: the weight of simulated events
            failing the particle-level selection (fakes) in step 1
            (:mod:`hepnnlr.methods.omnifold`).
        warm_start: Start each step's classifier from the trained classifier of the same
            step in the previous iteration (as the original OmniFold code does) instead of
            from a fresh random initialization; this lowers the iteration-to-iteration
            noise of the weights.
        ensemble: Classifiers trained per step with distinct seeds ("step" ensembling,
            Algorithm 2 of arXiv:2503.20753); their weights are combined before they
            are passed on.
        aggregation: How members are combined: ``mean`` (the baseline of arXiv:2503.20753),
            ``median``, ``truncated_mean`` or ``mean_logit``.
        finetune_learning_rate_factor: With a ``pretrained`` model, the learning rate of
            the trainings that start from it is ``training.learning_rate`` times this.
    """

    iterations: int = 3
    step1_model: ModelSpec = ModelSpec()
    step2_model: ModelSpec = ModelSpec()
    training: TrainingConfig = TrainingConfig()
    acceptance: str = "keep"
    fakes: str = "prior"
    warm_start: bool = True
    ensemble: int = 1
    aggregation: str = "mean"
    finetune_learning_rate_factor: float = 1.0

    def __post_init__(self) -> None:
        if int(self.iterations) < 1:
            raise ConfigError(f"OmniFoldConfig.iterations={self.iterations} must be >= 1.")
        if not self.finetune_learning_rate_factor > 0:
            raise ConfigError(
                "OmniFoldConfig.finetune_learning_rate_factor="
                f"{self.finetune_learning_rate_factor} must be > 0."
            )
        if int(self.ensemble) < 1:
            raise ConfigError(f"OmniFoldConfig.ensemble={self.ensemble} must be >= 1.")
        if self.aggregation not in AGGREGATIONS:
            raise ConfigError(
                f"OmniFoldConfig.aggregation={self.aggregation!r}; choose one of {AGGREGATIONS}."
            )
        if self.acceptance not in _ACCEPTANCE:
            raise ConfigError(
                f"OmniFoldConfig.acceptance={self.acceptance!r}; choose one of {_ACCEPTANCE} "
                "(see :mod:`hepnnlr.methods.omnifold`)."
            )
        if self.fakes not in _FAKES:
            raise ConfigError(
                f"OmniFoldConfig.fakes={self.fakes!r}; choose one of {_FAKES} "
                "(see :mod:`hepnnlr.methods.omnifold`)."
            )
