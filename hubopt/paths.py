"""Paths checked before any work: every folder hubopt will write into, every file it
will write, in a planner's words.

A command checks all its output paths at once and stops before reading or solving
(:func:`check_outputs`): a file where a folder is expected (or the reverse), a folder
that cannot be written. A write that fails later all the same (a full disk) becomes
one clear error naming the file (:func:`write_error`), never a traceback.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from pathlib import Path

from hubopt.errors import InputError, OutputError

#: what a failed write's error number means, and what to do about it
_WHY = {
    errno.ENOSPC: "the disk is full; free some space (or write elsewhere with --out) and run again",
    errno.EDQUOT: "the disk quota is used up; free some space and run again",
    errno.EROFS: "the disk is read-only; write elsewhere with --out",
    errno.EACCES: "permission denied; write to a folder you can write to, or change its rights",
    errno.EPERM: "permission denied; write to a folder you can write to, or change its rights",
    errno.ENOTDIR: "part of the path is a file, not a folder; remove the file or choose "
    "another folder",
    errno.EEXIST: "a file stands where a folder is needed; move the file away or write "
    "elsewhere with --out",
    errno.EISDIR: "a folder is in the way of the file; remove it or choose another folder",
}


def _existing_ancestor(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def folder_problems(path: Path, what: str) -> list[str]:
    """Why the folder ``path`` (``what``: how the planner gave it, e.g. "--out") could
    not be created or written into; ``[]`` when it can."""
    base = _existing_ancestor(path)
    if not base.is_dir():
        if base == path:
            return [f"{what} {path} is a file, not a folder; give a folder (it is made if "
                    "missing), or move the file away"]  # fmt: skip
        return [f"{what} {path}: {base} is a file, so no folder can be made inside it; "
                "give another folder"]  # fmt: skip
    if not os.access(base, os.W_OK | os.X_OK):
        return [f"{what} {path}: {base} cannot be written (read-only, or not yours); give a "
                "folder you can write to"]  # fmt: skip
    return []


def check_outputs(
    folders: Iterable[tuple[Path | None, str]] = (),
    files: Iterable[tuple[Path | None, str]] = (),
) -> None:
    """Raise one :class:`~hubopt.errors.OutputError` naming every output folder and file
    (each with how it was given) that could not be written, before any work. A file's
    folder is checked once, as the folder it is in."""
    given: list[tuple[Path, str]] = [(f, what) for f, what in folders if f is not None]
    problems = [p for path, what in given for p in folder_problems(path, what)]
    for path, what in files:
        if path is None:
            continue
        if path.is_dir():
            problems.append(f"{what} {path} is a folder, not a file; give a file name, or "
                            "move the folder away")  # fmt: skip
        elif not any(path.parent == f for f, _ in given):
            problems += folder_problems(path.parent, f"{what} {path}: its folder")
    if problems:
        raise OutputError("hubopt cannot write its outputs there; nothing was done.", problems)


def check_input_folders(folders: Iterable[tuple[Path | None, str]]) -> None:
    """Raise one :class:`~hubopt.errors.InputError` naming every folder to read from
    (each with how it was given) that is missing or is a file."""
    problems = []
    for path, what in folders:
        if path is None or path.is_dir():
            continue
        if path.exists():
            problems.append(f"{what} {path} is a file, not a folder; give the folder it is in")
        else:
            problems.append(f"{what} {path} does not exist; check the path")
    if problems:
        raise InputError("A folder to read from is not there; nothing was done.", problems)


def write_error(exc: OSError, where: Path | str) -> OutputError:
    """A write that failed (``exc``) while writing into ``where``, in a planner's words."""
    target = exc.filename or where
    why = _WHY.get(exc.errno or 0, exc.strerror or str(exc))
    return OutputError(
        f"Could not write {target}: {why}.",
        [f"the files already written in {where} may be incomplete; run again once fixed"],
    )
