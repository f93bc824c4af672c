"""Read road networks into plain tables: OSM PBF/XML with pyosmium, OSMnx GraphML
(any OSMnx version, gzipped or not), any networkx graph, and an optional download.

Each reader returns ``(nodes, edges, meta)``:

``nodes``
    one row per node, position ``0..n-1`` is the node's index; columns ``osmid``,
    ``x``, ``y`` (in the CRS named by ``meta["crs"]``) and, when known, ``lon``, ``lat``.
``edges``
    one row per *directed* edge: ``u``, ``v`` (node positions), ``length`` (metres),
    ``highway``, ``maxspeed`` and, from GraphML, the ``access``/``service``/``area``
    tags OSMnx keeps; ``travel_time`` (seconds) when a graph already carries it.
``meta``
    where the network came from: ``source``, ``source_kind``, ``osm_timestamp``,
    ``crs``, ``read_filter`` ...

:mod:`hubopt.roads.network` turns these into a :class:`~hubopt.roads.network.RoadNetwork`. No reader
builds a networkx graph from an OSM extract: PBF and XML go straight from pyosmium
into numpy arrays, which is what makes county-sized extracts load in seconds.

One-way rules follow OSMnx's ``graph_from_xml`` so that both routes give the same
graph: ``oneway=yes/true/1`` forward, ``-1/reverse`` backward, roundabouts (and
``junction=circular``) forward, anything else both ways.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import hashlib
import logging
from array import array
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from tqdm import tqdm

from hubopt.errors import NetworkError
from hubopt.roads.speeds import DRIVABLE, cars_allowed

log = logging.getLogger(__name__)

#: File name endings read by :func:`read_osm` (pyosmium) and :func:`read_graphml`.
OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".xml", ".xml.bz2", ".xml.gz")
GRAPHML_SUFFIXES = (".graphml", ".graphml.gz")

EARTH_RADIUS_M = 6_371_009.0  # as OSMnx, so lengths match graph_from_xml's
_ONEWAY = frozenset({"yes", "true", "1", "-1", "reverse", "T", "F"})
_REVERSED = frozenset({"-1", "reverse", "T"})
_TAGS = ("access", "area", "motor_vehicle", "motorcar", "service")
#: Edge attributes carried over from GraphML / networkx graphs when present.
_EDGE_ATTRS = ("highway", "maxspeed", "access", "service", "area", "motor_vehicle", "motorcar")

Tables = tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]


def source_kind(path: str | Path) -> str:
    """``"osm"`` (PBF or XML, read with pyosmium) or ``"graphml"``; NetworkError else."""
    name = Path(path).name.lower()
    if name.endswith(GRAPHML_SUFFIXES):
        return "graphml"
    if name.endswith(OSM_SUFFIXES):
        return "osm"
    raise NetworkError(
        f"Road network {path} has an unknown format.",
        [
            f"{Path(path).name}: use an OSM extract (.osm.pbf, .osm, .osm.bz2, .osm.gz) "
            "or an OSMnx .graphml / .graphml.gz"
        ],
    )


def file_fingerprint(path: Path) -> dict[str, Any]:
    """Size, modification time and SHA-256 (first 16 hex digits) of a source file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    st = path.stat()
    return {
        "source_bytes": st.st_size,
        "source_sha256": h.hexdigest()[:16],
        "source_modified": _dt.datetime.fromtimestamp(st.st_mtime, _dt.UTC).isoformat(
            timespec="seconds"
        ),
    }


def great_circle_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Haversine distance in metres between arrays of points (degrees)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


# --------------------------------------------------------------------------- OSM


def read_osm(path: str | Path, *, progress: bool | None = None) -> Tables:
    """Read the car network from an OSM PBF or XML extract (``.osm``, ``.bz2``, ``.gz``).

    Keeps ways whose ``highway`` is in :data:`hubopt.roads.speeds.DRIVABLE` and whose tags
    pass :func:`hubopt.roads.speeds.cars_allowed`; every OSM node along them becomes a node
    (no simplification, so practices snap close to where they are). Node locations
    come from the same file; ways that leave the extract are cut where their nodes
    are missing.
    """
    import osmium

    path = Path(path)
    if not path.is_file():
        raise NetworkError(f"Road network {path} not found.", ["check [inputs] network"])
    # typed arrays, not lists: 8 bytes a number rather than ~36, for national extracts
    refs = array("q")
    lons = array("d")
    lats = array("d")
    piece = array("q")  # way piece of each node entry (a way cut at missing nodes)
    way_of_piece: list[int] = []
    w_highway: list[str] = []
    w_maxspeed: list[str | None] = []
    w_dir: list[int] = []
    w_id: list[int] = []
    newest = None
    seen = kept = 0
    try:
        header = osmium.io.Reader(str(path), osmium.osm.NOTHING).header()
        stamp = header.get("osmosis_replication_timestamp") or header.get("timestamp") or None
        processor = (
            osmium.FileProcessor(str(path))
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway"))
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        )
        bar = tqdm(desc=f"reading {path.name}", unit=" ways", disable=_disable(progress))
        with bar:
            for w in processor:
                seen += 1
                if seen % 20_000 == 0:
                    bar.update(20_000)
                tags = w.tags
                hw = tags.get("highway")
                if hw not in DRIVABLE:
                    continue
                if not cars_allowed({k: tags.get(k) for k in _TAGS}):
                    continue
                widx = len(w_id)
                w_id.append(w.id)
                w_highway.append(hw)
                w_maxspeed.append(tags.get("maxspeed"))
                w_dir.append(_direction(tags.get("oneway"), tags.get("junction")))
                if stamp is None:
                    ts = w.timestamp
                    if ts.year > 1970 and (newest is None or ts > newest):
                        newest = ts
                way_of_piece.append(widx)
                pid = len(way_of_piece) - 1
                for n in w.nodes:
                    loc = n.location
                    if not loc.valid():
                        way_of_piece.append(widx)
                        pid = len(way_of_piece) - 1
                        continue
                    refs.append(n.ref)
                    lons.append(loc.lon)
                    lats.append(loc.lat)
                    piece.append(pid)
                kept += 1
            bar.update(seen % 20_000)
    except NetworkError:
        raise
    except Exception as exc:  # pyosmium raises RuntimeError for bad files
        raise NetworkError(
            f"Could not read the road network {path}.",
            [f"{type(exc).__name__}: {exc}; is it a complete OSM extract (PBF or XML)?"],
        ) from None
    if stamp is None and newest is not None:
        stamp = newest.strftime("%Y-%m-%dT%H:%M:%SZ") + " (newest road in the file)"
    meta = {
        "source": str(path),
        "source_kind": "pbf" if path.name.lower().endswith(".pbf") else "osm_xml",
        "reader": "pyosmium",
        "osm_timestamp": stamp,
        "crs": "EPSG:4326",
        "read_filter": "highway in the speed table; no private/no-car access; no parking aisles",
        "ways_read": seen,
        "ways_kept": kept,
    }
    return (*_ways_to_tables(refs, lons, lats, piece, way_of_piece, w_highway, w_maxspeed,
                             w_dir, w_id), meta)  # fmt: skip


def _direction(oneway: str | None, junction: str | None) -> int:
    """1 forward only, -1 backward only, 0 both ways (OSMnx's rules, plus circular)."""
    if oneway in _ONEWAY:
        return -1 if oneway in _REVERSED else 1
    if junction in ("roundabout", "circular") and oneway != "no":
        return 1
    return 0


def _ways_to_tables(refs, lons, lats, piece, way_of_piece, w_highway, w_maxspeed, w_dir, w_id):
    refs_a = np.frombuffer(refs, dtype=np.int64)
    lon = np.frombuffer(lons, dtype=float)
    lat = np.frombuffer(lats, dtype=float)
    piece_a = np.frombuffer(piece, dtype=np.int64)
    ids, first, pos = np.unique(refs_a, return_index=True, return_inverse=True)
    nodes = pd.DataFrame({"osmid": ids, "x": lon[first], "y": lat[first]})
    nodes["lon"] = nodes["x"]
    nodes["lat"] = nodes["y"]
    a = np.nonzero(piece_a[:-1] == piece_a[1:])[0]
    b = a + 1
    a, b = a[pos[a] != pos[b]], b[pos[a] != pos[b]]  # repeated node: no self-loop
    way = np.asarray(way_of_piece, dtype=np.int64)[piece_a[a]]
    length = great_circle_m(lat[a], lon[a], lat[b], lon[b])
    direction = np.asarray(w_dir, dtype=np.int8)[way]
    fwd = direction >= 0
    bwd = direction <= 0
    u = np.concatenate([pos[a][fwd], pos[b][bwd]])
    v = np.concatenate([pos[b][fwd], pos[a][bwd]])
    way_e = np.concatenate([way[fwd], way[bwd]])
    highway = pd.Categorical(w_highway)
    maxspeed = pd.Categorical(w_maxspeed)
    edges = pd.DataFrame(
        {
            "u": u,
            "v": v,
            "length": np.concatenate([length[fwd], length[bwd]]),
            "highway": pd.Categorical.from_codes(
                highway.codes[way_e], categories=highway.categories
            ),
            "maxspeed": pd.Categorical.from_codes(
                maxspeed.codes[way_e], categories=maxspeed.categories
            ),
            "osmid": np.asarray(w_id, dtype=np.int64)[way_e],
        }
    )
    return nodes, edges


# ----------------------------------------------------------------------- GraphML


def read_graphml(path: str | Path) -> Tables:
    """Read an OSMnx GraphML file (``.graphml`` or ``.graphml.gz``), any OSMnx version.

    Undirected graphs saved by OSMnx 1.x (``get_undirected``) keep each edge's
    original ``from``/``to``: one-way streets get back their direction, other edges
    become two-way. Projected files (e.g. EPSG:27700 with ``lon``/``lat`` node
    attributes) are read in their own CRS.
    """
    import osmnx as ox

    path = Path(path)
    if not path.is_file():
        raise NetworkError(f"Road network {path} not found.", ["check [inputs] network"])
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8") as f:
                G = ox.load_graphml(graphml_str=f.read())
        else:
            G = ox.load_graphml(path)
    except Exception as exc:  # XML parse errors, bad attribute types
        raise NetworkError(
            f"Could not read the road network {path}.",
            [f"{type(exc).__name__}: {exc}; is it a GraphML file saved by OSMnx?"],
        ) from None
    nodes, edges, meta = from_networkx(G)
    meta.update(
        source=str(path),
        source_kind="graphml",
        reader=f"osmnx {ox.__version__} load_graphml",
        osm_timestamp=G.graph.get("created_date"),
        created_with=G.graph.get("created_with"),
        read_filter="as downloaded by OSMnx",
    )
    if meta["osm_timestamp"]:
        meta["osm_timestamp"] = f"{meta['osm_timestamp']} (graph created)"
    return nodes, edges, meta


def from_networkx(G: nx.Graph) -> Tables:
    """Tables from any networkx graph whose edges carry ``length`` and/or
    ``travel_time`` (seconds); nodes may carry ``x``/``y`` (and ``lon``/``lat``).

    An undirected graph becomes two-way, except OSMnx 1.x edges marked ``oneway``
    with their original ``from``/``to``.
    """
    keys = list(G.nodes)
    index = {n: i for i, n in enumerate(keys)}
    data = G.nodes
    osmid = pd.Series(keys)
    if osmid.map(type).eq(int).all():
        osmid = osmid.astype("int64")
    nodes = pd.DataFrame({"osmid": osmid})
    for col in ("x", "y", "lon", "lat"):
        vals = [data[n].get(col) for n in keys]
        if any(v is not None for v in vals):
            nodes[col] = pd.to_numeric(pd.Series(vals, dtype=object), errors="coerce")
    crs = G.graph.get("crs")
    directed = G.is_directed()
    u, v, rows = [], [], []
    for a, b, d in G.edges(data=True):
        ia, ib = index[a], index[b]
        pairs = [(ia, ib)]
        if not directed:
            one_way = d.get("oneway") in (True, "True", "true", "yes")
            frm = str(d.get("from"))
            if one_way and frm == str(b):
                pairs = [(ib, ia)]
            elif not (one_way and frm == str(a)):
                pairs.append((ib, ia))
        for x, y in pairs:
            u.append(x)
            v.append(y)
            rows.append(d)
    edges = pd.DataFrame({"u": np.asarray(u, dtype=np.int64), "v": np.asarray(v, dtype=np.int64)})
    for col in ("length", "travel_time"):
        if any(col in d for d in rows):
            edges[col] = pd.to_numeric(pd.Series([d.get(col) for d in rows]), errors="coerce")
    for col in _EDGE_ATTRS:
        if any(col in d for d in rows):
            edges[col] = pd.Series([d.get(col) for d in rows], dtype=object)
    meta: dict[str, Any] = {"source": "networkx graph", "source_kind": "networkx"}
    if crs is not None:
        meta["crs"] = str(crs).upper()
    if not directed:
        meta["undirected_source"] = True
    return nodes, edges, meta


# ---------------------------------------------------------------------- download


def download_graphml(
    cache: str | Path,
    *,
    place: str | None = None,
    polygon: str | Path | None = None,
) -> Path:
    """Download the drive network for a place name or a boundary file with OSMnx and
    save it as GraphML at ``cache`` (for offline runs after this one).

    Only called when a scenario asks for it (``[network] download_place`` or
    ``download_polygon``) and ``cache`` does not exist yet. Roads are kept
    unsimplified with service roads (``network_type="drive_service"``), as the PBF
    reader does.
    """
    import geopandas as gpd
    import osmnx as ox

    if (place is None) == (polygon is None):
        raise NetworkError(
            "Give exactly one of a place name or a boundary polygon to download.",
            ['[network] download_place = "Rutland, England" or download_polygon = "area.geojson"'],
        )
    cache = Path(cache)
    try:
        if polygon is not None:
            shapes = gpd.read_file(polygon).to_crs("EPSG:4326")
            G = ox.graph_from_polygon(
                shapes.geometry.union_all(),
                network_type="drive_service",
                simplify=False,
                retain_all=True,
                truncate_by_edge=True,
            )
            query = f"polygon {polygon}"
        else:
            G = ox.graph_from_place(
                place,
                network_type="drive_service",
                simplify=False,
                retain_all=True,
                truncate_by_edge=True,
            )
            query = f"place {place!r}"
    except Exception as exc:  # no connection, unknown place, Overpass errors
        raise NetworkError(
            f"Could not download the road network ({place or polygon}).",
            [
                f"{type(exc).__name__}: {exc}",
                "check the internet connection and the place name, or give a local "
                "extract as [inputs] network (a Geofabrik .osm.pbf works offline)",
            ],
        ) from None
    G.graph["hubopt_download"] = f"{query}, network_type=drive_service, unsimplified"
    cache.parent.mkdir(parents=True, exist_ok=True)
    ox.save_graphml(G, cache)
    log.info("network: downloaded %s and cached it to %s", query, cache)
    return cache


def _disable(progress: bool | None) -> bool | None:
    """tqdm's ``disable``: None shows a bar only on a terminal."""
    return None if progress is None else not progress
