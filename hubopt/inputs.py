"""Read and validate the inputs: practices, a boundary, an existing grouping.

Each reader validates the whole table in one pass and raises a single
:class:`~hubopt.errors.InputError` listing every bad row and field, in a planner's words.
Line numbers are the file's own (the header is line 1).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from hubopt.errors import InputError

#: Columns a practices CSV must have, and what each means (used in messages).
PRACTICE_COLUMNS = {
    "practice_code": "the ODS practice code, e.g. C82001",
    "name": "the practice name",
    "lat": "latitude in degrees (WGS84)",
    "lon": "longitude in degrees (WGS84)",
    "list_size": "registered patients, a whole number",
}

#: Generous box around England (with the Isles of Scilly and Berwick).
ENGLAND_BBOX = {"lat": (49.8, 55.9), "lon": (-6.5, 1.9)}


def read_practices(path: str | Path) -> gpd.GeoDataFrame:
    """Read a practices CSV into a point GeoDataFrame (EPSG:4326) indexed by code.

    Required columns: ``practice_code, name, lat, lon, list_size``; any other column
    (e.g. ``postcode``) is kept.

    Raises
    ------
    InputError
        Listing every missing column, duplicate code, unparsable or out-of-England
        coordinate and missing, non-numeric, zero or negative list size.
    """
    path = Path(path)
    label = path.name
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"Could not read practices file {path}.", [str(exc)]) from None
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in PRACTICE_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(
            f"The practices file {path} is missing columns.",
            [
                f"{label}: no column '{c}' ({PRACTICE_COLUMNS[c]}); "
                f"columns found: {', '.join(df.columns)}"
                for c in missing
            ],
        )
    if df.empty:
        raise InputError(f"The practices file {path} has no rows.", [])
    problems: list[str] = []
    df = df.apply(lambda s: s.str.strip())
    line = pd.Series(range(2, len(df) + 2), index=df.index)

    def where(i: int) -> str:
        code = df.at[i, "practice_code"] or "no code"
        return f"{label} line {line[i]} ({code})"

    for i in df.index[df["practice_code"] == ""]:
        problems.append(f"{where(i)}: practice_code is empty; give the ODS code")
    dup = df["practice_code"].ne("") & df["practice_code"].duplicated(keep=False)
    for code, rows in df[dup].groupby("practice_code").groups.items():
        lines = ", ".join(str(line[i]) for i in rows)
        problems.append(
            f"{label} lines {lines}: practice code {code} appears more than once; "
            "keep one row per practice"
        )
    for i in df.index[df["name"] == ""]:
        problems.append(f"{where(i)}: name is empty; give the practice name")

    numbers = {}
    for col in ("lat", "lon", "list_size"):
        numbers[col] = pd.to_numeric(df[col], errors="coerce")
        for i in df.index[numbers[col].isna()]:
            raw = df.at[i, col]
            what = "is empty" if raw == "" else f"{raw!r} is not a number"
            problems.append(f"{where(i)}: {col} {what}; give {PRACTICE_COLUMNS[col]}")
    for col, (lo, hi) in ENGLAND_BBOX.items():
        bad = numbers[col].notna() & ~numbers[col].between(lo, hi)
        for i in df.index[bad]:
            problems.append(
                f"{where(i)}: {col} {numbers[col][i]} is outside England "
                f"({lo} to {hi}); check lat and lon are not swapped or in metres"
            )
    size = numbers["list_size"]
    for i in df.index[size.notna() & (size <= 0)]:
        problems.append(
            f"{where(i)}: list_size {df.at[i, 'list_size']} must be above zero; "
            "leave closed practices out of the file"
        )
    for i in df.index[size.notna() & (size > 0) & (size % 1 != 0)]:
        problems.append(
            f"{where(i)}: list_size {df.at[i, 'list_size']} must be a whole number of patients"
        )
    if problems:
        raise InputError(f"The practices file {path} has problems:", problems)

    df["lat"], df["lon"] = numbers["lat"], numbers["lon"]
    df["list_size"] = size.astype("int64")
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    return gdf.set_index("practice_code", drop=True)


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


def read_grouping(path: str | Path, practices: pd.DataFrame) -> pd.DataFrame:
    """Read an existing grouping (e.g. today's PCNs) for the given practices.

    The CSV needs ``practice_code`` and ``group_id``; ``group_name`` is optional.
    Returns a frame indexed by practice code with ``group_id`` and ``group_name``,
    holding only practices that are in ``practices``. Practices absent from the file
    are simply ungrouped (reported by the evaluation, not an error).
    """
    path = Path(path)
    label = path.name
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"Could not read grouping file {path}.", [str(exc)]) from None
    df.columns = [c.strip() for c in df.columns]
    problems = [
        f"{label}: no column '{c}'; columns found: {', '.join(df.columns)}"
        for c in ("practice_code", "group_id")
        if c not in df.columns
    ]
    if problems:
        raise InputError(f"The grouping file {path} has problems:", problems)
    df = df.apply(lambda s: s.str.strip())
    if "group_name" not in df.columns:
        df["group_name"] = df["group_id"]
    for n, row in enumerate(df.itertuples(), start=2):
        if row.group_id == "":
            problems.append(f"{label} line {n} ({row.practice_code}): group_id is empty")
        if row.practice_code not in practices.index:
            problems.append(
                f"{label} line {n}: practice {row.practice_code or '(empty)'} is not in "
                "the practices file; remove the row or add the practice"
            )
    for code in df["practice_code"][df["practice_code"].duplicated()].unique():
        problems.append(f"{label}: practice {code} is in more than one group; keep one row")
    if problems:
        raise InputError(f"The grouping file {path} has problems:", problems)
    return df.set_index("practice_code")[["group_id", "group_name"]]
