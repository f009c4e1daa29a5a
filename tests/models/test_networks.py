from __future__ import annotations

import keras
import numpy as np
import pytest

from hepnnlr.errors import ConfigError
from hepnnlr.models import ModelSpec, build_mlp, build_pet


def _inputs(rng, n=6, slots=7, features=4, n_global=3):
    mask = rng.random((n, slots)) > 0.3
    particles = rng.normal(size=(n, slots, features)).astype(np.float32) * mask[..., None]
    return {
        "particles": particles,
        "mask": mask.astype(np.float32),
        "globals": rng.normal(size=(n, n_global)).astype(np.float32),
    }


def _predict(model, x):
    return model.predict(x, verbose=0).ravel()


@pytest.mark.parametrize("kind", ["pfn", "efn", "pet"])
def test_set_networks_are_permutation_and_padding_invariant(kind):
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    model = ModelSpec(kind).build(4, 3)
    x = _inputs(rng)
    x["mask"][0] = 0.0
    x["mask"][0, 2] = 1.0  # an event with a single particle: fewer than k neighbours
    reference = _predict(model, x)
    perm = rng.permutation(x["particles"].shape[1])
    shuffled = dict(x, particles=x["particles"][:, perm], mask=x["mask"][:, perm])
    np.testing.assert_allclose(_predict(model, shuffled), reference, rtol=1e-5, atol=1e-6)
    # Five extra padded slots with garbage features: masked out, so no change.
    extra = rng.normal(size=(6, 5, 4)).astype(np.float32)
    padded = dict(
        x,
        particles=np.concatenate([x["particles"], extra], axis=1),
        mask=np.concatenate([x["mask"], np.zeros((6, 5), np.float32)], axis=1),
    )
    np.testing.assert_allclose(_predict(model, padded), reference, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "spec",
    [ModelSpec("pfn"), ModelSpec("pet", units=16, layers=1), ModelSpec("mlp", hidden=(8, 8))],
)
def test_keras_round_trip_gives_identical_outputs(tmp_path, spec):
    rng = np.random.default_rng(1)
    model = spec.build(4, 3)
    x = _inputs(rng)
    if spec.kind == "mlp":
        x = {"globals": x["globals"]}
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    np.testing.assert_array_equal(_predict(reloaded, x), _predict(model, x))
    # Config round trip: a model rebuilt from get_config() with the same weights agrees.
    rebuilt = keras.Model.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_array_equal(_predict(rebuilt, x), _predict(model, x))


def test_invalid_specs_are_named():
    with pytest.raises(ConfigError, match="kind='cnn'"):
        ModelSpec("cnn")
    with pytest.raises(ConfigError, match="hidden=.*positive"):
        ModelSpec("mlp", hidden=(8, 0))
    with pytest.raises(ConfigError, match="needs event-level features"):
        build_mlp(0)
    with pytest.raises(ConfigError, match="coordinate features"):
        build_pet(2)


@pytest.mark.parametrize("kind", ["pfn", "pet"])
@pytest.mark.parametrize("mode", ["event", "particle"])
def test_parameterized_set_networks_use_theta_and_stay_invariant(tmp_path, kind, mode):
    rng = np.random.default_rng(4)
    keras.utils.set_random_seed(1)
    model = ModelSpec(kind, theta_mode=mode, units=16, layers=1).build(4, 3, 2)
    x = _inputs(rng)
    x["theta"] = rng.normal(size=(6, 2)).astype(np.float32)
    reference = _predict(model, x)
    other = dict(x, theta=x["theta"] + 1.0)
    assert np.abs(_predict(model, other) - reference).max() > 1e-4  # theta matters
    perm = rng.permutation(x["particles"].shape[1])
    shuffled = dict(x, particles=x["particles"][:, perm], mask=x["mask"][:, perm])
    np.testing.assert_allclose(_predict(model, shuffled), reference, rtol=1e-4, atol=1e-5)
    model.save(tmp_path / "m.keras")
    np.testing.assert_array_equal(_predict(keras.models.load_model(tmp_path / "m.keras"), x),
                                  reference)


def test_efn_is_infrared_and_collinear_safe():
    from hepnnlr.models import build_efn

    rng = np.random.default_rng(7)
    keras.utils.set_random_seed(3)
    model = build_efn(3, 0, energy_index=0, angular_indices=(1, 2))
    z = rng.random((4, 5)).astype(np.float32)
    angles = rng.normal(size=(4, 5, 2)).astype(np.float32)
    particles = np.concatenate([z[..., None], angles], axis=-1)
    mask = np.ones((4, 5), np.float32)
    reference = _predict(model, {"particles": particles, "mask": mask})
    # Collinear split: particle 0 becomes two particles at the same angles with z/2 each.
    split = particles[:, :1].copy()
    split[..., 0] /= 2
    collinear = np.concatenate([split, split, particles[:, 1:]], axis=1)
    out = _predict(model, {"particles": collinear, "mask": np.ones((4, 6), np.float32)})
    np.testing.assert_allclose(out, reference, rtol=1e-5, atol=1e-6)
    # Infrared: an extra particle with z = 0 anywhere changes nothing.
    soft = np.concatenate([particles, np.array([[[0.0, 3.0, -2.0]]] * 4, np.float32)], axis=1)
    out = _predict(model, {"particles": soft, "mask": np.ones((4, 6), np.float32)})
    np.testing.assert_allclose(out, reference, rtol=1e-5, atol=1e-6)
    with pytest.raises(ConfigError, match="must be distinct"):
        build_efn(3, energy_index=1, angular_indices=(1, 2))


def test_standardizer_keeps_named_features(tmp_path):
    from hepnnlr.errors import ConfigError as Err
    from hepnnlr.tensors import EventTensors, Standardizer

    rng = np.random.default_rng(2)
    t = EventTensors(rng.random((10, 3, 2)).astype(np.float32), np.ones((10, 3), bool),
                     None, ("z", "eta"))
    scaler = Standardizer.fit(t, keep=("z",))
    assert scaler.particle_mean[0] == 0.0 and scaler.particle_scale[0] == 1.0
    np.testing.assert_array_equal(scaler.transform(t).particles[..., 0], t.particles[..., 0])
    with pytest.raises(Err, match="not features"):
        Standardizer.fit(t, keep=("pt_frac",))


def test_pet_multiplicity_is_invariant_and_round_trips(tmp_path):
    from hepnnlr.models.layers import Multiplicity

    rng = np.random.default_rng(3)
    keras.utils.set_random_seed(3)
    model = ModelSpec("pet", units=16, layers=1, heads=2, multiplicity=True).build(4, 3)
    x = _inputs(rng)
    reference = _predict(model, x)
    perm = rng.permutation(x["particles"].shape[1])
    shuffled = dict(x, particles=x["particles"][:, perm], mask=x["mask"][:, perm])
    np.testing.assert_allclose(_predict(model, shuffled), reference, rtol=1e-5, atol=1e-6)
    padded = dict(x, particles=np.pad(x["particles"], ((0, 0), (0, 4), (0, 0))),
                  mask=np.pad(x["mask"], ((0, 0), (0, 4))))
    np.testing.assert_allclose(_predict(model, padded), reference, rtol=1e-5, atol=1e-6)
    counts = x["mask"].sum(axis=1, keepdims=True)
    np.testing.assert_allclose(Multiplicity()(x["mask"]), np.log1p(counts), rtol=1e-6)
    model.save(tmp_path / "pet.keras")
    reloaded = keras.models.load_model(tmp_path / "pet.keras")
    np.testing.assert_array_equal(_predict(reloaded, x), reference)
    with pytest.raises(ConfigError, match="multiplicity applies to kind='pet'"):
        ModelSpec("pfn", multiplicity=True)


@pytest.mark.parametrize("class_attention", ["full", "token"])
def test_pet_layer_scale_and_stacked_edges_are_invariant_and_round_trip(tmp_path,
                                                                        class_attention):
    from hepnnlr.models.pet import MaskedSelfAttention

    rng = np.random.default_rng(5)
    keras.utils.set_random_seed(5)
    # A large layer scale (0.5, not the usual 1e-3) so the scaled branches move the logit
    # well above the float32 tolerances of the invariance checks.
    model = ModelSpec("pet", units=16, layers=1, heads=2, class_layers=2, layer_scale=0.5,
                      local_layers=2, embed_hidden=(8,), multiplicity=True,
                      class_attention=class_attention).build(4, 3)
    names = {layer.name for layer in model.layers}
    assert {"knn_edges", "knn_edges_1", "class_transformer_1", "embed_hidden_0"} <= names
    assert model.get_layer("class_transformer_1").token_only == (class_attention == "token")
    gammas = [w for w in model.weights if "/gamma_" in w.path]
    assert len(gammas) == 2 * 3  # two branches in each of the three blocks
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(gammas[0]), np.full(16, 0.5))
    x = _inputs(rng)
    x["mask"][0] = 0.0
    x["mask"][0, 2] = 1.0  # a single particle: fewer than k neighbours in both kNN layers
    reference = _predict(model, x)
    perm = rng.permutation(x["particles"].shape[1])
    shuffled = dict(x, particles=x["particles"][:, perm], mask=x["mask"][:, perm])
    np.testing.assert_allclose(_predict(model, shuffled), reference, rtol=1e-5, atol=1e-6)
    extra = rng.normal(size=(6, 5, 4)).astype(np.float32)  # garbage in padded slots
    padded = dict(x, particles=np.concatenate([x["particles"], extra], axis=1),
                  mask=np.concatenate([x["mask"], np.zeros((6, 5), np.float32)], axis=1))
    np.testing.assert_allclose(_predict(model, padded), reference, rtol=1e-5, atol=1e-6)
    # The scale acts: all gammas at 0 turn every block into the identity, another logit.
    weights = model.get_weights()
    for gamma in gammas:
        gamma.assign(np.zeros(16, np.float32))
    assert np.abs(_predict(model, x) - reference).max() > 1e-4
    model.set_weights(weights)
    model.save(tmp_path / "pet.keras")
    reloaded = keras.models.load_model(tmp_path / "pet.keras")
    np.testing.assert_array_equal(_predict(reloaded, x), reference)
    rebuilt = keras.Model.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_array_equal(_predict(rebuilt, x), reference)
    # A block config written before the option existed (no "layer_scale") still loads.
    config = model.get_layer("transformer_0").get_config()
    assert config["layer_scale"] == 0.5
    del config["layer_scale"]
    assert MaskedSelfAttention.from_config(config).layer_scale is None


def test_pet_defaults_have_no_layer_scale_or_stacked_edges():
    model = ModelSpec("pet", units=16, layers=1, heads=2).build(4, 0)
    assert not [w for w in model.weights if "/gamma_" in w.path]
    assert "knn_edges_1" not in {layer.name for layer in model.layers}


def test_invalid_pet_options_are_named():
    with pytest.raises(ConfigError, match="layer_scale=0.001 applies to kind='pet'"):
        ModelSpec("pfn", layer_scale=1e-3)
    with pytest.raises(ConfigError, match="local_layers=2 applies to kind='pet'"):
        ModelSpec("mlp", local_layers=2)
    with pytest.raises(ConfigError, match="local_layers=0 must be an integer >= 1"):
        ModelSpec("pet", local_layers=0)
    with pytest.raises(ConfigError, match="class_layers=1.5 must be an integer"):
        ModelSpec("pet", class_layers=1.5)
    with pytest.raises(ConfigError, match="layer_scale=-1.0 must be a positive"):
        ModelSpec("pet", layer_scale=-1.0)
    with pytest.raises(ConfigError, match="PET local_layers=0"):
        build_pet(4, local_layers=0)
    with pytest.raises(ConfigError, match="PET layer_scale=0.0"):
        build_pet(4, layer_scale=0.0)
    with pytest.raises(ConfigError, match="class_attention='cls'; choose 'full' or 'token'"):
        ModelSpec("pet", class_attention="cls")
    with pytest.raises(ConfigError, match="embed_hidden=.*positive"):
        ModelSpec("pet", embed_hidden=(0,))
