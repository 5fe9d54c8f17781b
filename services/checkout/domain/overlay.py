"""The order overlay's pure rules (the account's orders in a map viewport), bounded so that it cannot
starve the saga that shares the process: every filter runs in SQL, at most ``limit`` candidate rows
are read per request (newest first, keyset cursor), and the exact test is one vectorised shapely call
on footprints parsed by GEOS from their stored text, which is also what the response carries.

The H3 pre-filter needs every resolution-6 cell of the viewport: about 1,300 for 2 x 2 degrees,
but 166,000 for 20 x 20 (~1.4 s of CPU to list, and a query array as large). Above
``H3_MAX_SQUARE_DEGREES`` the bbox columns pre-filter instead (the account's rows via its index);
the page size bounds the work either way.
"""
from __future__ import annotations

import base64
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from shared.geo.h3index import query_cells, viewport_geometry
from shared.problems import Problem

MAX_SQUARE_DEGREES = 400.0  # a continent; beyond that the map shows no single order anyway
H3_MAX_SQUARE_DEGREES = 4.0  # ~1,300 cells at resolution 6: a few ms to list
DEFAULT_LIMIT, MAX_LIMIT = 100, 500

BBox = tuple[float, float, float, float]


def parse_viewport(bbox: str) -> BBox:
    """``minLon,minLat,maxLon,maxLat``; minLon > maxLon crosses the antimeridian."""
    try:
        west, south, east, north = (float(v) for v in bbox.split(","))
    except ValueError:
        raise Problem(422, "validation_error", f"bbox {bbox[:80]!r} must be minLon,minLat,maxLon,maxLat",
                      errors=[{"field": "bbox", "message": "four comma-separated numbers"}]) from None
    if not all(math.isfinite(v) for v in (west, south, east, north)) or not (
            -180 <= west <= 180 and -180 <= east <= 180 and -90 <= south < north <= 90):
        raise Problem(422, "validation_error", "bbox must hold longitudes within -180..180 and latitudes within "
                                               "-90..90 with minLat < maxLat",
                      errors=[{"field": "bbox", "message": "minLon,minLat,maxLon,maxLat in degrees"}])
    return west, south, east, north


def square_degrees(west: float, south: float, east: float, north: float) -> float:
    width = east - west if west <= east else 360.0 - (west - east)
    return width * (north - south)


def encode_cursor(row: Mapping[str, Any]) -> str:
    raw = f"{row['created_at'].isoformat()}|{row['id']}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ts, ident = raw.split("|", 1)
        return datetime.fromisoformat(ts), uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError):
        raise Problem(422, "invalid_cursor", "cursor is not one this service issued; start again without it",
                      errors=[{"field": "cursor", "message": "a next_cursor from an earlier page"}]) from None


@dataclass(frozen=True)
class Viewport:
    """A checked viewport: its bounds, its geometry, and the H3 cells that pre-filter it (None: the
    bbox columns do, the viewport being too large to list its cells)."""

    bbox: BBox
    geometry: BaseGeometry
    cells: list[str] | None

    @property
    def prefilter(self) -> str:
        return "h3" if self.cells is not None else "bbox"


def viewport(bbox: str) -> Viewport:
    """The viewport of a ``bbox`` query parameter; a 422 for one that is malformed or too large."""
    west, south, east, north = parse_viewport(bbox)
    area = square_degrees(west, south, east, north)
    if area > MAX_SQUARE_DEGREES:
        raise Problem(422, "viewport_too_large", f"the viewport spans {area:,.0f} square degrees, more than "
                                                 f"{MAX_SQUARE_DEGREES:,.0f}; zoom in",
                      limit=MAX_SQUARE_DEGREES, actual=area)
    view = viewport_geometry(west, south, east, north)
    return Viewport((west, south, east, north), view, query_cells(view) if area <= H3_MAX_SQUARE_DEGREES else None)


def meets(footprints: Sequence[str], view: BaseGeometry) -> list[bool]:
    """Whether each footprint (GeoJSON text) meets the viewport, in one vectorised test."""
    if not footprints:
        return []
    shapes = shapely.from_geojson(np.array(list(footprints), dtype=object), on_invalid="ignore")
    return [bool(hit) for hit in shapely.intersects(shapes, view)]
