"""DCTR on real Pythia Z → jets events: generator → ROOT → coffea processor → reweighter.

The path of ``examples/srgn_zjets.py`` (Table III of the SRGN paper) on a tiny sample: a
reweighter trained between a Monash sample and generator runs with α_s drawn per block must
take the nominal jet multiplicity to that of a sample generated at a higher α_s.
"""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepnnlr.methods.dctr import DCTRConfig, DCTRReweighter, with_theta
from hepnnlr.processors.zjets import ZJetsProcessor, collect_columns
from hepnnlr.samples.zjets import ZJetsTheta, make_zjets_sample
from hepnnlr.schema import run_processor
from hepnnlr.tensors import EventTensors
from hepnnlr.training import TrainingConfig
from hepnnlr.weighted import mean_uncertainty

pytestmark = pytest.mark.slow  # ~1-2 min: Pythia, jet clustering and a network training

N_EVENTS = 4000
ALPHA_S_RANGE = (0.12, 0.18)
ALPHA_S_HIGH = 0.165
CENTER, HALF = 0.15, 0.03  # the network sees u = (alpha_s - CENTER) / HALF in [-1, 1]


def _multiplicity(path) -> tuple[np.ndarray, np.ndarray]:
    """Constituents of the two leading gen jets per event, and the θ column α_s."""
    columns = collect_columns(run_processor(ZJetsProcessor(), {"z": [path]}, progress=False))
    total = sum(ak.fill_none(columns.gen[slot].multiplicity, 0) for slot in ("jet1", "jet2"))
    return ak.to_numpy(total).astype(np.float64), ak.to_numpy(columns.theta_alphaS)


def _events(values: np.ndarray) -> EventTensors:
    scaled = (values - 25.0) / 6.0  # mean and spread of the Monash multiplicity, roughly
    return EventTensors(None, None, scaled.astype(np.float32).reshape(-1, 1), (),
                        ("multiplicity",))


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    folder = tmp_path_factory.mktemp("zjets_dctr")
    files = {
        "nominal": make_zjets_sample(folder / "nominal.root", n_events=N_EVENTS, seed=1,
                                     progress=False),
        "varied": make_zjets_sample(folder / "varied.root", n_events=2 * N_EVENTS, seed=2,
                                    theta_ranges={"alphaS": ALPHA_S_RANGE}, block_size=250,
                                    progress=False),
        "high": make_zjets_sample(folder / "high.root", n_events=N_EVENTS, seed=3,
                                  theta=ZJetsTheta(alphaS=ALPHA_S_HIGH), progress=False),
    }
    return {name: _multiplicity(path) for name, path in files.items()}


def test_varied_runs_cover_the_range(samples) -> None:
    _, alpha_s = samples["varied"]
    assert len(np.unique(alpha_s)) == 2 * N_EVENTS // 250  # one generator run per block
    assert ALPHA_S_RANGE[0] <= alpha_s.min() and alpha_s.max() <= ALPHA_S_RANGE[1]


def test_reweighter_moves_multiplicity_to_higher_alpha_s(samples) -> None:
    nominal, _ = samples["nominal"]
    varied, alpha_s = samples["varied"]
    high, _ = samples["high"]
    varied_events = with_theta(_events(varied), ((alpha_s - CENTER) / HALF).reshape(-1, 1),
                               ("alphaS",))
    config = DCTRConfig(training=TrainingConfig(epochs=30, batch_size=500, patience=4, seed=3))
    reweighter = DCTRReweighter.train(_events(nominal), varied_events, config)
    weights = reweighter.weights(_events(nominal), (ALPHA_S_HIGH - CENTER) / HALF)

    reweighted = np.average(nominal, weights=weights)
    sigma_shift = np.hypot(mean_uncertainty(nominal), mean_uncertainty(high))
    # The samples differ: a higher alpha_s radiates more (the effect Table III fits).
    assert high.mean() - nominal.mean() > 5 * sigma_shift
    # Reweighted nominal = high-alpha_s sample within the statistical error of the two
    # means (the weighted one with its weights' spread); 4 sigma leaves room for the
    # reweighter's own training fluctuation, which this error does not include.
    sigma = np.hypot(mean_uncertainty(nominal, weights), mean_uncertainty(high))
    assert reweighted == pytest.approx(high.mean(), abs=4 * sigma)
