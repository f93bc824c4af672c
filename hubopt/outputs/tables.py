"""Tables and GeoJSON describing a grouping, from raw data (not from the model).

``assignment_table`` and ``hub_table`` work for any mapping of practices to hub sites:
a proposal from the solver or today's configuration with its best sites.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from hubopt.inputs import BNG, LEFT_OUT_COLUMNS, left_out_frame, practices_only
from hubopt.model.exempt import hub_exemption
from hubopt.scenario import Scenario
from hubopt.text import plural

#: Metres around member practices when drawing a hub's outline.
OUTLINE_BUFFER_M = 600.0


def hub_ids(assignment: pd.Series, practices: gpd.GeoDataFrame) -> pd.Series:
    """Name hubs H01, H02, ... from north to south (west to east on ties) by site."""
    sites = pd.Index(sorted(set(assignment.dropna())))
    pts = practices.loc[sites, ["lat", "lon"]]
    order = pts.sort_values(["lat", "lon"], ascending=[False, True]).index
    width = max(2, len(str(len(order))))
    return pd.Series([f"H{k + 1:0{width}d}" for k in range(len(order))], index=order)


def assignment_table(
    assignment: pd.Series,
    practices: gpd.GeoDataFrame,
    matrix: pd.DataFrame,
    *,
    hub_labels: pd.Series | None = None,
) -> pd.DataFrame:
    """One row per practice: its hub, the hub site and road minutes to it.

    Candidate sites that are not practices (``site_only``) get no row: they appear
    only as the ``hub_site_code`` of the practices in their hub.
    ``hub_labels`` (site code -> label) names hubs, e.g. by current PCN code;
    by default :func:`hub_ids`.
    """
    ids = hub_ids(assignment, practices) if hub_labels is None else hub_labels
    rows = []
    for code, site in practices_only(assignment, practices).items():
        has_hub = isinstance(site, str)
        rows.append(
            {
                "practice_code": code,
                "practice_name": practices.at[code, "name"],
                "list_size": int(practices.at[code, "list_size"]),
                "hub_id": ids[site] if has_hub else "",
                "hub_site_code": site if has_hub else "",
                "hub_site_name": practices.at[site, "name"] if has_hub else "",
                "minutes_to_hub": round(float(matrix.at[code, site]), 2) if has_hub else np.nan,
            }
        )
    return pd.DataFrame(rows).sort_values(["hub_id", "minutes_to_hub", "practice_code"])


def hub_table(
    assignment: pd.DataFrame, practices: gpd.GeoDataFrame, scenario: Scenario
) -> pd.DataFrame:
    """One row per hub from an :func:`assignment_table`: size, band, travel."""
    rows = []
    for hub_id, g in assignment[assignment["hub_id"] != ""].groupby("hub_id"):
        total = int(g["list_size"].sum())
        site = g["hub_site_code"].iloc[0]
        in_band = scenario.population_min <= total <= scenario.population_max
        exempt = hub_exemption(site, len(g), total, scenario) if not in_band or len(g) == 1 else ""
        rows.append(
            {
                "hub_id": hub_id,
                "site_code": site,
                "site_name": practices.at[site, "name"],
                "practices": len(g),
                "list_size": total,
                "in_band": "yes" if in_band else "no",
                "exemption": exempt,
                "max_minutes": round(float(g["minutes_to_hub"].max()), 2),
                "mean_minutes": round(
                    float(np.average(g["minutes_to_hub"], weights=g["list_size"])), 2
                ),
            }
        )
    return pd.DataFrame(rows)


def hubs_geodataframe(
    assignment: pd.DataFrame, hubs: pd.DataFrame, practices: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Practice points with hub ids, plus one outline polygon per hub (EPSG:4326).

    A hub's outline is the convex hull of its practices buffered by
    :data:`OUTLINE_BUFFER_M` metres: a simple "this area" shape for GIS users.
    """
    pts = practices.geometry.to_crs(BNG)
    codes = assignment["practice_code"]
    outlines = [
        pts.loc[codes[assignment["hub_id"] == hub_id]]
        .union_all()
        .convex_hull.buffer(OUTLINE_BUFFER_M)
        .simplify(50)
        for hub_id in hubs["hub_id"]
    ]
    table = pd.concat(
        [assignment.assign(feature="practice"), hubs.assign(feature="hub")], ignore_index=True
    )
    geometry = list(pts.loc[codes].to_numpy()) + outlines
    return gpd.GeoDataFrame(table, geometry=geometry, crs=BNG).to_crs("EPSG:4326")


def with_coordinates(
    table: pd.DataFrame,
    practices: gpd.GeoDataFrame,
    *,
    code: str = "practice_code",
    prefix: str = "",
) -> pd.DataFrame:
    """``table`` with ``lat``/``lon`` (WGS84) of the practice in column ``code`` appended,
    so that QGIS can load the CSV as points (Layer > Add Delimited Text Layer)."""
    xy = practices[["lat", "lon"]].reindex(table[code])
    return table.assign(
        **{f"{prefix}lat": xy["lat"].to_numpy(), f"{prefix}lon": xy["lon"].to_numpy()}
    )


#: The ``category`` of optional practices no hub took.
UNASSIGNED = "optional, and no hub could take it within the rules"


def left_out_table(rejects: pd.DataFrame, assignment: pd.DataFrame) -> pd.DataFrame:
    """Every practice of the area left out of the plan, one row each: those the inputs
    stage left out (``rejects``, :func:`hubopt.inputs.left_out_frame`) and the optional
    practices of ``assignment`` (:func:`assignment_table`) that no hub took."""
    free = assignment[assignment["hub_id"] == ""]
    unassigned = left_out_frame(
        {
            "practice_code": free["practice_code"].to_numpy(),
            "name": free["practice_name"].to_numpy(),
            "patients": free["list_size"].to_numpy(),
            "category": UNASSIGNED,
            "reason": UNASSIGNED,
        }
    )
    parts = [t[LEFT_OUT_COLUMNS] for t in (rejects, unassigned) if len(t)]
    return left_out_frame(pd.concat(parts, ignore_index=True) if parts else None)


def count_table(
    read: tuple[int, int], assignment: pd.DataFrame, left_out: pd.DataFrame
) -> pd.DataFrame:
    """Practices and patients read = grouped + left out (by reason), one row each.

    ``read`` is the inputs stage's own count (:meth:`hubopt.inputs.load.Inputs.read`);
    ``grouped`` comes from the plan and ``left out`` from :func:`left_out_table`, so
    the last row, ``unaccounted``, is zero unless a practice went missing between
    stages. ``unknown`` counts practices whose patients are not known (an unusable
    list size in the file).
    """
    grouped = assignment[assignment["hub_id"] != ""]
    rows = [
        ("read", read[0], read[1], 0),
        ("grouped into hubs", len(grouped), int(grouped["list_size"].sum()), 0),
    ]
    for category, g in left_out.groupby("category", sort=False):
        rows.append(
            (
                f"left out: {category}",
                len(g),
                int(g["patients"].sum()),
                int(g["patients"].isna().sum()),
            )
        )
    practices = read[0] - sum(r[1] for r in rows[1:])
    patients = read[1] - sum(r[2] for r in rows[1:])
    rows.append(("unaccounted", practices, patients, 0))
    return pd.DataFrame(rows, columns=["what", "practices", "patients", "unknown"]).set_index(
        "what"
    )


def left_out_notes(left_out: pd.DataFrame, *, listed_in: str | None = "rejects.csv") -> list[str]:
    """One note per reason, naming every practice left out with its patients, and
    where the table of them is written (``listed_in``; None: nowhere)."""
    notes = []
    for category, g in left_out.groupby("category", sort=False):
        named = ", ".join(
            f"{r.practice_code} {r.name} ("
            + (f"{int(r.patients):,} patients" if pd.notna(r.patients) else "patients unknown")
            + ")"
            for r in g.itertuples()
        )
        notes.append(
            f"left out {plural(len(g), 'practice')} ({category}; "
            f"{int(g['patients'].sum()):,} patients): {named}"
            + (f"; listed in {listed_in}" if listed_in else "")
        )
    return notes


def hub_choices(moves: pd.DataFrame, site: Callable[[str], str]) -> list[str]:
    """Where one practice's hub is in each plan, from its rows of
    :func:`hubopt.solver.choices.moves`: ``hub at X in the best plan``, then
    ``hub at Y in alternative N (+M patient-minutes, +S%)`` for each alternative it moves
    in. ``site`` names a hub site by its code (the map and the report name them their
    own way)."""
    return [f"hub at {site(moves['best_site'].iloc[0])} in the best plan"] + [
        f"hub at {site(r.plan_site)} in alternative {r.plan} "
        f"(+{round(r.extra_patient_minutes):,} patient-minutes, +{r.extra_share:.1%})"
        for r in moves.itertuples()
    ]


def write_table(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False)


def write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    gdf.to_file(path, driver="GeoJSON")
