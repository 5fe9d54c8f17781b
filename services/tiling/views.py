"""Response shapes of the tiling service: JSON-ready dicts built from grid cells and domain results.

Cells are answered as ``{guid, code, zone, epsg, footprint, area_km2, level}``
(docs/domain.md, Shared vocabulary); ``footprints=false`` leaves the footprint out, for long listings.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.tiling.domain import (
    MINITILE_FACTOR,
    POLYGON_FACTOR,
    TILE_FACTOR,
    Deduplication,
    OptimisedCover,
    Selection,
)
from services.tiling.domain.coverage import MapCell
from shared.grid import CellId, Cover, ZoneCover, cell_area_km2, cell_from_key, describe


def cell_dict(cell: CellId, *, footprint: bool = True) -> dict[str, Any]:
    if footprint:
        out = describe(cell).as_dict()
    else:
        out = {"guid": cell.guid, "code": cell.code, "zone": cell.label, "epsg": cell.epsg,
               "area_km2": cell_area_km2(cell)}
    out["level"] = "tile" if cell.is_tile else "minitile"
    return out


def cell_with_tile(cell: CellId) -> dict[str, Any]:
    """One cell on its own; a minitile names its tile."""
    out = cell_dict(cell)
    if not cell.is_tile:
        out["tile"] = cell.parent.guid
    return out


def minitiles(tile: CellId, cells: Iterable[CellId]) -> dict[str, Any]:
    return {"tile": tile.guid, "tiles": [], "minitiles": [cell_dict(c) for c in cells]}


def listing(zone_covers: Iterable[ZoneCover], footprints: bool) -> list[dict[str, Any]]:
    """The cells of a grid cover, each with its share of the AOI."""
    out = []
    for zc in zone_covers:
        for key, share in zip(zc.keys.tolist(), zc.share.tolist(), strict=True):
            d = cell_dict(cell_from_key(key), footprint=footprints)
            d["share"] = share
            out.append(d)
    return out


def search(tiles: Cover, minis: Cover | None, source: str, footprints: bool) -> dict[str, Any]:
    """A search answer from the tile cover and (when asked) the minitile cover of the AOI."""
    return {
        "tiles": listing(tiles.zones, footprints),
        "minitiles": listing(minis.zones, footprints) if minis is not None else [],
        "aoi_km2": tiles.aoi_km2,
        "aoi_source": source,
        "zones": sorted({z.label for z in tiles.zones}),
    }


def selection(sel: Selection, footprints: bool) -> dict[str, Any]:
    return {
        "tiles": [cell_dict(c, footprint=footprints) for c in sel.tiles],
        "minitiles": [cell_dict(c, footprint=footprints) for c in sel.minitiles],
        "warnings": [{"code": w.code, "message": w.message, **({"cell": w.cell} if w.cell else {}),
                      "count": w.count} for w in sel.warnings],
        "tiles_km2": sel.tiles_km2,
        "minitiles_km2": sel.minitiles_km2,
        "total_km2": sel.total_km2,
    }


def optimised(result: OptimisedCover, source: str, footprints: bool) -> dict[str, Any]:
    return {
        "tiles": [cell_dict(c, footprint=footprints) for c in result.tiles],
        "minitiles": [cell_dict(c, footprint=footprints) for c in result.minitiles],
        "tile_guids": [c.guid for c in result.tiles],
        "minitile_guids": [c.guid for c in result.minitiles],
        "tiles_km2": result.tiles_km2,
        "minitiles_km2": result.minitiles_km2,
        "polygon_km2": result.polygon_km2,
        "uncovered_km2": result.uncovered_km2,
        "cost_polygon_km2": result.cost_polygon_km2,
        "cost_factor": result.cost_factor,
        "polygon_is_cheaper": result.polygon_is_cheaper,
        "factors": {"polygon": POLYGON_FACTOR, "tile": TILE_FACTOR, "minitile": MINITILE_FACTOR},
        "aoi_source": source,
    }


def preview(result: Deduplication, given: dict[int, str]) -> dict[str, Any]:
    """What of a proposed grid item is owned; cells named as the caller sent them (``given`` by key)."""
    return {
        "owned": [{"guid": given[o.cell.key], "dates": [d.isoformat() for d in o.owned]}
                  for o in result.outcomes if o.owned],
        "owned_pairs": result.owned_pairs,
        "requested_pairs": result.requested_pairs,
        "to_buy_pairs": result.to_buy_pairs,
        "warnings": [w.message for w in result.warnings],
    }


def map_cells(cells: Iterable[MapCell], footprints: bool) -> list[dict[str, Any]]:
    """The coverage map's cells: each with its model, constellations, status, dates, orders and checkouts."""
    out = []
    for c in cells:
        d = cell_dict(cell_from_key(c.key), footprint=footprints)
        d.update(model=c.model, constellations=c.constellations.split(",") if c.constellations else [],
                 status=c.status, dates=[x.isoformat() for x in c.dates], order_ids=sorted(c.order_ids),
                 checkout_ids=sorted(c.checkout_ids))
        out.append(d)
    return out


# ------------------------------------------------------------------------------ OpenAPI shapes
# Documentation of the answers above (the routes answer with the dicts, not through these models).

class Cell(BaseModel):
    """A tile or minitile: GUID, readable code, UTM zone, EPSG, footprint (GeoJSON polygon; left out with
    ``footprints=false``) and area."""

    model_config = ConfigDict(extra="allow")
    guid: str
    code: str
    zone: str
    epsg: int
    footprint: dict[str, Any] | None = None
    area_km2: float
    level: Literal["tile", "minitile"]
    tile: str | None = Field(None, description="a minitile's tile (single cells)")
    share: float | None = Field(None, description="the cell's share of the AOI (searches)")


class SearchBody(BaseModel):
    tiles: list[Cell]
    minitiles: list[Cell]
    aoi_km2: float
    aoi_source: str
    zones: list[str]


class SelectionWarning(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str
    message: str
    cell: str | None = None
    count: int | None = None


class SelectionBody(BaseModel):
    """A selection normalised: duplicates removed, minitiles of selected tiles folded in."""

    tiles: list[Cell]
    minitiles: list[Cell]
    warnings: list[SelectionWarning]
    tiles_km2: float
    minitiles_km2: float
    total_km2: float


class OptimisedBody(BaseModel):
    """The cheapest tiles + minitiles cover of a polygon, and its cost next to polygon pricing."""

    tiles: list[Cell]
    minitiles: list[Cell]
    tile_guids: list[str]
    minitile_guids: list[str]
    tiles_km2: float
    minitiles_km2: float
    polygon_km2: float
    uncovered_km2: float
    cost_polygon_km2: float
    cost_factor: float
    polygon_is_cheaper: bool
    factors: dict[str, float]
    aoi_source: str


class MinitilesBody(BaseModel):
    tile: str
    tiles: list[Cell]
    minitiles: list[Cell]


class OwnedCell(BaseModel):
    guid: str
    dates: list[str]


class PreviewBody(BaseModel):
    """Which (cell, date) pairs the account already owns, and what is left to buy."""

    owned: list[OwnedCell]
    owned_pairs: int
    requested_pairs: int
    to_buy_pairs: int
    warnings: list[str]


class CoverageCell(Cell):
    model: str
    constellations: list[str]
    status: str
    dates: list[str]
    order_ids: list[str]
    checkout_ids: list[str]


class CoverageBody(BaseModel):
    """The account's owned and reserved cells in a viewport (at most the first ``cells``; ``count`` all)."""

    cells: list[CoverageCell]
    count: int
    truncated: bool
