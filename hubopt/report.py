"""Tables and GeoJSON describing a grouping, from raw data (not from the model).

``assignment_table`` and ``hub_table`` work for any mapping of practices to hub sites:
a proposal from the solver or today's configuration with its best sites.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString

from hubopt.inputs import practices_only
from hubopt.network import BNG
from hubopt.scenario import Scenario

if TYPE_CHECKING:  # catchments imports evaluate, which imports this module
    from hubopt.catchments import Catchments

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
        exempt = exemption(site, len(g), total, scenario) if not in_band or len(g) == 1 else ""
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


def exemption(site: str, n_practices: int, total: int, scenario: Scenario) -> str:
    """Why a hub may be outside the band, in words ("" when it may not)."""
    s = scenario
    if n_practices == 1 and site in s.exempt:
        return "named exemption, own hub"
    if n_practices == 1 and s.oversize == "own_hub" and total > s.population_max:
        return "oversize practice, own hub"
    if total < s.population_min and s.band in ("rural_exception", "elastic"):
        return f"{s.band.replace('_', ' ')}: {s.population_min - total:,} below the band"
    if total > s.population_max and s.band == "elastic":
        return f"elastic: {total - s.population_max:,} above the band"
    return ""


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


def catchments_geodataframe(c: Catchments) -> gpd.GeoDataFrame:
    """Proposed hub catchments (:mod:`hubopt.catchments`): one polygon per hub with the
    :func:`hub_table` columns, its map ``colour`` and ``area_km2`` (EPSG:4326)."""
    return c.proposal.drop(columns=["label_lat", "label_lon", "label_room_m"], errors="ignore")


def gis_layers(c: Catchments) -> dict[str, gpd.GeoDataFrame]:
    """Layers for GIS users, in British National Grid (EPSG:27700).

    ``practices`` (points: hub, minutes to its site, colour and, with a current
    grouping, today's group and whether it moves), ``hub_sites`` (points with the hub
    figures; a candidate site that is not a practice where one is used), ``links``
    (practice to hub site lines), ``catchments`` (proposed hubs),
    ``current_catchments`` (today's groups) and ``boundary``, where present.
    """
    p = c.practices
    pts = gpd.GeoDataFrame(
        p, geometry=gpd.points_from_xy(p["lon"], p["lat"]), crs="EPSG:4326"
    ).to_crs(BNG)
    sp = c.site_points
    sites = gpd.GeoSeries(
        gpd.points_from_xy(sp["lon"], sp["lat"]), index=sp.index, crs="EPSG:4326"
    ).to_crs(BNG)
    hubs = catchments_geodataframe(c).drop(columns="geometry")
    layers = {
        "practices": pts,
        "hub_sites": gpd.GeoDataFrame(
            hubs, geometry=sites.reindex(hubs["site_code"]).to_numpy(), crs=BNG
        ),
        "links": gpd.GeoDataFrame(
            p[["practice_code", "practice_name", "hub_id", "hub_site_code", "minutes_to_hub"]],
            geometry=[
                LineString([a, sites[s]]) if s in sites.index else None
                for a, s in zip(pts.geometry, p["hub_site_code"], strict=True)
            ],
            crs=BNG,
        ),
        "catchments": catchments_geodataframe(c).to_crs(BNG),
    }
    if c.current is not None:
        layers["current_catchments"] = c.current.drop(
            columns=["label_lat", "label_lon", "label_room_m"], errors="ignore"
        ).to_crs(BNG)
    if c.boundary is not None:
        layers["boundary"] = c.boundary[["geometry"]].to_crs(BNG)
    return layers


def write_gpkg(c: Catchments, path: Path) -> None:
    """Write :func:`gis_layers` as one GeoPackage (one layer each); replaces ``path``."""
    path = Path(path)
    path.unlink(missing_ok=True)
    for name, layer in gis_layers(c).items():
        layer.to_file(path, layer=name, driver="GPKG")


def write_table(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False)


def write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    gdf.to_file(path, driver="GeoJSON")
