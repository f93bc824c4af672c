"""A road network read once and kept on disk as a compact routing graph, for a region
or all of England: every area then routes on its own part of it.

Reading a national OSM extract takes minutes; routing one area's practices takes
seconds. :func:`ensure_store` reads an extract (``.osm.pbf`` and the other formats of
:mod:`hubopt.roads.osm`, or a folder of county extracts, merged) once, prepares it as
:func:`hubopt.roads.network.prepare_graph` does (car roads, UK speeds, British
National Grid) and saves the result beside it as a *store*: a folder of numpy arrays

``x``, ``y``, ``lon``, ``lat``, ``osmid``, ``component``
    one entry per node, nodes sorted by square tiles of :data:`TILE_M` metres;
``indptr``, ``indices``, ``seconds``
    the directed edges as a CSR matrix (row = from), travel time in seconds;
``tile_start``
    where each tile's nodes begin (a tile is a range of rows);

plus ``store.json``, which names the sources (size, date and SHA-256 of each file),
the speed table, hubopt's version and the key made of all three. A later run with the
same key opens the arrays memory-mapped (:func:`open_store`, under a second), so
worker processes share the operating system's one copy of the pages and each holds
only the tiles it reads. A changed extract, speed table or hubopt version gives
another key, and the store is built again.

:meth:`RoadStore.cut` returns the part of the network inside a rectangle as a
prepared :class:`~hubopt.roads.network.RoadNetwork`, reading only the tiles it
touches, with the edges that leave the rectangle (:attr:`Cut.exits`), which is what
:func:`hubopt.roads.matrix.road_matrix` needs to prove that routes on the part are
those of the whole network.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hubopt.errors import NetworkError
from hubopt.inputs import BNG
from hubopt.roads import network, osm
from hubopt.roads._routing import csr_from_edges
from hubopt.roads.speeds import FALLBACK_KPH, speeds_table

log = logging.getLogger(__name__)

FORMAT = "hubopt road store 1"
#: Side of the square tiles nodes are sorted by (metres): a cut reads whole tiles.
TILE_M = 5_000.0
#: Strongly connected components smaller than this are left out of a store (car parks
#: and estates reachable one way only); larger ones (islands, extracts that do not
#: touch) are kept, each routed on its own.
MIN_COMPONENT = 200
#: Environment variable naming a folder for stores, instead of beside the extract.
CACHE_ENV = "HUBOPT_ROAD_CACHE"
_ARRAYS = ("x", "y", "lon", "lat", "osmid", "component", "indptr", "indices", "seconds",
           "tile_start")  # fmt: skip


@dataclass
class Cut:
    """The part of a store inside a rectangle.

    Attributes
    ----------
    net
        The nodes inside and the edges between them, a prepared
        :class:`~hubopt.roads.network.RoadNetwork` (``nodes["component"]`` is each
        node's strongly connected component in the whole store).
    box
        ``(xmin, ymin, xmax, ymax)`` in British National Grid metres.
    exits
        Seconds from each node of ``net`` (row position) to just outside the box by
        its cheapest edge that leaves it; ``inf`` for nodes with no such edge.
    stats
        ``tiles_read``, ``nodes_read`` (rows of the store read), ``nodes``, ``edges``.
    """

    net: network.RoadNetwork
    box: tuple[float, float, float, float]
    exits: np.ndarray
    stats: dict[str, Any]

    @property
    def whole(self) -> bool:
        """True when no edge leaves the box: the cut is the whole of its network."""
        return not np.isfinite(self.exits).any()


@dataclass
class RoadStore:
    """An opened store: memory-mapped arrays and their ``store.json`` description."""

    path: Path
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]

    @property
    def n_nodes(self) -> int:
        return len(self.arrays["x"])

    @property
    def max_kph(self) -> float:
        """The fastest speed of any edge: no route covers ground faster."""
        return float(self.meta["max_kph"])

    def __repr__(self) -> str:
        m = self.meta
        return (
            f"<RoadStore {self.path.name}: {m['nodes']:,} nodes, {m['edges']:,} edges, "
            f"from {', '.join(Path(s['path']).name for s in m['sources'])}>"
        )

    def nearest_m(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Metres from each point (BNG) to the nearest node of the whole store; reads
        every node, for messages about points far from the network."""
        from scipy.spatial import cKDTree

        tree = cKDTree(np.column_stack([self.arrays["x"], self.arrays["y"]]))
        return np.asarray(tree.query(np.column_stack([x, y]))[0], dtype=float)

    def tiles(self, box: tuple[float, float, float, float]) -> np.ndarray:
        """Indices of the tiles that overlap ``box`` (BNG metres)."""
        g = self.meta["grid"]
        x0, y0, nx, ny = g["x0"], g["y0"], g["nx"], g["ny"]
        ix = np.clip(np.floor((np.array(box[0::2]) - x0) / TILE_M).astype(int), 0, nx - 1)
        iy = np.clip(np.floor((np.array(box[1::2]) - y0) / TILE_M).astype(int), 0, ny - 1)
        cols = np.arange(ix[0], ix[1] + 1)
        rows = np.arange(iy[0], iy[1] + 1)
        return (rows[:, None] * nx + cols[None, :]).ravel()

    def cut(self, box: tuple[float, float, float, float]) -> Cut:
        """The nodes inside ``box`` (BNG ``xmin, ymin, xmax, ymax``), the edges between
        them and the cheapest way out of the box from each; reads only the tiles
        that overlap the box."""
        a = self.arrays
        start = a["tile_start"]
        tiles = self.tiles(box)
        lo, hi = start[tiles], start[tiles + 1]
        # whole rows of tiles are contiguous: read them as runs
        runs = [np.arange(s, e) for s, e in _merge_runs(lo, hi)]
        rows = np.concatenate(runs) if runs else np.empty(0, dtype=np.int64)
        x, y = a["x"][rows], a["y"][rows]
        inside = (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])
        sel = rows[inside]  # sorted: tiles are read in storage order
        local = _csr_rows(a["indptr"], a["indices"], a["seconds"], sel)
        src, dst, sec = local
        pos = np.searchsorted(sel, dst)
        if len(sel):
            within = sel[np.minimum(pos, len(sel) - 1)] == dst
        else:
            within = np.zeros(len(dst), dtype=bool)
        exits = np.full(len(sel), np.inf)
        out = ~within
        if out.any():
            np.minimum.at(exits, src[out], sec[out])
        nodes = pd.DataFrame(
            {
                "osmid": a["osmid"][sel],
                "x": x[inside],
                "y": y[inside],
                "lon": a["lon"][sel],
                "lat": a["lat"][sel],
                "component": a["component"][sel],
            }
        )
        edges = pd.DataFrame(
            {"u": src[within], "v": pos[within], "travel_time": sec[within].astype(float)}
        )
        meta = {
            k: self.meta[k]
            for k in ("source", "source_kind", "reader", "osm_timestamp", "read_filter",
                      "speeds_kph", "fallback_kph", "maxspeed_tagged_share")
            if self.meta.get(k) is not None
        }  # fmt: skip
        meta.update(
            store=str(self.path),
            store_key=self.meta["key"],
            nodes_read=int(len(rows)),
            nodes=len(nodes),
            edges=len(edges),
            source_bytes=self.meta.get("source_bytes"),
            source_sha256=self.meta.get("source_sha256"),
        )
        net = network.RoadNetwork(nodes, edges, crs=BNG, meta=meta, prepared=True)
        stats = {
            "tiles_read": int(len(tiles)),
            "nodes_read": int(len(rows)),
            "nodes": len(nodes),
            "edges": len(edges),
        }
        return Cut(net, tuple(float(b) for b in box), exits, stats)  # type: ignore[arg-type]


def _merge_runs(lo: np.ndarray, hi: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges ``[lo, hi)`` (ascending) joined where they touch."""
    out: list[tuple[int, int]] = []
    for s, e in zip(lo.tolist(), hi.tolist(), strict=True):
        if e <= s:
            continue
        if out and out[-1][1] == s:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _csr_rows(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The edges leaving ``rows`` of a CSR matrix: (row position in ``rows``, column,
    value), reading only those rows."""
    starts = np.asarray(indptr[rows], dtype=np.int64)
    ends = np.asarray(indptr[rows + 1], dtype=np.int64)
    counts = ends - starts
    total = int(counts.sum())
    src = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
    if total == 0:
        return src, np.empty(0, dtype=np.int64), np.empty(0)
    # positions of every edge: each row's start plus its offset
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    idx = np.repeat(starts, counts) + offsets
    # rows are sorted, so the reads run forward through the file
    return src, np.asarray(indices[idx], dtype=np.int64), np.asarray(data[idx], dtype=float)


# ---------------------------------------------------------------- build and open


def sources_of(path: str | Path) -> list[Path]:
    """The extract files a network path names: the file itself, or every road file
    (OSM or GraphML) directly in a folder, sorted."""
    path = Path(path)
    if path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.is_file() and p.name.lower().endswith(osm.OSM_SUFFIXES + osm.GRAPHML_SUFFIXES)
        )
        if not files:
            raise NetworkError(
                f"The folder {path} holds no road network files.",
                ["put OSM extracts (.osm.pbf, .osm.bz2) or OSMnx .graphml files in it"],
            )
        return files
    if not path.is_file():
        raise NetworkError(f"Road network {path} not found.", ["check [inputs] network"])
    osm.source_kind(path)  # a clear error for an unknown format
    return [path]


def store_key(
    fingerprints: list[dict[str, Any]], speeds: dict[str, float], fallback_kph: float
) -> str:
    """The key a store is valid for: its sources' checksums, the speed table and
    hubopt's version."""
    from hubopt import __version__

    blob = {
        "format": FORMAT,
        "hubopt": __version__,
        "sources": [(f["name"], f["source_sha256"], f["source_bytes"]) for f in fingerprints],
        "speeds": sorted(speeds.items()),
        "fallback_kph": fallback_kph,
        "min_component": MIN_COMPONENT,
        "tile_m": TILE_M,
    }
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:20]


def store_path(source: str | Path, cache_dir: str | Path | None = None) -> Path:
    """Where the store of ``source`` lives: ``<source>.hubopt-roads`` beside it, or a
    folder named after it in ``cache_dir`` (or the folder :data:`CACHE_ENV` names)."""
    source = Path(source)
    cache_dir = cache_dir or os.environ.get(CACHE_ENV) or None
    name = source.name + ".hubopt-roads"
    if cache_dir is not None:
        digest = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:8]
        return Path(cache_dir) / f"{digest}-{name}"
    return source.with_name(name)


def _in_package(path: Path) -> bool:
    """Whether ``path`` lies inside the hubopt package (its demo data)."""
    package = Path(__file__).resolve().parents[1]
    return package in path.resolve().parents


def _user_cache(source: Path) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return store_path(source, base / "hubopt" / "roads")


def ensure_store(
    source: str | Path,
    *,
    speeds: dict[str, float] | None = None,
    fallback_kph: float = FALLBACK_KPH,
    cache_dir: str | Path | None = None,
    progress: bool | None = None,
) -> RoadStore:
    """Open the store of ``source`` (a road file or a folder of them), building it
    first when it is missing or was made from other files, speeds or hubopt.

    Where the folder beside ``source`` cannot be written (or ``source`` is the demo's,
    inside the installed package), the store goes to the user's cache folder
    (``~/.cache/hubopt/roads``) and the log says so.
    """
    source = Path(source)
    files = sources_of(source)
    table = speeds_table(speeds)
    prints = [{"name": f.name, "path": str(f), **osm.file_fingerprint(f)} for f in files]
    key = store_key(prints, table, fallback_kph)
    candidates = [store_path(source, cache_dir)]
    if cache_dir is None and not os.environ.get(CACHE_ENV):
        if _in_package(source):  # the demo's network: never write into the installed package
            candidates = []
        candidates.append(_user_cache(source))
    for where in candidates:
        found = _read_meta(where)
        if found is not None and found.get("key") == key:
            log.info("network: re-using the road store %s", where)
            return open_store(where)
    for i, where in enumerate(candidates):
        try:
            return build_store(source, where, prints=prints, key=key, speeds=table,
                               fallback_kph=fallback_kph, progress=progress)  # fmt: skip
        except OSError as exc:  # no permission, a read-only disk
            if i + 1 == len(candidates):
                raise NetworkError(
                    f"Could not save the road store for {source.name}.",
                    [f"{exc}; set {CACHE_ENV} to a folder that can be written"],
                ) from None
            log.warning(
                "network: cannot write %s (%s); keeping the road store in %s",
                where,
                exc,
                candidates[i + 1],
            )
    raise AssertionError("unreachable")  # pragma: no cover


def load_store(
    path: str | Path,
    *,
    cache_dir: str | Path | None = None,
    progress: bool | None = None,
) -> RoadStore:
    """The store for a network path: a store folder itself (as a batch hands its
    workers, already checked), or the store of an extract or folder of extracts,
    built first when needed (:func:`ensure_store`)."""
    path = Path(path)
    if path.is_dir() and (path / "store.json").is_file():
        return open_store(path)
    return ensure_store(path, cache_dir=cache_dir, progress=progress)


def store_key_of(path: str | Path) -> str | None:
    """The key of the store at ``path`` (None when ``path`` is not a store)."""
    meta = _read_meta(Path(path))
    return None if meta is None else str(meta["key"])


def _read_meta(where: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((where / "store.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("format") != FORMAT or not all((where / f"{a}.npy").is_file() for a in _ARRAYS):
        return None
    return meta


def open_store(where: str | Path) -> RoadStore:
    """Open a store folder written by :func:`build_store`, its arrays memory-mapped."""
    where = Path(where)
    meta = _read_meta(where)
    if meta is None:
        raise NetworkError(
            f"{where} is not a complete hubopt road store.",
            ["delete it; the next run builds it again from the extract"],
        )
    arrays = {a: np.load(where / f"{a}.npy", mmap_mode="r") for a in _ARRAYS}
    return RoadStore(where, meta, arrays)


def _read_sources(files: list[Path], progress: bool | None) -> network.RoadNetwork:
    """The raw network of every file, nodes merged by OSM id."""
    nets = [network.load_graph(f, progress=progress) for f in files]
    if len(nets) == 1:
        return nets[0]
    crs = {n.crs for n in nets}
    if len(crs) > 1:
        raise NetworkError(
            "The road files of the folder are in different coordinate systems.",
            [f"{f.name}: {n.crs}" for f, n in zip(files, nets, strict=True)]
            + ["use OSM extracts (.osm.pbf), which are all in longitude/latitude"],
        )
    cols = ["osmid", "x", "y"] + [c for c in ("lon", "lat") if all(c in n.nodes for n in nets)]
    nodes = pd.concat([n.nodes[cols] for n in nets], ignore_index=True)
    _, first, inverse = np.unique(nodes["osmid"].to_numpy(), return_index=True,
                                    return_inverse=True)  # fmt: skip
    offsets = np.cumsum([0] + [n.n_nodes for n in nets[:-1]])
    edge_cols = sorted(set.intersection(*(set(n.edges.columns) for n in nets)))
    parts = []
    for off, n in zip(offsets, nets, strict=True):
        e = n.edges[edge_cols].copy()
        e["u"] = inverse[e["u"].to_numpy() + off]
        e["v"] = inverse[e["v"].to_numpy() + off]
        parts.append(e)
    edges = pd.concat(parts, ignore_index=True)
    for c in ("highway", "maxspeed"):
        if c in edges:
            edges[c] = edges[c].astype(object).astype("category")
    meta = dict(nets[0].meta)
    meta["source"] = str(files[0].parent)
    meta["sources"] = [n.meta.get("source") for n in nets]
    stamps = [str(n.meta.get("osm_timestamp")) for n in nets if n.meta.get("osm_timestamp")]
    meta["osm_timestamp"] = min(stamps) + " (oldest of the folder's files)" if stamps else None
    return network.RoadNetwork(nodes.iloc[first].reset_index(drop=True), edges,
                               crs=nets[0].crs, meta=meta)  # fmt: skip


def build_store(
    source: str | Path,
    where: str | Path,
    *,
    prints: list[dict[str, Any]] | None = None,
    key: str | None = None,
    speeds: dict[str, float] | None = None,
    fallback_kph: float = FALLBACK_KPH,
    progress: bool | None = None,
) -> RoadStore:
    """Read ``source`` (a road file or a folder of them), prepare it and write the
    store to ``where`` (replacing what is there); returns it opened."""
    t0 = time.perf_counter()
    source, where = Path(source), Path(where)
    files = sources_of(source)
    table = speeds_table(speeds)
    if prints is None:
        prints = [{"name": f.name, "path": str(f), **osm.file_fingerprint(f)} for f in files]
    key = key or store_key(prints, table, fallback_kph)
    raw = _read_sources(files, progress)
    net = network.prepare_graph(raw, speeds=speeds, fallback_kph=fallback_kph,
                                min_component=MIN_COMPONENT)  # fmt: skip
    del raw
    nodes, edges = net.nodes, net.edges
    x, y = nodes["x"].to_numpy(float), nodes["y"].to_numpy(float)
    x0, y0 = float(np.floor(x.min() / TILE_M) * TILE_M), float(np.floor(y.min() / TILE_M) * TILE_M)
    nx_ = int((x.max() - x0) // TILE_M) + 1
    ny_ = int((y.max() - y0) // TILE_M) + 1
    tile = ((y - y0) // TILE_M).astype(np.int64) * nx_ + ((x - x0) // TILE_M).astype(np.int64)
    order = np.argsort(tile, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    A = csr_from_edges(rank[edges["u"].to_numpy()], rank[edges["v"].to_numpy()],
                       edges["travel_time"].to_numpy(float), len(order))  # fmt: skip
    tile_start = np.zeros(nx_ * ny_ + 1, dtype=np.int64)
    np.cumsum(np.bincount(tile, minlength=nx_ * ny_), out=tile_start[1:])
    arrays = {
        "x": x[order],
        "y": y[order],
        "lon": nodes["lon"].to_numpy(float)[order],
        "lat": nodes["lat"].to_numpy(float)[order],
        "osmid": nodes["osmid"].to_numpy(np.int64)[order],
        "component": nodes["component"].to_numpy(np.int32)[order],
        "indptr": A.indptr.astype(np.int64),
        "indices": A.indices.astype(np.int32),
        "seconds": A.data.astype(np.float64),
        "tile_start": tile_start,
    }
    # the fastest any edge covers ground (straight metres a second), as routes are bounded
    u, v, t = edges["u"].to_numpy(), edges["v"].to_numpy(), edges["travel_time"].to_numpy(float)
    metres = np.hypot(x[u] - x[v], y[u] - y[v])
    moving = (metres >= 1.0) & (t > 0)
    max_kph = float((metres[moving] / t[moving]).max() * 3.6 * 1.001) if moving.any() else 1.0
    del u, v, t, metres, moving
    m = net.meta
    meta = {
        "format": FORMAT,
        "key": key,
        "sources": prints,
        "source": str(source),
        "source_kind": m.get("source_kind"),
        "reader": m.get("reader"),
        "osm_timestamp": m.get("osm_timestamp"),
        "read_filter": m.get("read_filter"),
        "source_bytes": sum(p["source_bytes"] for p in prints),
        "source_sha256": prints[0]["source_sha256"] if len(prints) == 1 else None,
        "speeds_kph": m.get("speeds_kph"),
        "fallback_kph": fallback_kph,
        "maxspeed_tagged_share": m.get("maxspeed_tagged_share"),
        "max_kph": max_kph,
        "nodes": int(len(order)),
        "edges": int(A.nnz),
        "nodes_read": m.get("nodes_read"),
        "components": m.get("components"),
        "min_component": MIN_COMPONENT,
        "extent": [float(x.min()), float(y.min()), float(x.max()), float(y.max())],
        "grid": {"x0": x0, "y0": y0, "nx": nx_, "ny": ny_, "tile_m": TILE_M},
        "built_seconds": None,
    }
    del net, nodes, edges, A
    tmp = where.with_name(where.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, arr in arrays.items():
        np.save(tmp / f"{name}.npy", arr)
    meta["built_seconds"] = round(time.perf_counter() - t0, 1)
    (tmp / "store.json").write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    if where.exists():
        shutil.rmtree(where)
    os.replace(tmp, where)
    log.info(
        "network: read %s once into the road store %s (%d nodes, %.0f s)",
        source.name,
        where,
        meta["nodes"],
        meta["built_seconds"],
    )
    return open_store(where)
