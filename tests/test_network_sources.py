"""Every network source gives the same roads: OSM XML (plain, .gz, .bz2), PBF, OSMnx
GraphML (current and 1.x undirected/projected), networkx graphs and a (mocked)
download; the car filter, one-way rules and speed tags on a hand-drawn extract."""

from __future__ import annotations

import bz2
import gzip
import shutil

import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest

from hubopt.errors import NetworkError
from hubopt.roads import matrix, network, osm, speeds
from tests.conftest import INPUT, practices_frame

#: Practices on tiny.osm's roads: nodes 4, 6, 2 and 1.
TINY_PRACTICES = [
    ("W", "West", 52.595, -1.100, 5000),
    ("E", "East", 52.595, -1.080, 5000),
    ("M", "Middle", 52.600, -1.090, 5000),
    ("N", "North West", 52.600, -1.100, 5000),
]


def write_pbf(src, dst):
    """Copy an OSM XML file to PBF with pyosmium (the fixture is written at test time)."""
    import osmium

    with osmium.SimpleWriter(str(dst)) as w:
        for obj in osmium.FileProcessor(str(src)):
            w.add(obj)
    return dst


def tiny_copies(tmp_path):
    """tiny.osm as .osm, .osm.gz, .osm.bz2 and .osm.pbf."""
    src = INPUT / "tiny.osm"
    out = {"osm": tmp_path / "tiny.osm"}
    shutil.copy(src, out["osm"])
    out["gz"] = tmp_path / "tiny.osm.gz"
    out["gz"].write_bytes(gzip.compress(src.read_bytes()))
    out["bz2"] = tmp_path / "tiny.osm.bz2"
    out["bz2"].write_bytes(bz2.compress(src.read_bytes()))
    out["pbf"] = write_pbf(src, tmp_path / "tiny.osm.pbf")
    return out


def _minutes(path_or_net):
    net = path_or_net
    if not isinstance(net, network.RoadNetwork):
        net = network.prepare_graph(network.load_graph(path_or_net))
    snapped = network.snap_practices(net, practices_frame(TINY_PRACTICES))
    return net, matrix.travel_time_matrix(net, snapped)


def test_osm_xml_gz_bz2_and_pbf_give_the_same_network(tmp_path):
    results = {k: _minutes(p) for k, p in tiny_copies(tmp_path).items()}
    ref_net, ref = results["osm"]
    for kind, (net, m) in results.items():
        assert net.n_nodes == 6 and net.n_edges == 12, kind
        pd.testing.assert_frame_equal(m, ref, obj=kind)
        pd.testing.assert_frame_equal(
            net.edges[["u", "v", "length", "travel_time"]],
            ref_net.edges[["u", "v", "length", "travel_time"]],
        )
    assert results["pbf"][0].meta["source_kind"] == "pbf"
    assert results["bz2"][0].meta["source_kind"] == "osm_xml"


def test_graphml_from_osmnx_matches_the_osm_route(tmp_path):
    """tiny.graphml is tiny.osm as OSMnx 2 saves it (every way, footway included):
    the prepared network and the matrix are the same as from the OSM file."""
    _, ref = _minutes(INPUT / "tiny.osm")
    net, m = _minutes(INPUT / "tiny.graphml")
    assert net.n_nodes == 6 and net.n_edges == 12
    assert net.meta["source_kind"] == "graphml"
    assert net.meta["osm_timestamp"].startswith("2025-11-25")
    pd.testing.assert_frame_equal(m, ref, rtol=1e-6)  # OSMnx rounds lengths to mm
    gz = tmp_path / "tiny.graphml.gz"
    gz.write_bytes(gzip.compress((INPUT / "tiny.graphml").read_bytes()))
    _, m_gz = _minutes(gz)
    pd.testing.assert_frame_equal(m_gz, m)


def test_old_osmnx_undirected_projected_graphml_gets_one_ways_back():
    """The OSMnx 1.x-style file is undirected and in EPSG:27700 with string lon/lat;
    Low Street's two one-way edges come back one way (one of them stored against
    the flow), every other street both ways."""
    net = network.prepare_graph(network.load_graph(INPUT / "tiny_osmnx1_undirected.graphml"))
    assert net.meta.get("undirected_source") is True
    assert net.n_nodes == 6 and net.n_edges == 12
    assert len(net.edge(4, 5)) == 1 and net.edge(5, 4).empty
    assert len(net.edge(5, 6)) == 1 and net.edge(6, 5).empty
    assert len(net.edge(1, 2)) == len(net.edge(2, 1)) == 1
    node1 = net.nodes.set_index("osmid").loc[1]
    assert node1["lon"] == pytest.approx(-1.1) and node1["lat"] == pytest.approx(52.6)
    _, ref = _minutes(INPUT / "tiny.osm")
    _, m = _minutes(net)
    pd.testing.assert_frame_equal(m, ref, rtol=5e-3)  # lengths in BNG metres (scale 1.002)


def test_undirected_networkx_graph_is_two_way():
    G = nx.MultiGraph()
    G.add_edge("a", "b", travel_time=60)
    G.add_edge("b", "c", travel_time=60)
    snapped = pd.DataFrame(
        {"node": ["a", "c"], "access_s": 0.0, "x": [0.0, 500.0], "y": 0.0}, index=["P", "Q"]
    )
    m = matrix.travel_time_matrix(G, snapped)
    assert m.at["P", "Q"] == m.at["Q", "P"] == 2


def test_edge_cases_extract():
    """tests/input_data/edge_cases.osm (see its drawing): what cars may use, which way
    one-ways run, and which speed each tag gives."""
    raw = network.load_graph(INPUT / "edge_cases.osm")
    assert raw.meta["ways_read"] == 12 and raw.meta["ways_kept"] == 8
    assert raw.meta["osm_timestamp"] == "2024-03-02T09:30:00Z (newest road in the file)"
    net = network.prepare_graph(raw)
    assert set(net.nodes["osmid"]) == {1, 2, 3, 4, 5, 6, 11, 13}
    # Mill Lane, oneway=-1 drawn from n5 to n2: cars go n2 -> n5 only
    assert len(net.edge(2, 5)) == 1 and net.edge(5, 2).empty
    speed = {
        (1, 2): 65.0,  # maxspeed=national on a primary: the table's primary speed
        (4, 5): 20 * 1.609344 / 2 + 30 * 1.609344 / 2,  # "20 mph;30 mph"
        (3, 6): 30.0,  # "30" is km/h
        (2, 5): 45.0,  # untagged tertiary
        (5, 11): 15.0,  # service=driveway kept, at the service speed
        (6, 13): 30.0,  # access=no but motor_vehicle=yes
    }
    for (a, b), kph in speed.items():
        assert net.edge(a, b).iloc[0]["speed_kph"] == pytest.approx(kph), (a, b)
    # times follow great-circle lengths exactly
    e = net.edge(2, 5).iloc[0]
    length = osm.great_circle_m(52.600, -1.095, 52.595, -1.095)
    assert e["length"] == pytest.approx(length) and e["travel_time"] == pytest.approx(
        length / (45 / 3.6)
    )
    assert net.meta["maxspeed_tagged_share"] == pytest.approx(6 / 17, abs=1e-4)


def test_maxspeed_parser():
    p = speeds.parse_maxspeed
    assert p("30 mph") == pytest.approx(48.28032)
    assert p("30mph") == pytest.approx(48.28032)
    assert p("50") == 50 and p("50 km/h") == 50 and p("7,5") == 7.5
    assert p("20 mph|30 mph") == pytest.approx(25 * 1.609344)
    assert p(["20 mph", "national"]) == pytest.approx(20 * 1.609344)
    assert p("GB:nsl_restricted") == pytest.approx(48.28032)
    for value in ("national", "GB:nsl_single", "UK:motorway", "none", "signals", "", None, 30):
        assert p(value) is None, value


def test_cars_allowed():
    ok = speeds.cars_allowed
    assert ok({}) and ok({"access": "destination"}) and ok({"service": "driveway"})
    assert not ok({"access": "private"}) and not ok({"motorcar": "no"})
    assert ok({"access": "no", "motor_vehicle": "yes"})
    assert not ok({"service": "parking_aisle"}) and not ok({"area": "yes"})


def test_graphml_edges_with_no_car_tags_are_dropped():
    G = nx.MultiDiGraph(crs="EPSG:4326")
    for n, (x, y) in enumerate([(-1.1, 52.6), (-1.09, 52.6), (-1.08, 52.6)]):
        G.add_node(n, x=x, y=y)
    for a, b, extra in [(0, 1, {}), (1, 2, {"access": ["no", "private"]})]:
        for u, v in ((a, b), (b, a)):
            G.add_edge(u, v, highway="residential", length=680.0, **extra)
    G.add_edge(0, 1, highway=["bus_guideway", "residential"], length=1.0)
    G.add_edge(1, 0, highway="busway", length=1.0)
    net = network.prepare_graph(G)
    assert set(net.nodes["osmid"]) == {0, 1}
    # a merged edge counts as its first drivable class; the busway goes
    assert sorted(net.edges["length"]) == [1.0, 680.0, 680.0]
    assert set(net.edges["highway"].astype(str)) == {"residential"}


def test_unknown_and_broken_files(tmp_path):
    with pytest.raises(NetworkError, match="unknown format"):
        network.load_graph(tmp_path / "roads.shp")
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"not a pbf at all")
    with pytest.raises(NetworkError, match="Could not read"):
        network.load_graph(bad)
    bad_xml = tmp_path / "broken.graphml"
    bad_xml.write_text("<graphml><unclosed>")
    with pytest.raises(NetworkError, match="Could not read"):
        network.load_graph(bad_xml)
    with pytest.raises(NetworkError, match="not found"):
        network.load_graph(tmp_path / "missing.osm.pbf")


def test_no_drivable_roads(tmp_path):
    f = tmp_path / "paths.osm"
    f.write_text(
        '<osm version="0.6"><node id="1" lat="52.6" lon="-1.1"/><node id="2" lat="52.6" '
        'lon="-1.09"/><way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/>'
        "</way></osm>"
    )
    with pytest.raises(NetworkError, match="no drivable roads"):
        network.prepare_graph(network.load_graph(f))


def test_download_happens_once_then_reads_the_cache(tmp_path, monkeypatch):
    """A download is only made when asked and not cached; the GraphML cache is then
    read offline. OSMnx's download is replaced by tiny.osm (tests never go online)."""
    calls = []

    def fake_place(query, **kwargs):
        calls.append((query, kwargs))
        return ox.graph_from_xml(INPUT / "tiny.osm", simplify=False, retain_all=True)

    monkeypatch.setattr(ox, "graph_from_place", fake_place)
    cache = tmp_path / "cache" / "area.graphml"
    net = network.load_network(cache, download_place="Tinyton, England")
    assert cache.is_file() and len(calls) == 1
    assert calls[0][0] == "Tinyton, England"
    assert calls[0][1]["network_type"] == "drive_service" and calls[0][1]["simplify"] is False
    assert net.meta["download"] == {
        "place": "Tinyton, England",
        "polygon": None,
        "downloaded_this_run": True,
    }
    again = network.load_network(cache, download_place="Tinyton, England")
    assert len(calls) == 1 and again.meta["download"]["downloaded_this_run"] is False
    prepared = network.prepare_graph(again)
    assert set(prepared.nodes["osmid"]) == {1, 2, 3, 4, 5, 6}


def test_download_by_polygon_and_failures(tmp_path, monkeypatch):
    import geopandas as gpd
    from shapely.geometry import box

    poly = tmp_path / "area.geojson"
    gpd.GeoDataFrame(geometry=[box(-1.11, 52.58, -1.05, 52.62)], crs="EPSG:4326").to_file(poly)
    seen = {}

    def fake_polygon(polygon, **kwargs):
        seen["bounds"] = polygon.bounds
        return ox.graph_from_xml(INPUT / "tiny.osm", simplify=False, retain_all=True)

    monkeypatch.setattr(ox, "graph_from_polygon", fake_polygon)
    network.load_network(tmp_path / "p.graphml", download_polygon=poly)
    assert seen["bounds"] == pytest.approx((-1.11, 52.58, -1.05, 52.62))

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(ox, "graph_from_place", offline)
    with pytest.raises(NetworkError, match="Could not download") as err:
        network.load_network(tmp_path / "x.graphml", download_place="Nowhere")
    assert "local extract" in str(err.value)
    assert not (tmp_path / "x.graphml").exists()
    with pytest.raises(NetworkError, match="cache"):
        network.load_network(None, download_place="Nowhere")


def test_straight_line_fallback_is_labelled():
    """0.01 degrees of latitude is 1,111.95 m; x 1.3 / 40 km/h = 2.168 min."""
    practices = practices_frame(
        [
            ("A", "A", 52.600, -1.100, 1),
            ("B", "B", 52.610, -1.100, 1),
            ("C", "C", 52.610, -1.100, 1),  # same building as B
        ]
    )
    m = matrix.straight_line_matrix(practices, circuity=1.3, speed_kph=40)
    assert m.at["A", "B"] == pytest.approx(1111.95 * 1.3 / (40000 / 60), rel=1e-4)
    assert m.at["B", "A"] == m.at["A", "B"] and m.at["B", "C"] == 0
    assert m.attrs["hubopt"]["method"] == matrix.STRAIGHT_LINE
    assert matrix.describe_source(m).startswith("STRAIGHT-LINE ESTIMATE")
    assert np.isfinite(m.to_numpy()).all()


def test_graph_in_another_projection_is_reprojected(tmp_path):
    """A GraphML saved in UTM (OSMnx's project_graph default), without lon/lat node
    attributes, ends up in British National Grid like the OSM route."""
    G = ox.graph_from_xml(INPUT / "tiny.osm", simplify=False, retain_all=True)
    P = ox.project_graph(G)  # UTM zone 30N
    for _, d in P.nodes(data=True):
        d.pop("lon", None)
        d.pop("lat", None)
    assert "EPSG:4326" not in str(P.graph["crs"]).upper()
    ox.save_graphml(P, tmp_path / "utm.graphml")
    _, ref = _minutes(INPUT / "tiny.osm")
    net, m = _minutes(tmp_path / "utm.graphml")
    node1 = net.nodes.set_index("osmid").loc[1]
    assert node1["lon"] == pytest.approx(-1.1) and node1["lat"] == pytest.approx(52.6)
    pd.testing.assert_frame_equal(m, ref, rtol=1e-6)
