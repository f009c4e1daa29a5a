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
