"""hepnnlr's Pythia samples in the CMS NanoAOD / PFNano format (``--format nanoaod``).

The same events as hepnnlr's own files, written under the names and conventions of CMS
NanoAOD with the PFNano particle-flow extension, so that a CMS analysis (and
``coffea.nanoevents.PFNanoAODSchema``) reads them as it reads the experiment's files:

* tree ``Events``; event ids ``run``, ``luminosityBlock`` (uint32) and ``event`` (uint64),
  unique per event: ``event`` counts 1..N, ``luminosityBlock`` is ``1 + seed`` (each
  generation job its own luminosity block, as in CMS simulation), ``run`` is 1 (more only
  for seeds of 2³² − 1 and beyond), so files of different seeds can share a dataset;
* ``genWeight`` (float32): the generator weight (hepnnlr's ``weight``);
* ``GenCands``: the generator-level final-state particles (hepnnlr's ``GenPart``) and
  ``PFCands``: the reconstructed particle-flow objects (``RecoPart``), with ``pt``,
  ``eta``, ``phi``, ``mass`` (float32), ``pdgId``, ``charge`` (int32) and, on
  ``PFCands``, ``puppiWeight`` = 1 (no pile-up is simulated);
* leptons, jets and missing momentum as ``GenDressedLepton``, ``Electron``, ``Muon``,
  ``Tau``, ``GenVisTau``, ``GenJet``, ``Jet``, ``MET``, ``GenMET``; per-event generator
  truth as ``Generator_*`` (a ``Generator`` record under NanoAOD's schemas); hepnnlr's
  selections as ``passGen`` / ``passReco``;
* tree ``Runs``, one entry per run: ``run``, ``genEventCount``, ``genEventSumw`` and
  ``genEventSumw2`` (:func:`runs_columns`), the sums a CMS analysis normalizes by,
  written into the file with ``Events`` (both or neither).

The table of every branch, per process, is in ``docs/nanoaod.md`` and in
:data:`NANOAOD_NAMES` (hepnnlr name → NanoAOD name).

Every four-vector is stored as (pt, eta, phi, mass) with the precision of hepnnlr's file
(float32 particles, float64 electrons, muons and jets: the electron method amplifies
rounding for backward electrons); the mass is √max(E² − p², 0) of hepnnlr's (pt, eta, E),
computed in float64, so the energy ``√(p² + m²)`` that the NanoAOD behaviours compute
equals hepnnlr's ``E`` up to the stored precision.

A file is written in two steps: the sample's own ``make_*_sample`` writes hepnnlr's file
into a temporary folder beside the output, and :func:`convert_to_nanoaod` rewrites it —
so the two formats of one seed hold the same events by construction.

Example:
    >>> make_nanoaod_sample("sim.nano.root", "dis", setup="sim", n_events=1000,
    ...                     seed=1)  # doctest: +SKIP
    >>> from coffea.nanoevents import NanoEventsFactory, PFNanoAODSchema
    >>> events = NanoEventsFactory.from_root({"sim.nano.root": "Events"},
    ...     schemaclass=PFNanoAODSchema, mode="eager").events()  # doctest: +SKIP
    >>> events.PFCands.energy, events.Electron.pt, events.Generator.Q2  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import awkward as ak
import numpy as np
import uproot

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.samples.generators import GENERATORS
from hepnnlr.samples.rootio import DEFAULT_TREE, check_event_file, write_tree

__all__ = [
    "FORMATS",
    "NANOAOD_NAMES",
    "NANOAOD_PROCESSES",
    "NANOAOD_TREE",
    "RUNS_TREE",
    "convert_to_nanoaod",
    "event_ids",
    "make_nanoaod_sample",
    "nanoaod_columns",
    "nanoaod_output",
    "runs_columns",
]

FORMATS: tuple[str, ...] = ("hepnnlr", "nanoaod")
"""File formats of ``hepnnlr generate --format``."""

NANOAOD_TREE = "Events"
"""Tree name of a NanoAOD file."""

RUNS_TREE = "Runs"
"""Tree of the per-run generator sums (one entry per run), as in CMS NanoAOD."""

_MAX_LUMI = 2**32 - 1  # luminosityBlock is uint32 and starts at 1


@dataclass(frozen=True)
class _Collection:
    """How one hepnnlr collection becomes one NanoAOD collection.

    Attributes:
        source: hepnnlr's collection (``nX`` / ``X_*`` branches).
        target: the NanoAOD collection.
        lepton: |PDG id| of a lepton collection: ``pdgId`` is added where the source has
            none (−lepton × charge; a source without charge gets the DIS beam lepton's id).
        only: keep only the records of this |pdgId| (one hepnnlr collection of electrons and
            muons becomes NanoAOD's ``Electron`` and ``Muon``).
        constants: fields added with one value for every record (name, value, dtype).
        tau_ancestor: value of ``hasTauAnc`` (``GenDressedLepton`` only).
    """

    source: str
    target: str
    lepton: int = 0
    only: int = 0
    constants: tuple[tuple[str, Any, str], ...] = ()
    tau_ancestor: bool | None = None


_GEN_CANDS = _Collection("GenPart", "GenCands")
# no pile-up is simulated: every candidate comes from the hard interaction
_PF_CANDS = _Collection("RecoPart", "PFCands", constants=(("puppiWeight", 1.0, "float32"),))

_COLLECTIONS: Mapping[str, tuple[_Collection, ...]] = MappingProxyType(
    {
        "dis": (
            _GEN_CANDS,
            _PF_CANDS,
            _Collection("GenElectron", "GenDressedLepton", lepton=11, tau_ancestor=False),
            _Collection("RecoElectron", "Electron", lepton=11),
        ),
        "zjets": (_GEN_CANDS, _PF_CANDS),
        "ttbar": (
            _GEN_CANDS,
            _Collection("GenMuon", "GenDressedLepton", lepton=13, tau_ancestor=False),
            _Collection("GenNeutrino", "GenNeutrino"),
            _Collection("GenB", "GenB"),
            _Collection("GenJet", "GenJet"),
            _Collection("RecoJet", "Jet"),
            _Collection("RecoMuon", "Muon", lepton=13),
        ),
        "tautau": (
            _Collection("GenLepton", "GenDressedLepton", tau_ancestor=True),
            _Collection("GenTauh", "GenVisTau"),
            _Collection("RecoLepton", "Electron", only=11),
            _Collection("RecoLepton", "Muon", only=13),
            _Collection("RecoTauh", "Tau"),
        ),
    }
)

_FLAT: Mapping[str, Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "dis": {
            "weight": ("genWeight", "float32"),
            "gen_Q2": ("Generator_Q2", "float64"),
            "gen_x": ("Generator_x", "float64"),
            "gen_y": ("Generator_y", "float64"),
            "pass_gen": ("passGen", "bool"),
            "pass_reco": ("passReco", "bool"),
        },
        "zjets": {
            "weight": ("genWeight", "float32"),
            "theta_alphaS": ("Generator_alphaS", "float64"),
            "theta_aLund": ("Generator_aLund", "float64"),
            "theta_probStoUD": ("Generator_probStoUD", "float64"),
            "pass_gen": ("passGen", "bool"),
            "pass_reco": ("passReco", "bool"),
        },
        "ttbar": {
            "weight": ("genWeight", "float32"),
            "top_mass": ("Generator_topMass", "float64"),
            "GenMET_pt": ("GenMET_pt", "float64"),
            "GenMET_phi": ("GenMET_phi", "float64"),
            "MET_pt": ("MET_pt", "float64"),
            "MET_phi": ("MET_phi", "float64"),
        },
        "tautau": {
            "weight": ("genWeight", "float32"),
            "is_signal": ("Generator_isSignal", "bool"),
            "gen_mtautau": ("Generator_mTauTau", "float64"),
            "tau_energy_scale": ("tauEnergyScale", "float64"),
            "GenMET_pt": ("GenMET_pt", "float64"),
            "GenMET_phi": ("GenMET_phi", "float64"),
            "GenSumEt": ("GenMET_sumEt", "float64"),
            "MET_pt": ("MET_pt", "float64"),
            "MET_phi": ("MET_phi", "float64"),
        },
    }
)

NANOAOD_PROCESSES: tuple[str, ...] = tuple(_COLLECTIONS)
"""Processes that ``--format nanoaod`` writes (not ``calo``: its cells are no particles)."""

NANOAOD_NAMES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        process: MappingProxyType(
            {
                "event": "event",
                **{name: target for name, (target, _) in _FLAT[process].items()},
                **{
                    c.source: c.target
                    if c.only == 0
                    else " / ".join(d.target for d in collections if d.source == c.source)
                    for c in collections
                },
            }
        )
        for process, collections in _COLLECTIONS.items()
    }
)
"""Per process: hepnnlr's branch or collection name → its NanoAOD name (``event`` is
renumbered 1..N; a collection split by flavour maps to ``"Electron / Muon"``)."""

# hepnnlr's flat branch that tells each process's files apart
_SIGNATURES = {
    "gen_Q2": "dis",
    "theta_alphaS": "zjets",
    "top_mass": "ttbar",
    "gen_mtautau": "tautau",
}


def _check_process(process: object) -> str:
    if process == "calo":
        raise ConfigError(
            "process 'calo' has no NanoAOD format: its events are calorimeter cells, not "
            "particles; write it with --format hepnnlr."
        )
    if process not in _COLLECTIONS:
        raise ConfigError(
            f"process {process!r} has no NanoAOD format; choose one of {list(NANOAOD_PROCESSES)}."
        )
    return str(process)


def event_ids(seed: int) -> tuple[int, int]:
    """``(run, luminosityBlock)`` of the events of a sample generated with ``seed``.

    One luminosity block per seed, counted from 1 (CMS numbers runs, blocks and events from
    1); seeds beyond the uint32 range of ``luminosityBlock`` continue in the next run, so
    every seed has its own pair.

    Raises:
        ConfigError: for a negative or non-integer seed.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}.")
    run, block = divmod(int(seed), _MAX_LUMI)
    if run + 1 > 2**32 - 1:
        raise ConfigError(f"seed {seed} is too large for NanoAOD's uint32 run number.")
    return run + 1, block + 1


def _mass(pt: ak.Array, eta: ak.Array, energy: ak.Array) -> ak.Array:
    """√max(E² − p², 0) in float64: the invariant mass of hepnnlr's (pt, eta, E)."""
    pt, eta, energy = (ak.values_astype(a, np.float64) for a in (pt, eta, energy))
    p = pt * np.cosh(eta)
    return np.sqrt(np.maximum(energy * energy - p * p, 0.0))


def _dtype(values: ak.Array) -> np.dtype:
    return ak.to_numpy(ak.flatten(values, axis=None)).dtype


def _constant(records: ak.Array, value: object, dtype: str | type) -> ak.Array:
    """``value`` for every record of a jagged collection."""
    counts = ak.num(records, axis=1)
    return ak.unflatten(np.full(int(ak.sum(counts)), value, dtype=dtype), counts)


def _collection(records: ak.Array, spec: _Collection, lepton_pdg_id: int) -> dict[str, ak.Array]:
    """The NanoAOD fields of one collection: E → mass, integers → int32, added fields."""
    fields = list(ak.fields(records))
    if spec.only:
        records = records[np.abs(records.pdgId) == spec.only]
    out: dict[str, ak.Array] = {}
    for name in fields:
        values = records[name]
        if name == "E":
            # the float type of the file (float32 particles, float64 leptons) is kept
            out["mass"] = ak.values_astype(
                _mass(records.pt, records.eta, values), _dtype(records.pt)
            )
        elif name == "btag" and spec.target == "GenJet":
            # a gen jet's b tag is its b-hadron match: NanoAOD's hadronFlavour 5 (b) or 0
            out["hadronFlavour"] = ak.values_astype(ak.where(values, 5, 0), np.uint8)
        elif np.issubdtype(_dtype(values), np.integer):
            out[name] = ak.values_astype(values, np.int32)  # NanoAOD's int branches
        else:
            out[name] = values
    if spec.lepton and "pdgId" not in out:
        if "charge" in out:
            out["pdgId"] = -spec.lepton * out["charge"]
        else:  # DIS: the scattered lepton is the beam lepton (neutral current)
            out["pdgId"] = _constant(records, lepton_pdg_id, np.int32)
            out["charge"] = _constant(records, -1 if lepton_pdg_id > 0 else 1, np.int32)
    if spec.tau_ancestor is not None:
        out["hasTauAnc"] = _constant(records, spec.tau_ancestor, np.bool_)
    for name, value, dtype in spec.constants:
        out[name] = _constant(records, value, dtype)
    return out


def nanoaod_columns(
    events: ak.Array,
    process: str,
    *,
    run: int = 1,
    luminosity_block: int = 1,
    lepton_pdg_id: int = 11,
) -> dict[str, ak.Array]:
    """The NanoAOD columns of hepnnlr events (the layout its ``read_*`` functions return).

    Args:
        events: one record per event with hepnnlr's flat fields and collections.
        process: ``"dis"``, ``"zjets"``, ``"ttbar"`` or ``"tautau"``.
        run, luminosity_block: the event ids' run and block (:func:`event_ids`).
        lepton_pdg_id: PDG id of the DIS beam lepton (``Beams:idB``; 11 for e⁻), the
            flavour and charge of the scattered lepton.

    Returns:
        Column name → array, ready for :func:`hepnnlr.samples.rootio.write_tree`.

    Raises:
        ConfigError: for a process without a NanoAOD format.
        MissingBranchError: if ``events`` lack a field the process has (named).
    """
    process = _check_process(process)
    present = set(ak.fields(events))
    needed = ["event", *_FLAT[process], *(c.source for c in _COLLECTIONS[process])]
    missing = [name for name in needed if name not in present]
    if missing:
        raise MissingBranchError(
            f"{process} events lack {missing} (they have {sorted(present)}); write them with "
            f"hepnnlr's make_{process}_sample first."
        )
    n_events = len(events)
    columns: dict[str, ak.Array] = {
        "run": ak.Array(np.full(n_events, run, dtype=np.uint32)),
        "luminosityBlock": ak.Array(np.full(n_events, luminosity_block, dtype=np.uint32)),
        "event": ak.values_astype(events["event"], np.uint64) + np.uint64(1),
    }
    for name, (target, dtype) in _FLAT[process].items():
        columns[target] = ak.values_astype(events[name], dtype)
    for spec in _COLLECTIONS[process]:
        columns[spec.target] = ak.zip(_collection(events[spec.source], spec, lepton_pdg_id))
    return columns


def runs_columns(columns: Mapping[str, ak.Array]) -> dict[str, np.ndarray]:
    """The ``Runs`` tree of NanoAOD columns: one entry per run, as CMS NanoAOD writes it.

    ``genEventCount`` (int64) counts the events, ``genEventSumw`` and ``genEventSumw2``
    (float64) sum ``genWeight`` and its square over them — every generated event, since
    hepnnlr's files keep the events that fail the selections (``passGen`` /
    ``passReco``). A sample is normalized to a cross section σ and luminosity L by
    ``genWeight × σ L / Σ genEventSumw``.

    Args:
        columns: :func:`nanoaod_columns`' output (``run`` and ``genWeight`` are read).

    Returns:
        Branch name → one value per run, in increasing run order.
    """
    run = ak.to_numpy(columns["run"])
    # the float32 weights as stored, summed in double precision as CMS does
    weight = ak.to_numpy(columns["genWeight"]).astype(np.float64)
    runs, index = np.unique(run, return_inverse=True)
    return {
        "run": runs.astype(np.uint32),
        "genEventCount": np.bincount(index, minlength=len(runs)).astype(np.int64),
        "genEventSumw": np.array([np.sum(weight[index == i]) for i in range(len(runs))]),
        "genEventSumw2": np.array([np.sum(weight[index == i] ** 2) for i in range(len(runs))]),
    }


def _detect(path: Path, tree: str) -> str:
    with uproot.open(path) as file:
        present = set(file[tree].keys())
    for branch, process in _SIGNATURES.items():
        if branch in present:
            return process
    raise ConfigError(
        f"{str(path)!r} (tree {tree!r}) is not one of hepnnlr's particle samples: it has none "
        f"of the branches {list(_SIGNATURES)}; pass process= one of {list(NANOAOD_PROCESSES)}."
    )


def _read(path: Path, tree: str, process: str) -> ak.Array:
    """hepnnlr's file as one record per event, with the branches the process needs."""
    with uproot.open(path) as file:
        present = list(file[tree].keys())  # the file's order: pt, eta, phi, E, ...
    sources = {c.source for c in _COLLECTIONS[process]}
    branches = [
        "event",
        *_FLAT[process],
        *(b for b in present if b.split("_", 1)[0] in sources and "_" in b),
    ]
    check_event_file(path, tree, [*branches, *(f"n{s}" for s in sources)])
    with uproot.open(path) as file:
        arrays = file[tree].arrays(branches)
    out: dict[str, ak.Array] = {name: arrays[name] for name in ("event", *_FLAT[process])}
    for source in sorted(sources):
        fields = {b.split("_", 1)[1]: arrays[b] for b in branches if b.startswith(source + "_")}
        if not {"pt", "eta", "phi"} <= set(fields):
            raise MissingBranchError(
                f"collection {source!r} of {str(path)!r} lacks pt, eta or phi (it has "
                f"{sorted(fields)}); rewrite the file with hepnnlr's make_{process}_sample."
            )
        out[source] = ak.zip(fields)
    return ak.zip(out, depth_limit=1)


def convert_to_nanoaod(
    source: str | os.PathLike[str],
    path: str | os.PathLike[str],
    process: str | None = None,
    *,
    tree: str = DEFAULT_TREE,
    run: int = 1,
    luminosity_block: int = 1,
    lepton_pdg_id: int = 11,
) -> Path:
    """Rewrite one of hepnnlr's event files in the NanoAOD format (tree ``Events``).

    Args:
        source: hepnnlr's ROOT file (``hepnnlr generate ... --format hepnnlr``).
        path: the NanoAOD file to write (replaced; parent folders are created).
        process: ``"dis"``, ``"zjets"``, ``"ttbar"`` or ``"tautau"``; ``None`` tells it
            from the file's branches.
        tree: the tree of ``source``.
        run, luminosity_block, lepton_pdg_id: as in :func:`nanoaod_columns`.

    Returns:
        The path written.

    Raises:
        InputFileError, MissingBranchError: ``source`` is missing, unreadable or lacks a
            branch (named, with the file).
        ConfigError: for a process without a NanoAOD format, or one not told by the file.
    """
    source = Path(source)
    check_event_file(source, tree, ("event",))
    process = _detect(source, tree) if process is None else _check_process(process)
    events = _read(source, tree, process)
    columns = nanoaod_columns(
        events, process, run=run, luminosity_block=luminosity_block, lepton_pdg_id=lepton_pdg_id
    )
    return write_tree(path, columns, NANOAOD_TREE, other_trees={RUNS_TREE: runs_columns(columns)})


def _beam_lepton(params: Sequence[str]) -> int:
    """The lepton beam's PDG id set by a ``Beams:idB`` Pythia setting (11 without one)."""
    lepton = 11
    for line in (params,) if isinstance(params, str) else params:
        name, _, value = str(line).partition("=")
        if name.strip().lower() == "beams:idb":
            try:
                lepton = int(value.strip())
            except ValueError as exc:
                raise ConfigError(
                    f"Pythia setting {line!r}: Beams:idB must be an integer "
                    "PDG id, e.g. 'Beams:idB = -11'."
                ) from exc
    return lepton


@contextlib.contextmanager
def nanoaod_output(
    path: str | os.PathLike[str],
    process: str,
    *,
    seed: int,
    params: Sequence[str] = (),
) -> Iterator[Path]:
    """Give a temporary path for hepnnlr's file; on leaving, write ``path`` as NanoAOD.

    For a caller that already knows how to make the sample in hepnnlr's format (the
    ``generate`` command): it writes there, and the events are converted on exit. The
    temporary folder lies beside ``path`` (the same disk) and is removed in any case;
    nothing is written to ``path`` if the body fails.

    Args:
        path: the NanoAOD file.
        process: the sample's process (checked before the body runs).
        seed: the sample's seed, which sets the event ids (:func:`event_ids`).
        params: the Pythia settings of the sample (``Beams:idB`` sets the DIS lepton).

    Raises:
        ConfigError: for a process without a NanoAOD format or a bad seed.
    """
    process = _check_process(process)
    run, block = event_ids(seed)
    lepton = _beam_lepton(params)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".hepnnlr-nanoaod-") as tmp:
        source = Path(tmp) / "events.root"
        yield source
        convert_to_nanoaod(
            source, path, process, run=run, luminosity_block=block, lepton_pdg_id=lepton
        )


def make_nanoaod_sample(
    path: str | os.PathLike[str], process: str, /, *, seed: int, **kwargs: Any
) -> Path:
    """Generate a sample with its ``make_*_sample`` and write it in the NanoAOD format.

    Args:
        path: the NanoAOD ``.root`` file (replaced; parent folders are created).
        process: ``"dis"``, ``"zjets"``, ``"ttbar"`` or ``"tautau"``.
        seed: the sample's seed (the same seed gives the same events as in hepnnlr's
            format).
        **kwargs: the other arguments of the process's ``make_*_sample`` (e.g.
            ``setup="sim", n_events=1000`` for DIS, ``process="signal"`` for ττ), except
            ``tree``.

    Returns:
        The path written.

    Raises:
        ConfigError: for a process without a NanoAOD format, or a bad argument of the
            sample.

    Example:
        >>> make_nanoaod_sample("z.nano.root", "zjets", n_events=500, seed=3)  # doctest: +SKIP
    """
    if "tree" in kwargs:
        raise ConfigError(
            f"tree={kwargs['tree']!r}: a NanoAOD file's tree is always "
            f"{NANOAOD_TREE!r}; leave tree out."
        )
    with nanoaod_output(path, process, seed=seed, params=kwargs.get("params", ())) as source:
        # the generators import Pythia and FastJet: only the one asked for is loaded
        GENERATORS[process].load()(source, seed=seed, **kwargs)
    return Path(path)
