"""Geodesic measurements on the WGS84 ellipsoid (areas in m² unless the name says km²).

All inputs are lon/lat degrees. A part that crosses the antimeridian is measured in its
unwrapped form (longitudes continuous, possibly beyond 180), which pyproj handles.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

GEOD = Geod(ellps="WGS84")
_A = GEOD.a
_E2 = GEOD.es


def ring_area_m2(coords: np.ndarray) -> float:
    """Unsigned geodesic area of one closed ring given as an (n, 2) lon/lat array."""
    area, _ = GEOD.polygon_area_perimeter(coords[:, 0], coords[:, 1])
    return abs(area)


# A part 180° wide or more has edges the geodesic formula cannot take as they are (the edge
# from -180 to 180 along a parallel has length zero): it is measured in quarters of the globe,
# each edge densified to 1° of arc, which follows the drawn lon/lat edges closely.
_WIDE_DEGREES = 180.0
_QUARTERS = [shapely.box(-180.0 + 90.0 * k, -90.0, -90.0 + 90.0 * k, 90.0) for k in range(8)]


def _wide_area_m2(geom: BaseGeometry) -> float:
    minx = geom.bounds[0]
    shift = -360.0 * math.floor((minx + 180.0) / 360.0)
    g = shapely.transform(geom, lambda xy: xy + [shift, 0.0]) if shift else geom
    total = 0.0
    for k, quarter in enumerate(_QUARTERS):
        piece = shapely.intersection(g, quarter)
        if piece.is_empty:
            continue
        piece = shapely.segmentize(piece, 1.0)
        if k >= 4:  # the second turn (unwrapped parts reach up to 540)
            piece = shapely.transform(piece, lambda xy: xy - [360.0, 0.0])
        total += _narrow_area_m2(piece)
    return total


def geodesic_area_m2(geom: BaseGeometry) -> float:
    """Geodesic area of a Polygon/MultiPolygon, holes excluded, independent of ring
    orientation and start point."""
    minx, _, maxx, _ = geom.bounds
    if not maxx - minx >= _WIDE_DEGREES:  # also NaN bounds (empty)
        return _narrow_area_m2(geom)
    # each polygon by its own width (the halves of a part split at ±180 are narrow)
    return sum(_wide_area_m2(p) if p.bounds[2] - p.bounds[0] >= _WIDE_DEGREES
               else _narrow_area_m2(p) for p in shapely.get_parts(geom))


def _narrow_area_m2(geom: BaseGeometry) -> float:
    total = 0.0
    polys = shapely.get_parts(geom)
    for poly in polys:
        if poly.is_empty:
            continue
        ext = shapely.get_coordinates(shapely.get_exterior_ring(poly))
        a = ring_area_m2(ext)
        n_holes = shapely.get_num_interior_rings(poly)
        for k in range(n_holes):
            a -= ring_area_m2(shapely.get_coordinates(shapely.get_interior_ring(poly, k)))
        total += a
    return total


def parallel_arc_m(lat_deg: float, dlon_deg: float) -> float:
    """Length of an arc along a parallel (radius of the parallel × Δλ)."""
    phi = math.radians(lat_deg)
    radius = _A * math.cos(phi) / math.sqrt(1.0 - _E2 * math.sin(phi) ** 2)
    return abs(radius * math.radians(dlon_deg))


def meridian_arc_m(lon_deg: float, lat1_deg: float, lat2_deg: float) -> float:
    """Length along a meridian (a meridian is a geodesic)."""
    _, _, dist = GEOD.inv(lon_deg, lat1_deg, lon_deg, lat2_deg)
    return abs(float(dist))


def bbox_sides_m(bounds: tuple[float, float, float, float]) -> tuple[float, float]:
    """(width_m, height_m) of a lon/lat bounding box: width is the shorter east-west side
    (the parallel farther from the equator), height the north-south side."""
    minx, miny, maxx, maxy = bounds
    width = min(parallel_arc_m(miny, maxx - minx), parallel_arc_m(maxy, maxx - minx))
    height = meridian_arc_m(minx, miny, maxy)
    return width, height


def bbox_area_m2(bounds: tuple[float, float, float, float]) -> float:
    """Geodesic area of the bounding box polygon (its four corners), the reference of the
    fill ratio; a lon/lat rectangle therefore has a fill ratio of exactly 1."""
    minx, miny, maxx, maxy = bounds
    if maxx - minx >= _WIDE_DEGREES:
        return _wide_area_m2(shapely.box(minx, miny, maxx, maxy))
    lons = np.array([minx, maxx, maxx, minx, minx])
    lats = np.array([miny, miny, maxy, maxy, miny])
    return ring_area_m2(np.column_stack([lons, lats]))
