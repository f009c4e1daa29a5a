from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepnnlr.errors import MissingBranchError, ShapeMismatchError
from hepnnlr.tensors import EventTensors, Standardizer, from_awkward

LEVEL = ak.Array(
    [
        {"Q2": 200.0, "y": 0.2, "particles": [{"pt": 1.0}, {"pt": 3.0}]},
        {"Q2": None, "y": None, "particles": []},
        {"Q2": 400.0, "y": 0.4, "particles": [{"pt": 5.0}]},
    ]
)


def test_from_awkward_selects_rows_without_dropping_them():
    t = from_awkward(
        LEVEL, particle_features=["pt"], global_features=["Q2", "y"],
        select=np.array([True, False, True]),
    )
    assert len(t) == 3
    np.testing.assert_allclose(t.globals, [[200, 0.2], [0, 0], [400, 0.4]], rtol=1e-6)
    assert not t.mask[1].any()


def test_missing_event_feature_in_selected_event_is_named():
    with pytest.raises(MissingBranchError, match="'Q2' of sim is missing.*first at event 1"):
        from_awkward(LEVEL, global_features=["Q2"], where="sim")


def test_globals_and_particles_must_describe_the_same_events():
    with pytest.raises(ShapeMismatchError, match="particles describe 2 events but globals 3"):
        EventTensors(np.zeros((2, 1, 1)), np.ones((2, 1), bool), np.zeros((3, 1)), ("a",), ("g",))


def test_concatenate_pads_to_the_widest():
    a = EventTensors(np.ones((1, 2, 1), np.float32), np.ones((1, 2), bool), None, ("a",))
    b = EventTensors(np.ones((2, 3, 1), np.float32), np.ones((2, 3), bool), None, ("a",))
    c = EventTensors.concatenate([a, b])
    assert c.particles.shape == (3, 3, 1)
    np.testing.assert_array_equal(c.mask.sum(axis=1), [2, 3, 3])


def test_standardizer_ignores_padding_and_round_trips(tmp_path):
    t = from_awkward(LEVEL, particle_features=["pt"], global_features=["Q2"],
                     select=np.array([True, False, True]))
    selected = t.subset(np.array([True, False, True]))
    scaler = Standardizer.fit(selected)
    # Real particles: 1, 3, 5 -> mean 3, population std sqrt(8/3).
    assert scaler.particle_mean == pytest.approx((3.0,))
    assert scaler.particle_scale == pytest.approx((np.sqrt(8 / 3),))
    out = scaler.transform(t)
    assert out.particles[1].sum() == 0 and out.particles[2, 1, 0] == 0  # padding stays zero
    real = out.particles[out.mask]
    assert real.mean() == pytest.approx(0, abs=1e-6) and real.std() == pytest.approx(1, rel=1e-6)
    scaler.save(tmp_path / "s.json")
    assert Standardizer.load(tmp_path / "s.json") == scaler
