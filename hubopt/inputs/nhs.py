"""Read NHS Digital / ODS and ONS files as they are published.

* ODS practice register ``epraccur.csv``: 27 columns, **no header row**.
* "Patients Registered at a GP Practice" totals ``gp-reg-pat-prac-all.csv`` and the
  practice -> PCN -> CCG / sub-ICB -> ICB mapping ``gp-reg-pat-prac-map.csv``.
* ODS PCN membership ``ePCN.xlsx`` (sheet "PCN Core Partner Details") or a CSV export
  of that sheet, with relationship start and end dates: membership **as at a date**.
* A postcode -> coordinates lookup: ONS Postcode Directory, Code-Point Open style or any
  CSV with a postcode column and lat/lon or British National Grid easting/northing.

Each reader returns a plain DataFrame with hubopt's own column names and collects the
rows it cannot use as *problems* (file, line, practice, what is wrong, how to fix it).
:func:`assemble` joins them into a practices table like
:func:`hubopt.inputs.read_practices` returns.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

from hubopt.errors import InputError
from hubopt.inputs import PracticeTable, Problem, check_practices, finish_practices
from hubopt.inputs.practices import unique_columns
from hubopt.inputs.published import Opened, Published, open_table, publication

#: epraccur column positions (ODS documentation; no header row in the file).
EPRACCUR_COLUMNS = {
    0: "practice_code",
    1: "name",
    2: "national_grouping",
    3: "health_geography",
    4: "address_1",
    5: "address_2",
    6: "address_3",
    7: "address_4",
    8: "address_5",
    9: "postcode",
    10: "open_date",
    11: "close_date",
    12: "status",
    13: "organisation_subtype",
    14: "commissioner",
    15: "join_date",
    16: "left_date",
    17: "phone",
    25: "prescribing_setting",
}
STATUS = {"A": "active", "C": "closed", "D": "dormant", "P": "proposed"}
GP_PRACTICE_SETTING = "4"


@dataclass
class Loaded:
    """A table read from a file, with the problems found in it."""

    table: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    source: str = ""
    published: Published | None = None  # the date the file is of, and how it is known


def normalise_postcodes(values: pd.Series) -> pd.Series:
    """Upper case, no spaces: ``"le1 6tp"`` and ``"LE1  6TP"`` both give ``"LE16TP"``;
    a missing value gives ``""``. Vectorised: ONSPD has 2.7 million postcodes."""
    text = values.astype("string").fillna("")
    return text.str.replace(r"\s+", "", regex=True).str.upper().astype(object)


def normalise_postcode(value: object) -> str:
    """:func:`normalise_postcodes` for one postcode."""
    return str(normalise_postcodes(pd.Series([value], dtype=object)).iloc[0])


def _norm_header(name: object) -> str:
    return re.sub(r"\s+", " ", str(name)).strip().lower()


def _read_csv(path: Path, *, hint: str = "", **kwargs) -> tuple[pd.DataFrame, Opened]:
    """A CSV as published, or the CSV inside a published zip archive (member chosen by
    ``hint``, see :func:`hubopt.inputs.published.open_table`)."""
    with open_table(path, hint=hint) as src:
        return _parse_csv(src, path, **kwargs), src


def _parse_csv(src: Opened, path: Path, **kwargs) -> pd.DataFrame:
    try:
        df = pd.read_csv(src.handle, dtype=str, keep_default_na=False, **kwargs)
    except pd.errors.EmptyDataError:
        raise InputError(
            f"The file {src.label} is empty.",
            [f"{src.label}: no header and no rows; download it again"],
        ) from None
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"Could not read {path}.", [f"{src.label}: {exc}"]) from None
    return df if kwargs.get("header", 0) is None else unique_columns(df, src.label)


def _partner_sheet(src: Opened) -> pd.DataFrame:
    """ePCN's "PCN Core Partner Details" sheet (the workbook itself or from its zip)."""
    book = src.handle if isinstance(src.handle, Path) else io.BytesIO(src.handle.read())
    try:
        sheets = pd.read_excel(book, sheet_name=None, dtype=str, keep_default_na=False)
    except ImportError:
        raise InputError("Reading ePCN .xlsx needs openpyxl.", ["pip install openpyxl"]) from None
    sheet = next((s for s in sheets if "partner" in s.lower()), None)
    if sheet is None:
        raise InputError(
            f"{src.label} has no 'PCN Core Partner Details' sheet.",
            [f"sheets found: {', '.join(sheets)}"],
        )
    return unique_columns(sheets[sheet], f"{src.label} ({sheet})")


def _find(columns: list[str], *candidates: str, label: str, path: Path) -> str:
    """The first column whose normalised name is one of ``candidates``."""
    norm = {_norm_header(c): c for c in columns}
    for cand in candidates:
        if cand in norm:
            return norm[cand]
    raise InputError(
        f"{path.name} has no {label} column.",
        [f"{path.name}: expected one of {', '.join(candidates)}; found {', '.join(columns)}"],
    )


#: Date layouts read in ODS files: as published (YYYYMMDD), then as a spreadsheet may
#: have saved them (ISO, British day first).
ODS_DATE_FORMATS = ("%Y%m%d", "%Y-%m-%d", "%d/%m/%Y")


def _parse_ods_date(s: pd.Series) -> pd.Series:
    """ODS dates: YYYYMMDD as published, or ISO / DD/MM/YYYY as a spreadsheet saves
    them; blanks are open-ended (NaT), and so is anything else (see :func:`_bad_dates`)."""
    text = s.str.strip().replace("", None)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    for fmt in ODS_DATE_FORMATS:
        todo = out.isna() & text.notna()
        if not todo.any():
            break
        out[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    return out


def _bad_dates(
    raw: pd.Series, parsed: pd.Series, *, label: str, field: str, lines: pd.Series, codes: pd.Series
) -> list[Problem]:
    """A problem for each date given but not readable, naming the line and practice."""
    bad = raw.str.strip().ne("") & parsed.isna()
    return [
        Problem(
            f"{label} line {lines[i]} ({codes[i]}): {field} {raw[i]!r} is not a date; give "
            "it as YYYYMMDD (as ODS publishes it), e.g. 20190701",
            codes[i],
        )
        for i in raw.index[bad]
    ]


def read_epraccur(path: str | Path) -> Loaded:
    """Read the ODS practice register (headerless ``epraccur.csv``).

    A header row, if someone added one, is recognised and skipped. Returns columns
    from :data:`EPRACCUR_COLUMNS` with ``status`` spelled out and dates parsed.
    """
    path = Path(path)
    raw, src = _read_csv(path, hint="epraccur", header=None)
    if raw.empty:
        raise InputError(f"The register {path} is empty.", [])
    if raw.shape[1] < 26:
        raise InputError(
            f"{path.name} does not look like an ODS epraccur file.",
            [
                f"{path.name}: {raw.shape[1]} columns, expected 27 "
                "(code, name, grouping, geography, address x5, postcode, dates, status, ...)"
            ],
        )
    first = raw.iloc[0, 0].strip().lower()
    line0 = 1
    if "code" in first or "organisation" in first:
        raw, line0 = raw.iloc[1:], 2
    df = raw[list(EPRACCUR_COLUMNS)].rename(columns=EPRACCUR_COLUMNS)
    df = df.apply(lambda s: s.str.strip())
    df.insert(0, "line", np.arange(line0, line0 + len(df)))
    df["status"] = df["status"].map(STATUS).fillna(df["status"])
    closing = df["close_date"]
    for col in ("open_date", "close_date", "join_date", "left_date"):
        df[col] = _parse_ods_date(df[col])
    problems = _bad_dates(
        closing, df["close_date"], label=src.label, field="close date", lines=df["line"],
        codes=df["practice_code"],
    )  # fmt: skip
    problems += [
        Problem(
            f"{src.label} lines {', '.join(map(str, g['line']))}: practice code {code} "
            "appears more than once; keep one row per practice",
            code,
        )
        for code, g in df[df["practice_code"].duplicated(keep=False)].groupby("practice_code")
    ]
    dates = df[["open_date", "close_date", "join_date", "left_date"]].stack()
    when = publication(path, opened=src, latest_in_file=dates)
    return Loaded(df.set_index("practice_code"), problems, src.label, when)


def read_list_sizes(path: str | Path) -> Loaded:
    """Read "Patients Registered at a GP Practice" totals (``gp-reg-pat-prac-all``).

    Reads both published layouts: CCG era (``CCG_CODE``, ``ONS_CCG_CODE``, to June
    2022) and sub-ICB era (``SUB_ICB_LOCATION_CODE``, ``ONS_SUB_ICB_LOCATION_CODE``,
    with ``ICB_CODE`` where present), as a CSV or zipped. Keeps the all-persons rows;
    returns ``list_size``, ``postcode``, ``ccg_code`` (the CCG or sub-ICB location
    code), ``ons_ccg_code``, ``icb_code``, ``extract_date``. Missing, non-numeric,
    zero or negative sizes and duplicate codes are problems.
    """
    path = Path(path)
    df, src = _read_csv(path, hint="gp-reg-pat-prac-all")
    cols = list(df.columns)
    code = _find(cols, "code", "practice_code", "org_code", label="practice code", path=path)
    n = _find(cols, "number_of_patients", "list_size", "patients", label="patients", path=path)
    df.insert(0, "line", np.arange(2, len(df) + 2))
    for col in ("SEX", "AGE"):
        if col in df.columns:
            df = df[df[col].str.upper().isin(["ALL", ""])]

    def optional(*names: str) -> pd.Series | str:
        found = next((c for c in cols if _norm_header(c) in names), None)
        return df[found].str.strip() if found else ""

    out = pd.DataFrame(
        {
            "line": df["line"],
            "practice_code": df[code].str.strip(),
            "raw_size": df[n].str.strip(),
            "postcode": optional("postcode"),
            "ccg_code": optional("sub_icb_location_code", "sub_icb_loc_code", "ccg_code"),
            "ons_ccg_code": optional(
                "ons_sub_icb_location_code", "ons_sub_icb_loc_code", "ons_ccg_code"
            ),
            "icb_code": optional("icb_code"),
            "extract_date": optional("extract_date"),
        }
    )
    problems = [
        Problem(
            f"{src.label} lines {', '.join(map(str, g['line']))}: practice {c} "
            "appears more than once; keep one row per practice",
            c,
        )
        for c, g in out[out["practice_code"].duplicated(keep=False)].groupby("practice_code")
    ]
    if out.empty:
        raise InputError(
            f"The list sizes file {src.label} has no practices.",
            [f"{src.label}: no rows (of all persons) under its header; download it again"],
        )
    out = out.rename(columns={"raw_size": "list_size"})
    out["list_size"] = out["list_size"].str.replace(",", "")
    when = publication(path, opened=src, extract=out["extract_date"] if len(out) else None)
    return Loaded(out.set_index("practice_code"), problems, src.label, when)


def read_practice_map(path: str | Path) -> Loaded:
    """Read the practice -> PCN -> CCG/sub-ICB -> ICB mapping (``gp-reg-pat-prac-map``).

    ``PCN_CODE = "U"`` (not in a PCN) becomes an empty PCN. Both layouts: CCG and STP
    columns (to June 2022) or sub-ICB location and ICB columns; the names and ONS
    codes of the commissioners are kept (``ccg_name``, ``icb_name``, ``ons_*``) to
    look an area up by name.
    """
    path = Path(path)
    df, src = _read_csv(path, hint="gp-reg-pat-prac-map")
    cols = list(df.columns)
    out = pd.DataFrame(
        {
            "practice_code": df[_find(cols, "practice_code", label="PRACTICE_CODE", path=path)],
            "pcn_code": df[_find(cols, "pcn_code", label="PCN_CODE", path=path)],
            "pcn_name": df[_find(cols, "pcn_name", label="PCN_NAME", path=path)],
        }
    ).apply(lambda s: s.str.strip())
    for target, names in {
        "ccg_code": ("sub_icb_location_code", "sub_icb_loc_code", "ccg_code"),
        "ccg_name": ("sub_icb_location_name", "sub_icb_loc_name", "ccg_name"),
        "ons_ccg_code": ("ons_sub_icb_location_code", "ons_sub_icb_loc_code", "ons_ccg_code"),
        "icb_code": ("icb_code", "stp_code"),
        "icb_name": ("icb_name", "stp_name"),
        "ons_icb_code": ("ons_icb_code", "ons_stp_code"),
    }.items():
        found = next((c for c in cols if _norm_header(c) in names), None)
        out[target] = df[found].str.strip() if found else ""
    none = out["pcn_code"].isin(["U", ""])
    out.loc[none, ["pcn_code", "pcn_name"]] = ""
    extract = next((df[c] for c in cols if _norm_header(c) == "extract_date"), None)
    when = publication(path, opened=src, extract=extract if len(df) else None)
    return Loaded(out.set_index("practice_code"), [], src.label, when)


def read_epcn(path: str | Path, *, as_at: date | str) -> Loaded:
    """PCN membership as at a date from ODS ePCN (``.xlsx`` or a CSV export).

    A relationship counts when ``start <= as_at`` and (no end, or ``end >= as_at``).
    Returns ``pcn_code``, ``pcn_name`` per practice; a practice with two
    relationships on the date is a problem.
    """
    path = Path(path)
    when = pd.Timestamp(as_at)
    with open_table(path, suffixes=(".xlsx", ".csv"), hint="epcn") as src:
        excel = src.label.lower().endswith((".xlsx", ".xls"))
        df = _partner_sheet(src) if excel else _parse_csv(src, path)
    line0 = 2
    cols = list(df.columns)

    def col(label: str, *names: str) -> pd.Series:
        return df[_find(cols, *names, label=label, path=path)].str.strip()

    start = col("start date", "practice to pcn relationship start date", "start_date")
    end = col("end date", "practice to pcn relationship end date", "end_date")
    out = pd.DataFrame(
        {
            "line": np.arange(line0, line0 + len(df)),
            "practice_code": col("practice code", "partner organisation code", "practice_code"),
            "pcn_code": col("PCN code", "pcn code", "pcn_code"),
            "pcn_name": col("PCN name", "pcn name", "pcn_name"),
            "start": _parse_ods_date(start),
            "end": _parse_ods_date(end),
        }
    )
    where = {"label": src.label, "lines": out["line"], "codes": out["practice_code"]}
    dated = _bad_dates(start, out["start"], field="start date", **where)
    dated += _bad_dates(end, out["end"], field="end date", **where)
    live = out[(out["start"] <= when) & (out["end"].isna() | (out["end"] >= when))]
    problems = dated + [
        Problem(
            f"{src.label} lines {', '.join(map(str, g['line']))}: practice {code} is in "
            f"{g['pcn_code'].nunique()} PCNs on {when.date()} ({', '.join(g['pcn_code'])}); "
            "check the relationship dates",
            code,
        )
        for code, g in live[live["practice_code"].duplicated(keep=False)].groupby("practice_code")
        if g["pcn_code"].nunique() > 1
    ]
    live = live.drop_duplicates("practice_code")
    table = live.set_index("practice_code")[["pcn_code", "pcn_name"]]
    return Loaded(table, problems, src.label, publication(path, opened=src))


_BNG_TO_WGS84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
#: The postcode lookup's columns hubopt reads (normalised names); the rest are skipped.
_POSTCODE_COLUMNS = frozenset(
    ("postcode", "pcds", "pcd", "pcd7", "pcd8", "lat", "latitude", "lon", "long", "longitude",
     "lng", "easting", "oseast1m", "x", "northing", "osnrth1m", "y")
)  # fmt: skip


def read_postcode_lookup(path: str | Path) -> Loaded:
    """Postcode -> lat/lon from ONSPD, Code-Point Open style or a simple CSV.

    Recognises postcode columns ``postcode``/``pcds``/``pcd``/``pcd7``/``pcd8``; lat/lon
    ``lat``/``latitude`` and ``lon``/``long``/``longitude``; or easting/northing
    ``easting``/``oseast1m`` and ``northing``/``osnrth1m`` (British National Grid,
    converted with pyproj). Keyed by :func:`normalise_postcode`. Only those columns are
    read (the full ONS Postcode Directory has ~50 columns and 2.7 million rows), from
    a CSV or the directory's zip as published (its ``Data/ONSPD_*.csv``).
    """
    path = Path(path)
    df, src = _read_csv(path, hint="onspd", usecols=lambda c: _norm_header(c) in _POSTCODE_COLUMNS)
    if df.empty and not len(df.columns):
        df, src = _read_csv(path, hint="onspd", nrows=0)
    cols = list(df.columns)
    pc = _find(cols, "postcode", "pcds", "pcd", "pcd7", "pcd8", label="postcode", path=path)
    norm = {_norm_header(c): c for c in cols}
    lat = next((norm[c] for c in ("lat", "latitude") if c in norm), None)
    lon = next((norm[c] for c in ("lon", "long", "longitude", "lng") if c in norm), None)
    out = pd.DataFrame({"postcode_key": normalise_postcodes(df[pc])})
    if lat and lon:
        out["lat"] = pd.to_numeric(df[lat], errors="coerce")
        out["lon"] = pd.to_numeric(df[lon], errors="coerce")
    else:
        east = _find(cols, "easting", "oseast1m", "x", label="easting or lat", path=path)
        north = _find(cols, "northing", "osnrth1m", "y", label="northing or lon", path=path)
        e = pd.to_numeric(df[east], errors="coerce").to_numpy()
        n = pd.to_numeric(df[north], errors="coerce").to_numpy()
        x, y = _BNG_TO_WGS84.transform(e, n)
        out["lon"], out["lat"] = x, y
    # ONSPD marks unknown locations with lat 99.999999
    out.loc[out["lat"].abs() > 90, ["lat", "lon"]] = np.nan
    out = out[out["postcode_key"] != ""].drop_duplicates("postcode_key")
    return Loaded(out.set_index("postcode_key"), [], src.label, publication(path, opened=src))


def coordinates_from_postcodes(
    postcodes: pd.Series, lookup: pd.DataFrame, *, label: str, lines: pd.Series
) -> tuple[pd.DataFrame, list[Problem]]:
    """Lat/lon for each practice's postcode; a postcode missing from the lookup is a
    problem naming the practice."""
    keys = normalise_postcodes(postcodes)
    found = lookup.reindex(keys.to_numpy())
    found.index = postcodes.index
    problems = [
        Problem(
            f"{label} line {lines[code]} ({code}): postcode {postcodes[code]!r} is not in the "
            "postcode lookup; correct the postcode or add it to the lookup"
            if postcodes[code]
            else f"{label} line {lines[code]} ({code}): postcode is empty; add it",
            code,
        )
        for code in found.index[found["lat"].isna()]
    ]
    return found[["lat", "lon"]], problems


def assemble(
    *,
    list_sizes: Loaded,
    postcodes: Loaded,
    register: Loaded | None = None,
    pcn_map: Loaded | None = None,
    epcn: Loaded | None = None,
    drop_invalid: bool = False,
) -> PracticeTable:
    """Join the NHS files into one validated practices table.

    The list-size file defines the practices (one row each, its line numbers used in
    messages). The register adds names, status and prescribing setting; the PCN map
    adds PCN and CCG/ICB codes; ePCN (membership as at a date) overrides the map's
    PCN; the postcode lookup gives coordinates. Every problem in any file and across
    files is collected (practices with a list size but not in the register,
    postcodes missing from the lookup, coordinates outside England, bad list sizes)
    and raised at once, or, with ``drop_invalid``, those practices are left out and
    returned as rejects. Active GP practices in the register with no list size are a
    note (they may have opened after the extract).
    """
    problems = list(list_sizes.problems)
    notes: list[str] = []
    sizes = list_sizes.table[~list_sizes.table.index.duplicated()]
    df = pd.DataFrame(index=sizes.index)
    df["line"] = sizes["line"]
    df["name"] = df.index  # until the register gives the real name
    df["postcode"] = sizes["postcode"]
    df["list_size"] = sizes["list_size"]
    df["ccg_code"] = sizes["ccg_code"]
    for col in ("pcn_code", "pcn_name", "status", "prescribing_setting"):
        df[col] = ""
    df["icb_code"] = sizes["icb_code"] if "icb_code" in sizes.columns else ""
    df["close_date"] = pd.NaT
    # the date of the register the status comes from: a practice dormant in a register
    # of a later date than as_at was still open then (hubopt.inputs.area)
    df["register_date"] = pd.NaT
    df["register_dated"] = ""
    where = {c: f"{list_sizes.source} line {df.at[c, 'line']} ({c})" for c in df.index}
    if register is not None:
        problems += register.problems
        reg = register.table[~register.table.index.duplicated()]
        known = df.index.intersection(reg.index)
        problems += [
            Problem(
                f"{where[c]}: practice {c} has a list size but is not in the register "
                f"{register.source}; check the code or use a register from the same month",
                c,
            )
            for c in df.index.difference(reg.index)
        ]
        for col, src in (
            ("name", "name"),
            ("status", "status"),
            ("prescribing_setting", "prescribing_setting"),
            ("close_date", "close_date"),
        ):
            df.loc[known, col] = reg.loc[known, src]
        no_icb = known[df.loc[known, "icb_code"].eq("")]
        df.loc[no_icb, "icb_code"] = reg.loc[no_icb, "health_geography"]
        if register.published is not None:
            df.loc[known, "register_date"] = pd.Timestamp(register.published.date)
            df.loc[known, "register_dated"] = str(register.published)
        blank = df.index[df["postcode"].eq("") & df.index.isin(known)]
        df.loc[blank, "postcode"] = reg.loc[blank, "postcode"]
        active_gp = reg[
            (reg["status"] == "active")
            & (reg["prescribing_setting"] == GP_PRACTICE_SETTING)
            & (reg["national_grouping"] != "W00")  # Wales
        ]
        missing = active_gp.index.difference(df.index)
        if len(missing):
            notes.append(
                f"{register.source}: {len(missing)} active GP practices have no list size in "
                f"{list_sizes.source} (e.g. {', '.join(missing[:5])}); they opened after "
                "the extract or the files are from different months"
            )
    if pcn_map is not None:
        m = pcn_map.table.reindex(df.index)
        has = m["pcn_code"].notna()
        df.loc[has, ["pcn_code", "pcn_name"]] = m.loc[has, ["pcn_code", "pcn_name"]]
        icb = m["icb_code"].fillna("")
        fill = df["icb_code"].eq("") & icb.ne("")
        df.loc[fill, "icb_code"] = icb[fill]
    if epcn is not None:
        problems += epcn.problems
        e = epcn.table.reindex(df.index)
        df["pcn_code"] = e["pcn_code"].fillna("")
        df["pcn_name"] = e["pcn_name"].fillna("")
    coords, missing_pc = coordinates_from_postcodes(
        df["postcode"], postcodes.table, label=list_sizes.source, lines=df["line"]
    )
    problems += missing_pc
    lookup_failed = {p.practice for p in missing_pc}
    df["lat"], df["lon"] = coords["lat"], coords["lon"]
    df = df.reset_index(names="practice_code")
    problems += [
        p
        for p in check_practices(df, list_sizes.source)
        # a missing coordinate is already explained by the postcode problem
        if not (p.practice in lookup_failed and (" lat " in p.text or " lon " in p.text))
    ]
    table = finish_practices(df, problems, source=list_sizes.source, drop_invalid=drop_invalid)
    table.notes = notes + table.notes
    return table
