"""No private Keras or TensorFlow module or attribute anywhere in the tree (issue 18).

hepnnlr allows every Keras 3 release ``>=3.15,<4`` (pyproject.toml). That holds only while
the code calls Keras and TensorFlow through their public APIs: ``keras.src`` and
``tensorflow.python`` are internal packages that move between releases, and an
``_``-prefixed attribute is an implementation detail (``benchmarks/bench_vs_omnifold.py``
once broke on a private helper that moved). A plain text search, so it costs nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("hepnnlr", "processors", "benchmarks", "examples", "tests")

# Keras' and TensorFlow's internal packages, however they are imported or named.
INTERNAL_MODULES = re.compile(r"\bkeras\.src\b|\btensorflow\.python\b|\btf\.python\b")
# An ``_``-prefixed attribute reached from the keras / tf / tensorflow namespace, through
# attributes and argument-less calls (``tf.distribute.get_strategy()._extended``); not a
# dunder such as ``keras.__version__``.
PRIVATE_FROM_NAMESPACE = re.compile(r"\b(?:keras|tf|tensorflow)(?:\.\w+(?:\(\))?)*?\._[^\W_]")
# Private attributes and arguments of Keras models, optimizers, layers and fit loops
# (the ones code reaches for when it rebuilds fit), on any object but this package's own
# ``self``/``cls`` (hepnnlr's classes may name their attributes as they like).
KNOWN_PRIVATE = re.compile(
    r"(?<!self)(?<!cls)\.(?:_callbacks|_distribution\w*|_distribute_strategy|_loss_tracker"
    r"|_compile_metrics|_compile_loss|_eval_epoch_iterator|_trainable_variables|_layers"
    r"|_flatten_layers|_get_metrics_result_or_logs|_steps_per_execution|_jit_compile"
    r"|_run_eagerly|_iterations|_learning_rate|_make_function|_maybe_symbolic_build"
    r"|_symbolic_build|_autoconvert_optionals|_inbound_nodes|_keras_history|_tracker"
    r"|_variables)\b"
    r"|\b_use_cached_eval_dataset\b"
)
PATTERNS = (INTERNAL_MODULES, PRIVATE_FROM_NAMESPACE, KNOWN_PRIVATE)


def _offences(text: str) -> list[str]:
    return [m.group(0) for pattern in PATTERNS for m in pattern.finditer(text)]


@pytest.mark.parametrize(
    "line",
    [
        "from keras.src.trainers.epoch_iterator import EpochIterator",
        "import tensorflow.python.ops.array_ops",
        "tf.python.framework.ops",
        "keras.backend._current_tf_state",
        "tf.distribute.get_strategy()._extended",
        "callbacks = model._callbacks",
        "network.optimizer._iterations.assign(0)",
        "model._get_metrics_result_or_logs(logs)",
        "strategy = model._distribution_strategy",
        "model.evaluate(x, _use_cached_eval_dataset=True)",
    ],
)
def test_the_patterns_catch_private_use(line):
    assert _offences(line), line


@pytest.mark.parametrize(
    "line",
    [
        "import keras",
        "keras.callbacks.EarlyStopping(monitor='val_loss')",
        "network.optimizer.build(network.trainable_variables)",
        "self._model = model",
        "tf.data.experimental.assert_cardinality(n)",
        "hepnnlr.observables._kernels",
        "keras.ops.convert_to_tensor(self._values)",
        "print(keras.__version__, tf.__version__)",
    ],
)
def test_the_patterns_pass_public_use(line):
    assert not _offences(line), line


def test_no_private_keras_or_tensorflow_in_the_tree():
    found = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == Path(__file__).resolve():
                continue  # the patterns' own examples
            for number, line in enumerate(path.read_text().splitlines(), 1):
                found += [f"{path.relative_to(ROOT)}:{number}: {o}" for o in _offences(line)]
    assert not found, (
        "private Keras/TensorFlow API used (call the public API instead; see "
        "tests/test_private_api.py):\n" + "\n".join(found)
    )
