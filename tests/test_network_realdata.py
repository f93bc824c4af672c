"""Real OpenStreetMap extracts in ../shared/data/osm (see its PROVENANCE files); every
test skips cleanly when the folder is absent. Run just these with ``pytest -m realdata``.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from hubopt.roads import matrix, network

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def osm_dir(request):
    from tests.conftest import SHARED_DATA

    d = SHARED_DATA / "osm"
    if not d.is_dir():
        pytest.skip("../shared/data/osm is absent")
    return d


@pytest.fixture(scope="module")
def england():
    from tests.conftest import SHARED_DATA

    f = SHARED_DATA / "nhs" / "practices_england.csv"
    if not f.is_file():
        pytest.skip("../shared/data/nhs is absent")
    return pd.read_csv(f, dtype={"practice_code": str})


def _load(osm_dir, name):
    path = osm_dir / name
    if not path.is_file():
        pytest.skip(f"{name} is absent")
    return network.prepare_graph(network.load_graph(path))


def _practices_on(net, england, within_m=250.0):
    lon, lat = net.nodes["lon"], net.nodes["lat"]
    p = england[
        england.lon.between(lon.min(), lon.max()) & england.lat.between(lat.min(), lat.max())
    ]
    g = gpd.GeoDataFrame(p, geometry=gpd.points_from_xy(p.lon, p.lat), crs="EPSG:4326")
    snapped = network.snap_practices(net, g.set_index("practice_code"), warn_m=np.inf)
    return snapped[snapped["snap_m"] <= within_m]


def _check_against_networkx(net, snapped, m, pairs=6):
    G = net.to_networkx()
    rng = np.random.default_rng(0)
    codes = list(m.index)
    for _ in range(pairs):
        i, j = rng.choice(len(codes), size=2, replace=False)
        a, b = codes[i], codes[j]
        if m.at[a, b] == 0:
            continue
        ref = nx.shortest_path_length(
            G, snapped.at[a, "node"], snapped.at[b, "node"], weight="travel_time"
        )
        ref += snapped.at[a, "access_s"] + snapped.at[b, "access_s"]
        assert m.at[a, b] == pytest.approx(ref / 60, rel=1e-9), (a, b)


@pytest.fixture(scope="module")
def rutland(osm_dir):
    return _load(osm_dir, "rutland-latest_2022-07-20.osm.pbf")


def test_rutland_pbf(rutland):
    """The whole-county Geofabrik PBF: car roads with service roads, unsimplified."""
    assert rutland.meta["osm_timestamp"] == "2022-07-20T20:21:45Z"
    assert rutland.meta["source_kind"] == "pbf"
    assert 25_000 < rutland.n_nodes < 30_000  # 26,783 on the 2022-07-20 extract
    assert rutland.n_nodes / rutland.meta["nodes_drivable"] > 0.95
    # 77% of the pre-filtered drive edges carry no maxspeed; with service roads, more
    assert rutland.meta["maxspeed_tagged_share"] < 0.3
    speeds = rutland.edges.loc[rutland.edges["speed_from"] == "tag", "speed_kph"]
    assert speeds.between(5, 115).all()
    lon, lat = rutland.nodes["lon"], rutland.nodes["lat"]
    assert lon.between(-0.9, -0.35).all() and lat.between(52.5, 52.8).all()


def test_rutland_pbf_and_drive_extract_agree(osm_dir, rutland):
    """The pre-filtered drive .osm.bz2 (no service roads) read the same way is the
    PBF's network without the service roads."""
    drive = _load(osm_dir, "rutland_drive_2022-07-20.osm.bz2")
    assert drive.meta["nodes_read"] == 17_029  # PROVENANCE: 17,029 nodes
    pbf_nonservice = rutland.edges[rutland.edges["highway"] != "service"]
    assert len(drive.edges) == pytest.approx(len(pbf_nonservice), rel=0.03)


def test_rutland_matrix(rutland, england):
    snapped = _practices_on(rutland, england)
    assert len(snapped) >= 4
    m = matrix.travel_time_matrix(rutland, snapped)
    assert np.isfinite(m.to_numpy()).all() and m.to_numpy().max() < 40
    _check_against_networkx(rutland, snapped, m)


def test_cambridge_graphml_gz(osm_dir, england):
    """OSMnx 0.14-era Cambridge with its villages, gzipped: its 19 practices."""
    net = _load(osm_dir, "cambridge-uk_drive_bbox_osmnx0.14.1_2020-08-21.graphml.gz")
    assert net.meta["created_with"] == "OSMnx 0.14.1"
    assert 4_600 < net.n_nodes <= 4_697
    snapped = _practices_on(net, england)
    assert len(snapped) == 19
    m = matrix.travel_time_matrix(net, snapped)
    assert np.isfinite(m.to_numpy()).all() and 5 < m.to_numpy().max() < 30
    assert (m.to_numpy() != m.to_numpy().T).any()  # one-way streets make it asymmetric
    _check_against_networkx(net, snapped, m)


def test_westminster_graphml(osm_dir, england):
    """OSMnx 1.9 Westminster: 53 practices within 250 m, several sharing a building."""
    net = _load(osm_dir, "westminster-uk_drive_osmnx1.9.1_2024-02-17.graphml")
    snapped = _practices_on(net, england)
    assert len(snapped) == 53
    m = matrix.travel_time_matrix(net, snapped)
    vals = m.to_numpy()
    assert np.isfinite(vals).all() and vals.max() < 30
    assert (vals == 0).sum() > len(vals)  # same-building pairs are zero both ways
    _check_against_networkx(net, snapped, m)


def test_old_undirected_projected_cambridge(osm_dir):
    """OSMnx 1.0.1, undirected, EPSG:27700: loads, keeps BNG coordinates, and gets
    its one-way streets back from each edge's from/to."""
    net = _load(osm_dir, "cambridge-uk_drive_service_osmnx1.0.1_undirected_epsg27700.graphml")
    assert net.meta.get("undirected_source") is True
    pairs = set(zip(net.edges["u"], net.edges["v"], strict=True))
    one_way = sum((v, u) not in pairs for u, v in pairs)
    assert one_way > 100
    x, y = net.nodes["x"], net.nodes["y"]
    assert x.between(540_000, 550_000).all() and y.between(253_000, 263_000).all()


def test_central_london_pbf(osm_dir):
    net = _load(osm_dir, "central-london_broute_2023-03.osm.pbf")
    assert net.meta["osm_timestamp"].endswith("(newest road in the file)")
    assert net.n_nodes > 1_000


def test_rutland_routed_alone_and_cut_from_a_larger_network_agree(
    osm_dir, rutland, england, tmp_path, monkeypatch
):
    """Issue 26: Rutland's real extract routed on its own, through its road store, and
    as the part of a larger network (Rutland's and Cambridge's extracts in one
    folder, read into one store) gives identical matrices."""
    from hubopt.roads import store

    monkeypatch.setenv(store.CACHE_ENV, str(tmp_path / "stores"))
    cambridge = osm_dir / "cambridge-uk_drive_2021-04-10.osm.bz2"
    if not cambridge.is_file():
        pytest.skip("the Cambridge extract is absent")
    snapped = _practices_on(rutland, england)
    practices = england.set_index("practice_code").loc[snapped.index]
    practices = gpd.GeoDataFrame(
        practices, geometry=gpd.points_from_xy(practices.lon, practices.lat), crs="EPSG:4326"
    )
    alone = matrix.travel_time_matrix(rutland, snapped)
    county = osm_dir / "rutland-latest_2022-07-20.osm.pbf"
    own, _ = matrix.road_matrix(store.ensure_store(county), practices)
    folder = tmp_path / "east-midlands-and-cambridge"
    folder.mkdir()
    for f in (county, cambridge):
        (folder / f.name).symlink_to(f)
    larger = store.ensure_store(folder)
    assert larger.meta["nodes"] > rutland.n_nodes * 1.2 and larger.meta["components"] >= 2
    cut, _ = matrix.road_matrix(larger, practices)
    assert len(alone) >= 5
    assert np.array_equal(own.to_numpy(), alone.to_numpy())
    assert np.array_equal(cut.to_numpy(), alone.to_numpy())
    assert cut.attrs["hubopt"]["routing"]["passes"][-1]["nodes"] < larger.meta["nodes"]
