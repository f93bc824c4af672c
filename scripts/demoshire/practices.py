"""The GP practices, drawn from the ``places`` and ``sizes`` streams: where they are
(near junctions of the towns and villages laid out by :mod:`.geography`), their list
sizes, postcodes and codes (:func:`make_practices`), and the PCN-like current groups
(:func:`make_groups`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .frame import to_latlon
from .geography import VILLAGES, Town, Village
from .osm_writer import Network

DEMOFORD_NAMES = [
    "Demoford Riverside Surgery",
    "Castle Street Surgery",
    "The Market Practice",
    "Northgate Medical Centre",
    "Abbey Fields Surgery",
    "St Mary's Surgery",
    "Parkside Medical Practice",
    "The Old Mill Surgery",
    "Westgate Surgery",
    "Eastfield Medical Centre",
    "Priory Road Surgery",
    "Station Road Surgery",
    "Brookside Practice",
    "The Willows Medical Centre",
    "Hill View Surgery",
    "Orchard House Surgery",
    "Demoford Family Practice",
]
KETTLEBY_NAMES = [
    "Kettleby Health Centre",
    "Kettleby Lane Surgery",
    "Bridge House Medical Practice",
    "The Cedars Surgery",
    "Kettleby North Surgery",
    "Wharf Road Practice",
    "The Maltings Surgery",
    "Southfields Medical Centre",
    "Queensway Surgery",
]
ASHWELL_NAMES = [
    "Ashwell Market Surgery",
    "The Butter Cross Practice",
    "Ashwell Medical Centre",
    "Sheep Street Surgery",
    "Ashwell Park Surgery",
    "Greenfields Practice",
    "Drovers Way Surgery",
]
STANBRIDGE_NAMES = [
    "Stanbridge Surgery",
    "The Old School Surgery",
    "Stanbridge Medical Practice",
    "Abbey Mews Practice",
]

VILLAGE_PRACTICE_NAME = {
    "Wolford Magna": "Wolford Magna Surgery",
    "Ashby Fenwick": "Ashby Fenwick Surgery",
    "Nether Wolford": "Nether Wolford Medical Practice",
    "Thistleton": "Thistleton Surgery",
    "Kingsmere": "Kingsmere Village Surgery",
    "Upper Sowerby": "Upper Sowerby Surgery",
    "Great Hadley": "Great Hadley Medical Practice",
    "Little Hadley": "Little Hadley Medical Centre",
    "Thornby": "Thornby Surgery",
    "Oxley": "Oxley Health Centre",
    "Saxby Parva": "Saxby Parva Surgery",
    "Brockwell": "Brockwell Surgery",
    "Middleton Green": "Middleton Green Medical Centre",
    "Cold Norton": "Cold Norton Surgery",
}
TARGET_PATIENTS = 411_600  # registered patients outside the oversize practice
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def pick_spread(
    net: Network, cands: list[int], n: int, min_km: float, rng: np.random.Generator
) -> list[int]:
    """Greedy random choice of ``n`` nodes at least ``min_km`` apart."""
    order = rng.permutation(len(cands))
    chosen: list[int] = []
    for gap in (min_km, min_km * 0.75, min_km * 0.5, 0.0):
        for i in order:
            c = cands[i]
            if c in chosen:
                continue
            if all(np.hypot(*(net.pos(c) - net.pos(o))) >= gap for o in chosen):
                chosen.append(c)
            if len(chosen) == n:
                return chosen
    raise RuntimeError("not enough candidate nodes")


def offset_point(net: Network, node: int, rng: np.random.Generator) -> tuple[float, float]:
    ang = rng.uniform(0, 2 * math.pi)
    r = rng.uniform(0.025, 0.11)
    p = net.pos(node) + r * np.array([math.cos(ang), math.sin(ang)])
    return float(p[0]), float(p[1])


def make_practices(ctx: dict) -> pd.DataFrame:
    rng: np.random.Generator = ctx["streams"]["places"]
    srng: np.random.Generator = ctx["streams"]["sizes"]
    net: Network = ctx["net"]
    towns: dict[str, Town] = ctx["towns"]
    villages: dict[str, Village] = ctx["villages"]
    rows = []

    fixed: set[int] = set()  # sizes set by hand, not rescaled below

    def add(name, settlement, node, size, district, xy=None, kind="town"):
        x, y = xy if xy is not None else offset_point(net, node, rng)
        rows.append(
            {
                "name": name,
                "settlement": settlement,
                "x": x,
                "y": y,
                "list_size": int(size),
                "district": district,
                "kind": kind,
            }
        )

    def town_sizes(n: int, median: float) -> list[int]:
        s = np.exp(srng.normal(math.log(median), 0.2, n))
        return [int(round(v)) for v in np.clip(s, 3000, 20000)]

    # Demoford: the 62,400 super-practice at the centre, a shared health centre, 15 more
    d = towns["Demoford"]
    cands = [n for n in d.intersections() if np.hypot(*(net.pos(n) - d.centre)) > 0.3]
    nodes = pick_spread(net, cands, 16, 0.55, rng)
    sizes = town_sizes(17, 10400)
    sizes[4] = 24_600  # the largest ordinary practice
    fixed.add(len(rows) + 1 + 4)
    add("Demoford Health Partnership", "Demoford", d.gates["C"], 62_400, None, kind="super")
    shared = offset_point(net, nodes[0], rng)
    for k, nm in enumerate(DEMOFORD_NAMES):
        node = nodes[max(0, k - 1)]
        add(nm, "Demoford", node, sizes[k], None, xy=shared if k < 2 else None)
    for tname, pool, median, tiny in (
        ("Kettleby", KETTLEBY_NAMES, 10200, None),
        ("Ashwell Market", ASHWELL_NAMES, 9800, None),
        ("Stanbridge", STANBRIDGE_NAMES, 9600, 3),
    ):
        t = towns[tname]
        cands = [n for n in t.intersections() if np.hypot(*(net.pos(n) - t.centre)) > 0.15]
        nodes = pick_spread(net, cands, len(pool), 0.45, rng)
        sizes = town_sizes(len(pool), median)
        if tiny is not None:
            sizes[tiny] = int(srng.integers(380, 700))  # a very small practice
            fixed.add(len(rows) + tiny)
        for nm, node, sz in zip(pool, nodes, sizes, strict=True):
            add(nm, tname, node, sz, None)
    for vname, _, _, kind, district in VILLAGES:
        if kind is None:
            continue
        v = villages[vname]
        lo, hi = (1500, 4800) if kind == "fringe" else (2600, 6200)
        size = int(round(srng.uniform(lo, hi)))
        node = v.junctions[int(rng.integers(len(v.junctions)))]
        add(VILLAGE_PRACTICE_NAME[vname], vname, node, size, district, kind=kind)

    df = pd.DataFrame(rows)
    # Scale the drawn town practices so the county's non-oversize patients total
    # TARGET_PATIENTS: enough for 13 hubs at the 30,000 minimum, not 14, which keeps the
    # optimum around a dozen hubs whatever the draws.
    scal = (df["kind"] == "town") & ~df.index.isin(sorted(fixed))
    rest = int(df.loc[~scal & (df["kind"] != "super"), "list_size"].sum())
    raw = df.loc[scal, "list_size"].to_numpy(dtype=float)
    new = np.round(raw * (TARGET_PATIENTS - rest) / raw.sum()).astype(int)
    new[int(np.argmax(new))] += TARGET_PATIENTS - rest - int(new.sum())
    df.loc[scal, "list_size"] = new
    # postcode districts for towns by quadrant / town
    town_district = {"Kettleby": "DM7", "Ashwell Market": "DM9", "Stanbridge": "DM11"}
    for i, r in df.iterrows():
        if r["district"] is None or (
            isinstance(r["district"], float) and math.isnan(r["district"])
        ):
            if r["settlement"] == "Demoford":
                east = r["x"] >= d.centre[0]
                north = r["y"] >= d.centre[1]
                df.at[i, "district"] = {
                    (True, True): "DM1",
                    (False, True): "DM2",
                    (False, False): "DM3",
                    (True, False): "DM4",
                }[(east, north)]
            else:
                df.at[i, "district"] = town_district[r["settlement"]]
    postcodes: list[str] = []
    seen_xy: dict = {}
    for _, r in df.iterrows():
        key = (round(r["x"], 9), round(r["y"], 9))
        if key in seen_xy:
            postcodes.append(seen_xy[key])
            continue
        while True:
            pc = (
                f"{r['district']} {int(rng.integers(1, 10))}"
                f"{POSTCODE_LETTERS[int(rng.integers(20))]}{POSTCODE_LETTERS[int(rng.integers(20))]}"
            )
            if pc not in postcodes:
                break
        seen_xy[key] = pc
        postcodes.append(pc)
    df["postcode"] = postcodes
    df["practice_code"] = [f"D81{k + 1:03d}" for k in range(len(df))]
    lat, lon = zip(*(to_latlon(x, y) for x, y in zip(df["x"], df["y"], strict=True)), strict=True)
    df["lat"] = np.round(lat, 6)
    df["lon"] = np.round(lon, 6)
    return df


def make_groups(df: pd.DataFrame, ctx: dict) -> pd.DataFrame:
    """A PCN-like grouping: geographic, 3-8 practices, deliberately imperfect."""
    towns = ctx["towns"]
    group = {}

    def by_angle(sub: pd.DataFrame, centre: np.ndarray, start_deg: float) -> pd.DataFrame:
        ang = (np.degrees(np.arctan2(sub["y"] - centre[1], sub["x"] - centre[0])) - start_deg) % 360
        return sub.assign(_a=ang).sort_values(["_a", "practice_code"])

    d = towns["Demoford"]
    dem = df[(df["settlement"] == "Demoford") & (df["kind"] == "town")]
    dem = by_angle(dem, d.centre, 200.0)  # start in the south-west, go anticlockwise
    codes = list(dem["practice_code"])
    # west (first + last in the sweep) joins the fringe-facing group
    groups = [
        ("Demoford South & Middleton PCN", codes[1:6]),
        ("Demoford East PCN", codes[6:10]),
        ("Demoford North PCN", codes[10:14]),
        ("Demoford West & Wolford PCN", [codes[0], *codes[14:]]),
    ]
    sup = df.loc[df["kind"] == "super", "practice_code"].tolist()
    groups.append(("Demoford Health Partnership PCN", sup))
    village_rows = df[df["kind"].isin(["village", "fringe"])]
    code_of = dict(zip(village_rows["settlement"], village_rows["practice_code"], strict=True))
    groups[0][1].append(code_of["Middleton Green"])
    groups[3][1].append(code_of["Wolford Magna"])
    groups.append(
        (
            "Western Villages PCN",
            [
                code_of[v]
                for v in (
                    "Ashby Fenwick",
                    "Nether Wolford",
                    "Thistleton",
                    "Kingsmere",
                    "Upper Sowerby",
                )
            ],
        )
    )
    k = towns["Kettleby"]
    ket = by_angle(df[df["settlement"] == "Kettleby"], k.centre, 90.0)
    kc = list(ket["practice_code"])
    stan = list(df.loc[df["settlement"] == "Stanbridge", "practice_code"])
    groups.append(
        (
            "Stanbridge & Kettleby North PCN",
            stan + [code_of["Great Hadley"], code_of["Little Hadley"]] + kc[:2],
        )
    )
    groups.append(("Kettleby Town PCN", kc[2:6]))
    groups.append(
        ("Kettleby & Eastern Villages PCN", kc[6:] + [code_of["Thornby"], code_of["Oxley"]])
    )
    a = towns["Ashwell Market"]
    ash = by_angle(df[df["settlement"] == "Ashwell Market"], a.centre, 0.0)
    ac = list(ash["practice_code"])
    groups.append(("Ashwell Market PCN", ac[:4] + [code_of["Cold Norton"]]))
    groups.append(("Ashwell & Saxby PCN", ac[4:] + [code_of["Saxby Parva"], code_of["Brockwell"]]))
    # practices sharing a building (same coordinates) belong to the same group: the
    # one of their groups with fewer patients
    size = dict(zip(df["practice_code"], df["list_size"], strict=True))
    first_at: dict = {}
    for c in df.sort_values("practice_code")["practice_code"]:
        r = df.loc[df["practice_code"] == c].iloc[0]
        key = (round(r["x"], 9), round(r["y"], 9))
        if key not in first_at:
            first_at[key] = c
            continue
        ga = next(m for _, m in groups if first_at[key] in m)
        gb = next(m for _, m in groups if c in m)
        if ga is not gb:
            small, big_ = sorted((ga, gb), key=lambda m: sum(size[x] for x in m))
            moving = [x for x in big_ if x in (c, first_at[key])]
            for x in moving:
                big_.remove(x)
                small.append(x)
    rows = []
    for gi, (gname, members) in enumerate(groups):
        for c in members:
            assert c not in group, c
            group[c] = (f"U81{gi + 1:03d}", gname)
    assert set(group) == set(df["practice_code"]), set(df["practice_code"]) ^ set(group)
    for c in df["practice_code"]:
        rows.append({"practice_code": c, "group_id": group[c][0], "group_name": group[c][1]})
    return pd.DataFrame(rows)
