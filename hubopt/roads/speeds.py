"""Documented UK road speeds, the ``maxspeed`` parser and the car-road filter.

Most English roads carry no ``maxspeed`` tag (77% of Rutland's drive edges), so the
travel time of an edge is usually set by its ``highway`` class. The table below gives
typical *average* car speeds in km/h, not legal limits: national speed limit single
carriageways are 60 mph but average nearer 45-55 mph; urban residential streets are
20-30 mph limits with junctions and parking.

Where a way carries a numeric ``maxspeed`` ("30 mph", "50", "50 km/h", "20 mph|30 mph"
per lane, "30 mph;40 mph") that value wins over the table: mph are converted at
1.609344 km/h per mph and several values are averaged. A national-limit tag
(``national``, ``GB:nsl_single``, ``GB:nsl_dual``, ``UK:motorway`` ...) only says "the
default for this kind of road", so such edges get the table's average for their
class, like untagged ones (OSMnx would use the legal 60/70 mph instead). ``GB:urban``
and ``GB:nsl_restricted`` are real 30 mph limits. Anything else (``signals``,
``variable``, ``none``, ``walk``) falls back to the table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

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
    "service": 15.0,  # car-park and estate roads, where many practices are
    "road": 30.0,  # type not yet known to mappers
}

#: Speed used for any highway class not in the table (only reachable through
#: graphs built elsewhere: hubopt's own readers keep just the table's classes).
FALLBACK_KPH: float = 30.0

#: Speed used to reach the road network from a practice's coordinates (snap distance):
#: a slow drive or a brisk walk across a car park, 15 km/h.
ACCESS_KPH: float = 15.0

#: Road classes cars can drive on; other ways (footways, cycleways, tracks, bus-only
#: ``busway`` and ``bus_guideway``) are dropped.
DRIVABLE = frozenset(UK_SPEEDS_KPH)

#: ``access``-like values that keep cars out ...
NO_CARS = frozenset({"no", "private"})
#: ... unless ``motor_vehicle``/``motorcar`` lets them back in with one of these.
CARS_ALLOWED = frozenset({"yes", "designated", "destination", "permissive", "permit"})
#: ``service=*`` values dropped (as OSMnx's ``drive_service`` network does).
SERVICE_EXCLUDED = frozenset({"emergency_access", "parking", "parking_aisle", "private"})

MPH_TO_KPH = 1.609344

#: Tags that set a real limit without a number.
_IMPLICIT_KPH = {
    "gb:urban": 30 * MPH_TO_KPH,
    "uk:urban": 30 * MPH_TO_KPH,
    "gb:nsl_restricted": 30 * MPH_TO_KPH,
    "uk:nsl_restricted": 30 * MPH_TO_KPH,
    "gb:zone20": 20 * MPH_TO_KPH,
    "gb:zone30": 30 * MPH_TO_KPH,
}
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(mph|km/h|kmh|kph|knots)?\s*$", re.IGNORECASE)


def parse_maxspeed(value: object) -> float | None:
    """Speed in km/h from an OSM ``maxspeed`` value, or None to use the table.

    >>> parse_maxspeed("30 mph")
    48.28032
    >>> parse_maxspeed("50"), parse_maxspeed("national"), parse_maxspeed(None)
    (50.0, None, None)
    >>> parse_maxspeed(["20 mph", "30 mph"])  # a simplified edge over two ways
    40.2336
    """
    if isinstance(value, list | tuple):
        speeds = [s for s in (parse_maxspeed(v) for v in value) if s is not None]
        return sum(speeds) / len(speeds) if speeds else None
    if not isinstance(value, str) or not value.strip():
        return None
    parts = re.split(r"[|;]", value)
    if len(parts) > 1:
        return parse_maxspeed(parts)
    text = value.strip()
    if (implicit := _IMPLICIT_KPH.get(text.lower())) is not None:
        return implicit
    m = _NUMBER.match(text)
    if m is None:
        return None
    speed = float(m.group(1).replace(",", "."))
    unit = (m.group(2) or "").lower()
    if unit == "mph":
        speed *= MPH_TO_KPH
    elif unit == "knots":
        speed *= 1.852
    return speed if 0 < speed < 200 and math.isfinite(speed) else None


def highway_class(value: object) -> str | None:
    """The first drivable class of a ``highway`` value (lists come from simplified
    edges that merge several ways), or None when none is drivable."""
    values = value if isinstance(value, list | tuple) else [value]
    for v in values:
        if v in DRIVABLE:
            return v
    return None


def cars_allowed(tags: Mapping[str, object]) -> bool:
    """Whether a way's tags let cars use it (``highway`` is checked separately).

    Drops ``area=yes``, ``access=no/private`` (unless ``motor_vehicle`` or
    ``motorcar`` allows cars), ``motor_vehicle/motorcar=no/private`` and service
    roads that are parking aisles, private or emergency-only.
    """
    if tags.get("area") == "yes":
        return False
    car = {_first(tags.get("motor_vehicle")), _first(tags.get("motorcar"))}
    if car & NO_CARS:
        return False
    if _first(tags.get("access")) in NO_CARS and not (car & CARS_ALLOWED):
        return False
    return _first(tags.get("service")) not in SERVICE_EXCLUDED


def _first(value: object) -> object:
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


def speeds_table(speeds: Mapping[str, float] | None = None) -> dict[str, float]:
    """The speed table in force: :data:`UK_SPEEDS_KPH` with ``speeds`` overriding it."""
    table = dict(UK_SPEEDS_KPH)
    table.update(speeds or {})
    return table
