"""e+e− → Z → light-quark dijets with Pythia 8, for parton-shower tuning.

Reference: Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural
Networks in the Presence of Detector Effects", arXiv:2010.03569.

The setup of Sec. III B of arXiv:2010.03569 (after Ref. [39], DCTR): e+e− collisions at
√s = 91.19 GeV, s-channel γ*/Z (``WeakSingleBoson:ffbar2gmZ``) with the Z decaying to
u, d or s quarks only, no photon flux from the leptons (``PDF:lepton = off``) and no
initial-state radiation. Three generator parameters θ are tunable
(:class:`ZJetsTheta`, Monash 2013 defaults): ``TimeShower:alphaSvalue`` (final-state
shower α_s(m_Z)), ``StringZ:aLund`` (Lund fragmentation function a) and
``StringFlav:probStoUD`` (s/u suppression in string breaks).

Stable particles are those with proper lifetime cτ > 10 mm
(``ParticleDecays:limitTau0 = on``, ``ParticleDecays:tau0Max = 10``), the usual
particle-level definition: K0S, Λ, Σ±, Ξ and Ω do not decay, so the number of strange
hadrons can be read off the final state (Sec. III B, Fig. 9 of arXiv:2010.03569).

What is stored per event (:func:`generate_zjets`):

* ``weight``: the Pythia event weight (1, unweighted events);
* ``theta_alphaS``, ``theta_aLund``, ``theta_probStoUD``: the θ the event was generated
  with (constant for a fixed θ; drawn per block with ``theta_ranges``);
* ``GenPart``: every stable final-state particle except neutrinos (pt, eta, phi, E,
  pdgId, charge), pT and η with respect to the e− beam axis (+z).

Reproducibility is that of :mod:`hepnnlr.samples.dis` (whose helpers this module
reuses): events come in blocks of ``block_size``; each block's random stream is reseeded
from ``(seed, block)``, so the output depends on ``seed``, ``block_size`` and the
θ settings only, never on ``workers``. With ``theta_ranges`` each block gets its own θ,
drawn uniformly in the ranges from ``(seed, block)``; a fresh Pythia is initialised
(~0.2 s) with that θ and the init seed before the block is generated, so a block's
events depend on its own θ and seed only.

The detector level (:func:`make_zjets_sample`) reuses the particle-flow emulation of
:mod:`hepnnlr.samples.detector` with :data:`LEP_DETECTOR`.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar

import awkward as ak
import numpy as np
from numpy.typing import NDArray

from hepnnlr.errors import ConfigError
from hepnnlr.samples.blocks import run_blocks
from hepnnlr.samples.detector import (
    DetectorConfig,
    reconstruct_particles,
    with_detector_fields,
)
from hepnnlr.samples.dis import (
    BLOCK_SIZE,
    _BlockGenerator,
    _check_setting_line,
    _check_settings,
    _seeded_blocks,
    setting_lines,
)
from hepnnlr.samples.rootio import (
    COLLECTION_FIELDS,
    DEFAULT_TREE,
    check_event_file,
    read_tree_columns,
    required_branches,
    typed_columns,
    write_tree,
)

__all__ = [
    "LEP_DETECTOR",
    "THETA_LIMITS",
    "ZJETS_BRANCHES",
    "ZJETS_SETTINGS",
    "ZJetsTheta",
    "generate_zjets",
    "make_zjets_sample",
    "read_zjets_events",
    "write_zjets_events",
]

ZJETS_SETTINGS: tuple[str, ...] = (
    "Beams:idA = 11",
    "Beams:idB = -11",
    "Beams:eCM = 91.19",
    "PDF:lepton = off",
    "PartonLevel:ISR = off",
    "WeakSingleBoson:ffbar2gmZ = on",
    "23:onMode = off",
    "23:onIfAny = 1 2 3",
    "ParticleDecays:limitTau0 = on",
    "ParticleDecays:tau0Max = 10",
)
"""Beams, process and stable-particle definition of every Z → light-quark sample."""

_THETA_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "alphaS": "TimeShower:alphaSvalue",
        "aLund": "StringZ:aLund",
        "probStoUD": "StringFlav:probStoUD",
    }
)

THETA_LIMITS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {"alphaS": (0.06, 0.25), "aLund": (0.0, 2.0), "probStoUD": (0.0, 1.0)}
)
"""Allowed range of each θ component: Pythia 8.3's own limits of the setting."""

_THETA_STREAM = 2**32 - 2  # stream of the per-block θ draws (blocks use 0, 1, ...)
# the particle layout of the DIS files: one reader and one writer for both
_PARTICLE_FIELDS: dict[str, np.dtype] = COLLECTION_FIELDS["GenPart"]
_FLAT: dict[str, np.dtype] = {
    "event": np.dtype(np.uint64),
    "weight": np.dtype(np.float64),
    "theta_alphaS": np.dtype(np.float64),
    "theta_aLund": np.dtype(np.float64),
    "theta_probStoUD": np.dtype(np.float64),
    "pass_gen": np.dtype(np.bool_),
    "pass_reco": np.dtype(np.bool_),
}
_COLLECTIONS = dict.fromkeys(("GenPart", "RecoPart"), _PARTICLE_FIELDS)

ZJETS_BRANCHES: tuple[str, ...] = required_branches(_FLAT, _COLLECTIONS)
"""Every branch of a Z → light-quark event file."""

_NEUTRINOS = (12, 14, 16)
_ETA_AT_ZERO_PT = 20.0

LEP_DETECTOR = DetectorConfig(
    pt_min=0.2,
    eta_min=-2.5,
    eta_max=2.5,
    track_efficiency=0.98,
    track_efficiency_low_pt=0.9,
    track_low_pt=0.3,
    track_resolution_a=0.0006,
    track_resolution_b=0.005,
    ecal_stochastic=0.18,
    ecal_constant=0.009,
    ecal_threshold=0.3,
    ecal_angular_resolution=0.003,
    hcal_stochastic=0.85,
    hcal_constant=0.05,
    hcal_threshold=1.0,
    hcal_efficiency=0.9,
    hcal_angular_resolution=0.02,
)
"""A LEP-like detector (ALEPH performance figures, rounded), particle settings only.

Acceptance |η| < 2.5 (polar angles 9.4° < θ < 170.6°; the LEP trackers reach
|cos θ| ≈ 0.95–0.98, the calorimeters further) and pT > 0.2 GeV. Tracks
σ(pT)/pT = 0.06%·pT ⊕ 0.5%, 98% efficient (90% below 0.3 GeV); ECAL 18%/√E ⊕ 0.9%,
3 mrad, 0.3 GeV threshold; HCAL 85%/√E ⊕ 5%, 20 mrad, 1 GeV threshold, 90% efficient.
Neutral long-lived hadrons (K0L, K0S, Λ, n) are neutral-hadron clusters (class 130):
the emulation has no V0 finding.
"""


@dataclass(frozen=True)
class ZJetsTheta:
    """The three tuned generator parameters θ of Sec. III B of arXiv:2010.03569.

    Defaults are the Monash 2013 values (the nominal point of arXiv:2010.03569).

    Attributes:
        alphaS: ``TimeShower:alphaSvalue``, final-state shower α_s(m_Z).
        aLund: ``StringZ:aLund``, a of the Lund symmetric fragmentation function.
        probStoUD: ``StringFlav:probStoUD``, s-quark suppression in string breaks.
    """

    alphaS: float = 0.1365
    aLund: float = 0.68
    probStoUD: float = 0.217

    def __post_init__(self) -> None:
        for name, (low, high) in THETA_LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ConfigError(f"ZJetsTheta.{name} must be a number, got {value!r}.")
            if not (math.isfinite(value) and low <= value <= high):
                raise ConfigError(
                    f"ZJetsTheta.{name} = {value} is outside Pythia's allowed range "
                    f"[{low}, {high}] of {_THETA_NAMES[name]}; choose a value inside it."
                )

    SETTING_NAMES: ClassVar[Mapping[str, str]] = _THETA_NAMES
    """θ field -> Pythia setting name."""

    def settings(self) -> tuple[str, ...]:
        """The Pythia ``"Name = value"`` strings of this θ."""
        return tuple(f"{_THETA_NAMES[n]} = {float(getattr(self, n))!r}" for n in _THETA_NAMES)

    def as_dict(self) -> dict[str, float]:
        """``{"alphaS": ..., "aLund": ..., "probStoUD": ...}``."""
        return {name: float(getattr(self, name)) for name in _THETA_NAMES}


def _check_theta_ranges(
    theta_ranges: Mapping[str, tuple[float, float]] | None,
) -> dict[str, tuple[float, float]]:
    if theta_ranges is None:
        return {}
    if not isinstance(theta_ranges, Mapping):
        raise ConfigError(
            f"theta_ranges must be a mapping {{name: (low, high)}}, got {theta_ranges!r}; "
            "e.g. {'alphaS': (0.10, 0.16)}."
        )
    out = {}
    for name, bounds in theta_ranges.items():
        if name not in _THETA_NAMES:
            raise ConfigError(
                f"theta_ranges has an unknown parameter {name!r}; use some of {list(_THETA_NAMES)}."
            )
        try:
            low, high = (float(b) for b in bounds)
        except (TypeError, ValueError) as error:
            raise ConfigError(
                f"theta_ranges[{name!r}] must be a pair (low, high) of numbers, got {bounds!r}."
            ) from error
        limit_low, limit_high = THETA_LIMITS[name]
        if not (limit_low <= low < high <= limit_high):
            raise ConfigError(
                f"theta_ranges[{name!r}] = ({low}, {high}) must satisfy "
                f"{limit_low} <= low < high <= {limit_high} (Pythia's range of "
                f"{_THETA_NAMES[name]}); fix the bounds."
            )
        out[name] = (low, high)
    return out


def _block_theta(
    theta: ZJetsTheta, ranges: Mapping[str, tuple[float, float]], seed: int, block: int
) -> ZJetsTheta:
    """θ of one block: ``theta`` with the components in ``ranges`` drawn uniformly."""
    if not ranges:
        return theta
    rng = np.random.default_rng(np.random.SeedSequence([seed, block, _THETA_STREAM]))
    draws = rng.random(len(_THETA_NAMES))  # one draw per component, used or not: stable
    values = theta.as_dict()
    for u, name in zip(draws, _THETA_NAMES, strict=True):
        if name in ranges:
            low, high = ranges[name]
            values[name] = low + (high - low) * float(u)
    return ZJetsTheta(**values)


@dataclass(frozen=True)
class _Block:
    theta: ZJetsTheta
    weight: NDArray[np.float64]
    counts: NDArray[np.int64]
    particles: dict[str, NDArray]


class _ZBlockGenerator(_BlockGenerator):
    """The shared Pythia block generator, with Z -> jets columns."""

    label = "Z -> jets"

    def generate(self, block_seed: int, n_events: int, theta: ZJetsTheta) -> _Block:
        return _columns(self.batch(block_seed, n_events), self.charge, theta)


def _columns(batch: ak.Array, charge_of, theta: ZJetsTheta) -> _Block:
    """Stable visible particles of a ``nextBatch`` array (vectorised, no event loop)."""
    prt = batch["prt"]
    counts = ak.to_numpy(ak.num(prt, axis=1)).astype(np.int64)
    event_of = np.repeat(np.arange(counts.size, dtype=np.int64), counts)

    def flat(*path: str) -> NDArray:
        return ak.to_numpy(ak.flatten(prt[path], axis=1))

    pid = flat("id").astype(np.int32)
    status = flat("status")
    visible = (status > 0) & ~np.isin(np.abs(pid), _NEUTRINOS)
    px, py, pz, energy = (flat("p", c)[visible].astype(np.float64) for c in ("px", "py", "pz", "e"))
    pid = pid[visible]
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.where(pt > 0.0, np.arcsinh(pz / pt), np.copysign(_ETA_AT_ZERO_PT, pz))
    unique_ids, inverse = np.unique(pid, return_inverse=True)
    charges = np.array([charge_of(int(i)) for i in unique_ids], dtype=np.float64)
    weight = ak.to_numpy(ak.fill_none(ak.firsts(batch["info", "weights"]), 1.0))
    return _Block(
        theta=theta,
        weight=weight.astype(np.float64),
        counts=np.bincount(event_of[visible], minlength=counts.size).astype(np.int64),
        particles={
            "pt": pt.astype(np.float32),
            "eta": eta.astype(np.float32),
            "phi": np.arctan2(py, px).astype(np.float32),
            "E": energy.astype(np.float32),
            "pdgId": pid.astype(np.int32),
            "charge": np.rint(charges[inverse]).astype(np.int8),
        },
    )


def _generate_block(
    settings: tuple[str, ...],
    init_seed: int,
    block_seed: int,
    n_events: int,
    theta: ZJetsTheta,
) -> _Block:
    """Generate one block, reusing this process's generator when the settings match."""
    generator = _ZBlockGenerator.cached(settings + theta.settings(), init_seed)
    return generator.generate(block_seed, n_events, theta)


def _full_settings(params: Iterable[str]) -> tuple[str, ...]:
    extra = setting_lines(params)
    for line in extra:
        _check_setting_line(line, origin="params")
        name = line.split("=", 1)[0].strip()
        if name in _THETA_NAMES.values():
            raise ConfigError(
                f"params: {line!r} sets a tuned parameter; pass it through theta=ZJetsTheta(...) "
                "(or theta_ranges) so that it is recorded in the theta_* branches."
            )
    return ZJETS_SETTINGS + extra


def _concatenate(blocks: list[_Block]) -> ak.Array:
    n_events = sum(b.counts.size for b in blocks)
    out: dict[str, ak.Array | NDArray] = {"event": np.arange(n_events, dtype=np.uint64)}
    out["weight"] = np.concatenate([b.weight for b in blocks])
    for name in _THETA_NAMES:
        out[f"theta_{name}"] = np.concatenate(
            [np.full(b.counts.size, getattr(b.theta, name), dtype=np.float64) for b in blocks]
        )
    counts = np.concatenate([b.counts for b in blocks])
    particles = {f: np.concatenate([b.particles[f] for b in blocks]) for f in _PARTICLE_FIELDS}
    out["GenPart"] = ak.unflatten(ak.zip(particles, depth_limit=1), counts)
    return ak.zip(out, depth_limit=1)


def generate_zjets(
    n_events: int,
    *,
    seed: int,
    theta: ZJetsTheta | None = None,
    theta_ranges: Mapping[str, tuple[float, float]] | None = None,
    params: Sequence[str] = (),
    workers: int = 1,
    progress: bool = False,
    block_size: int = BLOCK_SIZE,
) -> ak.Array:
    """Generate e+e− → Z → light-quark events at √s = 91.19 GeV with Pythia 8.

    Args:
        n_events: number of events (at least 1).
        seed: non-negative integer; with ``block_size``, ``theta`` and ``theta_ranges``
            it fixes the output completely.
        theta: generator parameters; ``ZJetsTheta()`` (Monash) if not given.
        theta_ranges: ``{name: (low, high)}`` for some of ``"alphaS"``, ``"aLund"``,
            ``"probStoUD"``: each block of events gets its own value drawn uniformly in
            the range (parameterised training, Sec. III B of arXiv:2010.03569); the other
            components keep ``theta``'s values.
        params: extra Pythia settings ``"Name = value"``; ``Random:*`` and the three θ
            settings are refused (use ``seed`` and ``theta``).
        workers: number of processes; the output does not depend on it.
        progress: show a progress bar (one step per block).
        block_size: events per independently seeded block (and per θ draw).

    Returns:
        Awkward array, one entry per event: ``event`` (uint64, 0..N-1), ``weight``,
        ``theta_alphaS``, ``theta_aLund``, ``theta_probStoUD`` (float64) and ``GenPart``
        (records ``pt, eta, phi, E`` float32, ``pdgId`` int32, ``charge`` int8).

    Raises:
        ConfigError: for a bad argument or a setting Pythia rejects.

    Example:
        >>> events = generate_zjets(100, seed=1, theta=ZJetsTheta(alphaS=0.12))  # doctest: +SKIP
    """
    init_seed, seeded = _seeded_blocks(n_events, block_size, workers, seed)
    theta = ZJetsTheta() if theta is None else theta
    if not isinstance(theta, ZJetsTheta):
        raise ConfigError(
            f"theta must be a ZJetsTheta, got {type(theta).__name__}; build one with "
            "ZJetsTheta(alphaS=..., aLund=..., probStoUD=...)."
        )
    ranges = _check_theta_ranges(theta_ranges)
    settings = _full_settings(params)
    # A new θ needs a new initialisation: the cached generator is reused while θ repeats.
    blocks = run_blocks(
        _generate_block,
        [
            (settings, init_seed, block_seed, n, _block_theta(theta, ranges, int(seed), b))
            for b, (block_seed, n) in enumerate(seeded)
        ],
        workers=workers,
        progress=progress,
        description="Pythia Z->qq",
        before_pool=lambda: _check_settings(settings + theta.settings()),
    )
    return _concatenate(blocks)


def write_zjets_events(
    path: str | os.PathLike[str], events: ak.Array, tree: str = DEFAULT_TREE
) -> Path:
    """Write Z → light-quark events (with ``RecoPart``, ``pass_gen``, ``pass_reco``).

    Branches: :data:`ZJETS_BRANCHES` (NanoAOD naming as in ``docs/architecture.md``).
    """
    columns = typed_columns(
        events,
        _FLAT,
        _COLLECTIONS,
        what="Z->qq events",
        fix="build them with hepnnlr.samples.zjets.make_zjets_sample",
    )
    return write_tree(path, columns, tree)


def read_zjets_events(path: str | os.PathLike[str], tree: str = DEFAULT_TREE) -> ak.Array:
    """Read a Z → light-quark event file back into the layout of :func:`make_zjets_sample`.

    Raises:
        InputFileError, MissingBranchError: as :func:`hepnnlr.samples.check_event_file`.
    """
    check_event_file(path, tree, ZJETS_BRANCHES)
    return read_tree_columns(path, tree, _FLAT, _COLLECTIONS)


def make_zjets_sample(
    path: str | os.PathLike[str],
    *,
    n_events: int,
    seed: int,
    theta: ZJetsTheta | None = None,
    theta_ranges: Mapping[str, tuple[float, float]] | None = None,
    params: Sequence[str] = (),
    workers: int = 1,
    progress: bool = True,
    detector: DetectorConfig | None = None,
    tree: str = DEFAULT_TREE,
    block_size: int = BLOCK_SIZE,
) -> Path:
    """Generate Z → light-quark events, reconstruct them and write a ROOT file.

    Generation as in :func:`generate_zjets`; the detector (:data:`LEP_DETECTOR` unless
    ``detector`` is given) is seeded with ``numpy.random.default_rng(seed)``, so the file
    depends on the arguments only, not on ``workers``.

    Selections (deliberately loose; the analysis cuts live in the processor):
    ``pass_gen`` = at least one ``GenPart``; ``pass_reco`` = at least one ``RecoPart``.

    Args:
        path: output ``.root`` file (replaced; parent folders are created).
        n_events, seed, theta, theta_ranges, params, workers, progress, block_size: see
            :func:`generate_zjets`.
        detector: particle-level detector settings (electron settings unused).
        tree: tree name.

    Returns:
        The path written. Branches: :data:`ZJETS_BRANCHES`.

    Example:
        >>> make_zjets_sample("z.root", n_events=1000, seed=1, progress=False)  # doctest: +SKIP
        PosixPath('z.root')
    """
    detector = LEP_DETECTOR if detector is None else detector
    gen = generate_zjets(
        n_events,
        seed=seed,
        theta=theta,
        theta_ranges=theta_ranges,
        params=params,
        workers=workers,
        progress=progress,
        block_size=block_size,
    )
    reco = reconstruct_particles(gen["GenPart"], detector, seed=seed)
    events = with_detector_fields(
        gen,
        {
            "RecoPart": reco,
            "pass_gen": ak.to_numpy(ak.num(gen["GenPart"], axis=1)) > 0,
            "pass_reco": ak.to_numpy(ak.num(reco, axis=1)) > 0,
        },
    )
    return write_zjets_events(path, events, tree)
