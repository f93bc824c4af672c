"""Read and validate the inputs: practices, a boundary, an existing grouping.

Each reader validates the whole table in one pass and raises a single
:class:`~hubopt.errors.InputError` listing every bad row and field, in a planner's words.
Line numbers are the file's own (the header is line 1).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from hubopt.errors import InputError
from hubopt.text import plural

log = logging.getLogger(__name__)

#: Columns a practices CSV must have, and what each means (used in messages).
PRACTICE_COLUMNS = {
    "practice_code": "the ODS practice code, e.g. C82001",
    "name": "the practice name",
    "lat": "latitude in degrees (WGS84)",
    "lon": "longitude in degrees (WGS84)",
    "list_size": "registered patients, a whole number",
}

#: More registered patients than any practice could have (England's largest lists are
#: about a tenth of this): a list size above it is a wrong column or a typing slip.
MAX_LIST_SIZE = 1_000_000

#: British National Grid: metres, valid for all of England; every distance and area
#: hubopt measures is in it.
BNG = "EPSG:27700"

#: Generous box around England (with the Isles of Scilly and Berwick).
ENGLAND_BBOX = {"lat": (49.8, 55.9), "lon": (-6.5, 1.9)}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, in a planner's words.

    ``practice`` names the practice the problem is about (``""`` for rows with no code,
    None when it is about a whole file); ``--drop-invalid`` leaves out exactly the
    practices (rows) named.
    """

    text: str
    practice: str | None = None

    def __str__(self) -> str:
        return self.text


#: The columns of a table of practices left out (``rejects.csv``): one row per practice
#: (per file row), its patients (``<NA>`` when the file's list size is unusable), the
#: kind of reason (one line of the report's count table) and the reason in full.
LEFT_OUT_COLUMNS = ["practice_code", "name", "patients", "category", "reason"]

#: The ``category`` of practices left out because their rows have problems.
INVALID = "problems in the input data (--drop-invalid)"


def left_out_frame(rows: pd.DataFrame | list[dict] | None = None) -> pd.DataFrame:
    """A table of practices left out, with :data:`LEFT_OUT_COLUMNS` (``patients`` as
    nullable integers); extra columns in ``rows`` are kept after them."""
    df = pd.DataFrame(rows if rows is not None else [], columns=None)
    for col in LEFT_OUT_COLUMNS:
        if col not in df.columns:
            df[col] = pd.Series(dtype=object)
    df["patients"] = pd.to_numeric(df["patients"], errors="coerce").astype("Int64")
    rest = [c for c in df.columns if c not in LEFT_OUT_COLUMNS]
    return df[LEFT_OUT_COLUMNS + rest].reset_index(drop=True)


def usable_list_size(values: pd.Series) -> pd.Series:
    """List sizes as numbers where they are whole, above zero and not above
    :data:`MAX_LIST_SIZE`; NaN elsewhere."""
    size = pd.to_numeric(values, errors="coerce")
    return size.where((size > 0) & (size <= MAX_LIST_SIZE) & (size % 1 == 0))


@dataclass
class PracticeTable:
    """Validated practices plus what was rejected and why."""

    practices: gpd.GeoDataFrame
    #: one row per file row left out (:func:`left_out_frame`), with the row's other
    #: columns (area codes, coordinates) after :data:`LEFT_OUT_COLUMNS`
    rejects: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    #: the problems that left out the practices in ``rejects`` (each names its practice)
    problems: list[Problem] = field(default_factory=list)
    #: the file the practices were read from, for messages
    source: str = ""


def check_rows(
    df: pd.DataFrame,
    label: str,
    *,
    key: str = "practice_code",
    columns: dict[str, str] = PRACTICE_COLUMNS,
    thing: str = "practice",
    numeric: tuple[str, ...] = ("lat", "lon"),
) -> tuple[list[Problem], dict[str, pd.Series]]:
    """Problems shared by every table of places, in one pass: empty and duplicated
    codes (column ``key``), empty names, columns ``numeric`` that are not numbers,
    and coordinates outside England. Returns the problems and the parsed numbers.

    ``df`` has the ``columns`` (text or numbers) and ``line`` (the file's line number
    of each row); ``thing`` names a row in messages ("practice", "site").
    """
    problems: list[Problem] = []
    code = df[key].astype(str)

    def where(i) -> str:
        return f"{label} line {df.at[i, 'line']} ({code[i] or 'no code'})"

    for i in df.index[code == ""]:  # a row of its own: --drop-invalid leaves it out, named
        problems.append(Problem(f"{where(i)}: {key} is empty; give {columns[key]}", ""))
    dup = code.ne("") & code.duplicated(keep=False)
    for c, rows in df[dup].groupby(code[dup]).groups.items():
        lines = ", ".join(str(df.at[i, "line"]) for i in rows)
        problems.append(
            Problem(
                f"{label} lines {lines}: {thing} code {c} appears more than once; "
                f"keep one row per {thing}",
                c,
            )
        )
    for i in df.index[df["name"].fillna("").astype(str).str.strip() == ""]:
        problems.append(Problem(f"{where(i)}: name is empty; give {columns['name']}", code[i]))
    numbers = {}
    for col in numeric:
        numbers[col] = pd.to_numeric(df[col], errors="coerce")
        for i in df.index[numbers[col].isna()]:
            raw = "" if pd.isna(df.at[i, col]) else str(df.at[i, col]).strip()
            what = "is empty" if raw == "" else f"{raw!r} is not a number"
            problems.append(Problem(f"{where(i)}: {col} {what}; give {columns[col]}", code[i]))
    for col, (lo, hi) in ENGLAND_BBOX.items():
        bad = numbers[col].notna() & ~numbers[col].between(lo, hi)
        for i in df.index[bad]:
            problems.append(
                Problem(
                    f"{where(i)}: {col} {numbers[col][i]} is outside England ({lo} to {hi}); "
                    "check lat and lon are not swapped or in metres",
                    code[i],
                )
            )
    return problems, numbers


def check_practices(df: pd.DataFrame, label: str) -> list[Problem]:
    """Every problem in a practices frame, in one pass.

    ``df`` has columns ``practice_code, name, lat, lon, list_size`` (text or numbers)
    and ``line`` (the file's line number of each row).
    """
    problems, numbers = check_rows(df, label, numeric=("lat", "lon", "list_size"))
    code = df["practice_code"].astype(str)

    def where(i) -> str:
        return f"{label} line {df.at[i, 'line']} ({code[i] or 'no code'})"

    size = numbers["list_size"]
    for i in df.index[size.notna() & (size <= 0)]:
        problems.append(
            Problem(
                f"{where(i)}: list_size {df.at[i, 'list_size']} must be above zero; "
                "leave closed practices out of the file",
                code[i],
            )
        )
    too_big = size.notna() & (size > MAX_LIST_SIZE)
    for i in df.index[too_big]:
        problems.append(
            Problem(
                f"{where(i)}: list_size {df.at[i, 'list_size']} is more than "
                f"{MAX_LIST_SIZE:,} patients, more than any practice could have; check the "
                "column holds registered patients",
                code[i],
            )
        )
    for i in df.index[size.notna() & (size > 0) & ~too_big & (size % 1 != 0)]:
        problems.append(
            Problem(
                f"{where(i)}: list_size {df.at[i, 'list_size']} must be a whole number of patients",
                code[i],
            )
        )
    return problems


def problems_error(source: str, problems: list[Problem], *, droppable: bool = True) -> InputError:
    """The error that lists the practices' ``problems`` read from ``source``
    (``droppable``: each names its practice, so ``--drop-invalid`` could leave them out)."""
    return InputError(
        f"The practices from {source} have problems"
        + (" (use --drop-invalid to leave those practices out):" if droppable else ":"),
        [str(p) for p in problems],
    )


def finish_practices(
    df: pd.DataFrame, problems: list[Problem], *, source: str, drop_invalid: bool = False
) -> PracticeTable:
    """Raise on problems, or (``drop_invalid``) leave out the practices they name.

    Problems about a whole file (no practice named) always stop the run.
    """
    whole_file = [p for p in problems if p.practice is None]
    if problems and (whole_file or not drop_invalid):
        raise problems_error(source, problems, droppable=not whole_file)
    bad = {p.practice for p in problems}
    reasons: dict[str | None, list[str]] = {}
    for p in problems:
        reasons.setdefault(p.practice, []).append(p.text)
    dropped = df[df["practice_code"].isin(bad)]
    rejects = left_out_frame(
        dropped.drop(columns=["line", "list_size"], errors="ignore").assign(
            patients=usable_list_size(dropped["list_size"]),
            category=INVALID,
            reason=["; ".join(reasons[c]) for c in dropped["practice_code"]],
        )
    )
    df = df[~df["practice_code"].isin(bad)].copy()
    if df.empty:
        raise InputError(f"No valid practices left in {source}.", [str(p) for p in problems])
    df["lat"] = pd.to_numeric(df["lat"])
    df["lon"] = pd.to_numeric(df["lon"])
    df["list_size"] = pd.to_numeric(df["list_size"]).astype("int64")
    df = df.drop(columns=["line"], errors="ignore")
    gdf = gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326"
    ).set_index("practice_code", drop=True)
    return PracticeTable(gdf, rejects, [], list(problems), source)


#: How pandas names the second, third ... column of a name given twice: ``name.1``.
_REPEATED = re.compile(r"^(?P<name>.*)\.(?P<n>[1-9][0-9]*)$")


def unique_columns(df: pd.DataFrame, label: str, *, first_line: int = 2) -> pd.DataFrame:
    """``df`` with one column per name. A name given twice in the file (pandas reads
    the second as ``name.1``; or two names equal once stripped) is an InputError naming
    the columns and the first line where their values differ; a copy with the same
    values is dropped. ``first_line`` is the file's line of the first row."""
    names = [str(c).strip() for c in df.columns]
    bases = []
    for n in names:
        m = _REPEATED.match(n)
        bases.append(m["name"] if m and m["name"] in names else n)
    first: dict[str, int] = {}
    keep, problems = [], []
    for i, name in enumerate(bases):
        if name not in first:
            first[name] = i
            keep.append(i)
            continue
        a = df.iloc[:, first[name]].astype(str).str.strip()
        b = df.iloc[:, i].astype(str).str.strip()
        differ = np.flatnonzero(a.to_numpy() != b.to_numpy())
        if len(differ):
            row = int(differ[0])
            problems.append(
                f"{label}: column '{name}' is given twice (columns {first[name] + 1} and "
                f"{i + 1}) with different values, e.g. line {row + first_line}: "
                f"{a.iloc[row]!r} and {b.iloc[row]!r}; keep the right one and delete the other"
            )
    if problems:
        raise InputError(f"The file {label} names a column more than once.", problems)
    out = df.iloc[:, keep].copy()
    out.columns = [bases[i] for i in keep]
    return out


#: Encodings tried in turn for a planner's CSV: UTF-8 (with or without the byte-order
#: mark Excel writes), then Windows-1252, which NHS systems and Excel often export.
CSV_ENCODINGS = ("utf-8-sig", "cp1252")


def read_text_csv(
    path: Path,
    what: str,
    *,
    rename: dict[str, str] | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """A CSV as stripped text (nothing parsed), or an InputError naming the ``what`` file.

    The file is read as UTF-8, else as Windows-1252; reading it as Windows-1252 adds a
    line to ``notes`` (and the log) so the planner knows how names were read.
    """
    failed = ""
    for encoding in CSV_ENCODINGS:
        try:
            with open(path, "rb") as fh:  # closed even when the read is interrupted
                df = pd.read_csv(
                    fh, dtype=str, keep_default_na=False, skipinitialspace=True, encoding=encoding
                )
        except UnicodeDecodeError as exc:
            failed = str(exc)
            continue
        except pd.errors.EmptyDataError:
            raise InputError(
                f"The {what} file {path} is empty.",
                [f"{path.name}: no header row and no rows; give the file its header and rows"],
            ) from None
        except (OSError, pd.errors.ParserError) as exc:
            raise InputError(f"Could not read {what} file {path}.", [str(exc)]) from None
        if encoding != CSV_ENCODINGS[0]:
            note = (
                f"{path.name} is not UTF-8: read as Windows-1252 ({encoding}); check names "
                "with accents or symbols, or save the file as CSV UTF-8"
            )
            log.warning(note)
            if notes is not None:
                notes.append(note)
        break
    else:
        raise InputError(
            f"Could not read {what} file {path}: it is neither UTF-8 nor Windows-1252 text.",
            [f"{path.name}: {failed}; save it as CSV UTF-8 (in Excel: Save As, CSV UTF-8)"],
        )
    df = unique_columns(df, path.name)
    return df.rename(columns=rename or {}).apply(lambda s: s.str.strip())


def require_columns(
    df: pd.DataFrame, columns: dict[str, str], path: Path, what: str, *, hint: str = ""
) -> None:
    """Raise naming every missing column (and what it means), or an empty table."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"The {what} file {path} is missing columns.",
            [
                f"{path.name}: no column '{c}' ({columns[c]}); columns found: "
                f"{', '.join(map(str, df.columns))}{hint}"
                for c in missing
            ],
        )
    if df.empty:
        raise InputError(f"The {what} file {path} has no rows.", [])


def read_practices_table(
    path: str | Path,
    *,
    columns: dict[str, str] | None = None,
    drop_invalid: bool = False,
) -> PracticeTable:
    """Read practices from a CSV, GeoJSON or GeoPackage, validating every row.

    Parameters
    ----------
    path
        CSV with ``practice_code, name, lat, lon, list_size`` (any other column is
        kept), or a point layer (GeoJSON, GeoPackage, shapefile; any CRS) whose
        coordinates replace ``lat``/``lon``.
    columns
        hubopt name -> your column name, e.g. ``{"practice_code": "ODS_CODE",
        "list_size": "NUMBER_OF_PATIENTS"}``.
    drop_invalid
        Leave out practices with problems (returned in ``rejects``) instead of raising.
    """
    path = Path(path)
    label = path.name
    notes: list[str] = []
    rename = {theirs: ours for ours, theirs in (columns or {}).items()}
    if path.suffix.lower() in (".geojson", ".json", ".gpkg", ".shp"):
        try:
            g = gpd.read_file(path)
        except Exception as exc:  # pyogrio raises several unrelated types
            raise InputError(f"Could not read practices file {path}.", [str(exc)]) from None
        if g.crs is None:
            raise InputError(
                f"The practices file {path} has no coordinate reference system.",
                [f"{label}: set its CRS (EPSG:4326 or EPSG:27700)"],
            )
        pts = g.geometry.to_crs("EPSG:4326")
        df = pd.DataFrame(g.drop(columns="geometry")).rename(columns=rename)
        df["lat"], df["lon"] = pts.y, pts.x
        line = np.arange(1, len(df) + 1)  # features, numbered from 1
    else:
        df = read_text_csv(path, "practices", rename=rename, notes=notes)
        line = np.arange(2, len(df) + 2)
    hint = "; map yours with [inputs.columns]"
    require_columns(df, PRACTICE_COLUMNS, path, "practices", hint=hint)
    df.insert(0, "line", line)
    df["practice_code"] = df["practice_code"].astype(str)
    table = finish_practices(
        df, check_practices(df, label), source=label, drop_invalid=drop_invalid
    )
    table.notes = notes + table.notes
    return table


def read_practices(path: str | Path, **kwargs) -> gpd.GeoDataFrame:
    """Read and validate practices (see :func:`read_practices_table`); raise on problems."""
    return read_practices_table(path, **kwargs).practices


#: Columns a candidate-sites CSV must have (``[inputs] sites``), for messages.
SITE_COLUMNS = {
    "site_code": "a short code for the site, different from every practice code, e.g. HOSP1",
    "name": "the site name, e.g. Demoford Community Hospital",
    "lat": "latitude in degrees (WGS84)",
    "lon": "longitude in degrees (WGS84)",
}


def read_sites(path: str | Path, *, notes: list[str] | None = None) -> gpd.GeoDataFrame:
    """Read candidate hub sites that are not practices (e.g. a community hospital).

    The CSV has ``site_code, name, lat, lon`` (WGS84; other columns are kept). Every
    row is validated like a practice (codes, names, coordinates in England) and all
    problems are raised at once. Returns a table shaped like the practices table,
    ready to be appended to it: indexed by site code, with ``list_size`` 0,
    ``site_only`` True and point geometry (EPSG:4326).
    """
    path = Path(path)
    df = read_text_csv(path, "sites", notes=notes)
    require_columns(df, SITE_COLUMNS, path, "sites")
    df.insert(0, "line", np.arange(2, len(df) + 2))
    problems, _ = check_rows(df, path.name, key="site_code", columns=SITE_COLUMNS, thing="site")
    if problems:
        raise InputError(
            f"The candidate sites file {path} has problems:", [str(p) for p in problems]
        )
    df["lat"] = pd.to_numeric(df["lat"])
    df["lon"] = pd.to_numeric(df["lon"])
    df["list_size"] = np.int64(0)
    df["site_only"] = True
    df = df.drop(columns="line")
    return gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326"
    ).set_index("site_code", drop=True)


def site_only_codes(table: pd.DataFrame) -> pd.Index:
    """Codes of the rows that are candidate hub sites, not practices (``site_only``)."""
    if "site_only" not in table.columns:
        return table.index[:0]
    return table.index[table["site_only"].fillna(False).astype(bool).to_numpy()]


def practices_only(plan: pd.Series, table: pd.DataFrame) -> pd.Series:
    """``plan`` (by code) without the rows of candidate sites that are not practices."""
    return plan.drop(index=site_only_codes(table), errors="ignore")


def read_boundary(path: str | Path) -> gpd.GeoDataFrame:
    """Read a boundary file (GeoJSON, GeoPackage, shapefile) into EPSG:4326."""
    path = Path(path)
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several unrelated types
        raise InputError(f"Could not read boundary file {path}.", [str(exc)]) from None
    if gdf.crs is None:
        raise InputError(
            f"The boundary file {path} has no coordinate reference system.",
            [
                f"{path.name}: set its CRS (EPSG:4326 for lat/lon, EPSG:27700 for "
                "British National Grid), e.g. in QGIS with 'Assign projection'"
            ],
        )
    if gdf.empty or not gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        raise InputError(
            f"The boundary file {path} must hold polygons.",
            [f"{path.name}: geometry types found: {sorted(set(gdf.geom_type))}"],
        )
    return gdf.to_crs("EPSG:4326")


#: Column names accepted as the group of a practice in a grouping file.
GROUP_COLUMNS = ("group_id", "hub_id", "pcn_code")


def read_grouping(
    path: str | Path,
    practices: pd.DataFrame,
    *,
    known: pd.Index | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """Read a grouping (today's PCNs, or a proposal's ``assignment.csv``).

    The CSV needs ``practice_code`` and a group column (``group_id``, ``hub_id`` or
    ``pcn_code``); ``group_name`` (or ``pcn_name``) is optional. Returns a frame
    indexed by practice code with ``group_id`` and ``group_name`` for the practices in
    ``practices``. Codes in ``known`` (e.g. all practices before the area was chosen)
    but outside the area are ignored; codes unknown altogether are problems.
    Practices absent from the file are ungrouped (reported by the evaluation).
    """
    path = Path(path)
    label = path.name
    known = practices.index if known is None else known
    df = read_text_csv(path, "grouping", notes=notes)
    group = next((c for c in GROUP_COLUMNS if c in df.columns), None)
    problems = [
        f"{label}: no column '{c}'; columns found: {', '.join(df.columns)}"
        for c, present in (("practice_code", "practice_code" in df.columns), ("group_id", group))
        if not present
    ]
    if problems:
        raise InputError(f"The grouping file {path} has problems:", problems)
    df = df.rename(columns={group: "group_id"})
    if "group_name" not in df.columns:
        df["group_name"] = df["pcn_name"] if "pcn_name" in df.columns else df["group_id"]
    df.insert(0, "line", range(2, len(df) + 2))
    for row in df.itertuples():
        if row.practice_code not in known:
            problems.append(
                f"{label} line {row.line}: practice {row.practice_code or '(empty)'} is not "
                "in the practices file; remove the row or add the practice"
            )
        elif row.practice_code in practices.index and row.group_id == "":
            problems.append(f"{label} line {row.line} ({row.practice_code}): group_id is empty")
    for code in df["practice_code"][df["practice_code"].duplicated()].unique():
        problems.append(f"{label}: practice {code} is in more than one group; keep one row")
    df = df[df["practice_code"].isin(practices.index) & df["group_id"].ne("")]
    sited = "hub_site_code" in df.columns
    if sited:  # a plan with its hub sites (assignment.csv, a plan edited on the map)
        problems += _site_problems(df, practices, label)
    if df.empty and not problems:
        problems.append(
            f"{label}: groups none of the area's {plural(len(practices), 'practice')}; give a row "
            "(practice_code, group) for each practice in a group, or leave the file out"
        )
    if problems:
        raise InputError(f"The grouping file {path} has problems:", problems)
    cols = ["group_id", "group_name"] + (["hub_site_code"] if sited else [])
    return df.set_index("practice_code")[cols]


def _site_problems(df: pd.DataFrame, practices: pd.DataFrame, label: str) -> list[str]:
    """A grouping's ``hub_site_code``: one per group, a member of the group (or a
    candidate site that is not a practice), known in the practices table."""
    problems = []
    only = set(site_only_codes(practices))
    for gid, g in df.groupby("group_id", sort=False):
        sites = set(g["hub_site_code"]) - {""}
        if len(sites) > 1:
            problems.append(
                f"{label}: group {gid} names {len(sites)} hub sites: {', '.join(sorted(sites))}"
            )
            continue
        for site in sites:
            if site not in practices.index:
                problems.append(
                    f"{label}: hub site {site} of group {gid} is not in the practices file"
                )
            elif site not in set(g["practice_code"]) and site not in only:
                problems.append(
                    f"{label}: hub site {site} of group {gid} is not one of its practices"
                )
    return problems


def read_edited_plan(path: str | Path, practices: pd.DataFrame) -> pd.DataFrame:
    """Read a plan edited on the map (``Download plan``: ``practice_code, hub_id,
    hub_site_code, proposed_hub_id, proposed_hub_site_code, changed``).

    Returns a frame by practice code with ``group_id`` (the reviewer's hub),
    ``hub_site_code`` and, when the file has them, ``proposed_hub_id`` and
    ``proposed_hub_site_code`` (the proposal the reviewer started from; "" where the
    practice had no hub), validated as :func:`read_grouping` does.
    """
    plan = read_grouping(path, practices)
    if "hub_site_code" not in plan.columns:
        raise InputError(
            f"The edited plan {path} has problems:",
            [f"{Path(path).name}: no column 'hub_site_code' (save the plan with the map's "
             "Download plan button)"],
        )  # fmt: skip
    raw = read_text_csv(Path(path), "edited plan").set_index("practice_code")
    for col in ("proposed_hub_id", "proposed_hub_site_code"):
        if col in raw.columns:
            plan[col] = raw[col].reindex(plan.index).fillna("").astype(str)
    return plan
