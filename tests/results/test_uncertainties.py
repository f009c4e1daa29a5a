from __future__ import annotations

import hist
import numpy as np
import pytest

from hepnnlr.errors import ConfigError, ShapeMismatchError
from hepnnlr.results import with_uncertainties


def _central():
    h = hist.Hist(hist.axis.Regular(3, 0, 3), storage=hist.storage.Weight())
    h.fill([0.5, 1.5, 1.5, 2.5], weight=[1.0, 2.0, 2.0, 3.0])
    return h


def test_variances_add_statistical_and_model_spreads():
    bootstrap = np.array([[1.0, 4.0, 3.0], [3.0, 4.0, 3.0]])  # std (ddof 1): sqrt2, 0, 0
    members = np.array([[1.0, 2.0, 3.0], [1.0, 6.0, 3.0]])  # std: 0, 2 sqrt2, 0
    out = with_uncertainties(_central(), bootstrap=bootstrap, members=members)
    np.testing.assert_allclose(out.statistical, [np.sqrt(2), 0, 0])
    np.testing.assert_allclose(out.model, [0, 2 * np.sqrt(2), 0])
    np.testing.assert_allclose(out.histogram.variances(), [2.0, 8.0, 0.0])
    np.testing.assert_array_equal(out.histogram.values(), _central().values())


def test_bad_shapes_are_named():
    with pytest.raises(ShapeMismatchError, match="bootstrap must be"):
        with_uncertainties(_central(), bootstrap=np.ones((2, 4)))
    with pytest.raises(ConfigError, match="at least two passes"):
        with_uncertainties(_central(), members=np.ones((1, 3)))
