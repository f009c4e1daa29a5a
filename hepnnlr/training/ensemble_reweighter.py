"""Several saved reweighters as one event weight with up/down variations.

The members are reweighters trained for the same ratio with other seeds (an ensemble,
OmniFold's parallel runs) or on bootstrap replicas of the data. Their mean (or median) is
the nominal weight; their per-event standard deviation gives ``nominal +- spread``, in the
form ``coffea.analysis_tools.Weights.add(name, nominal, weightUp=up, weightDown=down)``
takes. Pickles through the members' bytes (:meth:`SavedReweighter.to_bytes`), so a coffea
processor holding an ensemble ships it to dask workers without a shared path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError
from hepnnlr.training.ensemble import AGGREGATIONS, aggregate_weights
from hepnnlr.training.saved import SavedReweighter

__all__ = ["ReweighterEnsemble"]


@dataclass
class ReweighterEnsemble:
    """Saved reweighters combined into a nominal weight and its spread.

    Attributes:
        members: The reweighters (same inputs, same ratio).
        aggregation: How the members combine (:data:`hepnnlr.training.AGGREGATIONS`).
        scale: Constant factor on every weight. Each member's weights are also
            multiplied by its own ``meta["scale"]`` where it has one (the normalization
            factor of an OmniFold step that ``hepnnlr unfold`` saves; 1 otherwise).
    """

    members: Sequence[SavedReweighter]
    aggregation: str = "mean"
    scale: float = 1.0

    def __post_init__(self) -> None:
        self.members = list(self.members)
        if not self.members:
            raise ConfigError("ReweighterEnsemble needs at least one member reweighter.")
        if self.aggregation not in AGGREGATIONS:
            raise ConfigError(
                f"ReweighterEnsemble.aggregation={self.aggregation!r} is not one of {AGGREGATIONS}."
            )
        if len({m.level for m in self.members}) > 1:
            raise ConfigError(
                "ReweighterEnsemble members read different levels "
                f"{sorted({m.level for m in self.members})}; combine reweighters of one ratio."
            )

    @classmethod
    def load(cls, directories: Iterable[str | Path], **kwargs) -> ReweighterEnsemble:
        """Members from directories written by :meth:`SavedReweighter.save`."""
        return cls([SavedReweighter.load(d) for d in directories], **kwargs)

    def member_weights(self, columns: ak.Array, select: np.ndarray | None = None) -> np.ndarray:
        """``(members, events)`` weights times each member's ``meta["scale"]`` and
        :attr:`scale`; 1 outside ``select``."""
        weights = np.stack(
            [m.weights(columns, select) * float(m.meta.get("scale", 1.0)) for m in self.members]
        )
        weights *= self.scale
        if select is not None:
            weights[:, ~np.asarray(select, bool)] = 1.0
        return weights

    def weights(self, columns: ak.Array, select: np.ndarray | None = None) -> np.ndarray:
        """The nominal per-event weight (the members' aggregate)."""
        return self.variations(columns, select)[0]

    def variations(
        self, columns: ak.Array, select: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(nominal, up, down)``: the aggregate and ``aggregate +- std`` of the members.

        With one member, up and down equal the nominal. ``down`` can be negative where
        the spread exceeds the nominal weight; it is returned as computed.
        """
        nominal, spread = aggregate_weights(self.member_weights(columns, select), self.aggregation)
        return nominal, nominal + spread, nominal - spread
