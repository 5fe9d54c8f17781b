"""Optimise: the cheapest mix of tiles and minitiles covering a polygon AOI (docs/domain.md, The grid).

Prices are compared in "polygon km²": km² times the mode factor (polygon 1.00, tile 0.20,
minitile 0.50), so the model rate, tiers and dates cancel out.  Per tile, the whole tile costs
0.20 x its (clipped) area and its needed minitiles 0.50 x the sum of their areas; the cheaper one
wins (a tie goes to the whole tile: one cell, same price).  For a whole tile that means more than
102.4 of its 256 minitiles needed -> buy the tile.

Overlap strips: each part of the AOI is covered by the grid of the zone whose own 6 degree band it
lies in, so nothing is bought twice; when that zone is switched off, a neighbour's overlap strip
covers what it can, and the rest is reported as ``uncovered_km2``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from shared.grid import CellId, Level, cell_area_km2, cell_from_key, is_whole
from shared.grid.cover import (
    cell_keys,
    geodesic_area_m2,
    normalise_aoi,
    piece_to_utm,
    rasterise,
    zone_pieces,
)
from shared.grid.zones import LAT_MAX, LAT_MIN, central_meridian

POLYGON_FACTOR = 1.00
TILE_KM2 = 2621.44
MINITILE_KM2 = 10.24
TILE_FACTOR = 0.20
MINITILE_FACTOR = 0.50


@dataclass(frozen=True)
class TileChoice:
    """What was decided for one tile the AOI touches."""

    tile: CellId
    minitiles: tuple[CellId, ...]  # the minitiles of this tile the AOI needs
    tile_km2: float
    minitiles_km2: float
    whole_tile: bool

    @property
    def tile_cost(self) -> float:
        """Polygon km²: 0.20 x the tile's (clipped) area."""
        return TILE_FACTOR * self.tile_km2

    @property
    def minitiles_cost(self) -> float:
        """Polygon km²: 0.50 x the needed minitiles' areas."""
        return MINITILE_FACTOR * self.minitiles_km2


@dataclass(frozen=True)
class OptimisedCover:
    tiles: tuple[CellId, ...]
    minitiles: tuple[CellId, ...]
    tiles_km2: float
    minitiles_km2: float
    polygon_km2: float  # geodesic AOI area, what polygon mode would bill (before its 0.5 km² minimum)
    uncovered_km2: float  # AOI area no enabled zone grid can cover
    choices: tuple[TileChoice, ...]

    @property
    def cost_polygon_km2(self) -> float:
        """Grid cost in polygon km²: tiles_km2 x 0.20 + minitiles_km2 x 0.50."""
        return TILE_FACTOR * self.tiles_km2 + MINITILE_FACTOR * self.minitiles_km2

    @property
    def cost_factor(self) -> float:
        """Grid cost relative to polygon pricing of the AOI (below 1.0 = the grid is cheaper)."""
        return self.cost_polygon_km2 / (POLYGON_FACTOR * self.polygon_km2) if self.polygon_km2 else 0.0

    @property
    def polygon_is_cheaper(self) -> bool:
        return self.cost_factor > 1.0


def _own_region(piece: BaseGeometry, zone: int, enabled_here: set[int]) -> BaseGeometry:
    """The part of a zone's widened piece that this zone is responsible for: minus the own 6 degree
    bands of enabled neighbours (expressed in this zone's longitude frame)."""
    lon0 = central_meridian(zone)
    for step, neighbour in ((-6.0, zone - 1 or 60), (6.0, zone % 60 + 1)):
        if neighbour in enabled_here:
            c = lon0 + step
            piece = shapely.difference(piece, shapely.box(c - 3.0, LAT_MIN, c + 3.0, LAT_MAX))
    return piece


def optimise(aoi: BaseGeometry, zones: Iterable[str | int] | None = None) -> OptimisedCover:
    """The cheapest tiles + minitiles cover of a polygon AOI (EPSG:4326) at the mode factors.

    ``zones``: the dashboard's zone toggles (labels such as ``"33N"`` or zone numbers).
    """
    geom = shapely.clip_by_rect(normalise_aoi(aoi), -180.0, LAT_MIN, 180.0, LAT_MAX)
    aoi_m2 = geodesic_area_m2(geom)
    pieces = list(zone_pieces(geom, zones))
    enabled: dict[bool, set[int]] = {}
    for zone, south, _ in pieces:
        enabled.setdefault(south, set()).add(zone)

    choices: list[TileChoice] = []
    covered_m2 = 0.0
    for zone, south, piece in pieces:
        region = _own_region(piece, zone, enabled[south])
        if region.is_empty or region.area <= 0:
            continue
        covered_m2 += geodesic_area_m2(region)
        cols, rows, _ = rasterise(piece_to_utm(region, zone, south), Level.MINITILE.size_m)
        if not len(cols):
            continue
        keys = np.sort(cell_keys(zone, south, Level.MINITILE, cols, rows))
        families = keys >> 9
        starts = np.flatnonzero(np.r_[True, families[1:] != families[:-1]])
        ends = np.r_[starts[1:], len(keys)]
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            minis = tuple(cell_from_key(int(k)) for k in keys[s:e])
            tile = minis[0].parent
            if is_whole(tile):
                tile_km2, minis_km2 = TILE_KM2, MINITILE_KM2 * len(minis)
            else:
                tile_km2 = cell_area_km2(tile)
                minis_km2 = sum(cell_area_km2(m) for m in minis)
            whole = TILE_FACTOR * tile_km2 <= MINITILE_FACTOR * minis_km2
            choices.append(TileChoice(tile, minis, tile_km2, minis_km2, whole_tile=whole))

    tiles = tuple(c.tile for c in choices if c.whole_tile)
    minitiles = tuple(m for c in choices if not c.whole_tile for m in c.minitiles)
    return OptimisedCover(
        tiles=tiles,
        minitiles=minitiles,
        tiles_km2=sum(c.tile_km2 for c in choices if c.whole_tile),
        minitiles_km2=sum(c.minitiles_km2 for c in choices if not c.whole_tile),
        polygon_km2=aoi_m2 / 1e6,
        uncovered_km2=max(aoi_m2 - covered_m2, 0.0) / 1e6,
        choices=tuple(choices),
    )
