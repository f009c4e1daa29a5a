"""Write and check the ROOT event files of hepnnlr (format in ``docs/architecture.md``).

One ``TTree`` (default name ``events``) with one entry per generated event. Flat branches
``event`` (uint64), ``weight``, ``gen_Q2``, ``gen_x``, ``gen_y`` (float64), ``pass_gen``,
``pass_reco`` (bool); each collection ``X`` of the in-memory array becomes a counter
branch ``nX`` and branches ``X_<field>`` (NanoAOD naming, written by uproot's
``mktree``/``extend``). Electrons are stored in double precision (the electron method
amplifies rounding for backward electrons), particle collections in single precision.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import uproot

from hepnnlr.errors import ConfigError, InputFileError, MissingBranchError
from hepnnlr.outputs import atomic_write
from hepnnlr.rootfiles import SAMPLE_RECORD, check_root_size, check_stored_entries, sample_record

__all__ = [
    "BASKET_EVENTS",
    "COLLECTION_FIELDS",
    "DEFAULT_TREE",
    "FLAT_BRANCHES",
    "REQUIRED_BRANCHES",
    "check_event_file",
    "collection_branches",
    "read_events",
    "write_events",
    "write_tree",
    "check_tree_file",
    "read_tree_columns",
    "required_branches",
    "typed_columns",
    "write_typed_tree",
]

DEFAULT_TREE = "events"
"""Name of the event tree."""

FLAT_BRANCHES: dict[str, np.dtype] = {
    "event": np.dtype(np.uint64),
    "weight": np.dtype(np.float64),
    "gen_Q2": np.dtype(np.float64),
    "gen_x": np.dtype(np.float64),
    "gen_y": np.dtype(np.float64),
    "pass_gen": np.dtype(np.bool_),
    "pass_reco": np.dtype(np.bool_),
}
"""One value per event: name → dtype."""

_ELECTRON = {name: np.dtype(np.float64) for name in ("pt", "eta", "phi", "E")}
_PARTICLE = {
    "pt": np.dtype(np.float32),
    "eta": np.dtype(np.float32),
    "phi": np.dtype(np.float32),
    "E": np.dtype(np.float32),
    "pdgId": np.dtype(np.int32),
    "charge": np.dtype(np.int8),
}
COLLECTION_FIELDS: dict[str, dict[str, np.dtype]] = {
    "GenElectron": _ELECTRON,
    "GenPart": _PARTICLE,
    "RecoElectron": _ELECTRON,
    "RecoPart": _PARTICLE,
}
"""Jagged collections: name → {field → dtype}."""


def collection_branches(collection: str, fields: Iterable[str]) -> tuple[str, ...]:
    """The branches of one jagged collection ``X`` (NanoAOD naming): ``nX``, ``X_<field>``."""
    return (f"n{collection}", *(f"{collection}_{f}" for f in fields))


def required_branches(
    flat: Iterable[str], collections: Mapping[str, Iterable[str]]
) -> tuple[str, ...]:
    """Every branch of a file with ``flat`` branches and jagged ``collections`` (name →
    fields), in that order: the flat ones, then each collection's counter and fields."""
    return tuple(flat) + tuple(
        branch
        for collection, fields in collections.items()
        for branch in collection_branches(collection, fields)
    )


REQUIRED_BRANCHES: tuple[str, ...] = required_branches(FLAT_BRANCHES, COLLECTION_FIELDS)
"""Every branch an event file must have."""

BASKET_EVENTS = 10_000
"""Events per ``extend`` call (one basket per branch) of every file hepnnlr writes.

Readers decompress whole baskets: with baskets of 10k events a processor chunk of 5k–50k
events reads what it needs, so its time and memory follow the chunk, not the file (one
basket for a whole file made every chunk of a 300k-event file decompress all of it).
Processor chunk sizes that are multiples of it read no basket twice."""

_DEFAULT_CHUNK = BASKET_EVENTS


def check_chunk_size(chunk_size: object) -> None:
    """A clear error unless ``chunk_size`` (events per basket) is a positive integer."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ConfigError(f"chunk_size must be a positive integer, got {chunk_size!r}.")


def write_tree(
    path: str | os.PathLike[str],
    columns: dict[str, ak.Array],
    tree: str = DEFAULT_TREE,
    *,
    chunk_size: int = BASKET_EVENTS,
    other_trees: dict[str, dict[str, np.ndarray]] | None = None,
) -> Path:
    """Write equal-length columns as a new TTree, ``chunk_size`` events per basket.

    Flat arrays become one branch each; a jagged array of records becomes uproot's
    ``nX`` counter with ``X_field`` sub-branches. The parent folder is created.

    The file is written under a temporary name and renamed to ``path`` only when it is
    complete (:func:`hepnnlr.outputs.atomic_write`): an interrupted write leaves no file,
    or the old one untouched, at ``path``. The number of events is stored first, as the
    string object :data:`hepnnlr.rootfiles.SAMPLE_RECORD`, so a reader refuses a file
    with fewer entries than it was written for.

    ``other_trees`` (tree name → flat columns, e.g. NanoAOD's ``Runs``) are written into
    the same file after it, in one basket each, so they appear and vanish with it.

    Raises:
        ConfigError: for a non-positive ``chunk_size``.
    """
    check_chunk_size(chunk_size)
    path = Path(path)
    n_events = len(next(iter(columns.values()))) if columns else 0
    with atomic_write(path) as tmp, uproot.recreate(tmp) as file:
        file[SAMPLE_RECORD] = sample_record(tree, n_events)
        out = file.mktree(tree, {name: ak.type(a).content for name, a in columns.items()})
        for start in range(0, n_events, chunk_size):
            out.extend({name: array[start : start + chunk_size] for name, array in columns.items()})
        for name, flat in (other_trees or {}).items():
            file.mktree(name, {key: a.dtype for key, a in flat.items()}).extend(flat)
    return path


def _fix(path: Path) -> str:
    return f"generate one with `hepnnlr generate dis --setup sim --events N -o {path}`"


def typed_columns(
    events: ak.Array,
    flat: Mapping[str, Any],
    collections: Mapping[str, Mapping[str, Any]],
    *,
    what: str,
    fix: str,
) -> dict[str, ak.Array]:
    """The columns of a file format taken from ``events``, cast to the format's dtypes.

    Args:
        events: The events to write.
        flat: Per-event fields: name → dtype.
        collections: Jagged collections: name → {field: dtype}.
        what: The kind of events, for messages (e.g. ``"tt̄ events"``).
        fix: How to get the missing fields, for messages (e.g. ``"run X on them first"``).

    Raises:
        MissingBranchError: a listed field, collection or collection field is missing,
            named in the message.
    """
    present = set(ak.fields(events))
    for name in (*flat, *collections):
        if name not in present:
            kind = "field" if name in flat else "collection"
            raise MissingBranchError(
                f"cannot write {what} without {kind} {name!r} (they have {sorted(present)}); {fix}."
            )
    columns = {name: ak.values_astype(events[name], dtype) for name, dtype in flat.items()}
    for collection, fields in collections.items():
        coll = events[collection]
        missing = [f for f in fields if f not in ak.fields(coll)]
        if missing:
            raise MissingBranchError(
                f"collection {collection!r} lacks field {missing[0]!r} (it has "
                f"{ak.fields(coll)}); it must have {list(fields)}."
            )
        columns[collection] = ak.zip(
            {f: ak.values_astype(coll[f], dtype) for f, dtype in fields.items()}
        )
    return columns


def _canonical(events: ak.Array) -> dict[str, ak.Array]:
    """The format's columns of ``events``, cast to the file's dtypes."""
    return typed_columns(
        events,
        FLAT_BRANCHES,
        COLLECTION_FIELDS,
        what="events",
        fix="run hepnnlr.samples.simulate_detector on the generated events first",
    )


def write_typed_tree(
    path: str | os.PathLike[str],
    events: ak.Array,
    flat: dict[str, type],
    collections: dict[str, dict[str, type]],
    *,
    what: str,
    fix: str,
    tree: str = DEFAULT_TREE,
) -> Path:
    """Write ``events`` as a TTree of the given flat branches and jagged collections.

    Each flat field is cast to its dtype; each collection becomes one uproot record branch
    (``nX`` counter + ``X_field`` sub-branches) of the listed fields and dtypes.

    Args:
        what: The kind of events, for messages (e.g. ``"tt̄ events"``).
        fix: How to get the missing fields, for messages (e.g. ``"run X on them first"``).

    Raises:
        MissingBranchError: if a listed field or collection is missing, naming it.
    """
    columns = typed_columns(events, flat, collections, what=what, fix=fix)
    return write_tree(path, columns, tree)


def write_events(
    path: str | os.PathLike[str],
    events: ak.Array,
    tree: str = DEFAULT_TREE,
    *,
    chunk_size: int = _DEFAULT_CHUNK,
) -> Path:
    """Write events to a new ROOT file as a TTree in the hepnnlr event format.

    Fields of ``events`` that are not part of the format are not written. An existing
    file at ``path`` is replaced.

    Args:
        path: output ``.root`` file.
        events: output of :func:`hepnnlr.samples.simulate_detector`.
        tree: tree name.
        chunk_size: events per ``extend`` call (one basket per branch and chunk).

    Returns:
        The path written.

    Raises:
        MissingBranchError: if a field of the format is missing.
        ConfigError: for a non-positive ``chunk_size``.
    """
    check_chunk_size(chunk_size)  # before the events are checked: a config error first
    return write_tree(path, _canonical(events), tree, chunk_size=chunk_size)


def check_event_file(
    path: str | os.PathLike[str],
    tree: str = DEFAULT_TREE,
    branches: Iterable[str] | None = None,
) -> int:
    """Check that ``path`` is a readable event file with the tree and branches needed.

    Args:
        path: ROOT file.
        tree: name of the TTree.
        branches: branches to require; :data:`REQUIRED_BRANCHES` if not given.

    Returns:
        The number of entries of the tree.

    Raises:
        InputFileError, MissingBranchError: as :func:`check_tree_file`.
    """
    required = REQUIRED_BRANCHES if branches is None else tuple(branches)
    return check_tree_file(
        path,
        tree,
        required,
        what="event file",
        fix=_fix(Path(path)),
        writer="hepnnlr.samples.write_events",
    )


def check_tree_file(
    path: str | os.PathLike[str],
    tree: str,
    required: Iterable[str],
    *,
    what: str,
    fix: str,
    writer: str,
    hint: str = "",
) -> int:
    """Check that ``path`` is a complete, readable ROOT file whose TTree ``tree`` has the
    ``required`` branches: the loader check of every hepnnlr sample format.

    Args:
        path: ROOT file.
        tree: Name of the TTree.
        required: Branches it must have.
        what: The kind of file, for messages (``"event file"``).
        fix: How to make a good one, for messages.
        writer: The function that writes the format, for a tree of another class.
        hint: Said before ``fix`` when a branch is missing (e.g. a likely mix-up).

    Returns:
        The number of entries of the tree.

    Raises:
        InputFileError: the file is missing, unreadable or truncated (shorter than its
            header says, or fewer entries than it was written for), or has no TTree
            ``tree`` (the message lists the trees it has).
        MissingBranchError: a required branch is missing (named, with the file).
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{what} {str(path)!r} does not exist; {fix}.")
    check_root_size(path, fix=fix)
    try:
        file = uproot.open(path)
    except Exception as exc:  # uproot raises many types for a damaged or foreign file
        raise InputFileError(
            f"{what} {str(path)!r} is not a readable ROOT file ({exc}); {fix}."
        ) from exc
    with file:
        classes = {key.rsplit(";", 1)[0]: cls for key, cls in file.classnames().items()}
        trees = sorted(name for name, cls in classes.items() if cls == "TTree")
        if tree not in classes:
            raise InputFileError(
                f"{what} {str(path)!r} has no tree {tree!r}; its trees are {trees}. "
                f"Pass tree=<one of them>, or {fix}."
            )
        if classes[tree] != "TTree":
            raise InputFileError(
                f"{tree!r} in {what} {str(path)!r} is a {classes[tree]}, not a TTree; "
                f"rewrite it with {writer}, or {fix}."
            )
        ttree = file[tree]
        present = set(ttree.keys())
        missing = [name for name in required if name not in present]
        if missing:
            raise MissingBranchError(
                f"{what} {str(path)!r}, tree {tree!r}, has no branch {missing[0]!r} "
                f"(missing: {missing}); {hint}{fix}."
            )
        entries = int(ttree.num_entries)
        check_stored_entries(file, tree, entries, str(path), fix=fix)
        return entries


def read_tree_columns(
    path: str | os.PathLike[str],
    tree: str,
    flat: Iterable[str],
    collections: Mapping[str, Iterable[str]],
    *,
    entry_start: int | None = None,
    entry_stop: int | None = None,
) -> ak.Array:
    """Read a checked file's ``flat`` branches as fields and each ``nX``/``X_*`` group of
    ``collections`` (name → fields) as a jagged record field ``X``, one entry per event:
    the in-memory layout the writers take. For tests and small files; analyses read files
    through ``hepnnlr.schema``."""
    flat = tuple(flat)
    collections = {name: tuple(fields) for name, fields in collections.items()}
    branches = [*flat, *(f"{c}_{f}" for c, fields in collections.items() for f in fields)]
    with uproot.open(path) as file:
        arrays = file[tree].arrays(branches, entry_start=entry_start, entry_stop=entry_stop)
    out: dict[str, ak.Array] = {name: arrays[name] for name in flat}
    for collection, fields in collections.items():
        out[collection] = ak.zip({f: arrays[f"{collection}_{f}"] for f in fields})
    return ak.zip(out, depth_limit=1)


def read_events(
    path: str | os.PathLike[str],
    tree: str = DEFAULT_TREE,
    *,
    entry_start: int | None = None,
    entry_stop: int | None = None,
) -> ak.Array:
    """Read an event file back into the in-memory layout written by :func:`write_events`.

    Flat branches become fields; each ``nX``/``X_*`` group becomes a jagged record field
    ``X``. This is for tests and small files; analyses read files through
    ``hepnnlr.schema``.

    Raises:
        InputFileError, MissingBranchError: as :func:`check_event_file`.
    """
    check_event_file(path, tree)
    return read_tree_columns(
        path,
        tree,
        FLAT_BRANCHES,
        COLLECTION_FIELDS,
        entry_start=entry_start,
        entry_stop=entry_stop,
    )
