"""Text of the two small output files: the county outline as GeoJSON and
PROVENANCE.md (the road network's OSM XML is :mod:`.osm_writer`'s)."""

from __future__ import annotations

import json

import pandas as pd
from shapely.geometry import Polygon

from .frame import to_latlon
from .osm_writer import NODE_ID0, WAY_ID0, Network


def geojson(poly: Polygon) -> str:
    coords = []
    for x, y in list(poly.exterior.coords):
        lat, lon = to_latlon(x, y)
        coords.append([round(lon, 6), round(lat, 6)])
    if coords[0] != coords[-1]:
        coords.append(coords[0])
    fc = {
        "type": "FeatureCollection",
        "name": "demo_boundary",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Demoshire (synthetic)", "code": "DEMO"},
                "geometry": {"type": "Polygon", "coordinates": [coords]},
            }
        ],
    }
    return json.dumps(fc, separators=(",", ":")) + "\n"


def provenance(
    net: Network, df: pd.DataFrame, groups: pd.DataFrame, osm_bytes: int, seed: int
) -> str:
    sizes = df["list_size"]
    sup = df[df["kind"] == "super"].iloc[0]
    fringe = df[df["kind"] == "fringe"]
    hw_counts: dict[str, int] = {}
    for _, tags in net.ways:
        hw_counts[tags["highway"]] = hw_counts.get(tags["highway"], 0) + 1
    n_nodes = len({n for nodes, _ in net.ways for n in nodes})
    gsum = groups.merge(df[["practice_code", "list_size"]]).groupby(["group_id", "group_name"])[
        "list_size"
    ]
    gstats = gsum.agg(["count", "sum"]).reset_index()
    n_under = int((gstats["sum"] < 30000).sum())
    n_over = int(((gstats["sum"] > 50000) & (gstats["count"] > 1)).sum())
    hw_lines = "\n".join(f"| `{k}` | {hw_counts[k]} |" for k in sorted(hw_counts))
    group_lines = "\n".join(
        f"| {r.group_id} | {r.group_name} | {r['count']} | {r['sum']:,} |"
        for _, r in gstats.iterrows()
    )
    towns = ", ".join(
        f"{t} ({int((df['settlement'] == t).sum())})"
        for t in ("Demoford", "Kettleby", "Ashwell Market", "Stanbridge")
    )
    net_desc = (
        f"OSM XML 0.6 road network, {n_nodes:,} nodes, {len(net.ways):,} ways "
        f"({osm_bytes / 1024:.0f} KiB compressed)"
    )
    return f"""# Demo data: Demoshire (synthetic)

**Everything in `hubopt/data/` (`demo/`, `boundaries/demo_boundary.geojson`) is synthetic.**
Demoshire, its towns, villages, roads, GP practices, postcodes, practice codes, list
sizes and groupings are invented. Any resemblance to real places or practices is
coincidental; the postcodes (`DM…`) and practice codes (`D81…`) do not exist.
The area is placed near 52.35 N, 0.60 W only so that coordinates fall inside
England and project sensibly to British National Grid (EPSG:27700).

## How it was made

All files are written by `scripts/make_demo_data.py` from one seeded random number
generator, `numpy.random.default_rng({seed})` (split with `Generator.spawn` into
independent streams for the roads, practice placement, list sizes and the outline).
Re-running

    python scripts/make_demo_data.py

from the repository root regenerates byte-identical files (no network access is used).
Change the script, not the files.

## Files

| File | What |
|---|---|
| `demo/network.osm.bz2` | {net_desc} |
| `demo/practices.csv` | {len(df)} practices: `practice_code,name,postcode,lat,lon,list_size` |
| `demo/current_groups.csv` | PCN-like grouping: `practice_code,group_id,group_name` |
| `boundaries/demo_boundary.geojson` | county outline, one Polygon, EPSG:4326 |

## The area

About 36 km x 28 km: one large town (Demoford, a warped grid of residential streets
with tertiary/secondary streets through it), three smaller towns (Kettleby, Ashwell
Market, Stanbridge) and 18 villages (a few residential streets each).

Roads carry real OSM tags:

| `highway` | ways |
|---|---|
{hw_lines}

* **M47 motorway** crossing the county south-west to north-east as two `oneway=yes`
  carriageways (`maxspeed=70 mph`), with two junctions (13 near Demoford on the
  A4300, 14 between Demoford and Kettleby on the A427) built from `motorway_link`
  slip roads. The carriageway stubs beyond the junctions run to the edge of the
  extract and are not in the largest strongly connected component (as in a real
  clipped extract).
* **A roads** A427 (trunk), A4300, A5123, A461 (primary), some stretches with
  `maxspeed=60 mph` or `50 mph`; **B roads** B6610, B6612, B6620 (secondary);
  tertiary roads and unclassified lanes to the villages. Classified roads through
  villages are signed `maxspeed=30 mph`. Roads that cross the motorway without a
  junction are bridges (`bridge=yes`, `layer=1`) and do not connect to it.
* Residential streets: most have no `maxspeed` (as in England); some are `20 mph`
  or `30 mph`.
* **One-way streets**: Market Street (eastbound) and Sheep Street (westbound) in
  central Demoford (`oneway=yes`), plus the motorway carriageways and slip roads, and
  Eastgate Roundabout (`junction=roundabout`, clockwise) where the A427 leaves
  Demoford High Street.
* **Farm tracks**: short dead-end `highway=service` ways off the rural roads.
* **Footway**: Castle Park Walk in Demoford (`highway=footway`), which hubopt drops.
* **Island**: Fen End Drove, Fen End Farm and Decoy Lane in the far south-east: three
  ways not connected to anything else (no practice is near them). They exercise the
  largest-connected-component logic.
* Motorway diverge nodes carry `highway=motorway_junction` + `ref`; all other nodes
  are untagged. Node ids start at {NODE_ID0}, way ids at {WAY_ID0}; every element
  has `version="1"` and there are no timestamps, users or changesets.

## Practices

* {len(df)} practices, **{int(sizes.sum()):,} registered patients** in total; median list
  size {int(sizes.median()):,}, smallest {int(sizes.min()):,}, largest {int(sizes.max()):,}.
* Towns (practices): {towns}; the rest are village practices.
* **Oversize practice**: {sup["practice_code"]} {sup["name"]} ({int(sup["list_size"]):,}),
  a super-practice in central Demoford, larger than the 50,000 hub maximum, so it
  forms a hub on its own.
* Two Demoford practices ({", ".join(df["practice_code"].iloc[1:3])}) share one health
  centre: identical coordinates and postcode.
* **Rural fringe**: the west of the county has {len(fringe)} small village practices
  ({int(fringe["list_size"].min()):,}-{int(fringe["list_size"].max()):,} patients,
  {int(fringe["list_size"].sum()):,} in total) several km apart on lanes. Together they
  are far short of 30,000 patients, so each has to share a hub with bigger practices,
  mostly in Demoford or Stanbridge: for most of them that is a 15-25 minute drive,
  close to a 25-minute cap.
* Coordinates are within about 110 m of a road junction.

## Current groups

`current_groups.csv` mimics today's Primary Care Networks: {groups["group_id"].nunique()} groups of
contiguous practices, deliberately imperfect: {n_under} below 30,000 patients,
{n_over} above 50,000 (besides the super-practice's own group) and one
(Stanbridge & Kettleby North) spanning two towns.

| group_id | group_name | practices | patients |
|---|---|---|---|
{group_lines}

## Licence

The demo data are synthetic and dedicated to the public domain under
[CC0 1.0](https://creativecommons.org/publicdomain/zero/1.0/); the generating script
is under the repository's licence. They contain no OpenStreetMap data, so the ODbL
does not apply.
"""
