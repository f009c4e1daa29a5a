"""A signal-strength likelihood to and from a folder (``hepnnlr.methods.likelihood_files``):
every kind of density the routes are made of reads back with the saved one's log
densities, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.methods.likelihood_files import (
    describe_likelihoods,
    load_likelihoods,
    write_networks,
)
from hepnnlr.methods.mixture_likelihood import MixtureLikelihood
from hepnnlr.models.spec import FlowSpec, ModelSpec
from hepnnlr.samples.gaussian_signal import GaussianSignalToy
from hepnnlr.training import TrainedClassifier
from hepnnlr.training.flows import TrainedFlow
from hepnnlr.training.parameterized import EnsembleRatio, NormalizedRatio, ParameterizedRatio

FEATURES = ("x0", "x1")


def _ratio(seed: int, held_out: bool) -> ParameterizedRatio:
    # untrained networks: their random weights must read back as they are
    import keras

    keras.utils.set_random_seed(seed)
    model = ModelSpec("mlp", hidden=(8,)).build(0, 2, 1)
    indices = (np.array([1, 4]), np.array([0, 2])) if held_out else None
    trained = TrainedClassifier(
        model, {"loss": [0.1 + 0.2]}, f"f{seed}", 1.25, {"z": (0.0, 1.5)}, indices
    )
    return ParameterizedRatio(
        trained, FEATURES, (0.0, 1.5), np.array([0.1, -0.3]), np.array([1.1, 0.9]), 0.7, 0.4
    )


def test_every_density_reads_back_with_its_log_densities(tmp_path):
    import keras

    keras.utils.set_random_seed(3)
    flow = FlowSpec(layers=2, hidden=(4,)).build(2, 1)
    toy = GaussianSignalToy(0.5)
    likelihoods = {
        "exact": MixtureLikelihood.exact_gaussian(toy),
        "classifier": MixtureLikelihood(
            NormalizedRatio(
                EnsembleRatio((_ratio(1, True), _ratio(2, False))),
                np.linspace(0.0, 1.5, 5),
                np.array([0.01, -0.02, 0.03, 0.0, 0.1]),
            ),
            _ratio(3, False),
            name="classifier",
            mu_range=(0.0, 5.0),
        ),
        "flow": MixtureLikelihood(
            TrainedFlow(
                flow, FEATURES, (0.0, 1.5), np.zeros(2), np.ones(2), 0.75, 0.43, {}, "p_sig"
            ),
            TrainedFlow(
                flow, FEATURES, (0.0, 1.5), np.ones(2), np.full(2, 2.0), 0.7, 0.4, {}, "p_bkg"
            ),
            name="flow",
        ),
    }
    record, arrays, networks = describe_likelihoods(likelihoods)
    write_networks(networks, tmp_path)
    loaded = load_likelihoods(record, arrays, tmp_path)
    rng = np.random.default_rng(0)
    x, z = rng.normal(size=(50, 2)), rng.uniform(0.1, 1.4, 50)
    for route, likelihood in likelihoods.items():
        again = loaded[route]
        assert (again.name, again.mu_range) == (likelihood.name, likelihood.mu_range)
        for part in ("signal", "background"):
            np.testing.assert_array_equal(
                getattr(again, part).log_prob(x, z), getattr(likelihood, part).log_prob(x, z)
            )
    member = loaded["classifier"].signal.ratio.members[0].classifier
    assert member.history == {"loss": [0.1 + 0.2]} and member.theta_range == {"z": (0.0, 1.5)}
    np.testing.assert_array_equal(member.held_out[1], [0, 2])
    assert loaded["flow"].background.name == "p_bkg"


def test_a_density_it_cannot_keep_is_named():
    class Custom:
        features, z_range = FEATURES, (0.0, 1.0)

        def log_prob(self, x, z):
            return np.zeros(len(x))

    with pytest.raises(TypeError, match="cannot save a Custom density"):
        describe_likelihoods({"mine": MixtureLikelihood(Custom(), Custom())})
