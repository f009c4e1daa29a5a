"""Neutral-current deep-inelastic e p scattering at HERA with Pythia 8.

Reference: Torales Acosta, Wamorkar, Mikuni, Nachman, "Stabilizing Neural Likelihood Ratio
Estimation", arXiv:2503.20753.

The setup follows Sec. 3 of arXiv:2503.20753 (H1 high-Q² DIS): a 920 GeV
proton (beam A, along +z) on a 27.6 GeV electron (beam B, along −z), t-channel γ/Z
exchange with Q² > 100 GeV², the dipole recoil scheme for initial-state radiation, no
photon flux from the electron (``PDF:lepton = off``) and no QED radiation off leptons
(``TimeShower:QEDshowerByL = off``).

Two physics setups play the roles of the two generators of arXiv:2503.20753: ``"sim"`` (like Rapgap,
used to unfold) and ``"data"`` (like Djangoh, the pseudo-data); see :data:`DIS_SETUPS`.

What is stored per event (:func:`generate_dis`):

* ``gen_Q2``, ``gen_x``, ``gen_y``: true kinematics at the lepton vertex, q = k − k′ with
  k the lepton beam (event-record entry 2), k′ the outgoing lepton of the hard process
  (status ±23) and P the proton beam (entry 1): Q² = −q², y = P·q/P·k, x = Q²/(2P·q).
* ``GenElectron``: the scattered electron. Rule: start from the outgoing lepton of the hard
  process and follow it down through its same-flavour daughters (carbon copies made by the
  showers' recoil bookkeeping, or the lepton after a photon emission if QED radiation is
  switched back on) to the final state. Other final-state electrons (from hadron decays)
  are never picked. With QED radiation off, as here, this e⁻ carries the lepton-vertex
  momentum in about 99% of events, and the electron method on it reproduces ``gen_Q2``
  to 1e-7. In the remaining ~1% an initial-state emission has no colour-connected
  final-state recoiler, Pythia falls back to global recoil and the electron takes part of
  the recoil (status 44); there its electron-method Q² differs from ``gen_Q2`` (by a
  median of 0.7%, at most ~30%). ``pass_gen`` uses the final-state electron.
* ``GenPart``: every other stable (final-state) particle except neutrinos.
* ``weight``: the nominal Pythia event weight (1 for these unweighted events).

Reproducibility: events are generated in blocks of ``block_size`` events; block ``b``
uses Pythia's random-number stream reseeded with a seed derived from ``(seed, b)``. The
output depends on ``seed`` and ``block_size`` only, never on ``workers``: each worker
initialises one Pythia with the same settings and init seed, then reseeds it per block,
and the event record of a block does not depend on which blocks came before.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError, HepnnlrError
from hepnnlr.samples._record import BlockColumns, columns_from_batch, concatenate_blocks
from hepnnlr.samples.blocks import run_blocks
from hepnnlr.samples.kinematics import HERA_ELECTRON_ENERGY, HERA_PROTON_ENERGY

__all__ = [
    "BLOCK_SIZE",
    "DISSetup",
    "DIS_SETUPS",
    "HERA_SETTINGS",
    "generate_dis",
    "get_setup",
    "setting_lines",
]

BLOCK_SIZE = 1000
"""Default number of events per independently seeded block."""

_MAX_PYTHIA_SEED = 900_000_000
_MAX_TRIES_PER_EVENT = 10.0  # nextBatch gives up after this many tries per requested event

HERA_SETTINGS: tuple[str, ...] = (
    "Beams:frameType = 2",
    "Beams:idA = 2212",
    "Beams:idB = 11",
    f"Beams:eA = {HERA_PROTON_ENERGY:g}",
    f"Beams:eB = {HERA_ELECTRON_ENERGY:g}",
    "WeakBosonExchange:ff2ff(t:gmZ) = on",
    "PhaseSpace:Q2Min = 100",
    "PDF:lepton = off",
    "TimeShower:QEDshowerByL = off",
    "SpaceShower:dipoleRecoil = on",
)
"""Beams and process common to every setup: NC DIS at HERA II with Q² > 100 GeV²."""

_QUIET_SETTINGS: tuple[str, ...] = (
    "Print:quiet = on",
    "Print:errors = off",
    "Init:showProcesses = off",
    "Init:showChangedSettings = off",
    "Init:showChangedParticleData = off",
    "Init:showMultipartonInteractions = off",
    "Next:numberCount = 0",
    "Next:numberShowInfo = 0",
    "Next:numberShowProcess = 0",
    "Next:numberShowEvent = 0",
    "Next:numberShowLHA = 0",
)

_RESERVED_PREFIXES = ("random:",)


def setting_lines(params: str | Iterable[str]) -> tuple[str, ...]:
    """Extra Pythia settings of a ``params`` argument as a tuple of ``"Name = value"``
    lines: a single string is one line (not a sequence of characters)."""
    return (params,) if isinstance(params, str) else tuple(params)


def _check_lhc_config(config: object) -> None:
    """``mpi`` a bool and ``params`` a tuple of valid Pythia lines, in a generator config of
    the LHC samples (``TTbarConfig``, ``TauTauConfig``); errors name the class."""
    owner = type(config).__name__
    mpi, params = config.mpi, config.params  # type: ignore[attr-defined]
    if not isinstance(mpi, bool):
        raise ConfigError(f"{owner}.mpi must be True or False, got {mpi!r}.")
    if not isinstance(params, tuple):
        raise ConfigError(
            f"{owner}.params must be a tuple of strings, got {type(params).__name__}; wrap "
            "the list in tuple(...)."
        )
    for line in params:
        _check_setting_line(line, origin=f"{owner}.params")


def _check_setting_line(line: object, *, origin: str) -> str:
    if not isinstance(line, str) or "=" not in line:
        raise ConfigError(
            f"{origin}: Pythia setting {line!r} is not of the form 'Name = value' "
            "(e.g. 'StringZ:aLund = 0.7')."
        )
    name = line.split("=", 1)[0].strip()
    if not name:
        raise ConfigError(f"{origin}: Pythia setting {line!r} has no name before '='.")
    if name.lower().startswith(_RESERVED_PREFIXES):
        raise ConfigError(
            f"{origin}: Pythia setting {line!r} is managed by hepnnlr (random seeds are "
            "derived from the seed argument); pass seed=... instead."
        )
    if name.lower() == "phasespace:increasemaximum":
        raise ConfigError(
            f"{origin}: Pythia setting {line!r} would let the phase-space maximum grow "
            "during the run, so a block's events would depend on the blocks generated "
            "before it in the same process, and the output on the number of workers. "
            "Remove it."
        )
    return line


@dataclass(frozen=True)
class DISSetup:
    """A named set of Pythia settings applied on top of :data:`HERA_SETTINGS`.

    Attributes:
        name: short name used on the command line (``--setup NAME``).
        settings: Pythia ``"Name = value"`` strings.
        description: one line saying what the setup models.
    """

    name: str
    settings: tuple[str, ...]
    description: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError(f"DISSetup.name must be a non-empty string, got {self.name!r}.")
        if not isinstance(self.settings, tuple):
            raise ConfigError(
                f"DISSetup.settings of {self.name!r} must be a tuple of strings, got "
                f"{type(self.settings).__name__}; wrap the list in tuple(...)."
            )
        for line in self.settings:
            _check_setting_line(line, origin=f"DISSetup {self.name!r}")


_SIM = DISSetup(
    name="sim",
    settings=(),
    description="Pythia 8 defaults: Monash 2013 tune, NNPDF2.3 QCD+QED LO (plays Rapgap).",
)

_DATA = DISSetup(
    name="data",
    settings=(
        "PDF:pSet = 8",
        "SigmaProcess:factorMultFac = 4.0",
        "BeamRemnants:primordialKThard = 3.0",
        "TimeShower:alphaSvalue = 0.118",
        "StringZ:aLund = 0.3",
    ),
    description=(
        "CTEQ6L1 at twice the factorisation scale, harder primordial kT, world-average "
        "FSR alpha_s, harder fragmentation (plays Djangoh)."
    ),
)

DIS_SETUPS: Mapping[str, DISSetup] = MappingProxyType({"sim": _SIM, "data": _DATA})
"""The two physics setups, keyed by name.

``"sim"`` (the simulation, like Rapgap in arXiv:2503.20753): Pythia 8.317 defaults, i.e. the
Monash 2013 tune with the NNPDF2.3 QCD+QED LO proton PDF (``PDF:pSet = 13``).

``"data"`` (the pseudo-data, like Djangoh) departs from the defaults in QCD modelling only:

* ``PDF:pSet = 8``: CTEQ6L1 instead of NNPDF2.3 LO. On its own this moves the Q², x and y
  spectra by only 1–2% (LO PDFs agree well at 0.005 < x < 0.3).
* ``SigmaProcess:factorMultFac = 4.0`` (default 1): factorisation scale μ_F² four times
  the default (μ_F doubled, the usual scale variation). The PDFs are probed at a higher
  scale, which shifts events to lower x and higher y, and the initial-state shower starts
  higher, which broadens the jet–electron azimuthal imbalance.
* ``BeamRemnants:primordialKThard = 3.0`` GeV (default 1.8): wider intrinsic transverse
  momentum of the struck parton, again broadening Δφ = π − |φ_jet − φ_e|.
* ``TimeShower:alphaSvalue = 0.118`` (default 0.1365): final-state shower α_s(m_Z) set to
  the world average, as in NLO-matched setups: less final-state radiation, fewer and
  harder particles.
* ``StringZ:aLund = 0.3`` (default 0.68; 0.3 was Pythia's default before the Monash
  tune): less suppression of hard string breaks, so harder hadrons and fewer of them.

Measured differences, data relative to sim. Generator truth, 40,000 events each:
⟨Q²⟩ −7%, ⟨ln Q²⟩ −0.04, ⟨ln x⟩ −0.17, ⟨y⟩ +10% (each beyond 5σ). Particle level,
10,000 events each, events with electron-method Q² > 150 GeV² and 0.08 < y < 0.7,
fiducial particles, kT R = 1 jets with pT > 5 GeV: particle multiplicity −5%, particle
⟨pT⟩ +8%, jet ⟨τ21⟩ −3%, jet ⟨Δφ⟩ +40% (each beyond 4σ).
"""


def get_setup(setup: str | DISSetup) -> DISSetup:
    """Return a :class:`DISSetup` given it or its name in :data:`DIS_SETUPS`.

    Raises:
        ConfigError: for an unknown name.
    """
    if isinstance(setup, DISSetup):
        return setup
    if setup not in DIS_SETUPS:
        raise ConfigError(
            f"unknown DIS setup {setup!r}; choose one of {sorted(DIS_SETUPS)} or pass a DISSetup."
        )
    return DIS_SETUPS[setup]


def _derived_seed(seed: int, stream: int) -> int:
    """A Pythia seed in [1, 900000000] derived from ``(seed, stream)`` by SeedSequence."""
    state = np.random.SeedSequence([seed, stream]).generate_state(1, dtype=np.uint64)[0]
    return int(state % np.uint64(_MAX_PYTHIA_SEED)) + 1


_INIT_STREAM = 2**32 - 1  # stream of the seed used during Pythia.init()


def _describe_rejection(pythia: object, line: str) -> str:
    name = line.split("=", 1)[0].strip()
    settings = pythia.settings  # type: ignore[attr-defined]
    known = any(
        check(name)
        for check in (
            settings.isFlag,
            settings.isMode,
            settings.isParm,
            settings.isWord,
            settings.isFVec,
            settings.isMVec,
            settings.isPVec,
            settings.isWVec,
        )
    )
    if known:
        return (
            f"Pythia rejected the value in {line!r}: {name} exists, but the value is out of "
            "its allowed range or not of its type. Check the allowed range in the Pythia 8 "
            "manual (https://pythia.org/latest-manual/)."
        )
    return (
        f"Pythia rejected the setting {line!r}: there is no setting called {name!r}. Check "
        "its spelling against the Pythia 8 manual (https://pythia.org/latest-manual/)."
    )


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Send writes to file descriptor 1 to /dev/null while the block runs.

    Pythia prints some rejections to C++ standard output even with ``warn=False``;
    hepnnlr reports them in its own exception instead.
    """
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no file descriptor 1 (embedded interpreters): leave it alone
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class _BlockGenerator:
    """One initialised Pythia instance that generates reseeded blocks of events.

    The DIS, Z -> jets and tt̄ generators share it; each subclass only turns a
    ``nextBatch`` array into its columns in :meth:`generate`.
    """

    label = "DIS"

    def __init__(self, settings: tuple[str, ...], init_seed: int) -> None:
        import pythia8mc  # heavy C++ extension: imported where it is used

        self._pythia = _configured_pythia(pythia8mc, settings)
        for line in ("Random:setSeed = on", f"Random:seed = {init_seed}"):
            self._pythia.readString(line, False)
        with _quiet_stdout():
            ok = self._pythia.init()
        if not ok:
            raise ConfigError(
                f"Pythia failed to initialise {self.label} with the settings "
                f"{list(settings)}; a PDF set or parameter combination is not usable. "
                "Remove or change the last --param you added."
            )
        self._charges: dict[int, float] = {}

    def charge(self, pdg_id: int) -> float:
        """Electric charge of a particle id (cached)."""
        if pdg_id not in self._charges:
            self._charges[pdg_id] = float(self._pythia.particleData.charge(pdg_id))
        return self._charges[pdg_id]

    def batch(self, block_seed: int, n_events: int) -> ak.Array:
        """``n_events`` events of the block seeded ``block_seed``, as Pythia's awkward array."""
        self._pythia.rndm.init(block_seed)
        batch = self._pythia.nextBatch(n_events, _MAX_TRIES_PER_EVENT)
        if len(batch) != n_events:
            raise HepnnlrError(
                f"Pythia produced only {len(batch)} of {n_events} {self.label} events in the "
                f"block seeded with {block_seed}; too many events failed. Check the --param "
                "settings."
            )
        return batch

    def generate(self, block_seed: int, n_events: int) -> BlockColumns:
        return columns_from_batch(self.batch(block_seed, n_events), self.charge)

    @classmethod
    def cached(cls, settings: tuple[str, ...], init_seed: int) -> _BlockGenerator:
        """This process's generator of this class for ``(settings, init_seed)``.

        Initialising Pythia costs ~0.2 s, so a process (a pool worker, or the caller with
        ``workers=1``) keeps the generators of the sample it is making: at most two at a
        time (e.g. the two lepton-charge setups of tt̄ or ττ); others are dropped first.
        """
        key = (cls, settings, init_seed)
        if key not in _process_generators:
            if len(_process_generators) >= 2:
                _process_generators.clear()
            _process_generators[key] = cls(settings, init_seed)
        return _process_generators[key]


_process_generators: dict[tuple[type, tuple[str, ...], int], _BlockGenerator] = {}


def _configured_pythia(pythia8mc: object, settings: tuple[str, ...]) -> object:
    """A Pythia with the quiet settings and ``settings`` read; not yet initialised."""
    pythia = pythia8mc.Pythia("", False)  # type: ignore[attr-defined]
    for line in _QUIET_SETTINGS:
        pythia.readString(line, False)
    for line in settings:
        with _quiet_stdout():
            accepted = pythia.readString(line, False)
        if not accepted:
            raise ConfigError(_describe_rejection(pythia, line))
    return pythia


def _check_settings(settings: tuple[str, ...]) -> None:
    """Read ``settings`` into a throw-away Pythia: a bad one fails here, before a pool starts."""
    import pythia8mc  # heavy C++ extension: imported where it is used

    _configured_pythia(pythia8mc, settings)


def _full_settings(setup: DISSetup, params: Iterable[str]) -> tuple[str, ...]:
    extra = setting_lines(params)
    for line in extra:
        _check_setting_line(line, origin="params")
    return HERA_SETTINGS + setup.settings + extra


def _generate_block_in_worker(
    settings: tuple[str, ...], init_seed: int, block_seed: int, n_events: int
) -> BlockColumns:
    """One block, with this process's cached generator (a pool worker's, or the caller's)."""
    return _BlockGenerator.cached(settings, init_seed).generate(block_seed, n_events)


def _validate_counts(n_events: int, block_size: int, workers: int, seed: int) -> None:
    for name, value, minimum in (
        ("n_events", n_events, 1),
        ("block_size", block_size, 1),
        ("workers", workers, 1),
        ("seed", seed, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ConfigError(f"{name} must be an integer, got {value!r}.")
        if value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, got {value}.")


def _block_sizes(n_events: int, block_size: int) -> list[int]:
    n_full, rest = divmod(n_events, block_size)
    return [block_size] * n_full + ([rest] if rest else [])


def _seeded_blocks(
    n_events: int, block_size: int, workers: int, seed: int
) -> tuple[int, list[tuple[int, int]]]:
    """The seeding every Pythia generator of hepnnlr shares, after checking the counts:
    the generator's init seed and ``(block seed, events)`` of each block."""
    _validate_counts(n_events, block_size, workers, seed)
    init_seed = _derived_seed(int(seed), _INIT_STREAM)
    sizes = _block_sizes(int(n_events), int(block_size))
    return init_seed, [(_derived_seed(int(seed), b), n) for b, n in enumerate(sizes)]


def _run_alternating_blocks(
    task: Callable[..., Any], tasks: list[tuple], *, workers: int, progress: bool, description: str
) -> list[Any]:
    """:func:`~hepnnlr.samples.blocks.run_blocks` for generators whose even and odd blocks
    need different Pythia settings (``tasks[b][0]``; tt̄ and ττ alternate a lepton's
    charge): a pool gets the blocks grouped by parity so each worker tends to keep one
    generator; the result is order-free."""
    return run_blocks(
        task,
        tasks,
        workers=workers,
        progress=progress,
        description=description,
        order=sorted(range(len(tasks)), key=lambda b: b % 2),
        before_pool=lambda: _check_settings(tasks[0][0]),
    )


def generate_dis(
    n_events: int,
    *,
    seed: int,
    setup: str | DISSetup = "sim",
    params: Sequence[str] = (),
    workers: int = 1,
    progress: bool = False,
    block_size: int = BLOCK_SIZE,
) -> ak.Array:
    """Generate neutral-current DIS events at HERA energies with Pythia 8.

    Args:
        n_events: number of events (at least 1).
        seed: non-negative integer; with ``block_size`` it fixes the output completely.
        setup: a name in :data:`DIS_SETUPS` or a :class:`DISSetup`.
        params: extra Pythia settings ``"Name = value"`` applied after the setup's, as
            given by ``--param`` on the command line. ``Random:*`` settings are refused.
        workers: number of processes; the output does not depend on it.
        progress: show a progress bar (one step per block).
        block_size: events per independently seeded block.

    Returns:
        Awkward array, one entry per event, with fields ``event`` (uint64, 0..N-1),
        ``weight``, ``gen_Q2``, ``gen_x``, ``gen_y`` (float64), ``GenElectron`` (list of
        0 or 1 records ``pt, eta, phi, E``, float64) and ``GenPart`` (list of records
        ``pt, eta, phi, E`` float32, ``pdgId`` int32, ``charge`` int8).

    Raises:
        ConfigError: for a bad argument, or a Pythia setting that Pythia rejects (the
            message names the setting).

    Example:
        >>> events = generate_dis(100, seed=1, setup="data")   # doctest: +SKIP
        >>> bool(ak.all(events.gen_Q2 > 100))                  # doctest: +SKIP
        True
    """
    init_seed, seeded = _seeded_blocks(n_events, block_size, workers, seed)
    settings = _full_settings(get_setup(setup), params)
    blocks = run_blocks(
        _generate_block_in_worker,
        [(settings, init_seed, block_seed, n) for block_seed, n in seeded],
        workers=workers,
        progress=progress,
        description="Pythia DIS",
        before_pool=lambda: _check_settings(settings),
    )
    return concatenate_blocks(blocks)
