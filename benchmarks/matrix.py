"""Time the road network and travel-time matrix stages on real and synthetic networks.

    python benchmarks/matrix.py            # everything (about 5 minutes on 2 cores)
    python benchmarks/matrix.py --quick    # about a minute: fewer repeats and naive samples
    python benchmarks/matrix.py --case synthetic_1m --workers 2

Cases (each runs in its own process, so its peak memory is its own):

``rutland_pbf``
    load + prepare Rutland's Geofabrik PBF (../shared/data/osm), the matrix for the
    practices on it, and OSMnx's ``graph_from_xml`` on the pre-filtered drive extract
    for comparison.
``cambridge``, ``westminster``
    load + prepare the GraphML, the matrix for every practice in the graph
    (../shared/data/nhs, within 250 m of a road node).
``synthetic_100k``, ``synthetic_1m``
    a road-like synthetic network (a junction grid whose roads carry shape points and
    dead-end spurs, in the proportions of Rutland's unsimplified OSM drive network:
    ~80% of nodes with two neighbours, ~8% dead ends, 2.5% one-way) of 100,000 nodes
    with 150 practices and of 1,000,000 nodes with 1,000 practices.

Every case also times the naive way, one ``networkx.shortest_path_length`` call per
practice pair on the same graph, on a random sample of pairs when all pairs would
take too long, and prints the ratio (extrapolated from the sample, and said so).
The real-data cases are skipped when ../shared/data is absent. Figures, not tests:
nothing here asserts a time. The machine's cores may be shared with other work.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from hubopt.inputs import BNG
from hubopt.roads import matrix, network
from hubopt.roads._routing import default_workers
from hubopt.roads.network import RoadNetwork

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
OSM = SHARED / "osm"
PRACTICES = SHARED / "nhs" / "practices_england.csv"
CASES = ("rutland_pbf", "cambridge", "westminster", "synthetic_100k", "synthetic_1m")


def peak_mb() -> tuple[float, float]:
    """Peak resident memory (MB) of this process and of its largest finished child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


# ---------------------------------------------------------------- real data


def real_practices(net: RoadNetwork, within_m: float = 250.0) -> pd.DataFrame:
    """Practices inside the network's bounding box and within ``within_m`` of a node."""
    p = pd.read_csv(PRACTICES, dtype={"practice_code": str})
    lon, lat = net.nodes["lon"], net.nodes["lat"]
    p = p[p.lon.between(lon.min(), lon.max()) & p.lat.between(lat.min(), lat.max())]
    g = gpd.GeoDataFrame(p, geometry=gpd.points_from_xy(p.lon, p.lat), crs="EPSG:4326")
    g = g.set_index("practice_code")
    snapped = network.snap_practices(net, g, warn_m=np.inf)
    return snapped[snapped["snap_m"] <= within_m]


def load_case(path: Path, repeats: int) -> tuple[RoadNetwork, list[float], list[float]]:
    loads, preps = [], []
    for _ in range(repeats):
        raw, t_load = timed(network.load_graph, path)
        net, t_prep = timed(network.prepare_graph, raw)
        loads.append(t_load)
        preps.append(t_prep)
    return net, loads, preps


def naive(G: nx.MultiDiGraph, nodes: np.ndarray, pairs: np.ndarray) -> tuple[float, np.ndarray]:
    """Seconds for one networkx call per pair (weight travel_time), and the answers."""
    out = np.empty(len(pairs))
    t = time.perf_counter()
    for k, (i, j) in enumerate(pairs):
        out[k] = (
            0.0
            if nodes[i] == nodes[j]
            else nx.shortest_path_length(G, nodes[i], nodes[j], weight="travel_time")
        )
    return time.perf_counter() - t, out


def sample_pairs(n: int, k: int | None, rng: np.random.Generator) -> np.ndarray:
    allp = np.array([(i, j) for i in range(n) for j in range(n) if i != j])
    if k is None or k >= len(allp):
        return allp
    return allp[rng.choice(len(allp), size=k, replace=False)]


def compare_naive(label, net, snapped, minutes, t_ours, k, rng):
    """Print the naive way's time (all pairs, or a sample extrapolated) and the ratio,
    and check its answers against ours."""
    G, t_nx = timed(net.to_networkx)
    nodes = snapped["node"].to_numpy()
    n = len(nodes)
    pairs = sample_pairs(n, k, rng)
    t_naive, ref = naive(G, nodes, pairs)
    access = snapped["access_s"].to_numpy()
    ours = minutes.to_numpy()[pairs[:, 0], pairs[:, 1]]
    expect = (ref + access[pairs[:, 0]] + access[pairs[:, 1]]) / 60
    same_site = ours == 0
    err = float(np.max(np.abs(ours[~same_site] - expect[~same_site]), initial=0.0))
    total = n * (n - 1)
    est = t_naive / len(pairs) * total
    how = "all" if len(pairs) == total else f"{len(pairs)} sampled, extrapolated to all"
    print(
        f"  {label} naive networkx per pair: {t_naive:.2f} s for {len(pairs):,} pairs "
        f"({how} {total:,}: {est:,.1f} s) -> ours is {est / t_ours:,.0f}x faster; "
        f"max difference {err:.1e} min; building the networkx graph took {t_nx:.1f} s"
    )


def case_real(name: str, path: Path, args) -> None:
    if not path.exists():
        print(f"{name}: skipped, {path} is absent")
        return
    repeats = 1 if args.quick else 3
    net, loads, preps = load_case(path, repeats)
    print(
        f"{name}: load {statistics.median(loads):.2f} s + prepare "
        f"{statistics.median(preps):.2f} s (median of {repeats}), {net.n_nodes:,} nodes, "
        f"{net.n_edges:,} edges in the largest strongly connected component "
        f"({net.meta.get('nodes_drivable', 0):,} drivable)"
    )
    if not PRACTICES.exists():
        print(f"  {name}: no practices file, matrix skipped")
        return
    snapped = real_practices(net)
    minutes, t_m = timed(matrix.travel_time_matrix, net, snapped, workers=args.workers)
    routed = minutes.attrs["hubopt"]["routing"]["nodes_routed"]
    vals = minutes.to_numpy()
    own, _ = peak_mb()
    print(
        f"  {name} matrix: {len(snapped)} practices in {t_m:.3f} s (routed on {routed:,} "
        f"nodes after contraction), longest {vals.max():.1f} min, "
        f"{int((vals == 0).sum()) - len(vals)} same-building zeros; peak RSS {own:,.0f} MB"
    )
    k = 60 if args.quick else None
    compare_naive(name, net, snapped, minutes, t_m, k, np.random.default_rng(0))
    if name == "rutland_pbf":
        xml = OSM / "rutland_drive_2022-07-20.osm.bz2"
        if xml.exists():
            import osmnx as ox

            _, t_ox = timed(ox.graph_from_xml, xml, simplify=False, retain_all=True)
            _, t_ours = timed(network.load_graph, xml)
            print(
                f"  rutland drive .osm.bz2: osmnx graph_from_xml {t_ox:.2f} s vs "
                f"hubopt load_graph (pyosmium) {t_ours:.2f} s"
            )


# ---------------------------------------------------------------- synthetic


def synthetic_network(n_target: int, seed: int = 0) -> RoadNetwork:
    """A road-like network of about ``n_target`` nodes (raw, BNG coordinates).

    Junctions on a jittered grid 400 m apart (a quarter of grid links missing, so
    junctions have 2-4 roads); every road carries shape points ~50 m apart; dead-end
    spurs of 1-4 nodes hang off 8% of shape points; every 10th grid line is a primary
    road, every 5th secondary, the rest unclassified or residential; 2.5% of roads are
    one-way. Those proportions follow Rutland's unsimplified OSM drive network.
    """
    rng = np.random.default_rng(seed)
    per_junction = 1 + 2 * 0.75 * 7 + 0.08 * 2 * 0.75 * 7 * 2.5  # nodes per junction
    J = int(np.sqrt(n_target / per_junction))
    spacing = 400.0
    gx, gy = np.meshgrid(np.arange(J), np.arange(J))
    jx = 400_000 + gx.ravel() * spacing + rng.normal(0, 60, J * J)
    jy = 200_000 + gy.ravel() * spacing + rng.normal(0, 60, J * J)
    idx = np.arange(J * J).reshape(J, J)
    a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    line = np.concatenate([gy[:, :-1].ravel(), gx[:-1, :].ravel()])  # row/col of the road
    keep = (rng.random(len(a)) < 0.75) | (line % 5 == 0)
    a, b, line = a[keep], b[keep], line[keep]
    cls = np.where(
        line % 10 == 0,
        "primary",
        np.where(line % 5 == 0, "secondary", np.where(line % 2, "residential", "unclassified")),
    )
    k = rng.poisson(7, len(a))  # shape points per road
    total = int(k.sum())
    seg = np.repeat(np.arange(len(a)), k)
    frac = (np.arange(total) - np.repeat(np.cumsum(k) - k, k) + 1) / np.repeat(k + 1, k)
    sx = jx[a][seg] + frac * (jx[b][seg] - jx[a][seg]) + rng.normal(0, 8, total)
    sy = jy[a][seg] + frac * (jy[b][seg] - jy[a][seg]) + rng.normal(0, 8, total)
    sid = J * J + np.arange(total)
    # chain of each road: a, shape..., b
    first = np.cumsum(k) - k
    chain_u, chain_v, chain_seg = [], [], []
    has = k > 0
    chain_u.append(a[~has])
    chain_v.append(b[~has])
    chain_seg.append(np.nonzero(~has)[0])
    chain_u.append(a[has])
    chain_v.append(sid[first[has]])
    chain_seg.append(np.nonzero(has)[0])
    inner = np.ones(total, dtype=bool)
    inner[(first + k - 1)[has]] = False
    chain_u.append(sid[inner])
    chain_v.append(sid[np.nonzero(inner)[0] + 1])
    chain_seg.append(seg[inner])
    last = (first + k - 1)[has]
    chain_u.append(sid[last])
    chain_v.append(b[has])
    chain_seg.append(np.nonzero(has)[0])
    u = np.concatenate(chain_u)
    v = np.concatenate(chain_v)
    eseg = np.concatenate(chain_seg)
    # dead-end spurs off 8% of shape points
    roots = rng.choice(total, size=int(0.08 * total), replace=False)
    lengths = rng.integers(1, 5, len(roots))
    n_spur = int(lengths.sum())
    sp_id = J * J + total + np.arange(n_spur)
    sp_root = np.repeat(roots, lengths)
    sp_first = np.cumsum(lengths) - lengths
    step = np.arange(n_spur) - np.repeat(sp_first, lengths) + 1
    ang = np.repeat(rng.uniform(0, 2 * np.pi, len(roots)), lengths)
    spx = sx[sp_root] + step * 40 * np.cos(ang)
    spy = sy[sp_root] + step * 40 * np.sin(ang)
    prev = np.where(step == 1, sid[sp_root], sp_id - 1)
    u = np.concatenate([u, prev])
    v = np.concatenate([v, sp_id])
    eseg = np.concatenate([eseg, -np.ones(n_spur, dtype=np.int64)])
    x = np.concatenate([jx, sx, spx])
    y = np.concatenate([jy, sy, spy])
    highway = np.where(eseg >= 0, cls[np.maximum(eseg, 0)], "residential")
    oneway = np.zeros(len(a), dtype=bool)
    oneway[rng.random(len(a)) < 0.025] = True
    one = np.where(eseg >= 0, oneway[np.maximum(eseg, 0)], False)
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    uu = np.concatenate([u, v[~one]])
    vv = np.concatenate([v, u[~one]])
    edges = pd.DataFrame(
        {
            "u": uu,
            "v": vv,
            "length": np.concatenate([length, length[~one]]),
            "highway": pd.Categorical(np.concatenate([highway, highway[~one]])),
        }
    )
    nodes = pd.DataFrame({"osmid": np.arange(len(x), dtype=np.int64), "x": x, "y": y})
    meta = {"source": f"synthetic road-like network, seed {seed}", "source_kind": "synthetic"}
    return RoadNetwork(nodes, edges, crs=BNG, meta=meta)


def synthetic_practices(net: RoadNetwork, n: int, seed: int = 1) -> gpd.GeoDataFrame:
    """``n`` practices near random nodes; 5% share a building with another."""
    rng = np.random.default_rng(seed)
    at = rng.choice(net.n_nodes, size=n, replace=False)
    x = net.nodes["x"].to_numpy()[at] + rng.normal(0, 60, n)
    y = net.nodes["y"].to_numpy()[at] + rng.normal(0, 60, n)
    twin = rng.random(n) < 0.05
    src = rng.integers(0, n, n)
    x[twin], y[twin] = x[src[twin]], y[src[twin]]
    codes = [f"S{i:05d}" for i in range(n)]
    return gpd.GeoDataFrame(
        {"list_size": 8000}, geometry=gpd.points_from_xy(x, y), crs=BNG, index=codes
    )


def case_synthetic(name: str, n_nodes: int, n_practices: int, args) -> None:
    raw, t_gen = timed(synthetic_network, n_nodes)
    net, t_prep = timed(network.prepare_graph, raw)
    practices = synthetic_practices(net, n_practices)
    snapped, t_snap = timed(network.snap_practices, net, practices, warn_m=np.inf)
    workers = args.workers or default_workers()
    print(
        f"{name}: {net.n_nodes:,} nodes, {net.n_edges:,} edges (generated in {t_gen:.1f} s, "
        f"prepared in {t_prep:.2f} s), {n_practices:,} practices snapped in {t_snap:.2f} s; "
        f"{workers} worker process(es) on {os.cpu_count()} cores (shared with other work)"
    )
    minutes, t_m = timed(
        matrix.travel_time_matrix, net, snapped, workers=workers, progress=args.progress
    )
    own, _ = peak_mb()
    routing = minutes.attrs["hubopt"]["routing"]
    vals = minutes.to_numpy()
    where = (
        f"{routing['workers']} worker processes (peak RSS {routing['worker_peak_rss_mb']:,.0f} "
        "MB each)"
        if routing["workers"] > 1
        else "routed in the main process"
    )
    print(
        f"  {name} matrix: {n_practices:,} x {n_practices:,} in {t_m:.2f} s (routed on "
        f"{routing['nodes_routed']:,} nodes after contraction, {where}), longest "
        f"{vals.max():.0f} min; peak RSS {own:,.0f} MB for generate + prepare + matrix"
    )
    big_quick = args.quick and n_nodes > 200_000
    if workers > 1 and routing["workers"] == 1 and not big_quick:
        from hubopt.roads import _routing

        saved, _routing.PARALLEL_MIN_WORK = _routing.PARALLEL_MIN_WORK, 0
        try:
            m2, t_par = timed(matrix.travel_time_matrix, net, snapped, workers=workers)
        finally:
            _routing.PARALLEL_MIN_WORK = saved
        r2 = m2.attrs["hubopt"]["routing"]
        print(
            f"  {name} matrix with {r2['workers']} worker processes forced: {t_par:.2f} s "
            f"(worker peak RSS {r2.get('worker_peak_rss_mb', 0):,.0f} MB each; workers start "
            "by importing the calling program)"
        )
    if not big_quick:
        _, t_lim = timed(matrix.travel_time_matrix, net, snapped, workers=workers, limit_minutes=60)
        print(f"  {name} matrix bounded at 60 min: {t_lim:.2f} s")
        sub = snapped.iloc[: max(20, n_practices // 10)]
        m_full, t_full = timed(matrix.travel_time_matrix, net, sub, workers=workers, contract=False)
        m_con, t_con = timed(matrix.travel_time_matrix, net, sub, workers=workers)
        print(
            f"  {name} without contraction: {len(sub)} practices in {t_full:.2f} s "
            f"(all {n_practices:,}: ~{t_full * n_practices / len(sub):.0f} s) vs "
            f"{t_con:.2f} s with it (same answers: "
            f"{np.allclose(m_full.to_numpy(), m_con.to_numpy(), rtol=1e-9)})"
        )
    k = (10 if n_nodes <= 200_000 else 2) if args.quick else (40 if n_nodes <= 200_000 else 8)
    compare_naive(name, net, snapped, minutes, t_m, k, np.random.default_rng(0))


# ---------------------------------------------------------------- driver


def run_case(name: str, args) -> None:
    if name == "rutland_pbf":
        case_real(name, OSM / "rutland-latest_2022-07-20.osm.pbf", args)
    elif name == "cambridge":
        case_real(name, OSM / "cambridge-uk_drive_bbox_osmnx0.14.1_2020-08-21.graphml.gz", args)
    elif name == "westminster":
        case_real(name, OSM / "westminster-uk_drive_osmnx1.9.1_2024-02-17.graphml", args)
    elif name == "synthetic_100k":
        case_synthetic(name, 100_000, 150, args)
    elif name == "synthetic_1m":
        case_synthetic(name, 1_000_000, 1_000, args)
    else:
        raise SystemExit(f"unknown case {name}; choose from {', '.join(CASES)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="about a minute")
    ap.add_argument("--case", choices=CASES, help="run one case in this process")
    ap.add_argument("--workers", type=int, help="routing processes (default: all cores)")
    ap.add_argument("--progress", action="store_true", help="show progress bars")
    args = ap.parse_args()
    if args.case:
        run_case(args.case, args)
        return
    start = time.perf_counter()
    for name in CASES:
        cmd = [sys.executable, __file__, "--case", name]
        cmd += ["--quick"] * args.quick + (["--workers", str(args.workers)] if args.workers else [])
        subprocess.run(cmd, check=True)
    print(f"all cases: {time.perf_counter() - start:.0f} s wall")


if __name__ == "__main__":
    main()
