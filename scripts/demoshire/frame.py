"""The local planar frame: x km east, y km north of (LAT0, LON0), and its lat/lon.

Equirectangular is plenty accurate over 36 km for synthetic data.
"""

from __future__ import annotations

import math

LAT0, LON0 = 52.35, -0.60
KM_PER_DEG_LAT = 111.25
KM_PER_DEG_LON = 111.32 * math.cos(math.radians(LAT0))
HALF_W, HALF_H = 18.0, 14.0  # the extract spans x in [-18, 18], y in [-14, 14]


def to_latlon(x: float, y: float) -> tuple[float, float]:
    return LAT0 + y / KM_PER_DEG_LAT, LON0 + x / KM_PER_DEG_LON
