"""Catchment areas, colours and GIS outputs, on hand-drawn layouts."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

from hubopt.inputs import BNG
from hubopt.model import adjacency
from hubopt.outputs import catchments, colours, gis, tables
from tests.conftest import practices_frame

PLAN = {"A": "B", "B": "B", "C": "B", "D": "D", "E": "D"}


@pytest.fixture
def line_catchments(line_area):
    """The line area's optimum ({A,B,C}@B = H01, {D,E}@D = H02) in a boundary box,
    with today's groups North {A,B} and South {C,D,E}."""
    practices, t, scenario = line_area
    a = tables.assignment_table(pd.Series(PLAN), practices, t)
    hubs = tables.hub_table(a, practices, scenario)
    boundary = gpd.GeoDataFrame(geometry=[box(-1.23, 52.57, -1.10, 52.63)], crs="EPSG:4326")
    current = pd.DataFrame(
        {"group_id": ["N", "N", "S", "S", "S"], "group_name": ["North"] * 2 + ["South"] * 3},
        index=pd.Index(list("ABCDE"), name="practice_code"),
    )
    c = catchments.build(a, hubs, practices, boundary=boundary, current=current)
    return c, practices, boundary


def test_cells_cover_the_area_without_overlap(line_catchments):
    """Five practices on an east-west line: the cells are north-south strips that
    tile the boundary box, each holding its own practice."""
    c, practices, boundary = line_catchments
    cells = c.cells
    area = boundary.to_crs(BNG).union_all().area
    assert cells.area.sum() == pytest.approx(area, rel=1e-6)
    assert cells.union_all().area == pytest.approx(area, rel=1e-6)
    pts = practices.geometry.to_crs(BNG)
    for code in cells.index:
        assert cells.at[code, "geometry"].contains(pts[code])


def test_hub_catchments_are_the_union_of_member_cells(line_catchments):
    c, _, _ = line_catchments
    areas = c.proposal.set_index("hub_id").to_crs(BNG).geometry
    h01 = c.cells.loc[["A", "B", "C"]].union_all()
    # the same up to coordinates rounded to 1e-6 degrees (~0.1 m)
    assert areas["H01"].symmetric_difference(h01).area < 1e-5 * h01.area
    assert areas["H01"].geom_type == "Polygon" and areas["H02"].geom_type == "Polygon"
    assert areas["H01"].intersection(areas["H02"]).area < 1e-5 * h01.area
    # labels sit inside their own area, with room reported in metres
    for _, h in c.proposal.iterrows():
        pt = gpd.GeoSeries.from_xy([h["label_lon"]], [h["label_lat"]], crs=4326).to_crs(BNG)[0]
        assert areas[h["hub_id"]].contains(pt)
        assert h["label_room_m"] > 100


def test_practice_outside_the_boundary_still_gets_an_area(line_area):
    practices, _, _ = line_area
    small = gpd.GeoDataFrame(geometry=[box(-1.205, 52.59, -1.12, 52.61)], crs="EPSG:4326")
    outside = practices_frame([("Z", "Far Surgery", 52.60, -1.05, 1000)])
    both = pd.concat([practices, outside])
    area = adjacency.study_area(both, small)
    assert area.contains(both.geometry.to_crs(BNG)["Z"])
    assert area.contains(small.to_crs(BNG).geometry[0])


def test_shared_building_goes_to_the_bigger_hub():
    """Two practices at one address in different hubs: the cell goes to the hub with
    more patients there; the other hub keeps its other members' cells."""
    practices = practices_frame(
        [
            ("P", "Big Surgery", 52.0, -1.0, 9000),
            ("Q", "Small Surgery", 52.0, -1.0, 3000),  # same building as P
            ("R", "Far Surgery", 52.0, -0.9, 5000),
        ]
    )
    area = adjacency.study_area(practices)
    cells = adjacency.practice_cells(practices, area)
    assert cells.at["P", "location"] == cells.at["Q", "location"]
    areas = catchments.dissolve(
        cells, pd.Series({"P": "H1", "Q": "H2", "R": "H2"}), practices["list_size"]
    ).set_index("group")
    assert areas.loc["H1"].geometry.contains(practices.geometry.to_crs(BNG)["P"])
    assert not areas.loc["H2"].geometry.contains(practices.geometry.to_crs(BNG)["Q"])


def test_neighbours_get_clearly_different_colours():
    """A triangle of touching hubs plus a far one: with no more hubs than colours each
    has its own, and the most distinct palette colours are used first."""
    G = nx.Graph([("a", "b"), ("b", "c"), ("c", "a")])
    G.add_node("d")
    col = colours.colour_graph(G)
    assert len(set(col.values())) == 4
    assert set(col.values()) == set(colours.PALETTE[:4])
    for u, v in G.edges:
        assert colours.distance(col[u], col[v]) > 40


def test_fixed_colours_are_kept_and_respected():
    G = nx.path_graph(["x", "y", "z"])
    col = colours.colour_graph(G, fixed={"y": colours.PALETTE[0]})
    assert col["y"] == colours.PALETTE[0]
    assert col["x"] != col["y"] and col["z"] != col["y"]


def test_todays_groups_take_their_matched_hubs_colour(line_catchments):
    """North {A,B} shares 35k with H01, South {C,D,E} 37k with H02; C moves."""
    c, _, _ = line_catchments
    assert c.current_colours == {"N": c.colours["H01"], "S": c.colours["H02"]}
    assert list(c.moved["practice_code"]) == ["C"]
    assert c.current.set_index("group_id").loc["S", "paired_hub"] == "H02"


def test_gis_outputs(line_catchments, tmp_path):
    """catchments.geojson (EPSG:4326) and a GeoPackage in British National Grid."""
    c, _, _ = line_catchments
    path = tmp_path / "catchments.geojson"
    tables.write_geojson(gis.catchments_geodataframe(c), path)
    back = gpd.read_file(path)
    assert back.crs.to_epsg() == 4326
    assert list(back["hub_id"]) == ["H01", "H02"]
    assert {"list_size", "in_band", "max_minutes", "colour", "area_km2"} <= set(back.columns)

    gpkg = tmp_path / "layers.gpkg"
    gis.write_gpkg(c, gpkg)
    gis.write_gpkg(c, gpkg)  # replaces, does not append
    layers = dict(pyogrio.list_layers(gpkg))
    assert set(layers) == {
        "practices", "hub_sites", "links", "catchments", "current_catchments", "boundary",
    }  # fmt: skip
    pts = gpd.read_file(gpkg, layer="practices")
    assert pts.crs.to_epsg() == 27700 and len(pts) == 5
    assert pts.set_index("practice_code").loc["C", "moved"]
    links = gpd.read_file(gpkg, layer="links").set_index("practice_code")
    assert links.loc["A"].geometry.length == pytest.approx(
        practices_distance(c, "A", "B"), rel=1e-6
    )


def practices_distance(c, a, b) -> float:
    p = c.practices.set_index("practice_code")
    pts = gpd.GeoSeries.from_xy(p["lon"], p["lat"], crs=4326, index=p.index).to_crs(BNG)
    return pts[a].distance(pts[b])


def test_csv_for_qgis_has_coordinates(line_area):
    practices, t, scenario = line_area
    a = tables.assignment_table(pd.Series(PLAN), practices, t)
    hubs = tables.hub_table(a, practices, scenario)
    out = tables.with_coordinates(a, practices)
    assert list(out.columns)[-2:] == ["lat", "lon"]
    assert out.set_index("practice_code").loc["E", "lon"] == -1.13
    sites = tables.with_coordinates(hubs, practices, code="site_code", prefix="site_")
    assert list(sites["site_lon"]) == [-1.19, -1.14]


def test_hub_with_no_area_of_its_own_is_still_drawn(tmp_path):
    """Q's hub has only Q, which shares P's building: no area, but a label, a colour,
    its practice on the map and a row in the GIS layers."""
    from hubopt.outputs import maps, report
    from hubopt.scenario import Scenario

    practices = practices_frame(
        [
            ("P", "Big Surgery", 52.0, -1.0, 40_000),
            ("Q", "Small Surgery", 52.0, -1.0, 31_000),
            ("R", "Far Surgery", 52.0, -0.9, 35_000),
        ]
    )
    t = pd.DataFrame(0.0, index=list("PQR"), columns=list("PQR"))
    a = tables.assignment_table(pd.Series({"P": "P", "Q": "Q", "R": "R"}), practices, t)
    hubs = tables.hub_table(a, practices, Scenario(name="s", practices=None))
    c = catchments.build(a, hubs, practices)
    q = c.proposal.set_index("site_code").loc["Q"]
    assert q.geometry is None and q["label_room_m"] == 0 and q["label_lat"] == 52.0
    assert len(set(c.colours.values())) == 3
    html = maps.proposal_map(a, hubs, practices, title="t", status="s", cap=10, catchments=c)
    assert "Small Surgery (Q)" in html.get_root().render()
    assert "<svg" in report.overview_svgs(c)[0]
    gis.write_gpkg(c, tmp_path / "l.gpkg")
    assert len(gpd.read_file(tmp_path / "l.gpkg", layer="catchments")) == 3
