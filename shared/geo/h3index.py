"""H3 cell index of an AOI, for "which AOIs intersect this geometry / viewport" queries.

Resolution: 6 (mean cell ≈ 36 km², edge ≈ 3.7 km). AOIs range from 0.5 km² fields to the
1,000,000 km² per-item limit: at resolution 6 a field touches 1–3 cells (plus the safety ring)
and the largest allowed AOI about 28,000 before compaction (a few hundred after), so both the
index and the per-AOI work stay small. Finer resolutions would blow up large AOIs; coarser ones
would make the pre-filter useless for field-sized AOIs in a city-sized viewport.

Covering (never misses an intersecting AOI): H3 "overlap" containment (every cell whose
boundary overlaps the polygon) plus the ring of neighbours around those cells. The ring absorbs
the small differences between H3's spherical cell edges and the lon/lat-planar polygon edges,
and cells that merely touch at a shared boundary point. Stored AOIs keep that dilated covering
compacted; a query uses the plain overlap covering of the query geometry at the same
resolution, expanded with every ancestor so that compacted (coarser) stored cells match:

    candidate  <=>  stored_cells && query_cells_with_ancestors

The H3 pre-filter gives candidates; :func:`intersects_exactly` confirms them with shapely.
"""

from __future__ import annotations

from typing import Any, Iterable

import h3
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

RESOLUTION = 6


def _polygons(geom: BaseGeometry) -> list[shapely.Polygon]:
    out = []
    for g in shapely.get_parts(geom):
        if shapely.get_type_id(g) == 7:
            out.extend(_polygons(g))
        elif shapely.get_type_id(g) == 6:
            out.extend(shapely.get_parts(g))
        elif shapely.get_type_id(g) == 3 and not g.is_empty:
            out.append(g)
    return out


def overlap_cells(geom: BaseGeometry, res: int = RESOLUTION) -> set[str]:
    """Cells at ``res`` whose area overlaps any polygon of ``geom`` (lon/lat, parts already
    split at ±180)."""
    cells: set[str] = set()
    for poly in _polygons(geom):
        shape = h3.geo_to_h3shape(mapping(poly))
        cells.update(h3.h3shape_to_cells_experimental(shape, res, contain="overlap"))
        # A polygon smaller than a cell may be missed by a boundary test: add its vertices' cells.
        for x, y in list(poly.exterior.coords)[:: max(1, len(poly.exterior.coords) // 64)]:
            cells.add(h3.latlng_to_cell(y, x, res))
    return cells


def aoi_cells(geom: BaseGeometry, res: int = RESOLUTION) -> list[str]:
    """The stored covering of an AOI: overlap cells plus their neighbour ring, compacted,
    sorted (deterministic)."""
    core = overlap_cells(geom, res)
    dilated: set[str] = set(core)
    for c in core:
        dilated.update(h3.grid_disk(c, 1))
    return sorted(h3.compact_cells(list(dilated)))


def query_cells(geom: BaseGeometry, res: int = RESOLUTION) -> list[str]:
    """Cells to look up for a query geometry: its overlap cells at ``res`` and all their
    ancestors (resolutions 0..res-1), sorted."""
    cells = overlap_cells(geom, res)
    out: set[str] = set(cells)
    for c in cells:
        for r in range(res):
            out.add(h3.cell_to_parent(c, r))
    return sorted(out)


def may_intersect(stored: Iterable[str], query: Iterable[str]) -> bool:
    """The pre-filter, as the database runs it (array overlap)."""
    return not set(stored).isdisjoint(query)


def intersects_exactly(aoi: BaseGeometry, query: BaseGeometry) -> bool:
    """Exact confirmation of an H3 candidate."""
    return bool(shapely.intersects(aoi, query))


def viewport_geometry(west: float, south: float, east: float, north: float) -> BaseGeometry:
    """A map viewport as a geometry; ``west > east`` means it crosses the antimeridian."""
    if west <= east:
        return shapely.box(west, south, east, north)
    return shapely.MultiPolygon([shapely.box(west, south, 180.0, north),
                                 shapely.box(-180.0, south, east, north)])


def h3_summary(geom: BaseGeometry, res: int = RESOLUTION) -> dict[str, Any]:
    """Index facts carried by ``AoiRegistered`` and stored with the AOI."""
    cells = aoi_cells(geom, res)
    return {"resolution": res, "cells": cells,
            "cell_count": len(h3.uncompact_cells(cells, res)) if cells else 0}
