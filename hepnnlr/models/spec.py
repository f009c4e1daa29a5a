"""Frozen descriptions of networks, so a method can build fresh copies of them.

No TensorFlow here: a job file or a command line reads these without importing Keras; the
builders import it when a network is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from hepnnlr.errors import ConfigError

if TYPE_CHECKING:  # Keras; imported by build() only
    from hepnnlr.models.flows import ConditionalMAF

__all__ = ["FlowSpec", "ModelSpec"]

_KINDS = ("mlp", "pfn", "efn", "pet")


@dataclass(frozen=True)
class ModelSpec:
    """Which network to build and how large.

    Attributes:
        kind: ``"mlp"`` (event features only), ``"pfn"`` (particle sets, with the event
            features concatenated after the sum when there are any) or ``"pet"`` (the
            point-edge transformer, :func:`hepnnlr.models.pet.build_pet`).
        hidden: MLP hidden sizes, or the PFN's F network (after the sum), or PET's head.
        phi: PFN per-particle network sizes; the last one is the latent dimension.
        units, k, layers, heads: PET embedding width, neighbours, transformer layers and
            attention heads (unused by the other kinds).
        theta_mode: Where parameters θ enter the set networks: ``"event"`` or
            ``"particle"`` (an MLP and an EFN take them with the event features).
        energy_index, angular_indices: EFN particle features: the energy fraction and
            the angles Φ sees (:func:`hepnnlr.models.efn.build_efn`).
        multiplicity: PET only: give the head the number of real particles
            (``log(1 + n)``, :func:`hepnnlr.models.pet.build_pet`).
        class_layers: PET only: transformer layers after the class token is added.
        layer_scale: PET only: initial per-channel scale of the transformer blocks'
            residual branches (LayerScale); ``None``: unscaled.
        local_layers: PET only: stacked kNN edge embeddings (the later ones on the
            learned features).
        embed_hidden: PET only: hidden GELU layers of the per-particle embedding.
        class_attention: PET only: ``"full"`` class layers over token and particles, or
            ``"token"`` (only the class token is updated).
        activation: Hidden-layer activation.
        dropout: Dropout rate after each hidden layer.
    """

    kind: str = "pfn"
    hidden: tuple[int, ...] = (64, 64)
    phi: tuple[int, ...] = (64, 64, 64)
    activation: str = "relu"
    dropout: float = 0.0
    units: int = 64
    k: int = 5
    layers: int = 2
    heads: int = 4
    theta_mode: str = "event"
    energy_index: int = 0
    angular_indices: tuple[int, ...] = (1, 2)
    multiplicity: bool = False
    class_layers: int = 1
    layer_scale: float | None = None
    local_layers: int = 1
    embed_hidden: tuple[int, ...] = ()
    class_attention: str = "full"

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ConfigError(f"ModelSpec.kind={self.kind!r}; choose one of {_KINDS}.")
        for name in ("hidden", "phi", "embed_hidden"):
            sizes = getattr(self, name)
            if any(int(s) <= 0 for s in sizes):
                raise ConfigError(f"ModelSpec.{name}={sizes}: layer sizes must be positive.")
        if self.kind == "pfn" and not self.phi:
            raise ConfigError("ModelSpec.phi must name at least one layer for a PFN.")
        if self.theta_mode not in ("event", "particle"):
            raise ConfigError(
                f"ModelSpec.theta_mode={self.theta_mode!r}; choose 'event' or 'particle'."
            )
        if self.multiplicity and self.kind != "pet":
            raise ConfigError(
                f"ModelSpec.multiplicity applies to kind='pet' only (got kind={self.kind!r}); "
                "a PFN's or EFN's sum already carries the multiplicity."
            )
        pet_defaults = {
            "class_layers": 1,
            "layer_scale": None,
            "local_layers": 1,
            "embed_hidden": (),
            "class_attention": "full",
        }
        for name, default in pet_defaults.items():
            if getattr(self, name) != default and self.kind != "pet":
                raise ConfigError(
                    f"ModelSpec.{name}={getattr(self, name)!r} applies to kind='pet' only "
                    f"(got kind={self.kind!r}); leave it at {default!r}."
                )
        for name in ("class_layers", "local_layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"ModelSpec.{name}={value!r} must be an integer >= 1.")
        if self.class_attention not in ("full", "token"):
            raise ConfigError(
                f"ModelSpec.class_attention={self.class_attention!r}; choose 'full' or 'token'."
            )
        if self.layer_scale is not None and not (
            isinstance(self.layer_scale, (int, float)) and self.layer_scale > 0
        ):
            raise ConfigError(
                f"ModelSpec.layer_scale={self.layer_scale!r} must be a positive number "
                "(e.g. 1e-3) or None."
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"ModelSpec.dropout={self.dropout} must be in [0, 1).")

    def build(self, n_particle_features: int, n_global_features: int, n_theta: int = 0):
        """Build a fresh, randomly initialized Keras model for these input sizes."""
        from hepnnlr.models.efn import build_efn
        from hepnnlr.models.mlp import build_mlp
        from hepnnlr.models.pet import build_pet
        from hepnnlr.models.pfn import build_pfn

        if self.kind == "mlp":
            return build_mlp(
                n_global_features,
                n_theta,
                hidden=self.hidden,
                activation=self.activation,
                dropout=self.dropout,
            )
        if self.kind == "efn":
            return build_efn(
                n_particle_features,
                n_global_features,
                n_theta,
                energy_index=self.energy_index,
                angular_indices=self.angular_indices,
                phi=self.phi,
                hidden=self.hidden,
                activation=self.activation,
            )
        if self.kind == "pet":
            return build_pet(
                n_particle_features,
                n_global_features,
                n_theta,
                theta_mode=self.theta_mode,
                units=self.units,
                k=self.k,
                layers=self.layers,
                heads=self.heads,
                hidden=self.hidden,
                multiplicity=self.multiplicity,
                class_layers=self.class_layers,
                layer_scale=self.layer_scale,
                local_layers=self.local_layers,
                embed_hidden=self.embed_hidden,
                class_attention=self.class_attention,
            )
        return build_pfn(
            n_particle_features,
            n_global_features,
            n_theta,
            theta_mode=self.theta_mode,
            phi=self.phi,
            hidden=self.hidden,
            activation=self.activation,
            dropout=self.dropout,
        )


@dataclass(frozen=True)
class FlowSpec:
    """A conditional MAF recipe.

    Attributes:
        layers: Number of MADE affine layers.
        hidden: Hidden sizes of each MADE.
        log_scale_bound: Soft clamp of the log-scales.
        activation: Hidden activation.
    """

    layers: int = 5
    hidden: tuple[int, ...] = (64, 64)
    log_scale_bound: float = 5.0
    activation: str = "relu"

    def __post_init__(self) -> None:
        if int(self.layers) < 1:
            raise ConfigError(f"FlowSpec.layers={self.layers} must be >= 1.")
        if not self.hidden or any(int(h) < 1 for h in self.hidden):
            raise ConfigError(f"FlowSpec.hidden={self.hidden}: give positive layer sizes.")
        if not self.log_scale_bound > 0:
            raise ConfigError(f"FlowSpec.log_scale_bound={self.log_scale_bound} must be > 0.")

    def build(self, n_features: int, n_context: int) -> ConditionalMAF:
        """A fresh flow; built (weights created) by one call on zeros."""
        from hepnnlr.models.flows import ConditionalMAF  # Keras: only when a flow is built

        if n_features < 1:
            raise ConfigError(f"a flow needs at least one feature; got {n_features}.")
        flow = ConditionalMAF(
            n_features, n_context, self.layers, self.hidden, self.log_scale_bound, self.activation
        )
        flow(
            {
                "x": np.zeros((1, n_features), np.float32),
                "context": np.zeros((1, n_context), np.float32),
            }
        )
        return flow
