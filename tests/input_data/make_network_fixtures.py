"""Write the GraphML test fixtures from the hand-drawn ``tiny.osm`` (project-made, CC0).

    python tests/input_data/make_network_fixtures.py

``tiny.graphml``
    ``tiny.osm`` as OSMnx 2 builds and saves it (``graph_from_xml``, unsimplified,
    every way kept, footway and island included), so the GraphML route can be checked
    against the pyosmium route on the same roads.
``tiny_osmnx1_undirected.graphml``
    the drivable part of ``tiny.osm`` in the shape of an OSMnx 1.x file that was
    projected to EPSG:27700 and made undirected (``get_undirected``): x/y in metres,
    ``lon``/``lat`` as strings, one edge per street with its original ``from``/``to``,
    ``oneway`` kept, every attribute written as a string, as OSMnx 1.x did.

The tests also write ``.gz``/``.bz2``/``.pbf`` copies of the fixtures at run time.
Re-running this script rewrites both files byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import osmnx as ox
from pyproj import Transformer

HERE = Path(__file__).parent


def tiny_graphml() -> None:
    G = ox.graph_from_xml(HERE / "tiny.osm", simplify=False, retain_all=True)
    G.graph["created_date"] = "2025-11-25 00:00:00"
    G.graph["created_with"] = "OSMnx (hubopt test fixture)"
    ox.save_graphml(G, HERE / "tiny.graphml")


def tiny_osmnx1_undirected() -> None:
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    pts = {
        1: (52.600, -1.100),
        2: (52.600, -1.090),
        3: (52.600, -1.080),
        4: (52.595, -1.100),
        5: (52.595, -1.090),
        6: (52.595, -1.080),
    }
    G = nx.MultiGraph(
        created_date="2021-04-10 16:41:42",
        created_with="OSMnx 1.0.1",
        crs="EPSG:27700",
        simplified="True",
    )
    for n, (lat, lon) in pts.items():
        x, y = to_bng.transform(lon, lat)
        G.add_node(n, y=repr(y), x=repr(x), lon=repr(lon), lat=repr(lat), street_count="3")
    streets = [  # (from, to, highway, oneway, maxspeed, name)
        (1, 2, "residential", False, None, "Top Street"),
        (2, 3, "residential", False, None, "Top Street"),
        (3, 6, "residential", False, None, "East Lane"),
        (4, 5, "residential", True, None, "Low Street"),
        (6, 5, "residential", True, None, "Low Street"),  # stored against the flow
        (2, 5, "tertiary", False, "20 mph", "Middle Road"),
        (1, 4, "residential", False, None, "West Lane"),
    ]
    lengths = {}
    for a, b, *_ in streets:
        (ya, xa), (yb, xb) = pts[a], pts[b]
        (ea, na), (eb, nb) = to_bng.transform(xa, ya), to_bng.transform(xb, yb)
        lengths[a, b] = round(((ea - eb) ** 2 + (na - nb) ** 2) ** 0.5, 3)
    for k, (a, b, hw, oneway, maxspeed, name) in enumerate(streets):
        frm, to = (a, b) if (a, b) != (6, 5) else (5, 6)
        attrs = {
            "osmid": str(1000 + k),
            "oneway": str(oneway),
            "name": name,
            "highway": hw,
            "length": str(lengths[a, b]),
            "from": str(frm),
            "to": str(to),
        }
        if maxspeed:
            attrs["maxspeed"] = maxspeed
        G.add_edge(a, b, **attrs)
    nx.write_graphml(G, HERE / "tiny_osmnx1_undirected.graphml")


if __name__ == "__main__":
    tiny_graphml()
    tiny_osmnx1_undirected()
