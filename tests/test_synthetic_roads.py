"""OSM files written at test time: tests/osm_files.write_osm read back by hubopt, and
the synthetic national-size network of benchmarks/synthetic_roads.py in small."""

from __future__ import annotations

import numpy as np

from benchmarks.synthetic_roads import check_network, write_synthetic_network
from hubopt.roads import osm
from tests.osm_files import write_osm


def test_write_osm_round_trip(tmp_path):
    """Four nodes on a two-way street and a one-way street; the footway is not read."""
    path = tmp_path / "hand.osm.pbf"
    nodes = [(1, -1.00, 52.00), (2, -0.99, 52.00), (3, -0.98, 52.00), (4, -0.98, 52.01)]
    ways = [
        (10, [1, 2, 3], {"highway": "residential"}),
        (11, [3, 4], {"highway": "primary", "oneway": "yes", "maxspeed": "40 mph"}),
        (12, [4, 1], {"highway": "footway"}),
    ]
    assert write_osm(path, nodes, ways, timestamp="2023-06-01T00:00:00Z") == (4, 3)
    got, edges, meta = osm.read_osm(path, progress=False)
    assert got["osmid"].tolist() == [1, 2, 3, 4]
    assert np.allclose(got[["lon", "lat"]], [n[1:] for n in nodes])
    ids = got["osmid"].to_numpy()
    pairs = set(zip(ids[edges["u"]], ids[edges["v"]], edges["osmid"], strict=True))
    assert pairs == {(1, 2, 10), (2, 3, 10), (2, 1, 10), (3, 2, 10), (3, 4, 11)}
    assert edges.loc[edges["osmid"] == 11, "maxspeed"].tolist() == ["40 mph"]
    assert meta["osm_timestamp"] == "2023-06-01T00:00:00Z"
    assert (meta["ways_read"], meta["ways_kept"]) == (3, 2)


def test_small_synthetic_network_reads_back_strongly_connected(tmp_path):
    path = tmp_path / "synthetic.osm.pbf"
    bbox = (-1.5, 52.0, -0.5, 52.6)  # ~68 x 67 km: 55 x 54 grid lines
    figures = write_synthetic_network(path, nodes=20_000, bbox=bbox, progress=False)
    assert 19_000 < figures["nodes"] < 21_000
    assert figures["bytes"] == path.stat().st_size
    again = write_synthetic_network(tmp_path / "again.osm.pbf", nodes=20_000, bbox=bbox,
                                    progress=False)  # fmt: skip
    assert (tmp_path / "again.osm.pbf").read_bytes() == path.read_bytes()
    checked = check_network(path, points=2_000, routed=4)
    assert checked["nodes_read"] == again["nodes"]
    assert checked["kept_share"] == 1.0  # every node in one strongly connected component
    assert 0.8 < checked["two_neighbour_share"] < 0.9
    assert set(checked["km_by_class"]) == {
        "motorway", "trunk", "primary", "secondary", "tertiary", "residential", "unclassified"
    }  # fmt: skip
    assert checked["maxspeed_tagged_share_by_class"] == {"motorway": 1.0}  # 70 mph
    assert checked["osm_timestamp"] == "2024-01-01T00:00:00Z"
    assert checked["nearest_node_m"]["p99"] < 1_000  # junctions ~1.3 km apart
    minutes = checked["routed"]["minutes"].to_numpy()
    assert np.isfinite(minutes).all() and (minutes[~np.eye(4, dtype=bool)] > 0).all()
    low, high = checked["routed"]["straight_line_kph"]
    assert 10 < low <= high < 100
