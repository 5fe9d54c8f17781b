"""Geometry of single cells: validity, clipped area, footprint in EPSG:4326, children."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from shapely.affinity import translate
from shapely.geometry import MultiPolygon, Polygon, box, mapping
from shapely.geometry.base import BaseGeometry

from shared.grid.cells import (
    MINITILE_SIZE_M,
    MINITILES_PER_SIDE,
    MINITILES_PER_TILE,
    CellId,
    decode_guid_fields,
    parse_code_fields,
)
from shared.grid.errors import GridError, GridErrorCode
from shared.grid.zones import band_lonlat, band_utm, to_lonlat, unwrap_lon

# Footprint edges are sampled every 800 m in zone metres: the straight lon/lat chords between
# samples then stay within ~0.1 m of the true (curved) UTM edge even at 84 N (1 m is the promise).
FOOTPRINT_STEP_M = 800


@lru_cache(maxsize=65536)
def _clipped_square(south: bool, bounds: tuple[int, int, int, int]) -> tuple[bool, Polygon | None]:
    """``(whole, polygon)``: the square clipped to the zone band in zone metres.

    ``whole`` is True when the square lies inside the band; ``polygon`` is None when the square
    does not overlap the band with positive area (no such cell).
    """
    band = band_utm(south)
    square = box(*bounds)
    if band.contains_properly(square):
        return True, square
    bx0, by0, bx1, by1 = band.bounds
    x0, y0, x1, y1 = bounds
    if x1 <= bx0 or x0 >= bx1 or y1 <= by0 or y0 >= by1:
        return False, None
    local = shapely.clip_by_rect(band, x0 - 1, y0 - 1, x1 + 1, y1 + 1)
    piece = shapely.intersection(local, square)
    if piece.is_empty or piece.area <= 0:
        return False, None
    return False, piece


def is_in_grid(cell: CellId) -> bool:
    """True when the cell's square overlaps its widened zone band with positive area."""
    return _clipped_square(cell.south, cell.bounds_utm)[1] is not None


def is_whole(cell: CellId) -> bool:
    """True when the cell is not clipped by its zone band."""
    return _clipped_square(cell.south, cell.bounds_utm)[0]


def _require_in_grid(cell: CellId) -> Polygon:
    whole, poly = _clipped_square(cell.south, cell.bounds_utm)
    if poly is None:
        raise GridError(
            GridErrorCode.OUT_OF_GRID,
            f"{cell.code} lies outside the band of zone {cell.label} "
            "(the 6 degree zone widened by 0.25 degree each side, latitudes -80..84); no such cell",
        )
    return poly


def cell_area_km2(cell: CellId) -> float:
    """Planar area in the cell's own UTM zone of its (clipped) square, km².

    2,621.44 for a whole tile, 10.24 for a whole minitile, less at zone-band edges.
    """
    poly = _require_in_grid(cell)
    if is_whole(cell):
        size = cell.level.size_m
        return size * size / 1e6
    return float(poly.area) / 1e6


def clipped_square_utm(cell: CellId) -> Polygon:
    """The cell's square clipped to its zone band, in zone metres."""
    return _require_in_grid(cell)


def _square_ring(bounds: tuple[int, int, int, int], step: int) -> tuple[np.ndarray, np.ndarray]:
    """Densified counter-clockwise ring of a square; vertices are exact integer metres so that
    neighbouring cells (and a tile and its minitiles) produce bit-identical shared vertices."""
    x0, y0, x1, y1 = bounds
    n = (x1 - x0) // step
    up = np.arange(n) * step
    xs = np.concatenate([x0 + up, np.full(n, x1), x1 - up, np.full(n, x0), [x0]])
    ys = np.concatenate([np.full(n, y0), y0 + up, np.full(n, y1), y1 - up, [y0]])
    return xs.astype(np.float64), ys.astype(np.float64)


def _split_antimeridian(geom: BaseGeometry) -> BaseGeometry:
    """Bring parts beyond +-180 back into range (only zones 1 and 60 have such parts)."""
    minx, _, maxx, _ = geom.bounds
    if minx >= -180.0 and maxx <= 180.0:
        return geom
    parts = [shapely.clip_by_rect(geom, -180.0, -90.0, 180.0, 90.0)]
    if minx < -180.0:
        parts.append(translate(shapely.clip_by_rect(geom, -540.0, -90.0, -180.0, 90.0), 360.0))
    if maxx > 180.0:
        parts.append(translate(shapely.clip_by_rect(geom, 180.0, -90.0, 540.0, 90.0), -360.0))
    polys = [p for part in parts for p in shapely.get_parts(part) if isinstance(p, Polygon) and p.area > 0]
    return MultiPolygon(polys)


def cell_footprint(cell: CellId) -> Polygon | MultiPolygon:
    """Footprint in EPSG:4326 (lon, lat), clipped to the widened zone band, exterior CCW.

    Edges are densified so that the curved UTM square is right to within 1 m.  Cells of zones 1
    and 60 that reach over the antimeridian come back as a MultiPolygon split at +-180.
    """
    whole, _ = _clipped_square(cell.south, cell.bounds_utm)
    _require_in_grid(cell)
    xs, ys = _square_ring(cell.bounds_utm, FOOTPRINT_STEP_M)
    lon, lat = to_lonlat(cell.zone, cell.south).transform(xs, ys)
    lon = unwrap_lon(lon, cell.zone)
    poly: BaseGeometry = Polygon(np.column_stack([lon, lat]))
    if not whole:
        poly = shapely.intersection(poly, box(*band_lonlat(cell.zone, cell.south)))
        poly = shapely.normalize(poly) if poly.geom_type not in ("Polygon", "MultiPolygon") else poly
    poly = _split_antimeridian(poly)
    return shapely.orient_polygons(poly, exterior_cw=False)


def children(tile: CellId) -> list[CellId]:
    """The tile's minitiles: all 256, or at a band edge only those whose clipped footprint is not
    empty.  Ordered by minitile index."""
    if not tile.is_tile:
        raise GridError(GridErrorCode.WRONG_LEVEL, f"{tile.code} is a minitile; only tiles have minitiles")
    tile_poly = _require_in_grid(tile)
    if is_whole(tile):
        return [tile.minitile_at(i) for i in range(MINITILES_PER_TILE)]
    x0, y0, _, _ = tile.bounds_utm
    idx = np.arange(MINITILES_PER_TILE)
    r, c = np.divmod(idx, MINITILES_PER_SIDE)
    boxes = shapely.box(x0 + c * MINITILE_SIZE_M, y0 + r * MINITILE_SIZE_M,
                        x0 + (c + 1) * MINITILE_SIZE_M, y0 + (r + 1) * MINITILE_SIZE_M)
    keep = shapely.area(shapely.intersection(tile_poly, boxes)) > 0
    return [tile.minitile_at(int(i)) for i in idx[keep]]


def parent(minitile: CellId) -> CellId:
    """The tile holding a minitile."""
    return minitile.parent


def decode_guid(guid: str | uuid.UUID) -> CellId:
    """Decode and validate a tile or minitile GUID.

    GridError codes: MALFORMED (not a grid GUID, corrupted), UNSUPPORTED_VERSION, OUT_OF_GRID
    (no such zone, or the cell lies outside its zone band).
    """
    cell = decode_guid_fields(guid)
    _require_in_grid(cell)
    return cell


def parse_code(code: str) -> CellId:
    """Parse and validate a readable code such as ``33N-C0012-R0107-M137``."""
    cell = parse_code_fields(code)
    _require_in_grid(cell)
    return cell


def parse_cell(text: str) -> CellId:
    """A GUID or a readable code, validated."""
    # codes carry the hemisphere letter; hex GUIDs never contain N or S
    if isinstance(text, str) and not text.lower().startswith("urn:uuid:") and any(ch in "NSns" for ch in text):
        return parse_code(text)
    return decode_guid(text)


@dataclass(frozen=True)
class GridCell:
    """A cell as the API shows it (docs/domain.md, Shared vocabulary: field names via ``as_dict``)."""

    cell: CellId
    footprint: Polygon | MultiPolygon
    area_km2: float

    @property
    def guid(self) -> str:
        return self.cell.guid

    @property
    def code(self) -> str:
        return self.cell.code

    @property
    def zone(self) -> str:
        return self.cell.label

    @property
    def epsg(self) -> int:
        return self.cell.epsg

    def as_dict(self) -> dict[str, Any]:
        return {
            "guid": self.guid,
            "code": self.code,
            "zone": self.zone,
            "epsg": self.epsg,
            "footprint": mapping(self.footprint),
            "area_km2": self.area_km2,
        }


def describe(cell: CellId) -> GridCell:
    """GUID, code, zone label, EPSG, footprint and area of one cell."""
    return GridCell(cell=cell, footprint=cell_footprint(cell), area_km2=cell_area_km2(cell))
