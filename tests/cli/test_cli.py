"""The `hepnnlr` command: sub-commands run, and hepnnlr errors come out as one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hepnnlr.cli import main
from hepnnlr.samples import check_event_file


def test_generate_writes_a_checked_file(tmp_path, capsys):
    out = tmp_path / "sim.root"
    assert main(["generate", "dis", "--setup", "sim", "--events", "300", "--seed", "4",
                 "-o", str(out), "--no-progress"]) == 0
    assert check_event_file(out) == 300
    assert "wrote 300 sim dis events" in capsys.readouterr().out


def test_bad_pythia_parameter_is_reported_without_traceback(tmp_path, capsys):
    code = main(["generate", "dis", "--setup", "sim", "--events", "10", "-o",
                 str(tmp_path / "x.root"), "--param", "NoSuch:setting=3", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("hepnnlr: error:") and "NoSuch:setting" in err
    assert "Traceback" not in err


def test_param_needs_name_equals_value(tmp_path, capsys):
    code = main(["generate", "dis", "--setup", "sim", "--events", "10", "-o",
                 str(tmp_path / "x.root"), "--param", "StringZ:aLund"])
    assert code == 2
    assert "NAME=VALUE" in capsys.readouterr().err


def test_unfold_with_a_missing_file_names_it(tmp_path, dis_sim_file, capsys):
    missing = tmp_path / "nowhere.root"
    code = main(["unfold", "--data", str(missing), "--sim", str(dis_sim_file),
                 "-o", str(tmp_path / "out"), "--executor", "iterative", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "nowhere.root" in err and "Traceback" not in err


def test_unfold_names_a_remote_file_it_cannot_open(tmp_path, dis_sim_file, capsys):
    """A URL is kept whole (a Path would fold root://host//f into root:/host/f) and is not
    checked for existence on the local disk; the failure to open it names it."""
    url = "root://nonexistent.invalid//store/data.root"
    code = main(["unfold", "--data", url, "--sim", str(dis_sim_file),
                 "-o", str(tmp_path / "out"), "--executor", "iterative", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert url in err and "could not be opened" in err and "does not exist" not in err


def test_console_script_is_installed():
    result = subprocess.run([sys.executable, "-m", "hepnnlr.cli.main", "--help"],
                            capture_output=True, text=True, check=True)
    for command in ("generate", "unfold", "demo"):
        assert command in result.stdout


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    """The README's main job at a reduced size (slow: a few minutes)."""
    assert main(["demo", "-o", str(tmp_path), "--events", "5000", "--executor", "dask",
                 "--epochs", "3", "--no-progress"]) == 0
    assert (tmp_path / "histograms.root").exists() and (tmp_path / "weights.parquet").exists()


def test_generate_zjets_with_a_tuned_parameter(tmp_path):
    import uproot

    out = tmp_path / "z.root"
    assert main(["generate", "zjets", "--events", "50", "-o", str(out), "--no-progress",
                 "--param", "TimeShower:alphaSvalue=0.15"]) == 0
    with uproot.open(out) as f:
        theta = f["events"]["theta_alphaS"].array(library="np")
    assert len(theta) == 50 and (theta == 0.15).all()


def test_generate_calo_and_unknown_shower_field(tmp_path, capsys):
    out = tmp_path / "calo.root"
    assert main(["generate", "calo", "--events", "20", "-o", str(out), "--no-progress",
                 "--param", "energy_gev=20"]) == 0
    assert out.exists()
    assert main(["generate", "calo", "--events", "5", "-o", str(out), "--no-progress",
                 "--param", "energy=20"]) == 2
    assert "ShowerConfig has no field 'energy'" in capsys.readouterr().err


def test_generate_ttbar_with_a_top_mass(tmp_path):
    import uproot

    out = tmp_path / "tt.root"
    assert main(["generate", "ttbar", "--events", "20", "-o", str(out), "--no-progress",
                 "--param", "6:m0=175"]) == 0
    with uproot.open(out) as f:
        assert (f["events"]["top_mass"].array(library="np") == 175.0).all()
