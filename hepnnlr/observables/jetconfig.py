"""Jet definitions: FastJet's algorithms by name and :class:`JetConfig`, validated.

A :class:`JetConfig` names the algorithm, radius, power and which jets to keep (inclusive
above ``pt_min``, or exclusive: ``n_jets`` per event or down to ``dcut``) and refuses
combinations FastJet would reject or that are not meaningful, with the fix in the message;
:meth:`JetConfig.jet_definition` builds the FastJet ``JetDefinition`` (Cacciari, Salam &
Soyez, "FastJet user manual", Eur. Phys. J. C72 (2012) 1896, arXiv:1111.6097). The
clustering itself is :mod:`hepnnlr.observables.jets` (which re-exports both names).

Algorithms (:data:`JET_ALGORITHMS`), with E-scheme recombination:

* hadron colliders, at finite R: ``"kt"`` (Catani et al., Nucl. Phys. B406 (1993) 187;
  Ellis & Soper, PRD 48 (1993) 3160), ``"cambridge"`` (Cambridge/Aachen), ``"antikt"``
  (Cacciari, Salam & Soyez, "The anti-k_t jet clustering algorithm", JHEP 04 (2008) 063,
  arXiv:0802.1189) and ``"genkt"`` (power ``p`` of the momentum factor);
* lepton colliders: ``"ee_kt"`` (Durham; exclusive jets only: ``n_jets`` or ``dcut``) and
  ``"ee_genkt"`` (radius R and power ``p``).

The default, kT with R = 1.0 and pT > 5 GeV, is the jet definition of the DIS study (Sec. 3)
of Torales Acosta, Wamorkar, Mikuni & Nachman, "Stabilizing Neural Likelihood Ratio
Estimation", arXiv:2503.20753.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import fastjet

from hepnnlr.errors import ConfigError

__all__ = ["JET_ALGORITHMS", "JetConfig"]

JET_ALGORITHMS: dict[str, int] = {
    "kt": fastjet.kt_algorithm,
    "antikt": fastjet.antikt_algorithm,
    "cambridge": fastjet.cambridge_algorithm,
    "genkt": fastjet.genkt_algorithm,
    "ee_kt": fastjet.ee_kt_algorithm,
    "ee_genkt": fastjet.ee_genkt_algorithm,
}
"""FastJet's jet algorithms by name (module docstring)."""

_NEEDS_P = frozenset({"genkt", "ee_genkt"})
_NO_RADIUS = frozenset({"ee_kt"})
# exclusive jets are defined for algorithms that merge softest-first (FastJet's manual)
_EXCLUSIVE_OK = frozenset({"kt", "cambridge", "ee_kt", "genkt", "ee_genkt"})


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class JetConfig:
    """Jet definition: FastJet algorithm, radius, power, and which jets to keep.

    The default is the jet definition of the DIS study of arXiv:2503.20753 (module
    docstring): kT, R = 1.0, pT > 5 GeV. Importable from :mod:`hepnnlr.observables.jets` too.

    Args:
        algorithm: One of :data:`JET_ALGORITHMS`.
        radius: Jet radius R (also the N-subjettiness normalization R0); not used by
            ``"ee_kt"``.
        pt_min: Keep jets with pT >= pt_min (GeV), FastJet's ``inclusive_jets(pt_min)``;
            exclusive jets are kept above it too (set 0 for all of them).
        p: The power of the momentum factor of ``"genkt"`` and ``"ee_genkt"`` (1: kT-like,
            0: Cambridge/Aachen-like, −1: anti-kT-like); only for those two.
        n_jets: Exclusive clustering into this many jets per event (all particles of an
            event with fewer), FastJet's ``exclusive_jets(n_jets=...)``.
        dcut: Exclusive clustering stopped at this merging scale d_cut (GeV²), FastJet's
            ``exclusive_jets(dcut=...)``. At most one of ``n_jets`` and ``dcut``;
            ``"ee_kt"`` needs one.
    """

    algorithm: str = "kt"
    radius: float = 1.0
    pt_min: float = 5.0
    p: float | None = None
    n_jets: int | None = None
    dcut: float | None = None

    def __post_init__(self) -> None:
        name = self.algorithm
        if name not in JET_ALGORITHMS:
            raise ConfigError(
                f"JetConfig.algorithm={name!r} is not known; use one of {sorted(JET_ALGORITHMS)}."
            )
        if not (_is_number(self.radius) and 0 < self.radius < 10):
            raise ConfigError(f"JetConfig.radius must be a number in (0, 10), got {self.radius!r}.")
        if not (_is_number(self.pt_min) and self.pt_min >= 0):
            raise ConfigError(
                f"JetConfig.pt_min must be a finite number >= 0 GeV, got {self.pt_min!r}."
            )
        if (self.p is None) == (name in _NEEDS_P):
            raise ConfigError(
                f"JetConfig.p={self.p!r} with algorithm={name!r}: p (the power of the "
                f"momentum factor) is needed by {sorted(_NEEDS_P)} and by no other algorithm."
            )
        if self.p is not None and not _is_number(self.p):
            raise ConfigError(f"JetConfig.p must be a finite number, got {self.p!r}.")
        if self.n_jets is not None and (
            isinstance(self.n_jets, bool) or not isinstance(self.n_jets, int) or self.n_jets < 1
        ):
            raise ConfigError(
                f"JetConfig.n_jets must be None or an integer >= 1, got {self.n_jets!r}."
            )
        if self.dcut is not None and not (_is_number(self.dcut) and self.dcut >= 0):
            raise ConfigError(f"JetConfig.dcut must be None or a number >= 0, got {self.dcut!r}.")
        if self.n_jets is not None and self.dcut is not None:
            raise ConfigError(
                f"JetConfig: n_jets={self.n_jets!r} and dcut={self.dcut!r} both given; "
                "exclusive jets take one of them."
            )
        if self.exclusive and not (name in _EXCLUSIVE_OK and (self.p is None or self.p >= 0)):
            raise ConfigError(
                f"JetConfig: exclusive jets (n_jets or dcut) with algorithm={name!r}"
                f"{'' if self.p is None else f', p={self.p}'} are not meaningful: its "
                "clustering does not merge softest first. Use kt, cambridge, ee_kt, or "
                "genkt / ee_genkt with p >= 0."
            )
        if name in _NO_RADIUS and not self.exclusive:
            raise ConfigError(
                "JetConfig(algorithm='ee_kt') clusters every event into one jet unless it is "
                "stopped: give n_jets (e.g. 2) or dcut."
            )

    @property
    def exclusive(self) -> bool:
        """Whether the jets are exclusive (``n_jets`` or ``dcut`` given)."""
        return self.n_jets is not None or self.dcut is not None

    def jet_definition(self) -> fastjet.JetDefinition:
        """The FastJet ``JetDefinition`` (E-scheme recombination)."""
        algorithm = JET_ALGORITHMS[self.algorithm]
        if self.algorithm in _NO_RADIUS:
            # the fastjet package's JetDefinition always takes an R; nparameters = 0 tells
            # FastJet that this algorithm has none (it refuses an R otherwise)
            return fastjet.JetDefinition(algorithm, 1.0, fastjet.E_scheme, fastjet.Best, 0)
        if self.p is not None:
            return fastjet.JetDefinition(algorithm, float(self.radius), float(self.p))
        return fastjet.JetDefinition(algorithm, float(self.radius))
