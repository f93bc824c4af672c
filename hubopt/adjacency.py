"""Practice neighbours: which practices border each other, for the coherence rule.

Two practices are neighbours when their Voronoi cells (each place goes with its
nearest practice, straight line in British National Grid), clipped to the area
boundary, touch: the same cells the map shades as catchments. Practices in one
building share a cell and are neighbours of each other. Cells split by the boundary
(an estuary, a neighbouring area) do not touch, so a hub cannot jump across them.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx

from hubopt import catchments

#: Cells closer than this (metres) touch.
TOUCH_M = 1.0


def practice_neighbours(
    practices: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame | None = None,
    *,
    touch_m: float = TOUCH_M,
) -> nx.Graph:
    """Graph of practice codes whose cells touch (see the module docstring)."""
    area = catchments.study_area(practices, boundary)
    cells = catchments.practice_cells(practices, area)
    frame = cells.reset_index(names="practice_code")
    return catchments.adjacency(frame, key="practice_code", touch_m=touch_m)


def components(neighbours: nx.Graph, members: list[str]) -> list[set[str]]:
    """Connected pieces of ``members`` through neighbours (largest first)."""
    sub = neighbours.subgraph(members)
    return sorted(nx.connected_components(sub), key=len, reverse=True)
