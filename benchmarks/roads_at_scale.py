"""Road minutes for all of England: one extract read once, every area routed on its part.

    python benchmarks/roads_at_scale.py [--work DIR] [--nodes 5000000]
        [--areas 30,100,200,300,450] [--batch] [--time-limit 5] [--workers 2]
        [--data ../shared/data]

Figures, not tests (issue 26). On a synthetic national-size network that this
benchmark writes itself (``benchmarks/synthetic_roads.py``: a real OSM PBF of
``--nodes`` nodes over England's extent, kept in ``--work`` and re-used):

1. **read and cache once**: ``hubopt.roads.store.ensure_store`` in a fresh process:
   wall time and the process's peak memory (target: under 10 minutes, under 8 GiB);
2. **cached reload**: the same call again in a fresh process, which checks the
   extract's SHA-256 and opens the store memory-mapped (target: under 30 s);
3. **per-area routing**: for real areas of the NHS files (practices with list sizes
   and coordinates, ``../shared/data/nhs``) of about 30 to 450 practices (CCGs, and
   ICBs for the largest), each in a fresh worker process as a batch worker would:
   ``road_matrix`` on the area's part of the store, its seconds, margin, nodes read
   and the worker's peak memory above its start (targets: under 10 s, under 2 GiB);
4. Rutland's real extract (``../shared/data/osm``) routed alone and as the part of a
   larger store (Rutland's and Cambridge's extracts): the matrices must be identical;
5. with ``--batch``: ``benchmarks/england.py`` over every CCG with ``--workers``
   workers, first on straight-line travel, then with ``--network`` on the store
   (target: roads add under 50% to the run's time).

Every figure is printed; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import resource
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def build_once(pbf: str, cache: str) -> dict:
    """In a fresh process: read the extract into its store (or re-open it)."""
    os.environ["HUBOPT_ROAD_CACHE"] = cache
    from hubopt.roads import store

    t0 = time.perf_counter()
    road = store.ensure_store(pbf, progress=False)
    seconds = time.perf_counter() - t0
    size = sum(f.stat().st_size for f in road.path.iterdir())
    return {
        "seconds": seconds,
        "peak_mib": _peak_mib(),
        "nodes": road.meta["nodes"],
        "edges": road.meta["edges"],
        "store_mb": size / 1e6,
        "built_seconds": road.meta["built_seconds"],
        "path": str(road.path),
    }


def route_area(store_path: str, practices_file: str) -> dict:
    """In a fresh process, as a batch worker: open the store, route one area."""
    import geopandas as gpd

    from hubopt.roads import matrix, store

    practices = gpd.read_parquet(practices_file)
    start_rss = _rss_mib()
    t0 = time.perf_counter()
    road = store.open_store(store_path)
    minutes, snapped = matrix.road_matrix(road, practices, exact_minutes=60.0)
    seconds = time.perf_counter() - t0
    r = minutes.attrs["hubopt"]["routing"]
    last = r["passes"][-1]
    return {
        "seconds": seconds,
        "start_mib": start_rss,
        "peak_mib": _peak_mib(),
        "rss_end_mib": _rss_mib(),
        "passes": len(r["passes"]),
        "margin_km": last["margin_m"] / 1000,
        "part_nodes": last["nodes"],
        "nodes_read": r["nodes_read"],
        "routed_nodes": r["nodes_routed"],
        "store_nodes": r["store_nodes"],
        "beyond": r["pairs_beyond_exact"],
        "max_snap_m": float(snapped["snap_m"].max()),
        "finite": float(minutes.replace(float("inf"), float("nan")).notna().to_numpy().mean()),
    }


def rutland_both_ways(osm_dir: Path, nhs_dir: Path, cache: Path) -> str:
    """Rutland's real extract routed alone (the whole county file) and as the part of
    a larger network (Rutland's and Cambridge's extracts in one store)."""
    import geopandas as gpd
    import numpy as np
    from matrix import real_practices  # benchmarks/matrix.py

    from hubopt.roads import matrix, network, store

    county = osm_dir / "rutland-latest_2022-07-20.osm.pbf"
    cambridge = osm_dir / "cambridge-uk_drive_2021-04-10.osm.bz2"
    table = nhs_dir / "practices_england.csv"
    if not (county.is_file() and cambridge.is_file() and table.is_file()):
        return "Rutland both ways: data absent"
    os.environ["HUBOPT_ROAD_CACHE"] = str(cache)
    net = network.prepare_graph(network.load_graph(county))
    snapped = real_practices(net)  # practices in the county, within 250 m of its roads
    g = gpd.GeoDataFrame(geometry=gpd.points_from_xy(snapped["x"], snapped["y"]),
                         index=snapped.index, crs="EPSG:27700")  # fmt: skip
    alone = matrix.travel_time_matrix(net, snapped)
    folder = cache / "rutland-and-cambridge"
    folder.mkdir(parents=True, exist_ok=True)
    for f in (county, cambridge):
        if not (folder / f.name).exists():
            (folder / f.name).symlink_to(f)
    larger = store.ensure_store(folder)
    part, _ = matrix.road_matrix(larger, g)
    last = part.attrs["hubopt"]["routing"]["passes"][-1]
    same = np.array_equal(alone.to_numpy(), part.to_numpy())
    return (
        f"Rutland both ways: {len(g)} practices, whole county file vs its part of a "
        f"{larger.meta['nodes']:,}-node store ({last['nodes']:,} nodes): identical {same}"
    )


def in_fresh_process(fn, *args):
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(fn, *args).result()


def choose_areas(nhs_dir: Path, sizes: list[int]) -> list[tuple[str, str, object]]:
    """(level, code, practices) of real areas nearest each wanted size: CCGs up to
    their largest, ICBs above."""
    from hubopt import batch
    from hubopt.batch.areas import area_codes
    from hubopt.inputs import load

    scenario = batch.nhs_scenario(nhs_dir, name="roads", area={"min_list_size": 1000})
    table = load.read_all_practices(scenario)
    practices = table.practices
    out = []
    for size in sizes:
        best = None
        for level in ("ccg", "icb"):
            codes = area_codes(practices, level)
            counts = codes[codes != ""].value_counts()
            code = (counts - size).abs().idxmin()
            if best is None or abs(counts[code] - size) < abs(best[2] - size):
                best = (level, code, int(counts[code]))
        level, code, _ = best
        codes = area_codes(practices, level)
        out.append((level, code, practices[codes == code]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("out") / "roads-at-scale")
    ap.add_argument("--nodes", type=int, default=5_000_000)
    ap.add_argument("--areas", default="30,100,200,300,450", help="area sizes (practices)")
    ap.add_argument("--batch", action="store_true", help="also every CCG, roads vs straight")
    ap.add_argument("--time-limit", type=float, default=5.0, help="seconds per area (--batch)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument("--rebuild", action="store_true", help="build the store again")
    args = ap.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    pbf = work / f"synthetic-england-{args.nodes}.osm.pbf"
    cache = work / "stores"
    if not pbf.is_file():
        from synthetic_roads import write_synthetic_network

        t0 = time.perf_counter()
        figures = write_synthetic_network(pbf, nodes=args.nodes, progress=False)
        print(f"wrote {pbf.name}: {figures} in {time.perf_counter() - t0:.0f} s", flush=True)
    print(f"extract {pbf.name}: {pbf.stat().st_size / 1e6:.0f} MB", flush=True)
    if args.rebuild and cache.is_dir():
        import shutil

        shutil.rmtree(cache)
    first = in_fresh_process(build_once, str(pbf), str(cache))
    print(
        f"read and cache: {first['seconds']:.1f} s (store build {first['built_seconds']} s), "
        f"peak {first['peak_mib'] / 1024:.2f} GiB; {first['nodes']:,} nodes, "
        f"{first['edges']:,} edges; store {first['store_mb']:.0f} MB",
        flush=True,
    )
    again = in_fresh_process(build_once, str(pbf), str(cache))
    print(f"cached reload (SHA-256 of the extract, open memory-mapped): "
          f"{again['seconds']:.1f} s, peak {again['peak_mib']:.0f} MiB", flush=True)  # fmt: skip
    nhs_dir = (args.data / "nhs").resolve()
    print(in_fresh_process(rutland_both_ways, (args.data / "osm").resolve(), nhs_dir, cache),
          flush=True)  # fmt: skip
    sizes = [int(s) for s in args.areas.split(",") if s.strip()]
    if sizes and nhs_dir.is_dir():
        print(f"\n{'area':<10} {'pract':>5} {'s':>6} {'passes':>6} {'margin':>7} "
              f"{'part':>9} {'read':>9} {'routed':>8} {'start':>6} {'peak':>6} {'>60':>5} "
              f"{'snap':>5}  (MiB; part/read/routed in nodes)")  # fmt: skip
        for level, code, practices in choose_areas(nhs_dir, sizes):
            f = work / f"{level}-{code}.parquet"
            practices.to_parquet(f)
            r = in_fresh_process(route_area, first["path"], str(f))
            print(
                f"{level}:{code:<6} {len(practices):>5} {r['seconds']:>6.1f} {r['passes']:>6} "
                f"{r['margin_km']:>5.0f}km {r['part_nodes']:>9,} {r['nodes_read']:>9,} "
                f"{r['routed_nodes']:>8,} {r['start_mib']:>6.0f} {r['peak_mib']:>6.0f} "
                f"{r['beyond']:>5} {r['max_snap_m']:>5.0f}",
                flush=True,
            )
    if args.batch:
        totals = {}
        for label, extra in (("straight line", []), ("roads", ["--network", first["path"]])):
            out = work / f"batch-{label.replace(' ', '-')}"
            cmd = [sys.executable, str(HERE / "england.py"), "--workers", str(args.workers),
                   "--time-limit", str(args.time_limit), "--out", str(out), "--force",
                   "--data", str(args.data), *extra]  # fmt: skip
            t0 = time.perf_counter()
            run = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            tail = run.stdout.strip().splitlines()[-6:]
            m = re.search(r"total_s (\d+)", run.stdout)
            totals[label] = float(m.group(1)) if m else wall
            print(f"\nbatch, {label}: {totals[label]:.0f} s (exit {run.returncode})")
            print("\n".join("  " + t for t in tail), flush=True)
        if len(totals) == 2 and totals["straight line"]:
            ratio = totals["roads"] / totals["straight line"]
            print(f"\nroads add {ratio - 1:+.0%} to the batch ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
