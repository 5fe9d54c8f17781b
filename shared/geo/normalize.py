"""Normalisation to the stored form: EPSG:4326, 2D, lon/lat, closed rings, exterior rings
counter-clockwise and holes clockwise (RFC 7946 §3.1.6), parts crossing the antimeridian split
at ±180° (RFC 7946 §3.1.9).

Everything here is vectorised over arrays of shapely geometries; Python loops run per part
only where a part needs special treatment (an antimeridian crossing), never per vertex.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TypeVar

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from .errors import CRS_UNKNOWN, AoiError

_WGS84 = CRS.from_epsg(4326)

# one geometry or an array of them: orient_polygons keeps the shape of what it is given
G = TypeVar("G", BaseGeometry, np.ndarray)


@lru_cache(maxsize=64)
def _transformer(crs_text: str) -> Transformer | None:
    """A transformer to lon/lat WGS84, or None when the CRS already is WGS84 lon/lat."""
    try:
        crs = CRS.from_user_input(crs_text)
    except (CRSError, ValueError, TypeError) as exc:
        raise AoiError(CRS_UNKNOWN, f"The declared coordinate reference system {crs_text[:80]!r} "
                                    f"is not known ({str(exc)[:120]}); declare an EPSG code, e.g. "
                                    f"SRID=4326;... or a standard .prj.",
                       where={"crs": crs_text[:200]}) from None
    if crs.is_geographic and crs.equals(_WGS84, ignore_axis_order=True):
        return None
    if crs.is_geographic and crs.ellipsoid and crs.datum and crs.datum.name in (
            "World Geodetic System 1984", "WGS_1984", "D_WGS_1984"):
        return None
    try:
        return Transformer.from_crs(crs, _WGS84, always_xy=True)
    except Exception as exc:
        raise AoiError(CRS_UNKNOWN, f"Cannot transform from {crs.name!r} to WGS84 "
                                    f"({str(exc)[:120]}).", where={"crs": crs.to_string()[:200]}) \
            from None


def to_wgs84(geoms: np.ndarray, crs: str | None) -> np.ndarray:
    """Reproject an array of geometries from ``crs`` (None = already WGS84 lon/lat) to
    EPSG:4326 lon/lat, dropping Z/M."""
    geoms = shapely.force_2d(geoms)
    if not crs:
        return geoms
    tr = _transformer(crs)
    if tr is None:
        return geoms

    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1], errcheck=False)
        return np.column_stack([x, y])

    out: np.ndarray = shapely.transform(geoms, fn)
    coords = shapely.get_coordinates(out)
    if not np.isfinite(coords).all():
        raise AoiError(CRS_UNKNOWN, f"Some coordinates cannot be reprojected from "
                                    f"{CRS.from_user_input(crs).name!r} to WGS84: they lie outside "
                                    f"that CRS's valid area. Check that the declared CRS (.prj or "
                                    f"SRID) is the one the coordinates are in.",
                       where={"crs": str(crs)[:200]})
    return out


# --- antimeridian --------------------------------------------------------------------------


def crossing_mask(parts: np.ndarray) -> np.ndarray:
    """True for parts with an edge jumping more than 180° of longitude, i.e. parts drawn across
    the antimeridian in RFC 7946 style (e.g. 179 → -179)."""
    polys, pidx = shapely.get_parts(parts, return_index=True)
    rings, ridx = shapely.get_rings(polys, return_index=True)
    coords, cidx = shapely.get_coordinates(rings, return_index=True)
    if len(coords) < 2:
        return np.zeros(len(parts), dtype=bool)
    # an edge from -180 to 180 runs along the antimeridian itself (a plate carrée box drawn
    # round the whole globe), it does not jump across it
    on_seam = (np.abs(coords[:-1, 0]) == 180.0) & (np.abs(coords[1:, 0]) == 180.0)
    jump = (np.abs(np.diff(coords[:, 0])) > 180.0) & (cidx[1:] == cidx[:-1]) & ~on_seam
    mask = np.zeros(len(parts), dtype=bool)
    if jump.any():
        ring_hit = cidx[1:][jump]
        mask[pidx[ridx[ring_hit]]] = True
    return mask


def _unwrap_ring(coords: np.ndarray) -> np.ndarray:
    dx = np.diff(coords[:, 0])
    shift = np.concatenate([[0.0], np.cumsum(np.where(dx > 180, -360.0,
                                                      np.where(dx < -180, 360.0, 0.0)))])
    out = coords.copy()
    out[:, 0] += shift
    return out


def _unwrap_polygon(poly: shapely.Polygon) -> shapely.Polygon:
    ext = _unwrap_ring(shapely.get_coordinates(poly.exterior))
    holes = [_unwrap_ring(shapely.get_coordinates(r)) for r in poly.interiors]
    # Bring holes next to the exterior (they may have been unwrapped by a different 360°).
    centre = ext[:, 0].mean()
    holes = [h + [360.0 * round((centre - h[:, 0].mean()) / 360.0), 0] for h in holes]
    out = shapely.Polygon(ext, holes)
    return out


def _rejoin_split(geom: BaseGeometry) -> BaseGeometry:
    """A part already split at ±180 (touching both -180 and 180): move the western pieces
    east by 360° and merge, which gives back the unwrapped part."""
    pieces = []
    for p in shapely.get_parts(geom):
        if p.bounds[2] <= 0.0 and p.bounds[0] <= -180.0 + 1e-12:
            p = shapely.transform(p, lambda xy: xy + [360.0, 0.0])
        pieces.append(p)
    merged = shapely.union_all(pieces)
    return merged


def _shift_x(geom: shapely.Geometry, dx: float) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: xy + [dx, 0.0])



SNAP_DEGREES = 1e-9  # float noise past ±180 / ±90 (reprojection round-trips) is snapped onto it


def snap_limits(parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates at most SNAP_DEGREES past ±180 longitude or ±90 latitude moved onto the limit
    (``180.00000000000006`` is 180). Returns ``(parts, snapped)`` with a mask of changed parts."""
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    over_x = np.abs(coords[:, 0]) - 180.0
    over_y = np.abs(coords[:, 1]) - 90.0
    hair = ((over_x > 0) & (over_x <= SNAP_DEGREES)) | ((over_y > 0) & (over_y <= SNAP_DEGREES))
    snapped = np.zeros(len(parts), dtype=bool)
    if not hair.any():
        return parts, snapped
    snapped[np.unique(cidx[hair])] = True

    def fn(xy: np.ndarray) -> np.ndarray:
        out = xy.copy()
        for k, lim in ((0, 180.0), (1, 90.0)):
            v = out[:, k]
            near = (np.abs(v) > lim) & (np.abs(v) <= lim + SNAP_DEGREES)
            v[near] = np.sign(v[near]) * lim
        return out

    out = parts.copy()
    out[snapped] = shapely.transform(parts[snapped], fn)
    return out, snapped


def fold_longitudes(parts: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parts drawn on a web map that repeats the world (Leaflet gives 170 ... 190, or a whole
    part at 370 ... 380) moved by whole turns of 360° so their west edge lies in -180 ... 180;
    one that still reaches past 180 crosses the antimeridian in unwrapped form.

    ``candidates`` are the parts out of ±180; a part is folded when it is continuous (no edge
    jumps 180° or more), narrower than a full turn and within ±540. Returns ``(parts, folded)``.
    """
    bounds = shapely.bounds(parts)
    fold = (candidates & (bounds[:, 0] >= -540.0) & (bounds[:, 2] <= 540.0)
            & (bounds[:, 2] - bounds[:, 0] < 360.0) & ~crossing_mask(parts))
    if not fold.any():
        return parts, fold
    out = parts.copy()
    for i in np.flatnonzero(fold).tolist():
        turns = math.floor((bounds[i, 0] + 180.0) / 360.0)
        if turns:
            out[i] = _shift_x(parts[i], -360.0 * turns)
    return out, fold


def close_round_pole(parts: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Polygons whose exterior ring runs once all the way round the globe (as drawn on a globe
    around a pole: 0, 90, 180, -90, 0 at 75° N) closed through the pole they enclose, the one of
    their own hemisphere, in unwrapped form (longitudes x0 ... x0 + 360). Without this such a
    ring reads as a self-intersection, or collapses to nothing when repaired.

    Returns ``(parts, pole)``: pole is +1 (North Pole), -1 (South Pole) or 0 per part."""
    pole = np.zeros(len(parts), dtype=np.int8)
    out = parts
    for i in np.flatnonzero(candidates).tolist():
        polys = list(shapely.get_parts(parts[i]))
        changed = False
        for k, poly in enumerate(polys):
            ext = _unwrap_ring(shapely.get_coordinates(poly.exterior))
            turn = ext[-1, 0] - ext[0, 0]
            if abs(turn) < 180.0:
                continue
            lat = 90.0 if ext[:, 1].mean() >= 0 else -90.0
            ring = np.vstack([ext[:-1], [[ext[-1, 0], ext[-1, 1]], [ext[-1, 0], lat],
                                         [ext[0, 0], lat], ext[0]]])
            if ring[:, 0].min() < -180.0:
                ring[:, 0] += 360.0
            polys[k] = shapely.Polygon(ring)
            pole[i] = 1 if lat > 0 else -1
            changed = True
        if changed:
            if out is parts:
                out = parts.copy()
            out[i] = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    return out, pole


def unwrap(parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parts with longitudes made continuous where they cross the antimeridian.

    Returns ``(parts, crossing)``; an unwrapped part may have longitudes beyond ±180. Parts
    that were split at ±180 by a previous normalisation are merged back, so normalising twice
    gives the same result.
    """
    crossing = crossing_mask(parts)
    bounds = shapely.bounds(parts)
    presplit = (~crossing & (bounds[:, 0] <= -180.0) & (bounds[:, 2] >= 180.0)
                & (shapely.get_type_id(parts) == 6))
    if not crossing.any() and not presplit.any():
        return parts, crossing
    out = parts.copy()
    for i in np.flatnonzero(crossing):
        polys = [_unwrap_polygon(p) for p in shapely.get_parts(parts[i])]
        if len(polys) > 1:
            # Bring every polygon of a MultiPolygon next to the first one.
            c0 = polys[0].centroid.x
            polys = [polys[0]] + [_shift_x(p, 360.0 * round((c0 - p.centroid.x) / 360.0)) for p in polys[1:]]
            out[i] = shapely.MultiPolygon(polys)
        else:
            out[i] = polys[0]
    for i in np.flatnonzero(presplit):
        merged = _rejoin_split(parts[i])
        if shapely.get_type_id(merged) == 3 or shapely.get_num_geometries(merged) < \
                shapely.get_num_geometries(parts[i]):
            out[i] = merged if shapely.get_type_id(merged) in (3, 6) else parts[i]
            crossing[i] = True
    return out, crossing


def wrap_bounds(bounds: tuple[float, float, float, float]) -> list[float]:
    """RFC 7946 §5.2 bbox of an unwrapped part: west > east when it crosses the antimeridian."""
    minx, miny, maxx, maxy = bounds

    def w(x: float) -> float:
        return ((x + 180.0) % 360.0) - 180.0 if (x < -180.0 or x > 180.0) else x

    if maxx - minx >= 360.0 - SNAP_DEGREES:  # all the way round (RFC 7946 §5.3)
        return [-180.0, miny, 180.0, maxy]
    return [w(minx), miny, w(maxx), maxy]


_WORLD = shapely.box(-180.0, -90.0, 180.0, 90.0)


def split_antimeridian(geom: BaseGeometry) -> BaseGeometry:
    """Cut an unwrapped part at ±180° and shift the pieces into [-180, 180]."""
    minx, _, maxx, _ = geom.bounds
    if minx >= -180.0 and maxx <= 180.0:
        return geom
    pieces: list[BaseGeometry] = []
    for shift in (-360.0, 0.0, 360.0):
        window = shapely.box(-180.0 + shift, -90.0, 180.0 + shift, 90.0)
        piece = shapely.intersection(geom, window, grid_size=None)
        if piece.is_empty:
            continue
        if shift:
            piece = shapely.transform(piece, lambda xy, s=shift: xy - [s, 0.0])
        pieces.extend(p for p in shapely.get_parts(piece)
                      if shapely.get_type_id(p) == 3 and not p.is_empty)
    # Snap the cut edges exactly onto ±180 (the shift can leave 1e-13 residue).
    fixed = []
    for p in pieces:
        fixed.append(shapely.transform(p, _snap_180))
    return orient(shapely.MultiPolygon(fixed))


def _snap_180(xy: np.ndarray) -> np.ndarray:
    x = xy[:, 0]
    x[np.abs(x - 180.0) < 1e-9] = 180.0
    x[np.abs(x + 180.0) < 1e-9] = -180.0
    return xy


def orient(geoms: G) -> G:
    """Exterior rings counter-clockwise, holes clockwise (RFC 7946)."""
    oriented: G = shapely.orient_polygons(geoms, exterior_cw=False)
    return oriented
