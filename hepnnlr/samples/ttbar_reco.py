"""Gen jets, a jet-level detector and the ROOT file of the tt̄ sample.

Reference: Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter Estimation using Neural
Networks in the Presence of Detector Effects", arXiv:2010.03569.

arXiv:2010.03569 (Sec. III C) simulates the detector with Delphes (CMS card). hepnnlr
emulates it at the level of the analysis objects instead, which is all the top-mass
observables need:

* **Gen jets** (``GenJet``): anti-kT, R = 0.4 (FastJet, E-scheme) on ``GenPart`` (every
  stable particle except neutrinos and the W muon), pT > ``gen_jet_pt_min``. A gen jet is
  b-tagged (``btag``) when a weakly decaying b hadron of ``GenB`` with pT > ``b_hadron_pt_min``
  lies within ΔR < ``btag_dr`` of its axis and |η_jet| < ``btag_eta_max``. (arXiv:2010.03569 tags
  a jet when "the highest energy parton inside the jet cone (ΔR < 0.5) is a b quark";
  hepnnlr uses the hadron-level definition of ATLAS/CMS, which does not need the parton
  record.)
* **Reco jets** (``RecoJet``): each gen jet's four-momentum scaled by
  ``response × (1 + σ/E · z)``, z ~ N(0, 1), with σ/E = a/√E ⊕ c (added in quadrature);
  η and φ unchanged; kept when the smeared pT > ``reco_jet_pt_min``. b-tagging: a b-matched
  gen jet with |η| < ``btag_eta_max`` is tagged with probability ``btag_efficiency``, any
  other jet with |η| < ``btag_eta_max`` with probability ``mistag_rate``; jets beyond
  |η| = ``btag_eta_max`` are never tagged.
* **Reco muon** (``RecoMuon``, 0 or 1): the W muon within |η| < ``muon_eta_max``, found
  with probability ``muon_efficiency``; pT smeared by a Gaussian of relative width
  ``muon_pt_resolution`` (η, φ unchanged, E recomputed with the muon mass).
* **Missing transverse momentum** (``MET_pt``, ``MET_phi``): minus the vector sum of the
  reco jets, the reco muon and the *unclustered* recoil. The unclustered recoil is the
  transverse momentum of the visible particles not in any stored gen jet,
  U = Σ_GenPart p_T − Σ_GenJet p_T (the muon is not in GenPart), measured with a Gaussian
  resolution σ_x = σ_y = ``unclustered_resolution`` · √(Σ_unclustered |p_T|). A muon that
  is not reconstructed therefore shows up as missing momentum, as in a real detector.
* ``GenMET_pt``, ``GenMET_phi``: the transverse momentum of the neutrino from the W
  (``GenNeutrino``), the gen-level truth the reco MET estimates.

The detector random numbers come from ``numpy.random.default_rng`` seeded with
``(seed, 0x7474)``; they are drawn over the whole sample after generation, so the file does
not depend on ``workers``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import fastjet
import numpy as np

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.samples.detector import (
    check_detector_seed,
    check_object_detector,
    with_detector_fields,
)
from hepnnlr.samples.dis import setting_lines
from hepnnlr.samples.rootio import DEFAULT_TREE, required_branches, write_typed_tree
from hepnnlr.samples.ttbar import TTBAR_BLOCK_SIZE, TTbarConfig, generate_ttbar

CLUSTER_CHUNK_SIZE = 1_000
"""Events per FastJet ``ClusterSequence`` in :func:`cluster_gen_jets` (bounds its memory)."""

__all__ = [
    "TTBAR_COLLECTION_FIELDS",
    "TTBAR_FLAT_BRANCHES",
    "TTBAR_REQUIRED_BRANCHES",
    "TTbarDetectorConfig",
    "cluster_gen_jets",
    "gen_particle_momenta",
    "make_ttbar_sample",
    "simulate_ttbar_detector",
    "write_ttbar_events",
]

_MUON_MASS = 0.1056583755
_DETECTOR_STREAM = 0x7474


@dataclass(frozen=True)
class TTbarDetectorConfig:
    """Jet-level detector of the tt̄ sample (rules in the module docstring).

    Attributes:
        jet_radius: anti-kT radius R of gen jets.
        gen_jet_pt_min: gen jets kept above this pT (GeV); below the analysis cut of
            20 GeV so that jets can migrate up.
        reco_jet_pt_min: reco jets kept above this smeared pT (GeV).
        jet_response: mean reco/gen jet energy ratio.
        jet_stochastic: a of σ/E = a/√E ⊕ c, in √GeV.
        jet_constant: c of σ/E.
        btag_dr: ΔR(jet, b hadron) for a b match.
        b_hadron_pt_min: b hadrons below this pT (GeV) do not tag.
        btag_eta_max: no b-tagging at or beyond this |η| (arXiv:2010.03569: 2.5).
        btag_efficiency: tag probability of a b-matched reco jet.
        mistag_rate: tag probability of any other reco jet.
        muon_eta_max: muon acceptance |η|.
        muon_efficiency: muon reconstruction probability within the acceptance.
        muon_pt_resolution: relative Gaussian pT resolution of the muon.
        unclustered_resolution: a of σ_{x,y} = a √(Σ|p_T|) of the unclustered recoil, √GeV.
    """

    jet_radius: float = 0.4
    gen_jet_pt_min: float = 10.0
    reco_jet_pt_min: float = 10.0
    jet_response: float = 0.98
    jet_stochastic: float = 1.0
    jet_constant: float = 0.05
    btag_dr: float = 0.4
    b_hadron_pt_min: float = 5.0
    btag_eta_max: float = 2.5
    btag_efficiency: float = 0.7
    mistag_rate: float = 0.01
    muon_eta_max: float = 2.5
    muon_efficiency: float = 0.95
    muon_pt_resolution: float = 0.02
    unclustered_resolution: float = 0.5

    def __post_init__(self) -> None:
        check_object_detector(self, ("btag_efficiency", "mistag_rate", "muon_efficiency"))
        if self.jet_radius == 0 or self.jet_response == 0:
            raise ConfigError(
                "TTbarDetectorConfig.jet_radius and jet_response must be > 0, got "
                f"{self.jet_radius!r} and {self.jet_response!r}."
            )


TTBAR_FLAT_BRANCHES: dict[str, np.dtype] = {
    "event": np.dtype(np.uint64),
    "weight": np.dtype(np.float64),
    "top_mass": np.dtype(np.float64),
    "MET_pt": np.dtype(np.float64),
    "MET_phi": np.dtype(np.float64),
    "GenMET_pt": np.dtype(np.float64),
    "GenMET_phi": np.dtype(np.float64),
}
"""One value per event: name → dtype."""

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_MUON = {"pt": _F64, "eta": _F64, "phi": _F64, "E": _F64, "charge": np.dtype(np.int8)}
_JET = {"pt": _F64, "eta": _F64, "phi": _F64, "mass": _F64, "btag": np.dtype(np.bool_)}
TTBAR_COLLECTION_FIELDS: dict[str, dict[str, np.dtype]] = {
    "GenPart": {
        "pt": _F32,
        "eta": _F32,
        "phi": _F32,
        "E": _F32,
        "pdgId": np.dtype(np.int32),
        "charge": np.dtype(np.int8),
    },
    "GenMuon": _MUON,
    "GenNeutrino": {"pt": _F64, "eta": _F64, "phi": _F64, "E": _F64},
    "GenB": {"pt": _F32, "eta": _F32, "phi": _F32, "pdgId": np.dtype(np.int32)},
    "GenJet": _JET,
    "RecoJet": _JET,
    "RecoMuon": _MUON,
}
"""Jagged collections of the tt̄ file: name → {field → dtype}."""

TTBAR_REQUIRED_BRANCHES: tuple[str, ...] = required_branches(
    TTBAR_FLAT_BRANCHES, TTBAR_COLLECTION_FIELDS
)
"""Every branch a tt̄ event file has."""


def _delta_r(eta1: ak.Array, phi1: ak.Array, eta2: ak.Array, phi2: ak.Array) -> ak.Array:
    dphi = (phi1 - phi2 + np.pi) % (2 * np.pi) - np.pi
    return np.hypot(eta1 - eta2, dphi)


def gen_particle_momenta(events: ak.Array) -> ak.Array:
    """``GenPart`` as float64 ``px``, ``py``, ``pz``, ``E`` records, packed and without
    behaviours: the input FastJet clusters into gen jets."""
    parts = events.GenPart
    pt = ak.values_astype(parts.pt, np.float64)
    phi = ak.values_astype(parts.phi, np.float64)
    momenta = ak.zip(
        {
            "px": pt * np.cos(phi),
            "py": pt * np.sin(phi),
            "pz": pt * np.sinh(ak.values_astype(parts.eta, np.float64)),
            "E": ak.values_astype(parts.E, np.float64),
        }
    )
    return ak.to_packed(ak.without_parameters(momenta))


def cluster_gen_jets(
    events: ak.Array,
    config: TTbarDetectorConfig | None = None,
    *,
    chunk_size: int = CLUSTER_CHUNK_SIZE,
) -> ak.Array:
    """Anti-kT gen jets of every event, b-tagged by ΔR matching to ``GenB``.

    Args:
        events: output of :func:`hepnnlr.samples.ttbar.generate_ttbar` (``GenPart``, ``GenB``).
        config: detector settings (jet radius, pT threshold, b-matching).
        chunk_size: events per FastJet ``ClusterSequence``. The ``fastjet`` package keeps
            every event's clustering history until the sequence is dropped (~130 kB per
            event of ~260 particles), so the events are clustered a chunk at a time;
            each event's jets do not depend on it.

    Returns:
        Jagged records ``pt``, ``eta``, ``phi``, ``mass`` (float64), ``btag`` (bool) and
        ``bmatch`` (bool, b hadron within ΔR at any η), sorted by decreasing pT.
    """
    config = TTbarDetectorConfig() if config is None else config
    for name in ("GenPart", "GenB"):
        if name not in ak.fields(events):
            raise MissingBranchError(
                f"cluster_gen_jets needs the collection {name!r}; the events have "
                f"{sorted(ak.fields(events))}. Pass the output of generate_ttbar."
            )
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ConfigError(f"cluster_gen_jets: chunk_size={chunk_size!r} must be an integer >= 1.")
    momenta = gen_particle_momenta(events)
    definition = fastjet.JetDefinition(fastjet.antikt_algorithm, float(config.jet_radius))
    # one sequence per chunk, dropped once its jets are read: memory stays that of one
    # chunk's histories (a whole 120,000-event sample at once peaked at 19 GB)
    parts = [
        fastjet.ClusterSequence(momenta[start : start + chunk_size], definition).inclusive_jets(
            config.gen_jet_pt_min
        )
        # an empty sample is one (empty) chunk, as before
        for start in (range(0, len(momenta), chunk_size) or range(1))
    ]
    jets = parts[0] if len(parts) == 1 else ak.concatenate(parts, axis=0)
    jet_pt = np.hypot(jets.px, jets.py)
    order = ak.argsort(jet_pt, axis=1, ascending=False, stable=True)
    jets, jet_pt = jets[order], jet_pt[order]
    p2 = jets.px**2 + jets.py**2 + jets.pz**2
    mass = np.sqrt(np.maximum(jets.E**2 - p2, 0.0))
    eta = np.arcsinh(jets.pz / jet_pt)
    phi = np.arctan2(jets.py, jets.px)

    bhad = events.GenB[events.GenB.pt > config.b_hadron_pt_min]
    pairs = ak.cartesian({"jet": ak.zip({"eta": eta, "phi": phi}), "b": bhad}, axis=1, nested=True)
    dr = _delta_r(
        pairs.jet.eta,
        pairs.jet.phi,
        ak.values_astype(pairs.b.eta, np.float64),
        ak.values_astype(pairs.b.phi, np.float64),
    )
    bmatch = ak.any(dr < config.btag_dr, axis=2)
    return ak.zip(
        {
            "pt": jet_pt,
            "eta": eta,
            "phi": phi,
            "mass": mass,
            "btag": bmatch & (np.abs(eta) < config.btag_eta_max),
            "bmatch": bmatch,
        }
    )


def _flat_normal(rng: np.random.Generator, like: ak.Array) -> ak.Array:
    counts = ak.to_numpy(ak.num(like, axis=1))
    return ak.unflatten(rng.standard_normal(int(counts.sum())), counts)


def _flat_uniform(rng: np.random.Generator, like: ak.Array) -> ak.Array:
    counts = ak.to_numpy(ak.num(like, axis=1))
    return ak.unflatten(rng.random(int(counts.sum())), counts)


def _sum_pxpy(obj: ak.Array) -> tuple[np.ndarray, np.ndarray]:
    pt = ak.values_astype(obj.pt, np.float64)
    phi = ak.values_astype(obj.phi, np.float64)
    return (
        ak.to_numpy(ak.sum(pt * np.cos(phi), axis=1)),
        ak.to_numpy(ak.sum(pt * np.sin(phi), axis=1)),
    )


def simulate_ttbar_detector(
    events: ak.Array, config: TTbarDetectorConfig | None = None, *, seed: int
) -> ak.Array:
    """Add ``GenJet``, ``RecoJet``, ``RecoMuon``, ``MET_*`` and ``GenMET_*`` to gen events.

    Args:
        events: output of :func:`hepnnlr.samples.ttbar.generate_ttbar`.
        config: detector settings; ``TTbarDetectorConfig()`` if not given.
        seed: non-negative integer seed of the detector random numbers.

    Returns:
        ``events`` with the new fields (rules in the module docstring).
    """
    config = TTbarDetectorConfig() if config is None else config
    if not isinstance(config, TTbarDetectorConfig):
        raise ConfigError(
            f"detector must be a TTbarDetectorConfig or None, got {type(config).__name__}."
        )
    rng = np.random.default_rng([check_detector_seed(seed), _DETECTOR_STREAM])
    gen_jets = cluster_gen_jets(events, config)

    energy = np.sqrt(gen_jets.pt**2 * np.cosh(gen_jets.eta) ** 2 + gen_jets.mass**2)
    rel = np.hypot(config.jet_stochastic / np.sqrt(energy), config.jet_constant)
    scale = np.maximum(config.jet_response * (1.0 + rel * _flat_normal(rng, gen_jets)), 0.0)
    in_tracker = np.abs(gen_jets.eta) < config.btag_eta_max
    tag_probability = ak.where(
        in_tracker, ak.where(gen_jets.bmatch, config.btag_efficiency, config.mistag_rate), 0.0
    )
    reco_jets = ak.zip(
        {
            "pt": gen_jets.pt * scale,
            "eta": gen_jets.eta,
            "phi": gen_jets.phi,
            "mass": gen_jets.mass * scale,
            "btag": _flat_uniform(rng, gen_jets) < tag_probability,
        }
    )
    reco_jets = reco_jets[reco_jets.pt > config.reco_jet_pt_min]
    reco_jets = reco_jets[ak.argsort(reco_jets.pt, axis=1, ascending=False, stable=True)]

    muon = events.GenMuon
    found = (np.abs(muon.eta) < config.muon_eta_max) & (
        _flat_uniform(rng, muon) < config.muon_efficiency
    )
    muon_pt = muon.pt * np.maximum(1.0 + config.muon_pt_resolution * _flat_normal(rng, muon), 0.0)
    reco_muon = ak.zip(
        {
            "pt": muon_pt,
            "eta": muon.eta,
            "phi": muon.phi,
            "E": np.sqrt((muon_pt * np.cosh(muon.eta)) ** 2 + _MUON_MASS**2),
            "charge": muon.charge,
        }
    )[found]

    part_px, part_py = _sum_pxpy(events.GenPart)
    jet_px, jet_py = _sum_pxpy(gen_jets)
    sum_pt_unclustered = np.maximum(
        ak.to_numpy(ak.sum(events.GenPart.pt, axis=1)) - ak.to_numpy(ak.sum(gen_jets.pt, axis=1)),
        0.0,
    )
    sigma = config.unclustered_resolution * np.sqrt(sum_pt_unclustered)
    n = len(events)
    u_px = part_px - jet_px + sigma * rng.standard_normal(n)
    u_py = part_py - jet_py + sigma * rng.standard_normal(n)
    rj_px, rj_py = _sum_pxpy(reco_jets)
    mu_px, mu_py = _sum_pxpy(reco_muon)
    met_x = -(rj_px + mu_px + u_px)
    met_y = -(rj_py + mu_py + u_py)

    nu = events.GenNeutrino[:, 0]  # exactly one per event (generate_ttbar checks it)
    return with_detector_fields(
        events,
        {
            "GenJet": gen_jets[["pt", "eta", "phi", "mass", "btag"]],
            "RecoJet": reco_jets,
            "RecoMuon": reco_muon,
            "MET_pt": np.hypot(met_x, met_y),
            "MET_phi": np.arctan2(met_y, met_x),
            "GenMET_pt": ak.to_numpy(ak.values_astype(nu.pt, np.float64)),
            "GenMET_phi": ak.to_numpy(ak.values_astype(nu.phi, np.float64)),
        },
    )


def write_ttbar_events(
    path: str | os.PathLike[str], events: ak.Array, tree: str = DEFAULT_TREE
) -> Path:
    """Write tt̄ events (with detector level) as a TTree; NanoAOD naming ``nX``/``X_*``.

    Raises:
        MissingBranchError: if a field of :data:`TTBAR_REQUIRED_BRANCHES` is missing.
    """
    return write_typed_tree(
        path,
        events,
        TTBAR_FLAT_BRANCHES,
        TTBAR_COLLECTION_FIELDS,
        what="tt̄ events",
        fix="run simulate_ttbar_detector on them first",
        tree=tree,
    )


def make_ttbar_sample(
    path: str | os.PathLike[str],
    *,
    n_events: int,
    seed: int,
    top_mass: float = 172.5,
    mpi: bool = False,
    params: Sequence[str] = (),
    workers: int = 1,
    progress: bool = True,
    detector: TTbarDetectorConfig | None = None,
    tree: str = DEFAULT_TREE,
    block_size: int = TTBAR_BLOCK_SIZE,
) -> Path:
    """Generate semi-muonic tt̄ events, add gen jets and the detector, write a ROOT file.

    The file depends on the arguments only (not on ``workers``): the generator is seeded
    as in :func:`hepnnlr.samples.ttbar.generate_ttbar`, the detector from ``(seed, 0x7474)``.

    Args:
        path: output ``.root`` file (replaced; parent folders are created).
        n_events: number of events.
        seed: non-negative integer seed.
        top_mass: top pole mass in GeV (``6:m0``).
        mpi: multiple parton interactions on (slower, ~7x).
        params: extra Pythia settings ``"Name = value"``.
        workers: generator processes.
        progress: progress bar during generation.
        detector: detector settings; ``TTbarDetectorConfig()`` if not given.
        tree: tree name.
        block_size: events per seeded block (blocks alternate the muon charge).

    Returns:
        The path written; branches :data:`TTBAR_REQUIRED_BRANCHES`.

    Example:
        >>> make_ttbar_sample("tt.root", n_events=1000, seed=1, top_mass=175)  # doctest: +SKIP
    """
    config = TTbarConfig(top_mass=top_mass, mpi=mpi, params=setting_lines(params))
    gen = generate_ttbar(
        n_events,
        seed=seed,
        config=config,
        workers=workers,
        progress=progress,
        block_size=block_size,
    )
    return write_ttbar_events(path, simulate_ttbar_detector(gen, detector, seed=seed), tree)
