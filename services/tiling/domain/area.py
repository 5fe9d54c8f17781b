"""Areas given as numbers: a bounding box (search, optimise) and the map viewport of the coverage map."""

from __future__ import annotations

from collections.abc import Sequence

import shapely
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from services.tiling.domain.errors import InvalidBbox
from services.tiling.domain.optimise import TILE_KM2
from shared.grid.cover import geodesic_area_m2


def bbox_geometry(bbox: Sequence[float], field: str = "bbox") -> BaseGeometry:
    """``[minLon, minLat, maxLon, maxLat]`` (EPSG:4326) as a polygon; a box across the antimeridian
    (minLon > maxLon) as two. InvalidBbox naming the field and why."""
    if len(bbox) != 4:
        raise InvalidBbox(f"{field}: expected [minLon, minLat, maxLon, maxLat], got {len(bbox)} numbers")
    w, s, e, n = bbox
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= 90 and -90 <= n <= 90):
        raise InvalidBbox(f"{field} {list(bbox)}: longitudes must be within -180..180 and latitudes "
                          "within -90..90 (lon/lat order, EPSG:4326)")
    if s >= n or w == e:
        raise InvalidBbox(f"{field} {list(bbox)}: the box is empty (minLat must be below maxLat, "
                          "minLon different from maxLon)")
    if w > e:  # across the antimeridian
        return shapely.MultiPolygon([box(w, s, 180.0, n), box(-180.0, s, e, n)])
    return box(w, s, e, n)


def viewport_geometry(text: str) -> BaseGeometry:
    """A map viewport sent as ``minLon,minLat,maxLon,maxLat`` (a query parameter)."""
    try:
        numbers = [float(x) for x in text.split(",")]
    except ValueError:
        raise InvalidBbox(f"bbox {text!r}: expected four numbers minLon,minLat,maxLon,maxLat") from None
    return bbox_geometry(numbers)


def tiles_spanned(geom: BaseGeometry) -> float:
    """About how many whole tiles' area a geometry spans (a cheap bound before covering it)."""
    return geodesic_area_m2(geom) / 1e6 / TILE_KM2
