"""Practice neighbours: which practices border each other, for the coherence rule.

Two practices are neighbours when their Voronoi cells (each place goes with its
nearest practice, straight line in British National Grid), clipped to the area
boundary, touch: the same cells the map shades as catchments
(:mod:`hubopt.outputs.catchments` draws them from :func:`practice_cells`). Practices in one
building share a cell and are neighbours of each other. Cells split by the boundary
(an estuary, a neighbouring area) do not touch, so a hub cannot jump across them.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point
from shapely.geometry.base import BaseGeometry

from hubopt.inputs import BNG

#: Cells closer than this (metres) touch.
TOUCH_M = 1.0
#: Study-area margin around the practices' hull when there is no boundary (metres).
MARGIN_M = 2_000.0


def study_area(
    practices: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame | None = None
) -> BaseGeometry:
    """The area to divide among practices (BNG): the boundary, grown to take in any
    practice outside it; without a boundary, the practices' hull plus :data:`MARGIN_M`."""
    pts = practices.geometry.to_crs(BNG)
    hull = pts.union_all().convex_hull.buffer(MARGIN_M)
    if boundary is None:
        return hull
    area = shapely.make_valid(boundary.to_crs(BNG).union_all())
    outside = pts[~pts.within(area)]
    if len(outside):
        area = area.union(outside.buffer(MARGIN_M / 2).union_all())
    return area


def practice_cells(practices: gpd.GeoDataFrame, area: BaseGeometry) -> gpd.GeoDataFrame:
    """One Voronoi cell per practice location, clipped to ``area`` (BNG).

    Returns a frame indexed by practice code with ``location`` (practices in one
    building share a number and a cell) and the cell geometry.
    """
    xy = np.round(shapely.get_coordinates(practices.geometry.to_crs(BNG).to_numpy()), 0)
    locations, loc_of = np.unique(xy, axis=0, return_inverse=True)
    loc_of = loc_of.ravel()
    if len(locations) == 1:
        cells = [area]
    else:
        diagram = shapely.voronoi_polygons(
            MultiPoint([Point(p) for p in locations]),
            extend_to=area.envelope.buffer(1_000),
            ordered=True,
        )
        cells = [shapely.make_valid(c.intersection(area)) for c in diagram.geoms]
    return gpd.GeoDataFrame(
        {"location": loc_of},
        geometry=[cells[k] for k in loc_of],
        index=practices.index,
        crs=BNG,
    )


def touching(areas: gpd.GeoDataFrame, *, key: str = "group", touch_m: float = TOUCH_M) -> nx.Graph:
    """Graph of groups whose areas touch (within ``touch_m`` metres)."""
    geo = areas.to_crs(BNG).set_index(key).geometry
    G = nx.Graph()
    G.add_nodes_from(geo.index)
    tree = shapely.STRtree(geo.to_numpy())
    left, right = tree.query(geo.to_numpy(), predicate="dwithin", distance=touch_m)
    G.add_edges_from(
        (geo.index[a], geo.index[b]) for a, b in zip(left, right, strict=True) if a < b
    )
    return G


def practice_neighbours(
    practices: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame | None = None,
    *,
    touch_m: float = TOUCH_M,
) -> nx.Graph:
    """Graph of practice codes whose cells touch (see the module docstring)."""
    area = study_area(practices, boundary)
    cells = practice_cells(practices, area)
    frame = cells.reset_index(names="practice_code")
    return touching(frame, key="practice_code", touch_m=touch_m)


def components(neighbours: nx.Graph, members: list[str]) -> list[set[str]]:
    """Connected pieces of ``members`` through neighbours (largest first)."""
    sub = neighbours.subgraph(members)
    return sorted(nx.connected_components(sub), key=len, reverse=True)
