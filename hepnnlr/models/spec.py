"""A frozen description of a network, so a method can build fresh copies of it."""

from __future__ import annotations

from dataclasses import dataclass

from hepnnlr.errors import ConfigError

__all__ = ["ModelSpec"]

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

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ConfigError(f"ModelSpec.kind={self.kind!r}; choose one of {_KINDS}.")
        for name in ("hidden", "phi"):
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
