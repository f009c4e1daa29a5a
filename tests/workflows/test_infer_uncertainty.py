"""``hepnnlr infer``: stat (bootstrap of the fitted data) and method (repeats) errors, seeds."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hepnnlr.cli.main import main
from hepnnlr.errors import ConfigError
from hepnnlr.methods.signal_strength import MixtureLikelihood
from hepnnlr.samples.gaussian_signal import GaussianSignalToy
from hepnnlr.workflows.infer import load_inference_job
from hepnnlr.workflows.infer_errors import InferUncertaintyConfig, route_errors
from hepnnlr.workflows.infer_samples import GenerateConfig
from hepnnlr.workflows.infer_toy import ToyConfig, toy_training_samples

CONFIG = """
output_dir: out
toy: {radius: 2.0, n_train: 600}
routes: [exact, classifier]
classifier: {kind: mlp, hidden: [8]}
training: {epochs: 1, batch_size: 256, learning_rate: 0.002, seed: 1}
grid: {mu: [0.0, 0.5, 26], z: [0.1, 0.4, 16]}
dataset: {mu: 0.2, z: 0.25, n_events: 2000, seed: 3}
uncertainty: {repeats: 1, bootstrap: 0}
"""


def test_bootstrap_stat_error_of_the_true_likelihood_matches_its_wilks_interval():
    """With the exact likelihood the 68.27 % Wilks half-width is the statistical error of
    μ and z (asymptotically); the spread over Poisson(1) replicas of the data must agree."""
    toy = GaussianSignalToy(2.0)
    data, _ = toy.mixture(0.2, 0.25 * np.pi, 3000, np.random.default_rng(3))
    mu_grid = np.linspace(0.0, 0.5, 51)
    z_grid = np.linspace(0.1, 0.4, 31) * np.pi
    replicas = 200
    errors, record = route_errors(
        [MixtureLikelihood.exact_gaussian(toy)], data, mu_grid, z_grid, bootstrap=replicas, seed=5
    )
    # A standard deviation from 200 replicas is known to 1/sqrt(2 x 199) = 5 %; three of
    # those plus 5 % for the asymptotic (parabolic) Wilks interval: 20 %.
    for name in ("mu", "z"):
        e = errors[name]
        half_width = 0.5 * (errors[f"{name}_high"].value - errors[f"{name}_low"].value)
        assert e.method is None and e.replicas == (replicas, replicas)
        assert e.stat == pytest.approx(half_width, rel=0.20), name
        # the replicas' mean shift is the bootstrap bias, a few sigma/sqrt(B) at most
        assert abs(e.bootstrap_bias) < 4 * e.stat / np.sqrt(replicas), name
    assert len(record["replicas"]["mu"]) == replicas


def test_cli_repeats_and_bootstrap_give_stat_method_and_total(tmp_path, capsys):
    path = tmp_path / "infer.yaml"
    path.write_text(CONFIG)
    argv = ["infer", str(path), "--repeats", "2", "--bootstrap", "5", "-o", str(tmp_path / "o")]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "uncertainties (5 bootstrap replicas of the fitted data, 2 repeats" in printed
    assert "method: spread of the routes retrained with other seeds" in printed
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["uncertainty"] == {"repeats": 2, "bootstrap": 5, "seed": 1}
    exact, classifier = summary["uncertainties"]["exact"], summary["uncertainties"]["classifier"]
    assert set(exact) == {"mu", "mu_low", "mu_high", "z", "z_low", "z_high"}
    assert exact["mu"]["method"] is None and exact["mu"]["stat"] > 0  # nothing trained
    assert classifier["mu"]["repeats"] == 2 and classifier["z"]["method"] is not None
    for e in (exact["mu"], classifier["z"]):
        parts = [p for p in (e["stat"], e["method"]) if p is not None]
        assert e["total"] == pytest.approx(float(np.hypot.reduce(parts)))
    # the repeats are the classifier trained with seeds 1 and 2 on the same samples
    assert len(set(summary["uncertainty_passes"]["classifier"]["repeats"]["z"])) == 2
    assert (tmp_path / "o" / "uncertainties_dataset.png").stat().st_size > 0
    assert summary["error_model"]["stat"].startswith("statistical:")


def test_settings_and_per_sample_seeds_are_validated(tmp_path):
    with pytest.raises(ConfigError, match="uncertainty.bootstrap=1"):
        InferUncertaintyConfig(bootstrap=1)
    with pytest.raises(ConfigError, match=r"toy.seeds: unknown sample\(s\) \['data'\]"):
        ToyConfig(seeds={"data": 1})
    with pytest.raises(ConfigError, match=r"generate.seeds: unknown sample\(s\) \['sig'\]"):
        GenerateConfig(seeds={"sig": 1})
    path = tmp_path / "infer.yaml"
    path.write_text(CONFIG.replace("bootstrap: 0}", "bootstrap: 0, seed: 7}"))
    assert load_inference_job(path).training.seed == 7  # uncertainty.seed trains repeat 0


def test_a_sample_with_its_own_seed_leaves_the_others_unchanged():
    toy = GaussianSignalToy(2.0)
    base = toy_training_samples(toy, 200, seed=1)
    moved = toy_training_samples(toy, 200, seed=1, seeds={"signal": 9})
    assert not np.allclose(base["signal"].x, moved["signal"].x)
    np.testing.assert_array_equal(base["background"].x, moved["background"].x)
    np.testing.assert_array_equal(base["signal_reference"], moved["signal_reference"])
    own = toy_training_samples(toy, 200, seed=4, seeds={"signal": 9})
    np.testing.assert_array_equal(own["signal"].x, moved["signal"].x)
