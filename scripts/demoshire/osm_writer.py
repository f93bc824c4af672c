"""The road network: the :class:`Network` container (nodes in the planar frame, ways
with OSM tags) that :mod:`.geography` fills, and its writer to OSM XML 0.6."""

from __future__ import annotations

from itertools import pairwise
from xml.sax.saxutils import escape

import numpy as np

from .frame import to_latlon

GENERATOR = "hubopt scripts/make_demo_data.py"

NODE_ID0 = 100_000_001
WAY_ID0 = 200_000_001


class Network:
    def __init__(self) -> None:
        self.xy: list[tuple[float, float]] = []
        self.node_tags: dict[int, dict[str, str]] = {}
        self.ways: list[tuple[list[int], dict[str, str]]] = []

    def node(self, x: float, y: float, tags: dict[str, str] | None = None) -> int:
        self.xy.append((float(x), float(y)))
        idx = len(self.xy) - 1
        if tags:
            self.node_tags[idx] = dict(tags)
        return idx

    def way(self, nodes: list[int], tags: dict[str, str]) -> None:
        assert len(nodes) >= 2, tags
        assert all(a != b for a, b in pairwise(nodes)), tags
        self.ways.append((list(nodes), dict(tags)))

    def pos(self, idx: int) -> np.ndarray:
        return np.array(self.xy[idx])

    def neighbours(self, idx: int) -> list[int]:
        out = []
        for nodes, _ in self.ways:
            for k, n in enumerate(nodes):
                if n == idx:
                    if k > 0:
                        out.append(nodes[k - 1])
                    if k < len(nodes) - 1:
                        out.append(nodes[k + 1])
        return out


def fmt7(v: float) -> str:
    return f"{v:.7f}"


def attr(v: str) -> str:
    return escape(str(v), {'"': "&quot;"})


def osm_xml(net: Network) -> bytes:
    used = sorted({n for nodes, _ in net.ways for n in nodes})
    remap = {n: NODE_ID0 + k for k, n in enumerate(used)}
    lat_lon = {n: to_latlon(*net.xy[n]) for n in used}
    lats = [ll[0] for ll in lat_lon.values()]
    lons = [ll[1] for ll in lat_lon.values()]
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f'<osm version="0.6" generator="{GENERATOR}">',
        f'  <bounds minlat="{fmt7(min(lats))}" minlon="{fmt7(min(lons))}" '
        f'maxlat="{fmt7(max(lats))}" maxlon="{fmt7(max(lons))}"/>',
    ]
    for n in used:
        lat, lon = lat_lon[n]
        head = f'  <node id="{remap[n]}" lat="{fmt7(lat)}" lon="{fmt7(lon)}" version="1"'
        tags = net.node_tags.get(n)
        if tags:
            out.append(head + ">")
            out += [f'    <tag k="{attr(k)}" v="{attr(v)}"/>' for k, v in tags.items()]
            out.append("  </node>")
        else:
            out.append(head + "/>")
    for w, (nodes, tags) in enumerate(net.ways):
        out.append(f'  <way id="{WAY_ID0 + w}" version="1">')
        out += [f'    <nd ref="{remap[n]}"/>' for n in nodes]
        out += [f'    <tag k="{attr(k)}" v="{attr(v)}"/>' for k, v in tags.items()]
        out.append("  </way>")
    out.append("</osm>")
    return ("\n".join(out) + "\n").encode("utf-8")
