"""GIS layers of a plan for QGIS: points, links and catchments in one GeoPackage.

Built from :class:`~hubopt.outputs.catchments.Catchments` (which holds the practices,
hub sites, catchment areas and boundary as drawn on the map), in British National Grid.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import LineString

from hubopt.inputs import BNG
from hubopt.outputs.catchments import Catchments


def catchments_geodataframe(c: Catchments) -> gpd.GeoDataFrame:
    """Proposed hub catchments: one polygon per hub with the
    :func:`~hubopt.outputs.tables.hub_table` columns, its map ``colour`` and
    ``area_km2`` (EPSG:4326)."""
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
