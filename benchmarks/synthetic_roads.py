"""Write a synthetic national-size road network as a real OSM PBF file.

    python benchmarks/synthetic_roads.py england.osm.pbf --nodes 5000000 [--seed 0]
    python benchmarks/synthetic_roads.py small.osm.pbf --nodes 200000 --check --force

For timing and memory figures of hubopt's road stages at the size of England
(issue 26) without a real 1.4 GB download. The network is a jittered lon/lat grid
over ``bbox`` (England's extent by default):

* junctions on grid lines about ``sqrt(area / nodes * 7)`` apart (~680 m for 5M
  nodes over England's box), so that nearly every point is within ~300 m of a road;
* between two junctions 0-6 shape nodes (3 on average, jittered off the straight
  line), so that ~86% of nodes have two neighbours, as in unsimplified OSM;
* each grid line is one road, cut into OSM ways of 10-50 nodes that end at
  junctions and share them with the crossing roads;
* a road hierarchy by line number (rows and columns alike): every 200th line a
  motorway (``maxspeed=70 mph``), every 100th trunk, 40th primary, 20th secondary,
  8th tertiary, the others residential or unclassified way by way; the first line of
  each class comes early (motorway at line 30) so that small extracts have them all;
* 1.5% of minor links are pairs of one-way carriageways ~20 m apart (``oneway=yes``
  one way along the line, its partner back), so the network stays strongly connected.

Every object is version 1 dated 2024-01-01T00:00:00Z, which the PBF header carries
too. Node and way ids are computed from grid positions and written as they are made
(:func:`tests.osm_files.write_osm` fed by generators), so memory stays small. With
``--check`` the file is read back with hubopt (load_graph, prepare_graph), and the
share of nodes kept, the share with two neighbours, the road classes, the distance
from random points to the nearest node and a few routed minutes are printed.
Figures, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.osm_files import write_osm  # noqa: E402  (needs ROOT on sys.path)

#: England's extent (west, south, east, north), with some sea and Wales.
ENGLAND_BBOX = (-5.75, 49.95, 1.80, 55.85)
TIMESTAMP = "2024-01-01T00:00:00Z"
M_PER_DEG = 6_371_009.0 * math.pi / 180  # metres per degree of latitude (osm.great_circle_m)
SHAPE_MAX = 6  # shape nodes between two junctions: 0..SHAPE_MAX, uniform
JUNCTION_SD = 0.12  # junction jitter, share of the grid spacing (clipped at 2.5 sd)
SHAPE_SD = 0.03  # shape node jitter, share of the grid spacing
WAY_NODES = (10, 50)  # ways end at the first junction after a length drawn in this range
COUPLET_SHARE = 0.015  # minor links made a pair of one-way carriageways
COUPLET_OFFSET_M = 20.0  # between the two carriageways
RESIDENTIAL_SHARE = 0.6  # of minor ways; the others are unclassified
#: Nodes per grid cell: a junction, two links' shape nodes (SHAPE_MAX / 2 each) and
#: the return carriageways of the couplets (on ~85% of lines, the minor ones).
NODES_PER_CELL = 1 + SHAPE_MAX + 2 * 0.85 * COUPLET_SHARE * (SHAPE_MAX / 2 + 1)
CHUNK = 100_000  # links (or junctions) made at a time
#: Road class of grid line ``q`` (rows and columns alike): the first rule with
#: ``q % every == at`` wins; other lines are minor (residential or unclassified).
HIERARCHY = (
    ("motorway", 200, 30),
    ("trunk", 100, 45),
    ("primary", 40, 20),
    ("secondary", 20, 10),
    ("tertiary", 8, 4),
)


def line_class(q: int) -> str | None:
    """Road class of grid line ``q``, or None for a minor road."""
    for name, every, at in HIERARCHY:
        if q % every == at:
            return name
    return None


@dataclass
class Grid:
    """Where the junctions are and what lies between them.

    Junction ``(i, j)`` (column ``i`` of ``nx``, row ``j`` of ``ny``) has index
    ``j * nx + i`` and OSM id index + 1. Links run along rows first (row by row), then
    along columns (column by column); link ``l`` has ``k[l]`` shape nodes whose ids
    follow the junctions' in link order, so every road's shape ids are consecutive.
    The couplets' return carriageways get ``k + 1`` nodes each, numbered after those.
    """

    nx: int
    ny: int
    spacing_m: float
    lon: np.ndarray  # junctions
    lat: np.ndarray
    k: np.ndarray  # shape nodes per link (int8)
    first_shape: np.ndarray  # id of each link's first shape node (int64)
    couplet: np.ndarray  # indices of links that are one-way pairs (ascending)
    residential: np.ndarray  # per link: minor ways starting here are residential
    seed: int

    @property
    def n_junctions(self) -> int:
        return self.nx * self.ny

    @property
    def n_row_links(self) -> int:
        return self.ny * (self.nx - 1)

    @property
    def n_links(self) -> int:
        return len(self.k)

    @property
    def n_shape(self) -> int:
        return int(self.first_shape[-1] + self.k[-1]) - self.n_junctions - 1

    @property
    def return_k(self) -> np.ndarray:
        return self.k[self.couplet].astype(np.int64) + 1

    @property
    def n_nodes(self) -> int:
        return self.n_junctions + self.n_shape + int(self.return_k.sum())

    def ends(self, links: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Junction indices at the start and end of ``links``."""
        links = np.asarray(links, dtype=np.int64)
        row = links < self.n_row_links
        col_l = links - self.n_row_links
        j = np.where(row, links // (self.nx - 1), col_l % (self.ny - 1))
        i = np.where(row, links % (self.nx - 1), col_l // (self.ny - 1))
        a = j * self.nx + i
        return a, np.where(row, a + 1, a + self.nx)


def layout(nodes: int, bbox: tuple[float, float, float, float], seed: int) -> Grid:
    """The junction grid for about ``nodes`` nodes in all over ``bbox``."""
    w, s, e, n = bbox
    if not (w < e and s < n):
        raise ValueError(f"bbox {bbox} is not (west, south, east, north)")
    if nodes < 4 * NODES_PER_CELL:
        raise ValueError(f"nodes={nodes} is too few for a grid (at least {4 * NODES_PER_CELL})")
    rng = np.random.default_rng(seed)
    m_lon = M_PER_DEG * math.cos(math.radians((s + n) / 2))
    width, height = (e - w) * m_lon, (n - s) * M_PER_DEG
    spacing = math.sqrt(width * height * NODES_PER_CELL / nodes)
    nx = max(2, round(width / spacing) + 1)
    ny = max(2, round(height / spacing) + 1)
    gi, gj = np.meshgrid(np.arange(nx), np.arange(ny))
    lat = s + gj.ravel() * ((n - s) / (ny - 1))
    lon = w + gi.ravel() * ((e - w) / (nx - 1))
    sd = JUNCTION_SD * spacing
    jitter = np.clip(rng.normal(0.0, sd, (2, nx * ny)), -2.5 * sd, 2.5 * sd)
    lat = np.clip(lat + jitter[1] / M_PER_DEG, s, n)
    lon = np.clip(lon + jitter[0] / (M_PER_DEG * np.cos(np.radians(lat))), w, e)
    n_links = ny * (nx - 1) + nx * (ny - 1)
    k = rng.integers(0, SHAPE_MAX + 1, n_links, dtype=np.int8)
    first_shape = np.empty(n_links, dtype=np.int64)
    first_shape[0] = nx * ny + 1
    np.cumsum(k[:-1], out=first_shape[1:])
    first_shape[1:] += nx * ny + 1
    line = np.concatenate([np.repeat(np.arange(ny), nx - 1), np.repeat(np.arange(nx), ny - 1)])
    minor = np.array([line_class(q) is None for q in range(max(nx, ny))])[line]
    couplet = np.flatnonzero(minor & (rng.random(n_links) < COUPLET_SHARE))
    residential = rng.random(n_links) < RESIDENTIAL_SHARE
    return Grid(nx, ny, spacing, lon, lat, k, first_shape, couplet, residential, seed)


def _along(
    grid: Grid, links: np.ndarray, k: np.ndarray, rng: np.random.Generator, offset_m: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat of ``k`` points along each of ``links`` (evenly spaced between its
    junctions, jittered), moved ``offset_m`` to the north (rows) or east (columns)."""
    a, b = grid.ends(links)
    per = np.repeat(np.arange(len(links)), k)
    t = np.arange(len(per)) - np.repeat(np.cumsum(k) - k, k) + 1
    frac = t / np.repeat(k + 1, k)
    a, b = a[per], b[per]
    lat = grid.lat[a] + frac * (grid.lat[b] - grid.lat[a])
    lon = grid.lon[a] + frac * (grid.lon[b] - grid.lon[a])
    sd = SHAPE_SD * grid.spacing_m
    jitter = np.clip(rng.normal(0.0, sd, (2, len(per))), -2.5 * sd, 2.5 * sd)
    row = links[per] < grid.n_row_links
    m_lon = M_PER_DEG * np.cos(np.radians(lat))
    lat = lat + (jitter[1] + np.where(row, offset_m, 0.0)) / M_PER_DEG
    lon = lon + (jitter[0] + np.where(row, 0.0, offset_m)) / m_lon
    return lon, lat


def _nodes(grid: Grid, progress: bool) -> Iterator[tuple[int, float, float]]:
    """Every node, in id order: junctions, shape nodes, return carriageways."""
    with tqdm(total=grid.n_nodes, desc="nodes", unit=" nodes", disable=not progress) as bar:
        yield from _node_chunks(grid, bar)


def _node_chunks(grid: Grid, bar: tqdm) -> Iterator[tuple[int, float, float]]:
    rng = np.random.default_rng([grid.seed, 1])
    for start in range(0, grid.n_junctions, CHUNK):
        stop = min(start + CHUNK, grid.n_junctions)
        ids = np.arange(start + 1, stop + 1)
        yield from zip(
            ids.tolist(), grid.lon[start:stop].tolist(), grid.lat[start:stop].tolist(), strict=True
        )
        bar.update(stop - start)
    for start in range(0, grid.n_links, CHUNK):
        links = np.arange(start, min(start + CHUNK, grid.n_links))
        k = grid.k[links].astype(np.int64)
        lon, lat = _along(grid, links, k, rng)
        first = int(grid.first_shape[links[0]])
        yield from zip(range(first, first + len(lon)), lon.tolist(), lat.tolist(), strict=True)
        bar.update(len(lon))
    first = grid.n_junctions + grid.n_shape + 1
    for start in range(0, len(grid.couplet), CHUNK):
        links = grid.couplet[start : start + CHUNK]
        lon, lat = _along(grid, links, grid.k[links].astype(np.int64) + 1, rng, COUPLET_OFFSET_M)
        yield from zip(range(first, first + len(lon)), lon.tolist(), lat.tolist(), strict=True)
        first += len(lon)
        bar.update(len(lon))


def _tags(highway: str, oneway: bool = False) -> dict[str, str]:
    tags = {"highway": highway}
    if highway == "motorway":
        tags["maxspeed"] = "70 mph"
    if oneway:
        tags["oneway"] = "yes"
    return tags


def _ways(
    grid: Grid, counts: dict[str, int], progress: bool
) -> Iterator[tuple[int, list[int], dict]]:
    """Every road (rows, then columns) cut into ways at junctions, then the couplets'
    return carriageways; ``counts`` gets the ways of each class."""
    total = grid.nx + grid.ny + 1
    with tqdm(total=total, desc="ways", unit=" roads", disable=not progress) as bar:
        yield from _way_chunks(grid, counts, bar)


def _way_chunks(
    grid: Grid, counts: dict[str, int], bar: tqdm
) -> Iterator[tuple[int, list[int], dict]]:
    rng = np.random.default_rng([grid.seed, 2])
    is_couplet = np.zeros(grid.n_links, dtype=bool)
    is_couplet[grid.couplet] = True
    way_id = 0
    lines = [(j, j * grid.nx + np.arange(grid.nx), j * (grid.nx - 1)) for j in range(grid.ny)]
    lines += [
        (i, np.arange(grid.ny) * grid.nx + i, grid.n_row_links + i * (grid.ny - 1))
        for i in range(grid.nx)
    ]
    for q, junctions, first in lines:
        m = len(junctions) - 1
        k = grid.k[first : first + m].astype(np.int64)
        pos = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(k + 1, out=pos[1:])
        seq = np.empty(int(pos[-1]) + 1, dtype=np.int64)
        shape = np.ones(len(seq), dtype=bool)
        shape[pos] = False
        seq[pos] = junctions + 1
        seq[shape] = grid.first_shape[first] + np.arange(int(k.sum()))
        ids, at = seq.tolist(), pos.tolist()
        cls = line_class(q)
        couplet = is_couplet[first : first + m].tolist()
        residential = grid.residential[first : first + m].tolist()
        targets = rng.integers(WAY_NODES[0], WAY_NODES[1] + 1, m).tolist()
        start = 0
        for t in range(m + 1):
            # End the way from junction `start` at junction `t` when the next link
            # would take it past its length, is a one-way couplet, or is the last.
            if t > start and (t == m or couplet[t] or at[t + 1] - at[start] + 1 > targets[start]):
                hw = cls or ("residential" if residential[start] else "unclassified")
                way_id += 1
                counts[hw] = counts.get(hw, 0) + 1
                yield way_id, ids[at[start] : at[t] + 1], _tags(hw)
                start = t
            if t < m and couplet[t]:
                hw = "residential" if residential[t] else "unclassified"
                way_id += 1
                counts[hw] = counts.get(hw, 0) + 1
                yield way_id, ids[at[t] : at[t + 1] + 1], _tags(hw, oneway=True)
                start = t + 1
        bar.update(1)
    a, b = grid.ends(grid.couplet)
    rk = grid.return_k
    first_id = grid.n_junctions + grid.n_shape + 1 + np.cumsum(rk) - rk
    for link, ja, jb, f, n in zip(
        grid.couplet.tolist(), a.tolist(), b.tolist(), first_id.tolist(), rk.tolist(), strict=True
    ):
        hw = "residential" if grid.residential[link] else "unclassified"
        way_id += 1
        counts[hw] = counts.get(hw, 0) + 1
        yield way_id, [jb + 1, *range(f + n - 1, f - 1, -1), ja + 1], _tags(hw, oneway=True)
    bar.update(1)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_synthetic_network(
    path: str | Path,
    *,
    nodes: int = 5_000_000,
    seed: int = 0,
    bbox: tuple[float, float, float, float] = ENGLAND_BBOX,
    progress: bool = True,
) -> dict[str, Any]:
    """Write a road network of about ``nodes`` nodes over ``bbox`` to ``path`` (an
    ``.osm.pbf``, replaced if it exists); the same ``seed`` gives the same file.

    Returns the figures: ``nodes``, ``ways`` (and ``ways_by_class``), ``bytes``,
    ``seconds``, the grid (``grid`` columns x rows, ``spacing_m`` between junctions)
    and ``peak_rss_mb`` of this process so far.
    """
    t0 = time.perf_counter()
    grid = layout(nodes, bbox, seed)
    counts: dict[str, int] = {}
    n_nodes, n_ways = write_osm(
        path,
        _nodes(grid, progress),
        _ways(grid, counts, progress),
        timestamp=TIMESTAMP,
        bbox=bbox,
    )
    assert n_nodes == grid.n_nodes
    return {
        "path": str(path),
        "nodes": n_nodes,
        "ways": n_ways,
        "ways_by_class": dict(sorted(counts.items(), key=lambda kv: -kv[1])),
        "bytes": Path(path).stat().st_size,
        "seconds": round(time.perf_counter() - t0, 2),
        "grid": f"{grid.nx} x {grid.ny}",
        "spacing_m": round(grid.spacing_m, 1),
        "one_way_pairs": len(grid.couplet),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


# ------------------------------------------------------------------------ check


def neighbour_counts(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """Distinct neighbours of each of ``n`` nodes over directed edges ``u -> v``."""
    a, b = np.minimum(u, v), np.maximum(u, v)
    pairs = np.unique(a[a != b].astype(np.int64) * n + b[a != b])
    return np.bincount(pairs // n, minlength=n) + np.bincount(pairs % n, minlength=n)


def check_network(
    path: str | Path, *, points: int = 10_000, routed: int = 6, seed: int = 1
) -> dict[str, Any]:
    """Read ``path`` back with hubopt and return figures: nodes read and kept by
    prepare_graph, the shares with two neighbours and with one, km of road by class,
    the distance from ``points`` random points in the extent to the nearest node
    (median, 99th percentile, max), and minutes between ``routed`` random points."""
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    from hubopt.inputs import BNG
    from hubopt.roads import matrix, network

    t0 = time.perf_counter()
    raw = network.load_graph(path, progress=False)
    t_load = time.perf_counter() - t0
    net = network.prepare_graph(raw)
    t_prep = time.perf_counter() - t0 - t_load
    del raw
    edges = net.edges
    deg = neighbour_counts(edges["u"].to_numpy(), edges["v"].to_numpy(), net.n_nodes)
    km = edges.groupby("highway", observed=True)["length"].sum() / 1000 / 2  # both ways
    tagged = edges["speed_from"].eq("tag").groupby(edges["highway"], observed=True).mean()
    rng = np.random.default_rng(seed)
    lon, lat = net.nodes["lon"].to_numpy(), net.nodes["lat"].to_numpy()
    to_bng = Transformer.from_crs("EPSG:4326", BNG, always_xy=True)
    tree = cKDTree(net.nodes[["x", "y"]].to_numpy())

    def random_points(n: int, margin: float) -> tuple[np.ndarray, np.ndarray]:
        lo_x, hi_x = np.quantile(lon, [margin, 1 - margin])
        lo_y, hi_y = np.quantile(lat, [margin, 1 - margin])
        return rng.uniform(lo_x, hi_x, n), rng.uniform(lo_y, hi_y, n)

    dist, _ = tree.query(np.column_stack(to_bng.transform(*random_points(points, 0.0))))
    figures: dict[str, Any] = {
        "load_seconds": round(t_load, 2),
        "prepare_seconds": round(t_prep, 2),
        "osm_timestamp": net.meta.get("osm_timestamp"),
        "nodes_read": net.meta["nodes_read"],
        "nodes_kept": net.n_nodes,
        "kept_share": round(net.n_nodes / net.meta["nodes_drivable"], 6),
        "two_neighbour_share": round(float(np.mean(deg == 2)), 4),
        "dead_end_share": round(float(np.mean(deg == 1)), 4),
        "km_by_class": km.round(0).sort_values(ascending=False).to_dict(),
        "maxspeed_tagged_share_by_class": tagged[tagged > 0].round(3).to_dict(),
        "nearest_node_m": {
            "median": round(float(np.median(dist)), 1),
            "p99": round(float(np.quantile(dist, 0.99)), 1),
            "max": round(float(dist.max()), 1),
        },
    }
    if routed:
        import geopandas as gpd

        px, py = random_points(routed, 0.1)
        practices = gpd.GeoDataFrame(
            {"list_size": 10_000},
            geometry=gpd.points_from_xy(px, py),
            crs="EPSG:4326",
            index=[f"P{i}" for i in range(routed)],
        )
        snapped = network.snap_practices(net, practices)
        t = time.perf_counter()
        minutes = matrix.travel_time_matrix(net, snapped, workers=1, progress=False)
        xy = snapped[["x", "y"]].to_numpy()
        km_straight = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) / 1000
        off = ~np.eye(routed, dtype=bool)
        kph = km_straight[off] / (minutes.to_numpy()[off] / 60)
        figures["routed"] = {
            "points": routed,
            "seconds": round(time.perf_counter() - t, 2),
            "minutes_max": round(float(minutes.to_numpy().max()), 1),
            "straight_line_kph": [round(float(kph.min()), 1), round(float(kph.max()), 1)],
            "minutes": minutes.round(1),
        }
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="the .osm.pbf file to write")
    ap.add_argument("--nodes", type=int, default=5_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--bbox", type=float, nargs=4, default=ENGLAND_BBOX, metavar=("W", "S", "E", "N")
    )
    ap.add_argument("--force", action="store_true", help="replace an existing file")
    ap.add_argument("--check", action="store_true", help="read it back with hubopt")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    if not args.out.name.lower().endswith(".pbf"):
        ap.error(f"{args.out} should end in .osm.pbf")
    if args.out.exists() and not args.force:
        ap.error(f"{args.out} exists; give --force to replace it")
    figures = write_synthetic_network(
        args.out,
        nodes=args.nodes,
        seed=args.seed,
        bbox=tuple(args.bbox),
        progress=not args.no_progress,
    )
    print(
        f"wrote {figures['path']}: {figures['nodes']:,} nodes, {figures['ways']:,} ways, "
        f"{figures['bytes'] / 1e6:,.1f} MB in {figures['seconds']:.1f} s; grid "
        f"{figures['grid']} junctions {figures['spacing_m']:.0f} m apart, "
        f"{figures['one_way_pairs']:,} one-way pairs; peak RSS {figures['peak_rss_mb']:,.0f} MB"
    )
    print(f"  ways by class: {figures['ways_by_class']}")
    if args.check:
        checked = check_network(args.out)
        minutes = checked["routed"].pop("minutes") if "routed" in checked else None
        for key, value in checked.items():
            print(f"  {key}: {value}")
        if minutes is not None:
            print(minutes.to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
