"""Write OSM extracts (PBF, or XML by the file name's ending) with pyosmium.

Tests write tiny hand-made extracts with :func:`write_osm`; the national-size
synthetic network of ``benchmarks/synthetic_roads.py`` goes through the same
function, streaming its nodes and ways from generators.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import osmium
from osmium.osm.mutable import Node, Way

Nodes = Iterable[tuple[int, float, float]]
Ways = Iterable[tuple[int, Sequence[int], Mapping[str, str]]]


def write_osm(
    path: str | Path,
    nodes: Nodes,
    ways: Ways,
    *,
    timestamp: str = "2024-01-01T00:00:00Z",
    bbox: tuple[float, float, float, float] | None = None,
) -> tuple[int, int]:
    """Write ``nodes`` (``(id, lon, lat)``) then ``ways`` (``(id, [node ids], {tags})``)
    to ``path``, replacing any file there; returns the numbers of nodes and ways.

    Every object is version 1 with ``timestamp``, which a PBF header also carries
    (``osmosis_replication_timestamp``) as the file's OSM date, what
    :func:`hubopt.roads.osm.read_osm` reports as ``osm_timestamp``; XML files have
    no such header, so read_osm gives the newest road's date. ``bbox`` (west,
    south, east, north) goes into the header.
    Both iterables are consumed once, in order, so they may be generators; give
    node ids in ascending order, as OSM files have them.
    """
    stamp = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    header = osmium.io.Header()
    header.set("generator", "hubopt tests/osm_files.py")
    header.set("osmosis_replication_timestamp", timestamp)
    if bbox is not None:
        w, s, e, n = bbox
        header.add_box(osmium.osm.Box(osmium.osm.Location(w, s), osmium.osm.Location(e, n)))
    n_nodes = n_ways = 0
    with osmium.SimpleWriter(str(path), header=header, overwrite=True) as writer:
        for node_id, lon, lat in nodes:
            writer.add_node(Node(id=node_id, location=(lon, lat), version=1, timestamp=stamp))
            n_nodes += 1
        for way_id, refs, tags in ways:
            writer.add_way(Way(id=way_id, nodes=refs, tags=tags, version=1, timestamp=stamp))
            n_ways += 1
    return n_nodes, n_ways
