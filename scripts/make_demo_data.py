#!/usr/bin/env python
"""Generate the synthetic "Demoshire" demo area shipped with hubopt.

Run from the repository root::

    python scripts/make_demo_data.py

Everything is drawn from one seeded generator (``numpy.random.default_rng(20210101)``,
split with ``Generator.spawn`` into independent streams for the road network, practice
placement, list sizes and the outline) in a fixed order and written with fixed
formatting, so running the script twice gives byte-identical files. No network access
is needed.

Writes:

* ``hubopt/data/demo/network.osm.bz2``      synthetic OSM XML (0.6) road network
* ``hubopt/data/demo/practices.csv``  fictional GP practices with list sizes
* ``hubopt/data/demo/current_groups.csv``   a PCN-like "current" grouping of the practices
* ``hubopt/data/boundaries/demo_boundary.geojson``  the county outline
* ``hubopt/data/demo/PROVENANCE.md``        what the data is and how it was made

The geography is invented: a county about 36 km x 28 km centred near 52.35 N, 0.60 W
with one large town (Demoford), three smaller towns, eighteen villages, a motorway, A
and B roads and lanes. The west of the county is a sparsely populated rural fringe of
small village practices, far apart, so that forming 30,000-patient hubs there needs
long (15-25 minute) drives.

The generator itself is the package ``scripts/demoshire/`` (its docstring says which
file owns what); this script seeds it, runs it and writes the files.
"""

from __future__ import annotations

import bz2
import sys
from pathlib import Path

import numpy as np

# scripts/ is on sys.path when this file is run as a script
from demoshire.geography import build, make_boundary
from demoshire.osm_writer import Network, osm_xml
from demoshire.practices import make_groups, make_practices
from demoshire.provenance import geojson, provenance

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hubopt.roads.speeds import UK_SPEEDS_KPH  # noqa: E402 (needs ROOT on sys.path)

SEED = 20210101

DEMO_DIR = ROOT / "hubopt" / "data" / "demo"
BOUNDARY_DIR = ROOT / "hubopt" / "data" / "boundaries"


def make_streams() -> dict[str, np.random.Generator]:
    """Independent generators spawned from the one seeded generator, so that a tweak
    to the road network does not reshuffle list sizes or the county outline."""
    root = np.random.default_rng(SEED)
    names = ("network", "places", "sizes", "boundary")
    return dict(zip(names, root.spawn(len(names)), strict=True))


def main() -> None:
    ctx = build(make_streams())
    net: Network = ctx["net"]
    # every drivable class we emit has a documented speed
    classes = {t["highway"] for _, t in net.ways} - {"footway"}
    missing = classes - set(UK_SPEEDS_KPH)
    assert not missing, f"no speed for {missing}"
    df = make_practices(ctx)
    groups = make_groups(df, ctx)
    poly = make_boundary(df, ctx["streams"]["boundary"])

    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    BOUNDARY_DIR.mkdir(parents=True, exist_ok=True)
    osm = bz2.compress(osm_xml(net), 9)
    (DEMO_DIR / "network.osm.bz2").write_bytes(osm)
    cols = ["practice_code", "name", "postcode", "lat", "lon", "list_size"]
    df[cols].to_csv(
        DEMO_DIR / "practices.csv", index=False, lineterminator="\n", float_format="%.6f"
    )
    groups.to_csv(DEMO_DIR / "current_groups.csv", index=False, lineterminator="\n")
    (BOUNDARY_DIR / "demo_boundary.geojson").write_text(geojson(poly), encoding="utf-8")
    (DEMO_DIR / "PROVENANCE.md").write_text(
        provenance(net, df, groups, len(osm), SEED), encoding="utf-8"
    )
    print(
        f"network: {len({n for w, _ in net.ways for n in w}):,} nodes, {len(net.ways):,} ways, "
        f"{len(osm) / 1024:.0f} KiB"
    )
    print(
        f"practices: {len(df)}, {int(df['list_size'].sum()):,} patients, "
        f"median {int(df['list_size'].median()):,}"
    )


if __name__ == "__main__":
    main()
