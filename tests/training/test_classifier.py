from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import EmptySelectionError, NonFiniteInputError, ShapeMismatchError
from hepnnlr.models import ModelSpec
from hepnnlr.tensors import EventTensors
from hepnnlr.training import TrainingConfig, train_classifier, weights_from_logits
from hepnnlr.weighted import kish_effective_size, weighted_mean_and_std

SPEC = ModelSpec("mlp", hidden=(32, 32))
FAST = TrainingConfig(epochs=30, batch_size=1000, learning_rate=3e-3, patience=4, seed=3)


def _events(x: np.ndarray) -> EventTensors:
    return EventTensors(None, None, x.reshape(-1, 1).astype(np.float32), (), ("x",))


def _closure(numerator, w_num, denominator, w_den):
    clf = train_classifier(SPEC, _events(numerator), w_num, _events(denominator), w_den, FAST)
    ratio = weights_from_logits(clf.logits(_events(denominator))) * w_den
    return clf, ratio


def test_reweighting_closes_on_two_gaussians():
    rng = np.random.default_rng(11)
    n = 20_000
    a = rng.normal(0.5, 1.0, n)
    b = rng.normal(0.0, 1.0, n)
    clf, w = _closure(a, np.ones(n), b, np.ones(n))
    mean, std = weighted_mean_and_std(b, w)
    n_eff = kish_effective_size(w)
    # Statistical error of the difference of the two means: sigma * sqrt(1/N_a + 1/N_eff);
    # 4 standard deviations keeps false alarms below 1e-4.
    tolerance = 4 * np.sqrt(1 / n + 1 / n_eff)
    assert mean == pytest.approx(a.mean(), abs=tolerance)
    # Standard deviation of a Gaussian sample's std: sigma / sqrt(2N) per sample.
    assert std == pytest.approx(a.std(), abs=4 * np.sqrt(1 / (2 * n) + 1 / (2 * n_eff)))
    # The analytic log ratio is 0.5 x - 0.125; over the bulk the learned one follows it.
    x = np.linspace(-1.0, 1.5, 6)
    learned = clf.logits(_events(x))
    assert np.abs(learned - (0.5 * x - 0.125)).max() < 0.1
    assert len(clf.history["val_loss"]) >= 2


def test_negative_weights_are_allowed():
    rng = np.random.default_rng(12)
    n = 20_000
    a = rng.normal(0.5, 1.0, n)
    # The denominator: weight 1.5 events minus weight 0.5 events of the same N(0, 1),
    # a net N(0, 1) density like an NLO sample with negative-weight events.
    b = rng.normal(0.0, 1.0, 2 * n)
    w_b = np.where(np.arange(2 * n) < n, 1.5, -0.5)
    _, w = _closure(a, np.ones(n), b, w_b)
    mean, _ = weighted_mean_and_std(b, w)
    n_eff = kish_effective_size(w)
    assert mean == pytest.approx(a.mean(), abs=4 * np.sqrt(1 / n + 1 / n_eff))


def test_same_seed_same_weights():
    rng = np.random.default_rng(13)
    a, b = rng.normal(0.3, 1, 3000), rng.normal(0, 1, 3000)
    config = TrainingConfig(epochs=3, batch_size=500, seed=5)
    runs = [
        train_classifier(SPEC, _events(a), np.ones(3000), _events(b), np.ones(3000), config).logits(
            _events(b)
        )
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])


def test_bad_inputs_are_named():
    x = _events(np.zeros(10))
    with pytest.raises(ShapeMismatchError, match="numerator weights=9"):
        train_classifier(SPEC, x, np.ones(9), x, np.ones(10), FAST, name="clf")
    bad = np.ones(10)
    bad[4] = np.nan
    with pytest.raises(NonFiniteInputError, match="clf denominator weights.*event 4"):
        train_classifier(SPEC, x, np.ones(10), x, bad, FAST, name="clf")
    with pytest.raises(EmptySelectionError, match="numerator sample of clf is empty"):
        train_classifier(SPEC, _events(np.zeros(0)), np.ones(0), x, np.ones(10), FAST, name="clf")
    with pytest.raises(EmptySelectionError, match="total weight of 0"):
        train_classifier(SPEC, x, np.zeros(10), x, np.ones(10), FAST, name="clf")
    with pytest.raises(NonFiniteInputError, match="event feature x.*numerator sample of clf"):
        train_classifier(SPEC, _events(bad), np.ones(10), x, np.ones(10), FAST, name="clf")
    with pytest.raises(NonFiniteInputError, match="logits of clf"):
        weights_from_logits(np.array([0.0, np.inf]), name="clf")


@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "lion", "learning_rate": 3e-4},
        {"schedule": "cosine", "warmup_epochs": 1.0},
        {"ema": True, "ema_momentum": 0.9},
    ],
    ids=["lion", "cosine-warmup", "ema"],
)
def test_training_options_still_learn_the_ratio(options):
    rng = np.random.default_rng(21)
    n = 10_000
    a, b = rng.normal(0.5, 1.0, n), rng.normal(0.0, 1.0, n)
    config = TrainingConfig(
        epochs=15, batch_size=500, patience=4, seed=2, **{"learning_rate": 3e-3, **options}
    )
    clf = train_classifier(SPEC, _events(a), np.ones(n), _events(b), np.ones(n), config)
    w = weights_from_logits(clf.logits(_events(b)))
    mean, _ = weighted_mean_and_std(b, w)
    # Same statistical criterion as the closure test above.
    assert mean == pytest.approx(a.mean(), abs=4 * np.sqrt(1 / n + 1 / kish_effective_size(w)))


def test_invalid_training_options_are_named():
    from hepnnlr.errors import ConfigError

    with pytest.raises(ConfigError, match="optimizer='sgd'"):
        TrainingConfig(optimizer="sgd")
    with pytest.raises(ConfigError, match="warm-up needs schedule='cosine'"):
        TrainingConfig(warmup_epochs=1.0)


def test_five_dimensional_gaussians_against_the_exact_ratio():
    rng = np.random.default_rng(31)
    n, shift = 40_000, np.array([0.3, -0.2, 0.1, 0.0, 0.25])
    a = rng.normal(shift, 1.0, (n, 5))
    b = rng.normal(0.0, 1.0, (n, 5))

    def events(x):
        names = tuple(f"x{i}" for i in range(5))
        return EventTensors(None, None, x.astype(np.float32), (), names)

    clf = train_classifier(
        ModelSpec("mlp", hidden=(64, 64)),
        events(a),
        np.ones(n),
        events(b),
        np.ones(n),
        TrainingConfig(epochs=60, batch_size=1000, learning_rate=1e-3, patience=8, seed=6),
    )
    logit = clf.logits(events(b))
    exact = b @ shift - 0.5 * shift @ shift
    bulk = np.linalg.norm(b, axis=1) < 2.5  # the central ~90 % of the 5-D sample
    # Median deviation over the bulk: the classifier resolves the ratio to ~0.05 here.
    assert np.median(np.abs(logit[bulk] - exact[bulk])) < 0.1
    w = weights_from_logits(logit)
    n_eff = kish_effective_size(w)
    for i in range(5):
        mean, _ = weighted_mean_and_std(b[:, i], w)
        assert mean == pytest.approx(a[:, i].mean(), abs=4 * np.sqrt(1 / n + 1 / n_eff))


@pytest.mark.parametrize(
    "options", [{"distribute": True}, {"mixed_precision": True}], ids=["mirrored", "mixed-float16"]
)
def test_distribution_and_mixed_precision_work_on_cpu(options):
    import keras

    rng = np.random.default_rng(41)
    n = 10_000
    a, b = rng.normal(0.5, 1.0, n), rng.normal(0.0, 1.0, n)
    policy = keras.config.dtype_policy().name
    config = TrainingConfig(
        epochs=15, batch_size=500, learning_rate=3e-3, patience=4, seed=2, **options
    )
    clf = train_classifier(SPEC, _events(a), np.ones(n), _events(b), np.ones(n), config)
    assert keras.config.dtype_policy().name == policy  # the user's policy is restored
    w = weights_from_logits(clf.logits(_events(b)))
    mean, _ = weighted_mean_and_std(b, w)
    assert mean == pytest.approx(a.mean(), abs=4 * np.sqrt(1 / n + 1 / kish_effective_size(w)))
    if options.get("mixed_precision"):
        assert clf.model.get_layer("hidden_0").compute_dtype == "float16"
        assert clf.model.get_layer("logit").compute_dtype == "float32"


def _particle_events(rng, n, shift):
    from hepnnlr.tensors.jagged import JaggedEventTensors

    counts = rng.integers(1, 12, n)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    values = rng.normal(shift, 1.0, (offsets[-1], 2)).astype(np.float32)
    return JaggedEventTensors(values, offsets, None, ("a", "b"))


def test_training_on_jagged_inputs_equals_padded_inputs():
    rng = np.random.default_rng(51)
    a, b = _particle_events(rng, 800, 0.3), _particle_events(rng, 800, 0.0)
    spec = ModelSpec("pfn", phi=(16, 16), hidden=(16,))
    config = TrainingConfig(epochs=2, batch_size=128, patience=2, seed=4)
    jagged = train_classifier(spec, a, np.ones(800), b, np.ones(800), config)
    padded = train_classifier(
        spec, a.to_padded(), np.ones(800), b.to_padded(), np.ones(800), config
    )
    # Same batches (same events, same padding) and the same initialization: the same
    # training, operation for operation.
    assert jagged.history == padded.history
    np.testing.assert_array_equal(jagged.logits(b), padded.logits(b.to_padded()))


def test_steps_per_execution_does_not_change_the_training():
    # One step per call of Keras' compiled training function against a whole epoch per
    # call (the default), on the same batches: early stopping (with the best weights
    # restored) and the EMA swap act at epoch ends, so history and weights agree to the bit.
    rng = np.random.default_rng(53)
    a, b = rng.normal(0.3, 1, 2000), rng.normal(0, 1, 2000)
    runs = []
    for steps in (1, 0):
        config = TrainingConfig(
            epochs=12,
            batch_size=250,
            seed=7,
            steps_per_execution=steps,
            patience=1,
            learning_rate=3e-2,
            ema=True,
            ema_momentum=0.5,
        )
        clf = train_classifier(SPEC, _events(a), np.ones(2000), _events(b), np.ones(2000), config)
        runs.append((clf.history, clf.logits(_events(b))))
        assert clf.model.steps_per_execution == 1  # prediction and saving run step by step
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    # The lr is high enough that the validation loss turns up: early stopping acted.
    assert len(runs[1][0]["val_loss"]) < 12


def test_steps_per_execution_does_not_change_the_training_on_particles():
    rng = np.random.default_rng(54)
    a, b = _particle_events(rng, 600, 0.3), _particle_events(rng, 600, 0.0)
    spec = ModelSpec("pfn", phi=(16, 16), hidden=(16,))
    runs = []
    for steps in (1, 0):
        config = TrainingConfig(
            epochs=2, batch_size=128, patience=2, seed=4, steps_per_execution=steps
        )
        clf = train_classifier(spec, a, np.ones(600), b, np.ones(600), config)
        runs.append((clf.history, clf.logits(b)))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_training_and_validation_are_traced_once(monkeypatch):
    # Keras builds the optimizer while tracing the first step unless it is built before:
    # TensorFlow then traces the training function a second time.
    import keras

    calls = {"train": 0, "test": 0}
    train_step, test_step = keras.Model.train_step, keras.Model.test_step

    def counted(kind, step):
        def wrapper(self, data):
            calls[kind] += 1
            return step(self, data)

        return wrapper

    monkeypatch.setattr(keras.Model, "train_step", counted("train", train_step))
    monkeypatch.setattr(keras.Model, "test_step", counted("test", test_step))
    rng = np.random.default_rng(55)
    a, b = rng.normal(0.3, 1, 1000), rng.normal(0, 1, 1000)
    config = TrainingConfig(epochs=3, batch_size=300, patience=3, seed=1)
    clf = train_classifier(SPEC, _events(a), np.ones(1000), _events(b), np.ones(1000), config)
    assert len(clf.history["val_loss"]) == 3
    assert calls == {"train": 1, "test": 1}


def test_same_events_share_one_validation_split():
    # OmniFold's step 2 classifies the same events under two weightings. With one split
    # per class an event held out of one class is trained on in the other; with the same
    # object (or paired=True for equal copies) the same events are held out of both.
    rng = np.random.default_rng(56)
    x = _events(rng.normal(0, 1, 2000))
    w = 1 + 0.1 * x.globals[:, 0]
    config = TrainingConfig(epochs=1, batch_size=500, seed=8)
    same = train_classifier(SPEC, x, w, x, np.ones(2000), config)
    copy = train_classifier(
        SPEC, x, w, x.subset(np.arange(2000)), np.ones(2000), config, paired=True
    )
    apart = train_classifier(SPEC, x, w, x, np.ones(2000), config, paired=False)
    n_val = round(config.validation_fraction * 2000)
    for clf in (same, copy, apart):
        assert [len(k) for k in clf.held_out] == [n_val, n_val]
    np.testing.assert_array_equal(same.held_out[0], same.held_out[1])
    np.testing.assert_array_equal(copy.held_out[0], same.held_out[0])
    # Independent draws: two random 20 % subsets share ~20 % of their events.
    overlap = np.intersect1d(*apart.held_out).size
    assert overlap < 0.5 * n_val
    # Different samples are never paired, and paired samples must have equal lengths.
    other = _events(rng.normal(0, 1, 2000))
    unpaired = train_classifier(SPEC, x, w, other, np.ones(2000), config)
    assert np.intersect1d(*unpaired.held_out).size < 0.5 * n_val
    with pytest.raises(ShapeMismatchError, match=r"paired classes.*\(2000, 1999\)"):
        train_classifier(SPEC, x, w, x.subset(np.arange(1999)), np.ones(1999), config, paired=True)


def test_paired_validation_loss_is_not_fooled_by_memorization():
    # The same events with weights 1 + 0.2 tanh(x0) and 1, in 8 dimensions, few events
    # and a network large enough to memorize them. With independent splits a validation
    # event's copy in the other class is trained on with the opposite label alone, so
    # memorizing it drives the validation loss up from the first epochs (early stopping
    # then keeps an under-trained network). With one split the validation events are
    # unseen in both classes, and a training event's two copies carry the exact ratio, so
    # memorization costs nothing: the validation loss stays at the loss of the exact ratio.
    rng = np.random.default_rng(57)
    n, d = 600, 8
    x = rng.normal(0, 1, (n, d))
    events = EventTensors(None, None, x.astype(np.float32), (), tuple(f"x{i}" for i in range(d)))
    w = 1 + 0.2 * np.tanh(x[:, 0])
    config = TrainingConfig(epochs=60, batch_size=100, learning_rate=1e-2, patience=60, seed=9)
    spec = ModelSpec("mlp", hidden=(128, 128))
    paired = train_classifier(spec, events, w, events, np.ones(n), config)
    apart = train_classifier(spec, events, w, events, np.ones(n), config, paired=False)
    # The balanced weighted BCE of the exact ratio is ln 2 minus ~0.003 (the ratio is
    # weak); over the 240 validation events (weights of spread 0.13 per class) it
    # fluctuates by ~0.006: 0.02 is three of those.
    assert max(paired.history["val_loss"]) < np.log(2) + 0.02, paired.history["val_loss"]
    # The same check fails with independent splits (the test has power): memorization
    # takes the validation loss far above ln 2 (1.38 at the last epoch here).
    assert max(apart.history["val_loss"]) > np.log(2) + 0.1, apart.history["val_loss"]
