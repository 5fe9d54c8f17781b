"""The global tile grid, version 1 (docs/domain.md, The grid): pure math usable by every service.

Tiles are 51.2 km squares and minitiles 3.2 km squares (16 x 16 per tile) in each UTM zone's
metres, anchored at easting 0 / northing 0, clipped to the zone band widened by 0.25 degree each
side, latitudes -80..84.  See ``cells`` for the GUID bit layout and the readable code.
"""

from shared.grid.cells import (
    GRID_VERSION,
    MINITILE_SIZE_M,
    MINITILES_PER_TILE,
    TILE_SIZE_M,
    CellId,
    Level,
    cell_from_key,
    parse_zone_label,
    zone_epsg,
    zone_label,
)
from shared.grid.cover import Cover, ZoneCover, cover
from shared.grid.errors import GridError, GridErrorCode
from shared.grid.geometry import (
    GridCell,
    cell_area_km2,
    cell_footprint,
    children,
    clipped_square_utm,
    decode_guid,
    describe,
    is_in_grid,
    is_whole,
    parent,
    parse_cell,
    parse_code,
)

__all__ = [
    "GRID_VERSION",
    "MINITILE_SIZE_M",
    "MINITILES_PER_TILE",
    "TILE_SIZE_M",
    "CellId",
    "Cover",
    "GridCell",
    "GridError",
    "GridErrorCode",
    "Level",
    "ZoneCover",
    "cell_area_km2",
    "cell_footprint",
    "cell_from_key",
    "children",
    "clipped_square_utm",
    "cover",
    "decode_guid",
    "describe",
    "is_in_grid",
    "is_whole",
    "parent",
    "parse_cell",
    "parse_code",
    "parse_zone_label",
    "zone_epsg",
    "zone_label",
]
