"""Overlap queries: parse the query geometry (WKT, GeoJSON or a map viewport) and plan the
pre-filter (H3 cells, or the stored bbox columns for very large query areas). Pure."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from shared.geo import measure
from shared.geo.h3index import query_cells, viewport_geometry


class QueryError(ValueError):
    """A query geometry we cannot use: ``code`` is stable, the message says what to send."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def parse_bbox(text: str) -> BaseGeometry:
    """``minLon,minLat,maxLon,maxLat`` (a map viewport; minLon > maxLon crosses the antimeridian)."""
    try:
        w, s, e, n = (float(v) for v in text.split(","))
    except ValueError:
        raise QueryError("invalid_bbox", f"bbox {text[:80]!r} is not four numbers "
                                         "minLon,minLat,maxLon,maxLat") from None
    if not all(math.isfinite(v) for v in (w, s, e, n)):
        raise QueryError("invalid_bbox", "bbox values must be finite numbers")
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s < n <= 90) or w == e:
        raise QueryError("invalid_bbox", f"bbox {w},{s},{e},{n} is not a viewport: longitudes must lie in "
                                         "-180..180 (minLon > maxLon crosses the antimeridian), latitudes "
                                         "in -90..90 with minLat < maxLat")
    return viewport_geometry(w, s, e, n)


def parse_geometry(value: str | dict[str, Any], *, max_vertices: int) -> BaseGeometry:
    """A query geometry from WKT or GeoJSON (a Geometry, Feature or FeatureCollection), lon/lat."""
    try:
        if isinstance(value, dict):
            geom = _from_geojson(value)
        else:
            text = value.strip()
            if text.startswith("{"):
                geom = _from_geojson(json.loads(text))
            else:
                if text.upper().startswith("SRID="):
                    text = text.split(";", 1)[1]
                geom = shapely.from_wkt(text)
    except QueryError:
        raise
    except Exception as exc:
        raise QueryError("invalid_query_geometry",
                         f"the query geometry is neither WKT nor GeoJSON ({str(exc)[:120]})") from None
    if geom is None or geom.is_empty:
        raise QueryError("invalid_query_geometry", "the query geometry is empty")
    n = shapely.get_num_coordinates(geom)
    if n > max_vertices:
        raise QueryError("query_geometry_too_complex",
                         f"the query geometry has {n:,} vertices, over the limit of {max_vertices:,}; "
                         "simplify it or query by bbox")
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        raise QueryError("invalid_query_geometry", "the query geometry has a NaN or infinite coordinate")
    if (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any():
        raise QueryError("invalid_query_geometry",
                         "the query geometry has a coordinate outside longitude ±180 / latitude ±90; "
                         "send longitude first, in degrees (EPSG:4326)")
    if not shapely.is_valid(geom):
        geom = shapely.make_valid(geom)
    return geom


def _from_geojson(doc: dict[str, Any]) -> BaseGeometry:
    if not isinstance(doc, dict):
        raise QueryError("invalid_query_geometry", "the GeoJSON query must be an object")
    typ = str(doc.get("type", ""))
    if typ == "Feature":
        return _from_geojson(doc.get("geometry") or {})
    if typ == "FeatureCollection":
        return shapely.GeometryCollection([_from_geojson(f) for f in doc.get("features") or []])
    return shapely.from_geojson(json.dumps(doc))


@dataclass(frozen=True)
class QueryPlan:
    geometry: BaseGeometry
    bbox: tuple[float, float, float, float]
    cells: list[str] | None  # None: pre-filter by the bbox columns instead of the H3 index


def plan(geom: BaseGeometry, *, h3_max_km2: float) -> QueryPlan:
    """H3 cells (with ancestors) for the pre-filter, unless the query's bounding box is larger
    than ``h3_max_km2`` (then the stored bbox columns pre-filter; exact confirmation follows
    either way)."""
    w, s, e, n = (float(v) for v in shapely.bounds(geom))
    bounds = (w, s, e, n)
    bbox_km2 = measure.bbox_area_m2((w, s, e, n)) / 1e6 if e > w and n > s else 0.0
    if bbox_km2 > h3_max_km2:
        return QueryPlan(geom, bounds, None)
    # The H3 covering reads polygons only: points and lines are looked up through a thin buffer
    # around them (about a metre; it contains them, so the covering stays a superset).
    polygonal = shapely.get_type_id(geom) in (3, 6) or all(
        shapely.get_type_id(g) in (3, 6) for g in shapely.get_parts(geom))
    cells = query_cells(geom if polygonal else shapely.buffer(geom, 1e-5, quad_segs=2))
    return QueryPlan(geom, bounds, cells)
