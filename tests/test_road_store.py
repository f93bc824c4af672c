"""Road stores (hubopt.roads.store) and routing on an area's part of one
(hubopt.roads.matrix.road_matrix), on small extracts written by the tests.

The grid network: streets every ~550 m around (52.6 N, 1.2 W), 30 mph residential;
a 70 mph motorway runs north-south some way west of the practices, outside any small
margin around them, so that the fastest route between practices near the area's
west edge leaves their rectangle.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hubopt import pipeline
from hubopt.errors import NetworkError
from hubopt.roads import matrix, network, store
from tests.conftest import practices_frame
from tests.osm_files import write_osm

LON0, LAT0 = -1.20, 52.60
STEP = 0.008  # ~550 m of longitude, ~890 m of latitude


def grid_extract(path, *, n=24, motorway_col=None, lat0=LAT0, lon0=LON0, first_id=1,
                 cut_row=None, speed="30 mph"):  # fmt: skip
    """An ``n x n`` street grid (node ids from ``first_id``), optionally with a
    motorway along column ``motorway_col`` and the east-west streets of row
    ``cut_row`` missing west of the middle (a river practices must go round)."""
    ids = np.arange(n * n).reshape(n, n) + first_id
    nodes = [(int(ids[r, c]), lon0 + c * STEP, lat0 + r * STEP) for r in range(n) for c in range(n)]
    ways = []
    wid = first_id
    for r in range(n):
        for c in range(n - 1):
            if cut_row is not None and r == cut_row and c < n // 2:
                continue
            ways.append((wid, [int(ids[r, c]), int(ids[r, c + 1])],
                         {"highway": "residential", "maxspeed": speed}))  # fmt: skip
            wid += 1
    for c in range(n):
        for r in range(n - 1):
            if cut_row is not None and r in (cut_row - 1, cut_row) and c < n // 2 and c != 0:
                continue  # the river: north-south streets cross it only at column 0
            tags = {"highway": "residential", "maxspeed": speed}
            if c == motorway_col:
                tags = {"highway": "motorway", "maxspeed": "70 mph"}
            ways.append((wid, [int(ids[r, c]), int(ids[r + 1, c])], tags))
            wid += 1
    write_osm(path, nodes, ways)
    return path


def practices_at(cells, *, lat0=LAT0, lon0=LON0):
    """Practices at grid cells (row, col), 50 m off the junction."""
    rows = [
        (f"P{i}", f"Practice {i}", lat0 + r * STEP + 0.0004, lon0 + c * STEP, 10_000)
        for i, (r, c) in enumerate(cells)
    ]
    return practices_frame(rows)


def whole_network_minutes(path, practices):
    """The reference: the whole extract prepared and routed as one network."""
    net = network.prepare_graph(network.load_graph(path))
    snapped = network.snap_practices(net, practices)
    return matrix.travel_time_matrix(net, snapped)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "stores"
    monkeypatch.setenv(store.CACHE_ENV, str(folder))
    return folder


def test_store_is_reused_and_rebuilt_when_the_extract_or_speeds_change(tmp_path, cache,
                                                                       monkeypatch):  # fmt: skip
    path = grid_extract(tmp_path / "area.osm.pbf", n=8)
    built = []
    real_build = store.build_store
    monkeypatch.setattr(
        store, "build_store", lambda *a, **k: built.append(1) or real_build(*a, **k)
    )
    first = store.ensure_store(path)
    assert built == [1] and first.path.parent == cache
    assert first.meta["nodes"] == 64 and first.meta["sources"][0]["name"] == "area.osm.pbf"
    again = store.ensure_store(path)
    assert built == [1] and again.meta["key"] == first.meta["key"]
    assert isinstance(again.arrays["x"], np.memmap)  # opened memory-mapped, not read
    # the same extract with one street faster: another key, built again
    grid_extract(path, n=8, speed="40 mph")
    changed = store.ensure_store(path)
    assert built == [1, 1] and changed.meta["key"] != first.meta["key"]
    # another speed table: another key
    faster = store.ensure_store(path, speeds={"residential": 50.0})
    assert built == [1, 1, 1] and faster.meta["key"] != changed.meta["key"]
    assert store.ensure_store(path, speeds={"residential": 50.0}).meta["key"] == faster.meta["key"]
    assert built == [1, 1, 1]


def test_store_goes_beside_the_extract_unless_told(tmp_path, monkeypatch):
    monkeypatch.delenv(store.CACHE_ENV, raising=False)
    path = grid_extract(tmp_path / "county.osm.pbf", n=6)
    s = store.ensure_store(path)
    assert s.path == tmp_path / "county.osm.pbf.hubopt-roads"
    assert (s.path / "store.json").is_file()
    assert store.load_store(s.path).meta["key"] == s.meta["key"]  # a store folder opens as is


def test_area_part_gives_the_whole_networks_minutes(tmp_path, cache):
    path = grid_extract(tmp_path / "big.osm.pbf", n=30, motorway_col=0)
    practices = practices_at([(12, 12), (14, 15), (16, 13), (13, 17), (18, 18)])
    ref = whole_network_minutes(path, practices)
    road = store.ensure_store(path)
    minutes, snapped = matrix.road_matrix(road, practices, first_margin_m=2_000)
    assert np.array_equal(minutes.to_numpy(), ref.to_numpy())
    routing = minutes.attrs["hubopt"]["routing"]
    assert routing["passes"][0]["nodes"] < road.n_nodes  # routed on a part
    assert routing["nodes_read"] < road.n_nodes * len(routing["passes"])
    assert list(snapped.index) == list(practices.index)


def test_practice_near_the_edge_is_not_routed_worse(tmp_path, cache):
    """Two practices on either side of a river near the area's west edge: the way
    round goes out along the motorway far to the west, outside the first part. The
    proof finds that the first part cannot show their time, routes on a larger part,
    and gets the whole network's minutes."""
    path = grid_extract(tmp_path / "river.osm.pbf", n=30, motorway_col=0, cut_row=15)
    practices = practices_at([(13, 8), (17, 8), (14, 20), (18, 22)])
    ref = whole_network_minutes(path, practices)
    road = store.ensure_store(path)
    minutes, _ = matrix.road_matrix(road, practices, first_margin_m=1_000)
    passes = minutes.attrs["hubopt"]["routing"]["passes"]
    assert len(passes) > 1 and passes[0]["proven"] < passes[0]["sources"]
    assert np.array_equal(minutes.to_numpy(), ref.to_numpy())
    # one pass on the first part alone would overstate the crossing
    cut = road.cut(_box(practices, 1_000))
    one_pass = matrix.travel_time_matrix(cut.net, network.snap_practices(cut.net, practices))
    assert (one_pass.to_numpy() > ref.to_numpy() + 1e-6).any()


def _box(practices, margin):
    pts = practices.geometry.to_crs("EPSG:27700")
    return (pts.x.min() - margin, pts.y.min() - margin, pts.x.max() + margin, pts.y.max() + margin)


def test_a_part_is_read_without_loading_the_rest(tmp_path, cache):
    """Two towns 100 km apart in one extract: routing one reads only its tiles."""
    a = grid_extract(tmp_path / "a.osm.pbf", n=20)
    b = grid_extract(tmp_path / "b.osm.pbf", n=20, lat0=LAT0 + 0.9, first_id=10_001)
    folder = tmp_path / "counties"
    folder.mkdir()
    a.rename(folder / a.name)
    b.rename(folder / b.name)
    road = store.ensure_store(folder)
    assert road.meta["nodes"] == 800 and road.meta["components"] == 2
    practices = practices_at([(5, 5), (9, 12), (14, 8)])
    minutes, _ = matrix.road_matrix(road, practices)
    read = minutes.attrs["hubopt"]["routing"]["nodes_read"]
    assert 0 < read <= 400  # the first town's tiles, none of the second's
    ref = whole_network_minutes(folder / "a.osm.pbf", practices)
    assert np.array_equal(minutes.to_numpy(), ref.to_numpy())


def test_folder_of_overlapping_extracts_is_one_network(tmp_path, cache):
    """Two county extracts that share their border streets merge into the network of
    one extract of both: the same minutes across the border."""
    n = 16
    whole = grid_extract(tmp_path / "whole.osm.pbf", n=n)
    folder = tmp_path / "counties"
    folder.mkdir()
    ids = np.arange(n * n).reshape(n, n) + 1
    nodes = {int(ids[r, c]): (LON0 + c * STEP, LAT0 + r * STEP) for r in range(n) for c in range(n)}
    full = network.load_graph(whole)
    edges = full.edges
    osmid = full.nodes["osmid"].to_numpy()
    for name, cols in (("west.osm.pbf", range(0, 9)), ("east.osm.pbf", range(7, n))):
        keep = {int(ids[r, c]) for r in range(n) for c in cols}
        ways = []
        for k, (u, v) in enumerate(zip(osmid[edges["u"]], osmid[edges["v"]], strict=True)):
            if u < v and u in keep and v in keep:
                ways.append((k + 1, [int(u), int(v)], {"highway": "residential",
                                                         "maxspeed": "30 mph"}))  # fmt: skip
        write_osm(folder / name, [(i, *nodes[i]) for i in sorted(keep)], ways)
    road = store.ensure_store(folder)
    assert road.meta["nodes"] == n * n and road.meta["components"] == 1
    practices = practices_at([(3, 2), (8, 13), (12, 6)])
    minutes, _ = matrix.road_matrix(road, practices)
    assert np.allclose(minutes.to_numpy(), whole_network_minutes(whole, practices).to_numpy())


def test_uncovered_area_is_named_and_falls_back_when_asked(tmp_path, cache, line_area):
    """Practices 40 km from every road of the extract: an error naming them, or with
    [network] fallback = "straight_line" the straight-line estimate saying why."""
    path = grid_extract(tmp_path / "elsewhere.osm.pbf", n=6, lat0=LAT0 + 0.4)
    practices, _, scenario = line_area
    s = scenario.replace(network=path, network_kind="road")
    with pytest.raises(NetworkError) as err:
        pipeline.travel_matrix(s, practices)
    assert "does not cover the area" in err.value.message
    notes: list[str] = []
    minutes = pipeline.travel_matrix(
        s.replace(network_fallback="straight_line"), practices, notes=notes
    )
    meta = minutes.attrs["hubopt"]
    assert meta["method"] == matrix.STRAIGHT_LINE
    assert "does not cover the area" in meta["fallback"]
    assert any(n.startswith("NO ROAD MINUTES") and "elsewhere.osm.pbf" in n for n in notes)
    from hubopt.batch import engine

    assert engine.travel_columns(minutes)["travel"] == "straight line"
    assert "does not cover" in engine.travel_columns(minutes)["travel_note"]


def test_prepare_keeps_every_large_component_when_asked(tmp_path):
    a = grid_extract(tmp_path / "a.osm.pbf", n=5)
    b = grid_extract(tmp_path / "b.osm.pbf", n=4, lat0=LAT0 + 0.5, first_id=1_001)
    nets = [network.load_graph(p) for p in (a, b)]
    nodes = pd.concat([n.nodes for n in nets], ignore_index=True)
    e1 = nets[1].edges.assign(u=nets[1].edges["u"] + 25, v=nets[1].edges["v"] + 25)
    edges = pd.concat([nets[0].edges, e1], ignore_index=True)
    raw = network.RoadNetwork(nodes, edges, meta=dict(nets[0].meta))
    assert network.prepare_graph(raw).n_nodes == 25  # the largest only
    both = network.prepare_graph(raw, min_component=10)
    assert both.n_nodes == 41 and both.meta["components"] == 2
    assert sorted(both.nodes["component"].value_counts()) == [16, 25]
    assert network.prepare_graph(raw, min_component=20).n_nodes == 25


def test_demo_network_store_never_goes_into_the_package(tmp_path, monkeypatch):
    import hubopt

    monkeypatch.delenv(store.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    demo = hubopt.demo_scenario_path().parent / "network.osm.bz2"
    road = store.ensure_store(demo)
    assert (tmp_path / "user-cache" / "hubopt" / "roads") in road.path.parents
    assert not list(demo.parent.glob("*.hubopt-roads"))


def test_times_beyond_the_horizon_are_upper_bounds_and_said(tmp_path, cache):
    """With a short horizon the passes prove every time up to it; longer ones are
    never below the whole network's, and the notes count them."""
    path = grid_extract(tmp_path / "river.osm.pbf", n=30, motorway_col=0, cut_row=15)
    practices = practices_at([(13, 8), (17, 8), (14, 20), (18, 22), (2, 2)])
    ref = whole_network_minutes(path, practices).to_numpy()
    road = store.ensure_store(path)
    minutes, _ = matrix.road_matrix(road, practices, exact_minutes=6, first_margin_m=500)
    got = minutes.to_numpy()
    short = ref <= 6
    assert np.array_equal(got[short], ref[short])
    assert (got[~short] >= ref[~short] - 1e-9).all() and (got[~short] > 6).all()
    routing = minutes.attrs["hubopt"]["routing"]
    assert routing["pairs_beyond_exact"] == int((~short).sum()) > 0
    notes = matrix.road_notes(minutes)
    assert any("upper bounds" in n and "over 6 min" in n for n in notes)
