"""UTM zone bands of grid version 1 and the cached transforms into them.

A zone grid covers the zone's 6 degree band widened by 0.25 degree of longitude on each side (the
overlap strips), latitudes 0..84 (north) or -80..0 (south).  Plain 6 degree zones: no
Norway/Svalbard exceptions.
"""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np
import pyproj
import shapely
from shapely.geometry import Polygon

from shared.grid.cells import FALSE_NORTHING_SOUTH_M, zone_epsg

ZONE_WIDTH_DEG = 6.0
OVERLAP_DEG = 0.25
HALF_BAND_DEG = ZONE_WIDTH_DEG / 2 + OVERLAP_DEG  # 3.25
LAT_MIN, LAT_MAX = -80.0, 84.0
# Sampling of the band's curved edges in UTM; chords of 0.01 degree are off by well under a mm.
_BAND_STEP_DEG = 0.01


def central_meridian(zone: int) -> float:
    return -183.0 + 6.0 * zone


def band_lonlat(zone: int, south: bool) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` of the widened band in degrees; may pass +-180 for zones 1/60."""
    lon0 = central_meridian(zone)
    lat0, lat1 = (LAT_MIN, 0.0) if south else (0.0, LAT_MAX)
    return lon0 - HALF_BAND_DEG, lat0, lon0 + HALF_BAND_DEG, lat1


def plain_band_lonlat(zone: int) -> tuple[float, float]:
    """``(west, east)`` of the zone's own 6 degree band."""
    lon0 = central_meridian(zone)
    return lon0 - ZONE_WIDTH_DEG / 2, lon0 + ZONE_WIDTH_DEG / 2


def zones_for_lon_range(west: float, east: float) -> list[int]:
    """Zones whose widened band meets longitudes ``[west, east]`` (degrees, within -180..180)."""
    out = []
    for zone in range(1, 61):
        w, _, e, _ = band_lonlat(zone, False)
        for shift in (-360.0, 0.0, 360.0):
            if w + shift < east and e + shift > west:
                out.append(zone)
                break
    return out


@cache
def to_utm(zone: int, south: bool) -> pyproj.Transformer:
    """lon/lat (EPSG:4326, lon first) -> zone metres."""
    return pyproj.Transformer.from_crs(4326, zone_epsg(zone, south), always_xy=True)


@cache
def to_lonlat(zone: int, south: bool) -> pyproj.Transformer:
    """Zone metres -> lon/lat (EPSG:4326, lon first)."""
    return pyproj.Transformer.from_crs(zone_epsg(zone, south), 4326, always_xy=True)


def unwrap_lon(lon: np.ndarray, zone: int) -> np.ndarray:
    """Longitudes as continuous values around the zone's central meridian (for zones 1 and 60)."""
    lon0 = central_meridian(zone)
    return lon0 + (np.asarray(lon) - lon0 + 180.0) % 360.0 - 180.0


@lru_cache(maxsize=2)
def band_utm(south: bool) -> Polygon:
    """The widened band in zone metres.

    Every zone's band has the same shape in its own metres (UTM depends only on the longitude
    difference to the central meridian), so one polygon per hemisphere serves all 60 zones; using
    one canonical polygon also makes every zone's cell set identical.
    """
    zone = 31
    west, lat0, east, lat1 = band_lonlat(zone, south)
    n_lat = int(round((lat1 - lat0) / _BAND_STEP_DEG))
    n_lon = int(round((east - west) / _BAND_STEP_DEG))
    lats = np.linspace(lat0, lat1, n_lat + 1)
    lons = np.linspace(west, east, n_lon + 1)
    # counter-clockwise: up the west meridian, east along the top, down the east meridian, back west
    ring_lon = np.concatenate([np.full(n_lat, west), lons[:-1], np.full(n_lat, east), lons[::-1][:-1]])
    ring_lat = np.concatenate([lats[:-1], np.full(n_lon, lat1), lats[::-1][:-1], np.full(n_lon, lat0)])
    x, y = to_utm(zone, south).transform(ring_lon, ring_lat)
    x = np.asarray(x)
    y = np.asarray(y)
    # The equator is a straight grid line (N = 0 or 10 000 000 m); snap away rounding noise.
    equator = FALSE_NORTHING_SOUTH_M if south else 0.0
    y[np.abs(y - equator) < 1e-3] = equator
    poly = Polygon(np.column_stack([x, y]))
    shapely.prepare(poly)
    return poly
