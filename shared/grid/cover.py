"""Which cells of the grid does an AOI overlap? Fast, exact, per zone.

Method: the AOI is clipped (exactly, in lon/lat) to each candidate zone's widened band, its edges
are densified to ~1 km (edges of an EPSG:4326 polygon are straight in lon/lat, RFC 7946), it
is transformed once into the zone's metres and intersected with the band polygon there.  Then the
regular square lattice is rasterised in one vectorised pass:

* every boundary edge is split where it crosses a grid line, so each piece lies in one cell;
  a cell holding a piece of boundary overlaps the AOI (pieces lying exactly on a grid line go to
  the side the AOI's interior is on);
* the overlap area of every cell follows from Green's theorem on the row strip:
  ``area(P ∩ cell) = Σ_pieces in cell (x̄ − x_cell) Δy  +  size · Σ_pieces east of the cell Δy``
  (exterior rings counter-clockwise), which also tells whole interior cells (area = size²) from
  outside ones (0) between boundary cells, so the interior is filled by interval.

Cost is O(boundary vertices + grid-line crossings + cells) with no per-cell geometry calls.

A cell is in the cover when its overlap with the AOI has positive area (above ``MIN_OVERLAP_M2``,
0.01 m², which absorbs reprojection rounding): a cell that only touches the AOI along an edge or at
a corner is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pyproj
import shapely
from shapely.affinity import translate
from shapely.geometry import GeometryCollection, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from shared.grid.cells import (
    GRID_VERSION,
    MINITILES_PER_SIDE,
    CellId,
    Level,
    cell_from_key,
    guid_of_key,
    parse_zone_label,
    zone_epsg,
    zone_label,
)
from shared.grid.errors import GridError, GridErrorCode
from shared.grid.zones import LAT_MAX, LAT_MIN, band_lonlat, band_utm, to_utm, zones_for_lon_range

# AOI edges longer than this (metres, approximately) get intermediate points before projection:
# over 1 km a straight lon/lat edge and a straight UTM edge differ by < 0.2 m.  Cell footprints
# (sampled every 800 m) are not re-split, so a footprint used as an AOI maps back onto its grid
# lines to within nanometres.
AOI_DENSIFY_M = 1_000.0
_M_PER_DEG = 111_320.0
_GEOD = pyproj.Geod(ellps="WGS84")
# Boundary pieces shorter than this (in cell units) are rounding debris from a grid corner.
_MIN_PIECE = 1e-9
# Overlaps below this are reprojection rounding (an AOI drawn on a grid line comes back from
# lon/lat a few nanometres off it), not coverage: a 10 m pixel is 100 m².
MIN_OVERLAP_M2 = 0.01


@dataclass(frozen=True)
class ZoneCover:
    """Cells of one zone grid overlapping the AOI.

    ``keys`` are ``CellId.key`` values (sorted); ``overlap_m2`` the planar area in zone metres of
    AOI ∩ cell; ``share`` that overlap as a fraction of the whole AOI's area (see ``cover``).
    """

    zone: int
    south: bool
    level: Level
    keys: np.ndarray
    overlap_m2: np.ndarray
    share: np.ndarray

    @property
    def label(self) -> str:
        return zone_label(self.zone, self.south)

    @property
    def epsg(self) -> int:
        return zone_epsg(self.zone, self.south)

    def __len__(self) -> int:
        return len(self.keys)

    def cells(self) -> list[CellId]:
        return [cell_from_key(int(k)) for k in self.keys]

    def guids(self) -> list[str]:
        return [guid_of_key(k) for k in self.keys.tolist()]


@dataclass(frozen=True)
class Cover:
    """The cover of an AOI at one level, one entry per zone grid that overlaps it."""

    level: Level
    aoi_km2: float  # geodesic area of the AOI (WGS84) within latitudes -80..84
    zones: tuple[ZoneCover, ...]

    def __len__(self) -> int:
        return sum(len(z) for z in self.zones)

    def cells(self) -> list[CellId]:
        return [c for z in self.zones for c in z.cells()]

    def shares(self) -> dict[CellId, float]:
        return {c: float(s) for z in self.zones for c, s in zip(z.cells(), z.share, strict=True)}


# -- input normalisation ------------------------------------------------------------------------


def normalise_aoi(aoi: BaseGeometry) -> BaseGeometry:
    """Polygonal parts of ``aoi`` (EPSG:4326, lon first) dissolved into one valid geometry."""
    if not isinstance(aoi, BaseGeometry):
        raise GridError(GridErrorCode.INVALID_GEOMETRY, "the AOI must be a shapely geometry in EPSG:4326")
    parts = [p for p in shapely.get_parts(aoi) if isinstance(p, (Polygon, MultiPolygon))]
    if isinstance(aoi, GeometryCollection):
        parts = [q for p in parts for q in shapely.get_parts(p)]
    polys = [p for p in parts if not p.is_empty]
    if not polys:
        raise GridError(
            GridErrorCode.INVALID_GEOMETRY,
            f"the AOI has no polygonal part (got {aoi.geom_type}); send Polygons or MultiPolygons",
        )
    for p in polys:
        if not p.is_valid:
            raise GridError(
                GridErrorCode.INVALID_GEOMETRY,
                f"the AOI polygon is invalid ({shapely.is_valid_reason(p)}); validate it with the AOI service first",
            )
    merged = shapely.union_all(polys) if len(polys) > 1 else polys[0]
    minx, miny, maxx, maxy = merged.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise GridError(
            GridErrorCode.INVALID_GEOMETRY,
            f"AOI coordinates {merged.bounds} are outside lon -180..180 / lat -90..90; "
            "projected metres without a CRS, or swapped axes?",
        )
    return merged


def _wanted_zones(zones: Iterable[str | int] | None) -> tuple[set[int], set[tuple[int, bool]]] | None:
    if zones is None:
        return None
    whole, exact = set(), set()
    for z in zones:
        if isinstance(z, int) and not isinstance(z, bool):
            if not 1 <= z <= 60:
                raise GridError(GridErrorCode.MALFORMED, f"zone {z} does not exist (1..60)")
            whole.add(z)
        else:
            exact.add(parse_zone_label(str(z)))
    return whole, exact


def zone_pieces(
    aoi: BaseGeometry, zones: Iterable[str | int] | None = None
) -> Iterator[tuple[int, bool, BaseGeometry]]:
    """Yield ``(zone, south, piece_lonlat)``: the AOI clipped exactly to each widened zone band it
    meets (longitudes of the piece may pass +-180 for zones 1 and 60)."""
    wanted = _wanted_zones(zones)
    minx, miny, maxx, maxy = aoi.bounds
    hemis = [s for s, (lo, hi) in ((False, (0.0, LAT_MAX)), (True, (LAT_MIN, 0.0))) if miny < hi and maxy > lo]
    for zone in zones_for_lon_range(minx, maxx):
        for south in hemis:
            if wanted is not None and zone not in wanted[0] and (zone, south) not in wanted[1]:
                continue
            rect = band_lonlat(zone, south)
            pieces = []
            for shift in (0.0, -360.0, 360.0):
                if shift and not (rect[0] < -180.0 if shift < 0 else rect[2] > 180.0):
                    continue
                src = aoi if not shift else translate(aoi, shift)
                piece = shapely.clip_by_rect(src, *rect)
                if not piece.is_empty and piece.area > 0:
                    pieces.append(piece)
            if pieces:
                piece = pieces[0] if len(pieces) == 1 else shapely.union_all(pieces)
                yield zone, south, piece


def geodesic_area_m2(geom: BaseGeometry) -> float:
    return sum(abs(_GEOD.geometry_area_perimeter(p)[0]) for p in shapely.get_parts(geom))


def _densify_ring(xy: np.ndarray) -> np.ndarray:
    dlon = np.diff(xy[:, 0])
    dlat = np.diff(xy[:, 1])
    coslat = np.cos(np.radians((xy[:-1, 1] + xy[1:, 1]) / 2))
    length = _M_PER_DEG * np.hypot(dlon * coslat, dlat)
    n = np.maximum(np.ceil(length / AOI_DENSIFY_M), 1).astype(np.int64)
    if (n == 1).all():
        return xy
    seg = np.repeat(np.arange(len(n)), n)
    frac = (np.arange(len(seg)) - np.repeat(np.cumsum(n) - n, n)) / n[seg]
    pts = xy[:-1][seg] + (xy[1:] - xy[:-1])[seg] * frac[:, None]
    return np.vstack([pts, xy[-1:]])


def densify_lonlat(geom: BaseGeometry) -> BaseGeometry:
    """Add points to polygon edges longer than ~``AOI_DENSIFY_M`` metres (lon/lat-linear)."""
    polys = []
    for p in shapely.get_parts(geom):
        if not isinstance(p, Polygon):
            continue
        shell = _densify_ring(np.asarray(p.exterior.coords)[:, :2])
        holes = [_densify_ring(np.asarray(r.coords)[:, :2]) for r in p.interiors]
        polys.append(Polygon(shell, holes))
    return MultiPolygon(polys) if len(polys) != 1 else polys[0]


def piece_to_utm(piece_lonlat: BaseGeometry, zone: int, south: bool) -> BaseGeometry:
    """Densify in lon/lat, transform into zone metres, clip to the band polygon, orient CCW."""
    dense = densify_lonlat(piece_lonlat)
    t = to_utm(zone, south)

    def _xy(c: np.ndarray) -> np.ndarray:
        x, y = t.transform(c[:, 0], c[:, 1])
        return np.column_stack([x, y])

    utm = shapely.transform(dense, _xy)
    if not utm.is_valid:
        utm = shapely.make_valid(utm)
    x0, y0, x1, y1 = utm.bounds
    band = shapely.clip_by_rect(band_utm(south), x0 - 1, y0 - 1, x1 + 1, y1 + 1)
    clipped = shapely.intersection(utm, band)
    polys = [p for p in shapely.get_parts(clipped) if isinstance(p, Polygon) and p.area > 0]
    if not polys:
        return Polygon()
    return shapely.orient_polygons(MultiPolygon(polys), exterior_cw=False)


# -- the lattice rasteriser -----------------------------------------------------------------------


def _grid_crossings(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For segments a->b along one axis: (segment index, integer value) of every grid line strictly
    between the ends."""
    lo = np.floor(np.minimum(a, b))
    hi = np.ceil(np.maximum(a, b))
    n = np.maximum(hi - lo - 1, 0).astype(np.int64)
    seg = np.repeat(np.arange(len(a)), n)
    first = np.repeat(np.cumsum(n) - n, n)
    k = np.repeat(lo + 1, n) + (np.arange(len(seg)) - first)
    return seg, k


def rasterise(geom_utm: BaseGeometry, size: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells of a square lattice of ``size`` metres (anchored at 0, 0) overlapping a polygonal
    geometry with positive area.

    ``geom_utm`` must be valid with exterior rings counter-clockwise and holes clockwise.
    Returns ``(cols, rows, overlap_m2)``.
    """
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    if geom_utm.is_empty:
        return empty
    rings = shapely.get_rings(shapely.get_parts(geom_utm))
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    if len(coords) < 2:
        return empty
    u = coords[:, 0] / size
    v = coords[:, 1] / size
    same = ring_idx[1:] == ring_idx[:-1]
    u0, v0, u1, v1 = u[:-1][same], v[:-1][same], u[1:][same], v[1:][same]
    du, dv = u1 - u0, v1 - v0

    # Split every segment at the grid lines it crosses; crossing points sit exactly on the line.
    sx, kx = _grid_crossings(u0, u1)
    sy, ky = _grid_crossings(v0, v1)
    tx = (kx - u0[sx]) / du[sx]
    ty = (ky - v0[sy]) / dv[sy]
    nseg = len(u0)
    seg = np.concatenate([np.arange(nseg), np.arange(nseg), sx, sy])
    t = np.concatenate([np.zeros(nseg), np.ones(nseg), tx, ty])
    pu = np.concatenate([u0, u1, kx.astype(float), u0[sy] + ty * du[sy]])
    pv = np.concatenate([v0, v1, v0[sx] + tx * dv[sx], ky.astype(float)])
    order = np.lexsort((t, seg))
    seg, pu, pv = seg[order], pu[order], pv[order]
    ok = seg[1:] == seg[:-1]
    a_u, a_v, b_u, b_v = pu[:-1][ok], pv[:-1][ok], pu[1:][ok], pv[1:][ok]
    p_du, p_dv = b_u - a_u, b_v - a_v
    keep = (np.abs(p_du) + np.abs(p_dv)) > _MIN_PIECE
    a_u, a_v, p_du, p_dv = a_u[keep], a_v[keep], p_du[keep], p_dv[keep]
    mu, mv = a_u + p_du / 2, a_v + p_dv / 2
    col = np.floor(mu).astype(np.int64)
    row = np.floor(mv).astype(np.int64)
    local = (mu - col) * p_dv

    # Membership: a piece lying on a grid line belongs to the cell on its interior (left) side.
    on_vline_up = (p_du == 0) & (mu == col) & (p_dv > 0)
    on_hline_west = (p_dv == 0) & (mv == row) & (p_du < 0)
    mcol = col - on_vline_up
    mrow = row - on_hline_west

    col_base = min(col.min(), mcol.min()) - 1
    row_base = min(row.min(), mrow.min()) - 1
    width = int(max(col.max(), mcol.max()) - col_base + 2)

    def _key(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        keys: np.ndarray = (r - row_base) * width + (c - col_base)
        return keys

    ekeys, inv = np.unique(_key(row, col), return_inverse=True)
    e_local = np.bincount(inv, weights=local, minlength=len(ekeys))
    e_dv = np.bincount(inv, weights=p_dv, minlength=len(ekeys))
    e_row = ekeys // width
    csum = np.cumsum(e_dv)
    starts = np.flatnonzero(np.r_[True, e_row[1:] != e_row[:-1]])
    lengths = np.diff(np.r_[starts, len(ekeys)])
    before_row = np.repeat(csum[starts] - e_dv[starts], lengths)
    prefix = csum - before_row  # Σ dv of entries in the row up to and including this one
    row_total = np.repeat(np.add.reduceat(e_dv, starts), lengths)
    east_of = row_total - prefix  # Σ dv strictly east of this entry's cell
    e_area = e_local + east_of

    # Whole interior cells between two boundary cells of a row: area of the gap cells is east_of.
    nxt_same = np.r_[e_row[1:] == e_row[:-1], False]
    gap_len = np.where(nxt_same, np.r_[ekeys[1:], 0] - ekeys - 1, 0)
    fill = (gap_len > 0) & (east_of > 0.5)
    g_len = gap_len[fill]
    g_first = np.repeat(ekeys[fill] + 1, g_len)
    g_keys = g_first + (np.arange(g_len.sum()) - np.repeat(np.cumsum(g_len) - g_len, g_len))

    m_keys = np.unique(_key(mrow, mcol))
    keys = np.union1d(m_keys, g_keys)

    # Overlap of each chosen cell from the entry table.
    pos = np.searchsorted(ekeys, keys, side="right") - 1  # last entry at or west of the cell
    valid = pos >= 0
    pos_c = np.clip(pos, 0, None)
    same_row = valid & (e_row[pos_c] == keys // width)
    exact = same_row & (ekeys[pos_c] == keys)
    # no entry at/west in this row: everything in the row is east of the cell
    first_in_row = np.searchsorted(ekeys, (keys // width) * width, side="left")
    fir_c = np.clip(first_in_row, 0, len(ekeys) - 1)
    row_has = (first_in_row < len(ekeys)) & (e_row[fir_c] == keys // width)
    area = np.where(exact, e_area[pos_c], np.where(same_row, east_of[pos_c], np.where(row_has, row_total[fir_c], 0.0)))
    area = np.clip(area, 0.0, 1.0) * (size * size)
    keys, area = keys[area > MIN_OVERLAP_M2], area[area > MIN_OVERLAP_M2]
    rows = keys // width + row_base
    cols = keys % width + col_base
    return cols.astype(np.int64), rows.astype(np.int64), area


def cell_keys(zone: int, south: bool, level: Level, cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
    base = (GRID_VERSION << 40) | (zone << 34) | (int(south) << 33)
    keys: np.ndarray
    if level is Level.TILE:
        keys = base | (cols << 21) | (rows << 9)
        return keys
    tc, c = np.divmod(cols, MINITILES_PER_SIDE)
    tr, r = np.divmod(rows, MINITILES_PER_SIDE)
    keys = base | (tc << 21) | (tr << 9) | (1 << 8) | (r * MINITILES_PER_SIDE + c)
    return keys


def cover(
    aoi: BaseGeometry,
    level: Level = Level.MINITILE,
    zones: Iterable[str | int] | None = None,
) -> Cover:
    """The exact set of ``level`` cells whose (clipped) square overlaps ``aoi`` with positive area.

    ``aoi``: Polygon / MultiPolygon / GeometryCollection in EPSG:4326 (lon, lat); non-polygonal
    members of a collection are ignored.  ``zones``: optional zone filter (the dashboard's
    toggles), labels like ``"33N"`` or zone numbers (both hemispheres).

    Each zone grid is reported on its own, so a point in an overlap strip is covered once per zone.
    ``share`` is the cell's overlap as a fraction of the whole AOI's geodesic area: the planar
    overlap in zone metres is converted with the ratio geodesic/planar area of the AOI's piece in
    that zone, so within one zone the shares add up to the fraction of the AOI in its band.
    """
    geom = normalise_aoi(aoi)
    geom = shapely.clip_by_rect(geom, -180.0, LAT_MIN, 180.0, LAT_MAX)
    aoi_m2 = geodesic_area_m2(geom) if not geom.is_empty else 0.0
    out = []
    size = level.size_m
    for zone, south, piece in zone_pieces(geom, zones):
        utm = piece_to_utm(piece, zone, south)
        if utm.is_empty:
            continue
        cols, rows, overlap = rasterise(utm, size)
        if not len(cols):
            continue
        keys = cell_keys(zone, south, level, cols, rows)
        order = np.argsort(keys)
        keys, overlap = keys[order], overlap[order]
        planar_to_geodesic = geodesic_area_m2(piece) / utm.area
        share = overlap * planar_to_geodesic / aoi_m2
        out.append(ZoneCover(zone, south, level, keys, overlap, share))
    return Cover(level=level, aoi_km2=aoi_m2 / 1e6, zones=tuple(out))
