"""A generative surrogate of calorimeter shower *images* for DCTRGAN (Sec. III B of
Diefenbacher, Eren, Kasieczka, Korol, Nachman, Shih, *DCTRGAN: Improving the Precision of
Generative Models with Reweighting*, JINST 15 (2020) P11004, arXiv:2009.03796).

arXiv:2009.03796 reweights BIB-AE/GAN images of 50 GeV photon showers (30 × 30 × 30 cells)
towards Geant4. A 27,000-cell image generator does not train on a shared CPU, so
:class:`CaloSurrogate` generates images in two steps (see
:mod:`hepnnlr.samples.calo_surrogate`):

1. a GAN (:mod:`hepnnlr.models.gan`, :func:`hepnnlr.training.gan.train_gan`) learns the
   joint distribution of a six-number description of each reference shower, measured
   from its cells (log visible energy, shifted-Gamma longitudinal profile t0/ln α/ln β,
   impact point), with the moment fit's own noise taken out of the profile;
2. a stochastic renderer (:class:`~hepnnlr.samples.calo_surrogate.ShowerRenderer`,
   calibrated on the reference) turns each generated description into cells with
   spots, cell noise and the 0.1 MeV threshold.

The generated showers have the reference's sparse layout, so they are written to ROOT
(:meth:`CaloSurrogate.write`) and read through the coffea ``CaloProcessor``, and both
DCTRGAN reweighters (high-level features, low-level images) apply unchanged.

Example:
    >>> surrogate = train_calo_surrogate(reference_events, seed=1)  # doctest: +SKIP
    >>> showers = surrogate.generate(10_000, seed=2)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError, EmptySelectionError, MissingBranchError
from hepnnlr.models.gan import GANSpec
from hepnnlr.samples.calo import ShowerConfig
from hepnnlr.samples.calo_io import write_calo_events
from hepnnlr.samples.calo_surrogate import DESCRIPTION_NAMES, ShowerRenderer
from hepnnlr.training.gan import GANConfig, TrainedGAN, train_gan

__all__ = ["SURROGATE_GAN", "CaloSurrogate", "train_calo_surrogate"]

SURROGATE_GAN = GANSpec(latent_dim=8, generator_hidden=(64, 64),
                        discriminator_hidden=(64, 64), activation="relu")
"""Default networks of the description GAN (6 features; latent 8, 2 × 64 each)."""


@dataclass
class CaloSurrogate:
    """A trained description GAN and its calibrated renderer.

    Attributes:
        gan: generator of the six-number descriptions (``DESCRIPTION_NAMES``).
        renderer: turns descriptions into cells.
    """

    gan: TrainedGAN
    renderer: ShowerRenderer

    def descriptions(self, n: int, *, seed: int) -> np.ndarray:
        """``(n, 6)`` generated descriptions (the same ``seed`` gives the same ones)."""
        return self.gan.sample(n, seed=seed)

    def generate(self, n: int, *, seed: int) -> ak.Array:
        """``n`` generated showers in the layout of ``generate_calo`` (a shower may have no
        cell, as in the reference). Seeded: the same ``seed`` gives the same showers."""
        description = self.descriptions(n, seed=seed)
        return self.renderer.render(description, seed=seed + 1_000_003)

    def write(
        self, path: str | os.PathLike[str], n: int, *, seed: int, tree: str = "events"
    ) -> Path:
        """Generate ``n`` showers and write them to the ROOT file ``path`` (replaced)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_calo_events(path, self.generate(n, seed=seed), tree)


def train_calo_surrogate(
    reference: ak.Array,
    *,
    seed: int,
    spec: GANSpec = SURROGATE_GAN,
    config: GANConfig | None = None,
    shower_config: ShowerConfig | None = None,
    calibration_showers: int = 2_000,
) -> CaloSurrogate:
    """Fit the renderer and train the description GAN on reference showers.

    Args:
        reference: reference events (``Hit`` collection), e.g. from ``read_calo_events``;
            showers without cells are left out (they have no description).
        seed: seeds the renderer calibration and, unless ``config`` is given, the GAN.
        spec: GAN sizes.
        config: GAN training; by default 4,000 steps of 256 with Adam at 1e-3, normal latent
            (the setting of ``examples/dctrgan_calo.py --surrogate image-gan``).
        shower_config: grid, spot energy and threshold of the reference.
        calibration_showers: reference showers used to calibrate the renderer.

    Raises:
        MissingBranchError: ``reference`` has no ``Hit`` collection.
        EmptySelectionError: no reference shower with cells.
        ConfigError: a bad ``calibration_showers``.
    """
    if isinstance(calibration_showers, bool) or int(calibration_showers) < 1:
        raise ConfigError(
            f"train_calo_surrogate(calibration_showers={calibration_showers!r}) must be >= 1."
        )
    shower_config = ShowerConfig() if shower_config is None else shower_config
    if "Hit" not in ak.fields(reference):
        raise MissingBranchError(
            "train_calo_surrogate needs events with a Hit collection (read_calo_events / "
            f"generate_calo); got fields {ak.fields(reference)}."
        )
    reference = reference[ak.to_numpy(ak.num(reference.Hit, axis=1)) > 0]
    if len(reference) == 0:
        raise EmptySelectionError("train_calo_surrogate: no reference shower has a cell.")
    renderer = ShowerRenderer.calibrated(
        reference[: int(calibration_showers)], shower_config, seed=seed
    )
    description = renderer.describe(reference)
    if config is None:
        config = GANConfig(steps=4_000, batch_size=256, learning_rate=1e-3, seed=seed)
    gan = train_gan(spec, description, config, feature_names=DESCRIPTION_NAMES)
    return CaloSurrogate(gan, renderer)
