"""Network loading, snapping and the travel-time matrix on hand-drawn fixtures."""

from __future__ import annotations

import json
import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from hubopt.errors import InputError
from hubopt.roads import matrix, network
from tests.conftest import practices_frame


@pytest.fixture
def tiny_graph(tiny_osm):
    return network.prepare_graph(network.load_graph(tiny_osm))


def test_tiny_osm_keeps_drivable_connected_core(tiny_graph):
    """See tests/input_data/tiny.osm: the island (n7-n8) and the footway (n6-n9)
    go; every road node stays (no simplification, so practices snap close by)."""
    assert set(tiny_graph.nodes["osmid"]) == {1, 2, 3, 4, 5, 6}
    assert tiny_graph.crs == "EPSG:27700" and tiny_graph.prepared
    assert nx.is_strongly_connected(tiny_graph.to_networkx())
    # one-way Low Street: 4 -> 5 -> 6 only
    assert len(tiny_graph.edge(4, 5)) == 1 and tiny_graph.edge(5, 4).empty
    assert len(tiny_graph.edge(5, 6)) == 1 and tiny_graph.edge(6, 5).empty
    # BNG metres: n1 and n2 are 0.01 degrees of longitude (~677 m) apart
    xy = tiny_graph.nodes.set_index("osmid")[["x", "y"]]
    assert np.hypot(*(xy.loc[1] - xy.loc[2])) == pytest.approx(677, abs=3)
    # n9 is only on the footway, so never read; the island n7-n8 is read, then dropped
    assert tiny_graph.meta["nodes_read"] == 8 and tiny_graph.meta["nodes"] == 6


def test_uk_speeds_and_mph_tags(tiny_graph):
    """Untagged residential gets 30 km/h; Middle Road's '20 mph' becomes 32.2 km/h."""
    d = tiny_graph.edge(2, 5).iloc[0]
    assert d["speed_kph"] == pytest.approx(20 * 1.609344)
    assert d["speed_from"] == "tag"
    r = tiny_graph.edge(4, 5).iloc[0]
    assert r["speed_kph"] == 30 and r["speed_from"] == "table"
    assert r["travel_time"] == pytest.approx(r["length"] / (30 / 3.6))


def test_snapping_flags_practice_off_the_network(tiny_graph, caplog):
    """P4 sits by the dropped island, ~2 km from the kept roads: flagged far, with a
    message naming it; P2 and P3 share a building and a node."""
    practices = practices_frame(
        [
            ("P1", "West", 52.600, -1.100, 5000),
            ("P2", "Health Centre A", 52.595, -1.080, 5000),
            ("P3", "Health Centre B", 52.595, -1.080, 5000),
            ("P4", "Island", 52.610, -1.058, 5000),
        ]
    )
    snapped = network.snap_practices(tiny_graph, practices, warn_m=500)
    assert snapped.loc["P2", "node"] == snapped.loc["P3", "node"] == 6
    assert snapped.loc["P2", "snap_m"] == pytest.approx(0, abs=1)
    assert list(snapped.index[snapped["far"]]) == ["P4"]
    assert snapped.loc["P4", "snap_m"] > 1500
    assert snapped.loc["P4", "access_s"] == pytest.approx(snapped.loc["P4", "snap_m"] / (15 / 3.6))
    assert "P4" in caplog.text and "outside the extract" in caplog.text
    (note,) = network.far_practice_notes(snapped)
    assert note.startswith("practice P4 is 1,") and "outside the extract" in note
    m = matrix.travel_time_matrix(tiny_graph, snapped)
    assert m.at["P2", "P3"] == m.at["P3", "P2"] == 0  # one building
    assert m.attrs["hubopt"]["snapping"]["far"] == ["P4"]
    assert np.isfinite(m.to_numpy()).all()  # far, but connected through its access leg


def test_matrix_matches_networkx_and_one_way(tiny_graph):
    """Compare every pair with networkx's own Dijkstra (one call per pair: the slow
    reference), and check the one-way makes 4->6 quicker than 6->4."""
    practices = practices_frame(
        [
            ("W", "West", 52.595, -1.100, 5000),  # node 4
            ("E", "East", 52.595, -1.080, 5000),  # node 6
            ("M", "Middle", 52.600, -1.090, 5000),  # node 2
            ("N", "North West", 52.600, -1.100, 5000),  # node 1, a bend
        ]
    )
    snapped = network.snap_practices(tiny_graph, practices)
    m = matrix.travel_time_matrix(tiny_graph, snapped)
    G = tiny_graph.to_networkx()
    for i in m.index:
        for j in m.columns:
            if i == j:
                assert m.at[i, j] == 0
                continue
            ref = nx.shortest_path_length(
                G, snapped.at[i, "node"], snapped.at[j, "node"], weight="travel_time"
            )
            access = snapped.at[i, "access_s"] + snapped.at[j, "access_s"]
            assert m.at[i, j] == pytest.approx((ref + access) / 60, rel=1e-9)
    assert m.at["W", "E"] < m.at["E", "W"]
    meta = m.attrs["hubopt"]
    assert meta["method"] == matrix.ROAD and meta["direction"].startswith("row = from")
    assert meta["network"]["source"].endswith("tiny.osm")
    assert meta["speeds_kph"]["residential"] == 30


def _hand_graph():
    """a -60s-> b -120s-> c, c -600s-> a, b -300s-> a; d isolated pair d<->e."""
    G = nx.MultiDiGraph()
    for u, v, t in [("a", "b", 60), ("b", "c", 120), ("c", "a", 600), ("b", "a", 300)]:
        G.add_edge(u, v, travel_time=t)
    G.add_edge("a", "b", travel_time=90)  # slower parallel edge: ignored
    G.add_edge("d", "e", travel_time=10)
    G.add_edge("e", "d", travel_time=10)
    return G


def test_matrix_by_hand():
    """Practices: P at a, Q and R both at c (one building), S at a but 150 m away
    (access 150 m / 15 km/h = 36 s), U at d (no road to the others).

    P->Q: a->b->c = 180 s = 3 min; Q->P: c->a = 600 s = 10 min;
    S->Q: 36 + 180 = 216 s = 3.6 min; P->S: 0 + 0 + 36 = 0.6 min;
    Q<->R: same building = 0; anything <-> U: unreachable = inf.
    """
    snapped = pd.DataFrame(
        {
            "node": ["a", "c", "c", "a", "d"],
            "access_s": [0.0, 0.0, 0.0, 36.0, 0.0],
            "x": [0.0, 1000.0, 1000.0, 150.0, 9000.0],
            "y": [0.0, 0.0, 0.0, 0.0, 0.0],
        },
        index=["P", "Q", "R", "S", "U"],
    )
    for contract in (True, False):
        m = matrix.travel_time_matrix(_hand_graph(), snapped, same_site_m=25, contract=contract)
        assert m.at["P", "Q"] == pytest.approx(3)
        assert m.at["Q", "P"] == pytest.approx(10)
        assert m.at["S", "Q"] == pytest.approx(3.6)
        assert m.at["P", "S"] == pytest.approx(0.6)
        assert m.at["Q", "R"] == m.at["R", "Q"] == 0
        assert math.isinf(m.at["P", "U"]) and math.isinf(m.at["U", "Q"])
        assert np.all(np.diag(m.to_numpy()) == 0)


def test_matrix_limit_and_csv_round_trip(tmp_path):
    snapped = pd.DataFrame(
        {"node": ["a", "c"], "access_s": [0.0, 0.0], "x": [0.0, 1e3], "y": [0.0, 0.0]},
        index=["P", "Q"],
    )
    m = matrix.travel_time_matrix(_hand_graph(), snapped, limit_minutes=5)
    assert m.at["P", "Q"] == pytest.approx(3) and math.isinf(m.at["Q", "P"])
    assert m.attrs["hubopt"]["limit_minutes"] == 5
    path = matrix.save_matrix(m, tmp_path / "m.csv")
    assert (tmp_path / "m.csv").read_text().splitlines()[1] == "P,0.0,3.0"
    assert json.loads((tmp_path / "m.meta.json").read_text())["limit_minutes"] == 5
    back = matrix.load_matrix(path)
    pd.testing.assert_frame_equal(back, m.round(3))
    assert back.attrs["hubopt"]["units"] == "minutes"


def test_parquet_round_trip_keeps_precision_and_metadata(tmp_path, tiny_graph):
    practices = practices_frame(
        [("A", "A", 52.600, -1.100, 1), ("B", "B", 52.595, -1.080, 1), ("C", "C", 52.6, -1.09, 1)]
    )
    m = matrix.travel_time_matrix(tiny_graph, network.snap_practices(tiny_graph, practices))
    m.iloc[0, 2] = np.inf
    matrix.save_matrix(m, tmp_path / "m.parquet")
    back = matrix.load_matrix(tmp_path / "m.parquet")
    pd.testing.assert_frame_equal(back, m, check_names=False)
    assert back.attrs["hubopt"]["network"]["source"].endswith("tiny.osm")
    assert matrix.describe_source(back).startswith("road network tiny.osm")


def test_load_matrix_reports_bad_files(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("from_to,A,B\nA,0,1\nC,1,0\n")
    with pytest.raises(InputError, match="same practice codes"):
        matrix.load_matrix(bad)
    bad.write_text("from_to,A,B\nA,0,x\nB,1,0\n")
    with pytest.raises(InputError, match="number of minutes"):
        matrix.load_matrix(bad)
    with pytest.raises(InputError, match="not found"):
        matrix.load_matrix(tmp_path / "none.csv")
    # columns in another order are put back in row order
    ok = tmp_path / "ok.csv"
    ok.write_text("from_to,B,A\nA,2,0\nB,0,inf\n")
    m = matrix.load_matrix(ok)
    assert list(m.columns) == ["A", "B"] and m.at["A", "B"] == 2 and math.isinf(m.at["B", "A"])
