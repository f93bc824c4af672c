"""The invented geography of Demoshire, drawn from the ``network`` and ``boundary``
streams: street names, the towns, the villages, the M47, the roads between settlements
(:func:`build` lays them all out in a fixed order) and the county outline
(:func:`make_boundary`)."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point, Polygon

from .osm_writer import Network


# --------------------------------------------------------------------------------------
# Roads as curves between two nodes
# --------------------------------------------------------------------------------------
def curve(
    net: Network,
    a: int,
    b: int,
    rng: np.random.Generator,
    *,
    spacing: float,
    wiggle: float,
    jitter: float = 0.004,
) -> list[int]:
    """Node indices of a gently curving road from node ``a`` to node ``b``.

    The curve is the straight line plus a perpendicular offset made of six sine
    modes (zero at both ends, higher modes weaker) and a little per-node jitter.
    """
    p, q = net.pos(a), net.pos(b)
    d = q - p
    length = float(np.hypot(*d))
    n = max(1, int(round(length / spacing)))
    u = d / length
    perp = np.array([-u[1], u[0]])
    modes = np.arange(1, 7)
    amps = np.clip(rng.normal(0.0, wiggle, 6), -2.5 * wiggle, 2.5 * wiggle) / modes**1.3
    jit = rng.normal(0.0, jitter, (n + 1, 2))
    out = [a]
    for k in range(1, n):
        t = k / n
        off = length * float(np.sum(amps * np.sin(modes * math.pi * t)))
        pt = p + t * d + off * perp + jit[k]
        out.append(net.node(*pt))
    out.append(b)
    return out


# --------------------------------------------------------------------------------------
# Street names
# --------------------------------------------------------------------------------------
NAME_FIRSTS = [
    "Mill",
    "Church",
    "Park",
    "Queen",
    "King",
    "Victoria",
    "Albert",
    "Chapel",
    "School",
    "Orchard",
    "Willow",
    "Oak",
    "Elm",
    "Ash",
    "Beech",
    "Cedar",
    "Meadow",
    "Brook",
    "Spring",
    "Castle",
    "Abbey",
    "Priory",
    "Manor",
    "Grange",
    "Hall",
    "Windmill",
    "Nelson",
    "Wellington",
    "York",
    "Granby",
    "Russell",
    "Cavendish",
    "Howard",
    "Stafford",
    "Bedford",
    "Newport",
    "Chester",
    "Lincoln",
    "Harcourt",
    "Spencer",
    "Rectory",
    "Vicarage",
    "Foundry",
    "Tannery",
    "Wharf",
    "Canal",
    "Railway",
    "Farrier",
    "Cooper",
    "Cromwell",
    "Tudor",
    "Stuart",
    "Hawthorn",
    "Holly",
    "Laurel",
    "Rowan",
    "Sycamore",
    "Poplar",
    "Larch",
    "Heron",
    "Kingfisher",
    "Swallow",
    "Linden",
    "Clover",
]
NAME_SUFFIXES = [
    "Street",
    "Road",
    "Lane",
    "Avenue",
    "Close",
    "Way",
    "Gardens",
    "Crescent",
    "Drive",
    "Terrace",
    "Grove",
    "Walk",
    "Rise",
    "Place",
]
VILLAGE_STREETS = [
    "Church Lane",
    "School Lane",
    "The Green",
    "Manor Close",
    "Back Lane",
    "Mill Lane",
    "Chapel Street",
    "Orchard Close",
    "Pond Street",
    "Hall Lane",
    "Glebe Road",
    "Townsend Lane",
    "Rectory Lane",
    "The Paddocks",
    "Well Lane",
    "Green Lane",
    "Bakers Lane",
    "Stocks Hill",
    "Crown Yard",
    "Cross Street",
]


class NamePool:
    def __init__(self, rng: np.random.Generator) -> None:
        combos = [f"{a} {b}" for a in NAME_FIRSTS for b in NAME_SUFFIXES]
        order = rng.permutation(len(combos))
        self.names = [combos[i] for i in order]
        self.i = 0

    def take(self) -> str:
        name = self.names[self.i]
        self.i += 1
        return name


# --------------------------------------------------------------------------------------
# Towns: warped, rotated, ragged grids of residential streets
# --------------------------------------------------------------------------------------
class Town:
    def __init__(self, name: str, centre: tuple[float, float]) -> None:
        self.name = name
        self.centre = np.array(centre)
        self.grid: dict[tuple[int, int], int] = {}
        self.edges: set[tuple[tuple[int, int], tuple[int, int]]] = set()
        self.gates: dict[str, int] = {}
        self.ic = 0
        self.jc = 0

    def degree(self, key: tuple[int, int]) -> int:
        i, j = key
        nbrs = [(i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)]
        return sum(1 for n in nbrs if (min(key, n), max(key, n)) in self.edges)

    def intersections(self) -> list[int]:
        return [self.grid[k] for k in sorted(self.grid) if self.degree(k) >= 3]

    def gate(self, net: Network, bearing_deg: float) -> int:
        """Outermost node in a compass direction (0 = east, 90 = north)."""
        u = np.array([math.cos(math.radians(bearing_deg)), math.sin(math.radians(bearing_deg))])
        best, best_v = -1, -1e9
        for key in sorted(self.grid):
            v = float((net.pos(self.grid[key]) - self.centre) @ u)
            if v > best_v:
                best, best_v = self.grid[key], v
        return best


def _connected(nodes: set, edges: set) -> bool:
    if not nodes:
        return True
    adj: dict = {n: [] for n in nodes}
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    start = min(nodes)
    seen = {start}
    stack = [start]
    while stack:
        n = stack.pop()
        for m in adj[n]:
            if m not in seen:
                seen.add(m)
                stack.append(m)
    return len(seen) == len(nodes)


def make_town(
    net: Network,
    rng: np.random.Generator,
    names: NamePool,
    *,
    name: str,
    centre: tuple[float, float],
    size: tuple[float, float],
    spacing: float,
    angle_deg: float,
    main_row: tuple[str, str, str],
    main_col: tuple[str, str, str],
    extra_rows: list[tuple[int, str, str]] = (),
    extra_cols: list[tuple[int, str, str]] = (),
    oneways: list[tuple[int, int, int, str]] = (),
    drop_fraction: float = 0.12,
) -> Town:
    """A town as a ragged, warped, rotated grid.

    ``main_row``/``main_col`` are (highway, name, maxspeed) for the central street in
    each direction; ``extra_rows``/``extra_cols`` are (offset, highway, name);
    ``oneways`` are (row offset, from col offset, to col offset, name): a one-way
    street along that row, driven in the from -> to direction.
    """
    town = Town(name, centre)
    w, h = size
    ni = int(round(w / spacing)) // 2 * 2 + 1
    nj = int(round(h / spacing)) // 2 * 2 + 1
    ic, jc = ni // 2, nj // 2
    town.ic, town.jc = ic, jc
    ph = rng.uniform(0, 2 * math.pi, 4)
    wav = rng.uniform(1.4, 2.6, 2)

    def rfac(theta: float) -> float:
        return 1.0 + 0.10 * math.sin(2 * theta + ph[0]) + 0.07 * math.sin(3 * theta + ph[1])

    keys = []
    for j in range(nj):
        for i in range(ni):
            u, v = (i - ic) * spacing, (j - jc) * spacing
            e = math.hypot(u / (w / 2), v / (h / 2))
            theta = math.atan2(v, u)
            central = (i == ic or j == jc) and e <= 1.0 + 1e-9
            if central or e <= rfac(theta):
                keys.append((i, j))
    # raw edges, then keep the component holding the centre
    kset = set(keys)
    edges = set()
    for i, j in keys:
        for n in ((i + 1, j), (i, j + 1)):
            if n in kset:
                edges.add(((i, j), n))
    adj: dict = {k: [] for k in keys}
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    seen = {(ic, jc)}
    stack = [(ic, jc)]
    while stack:
        n = stack.pop()
        for m in adj[n]:
            if m not in seen:
                seen.add(m)
                stack.append(m)
    keys = [k for k in keys if k in seen]
    kset = set(keys)
    edges = {e for e in edges if e[0] in kset and e[1] in kset}

    # protected streets
    protected = set()
    for a, b in edges:
        if a[1] == b[1] == jc or a[0] == b[0] == ic:
            protected.add((a, b))
        for off, _, _ in extra_rows:
            if a[1] == b[1] == jc + off:
                protected.add((a, b))
        for off, _, _ in extra_cols:
            if a[0] == b[0] == ic + off:
                protected.add((a, b))
        for roff, c0, c1, _ in oneways:
            lo, hi = min(c0, c1), max(c0, c1)
            if a[1] == b[1] == jc + roff and ic + lo <= a[0] < ic + hi:
                protected.add((a, b))
                # keep the cross streets at both ends of a one-way so it is never a trap
            for c in (lo, hi):
                if (
                    a[0] == b[0] == ic + c
                    and abs(a[1] - (jc + roff)) <= 1
                    and abs(b[1] - (jc + roff)) <= 1
                ):
                    protected.add((a, b))

    # drop some blocks for irregularity, keeping the town connected
    cand = sorted(edges - protected)
    order = rng.permutation(len(cand))
    target = int(drop_fraction * len(edges))
    dropped = 0
    for idx in order:
        if dropped >= target:
            break
        e = cand[idx]
        trial = edges - {e}
        if _connected(kset, trial):
            edges = trial
            dropped += 1

    # node positions: jitter, warp, rotate, translate
    rot = math.radians(angle_deg)
    c, s = math.cos(rot), math.sin(rot)
    amp = 0.22 * spacing
    jit = rng.normal(0.0, 0.09 * spacing, (len(keys), 2))
    for k, (i, j) in enumerate(keys):
        u, v = (i - ic) * spacing + jit[k, 0], (j - jc) * spacing + jit[k, 1]
        u2 = u + amp * math.sin(2 * math.pi * v / wav[0] + ph[2])
        v2 = v + amp * math.sin(2 * math.pi * u / wav[1] + ph[3])
        x = centre[0] + c * u2 - s * v2
        y = centre[1] + s * u2 + c * v2
        town.grid[(i, j)] = net.node(x, y)
    town.edges = edges

    # a midpoint node on every block so streets bend slightly
    mids: dict = {}
    mid_off = rng.normal(0.0, 0.05 * spacing, len(edges))
    for k, e in enumerate(sorted(edges)):
        pa, pb = net.pos(town.grid[e[0]]), net.pos(town.grid[e[1]])
        d = pb - pa
        perp = np.array([-d[1], d[0]]) / max(1e-9, float(np.hypot(*d)))
        mids[e] = net.node(*((pa + pb) / 2 + mid_off[k] * perp))

    def edge_key(a, b):
        return (a, b) if a < b else (b, a)

    # classify each block by street
    special: dict = {}
    for e in edges:
        a, b = e
        if a[1] == b[1]:
            row = a[1] - jc
            if row == 0:
                special[e] = ("main_row",)
            for off, hw, nm in extra_rows:
                if row == off:
                    special[e] = ("extra", hw, nm, "")
            for roff, c0, c1, nm in oneways:
                lo, hi = min(c0, c1), max(c0, c1)
                if row == roff and ic + lo <= a[0] < ic + hi:
                    special[e] = ("oneway", nm, 1 if c1 > c0 else -1)
        else:
            col = a[0] - ic
            if col == 0:
                special[e] = ("main_col",)
            for off, hw, nm in extra_cols:
                if col == off:
                    special[e] = ("extra", hw, nm, "")

    def tags_for(e) -> tuple:
        sp = special.get(e)
        if sp is None:
            return ("residential",)
        return sp

    def emit(run: list[tuple[int, int]], kind: tuple, horizontal: bool) -> None:
        nodes = [town.grid[run[0]]]
        for a, b in pairwise(run):
            nodes += [mids[edge_key(a, b)], town.grid[b]]
        if kind[0] == "main_row" or kind[0] == "main_col":
            hw, nm, ms = main_row if kind[0] == "main_row" else main_col
            tags = {"highway": hw, "name": nm}
            if ms:
                tags["maxspeed"] = ms
        elif kind[0] == "extra":
            tags = {"highway": kind[1], "name": kind[2]}
        elif kind[0] == "oneway":
            tags = {
                "highway": "residential",
                "name": kind[1],
                "oneway": "yes",
                "maxspeed": "20 mph",
            }
            if kind[2] < 0:
                nodes = nodes[::-1]
        else:
            tags = {"highway": "residential", "name": names.take()}
            r = rng.random()
            if r < 0.13:
                tags["maxspeed"] = "20 mph"
            elif r < 0.23:
                tags["maxspeed"] = "30 mph"
        net.way(nodes, tags)

    # rows then columns: split every line into runs of consecutive blocks of one kind
    for horizontal in (True, False):
        lines = range(nj) if horizontal else range(ni)
        for L in lines:
            along = range(ni) if horizontal else range(nj)
            run: list = []
            kind = None
            for t in along:
                a = (t, L) if horizontal else (L, t)
                b = (t + 1, L) if horizontal else (L, t + 1)
                e = (a, b)
                if e in edges:
                    k = tags_for(e)
                    if run and k == kind:
                        run.append(b)
                    else:
                        if len(run) >= 2:
                            emit(run, kind, horizontal)
                        run, kind = [a, b], k
                else:
                    if len(run) >= 2:
                        emit(run, kind, horizontal)
                    run, kind = [], None
            if len(run) >= 2:
                emit(run, kind, horizontal)

    row = [town.grid[(i, jc)] for i in range(ni) if (i, jc) in town.grid]
    col = [town.grid[(ic, j)] for j in range(nj) if (ic, j) in town.grid]
    town.gates = {"W": row[0], "E": row[-1], "S": col[0], "N": col[-1], "C": town.grid[(ic, jc)]}
    return town


# --------------------------------------------------------------------------------------
# Villages
# --------------------------------------------------------------------------------------
class Village:
    def __init__(self, net: Network, name: str, xy: tuple[float, float]) -> None:
        self.name = name
        self.xy = np.array(xy)
        self.centre = net.node(*xy)
        self.junctions: list[int] = [self.centre]


def add_village_streets(net: Network, v: Village, rng: np.random.Generator, n_streets: int) -> None:
    """Residential side streets off the village centre, away from the through roads."""
    used = []
    for nb in net.neighbours(v.centre):
        d = net.pos(nb) - v.xy
        used.append(math.atan2(d[1], d[0]))
    street_names = [VILLAGE_STREETS[i] for i in rng.permutation(len(VILLAGE_STREETS))]
    cands = np.linspace(-math.pi, math.pi, 48, endpoint=False)
    noise = rng.uniform(0, 0.05, len(cands))
    for k in range(n_streets):

        def sep(a: float) -> float:
            if not used:
                return math.pi
            return min(abs((a - b + math.pi) % (2 * math.pi) - math.pi) for b in used)

        scores = [sep(a) + noise[m] for m, a in enumerate(cands)]
        ang = float(cands[int(np.argmax(scores))])
        used.append(ang)
        length = rng.uniform(0.28, 0.55)
        u = np.array([math.cos(ang), math.sin(ang)])
        perp = np.array([-u[1], u[0]])
        bend = rng.normal(0, 0.05)
        nodes = [v.centre]
        for t in (1 / 3, 2 / 3, 1.0):
            p = (
                v.xy
                + length * t * u
                + bend * math.sin(math.pi * t) * perp
                + rng.normal(0, 0.004, 2)
            )
            nodes.append(net.node(*p))
        hw = "residential" if k < 2 else "unclassified"
        net.way(nodes, {"highway": hw, "name": street_names[k]})
        if k == 0:
            # a close off the first street: another junction to put a practice near
            mid = nodes[2]
            side = 1 if rng.random() < 0.5 else -1
            p0 = net.pos(mid)
            c1 = net.node(*(p0 + 0.12 * side * perp + 0.02 * u))
            c2 = net.node(*(p0 + 0.22 * side * perp + 0.05 * u))
            net.way([mid, c1, c2], {"highway": "residential", "name": street_names[n_streets]})
            v.junctions.append(mid)


# (name, x, y, practice: None | "fringe" | "village", postcode district)
VILLAGES = [
    ("Wolford Magna", -11.0, 0.4, "fringe", "DM14"),
    ("Ashby Fenwick", -15.2, 6.2, "fringe", "DM14"),
    ("Nether Wolford", -15.2, -3.2, "fringe", "DM14"),
    ("Thistleton", -15.2, -8.4, "fringe", "DM15"),
    ("Kingsmere", -10.8, -10.2, "fringe", "DM15"),
    ("Upper Sowerby", -9.6, 10.6, "fringe", "DM16"),
    ("Great Hadley", 4.0, 8.6, "village", "DM12"),
    ("Little Hadley", 2.4, 12.3, "village", "DM12"),
    ("Thornby", 15.4, 9.6, "village", "DM8"),
    ("Oxley", 15.0, -1.4, "village", "DM8"),
    ("Saxby Parva", 12.6, -10.6, "village", "DM10"),
    ("Brockwell", 0.6, -11.6, "village", "DM10"),
    ("Middleton Green", -4.6, -7.0, "village", "DM5"),
    ("Cold Norton", 8.9, -2.6, "village", "DM8"),
    ("Pendle Cross", -6.6, 6.1, None, "DM16"),
    ("Elmsworth", -8.2, -4.2, None, "DM5"),
    ("Harlow Bridge", 9.6, 11.1, None, "DM12"),
    ("Bramcote End", 16.4, -6.2, None, "DM8"),
]
VILLAGE_MAIN_STREETS = ["Main Street", "High Street", "The Street", "Main Road", "Town Street"]


# --------------------------------------------------------------------------------------
# The motorway
# --------------------------------------------------------------------------------------
class Motorway:
    def __init__(self, control: list[tuple[float, float]], spacing: float) -> None:
        pts = np.array(control, dtype=float)
        dense = []
        for a, b in pairwise(pts):
            n = int(np.ceil(np.hypot(*(b - a)) / 0.05))
            for t in np.arange(n) / n:
                dense.append(a + t * (b - a))
        dense.append(pts[-1])
        dense = np.array(dense)
        # smooth (moving average, ends held) then resample by arc length
        k = 41
        ker = np.ones(k) / k
        pad = np.vstack([np.repeat(dense[:1], k, 0), dense, np.repeat(dense[-1:], k, 0)])
        sm = np.column_stack([np.convolve(pad[:, d], ker, mode="same") for d in (0, 1)])[k:-k]
        seg = np.hypot(*np.diff(sm, axis=0).T)
        s = np.concatenate([[0], np.cumsum(seg)])
        n = int(round(s[-1] / spacing))
        ss = np.linspace(0, s[-1], n + 1)
        self.centre = np.column_stack([np.interp(ss, s, sm[:, 0]), np.interp(ss, s, sm[:, 1])])
        d = np.gradient(self.centre, axis=0)
        d /= np.hypot(*d.T)[:, None]
        self.left = np.column_stack([-d[:, 1], d[:, 0]])  # left of northbound = west
        self.line = LineString(self.centre)

    def nearest_index(self, pt: np.ndarray) -> int:
        return int(np.argmin(np.hypot(*(self.centre - pt).T)))


def roundabout(
    net: Network, centre: np.ndarray, radius: float, tags: dict[str, str], n: int = 8
) -> list[int]:
    """A closed ``junction=roundabout`` way, driven clockwise as in the UK."""
    ring = [
        net.node(
            *(
                centre
                + radius
                * np.array([math.cos(-2 * math.pi * k / n), math.sin(-2 * math.pi * k / n)])
            )
        )
        for k in range(n)
    ]
    net.way([*ring, ring[0]], {**tags, "junction": "roundabout"})
    return ring


def ring_node(net: Network, ring: list[int], bearing_deg: float) -> int:
    """The roundabout node facing a compass direction (0 = east, 90 = north)."""
    c = np.mean([net.pos(r) for r in ring], axis=0)
    u = np.array([math.cos(math.radians(bearing_deg)), math.sin(math.radians(bearing_deg))])
    return max(ring, key=lambda r: float((net.pos(r) - c) @ u))


# --------------------------------------------------------------------------------------
# Routes between settlements
# --------------------------------------------------------------------------------------
ROAD_STYLE = {  # node spacing km, wiggle (fraction of length)
    "trunk": (0.13, 0.035),
    "primary": (0.11, 0.045),
    "secondary": (0.09, 0.055),
    "tertiary": (0.08, 0.06),
    "unclassified": (0.06, 0.075),
}


def build_route(
    net: Network,
    rng: np.random.Generator,
    waypoints: list[int],
    tags: dict[str, str],
    *,
    villages: list[Village],
    motorway: Motorway,
    leg_tags: dict[int, dict[str, str]] | None = None,
) -> None:
    """A road through ``waypoints`` split into ways wherever its tags change.

    Inside a village (within 350 m of a village centre on the route) the road is
    called after the village's main street and, if it is a classified road, signed
    30 mph. Blocks that cross the motorway are tagged as bridges.
    """
    spacing, wiggle = ROAD_STYLE[tags["highway"]]
    nodes: list[int] = [waypoints[0]]
    leg_of: list[int] = []
    for li, (a, b) in enumerate(pairwise(waypoints)):
        seg = curve(net, a, b, rng, spacing=spacing, wiggle=wiggle)
        nodes += seg[1:]
        leg_of += [li] * (len(seg) - 1)
    on_route = [v for v in villages if v.centre in waypoints]
    edge_tags = []
    for k, (a, b) in enumerate(pairwise(nodes)):
        t = dict(tags)
        if leg_tags and leg_of[k] in leg_tags:
            t.update(leg_tags[leg_of[k]])
        mid = (net.pos(a) + net.pos(b)) / 2
        for v in on_route:
            if float(np.hypot(*(mid - v.xy))) < 0.35:
                t["name"] = v.main_street
                if t["highway"] in ("trunk", "primary", "secondary", "tertiary"):
                    t["maxspeed"] = "30 mph"
                break
        if LineString([net.xy[a], net.xy[b]]).intersects(motorway.line):
            t["bridge"] = "yes"
            t["layer"] = "1"
        edge_tags.append(t)
    start = 0
    for k in range(1, len(edge_tags) + 1):
        if k == len(edge_tags) or edge_tags[k] != edge_tags[start]:
            net.way(nodes[start : k + 1], edge_tags[start])
            start = k


# --------------------------------------------------------------------------------------
# The county's road network
# --------------------------------------------------------------------------------------
FARM_NAMES = [
    "Manor",
    "Grange",
    "Lodge",
    "Hill",
    "Home",
    "Top",
    "Glebe",
    "Park",
    "Church",
    "Moor",
    "Low",
    "Red House",
    "Spinney",
    "Windmill",
    "Brook",
    "Ash Tree",
    "Willow",
    "Fox Covert",
]


def build(streams: dict[str, np.random.Generator]) -> dict:
    rng = streams["network"]
    net = Network()
    names = NamePool(rng)

    # --- towns --------------------------------------------------------------------
    demoford = make_town(
        net,
        rng,
        names,
        name="Demoford",
        centre=(-2.6, 0.0),
        size=(5.4, 4.4),
        spacing=0.2,
        angle_deg=8,
        main_row=("secondary", "High Street", "30 mph"),
        main_col=("tertiary", "Bridge Street", ""),
        extra_rows=[(5, "tertiary", "London Road"), (-5, "tertiary", "Northampton Road")],
        extra_cols=[(-6, "tertiary", "Westgate"), (6, "tertiary", "Eastgate")],
        oneways=[(1, -3, 3, "Market Street"), (-1, 3, -3, "Sheep Street")],
    )
    kettleby = make_town(
        net,
        rng,
        names,
        name="Kettleby",
        centre=(10.5, 4.4),
        size=(2.6, 2.2),
        spacing=0.19,
        angle_deg=-12,
        main_row=("secondary", "Kettleby High Street", "30 mph"),
        main_col=("tertiary", "Church Street", ""),
        extra_rows=[(3, "tertiary", "Mill Road")],
    )
    ashwell = make_town(
        net,
        rng,
        names,
        name="Ashwell Market",
        centre=(6.0, -8.0),
        size=(2.4, 2.0),
        spacing=0.19,
        angle_deg=20,
        main_row=("secondary", "Market Place", "30 mph"),
        main_col=("tertiary", "Sheep Market", ""),
    )
    stanbridge = make_town(
        net,
        rng,
        names,
        name="Stanbridge",
        centre=(-1.0, 9.6),
        size=(1.8, 1.5),
        spacing=0.18,
        angle_deg=-5,
        main_row=("tertiary", "Stanbridge High Street", "30 mph"),
        main_col=("tertiary", "Abbey Road", ""),
    )
    towns = {t.name: t for t in (demoford, kettleby, ashwell, stanbridge)}

    # --- villages -----------------------------------------------------------------
    villages: dict[str, Village] = {}
    for k, (vname, x, y, _, _) in enumerate(VILLAGES):
        v = Village(net, vname, (x, y))
        v.main_street = VILLAGE_MAIN_STREETS[k % len(VILLAGE_MAIN_STREETS)]
        villages[vname] = v

    # --- motorway -----------------------------------------------------------------
    mway = Motorway([(-3.6, -14.0), (0.7, -6.6), (3.7, 0.4), (5.7, 6.4), (8.6, 14.0)], 0.2)
    SLIP = 3  # slip roads leave/join the carriageway 3 nodes (600 m) from the bridge

    def V(name: str) -> int:
        return villages[name].centre

    def T(name: str, gate: str | float) -> int:
        t = towns[name]
        return t.gates[gate] if isinstance(gate, str) else t.gate(net, gate)

    def edge_pt(x: float, y: float) -> int:
        return net.node(x, y)

    # junctions: where a straight line between two gates meets the motorway
    NB_OFF = 0.015

    def make_junction(a: int, b: int, number: str) -> tuple[int, int, int, str]:
        crossing = LineString([net.xy[a], net.xy[b]]).intersection(mway.line)
        k = mway.nearest_index(np.array([crossing.x, crossing.y]))
        J, L = mway.centre[k], mway.left[k]
        jw = net.node(*(J + 0.22 * L))
        je = net.node(*(J - 0.22 * L))
        return k, jw, je, number

    junctions = [
        make_junction(T("Ashwell Market", "N"), T("Demoford", "S"), "13"),
        make_junction(T("Demoford", "E"), T("Kettleby", "W"), "14"),
    ]
    j13, j14 = junctions
    # carriageways
    nb = [net.node(*(p + NB_OFF * lv)) for p, lv in zip(mway.centre, mway.left, strict=True)]
    sb = [net.node(*(p - NB_OFF * lv)) for p, lv in zip(mway.centre, mway.left, strict=True)]
    split_nb: set[int] = set()
    for k, jw, je, number in junctions:
        net.node_tags[nb[k - SLIP]] = {"highway": "motorway_junction", "ref": number}
        net.node_tags[sb[k + SLIP]] = {"highway": "motorway_junction", "ref": number}
        split_nb.update({k - SLIP, k + SLIP})

        def slip(frm: int, to: int, outward: np.ndarray) -> None:
            p, q = net.pos(frm), net.pos(to)
            mids = [
                net.node(*(p + t * (q - p) + 0.07 * math.sin(math.pi * t) * outward))
                for t in (0.33, 0.67)
            ]
            net.way([frm, *mids, to], {"highway": "motorway_link", "oneway": "yes"})

        L = mway.left[k]
        slip(nb[k - SLIP], jw, L)  # northbound off-slip
        slip(jw, nb[k + SLIP], L)  # northbound on-slip
        slip(sb[k + SLIP], je, -L)  # southbound off-slip
        slip(je, sb[k - SLIP], -L)  # southbound on-slip
    mtags = {
        "highway": "motorway",
        "ref": "M47",
        "oneway": "yes",
        "maxspeed": "70 mph",
        "lanes": "3",
    }
    cuts = sorted(split_nb)
    bounds = [0, *cuts, len(nb) - 1]
    for a, b in pairwise(bounds):
        net.way(nb[a : b + 1], mtags)
    for a, b in pairwise(bounds):
        net.way(sb[a : b + 1][::-1], mtags)

    vlist = list(villages.values())

    def R(wps: list[int], tags: dict[str, str], leg_tags: dict | None = None) -> None:
        build_route(net, rng, wps, tags, villages=vlist, motorway=mway, leg_tags=leg_tags)

    # --- a roundabout where the A427 meets Demoford High Street --------------------
    gate_e = T("Demoford", "E")
    out = net.pos(gate_e) - demoford.centre
    out /= np.hypot(*out)
    rb = roundabout(
        net,
        net.pos(gate_e) + 0.16 * out,
        0.035,
        {"highway": "trunk", "ref": "A427", "name": "Eastgate Roundabout"},
    )
    net.way(
        [gate_e, net.node(*(net.pos(gate_e) + 0.07 * out)), ring_node(net, rb, 180.0)],
        {"highway": "secondary", "name": "High Street", "maxspeed": "30 mph"},
    )

    # --- A roads ------------------------------------------------------------------
    R(
        [ring_node(net, rb, 0.0), j14[1], j14[2], T("Kettleby", "W")],
        {"highway": "trunk", "name": "Kettleby Road", "ref": "A427"},
        {2: {"maxspeed": "60 mph"}},
    )
    R(
        [T("Demoford", "S"), j13[1], j13[2], T("Ashwell Market", "N")],
        {"highway": "primary", "name": "Ashwell Road", "ref": "A4300"},
        {0: {"maxspeed": "50 mph"}},
    )
    R(
        [T("Demoford", "N"), T("Stanbridge", "S")],
        {"highway": "primary", "name": "Stanbridge Road", "ref": "A5123"},
    )
    R(
        [T("Kettleby", "S"), V("Cold Norton"), T("Ashwell Market", 60.0)],
        {"highway": "primary", "name": "Norton Road", "ref": "A461"},
        {1: {"maxspeed": "60 mph"}},
    )
    # --- B roads ------------------------------------------------------------------
    R(
        [T("Demoford", "W"), V("Wolford Magna"), edge_pt(-18.0, -1.2)],
        {"highway": "secondary", "name": "Wolford Road", "ref": "B6610"},
    )
    R(
        [T("Stanbridge", "E"), V("Great Hadley"), T("Kettleby", 140.0)],
        {"highway": "secondary", "name": "Hadley Road", "ref": "B6612"},
    )
    R(
        [T("Ashwell Market", "W"), V("Brockwell"), V("Middleton Green"), T("Demoford", 235.0)],
        {"highway": "secondary", "name": "Brockwell Road", "ref": "B6620"},
    )
    # --- tertiary roads -----------------------------------------------------------
    R(
        [T("Demoford", 130.0), V("Pendle Cross"), V("Upper Sowerby")],
        {"highway": "tertiary", "name": "Pendle Lane"},
    )
    R([V("Kingsmere"), V("Middleton Green")], {"highway": "tertiary", "name": "Kingsmere Road"})
    R(
        [T("Kettleby", 45.0), V("Thornby"), edge_pt(18.0, 12.4)],
        {"highway": "tertiary", "name": "Thornby Road"},
    )
    R(
        [T("Ashwell Market", "S"), edge_pt(7.4, -14.0)],
        {"highway": "tertiary", "name": "Southgate Road"},
    )
    # --- lanes --------------------------------------------------------------------
    lane = "unclassified"
    R([V("Wolford Magna"), V("Ashby Fenwick")], {"highway": lane, "name": "Fenwick Lane"})
    R([V("Wolford Magna"), V("Nether Wolford")], {"highway": lane, "name": "Nether Lane"})
    R([V("Nether Wolford"), V("Thistleton")], {"highway": lane, "name": "Thistleton Road"})
    R([V("Thistleton"), V("Kingsmere")], {"highway": lane, "name": "Kingsmere Drove"})
    R(
        [T("Demoford", 200.0), V("Elmsworth"), V("Nether Wolford")],
        {"highway": lane, "name": "Elmsworth Lane"},
    )
    R([V("Ashby Fenwick"), V("Upper Sowerby")], {"highway": lane, "name": "Sowerby Lane"})
    R([V("Upper Sowerby"), T("Stanbridge", "W")], {"highway": lane, "name": "Sowerby Road"})
    R(
        [T("Stanbridge", "N"), V("Little Hadley"), V("Harlow Bridge"), T("Kettleby", "N")],
        {"highway": lane, "name": "Hadley Lane"},
    )
    R([V("Little Hadley"), V("Great Hadley")], {"highway": lane, "name": "Hadley Bottom"})
    R([V("Little Hadley"), edge_pt(3.2, 14.0)], {"highway": lane, "name": "Sallow Lane"})
    R(
        [
            T("Kettleby", "E"),
            V("Oxley"),
            V("Bramcote End"),
            V("Saxby Parva"),
            T("Ashwell Market", "E"),
        ],
        {"highway": lane, "name": "Oxley Road"},
    )
    R([V("Cold Norton"), V("Oxley")], {"highway": lane, "name": "Norton Lane"})
    R([V("Brockwell"), edge_pt(1.8, -14.0)], {"highway": lane, "name": "Brockwell Lane"})
    R([V("Thistleton"), edge_pt(-18.0, -10.4)], {"highway": lane, "name": "Fen Lane"})
    R([ring_node(net, rb, 80.0), V("Great Hadley")], {"highway": lane, "name": "Fox Lane"})
    R([V("Harlow Bridge"), edge_pt(12.6, 14.0)], {"highway": lane, "name": "Harlow Lane"})
    R([V("Bramcote End"), edge_pt(18.0, -4.6)], {"highway": lane, "name": "Bramcote Lane"})
    R([V("Saxby Parva"), edge_pt(14.6, -14.0)], {"highway": lane, "name": "Saxby Road"})
    R([V("Elmsworth"), V("Middleton Green")], {"highway": lane, "name": "Elmsworth Road"})
    R([V("Pendle Cross"), T("Stanbridge", 200.0)], {"highway": lane, "name": "Pendle Road"})

    # --- farm tracks: dead-end service roads off the rural roads ------------------
    uses: dict[int, int] = {}
    for nodes_, _ in net.ways:
        for n_ in nodes_:
            uses[n_] = uses.get(n_, 0) + 1
    rural = sorted(
        {
            n_
            for nodes_, t_ in net.ways
            if t_["highway"] in ("unclassified", "tertiary", "secondary")
            and "maxspeed" not in t_
            and "bridge" not in t_
            for n_ in nodes_[3:-3]
            if uses[n_] == 1
        }
    )
    village_xy = np.array([v.xy for v in villages.values()])
    farm_names = [f"{a} Farm" for a in FARM_NAMES]
    farm_order = rng.permutation(len(farm_names))
    placed: list[np.ndarray] = []
    for k in rng.permutation(len(rural)):
        if len(placed) == len(farm_names):
            break
        n_ = rural[k]
        p_ = net.pos(n_)
        if np.min(np.hypot(*(village_xy - p_).T)) < 1.2:
            continue
        if any(np.hypot(*(p_ - o)) < 2.0 for o in placed):
            continue
        if any(np.hypot(*(p_ - t.centre)) < 3.2 for t in towns.values()):
            continue
        ang = rng.uniform(0, 2 * math.pi)
        end = net.node(*(p_ + rng.uniform(0.35, 0.9) * np.array([math.cos(ang), math.sin(ang)])))
        if LineString([net.xy[n_], net.xy[end]]).intersects(mway.line):
            continue
        track = curve(net, n_, end, rng, spacing=0.05, wiggle=0.04)
        net.way(track, {"highway": "service", "name": farm_names[farm_order[len(placed)]]})
        placed.append(p_)

    # --- village side streets -----------------------------------------------------
    for v in vlist:
        kind = next(k for (n, _, _, k, _) in VILLAGES if n == v.name)
        add_village_streets(net, v, rng, 3 if kind else 2)

    # --- a footway in Demoford (dropped by hubopt: not drivable) -------------------
    ic, jc = demoford.ic, demoford.jc
    fa, fb = demoford.grid[(ic - 5, jc - 3)], demoford.grid[(ic - 4, jc - 2)]
    pa, pb = net.pos(fa), net.pos(fb)
    f1 = net.node(*(pa + 0.35 * (pb - pa) + np.array([0.015, -0.01])))
    f2 = net.node(*(pa + 0.7 * (pb - pa) + np.array([-0.01, 0.012])))
    net.way(
        [fa, f1, f2, fb], {"highway": "footway", "name": "Castle Park Walk", "surface": "asphalt"}
    )

    # --- a tiny disconnected island (a fen farm reached by an untagged private track) --
    i0 = net.node(15.3, -13.4)
    island = curve(net, i0, net.node(17.4, -12.6), rng, spacing=0.15, wiggle=0.05)
    net.way(island, {"highway": "unclassified", "name": "Fen End Drove"})
    hub = island[len(island) // 2]
    farm = curve(
        net, hub, net.node(*(net.pos(hub) + np.array([0.1, 0.55]))), rng, spacing=0.12, wiggle=0.05
    )
    net.way(farm, {"highway": "service", "name": "Fen End Farm"})
    spur = curve(
        net,
        island[2],
        net.node(*(net.pos(island[2]) + np.array([-0.05, -0.35]))),
        rng,
        spacing=0.12,
        wiggle=0.04,
    )
    net.way(spur, {"highway": "unclassified", "name": "Decoy Lane"})

    return {
        "streams": streams,
        "net": net,
        "towns": towns,
        "villages": villages,
        "motorway": mway,
        "island": island,
    }


# --------------------------------------------------------------------------------------
# The county outline
# --------------------------------------------------------------------------------------
def make_boundary(df: pd.DataFrame, rng: np.random.Generator) -> Polygon:
    """A county-like outline: a star-shaped random polygon (smooth low harmonics for
    the overall shape, weak high harmonics for river/parish-boundary wiggles), pushed
    out locally until it encloses every practice by at least 800 m."""
    n = 240
    theta = np.linspace(0, 2 * math.pi, n, endpoint=False)
    harm = np.zeros(n)
    for m in range(2, 13):
        harm += rng.normal(0, 0.07 / m**0.8) * np.cos(m * theta + rng.uniform(0, 2 * math.pi))
    for m in range(14, 40, 3):
        harm += rng.normal(0, 0.006) * np.cos(m * theta + rng.uniform(0, 2 * math.pi))
    r = np.clip(1.0 + harm, 0.75, 1.25)
    # superellipse base (squarer than an ellipse, like the extract's box)
    p_ = 2.8
    base = (np.abs(np.cos(theta) / 17.0) ** p_ + np.abs(np.sin(theta) / 13.0) ** p_) ** (-1 / p_)
    cx, cy = 0.2, -0.3
    rad = 0.95 * r * base
    for _ in range(100):
        poly = Polygon(
            zip(
                np.round(cx + rad * np.cos(theta), 4),
                np.round(cy + rad * np.sin(theta), 4),
                strict=True,
            )
        )
        bad = [
            (x, y)
            for x, y in zip(df["x"], df["y"], strict=True)
            if not (poly.contains(Point(x, y)) and poly.exterior.distance(Point(x, y)) >= 0.8)
        ]
        if not bad and poly.is_valid:
            return poly
        for x, y in bad:  # push the outline out smoothly around the practice
            ang = math.atan2(y - cy, x - cx)
            d_ang = np.abs((theta - ang + math.pi) % (2 * math.pi) - math.pi)
            need = (
                math.hypot(x - cx, y - cy) + 1.0 - float(np.interp(ang % (2 * math.pi), theta, rad))
            )
            rad = rad + max(need, 0.2) * np.exp(-0.5 * (d_ang / 0.22) ** 2)
    raise RuntimeError("could not fit the boundary around the practices")
