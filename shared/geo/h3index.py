"""H3 cell index of an AOI, for "which AOIs intersect this geometry / viewport" queries.

Resolution: 6 (mean cell ≈ 36 km², edge ≈ 3.7 km). AOIs range from 0.5 km² fields to the
1,000,000 km² per-item limit: at resolution 6 a field touches 1–3 cells (plus the safety ring)
and the largest allowed AOI about 28,000 before compaction (a few hundred after), so both the
index and the per-AOI work stay small. Finer resolutions would blow up large AOIs; coarser ones
would make the pre-filter useless for field-sized AOIs in a city-sized viewport.

Covering (never misses an intersecting AOI): every cell whose boundary overlaps the polygon,
plus the ring of neighbours around those cells. The ring absorbs the small differences between
H3's spherical cell edges and the lon/lat-planar polygon edges, and cells that merely touch at a
shared boundary point. Stored AOIs keep that dilated covering compacted; a query uses the plain
overlap covering of the query geometry at the same resolution, expanded with every ancestor so
that compacted (coarser) stored cells match:

    candidate  <=>  stored_cells && query_cells_with_ancestors

The H3 pre-filter gives candidates; :func:`intersects_exactly` confirms them with shapely.

A stored AOI's overlap cells are found top-down (:func:`cover_cells`): the cells of each
resolution from 0 to 6 that come near any polygon, found with one STRtree query per
resolution, and only their children looked at next. Its cost follows the AOI's extent in cells
(at most ~30,000 at resolution 6 for the largest allowed area), not its number of polygons:
H3's own polygon fill costs ~0.25 ms per polygon however small, so a legal MultiPolygon of
200,000 triangles took minutes that way. Query geometries (one viewport, a few polygons) keep
H3's fill (:func:`overlap_cells`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import h3
import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

RESOLUTION = 6


def _polygons(geom: BaseGeometry) -> list[shapely.Polygon]:
    parts = shapely.get_parts(geom)
    out = []
    while len(parts):
        types = shapely.get_type_id(parts)
        out.extend(parts[(types == 3) & ~shapely.is_empty(parts)])
        parts = shapely.get_parts(parts[(types == 6) | (types == 7)])
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


# Descendants of a cell reach beyond its boundary by at most ~1.6 child edges (the series
# e(r+1) + e(r+2) + ... with e shrinking by sqrt 7), and edges vary about 2x over the globe:
# a parent is kept while it lies within 4 average child edges of a polygon. At the last
# resolution a tenth of an edge absorbs planar-versus-spherical cell edges.
_DESCENDANT_REACH = 4.0
_FINAL_SLACK = 0.1
_M_PER_DEG = 111_320.0
_FEW_POLYGONS, _FEW_VERTICES = 16, 2_000
_MAX_COS_LAT = 85.0  # AOIs end at 84 N / 80 S; nearer the poles a degree of longitude is ~0


def _cell_shapes(cells: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Planar lon/lat polygons of ``cells`` (a cell across the antimeridian as its two copies
    either side of it), and which cells wind around a pole (no planar polygon; kept untested)."""
    rings = [h3.cell_to_boundary(c) for c in cells]
    sizes = np.fromiter((len(b) for b in rings), dtype=np.int64, count=len(rings))
    latlng = np.array([p for b in rings for p in b], dtype=float).reshape(-1, 2)
    which = np.repeat(np.arange(len(cells)), sizes)
    lon = latlng[:, 1]
    span = np.maximum.reduceat(lon, np.r_[0, np.cumsum(sizes)[:-1]]) - \
        np.minimum.reduceat(lon, np.r_[0, np.cumsum(sizes)[:-1]])
    shapes = np.empty(len(cells), dtype=object)
    polar = np.zeros(len(cells), dtype=bool)
    plain = span <= 180.0
    sel = plain[which]
    if sel.any():
        rank = np.cumsum(plain) - 1
        shapes[plain] = shapely.polygons(shapely.linearrings(latlng[sel][:, ::-1],
                                                             indices=rank[which[sel]]))
    for i in np.flatnonzero(~plain):
        b = np.asarray(rings[i])[:, ::-1]
        shifted = np.column_stack([np.where(b[:, 0] < 0, b[:, 0] + 360.0, b[:, 0]), b[:, 1]])
        if np.ptp(shifted[:, 0]) > 180.0:
            polar[i] = True
            continue
        shapes[i] = shapely.MultiPolygon([shapely.Polygon(shifted),
                                          shapely.Polygon(shifted - [360.0, 0.0])])
    return shapes, polar


def _near(cells: list[str], geoms: np.ndarray, metres: float) -> list[str]:
    """The cells whose polygon lies within ``metres`` of one of ``geoms`` (pole cells kept).
    The cells go into the tree and each geometry is prepared once, so a polygon of many
    vertices is not re-read per cell. A cell holding a geometry's first vertex is a hit
    without a distance test (in a dense AOI, nearly all of them)."""
    if not cells:
        return []
    shapes, polar = _cell_shapes(cells)
    hit = polar.copy()
    idx = np.flatnonzero(~polar)
    if not len(idx):
        return [c for c, h in zip(cells, hit, strict=True) if h]
    firsts = shapely.get_point(shapely.get_exterior_ring(geoms), 0)
    tree = shapely.STRtree(shapes[idx])
    _, inside = tree.query(firsts, predicate="intersects")
    hit[idx[inside]] = True
    idx = np.flatnonzero(~hit)
    if len(idx):
        bounds = shapely.bounds(geoms)
        lat = np.abs(bounds[:, 1::2]).max(axis=1) + metres / _M_PER_DEG
        dist = metres / (_M_PER_DEG * np.cos(np.radians(np.minimum(lat, _MAX_COS_LAT))))
        # near the antimeridian a cell may lie just across it: also look from the other side
        west = bounds[:, 0] - dist < -180.0
        east = bounds[:, 2] + dist > 180.0
        geoms = np.concatenate([geoms, shapely.transform(geoms[west], lambda c: c + [360.0, 0.0]),
                                shapely.transform(geoms[east], lambda c: c - [360.0, 0.0])])
        dist = np.concatenate([dist, dist[west], dist[east]])
        _, found = shapely.STRtree(shapes[idx]).query(geoms, predicate="dwithin", distance=dist)
        hit[idx[found]] = True
    return [c for c, h in zip(cells, hit, strict=True) if h]


def _proxies(bounds: np.ndarray, step: float) -> np.ndarray:
    """Boxes that contain the polygons with these bounds, snapped outward to a ``step``-degree
    grid and deduplicated: far fewer shapes to test a coarse cell against than the polygons,
    and never nearer to a cell than the polygons they stand for."""
    grid = np.hstack([np.floor(bounds[:, :2] / step), np.floor(bounds[:, 2:] / step) + 1])
    # one int64 per box, 14 bits a coordinate: the finest step (~0.067 degree) needs 13
    offset = np.int64(1 << 13)
    packed = np.zeros(len(grid), dtype=np.int64)
    for k in range(4):
        packed = (packed << 14) | (grid[:, k].astype(np.int64) + offset)
    _, first = np.unique(packed, return_index=True)
    keys = grid[first] * step
    boxes: np.ndarray = shapely.box(keys[:, 0], keys[:, 1], keys[:, 2], keys[:, 3])
    return boxes


def cover_cells(geom: BaseGeometry, res: int = RESOLUTION) -> set[str]:
    """Cells at ``res`` that overlap any polygon of ``geom`` (a superset of
    :func:`overlap_cells`), found top-down: each resolution's cells near a polygon, then only
    their children. Cost follows the extent in cells, not the number of polygons."""
    polys = np.asarray(_polygons(geom) + [None], dtype=object)[:-1]
    if not len(polys):
        return set()
    bounds = shapely.bounds(polys)
    cells = sorted(h3.get_res0_cells())
    for r in range(res):
        reach = _DESCENDANT_REACH * h3.average_hexagon_edge_length(r + 1, unit="m")
        kept = _near(cells, _proxies(bounds, reach / (2 * _M_PER_DEG)), reach)
        cells = sorted({ch for c in kept for ch in h3.cell_to_children(c, r + 1)})
    final = _near(cells, polys, _FINAL_SLACK * h3.average_hexagon_edge_length(res, unit="m"))
    near_pole = float(np.abs(bounds[:, 1::2]).max()) > 89.0
    poles = {h3.latlng_to_cell(90.0, 0.0, res), h3.latlng_to_cell(-90.0, 0.0, res)}
    return {c for c in final if near_pole or c not in poles}


def aoi_cells(geom: BaseGeometry, res: int = RESOLUTION) -> list[str]:
    """The stored covering of an AOI: overlap cells plus their neighbour ring, compacted,
    sorted (deterministic)."""
    # H3's fill is quicker for a handful of simple polygons (a field, a box); both give a
    # superset of the same overlap cells
    few = len(_polygons(geom)) <= _FEW_POLYGONS and shapely.get_num_coordinates(geom) <= _FEW_VERTICES
    core = overlap_cells(geom, res) if few else cover_cells(geom, res)
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
