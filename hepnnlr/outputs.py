"""Writing outputs safely: atomic files, guarded output folders, a completeness record.

Every file hepnnlr writes goes through :func:`atomic_write`: the writer fills a temporary
name in the same folder (``.<stem>.hepnnlr-tmp-<pid>-<token><suffix>``, the suffix kept for
writers that read it: Keras, matplotlib, NumPy) and the file is renamed into place only when
the writer returned; on any error, or a kill, the final path keeps its old content (or stays
absent). A rename inside one folder is atomic on POSIX file systems, so a reader sees the
old file or the new one, never a part.

A run's folder is guarded by :class:`OutputFolder` (``hepnnlr unfold|fit|infer|demo``):

1. the folder is created and probed for writing before any work, so an unwritable ``-o``
   fails at once (:class:`~hepnnlr.errors.OutputError`, exit code 2 on the command line);
2. a lock file ``.hepnnlr.lock`` (pid, host, start time, command) stops a second run into the
   same folder while the first runs, naming the holder; the lock of a process that is no
   longer running on this host is taken over, and said so;
3. a folder holding another run's ``summary.json``, or the checkpoints of an unfinished
   run (``.hepnnlr-checkpoint/``, :mod:`hepnnlr.methods.checkpoint`), is refused unless
   ``overwrite`` (the ``--overwrite`` option: start over) or ``resume`` (``--resume``:
   continue from the checkpoints); with either, the old ``summary.json`` is removed first,
   so the folder never pairs new files with an old summary;
4. :meth:`OutputFolder.finish` writes ``summary.json`` last: the run's own summary (what the
   workflow wrote there) plus ``files`` (every file the run wrote, with size and sha256)
   and ``"complete": true``. A folder is complete only then; :func:`check_complete` says
   whether one is. The checkpoints are then removed: they are not outputs (and are never
   listed in ``files``), so a resumed run's summary lists what an uninterrupted one does.

Standard library only.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import os
import secrets
import shutil
import socket
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from hepnnlr.errors import OutputError

_LOG = logging.getLogger(__name__)

__all__ = [
    "CHECKPOINT_NAME",
    "LOCK_NAME",
    "SUMMARY_NAME",
    "OutputFolder",
    "atomic_write",
    "check_complete",
    "check_output_file",
    "file_sha256",
    "write_json",
    "write_text",
]

LOCK_NAME = ".hepnnlr.lock"
"""The lock file of a run in progress, inside its output folder."""
CHECKPOINT_NAME = ".hepnnlr-checkpoint"
"""The folder of a run's checkpoints, inside its output folder (not an output)."""
SUMMARY_NAME = "summary.json"
"""The file written last: a folder is complete when it says ``"complete": true``."""
_TMP_MARK = ".hepnnlr-tmp-"


def _writable_folder(folder: Path, what: str) -> None:
    """Create ``folder`` (and parents) and write a probe file into it, or say why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = _mkstemp(folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        reason = error.strerror or str(error)
        if isinstance(error, (FileExistsError, NotADirectoryError)):
            reason = f"{reason}: a part of the path is a file, not a folder"
        raise OutputError(
            f"cannot write {what} into {folder} ({reason}); choose a writable folder with "
            "-o/--output, or fix the folder's permissions."
        ) from error


def _mkstemp(folder: Path) -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(prefix=f".probe{_TMP_MARK}{os.getpid()}-", dir=folder)


def _temporary_name(path: Path) -> Path:
    return path.with_name(
        f".{path.stem}{_TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}{path.suffix}"
    )


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` when the block ends.

    The writer writes the whole file to the yielded path (any writer that takes a path:
    uproot, pyarrow, Keras, matplotlib, ...). When the block exits normally the file is
    flushed to disk and renamed over ``path`` in one step; when it raises (or the process
    is killed) ``path`` is untouched and the temporary file is removed (a kill leaves it
    under its hidden temporary name, which no reader opens).

    Raises:
        OutputError: The folder cannot be created or written, or the writer wrote nothing.

    Example:
        >>> with atomic_write("out/histograms.root") as tmp:  # doctest: +SKIP
        ...     with uproot.recreate(tmp) as f:
        ...         f["h"] = histogram
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(
            f"cannot create the folder of {path} ({error.strerror or error}); choose a "
            "writable output path."
        ) from error
    tmp = _temporary_name(path)
    try:
        yield tmp
        if not tmp.is_file():
            raise OutputError(f"the writer of {path} wrote no file to {tmp.name}.")
        with open(tmp, "rb") as handle:  # durable before the rename makes it visible
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (:func:`atomic_write`); returns ``path``."""
    path = Path(path)
    with atomic_write(path) as tmp:
        tmp.write_text(text)
    return path


def write_json(path: str | os.PathLike[str], document: Any, **dumps: Any) -> Path:
    """Write ``json.dumps(document, **dumps)`` (indent 2 unless given) to ``path``
    atomically; returns ``path``."""
    dumps.setdefault("indent", 2)
    return write_text(path, json.dumps(document, **dumps))


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_output_file(
    path: str | os.PathLike[str], *, overwrite: bool = False, option: str = "--overwrite"
) -> Path:
    """Before a command makes one output file: its folder writable, no file replaced unasked.

    The temporary files that killed writers of ``path`` left next to it are removed.

    Raises:
        OutputError: ``path`` exists and ``overwrite`` is false (naming ``option``), is a
            folder, or its folder cannot be created or written.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"the output file {path} is a folder; give a file name with -o.")
    if path.exists() and not overwrite:
        raise OutputError(
            f"the output file {path} exists; pass {option} to replace it (it is replaced "
            "only once the new file is complete), or choose another path with -o."
        )
    _writable_folder(path.parent, f"the output file {path.name}")
    # what an earlier, killed writer of this file left under its temporary name
    _remove_dead_temporaries(path.parent.glob(f".{path.stem}{_TMP_MARK}*{path.suffix}"))
    return path


def _remove_dead_temporaries(candidates: Iterable[Path]) -> None:
    """Delete the temporary files of writers that were killed (their pid is gone)."""
    for tmp in candidates:
        pid = tmp.name.split(_TMP_MARK, 1)[1].split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)) and tmp.is_file():
            tmp.unlink(missing_ok=True)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


class OutputFolder:
    """The guard of a run's output folder (module docstring): probe, lock, refuse, finish.

    Use as a context manager around the whole run, before any work::

        with OutputFolder(out, overwrite=args.overwrite) as folder:
            run_the_job(...)          # writes its files and its summary.json
            folder.finish()           # summary.json: + files, sha256, "complete": true

    Args:
        path: The output folder (created with its parents).
        overwrite: Replace the outputs of another run (its ``summary.json``, the checkpoints
            of an unfinished one) instead of refusing the folder.
        resume: Continue an unfinished run in the folder from its checkpoints (kept; the
            old ``summary.json`` is removed) instead of refusing the folder.
        command: What runs, for the lock and the messages (default: the command line).

    Its notes (taking over a stale lock: a warning; resuming or replacing another run's
    outputs: info) go to the ``hepnnlr.outputs`` logger.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        resume: bool = False,
        command: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.overwrite = bool(overwrite)
        self.resume = bool(resume)
        self.command = command if command is not None else " ".join(["hepnnlr", *sys.argv[1:]])
        self._token = secrets.token_hex(8)
        self._before: dict[str, tuple[int, int, int]] | None = None
        self.started = ""

    @property
    def lock_file(self) -> Path:
        return self.path / LOCK_NAME

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / CHECKPOINT_NAME

    @property
    def summary_file(self) -> Path:
        return self.path / SUMMARY_NAME

    def __enter__(self) -> OutputFolder:
        _writable_folder(self.path, "the run's outputs")
        self._acquire()
        try:
            self._refuse_or_clear()
            self._before = self._signatures()
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._release()

    # The lock ---------------------------------------------------------------------------
    def _acquire(self) -> None:
        self.started = _now()
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": self.started,
            "command": self.command,
            "token": self._token,
        }
        for _ in range(3):
            # Written whole under a temporary name, then linked: the lock appears with its
            # content or not at all, and link() fails if another run holds it.
            tmp = _temporary_name(self.lock_file)
            tmp.write_text(json.dumps(record))
            try:
                os.link(tmp, self.lock_file)
                return
            except FileExistsError:
                holder = self._holder()
                if not self._stale(holder):
                    raise OutputError(self._held_message(holder)) from None
                self._take_over(holder)
            finally:
                tmp.unlink(missing_ok=True)
        raise OutputError(self._held_message(self._holder()))

    def _holder(self) -> dict[str, Any]:
        try:
            holder = json.loads(self.lock_file.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {"unreadable": True}
        return holder if isinstance(holder, dict) else {"unreadable": True}

    def _stale(self, holder: dict[str, Any]) -> bool:
        if not holder:  # released between our link() and our read: try again
            return True
        pid = holder.get("pid")
        return (
            holder.get("host") == socket.gethostname()
            and isinstance(pid, int)
            and not _pid_alive(pid)
        )

    def _held_message(self, holder: dict[str, Any]) -> str:
        if holder.get("unreadable"):
            who = "a lock file that cannot be read"
        else:
            who = (
                f"process {holder.get('pid')} on host {holder.get('host')} (started "
                f"{holder.get('started')}: {holder.get('command')})"
            )
        return (
            f"the output folder {self.path} is in use by another run: {who} holds "
            f"{self.lock_file}. Wait for it to finish or choose another folder with -o; "
            "if that run is gone (another machine, a crash), remove the lock file."
        )

    def _take_over(self, holder: dict[str, Any]) -> None:
        # Renaming the stale lock away is atomic: of two runs taking it over, one renames
        # it and the other finds it gone and retries the link (and meets the winner's lock).
        aside = self.lock_file.with_name(f"{LOCK_NAME}.stale-{self._token}")
        try:
            os.rename(self.lock_file, aside)
        except FileNotFoundError:
            return
        aside.unlink(missing_ok=True)
        if holder:
            _LOG.warning(
                "took over the lock of %s: process %s (started %s: %s) is no longer "
                "running; its run was interrupted and its partial outputs are replaced.",
                self.path,
                holder.get("pid"),
                holder.get("started"),
                holder.get("command"),
            )
        self._remove_dead_temporaries()  # the killed run's half-written files

    def _release(self) -> None:
        if self._holder().get("token") == self._token:
            self.lock_file.unlink(missing_ok=True)

    def _remove_dead_temporaries(self) -> None:
        _remove_dead_temporaries(self.path.rglob(f".*{_TMP_MARK}*"))

    # Another run's outputs --------------------------------------------------------------
    def _refuse_or_clear(self) -> None:
        checkpoints = self.checkpoint_dir.is_dir()
        if not self.summary_file.exists() and not checkpoints:
            return
        if self.summary_file.exists():
            complete = _summary(self.summary_file).get("complete") is True
            what = f"the outputs of another run ({SUMMARY_NAME}, " + (
                "complete)" if complete else "incomplete)"
            )
        else:
            what = f"the checkpoints of an unfinished run ({CHECKPOINT_NAME}/)"
        if not (self.overwrite or self.resume):
            fix = (
                "pass --resume to continue it, --overwrite to start over"
                if checkpoints
                else "pass --overwrite to replace them"
            )
            raise OutputError(
                f"the output folder {self.path} holds {what}; {fix}, or choose another "
                "folder with -o."
            )
        # First, so that from now on the folder reads as incomplete until finish().
        self.summary_file.unlink(missing_ok=True)
        if self.resume:
            _LOG.info("--resume: continuing the run in %s", self.path)
        else:
            shutil.rmtree(self.checkpoint_dir, ignore_errors=True)
            _LOG.info("--overwrite: replacing %s in %s", what, self.path)

    # The end ----------------------------------------------------------------------------
    def _signatures(self) -> dict[str, tuple[int, int, int]]:
        """``{relative path: (inode, mtime, size)}`` of the folder's files, summary, lock
        and temporaries excepted. An atomic write makes a new inode, so a file rewritten
        within one tick of the file system's clock still differs."""
        out = {}
        for path in sorted(self.path.rglob("*")):
            name = path.name
            if name in (LOCK_NAME, SUMMARY_NAME) or _TMP_MARK in name or not path.is_file():
                continue
            if CHECKPOINT_NAME in path.relative_to(self.path).parts:
                continue
            stat = path.stat()
            out[path.relative_to(self.path).as_posix()] = (
                stat.st_ino,
                stat.st_mtime_ns,
                stat.st_size,
            )
        return out

    def written_files(self) -> dict[str, dict[str, Any]]:
        """``{relative path: {"size_bytes", "sha256"}}`` of every file written since the
        folder was opened (new, or changed since), summary and lock excepted."""
        if self._before is None:
            raise OutputError("OutputFolder.written_files() needs the folder opened (with ...).")
        return {
            rel: {"size_bytes": size, "sha256": file_sha256(self.path / rel)}
            for rel, (ino, mtime, size) in self._signatures().items()
            if self._before.get(rel) != (ino, mtime, size)
        }

    def finish(self, extra: Mapping[str, Any] | None = None) -> Path:
        """Write ``summary.json`` last: the run's summary (the file's content if the
        workflow wrote one), ``extra``, the written files with their sha256, the run
        (command, pid, host, start and end) and ``"complete": true``."""
        document = _summary(self.summary_file) if self.summary_file.exists() else {}
        document.update(extra or {})
        document["files"] = self.written_files()
        document["run"] = {
            "command": self.command,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": self.started,
            "finished": _now(),
        }
        document["complete"] = True
        written = write_json(self.summary_file, document, default=str)
        shutil.rmtree(self.checkpoint_dir, ignore_errors=True)
        return written


def _summary(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def check_complete(folder: str | os.PathLike[str]) -> list[str]:
    """What keeps ``folder`` from being a complete run: ``[]`` when its ``summary.json``
    says ``"complete": true`` and every file it lists has its size and sha256."""
    folder = Path(folder)
    summary = folder / SUMMARY_NAME
    if not summary.is_file():
        return [f"{summary} does not exist: the run did not finish"]
    document = _summary(summary)
    if document.get("complete") is not True:
        return [f"{summary} does not say complete: true: the run did not finish"]
    problems = []
    for rel, entry in document.get("files", {}).items():
        path = folder / rel
        if not path.is_file():
            problems.append(f"{path} is listed in {SUMMARY_NAME} but missing")
        elif path.stat().st_size != entry.get("size_bytes") or file_sha256(path) != entry.get(
            "sha256"
        ):
            problems.append(f"{path} differs from the sha256 in {SUMMARY_NAME}")
    return problems
