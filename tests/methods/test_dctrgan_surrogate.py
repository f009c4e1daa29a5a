"""The image surrogate of DCTRGAN's calorimeter study (hepnnlr.methods.calo_surrogate)."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepnnlr.errors import ConfigError, EmptySelectionError, MissingBranchError
from hepnnlr.methods.calo_surrogate import CaloSurrogate, train_calo_surrogate
from hepnnlr.models.gan import GANSpec
from hepnnlr.observables.calo import DCTR_FEATURES
from hepnnlr.processors.calo import CaloProcessor, collect_columns
from hepnnlr.samples.calo import generate_calo, hits_to_images, read_calo_events
from hepnnlr.samples.calo_surrogate import DESCRIPTION_NAMES
from hepnnlr.schema import run_processor
from hepnnlr.training.gan import GANConfig

SMALL = GANSpec(latent_dim=4, generator_hidden=(16,), discriminator_hidden=(16,))
STEPS = GANConfig(steps=20, batch_size=64, seed=3, log_every=10)


@pytest.fixture(scope="module")
def reference() -> ak.Array:
    return generate_calo(300, seed=8)


@pytest.fixture(scope="module")
def surrogate(reference) -> CaloSurrogate:
    return train_calo_surrogate(reference, seed=3, spec=SMALL, config=STEPS,
                                calibration_showers=200)


def test_generated_showers_are_read_by_the_processor(surrogate, tmp_path):
    assert surrogate.gan.feature_names == DESCRIPTION_NAMES
    path = surrogate.write(tmp_path / "gen.root", 120, seed=5)
    events = read_calo_events(path)
    assert len(events) == 120
    images = hits_to_images(events.Hit)
    assert images.shape == (120, 30, 30, 30) and np.isfinite(images).all()
    assert (images[images > 0] >= np.float32(0.1)).all()  # the cell threshold
    columns = collect_columns(run_processor(CaloProcessor(), {"gen": [str(path)]},
                                            progress=False))
    assert len(columns) == 120
    filled = ak.to_numpy(columns.n_hits) > 0
    assert filled.mean() > 0.5  # a 20-step GAN is poor, but most showers have cells
    for name in DCTR_FEATURES:
        assert np.isfinite(ak.to_numpy(columns[name][filled]).astype(float)).all(), name


def test_seeded_training_and_generation(reference, surrogate):
    again = train_calo_surrogate(reference, seed=3, spec=SMALL, config=STEPS,
                                 calibration_showers=200)
    assert again.renderer == surrogate.renderer
    assert again.gan.history == surrogate.gan.history
    a, b = surrogate.generate(50, seed=9), again.generate(50, seed=9)
    assert ak.all(ak.flatten(a.Hit.E) == ak.flatten(b.Hit.E))
    c = surrogate.generate(50, seed=10)
    assert not np.array_equal(surrogate.descriptions(50, seed=9),
                              surrogate.descriptions(50, seed=10))
    assert len(c) == 50


def test_errors(reference):
    with pytest.raises(ConfigError, match="calibration_showers"):
        train_calo_surrogate(reference, seed=1, calibration_showers=0)
    with pytest.raises(MissingBranchError, match="Hit collection"):
        train_calo_surrogate(reference[["event", "E_true"]], seed=1)
    empty = reference[:5]
    empty = ak.with_field(empty, empty.Hit[:, :0], "Hit")
    with pytest.raises(EmptySelectionError, match="no reference shower has a cell"):
        train_calo_surrogate(empty, seed=1)
