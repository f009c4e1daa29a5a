"""The table of hepnnlr's event generators: process name → how to make its sample.

One entry per process of ``hepnnlr generate`` (``dis``, ``zjets``, ``ttbar``, ``calo``,
``tautau``): its help line, the command-line options it adds to the common ones, its
``make_*_sample`` (named as ``"module:function"``, imported only when asked: the
generators load Pythia and FastJet), how the options become that function's arguments,
and the label of the summary line. The CLI builds its sub-commands from this table, the
NanoAOD writer (:mod:`hepnnlr.samples.nanoaod`) finds its makers in it, and ``hepnnlr
fit`` generates its θ points through :meth:`Generator.at_point` — one table instead of a
string ``if`` chain in each.

Options are argparse's ``add_argument`` arguments as data, so that this layer does not
import the CLI.

Example:
    >>> from hepnnlr.samples.generators import GENERATORS
    >>> GENERATORS["zjets"].make("z.root", {"events": 100, "seed": 1,
    ...     "param": ["StringZ:aLund=0.7"]})  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hepnnlr.errors import ConfigError

__all__ = [
    "COMMON_OPTIONS",
    "GENERATORS",
    "Generator",
    "Option",
    "pythia_pairs",
    "pythia_settings",
]

_REQUIRED = {"required": True, "default": argparse.SUPPRESS}  # nothing to show in --help


@dataclass(frozen=True)
class Option:
    """One command-line option: ``parser.add_argument(*flags, **settings)``.

    Attributes:
        flags: the option strings, e.g. ``("-o", "--output")``.
        settings: the keyword arguments of ``add_argument`` (read-only).
        exclusive: options of one process sharing a non-empty name form a mutually
            exclusive group.
    """

    flags: tuple[str, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)
    exclusive: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))


def _switch(name: str, default: bool, help_text: str) -> Option:
    # the one spelling of an on/off option on every verb (hepnnlr.cli.options.add_switch)
    return Option(
        (f"--{name}",),
        {"action": argparse.BooleanOptionalAction, "default": default, "help": help_text},
    )


def _common(param_help: str) -> tuple[Option, ...]:
    """The options every process has, ``--param``'s help its own."""
    return (
        Option(("--events",), {"type": int, **_REQUIRED, "help": "number of events"}),
        Option(("--seed",), {"type": int, "default": 1, "help": "random seed"}),
        Option(("-o", "--output"), {"type": Path, **_REQUIRED, "help": "output ROOT file"}),
        Option(
            ("--param",),
            {"action": "append", "default": [], "metavar": "NAME=VALUE", "help": param_help},
        ),
        Option(("--workers",), {"type": int, "default": 1, "help": "generator processes"}),
        _switch("progress", True, "progress bar"),
    )


COMMON_OPTIONS: tuple[str, ...] = ("events", "seed", "output", "param", "workers", "progress")
"""The option values every :meth:`Generator.make` reads (argparse's ``dest`` names)."""


def pythia_pairs(pairs: Sequence[str]) -> list[tuple[str, str]]:
    """``--param NAME=VALUE`` strings as ``(name, value)``, both stripped.

    Raises:
        ConfigError: for a string without ``=`` (named, with an example).
    """
    out = []
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(
                f"--param {pair!r} is not NAME=VALUE; write e.g. "
                "--param TimeShower:alphaSvalue=0.13"
            )
        name, value = pair.split("=", 1)
        out.append((name.strip(), value.strip()))
    return out


def pythia_settings(pairs: Sequence[str]) -> tuple[str, ...]:
    """``--param`` strings as Pythia's ``"Name = value"`` lines."""
    return tuple(f"{name} = {value}" for name, value in pythia_pairs(pairs))


def _run(values: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments every ``make_*_sample`` takes from the common options."""
    return {
        "n_events": values["events"],
        "seed": values["seed"],
        "workers": values.get("workers", 1),
        "progress": values.get("progress", True),
    }


@dataclass(frozen=True)
class Generator:
    """One process of ``hepnnlr generate``.

    Attributes:
        name: the process (``hepnnlr generate NAME``).
        help: one line for ``hepnnlr generate --help``.
        maker: its ``make_*_sample`` as ``"module:function"`` (``function(path, **kwargs)``).
        options: the options it adds, before the common ones (:data:`COMMON_OPTIONS`).
        param_help: the help of its ``--param``.
        arguments: option values (argparse's ``dest`` → value) → the maker's keyword
            arguments (the path aside).
        label: option values → the words before the process in the summary line
            (``"sim "`` for ``dis --setup sim``).
        point: a parameter point θ (name → value) and the MPI switch → the maker's
            arguments that generate it (``hepnnlr fit``'s generated samples); ``None``
            where the process has no θ of its own.
        nanoaod: whether ``--format nanoaod`` can write it (not ``calo``: cells, not
            particles).
    """

    name: str
    help: str
    maker: str
    arguments: Callable[[Mapping[str, Any]], dict[str, Any]]
    options: tuple[Option, ...] = ()
    param_help: str = "extra Pythia setting (repeatable), e.g. --param StringZ:aLund=0.8"
    label: Callable[[Mapping[str, Any]], str] = lambda values: ""
    point: Callable[[Mapping[str, float], bool], dict[str, Any]] | None = None
    nanoaod: bool = True

    @property
    def all_options(self) -> tuple[Option, ...]:
        """Its own options, then the common ones."""
        return (*self.options, *_common(self.param_help))

    def load(self) -> Callable[..., Path]:
        """The ``make_*_sample`` function (imports its module: Pythia, FastJet)."""
        module, _, function = self.maker.partition(":")
        return getattr(importlib.import_module(module), function)

    def make(self, path: str | os.PathLike[str], values: Mapping[str, Any]) -> Path:
        """Write the sample at ``path`` from option values (argparse's ``dest`` names).

        Raises:
            ConfigError: for a malformed ``--param`` or a bad value (named).
        """
        return self.load()(path, **self.arguments(values))

    def at_point(self, point: Mapping[str, float], *, mpi: bool = False) -> dict[str, Any]:
        """The maker's arguments that generate the parameter point ``point``.

        Raises:
            ConfigError: for a process without parameters θ.
        """
        if self.point is None:
            with_theta = [n for n, g in GENERATORS.items() if g.point is not None]
            raise ConfigError(
                f"process {self.name!r} has no parameters theta to generate at {dict(point)}; "
                f"choose one of {with_theta}."
            )
        return self.point(point, mpi)


def _dis(values: Mapping[str, Any]) -> dict[str, Any]:
    return {"setup": values["setup"], "params": pythia_settings(values["param"]), **_run(values)}


def _zjets_theta(point: Mapping[str, float]) -> Any:
    from hepnnlr.samples.zjets import ZJetsTheta

    return ZJetsTheta(**point)


def _zjets(values: Mapping[str, Any]) -> dict[str, Any]:
    from hepnnlr.samples.zjets import ZJetsTheta

    # the tuned settings become θ (stored per event), every other one goes to Pythia
    names = {setting: name for name, setting in ZJetsTheta.SETTING_NAMES.items()}
    theta, params = {}, []
    for name, value in pythia_pairs(values["param"]):
        if name in names:
            theta[names[name]] = float(value)
        else:
            params.append(f"{name} = {value}")
    return {"theta": ZJetsTheta(**theta), "params": tuple(params), **_run(values)}


def _ttbar(values: Mapping[str, Any]) -> dict[str, Any]:
    # the top mass is the sample's θ (stored per event); MPI has its own switch
    top_mass, mpi, params = 172.5, False, []
    for name, value in pythia_pairs(values["param"]):
        if name == "6:m0":
            top_mass = float(value)
        elif name == "PartonLevel:MPI":
            mpi = value.lower() in ("on", "true", "1")
        else:
            params.append(f"{name} = {value}")
    return {"top_mass": top_mass, "mpi": mpi, "params": tuple(params), **_run(values)}


def _calo(values: Mapping[str, Any]) -> dict[str, Any]:
    from hepnnlr.samples.calo import ShowerConfig

    fields = ShowerConfig.__dataclass_fields__
    config = {}
    for name, value in pythia_pairs(values["param"]):
        if name not in fields:
            raise ConfigError(
                f"--param {name}: ShowerConfig has no field {name!r}; its fields are "
                f"{sorted(fields)}."
            )
        config[name] = type(getattr(ShowerConfig(), name))(value)
    return {"config": ShowerConfig(**config), **_run(values)}


def _tautau(values: Mapping[str, Any]) -> dict[str, Any]:
    scale_range = values.get("tau_energy_scale_range")
    scale = tuple(scale_range) if scale_range is not None else values["tau_energy_scale"]
    return {
        "process": values["process_name"],
        "tau_energy_scale": scale,
        "mpi": values["mpi"],
        "params": pythia_settings(values["param"]),
        **_run(values),
    }


_GENERATORS = (
    Generator(
        "dis",
        "deep-inelastic e p scattering at HERA energies",
        "hepnnlr.samples.production:make_dis_sample",
        _dis,
        options=(
            Option(
                ("--setup",),
                {
                    "choices": ("data", "sim"),
                    **_REQUIRED,
                    "help": "physics setup: 'data' or 'sim' (see hepnnlr.samples.DIS_SETUPS)",
                },
            ),
        ),
        label=lambda values: f"{values['setup']} ",
    ),
    Generator(
        "zjets",
        "e+e- -> Z -> light-quark dijets at 91.19 GeV (SRGN parton-shower example)",
        "hepnnlr.samples.zjets:make_zjets_sample",
        _zjets,
        param_help="Pythia setting (repeatable); TimeShower:alphaSvalue, StringZ:aLund and "
        "StringFlav:probStoUD set the tuned parameters theta",
        point=lambda point, mpi: {"theta": _zjets_theta(point)},  # e+e-: no MPI
    ),
    Generator(
        "ttbar",
        "ttbar at 13 TeV, one W -> mu nu and one W -> hadrons (SRGN top-mass example)",
        "hepnnlr.samples.ttbar_reco:make_ttbar_sample",
        _ttbar,
        param_help="Pythia setting (repeatable); 6:m0 sets the top mass, PartonLevel:MPI=on "
        "switches multiparton interactions on (off by default: 5x faster)",
        point=lambda point, mpi: {"top_mass": point.get("top_mass", 172.5), "mpi": mpi},
    ),
    Generator(
        "calo",
        "50 GeV photon showers on a 30x30x30 calorimeter grid (DCTRGAN toy)",
        "hepnnlr.samples.calo:make_calo_sample",
        _calo,
        param_help="ShowerConfig field (repeatable), e.g. --param energy_gev=100",
        nanoaod=False,
    ),
    Generator(
        "tautau",
        "H -> tau tau (signal) or Z -> tau tau (background) at 13 TeV, one leptonic and one "
        "hadronic tau (signal-strength example)",
        "hepnnlr.samples.tautau_reco:make_tautau_sample",
        _tautau,
        options=(
            Option(
                ("--process",),
                {
                    "dest": "process_name",
                    "choices": ("signal", "background"),
                    **_REQUIRED,
                    "help": "gg -> H(125) -> tau tau, or gamma*/Z -> tau tau",
                },
            ),
            Option(
                ("--tau-energy-scale",),
                {
                    "type": float,
                    "default": 1.0,
                    "metavar": "Z",
                    "help": "hadronic-tau energy scale z applied at reco level",
                },
                exclusive="scale",
            ),
            Option(
                ("--tau-energy-scale-range",),
                {
                    "type": float,
                    "nargs": 2,
                    "metavar": ("LO", "HI"),
                    "help": "draw z per event uniformly in [LO, HI] instead",
                },
                exclusive="scale",
            ),
            _switch("mpi", False, "multiparton interactions (off: faster)"),
        ),
        param_help="extra Pythia setting (repeatable)",
    ),
)

GENERATORS: Mapping[str, Generator] = MappingProxyType({g.name: g for g in _GENERATORS})
"""Process name → its :class:`Generator`, in ``hepnnlr generate --help``'s order."""
