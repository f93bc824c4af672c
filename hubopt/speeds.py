"""Documented UK road speeds used when an OSM way has no usable ``maxspeed`` tag.

Most English roads carry no ``maxspeed`` tag (77% of Rutland's drive edges), so the
travel time of an edge is usually set by its ``highway`` class. These are typical
*average* car speeds in km/h, not legal limits: national speed limit single
carriageways are 60 mph but average nearer 45-55 mph; urban residential streets are
20-30 mph limits with junctions and parking.

Where a way does carry ``maxspeed`` ("30 mph", "50", "national"...), OSMnx parses it
(mph is converted to km/h) and that value wins over this table.
"""

from __future__ import annotations

#: Average speed in km/h by OSM ``highway`` class (England).
UK_SPEEDS_KPH: dict[str, float] = {
    "motorway": 100.0,  # 70 mph limit, ~62 mph average
    "motorway_link": 60.0,
    "trunk": 80.0,  # A-road primary route, dual or single carriageway
    "trunk_link": 50.0,
    "primary": 65.0,  # A-road
    "primary_link": 45.0,
    "secondary": 55.0,  # B-road
    "secondary_link": 40.0,
    "tertiary": 45.0,
    "tertiary_link": 35.0,
    "unclassified": 40.0,  # minor rural lanes
    "residential": 30.0,  # 20-30 mph streets
    "living_street": 10.0,
    "service": 15.0,
    "road": 30.0,
    "busway": 30.0,
}

#: Speed used for any highway class not in the table.
FALLBACK_KPH: float = 30.0

#: Speed used to reach the road network from a practice's coordinates (snap distance).
ACCESS_KPH: float = 15.0

#: Road classes cars can drive on; other ways (footways, cycleways, tracks) are dropped.
DRIVABLE = frozenset(UK_SPEEDS_KPH)
