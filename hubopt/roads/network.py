"""Road network: load an OSM extract or OSMnx GraphML, keep the roads cars can use,
set UK speeds, keep the largest strongly connected component and snap practices to it.

The result of this stage is a :class:`RoadNetwork`: node and edge tables in British
National Grid (EPSG:27700, metres) whose edges carry ``travel_time`` in seconds,
plus metadata saying where the network came from. The matrix stage turns it and
the snapping table into practice x practice minutes; nothing downstream sees a
graph.

Sources (see :func:`load_graph`):

- OSM extracts ``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``, read with pyosmium
  straight into arrays (:func:`hubopt.roads.osm.read_osm`), filtered to car roads;
- OSMnx GraphML ``.graphml`` / ``.graphml.gz``, including files from OSMnx 0.x/1.x
  and undirected ones (:func:`hubopt.roads.osm.read_graphml`);
- a download by place name or boundary polygon through OSMnx, only when asked,
  cached to GraphML (:func:`load_network` with ``download_place``/``download_polygon``);
- any networkx graph whose edges carry ``length`` or ``travel_time``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from hubopt.errors import NetworkError
from hubopt.inputs import BNG
from hubopt.roads import osm
from hubopt.roads._routing import csr_from_edges
from hubopt.roads.speeds import (
    ACCESS_KPH,
    CARS_ALLOWED,
    FALLBACK_KPH,
    NO_CARS,
    SERVICE_EXCLUDED,
    highway_class,
    parse_maxspeed,
    speeds_table,
)

log = logging.getLogger(__name__)


@dataclass
class RoadNetwork:
    """A directed road network as two tables.

    Attributes
    ----------
    nodes
        One row per node (row position = node index): ``osmid``, ``x``, ``y`` in
        :attr:`crs`, and ``lon``/``lat`` (WGS84) once prepared.
    edges
        One row per directed edge: ``u``, ``v`` (node positions), ``length``
        (metres), ``highway``, ``maxspeed`` and, once prepared, ``speed_kph``,
        ``speed_from`` (``"tag"`` or ``"table"``) and ``travel_time`` (seconds).
    crs
        CRS of ``nodes.x``/``nodes.y``: EPSG:27700 once prepared.
    meta
        Provenance and preparation figures (source, OSM date, speeds, nodes kept),
        copied into the matrix's metadata.
    prepared
        True after :func:`prepare_graph`.
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    crs: str = "EPSG:4326"
    meta: dict[str, Any] = field(default_factory=dict)
    prepared: bool = False

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_edges(self) -> int:
        return len(self.edges)

    def __repr__(self) -> str:
        state = "prepared" if self.prepared else "raw"
        return (
            f"<RoadNetwork {state}: {self.n_nodes:,} nodes, {self.n_edges:,} edges, "
            f"{self.crs}, from {self.meta.get('source', '?')}>"
        )

    def csr(self, weight: str = "travel_time"):
        """Sparse adjacency (scipy CSR, row = from) with the cheapest parallel edge."""
        e = self.edges
        return csr_from_edges(e["u"].to_numpy(), e["v"].to_numpy(), e[weight].to_numpy(),
                              self.n_nodes)  # fmt: skip

    def positions(self, node_ids) -> np.ndarray:
        """Row positions of nodes given by id (``osmid``); NetworkError if unknown."""
        idx = pd.Index(self.nodes["osmid"]).get_indexer(pd.Index(np.asarray(node_ids)))
        if (idx < 0).any():
            missing = list(pd.Index(np.asarray(node_ids))[idx < 0][:5])
            raise NetworkError(
                "Practices are snapped to nodes that are not in this road network.",
                [f"unknown node ids {missing}; snap with this network's snap_practices"],
            )
        return idx

    def edge(self, u_id, v_id) -> pd.DataFrame:
        """The edges from node id ``u_id`` to node id ``v_id`` (empty if none)."""
        pu, pv = self.positions([u_id, v_id])
        e = self.edges
        return e[(e["u"] == pu) & (e["v"] == pv)]

    def to_networkx(self) -> nx.MultiDiGraph:
        """The same network as an OSMnx-style ``MultiDiGraph`` (node keys = ``osmid``),
        e.g. to check a route with networkx; slow and large for big networks."""
        G = nx.MultiDiGraph(crs=self.crs)
        ids = self.nodes["osmid"].to_numpy()
        G.add_nodes_from(
            (i, {"x": x, "y": y})
            for i, x, y in zip(ids, self.nodes["x"], self.nodes["y"], strict=True)
        )
        cols = [c for c in ("length", "travel_time", "speed_kph") if c in self.edges]
        u = ids[self.edges["u"].to_numpy()]
        v = ids[self.edges["v"].to_numpy()]
        attrs = self.edges[cols].to_dict("records")
        G.add_edges_from(zip(u, v, attrs, strict=True))
        return G


def _from_tables(tables: osm.Tables) -> RoadNetwork:
    nodes, edges, meta = tables
    return RoadNetwork(nodes, edges, crs=meta.get("crs") or "EPSG:4326", meta=meta)


def from_networkx(G: nx.Graph) -> RoadNetwork:
    """Wrap a networkx graph (e.g. from OSMnx) as a raw :class:`RoadNetwork`."""
    return _from_tables(osm.from_networkx(G))


def load_graph(path: str | Path, *, progress: bool | None = None) -> RoadNetwork:
    """Load a road network file as a raw :class:`RoadNetwork` (no speeds yet).

    ``.osm.pbf``/``.osm``/``.osm.bz2``/``.osm.gz`` are read with pyosmium (car roads
    only, every OSM node kept); ``.graphml``/``.graphml.gz`` with OSMnx.
    """
    path = Path(path)
    kind = osm.source_kind(path)
    if kind == "graphml":
        net = _from_tables(osm.read_graphml(path))
    else:
        net = _from_tables(osm.read_osm(path, progress=progress))
    if path.is_file():
        net.meta.update(osm.file_fingerprint(path))
    log.info("network: read %s (%d nodes, %d edges)", path.name, net.n_nodes, net.n_edges)
    return net


def load_network(
    path: str | Path | None,
    *,
    download_place: str | None = None,
    download_polygon: str | Path | None = None,
    progress: bool | None = None,
) -> RoadNetwork:
    """Load a road network, downloading it first only when asked and not yet cached.

    With ``download_place`` or ``download_polygon``, ``path`` is the GraphML cache:
    if it exists it is read offline; otherwise OSMnx downloads the drive network
    and saves it there (:func:`hubopt.roads.osm.download_graphml`).
    """
    if download_place is not None or download_polygon is not None:
        download = ensure_download(path, place=download_place, polygon=download_polygon)
        net = load_graph(path, progress=progress)  # type: ignore[arg-type]
        net.meta["download"] = download
        return net
    if path is None:
        raise NetworkError("No road network given.", ['set [inputs] network = "area.osm.pbf"'])
    return load_graph(path, progress=progress)


def ensure_download(
    path: str | Path | None, *, place: str | None = None, polygon: str | Path | None = None
) -> dict[str, Any]:
    """Download the network for ``place`` or ``polygon`` to the GraphML cache ``path``
    unless it is there already; returns the record reports show."""
    if path is None:
        raise NetworkError(
            "A download needs a file to cache the network in.",
            ['set [inputs] network = "my-area.graphml"; it is written on the first run'],
        )
    path = Path(path)
    downloaded = not path.exists()
    if downloaded:
        osm.download_graphml(path, place=place, polygon=polygon)
    else:
        log.info("network: using cached download %s", path)
    return {
        "place": place,
        "polygon": None if polygon is None else str(polygon),
        "downloaded_this_run": downloaded,
    }


def _column(edges: pd.DataFrame, name: str) -> pd.Series | None:
    if name not in edges:
        return None
    col = edges[name]
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col
    return col.map(lambda x: x[0] if isinstance(x, list | tuple) and x else x)


def _cars_mask(edges: pd.DataFrame) -> np.ndarray:
    """Edge rows that cars may use, from the tags a GraphML/networkx source kept."""
    ok = np.ones(len(edges), dtype=bool)
    area = _column(edges, "area")
    if area is not None:
        ok &= ~area.astype(object).isin(["yes", True]).to_numpy()
    car = np.zeros(len(edges), dtype=bool)
    for name in ("motor_vehicle", "motorcar"):
        col = _column(edges, name)
        if col is not None:
            ok &= ~col.astype(object).isin(NO_CARS).to_numpy()
            car |= col.astype(object).isin(CARS_ALLOWED).to_numpy()
    access = _column(edges, "access")
    if access is not None:
        ok &= ~(access.astype(object).isin(NO_CARS).to_numpy() & ~car)
    service = _column(edges, "service")
    if service is not None:
        ok &= ~service.astype(object).isin(SERVICE_EXCLUDED).to_numpy()
    return ok


def _map_values(col: pd.Series, fn) -> pd.Series:
    """Apply ``fn`` once per distinct value (categoricals) or per row (lists allowed)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        results = np.empty(len(col.cat.categories) + 1, dtype=object)
        results[:-1] = [fn(c) for c in col.cat.categories]
        results[-1] = fn(None)  # code -1: missing
        return pd.Series(results[col.cat.codes.to_numpy()], index=col.index, dtype=object)
    memo: dict = {}

    def cached(x):
        if isinstance(x, list | tuple):
            return fn(list(x))
        if x not in memo:
            memo[x] = fn(x)
        return memo[x]

    return col.astype(object).map(cached)


def prepare_graph(
    net: RoadNetwork | nx.Graph,
    *,
    speeds: dict[str, float] | None = None,
    fallback_kph: float = FALLBACK_KPH,
    min_component: int | None = None,
) -> RoadNetwork:
    """Keep drivable roads and the largest strongly connected component, add UK
    speeds and travel times, project to British National Grid.

    ``min_component``: keep every strongly connected component of at least this many
    nodes instead of the largest alone (a network of several counties or islands, as
    :mod:`hubopt.roads.store` keeps; each node's component is in ``nodes["component"]``).

    Speeds: a parsable ``maxspeed`` tag wins (mph converted); otherwise
    :data:`hubopt.roads.speeds.UK_SPEEDS_KPH` by highway class (``speeds`` overrides single
    classes); ``fallback_kph`` for classes not in the table. See :mod:`hubopt.roads.speeds`.
    Edges that already carry ``travel_time`` and no ``highway`` (hand-made graphs)
    keep their times.
    """
    if isinstance(net, nx.Graph):
        net = from_networkx(net)
    nodes, edges = net.nodes, net.edges
    meta = dict(net.meta)
    meta["nodes_read"], meta["edges_read"] = len(nodes), len(edges)
    table = speeds_table(speeds)
    ok = (edges["u"] != edges["v"]).to_numpy(copy=True)
    hw = None
    if "highway" in edges:
        hw = _map_values(edges["highway"], highway_class)
        ok &= hw.notna().to_numpy()
        ok &= _cars_mask(edges)
    if "length" in edges:
        ok &= np.isfinite(edges["length"].to_numpy(dtype=float))
    if "travel_time" in edges and "highway" not in edges:
        ok &= np.isfinite(edges["travel_time"].to_numpy(dtype=float))
    if not ok.any():
        raise NetworkError(
            "The road network has no drivable roads.",
            ["check the extract covers the area and includes highway=* ways cars can use"],
        )
    edges = edges[ok]
    hw = None if hw is None else hw[ok]
    # Largest strongly connected component, on the kept edges.
    u, v = edges["u"].to_numpy(), edges["v"].to_numpy()
    A = csr_from_edges(u, v, np.ones(len(u)), len(nodes))
    _, labels = connected_components(A, directed=True, connection="strong")
    used = np.zeros(len(nodes), dtype=bool)
    used[u] = used[v] = True
    sizes = np.bincount(labels, weights=used, minlength=int(labels.max()) + 1)
    if min_component is None:
        keep = labels == int(np.argmax(sizes))
    else:
        keep = used & (sizes[labels] >= max(min_component, 2))
        if not keep.any():
            keep = labels == int(np.argmax(sizes))
    new_index = np.full(len(nodes), -1, dtype=np.int64)
    new_index[keep] = np.arange(int(keep.sum()))
    in_big = keep[u] & keep[v]
    edges = edges[in_big].copy()
    hw = None if hw is None else hw[in_big]
    edges["u"] = new_index[edges["u"].to_numpy()]
    edges["v"] = new_index[edges["v"].to_numpy()]
    nodes = nodes[keep].reset_index(drop=True)
    edges = edges.reset_index(drop=True)
    if min_component is not None:
        kept_labels, nodes["component"] = np.unique(labels[keep], return_inverse=True)
        meta["components"] = len(kept_labels)
        meta["min_component"] = min_component
    meta["nodes_drivable"] = int(used.sum())
    meta["nodes"] = len(nodes)
    meta["edges"] = len(edges)
    log.info(
        "network: %d of %d drivable nodes in %s",
        len(nodes),
        int(used.sum()),
        "the largest strongly connected component"
        if min_component is None
        else f"{meta['components']} strongly connected components of {min_component}+ nodes",
    )
    # Speeds and travel times.
    if hw is not None:
        hw = hw.reset_index(drop=True)
        tagged = (
            _map_values(edges["maxspeed"], parse_maxspeed)
            if "maxspeed" in edges
            else pd.Series(np.nan, index=edges.index)
        )
        tagged = pd.to_numeric(tagged, errors="coerce").to_numpy(dtype=float)
        hw = pd.Categorical(hw)
        by_class = np.array([table.get(c, fallback_kph) for c in hw.categories], dtype=float)
        by_class = by_class[hw.codes]
        from_tag = np.isfinite(tagged)
        edges["highway"] = hw
        edges["speed_kph"] = np.where(from_tag, tagged, by_class)
        edges["speed_from"] = pd.Categorical.from_codes(
            (~from_tag).astype(np.int8), categories=["tag", "table"]
        )
        edges["travel_time"] = edges["length"].to_numpy(dtype=float) / (
            edges["speed_kph"].to_numpy() / 3.6
        )
        meta["speeds_kph"] = {k: table[k] for k in sorted(table, key=lambda k: -table[k])}
        meta["fallback_kph"] = fallback_kph
        meta["maxspeed_tagged_share"] = round(float(from_tag.mean()), 4) if len(edges) else 0.0
    elif "travel_time" not in edges:
        raise NetworkError(
            "The road network's edges have neither a highway class nor a travel time.",
            ["give an OSM extract or an OSMnx GraphML file"],
        )
    nodes = _project(nodes, net.crs)
    meta["crs"] = BNG
    return RoadNetwork(nodes, edges, crs=BNG, meta=meta, prepared=True)


def _project(nodes: pd.DataFrame, crs: str | None) -> pd.DataFrame:
    """Add lon/lat (when missing) and put x/y in British National Grid metres."""
    nodes = nodes.copy()
    if "x" not in nodes or "y" not in nodes:
        nodes["x"] = nodes["y"] = np.nan
        return nodes
    crs = crs or "EPSG:4326"
    x = nodes["x"].to_numpy(dtype=float)
    y = nodes["y"].to_numpy(dtype=float)
    if "lon" in nodes and "lat" in nodes and nodes[["lon", "lat"]].notna().all().all():
        lon, lat = nodes["lon"].to_numpy(dtype=float), nodes["lat"].to_numpy(dtype=float)
    elif str(crs).upper() in ("EPSG:4326", "WGS84"):
        lon, lat = x, y
    else:
        lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)
    nodes["lon"], nodes["lat"] = lon, lat
    if str(crs).upper() != BNG:
        if not (np.nanmin(lat, initial=0) >= -90 and np.nanmax(lat, initial=0) <= 90):
            raise NetworkError(
                "The road network's coordinates are not longitude/latitude and its CRS is unknown.",
                ["save the graph with its crs attribute (OSMnx does this)"],
            )
        x, y = Transformer.from_crs("EPSG:4326", BNG, always_xy=True).transform(lon, lat)
    nodes["x"], nodes["y"] = x, y
    return nodes


#: A practice further than this from every road of the network is outside the
#: extract (no practice in England is this far from a car road): a network problem.
OUTSIDE_M = 10_000.0


def extent_text(x, y) -> str:
    """A BNG extent (arrays of x and y) as latitudes and longitudes, for messages."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    lon, lat = Transformer.from_crs(BNG, "EPSG:4326", always_xy=True).transform(
        [np.nanmin(x), np.nanmax(x)], [np.nanmin(y), np.nanmax(y)]
    )
    return f"lat {lat[0]:.2f} to {lat[1]:.2f}, lon {lon[0]:.2f} to {lon[1]:.2f}"


def check_covers(
    network_xy: tuple[np.ndarray, np.ndarray],
    snapped: pd.DataFrame,
    *,
    source: str,
    limit_m: float,
) -> None:
    """Raise a :class:`~hubopt.errors.NetworkError` when practices (``snap_m``, ``x``,
    ``y``) are further than ``limit_m`` from every road of the network whose nodes
    lie at ``network_xy``: the extract does not cover them."""
    out = snapped[snapped["snap_m"] > limit_m].sort_values("snap_m", ascending=False)
    if out.empty:
        return
    share = f"all {len(out)}" if len(out) == len(snapped) else f"{len(out)} of the {len(snapped)}"
    listed = [
        f"practice {code} is {m / 1000:,.1f} km from the nearest road in {source}"
        for code, m in out["snap_m"].head(10).items()
    ] + ([f"and {len(out) - 10} more"] if len(out) > 10 else [])
    raise NetworkError(
        f"The road network {source} does not cover the area: {share} practices are more "
        f"than {limit_m / 1000:g} km from its roads.",
        listed
        + [
            f"the network covers {extent_text(*network_xy)}"
            f"; the practices lie at {extent_text(snapped['x'], snapped['y'])}",
            "use the OpenStreetMap extract of the county the practices are in (Geofabrik's "
            "England page, e.g. cumbria-latest.osm.pbf; add a neighbouring county's when the "
            'area crosses the line), or [network] kind = "straight_line" for an estimate',
        ],
    )


def snap_practices(
    net: RoadNetwork,
    practices: gpd.GeoDataFrame,
    *,
    warn_m: float = 1000.0,
    source: str = "the road network",
) -> pd.DataFrame:
    """Join each practice to its nearest node of the (prepared) network.

    Returns a frame indexed like ``practices`` with ``node`` (node id), ``snap_m``
    (straight metres from the practice to the node), ``access_s`` (seconds to cover
    that at :data:`~hubopt.roads.speeds.ACCESS_KPH`), ``x``, ``y`` (BNG metres) and
    ``far`` (snap beyond ``warn_m``, e.g. a practice outside the extract).

    Raises
    ------
    NetworkError
        Practices are further than :data:`OUTSIDE_M` (or ``warn_m``, if larger) from
        every road of the network (``source`` names it): not the area's extract.
    """
    if not net.prepared:
        raise NetworkError("Snap to a prepared network.", ["call prepare_graph first"])
    pts = practices.geometry.to_crs(BNG)
    px, py = pts.x.to_numpy(), pts.y.to_numpy()
    tree = cKDTree(net.nodes[["x", "y"]].to_numpy())
    dist, pos = tree.query(np.column_stack([px, py]))
    out = pd.DataFrame(
        {
            "node": net.nodes["osmid"].to_numpy()[pos],
            "snap_m": np.asarray(dist, dtype=float),
            "x": px,
            "y": py,
        },
        index=practices.index,
    )
    out["access_s"] = out["snap_m"] / (ACCESS_KPH / 3.6)
    out["far"] = out["snap_m"] > warn_m
    xy = (net.nodes["x"].to_numpy(), net.nodes["y"].to_numpy())
    check_covers(xy, out, source=source, limit_m=max(OUTSIDE_M, warn_m))
    far = out[out["far"]]
    if len(far):
        listed = ", ".join(f"{c} ({m:,.0f} m)" for c, m in far["snap_m"].head(10).items())
        more = f" and {len(far) - 10} more" if len(far) > 10 else ""
        log.warning(
            "%d practice(s) are more than %g m from the nearest road in the network; are "
            "they outside the extract? %s%s",
            len(far),
            warn_m,
            listed,
            more,
        )
    return out


def far_practice_notes(snapped: pd.DataFrame) -> list[str]:
    """One plain sentence per practice flagged ``far`` by :func:`snap_practices`."""
    return [
        f"practice {code} is {row.snap_m:,.0f} m from the nearest road in the network "
        "(outside the extract?); its travel times include that distance at "
        f"{ACCESS_KPH:g} km/h"
        for code, row in snapped[snapped["far"]].iterrows()
    ]
