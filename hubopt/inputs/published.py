"""Files as the NHS and ONS publish them: zip archives, and the date each file is of.

A published file may be the table itself (``gp-reg-pat-prac-all.csv``) or a zip
archive holding it (ODS ``epraccur.zip`` holds ``epraccur.csv``; ``epcn.zip`` holds
``ePCN.xlsx``; the ONS Postcode Directory zip holds ``Data/ONSPD_<MON>_<YEAR>_UK.csv``
among documents and lookups). :func:`open_table` opens either, choosing the member by
name and size, and :class:`Published` records the date the file is of, found (in this
order) in its ``EXTRACT_DATE`` column, its name (``gp-reg-pat-prac-all_2021-01``,
``ePCN_2022-02-16``, ``ONSPD_FEB_2024_UK``) or its zip member's date; a register with
none of these is dated by the latest date written in it (it is at least that recent).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

import pandas as pd

from hubopt.errors import InputError

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
)}  # fmt: skip
_ISO = re.compile(
    r"(?<!\d)(20\d\d|19\d\d)[-_]?(0[1-9]|1[0-2])(?:[-_]?(0[1-9]|[12]\d|3[01]))?(?!\d)"
)
_MON_YEAR = re.compile(r"(?<![a-z])(" + "|".join(_MONTHS) + r")[a-z]*[-_ ]?(20\d\d)(?!\d)", re.I)


@dataclass(frozen=True)
class Published:
    """The date a published file is of, and where that date was read.

    ``exact`` is false when the date is only a lower bound (the latest date written
    in a register that carries no date of its own).
    """

    date: date
    how: str
    exact: bool = True

    def __str__(self) -> str:
        when = self.date.isoformat()
        return f"{when} ({self.how})" if self.exact else f"{when} or later ({self.how})"


def date_from_name(name: str) -> date | None:
    """The date in a published file name: ``gp-reg-pat-prac-all_2021-01.csv`` gives
    2021-01-01, ``ePCN_2022-02-16.xlsx`` 2022-02-16, ``ONSPD_FEB_2024_UK.zip``
    2024-02-01; None when the name has none (``epraccur.csv``)."""
    stem = Path(name).name
    m = _ISO.search(stem)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3] or 1))
    m = _MON_YEAR.search(stem)
    if m:
        return date(int(m[2]), _MONTHS[m[1][:3].lower()], 1)
    return None


def parse_extract_date(values: pd.Series) -> date | None:
    """The extract date of a list-size or mapping file: ``01JAN2021`` (CCG era),
    ``2026-04-01`` or ``01-Apr-26`` (sub-ICB era); the most common value if several."""
    text = values.astype(str).str.strip()
    text = text[text != ""]
    if text.empty:
        return None
    common = text.mode().iloc[0]
    for fmt in ("%d%b%Y", "%Y-%m-%d", "%d-%b-%y", "%d-%b-%Y", "%d/%m/%Y", "%Y%m%d"):
        try:
            return pd.to_datetime(common, format=fmt).date()
        except ValueError:
            continue
    return None


def _member(
    zf: zipfile.ZipFile, path: Path, suffixes: tuple[str, ...], hint: str
) -> zipfile.ZipInfo:
    """The table inside an archive: a member with one of ``suffixes``, preferring names
    containing ``hint`` and then the largest (ONSPD's data file, not its lookups)."""
    tables = [i for i in zf.infolist() if not i.is_dir() and i.filename.lower().endswith(suffixes)]
    if not tables:
        raise InputError(
            f"The archive {path.name} holds no {' or '.join(suffixes)} file.",
            [f"{path.name}: members found: {', '.join(zf.namelist()[:10]) or 'none'}"],
        )
    hinted = [i for i in tables if hint and hint.lower() in Path(i.filename).name.lower()]
    return max(hinted or tables, key=lambda i: i.file_size)


@dataclass(frozen=True)
class Opened:
    """A table opened for reading: the handle, its label for messages and dates."""

    handle: IO[bytes] | Path
    label: str
    member_date: date | None = None


@contextmanager
def open_table(
    path: str | Path, *, suffixes: tuple[str, ...] = (".csv",), hint: str = ""
) -> Iterator[Opened]:
    """Open a published table, or the table inside a published zip archive.

    The label names the member too (``epraccur.zip:epraccur.csv``) so messages point
    at the file a planner can open.
    """
    path = Path(path)
    if path.suffix.lower() != ".zip":  # .xlsx files are zip files too
        yield Opened(path, path.name)
        return
    try:
        with zipfile.ZipFile(path) as zf:
            info = _member(zf, path, suffixes, hint)
            with zf.open(info) as fh:
                yield Opened(
                    fh, f"{path.name}:{Path(info.filename).name}", date(*info.date_time[:3])
                )
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:  # not a zip, cut short, damaged
        raise InputError(
            f"Could not read the archive {path}.",
            [
                f"{path.name}: {exc or 'it ends too early'}; download it again (it may be cut "
                "short or damaged), or give the file inside it unzipped"
            ],
        ) from None


def publication(
    path: str | Path,
    *,
    opened: Opened | None = None,
    extract: pd.Series | None = None,
    latest_in_file: pd.Series | None = None,
) -> Published | None:
    """The date a file is of: its extract-date column, its name (or its zip member's
    name), its zip member's date, or (a lower bound) the latest date written in it."""
    if extract is not None:
        d = parse_extract_date(extract)
        if d:
            return Published(d, "EXTRACT_DATE column")
    for name in (Path(path).name, opened.label if opened else ""):
        d = date_from_name(name)
        if d:
            return Published(d, "file name")
    if opened is not None and opened.member_date:
        return Published(opened.member_date, "date of the file in the archive")
    if latest_in_file is not None:
        latest = pd.to_datetime(latest_in_file, errors="coerce").max()
        if pd.notna(latest):
            return Published(latest.date(), "latest date in the file", exact=False)
    return None
