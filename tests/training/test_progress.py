"""The training's progress bar (hepnnlr/training/progress.py) on a real, tiny Keras fit."""

from __future__ import annotations

import keras
import numpy as np

from hepnnlr.training.config import TrainingConfig
from hepnnlr.training.progress import EpochProgress, progress_callbacks


def test_a_bar_per_training_with_its_epochs_and_losses(capsys):
    x = np.linspace(-1, 1, 32, dtype=np.float32)[:, None]
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)  # no tracing: cheaper
    history = model.fit(x, 2 * x, validation_split=0.25, epochs=3, batch_size=8, verbose=0,
                        callbacks=[EpochProgress("tiny fit")])  # fmt: skip
    err = capsys.readouterr().err
    assert "tiny fit" in err and "3/3 epochs" in err
    # the last epoch's losses, as the bar prints them (4 significant digits)
    assert f"loss {history.history['loss'][-1]:.4g}" in err
    assert f"val_loss {history.history['val_loss'][-1]:.4g}" in err


def test_progress_callbacks_follow_the_config():
    assert progress_callbacks(TrainingConfig(progress=False)) == []
    (bar,) = progress_callbacks(TrainingConfig(progress=True), "step 1")
    assert isinstance(bar, EpochProgress) and bar.name == "step 1"
