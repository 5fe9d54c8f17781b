"""Helpers for the AOI unit tests: independent reference figures come from explicit pyproj
calls or hand formulas written here, never from the code under test."""

from __future__ import annotations

import math

import pytest
from pyproj import Geod

from shared.geo import AoiError

GEOD = Geod(ellps="WGS84")
A = 6378137.0  # WGS84 semi-major axis (m)
F = 1 / 298.257223563
E2 = F * (2 - F)

# Hand-worked: 1° of longitude along the equator = a·π/180.
M_PER_DEG_LON_EQUATOR = A * math.pi / 180  # 111,319.4908 m
# Meridian radius of curvature at the equator: a(1 − e²) → 1° of latitude there.
M_PER_DEG_LAT_EQUATOR = A * (1 - E2) * math.pi / 180  # 110,574.2727 m


def ring_km2(coords) -> float:
    """Independent geodesic area of one ring, straight from pyproj."""
    lons = [c[0] for c in coords]
    lats = [c[1] for c in coords]
    area, _ = GEOD.polygon_area_perimeter(lons, lats)
    return abs(area) / 1e6


def box_wkt(w: float, s: float, e: float, n: float) -> str:
    return f"POLYGON(({w} {s}, {e} {s}, {e} {n}, {w} {n}, {w} {s}))"


def box_ring(w, s, e, n):
    return [[w, s], [e, s], [e, n], [w, n], [w, s]]


def refused(code: str, data, **kw) -> AoiError:
    from shared.geo import import_aoi

    with pytest.raises(AoiError) as info:
        import_aoi(data, **kw)
    assert info.value.code == code, (info.value.code, info.value.message)
    return info.value
