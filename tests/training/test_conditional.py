"""The standardization and z-range guard shared by the flow and the parameterized ratio."""

from __future__ import annotations

import numpy as np
import pytest

from hepnnlr.errors import ConfigError
from hepnnlr.training.conditional import Standardization, check_z_in_range, standardize


def test_standardization_maps_the_training_sample_to_zero_mean_unit_width():
    rng = np.random.default_rng(1)
    x = rng.normal([3.0, -1.0], [2.0, 0.5], size=(400, 2))
    z = rng.uniform(0.5, 1.5, 400)
    scales = Standardization.of(("a", "b"), x, z, "test")
    xs, zs = standardize(scales, x, z)
    assert xs.dtype == np.float32 and zs.shape == (400, 1)
    # exact up to float32 rounding (relative 6e-8 of values of order a few)
    np.testing.assert_allclose(xs.mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(xs.std(axis=0), 1.0, atol=1e-6)
    np.testing.assert_allclose([zs.mean(), zs.std()], [0.0, 1.0], atol=1e-6)


def test_a_constant_feature_or_z_is_refused_by_name():
    x = np.column_stack([np.arange(10.0), np.ones(10)])
    with pytest.raises(ConfigError, match=r"net: feature\(s\) \['b'\] are constant"):
        Standardization.of(("a", "b"), x, np.arange(10.0), "net")
    with pytest.raises(ConfigError, match="net: the training events all have the same z"):
        Standardization.of(("a",), x[:, :1], np.ones(10), "net")


def test_z_outside_the_trained_range_is_refused():
    check_z_in_range(np.array([0.5, 1.5]), (0.5, 1.5), "f", "flow")  # edges are inside
    with pytest.raises(ConfigError, match="f: z=1.6 lies outside .* the flow was trained on"):
        check_z_in_range(np.array([1.0, 1.6]), (0.5, 1.5), "f", "flow")
