"""Settings of one classifier training."""

from __future__ import annotations

from dataclasses import dataclass

from hepnnlr.errors import ConfigError

__all__ = ["OPTIMIZERS", "SCHEDULES", "TrainingConfig"]

OPTIMIZERS = ("adam", "lion")
SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class TrainingConfig:
    """How to train one classifier.

    Attributes:
        epochs: Maximum number of passes over the training set.
        batch_size: Events per gradient step.
        learning_rate: Adam learning rate.
        patience: Early stopping: epochs without a lower validation loss before stopping;
            the weights of the best epoch are restored.
        validation_fraction: Fraction of the events (of each class) held out for the
            validation loss.
        seed: Seeds the initialization, the validation split and the shuffling.
        progress: Show a progress bar over the epochs, with ``loss`` and ``val_loss``
            (:mod:`hepnnlr.training.progress`).
        optimizer: ``"adam"`` or ``"lion"``.
        schedule: ``"constant"`` or ``"cosine"`` (cosine decay over all planned steps,
            after a linear warm-up of ``warmup_epochs`` from 0 to ``learning_rate``).
        warmup_epochs: Warm-up length for the cosine schedule (may be fractional).
        ema: Keep an exponential moving average of the weights (momentum ``ema_momentum``)
            and use it for validation and the final model.
        distribute: Train with ``tf.distribute.MirroredStrategy`` over every visible GPU
            (one replica on the CPU when there is none); the batch is split across them.
        mixed_precision: Compute in float16 with float32 variables and loss scaling
            (``mixed_float16``: fast on GPUs, slow but correct on CPUs); the logit layer
            stays float32.
        steps_per_execution: Training steps run per call of Keras' compiled training
            function (Keras ``steps_per_execution``). ``0`` (the default): a whole epoch
            per call; event-level inputs then train a whole epoch per ``fit`` step (a
            ``train_step`` override), so neither a batch nor an epoch costs Keras' per-call
            work. Same weights for every value; only batch-level callbacks see fewer calls.
        jit_compile: Compile the training step with XLA (off by default: on a CPU each new
            batch shape, e.g. each bucketed slot count, costs a compilation).
    """

    epochs: int = 20
    batch_size: int = 512
    learning_rate: float = 1e-3
    patience: int = 3
    validation_fraction: float = 0.2
    seed: int = 0
    progress: bool = False
    optimizer: str = "adam"
    schedule: str = "constant"
    warmup_epochs: float = 0.0
    ema: bool = False
    ema_momentum: float = 0.99
    distribute: bool = False
    mixed_precision: bool = False
    steps_per_execution: int = 0
    jit_compile: bool = False

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "patience"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"TrainingConfig.{name}={getattr(self, name)} must be >= 1.")
        if not self.learning_rate > 0:
            raise ConfigError(f"TrainingConfig.learning_rate={self.learning_rate} must be > 0.")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(
                f"TrainingConfig.optimizer={self.optimizer!r}; choose one of {OPTIMIZERS}."
            )
        if self.schedule not in SCHEDULES:
            raise ConfigError(
                f"TrainingConfig.schedule={self.schedule!r}; choose one of {SCHEDULES}."
            )
        if self.warmup_epochs < 0 or (self.warmup_epochs > 0 and self.schedule == "constant"):
            raise ConfigError(
                f"TrainingConfig.warmup_epochs={self.warmup_epochs}: a warm-up needs "
                "schedule='cosine' and a non-negative length."
            )
        if int(self.steps_per_execution) < 0:
            raise ConfigError(
                f"TrainingConfig.steps_per_execution={self.steps_per_execution} must be >= 1, "
                "or 0 for a whole epoch per call."
            )
        if not 0.0 < self.ema_momentum < 1.0:
            raise ConfigError(f"TrainingConfig.ema_momentum={self.ema_momentum} must be in (0, 1).")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ConfigError(
                f"TrainingConfig.validation_fraction={self.validation_fraction} must be in "
                "(0, 1): early stopping needs held-out events."
            )
