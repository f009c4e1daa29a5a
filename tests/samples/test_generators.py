"""The generator table (hepnnlr/samples/generators.py): the generate command's options become
each process's make_*_sample arguments, and fit's parameter points its generated samples."""

from __future__ import annotations

import inspect

import pytest

from hepnnlr.cli.main import build_parser
from hepnnlr.errors import ConfigError
from hepnnlr.samples.generators import GENERATORS
from hepnnlr.samples.nanoaod import NANOAOD_PROCESSES

# one command line per process, each option set away from its default
COMMANDS = {
    "dis": ["--setup", "data", "--param", "StringZ:aLund = 0.7"],
    "zjets": ["--param", "TimeShower:alphaSvalue=0.125", "--param", "StringZ:bLund=0.9"],
    "ttbar": ["--param", "6:m0=175", "--param", "PartonLevel:MPI=on"],
    "calo": ["--param", "energy_gev=80"],
    "tautau": ["--process", "background", "--tau-energy-scale-range", "0.9", "1.1", "--mpi"],
}


def _arguments(process):
    argv = ["generate", process, "--events", "7", "--seed", "3", "-o", "x.root"]
    args = build_parser().parse_args([*argv, "--workers", "2", *COMMANDS[process]])
    return GENERATORS[process].arguments(vars(args))


def test_the_table_is_every_process_and_its_nanoaod_flag_the_writers():
    assert list(GENERATORS) == list(COMMANDS)
    assert [n for n, g in GENERATORS.items() if g.nanoaod] == list(NANOAOD_PROCESSES)


@pytest.mark.parametrize("process", list(COMMANDS))
def test_options_become_arguments_the_maker_accepts(process):
    arguments = _arguments(process)
    inspect.signature(GENERATORS[process].load()).bind("x.root", **arguments)  # names valid
    assert (arguments["n_events"], arguments["seed"], arguments["workers"]) == (7, 3, 2)


def test_pythia_settings_that_are_parameters_become_them():
    assert _arguments("dis")["params"] == ("StringZ:aLund = 0.7",)
    zjets = _arguments("zjets")
    assert zjets["theta"].alphaS == 0.125 and zjets["params"] == ("StringZ:bLund = 0.9",)
    ttbar = _arguments("ttbar")
    assert (ttbar["top_mass"], ttbar["mpi"], ttbar["params"]) == (175.0, True, ())
    assert _arguments("calo")["config"].energy_gev == 80.0
    tautau = _arguments("tautau")
    assert (tautau["process"], tautau["tau_energy_scale"], tautau["mpi"]) == (
        "background",
        (0.9, 1.1),
        True,
    )


def test_fit_points_and_their_errors():
    point = {"alphaS": 0.13, "aLund": 0.7, "probStoUD": 0.25}
    assert GENERATORS["zjets"].at_point(point)["theta"].as_dict() == point
    assert GENERATORS["ttbar"].at_point({"top_mass": 170.0}, mpi=True) == {
        "top_mass": 170.0,
        "mpi": True,
    }
    with pytest.raises(ConfigError, match=r"'dis' has no parameters.*\['zjets', 'ttbar'\]"):
        GENERATORS["dis"].at_point({"theta": 1.0})
    with pytest.raises(ConfigError, match="ShowerConfig has no field 'energy'"):
        GENERATORS["calo"].arguments({"events": 1, "seed": 1, "param": ["energy=3"]})
