"""Fixtures for the schema tests: rewritten copies of a real Pythia event file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import awkward as ak
import pytest
import uproot
from shared_data import shared_data_file


def _grouped_branches(path: Path, entry_stop: int) -> dict[str, ak.Array]:
    """The file's branches, with each nX/X_* group zipped into one record array ``X``."""
    with uproot.open(path) as file:
        tree = file["events"]
        arrays = tree.arrays(entry_stop=entry_stop)
        names = list(tree.keys())
    out: dict[str, ak.Array] = {}
    for name in names:
        if name.startswith("n") and any(k.startswith(name[1:] + "_") for k in names):
            prefix = name[1:]
            members = [k for k in names if k.startswith(prefix + "_")]
            out[prefix] = ak.zip({k[len(prefix) + 1 :]: arrays[k] for k in members})
        elif not any(name.startswith(k + "_") and "n" + k in names for k in _prefixes(names)):
            out[name] = arrays[name]
    return out


def _prefixes(names: Sequence[str]) -> list[str]:
    return [n[1:] for n in names if n.startswith("n")]


@pytest.fixture
def rewrite_events(dis_sim_file, tmp_path) -> Callable[..., Path]:
    """Factory: copy the first events of the Pythia sample into a new file, optionally
    without some branches, under another tree name, or as an RNTuple."""

    def make(
        name: str,
        *,
        drop: Sequence[str] = (),
        treename: str = "events",
        rntuple: bool = False,
        entry_stop: int = 300,
    ) -> Path:
        branches = _grouped_branches(Path(dis_sim_file), entry_stop)
        for branch in drop:
            prefix, _, field = branch.partition("_")
            if branch in branches:
                del branches[branch]
            elif prefix in branches and field in ak.fields(branches[prefix]):
                kept = [f for f in ak.fields(branches[prefix]) if f != field]
                branches[prefix] = branches[prefix][kept]
            else:
                raise KeyError(branch)
        path = tmp_path / name
        with uproot.recreate(path) as file:
            if rntuple:
                file[treename] = branches  # uproot writes an RNTuple this way
            else:
                file.mktree(treename, {k: v.type for k, v in branches.items()})
                file[treename].extend(branches)
        return path

    return make


@pytest.fixture(scope="session")
def cms_file() -> Callable[[str], Path]:
    """``cms_file(name)``: path of a real CMS file of the shared, read-only data folder
    (tests/shared_data.py). Never write next to these files."""
    return shared_data_file
