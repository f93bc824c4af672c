"""Road network: load an OSM extract with OSMnx, keep drivable roads, set UK speeds,
keep the largest strongly connected component and snap practices onto it.

The result of this stage is a projected (EPSG:27700, metres) ``networkx.MultiDiGraph``
whose edges carry ``travel_time`` in seconds, and a table saying which node each
practice joins the network at and how far away it is. The matrix stage turns those
into practice x practice minutes; nothing downstream sees the graph.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd

from hubopt.errors import NetworkError
from hubopt.speeds import ACCESS_KPH, DRIVABLE, FALLBACK_KPH, UK_SPEEDS_KPH

log = logging.getLogger(__name__)

#: British National Grid: metres, valid for all of England.
BNG = "EPSG:27700"


def load_graph(path: str | Path) -> nx.MultiDiGraph:
    """Load a road network file as a raw OSMnx graph (unprojected, no speeds).

    ``.osm``/``.osm.bz2``/``.xml`` are read with :func:`osmnx.graph_from_xml`;
    ``.graphml`` with :func:`osmnx.load_graphml`.
    """
    path = Path(path)
    name = path.name.lower()
    try:
        if name.endswith((".osm", ".osm.bz2", ".xml", ".xml.bz2")):
            # Not simplified: every OSM node along a road stays a graph node, so a
            # practice beside a long rural road snaps to a point near it rather
            # than to a junction kilometres away.
            G = ox.graph_from_xml(path, simplify=False, retain_all=True)
        elif name.endswith(".graphml"):
            G = ox.load_graphml(path)
        else:
            raise NetworkError(
                f"Road network {path} has an unknown format.",
                [f"{path.name}: use an OSM XML extract (.osm, .osm.bz2) or OSMnx .graphml"],
            )
    except NetworkError:
        raise
    except Exception as exc:  # parse errors from XML/GraphML readers
        raise NetworkError(
            f"Could not read the road network {path}.", [f"{type(exc).__name__}: {exc}"]
        ) from None
    return G


def _is_drivable(highway: object) -> bool:
    values = highway if isinstance(highway, list) else [highway]
    return any(v in DRIVABLE for v in values)


def prepare_graph(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Keep drivable roads and the largest strongly connected component, add UK
    speeds and travel times, project to British National Grid.

    Speeds: a parsable ``maxspeed`` tag wins (OSMnx converts mph); otherwise
    :data:`hubopt.speeds.UK_SPEEDS_KPH` by highway class.
    """
    G = G.copy()
    drop = [(u, v, k) for u, v, k, hw in G.edges(keys=True, data="highway") if not _is_drivable(hw)]
    G.remove_edges_from(drop)
    G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])
    if G.number_of_edges() == 0:
        raise NetworkError(
            "The road network has no drivable roads.",
            ["check the extract covers the area and includes highway=* ways"],
        )
    n_before = G.number_of_nodes()
    G = ox.truncate.largest_component(G, strongly=True)
    log.info(
        "network: %d of %d nodes in the largest strongly connected component",
        G.number_of_nodes(),
        n_before,
    )
    G = ox.add_edge_speeds(G, hwy_speeds=UK_SPEEDS_KPH, fallback=FALLBACK_KPH)
    G = ox.add_edge_travel_times(G)
    if G.graph.get("crs") is None:
        G.graph["crs"] = "EPSG:4326"
    return ox.project_graph(G, to_crs=BNG)


def snap_practices(
    G: nx.MultiDiGraph, practices: gpd.GeoDataFrame, *, warn_m: float = 1000.0
) -> pd.DataFrame:
    """Join each practice to its nearest node of the (prepared, projected) graph.

    Returns a frame indexed like ``practices`` with ``node``, ``snap_m`` (straight
    metres from the practice to the node), ``access_s`` (seconds to cover that at
    :data:`~hubopt.speeds.ACCESS_KPH`), ``x``, ``y`` (BNG metres) and ``far`` (snap
    beyond ``warn_m``, e.g. a practice outside the extract).
    """
    pts = practices.geometry.to_crs(BNG)
    nodes, dist = ox.distance.nearest_nodes(G, pts.x.to_numpy(), pts.y.to_numpy(), return_dist=True)
    out = pd.DataFrame(
        {
            "node": np.asarray(nodes, dtype="int64"),
            "snap_m": np.asarray(dist, dtype=float),
            "x": pts.x.to_numpy(),
            "y": pts.y.to_numpy(),
        },
        index=practices.index,
    )
    out["access_s"] = out["snap_m"] / (ACCESS_KPH / 3.6)
    out["far"] = out["snap_m"] > warn_m
    for code, row in out[out["far"]].iterrows():
        log.warning(
            "practice %s is %.0f m from the nearest road in the network; is it outside "
            "the extract?",
            code,
            row.snap_m,
        )
    return out
