"""The settings of a DCTR reweighter (:class:`DCTRConfig`), apart from the training code.

Loading a job file reads these settings without importing TensorFlow; the reweighter
that uses them is :class:`hepnnlr.methods.dctr.DCTRReweighter`. Andreassen, Hsu, Nachman,
Suaysom, Suresh, "Parameter estimation using neural networks in the presence of detector
effects", arXiv:2010.03569 (SRGN); Andreassen and Nachman, "Neural Networks for Full
Phase-space Reweighting and Parameter Tuning", arXiv:1907.08209 (DCTR).
"""

from __future__ import annotations

from dataclasses import dataclass

from hepnnlr.errors import ConfigError
from hepnnlr.models.spec import ModelSpec
from hepnnlr.training.config import TrainingConfig

__all__ = ["DCTRConfig"]

_MEMBER_SEED = 1000
"""Seed step between the members of a :class:`~hepnnlr.methods.dctr.DCTRReweighter` ensemble."""


@dataclass(frozen=True)
class DCTRConfig:
    """How to train a parameterized reweighter ``f(x, θ)``.

    Attributes:
        model: The network; the Gaussian examples of arXiv:2010.03569 use 3 hidden layers of 50 ReLU
            units (``ModelSpec("mlp", hidden=(50, 50, 50))``, the default).
        training: Training settings (arXiv:2010.03569: up to 200 epochs, patience 10, batches of
            ``10^5`` for ``10^6`` events; scale the batch with the sample).
        scale_theta: Map each parameter's training range onto ``[-1, 1]`` before it enters
            the network (:class:`~hepnnlr.methods.theta.ThetaScale`; on by default). Off: θ
            enters as given.
        nominal_anchor: Share ``a`` of each class that anchors ``w(x, θ0) = 1`` when
            :meth:`~hepnnlr.methods.dctr.DCTRReweighter.train` is given the nominal point
            ``θ0``: the nominal training events at ``θ0`` enter both classes (``a`` of each
            class's total weight, so the two classes keep the same θ distribution). 0 turns
            it off.
        members: Networks trained on the same events with different seeds (member ``k``:
            ``training.seed + 1000 k``, which also draws the nominal events' parameters
            anew); :meth:`~hepnnlr.methods.dctr.DCTRReweighter.logits` averages their
            ``log w``. This averages the spread between trainings (initialization, batch
            order, θ draws), not the error the members share through their training
            samples; each member costs one training.
        nominal_draws: Parameter points drawn per nominal event: the nominal sample enters
            the label-0 class ``nominal_draws`` times, each copy with its own θ drawn
            from the varied sample's prior and ``1 / nominal_draws`` of the event's
            weight (the anchor's events likewise). With one draw, each θ region sees
            only a share of the nominal events and the learned ratio carries the noise
            of that assignment. Costs training time in proportion to the events.
    """

    model: ModelSpec = ModelSpec("mlp", hidden=(50, 50, 50))
    training: TrainingConfig = TrainingConfig(epochs=40, batch_size=1000, patience=6)
    scale_theta: bool = True
    nominal_anchor: float = 0.5
    members: int = 1
    nominal_draws: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.scale_theta, bool):
            raise ConfigError(
                f"DCTRConfig.scale_theta must be true or false, got {self.scale_theta!r}."
            )
        if not (
            isinstance(self.nominal_anchor, (int, float))
            and not isinstance(self.nominal_anchor, bool)
            and 0.0 <= self.nominal_anchor < 1.0
        ):
            raise ConfigError(
                f"DCTRConfig.nominal_anchor must be a number in [0, 1), got "
                f"{self.nominal_anchor!r}."
            )
        if (
            isinstance(self.members, bool)
            or not isinstance(self.members, int)
            or (self.members < 1)
        ):
            raise ConfigError(
                f"DCTRConfig.members must be a positive integer (networks averaged), got "
                f"{self.members!r}."
            )
        if (
            isinstance(self.nominal_draws, bool)
            or not isinstance(self.nominal_draws, int)
            or (self.nominal_draws < 1)
        ):
            raise ConfigError(
                f"DCTRConfig.nominal_draws must be a positive integer (parameter points per "
                f"nominal event), got {self.nominal_draws!r}."
            )
        if not isinstance(self.model, ModelSpec):
            raise ConfigError(f"DCTRConfig.model must be a ModelSpec, got {type(self.model)}.")
        if not isinstance(self.training, TrainingConfig):
            raise ConfigError(
                f"DCTRConfig.training must be a TrainingConfig, got {type(self.training)}."
            )
