"""HTTP routes of the tiling service: thin (parse, call the grid, the domain or a use case, answer).

Cells are answered as ``{guid, code, zone, epsg, footprint, area_km2}`` (docs/domain.md, Shared vocabulary),
plus ``share`` in a search. Grid errors name the GUID and why: 422 for a malformed GUID, an
unknown grid version or the wrong level, 404 for a well-formed GUID of a cell that does not exist.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar, cast

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from shapely.geometry.base import BaseGeometry

from services.tiling import usecases, views
from services.tiling.domain import DateSet, InvalidSelection, LedgerKey, optimise, resolve_selection
from services.tiling.domain.area import tiles_spanned, viewport_geometry
from services.tiling.domain.coverage import families_of_keys
from services.tiling.domain.errors import InvalidBbox
from services.tiling.domain.optimise import TILE_KM2
from services.tiling.settings import TilingSettings
from shared.auth import Principal, current_principal
from shared.grid import CellId, GridError, GridErrorCode, Level, children, cover, parse_cell
from shared.http import answers
from shared.inputs import Id, Text
from shared.problems import Problem

router = APIRouter(prefix="/v1/tiles", tags=["tiling"])
coverage_router = APIRouter(prefix="/v1/coverage", tags=["coverage"])

T = TypeVar("T")


def _alias(*names: str) -> Any:
    return AliasChoices(*names)


# ---------------------------------------------------------------------------------------- helpers


def grid_problem(exc: GridError, field: str, value: object) -> Problem:
    """404 for a cell that does not exist, 422 for everything else; names the value and why."""
    status = 404 if exc.code is GridErrorCode.OUT_OF_GRID else 422
    return Problem(status, f"grid_{exc.code.value}", f"{field} {value!s}: {exc.message}",
                   errors=[{"field": field, "value": str(value), "code": exc.code.value, "message": exc.message}])


def _settings(request: Request) -> TilingSettings:
    return cast(TilingSettings, request.app.state.rt.settings)


def _check_size(settings: TilingSettings, n: int, footprints: bool, hint: str) -> None:
    cap = settings.max_footprint_cells if footprints else settings.max_cells
    if n > cap:
        if footprints:
            what = (f"at most {cap:,} cells are listed with footprints; send footprints=false to list up to "
                    f"{settings.max_cells:,} cells without geometry")
        else:
            what = f"at most {cap:,} cells are listed"
        raise Problem(422, "too_many_cells", f"the answer would hold {n:,} cells; {what}, {hint}",
                      cells=n, limit=cap)


def _run_grid(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Grid calls raise GridError for an unusable AOI or zone filter: a 422 saying why."""
    try:
        return fn(*args, **kwargs)
    except GridError as exc:
        raise Problem(422, f"grid_{exc.code.value}", exc.message) from None


def _errors_problem(code: str, errors: list[dict[str, Any]]) -> Problem:
    """A 422 naming the first of several refused entries (all of them in ``errors``)."""
    first = errors[0]
    more = f" (and {len(errors) - 1} more, see errors)" if len(errors) > 1 else ""
    return Problem(422, code, f"{first['field']} {first['value']}: {first['message']}{more}", errors=errors)


class AoiFields(BaseModel):
    """An AOI given as exactly one of wkt, geojson, aoi_id or bbox."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    wkt: Text | None = Field(None, validation_alias=_alias("wkt", "Wkt"))
    geojson: dict[str, Any] | Text | None = Field(None, validation_alias=_alias("geojson", "GeoJson", "GeoJSON"))
    aoi_id: Id | None = Field(None, validation_alias=_alias("aoi_id", "AoiId"))
    bbox: list[float] | None = Field(None, validation_alias=_alias("bbox", "Bbox"))
    zones: list[str] | None = Field(None, validation_alias=_alias("zones", "Zones"))
    footprints: bool = True


async def aoi_geometry(request: Request, body: AoiFields, *, allow_bbox: bool = True) -> tuple[BaseGeometry, str]:
    given = [n for n in ("wkt", "geojson", "aoi_id", "bbox") if getattr(body, n) is not None]
    allowed = "wkt, geojson, aoi_id" + (" or bbox" if allow_bbox else "")
    if len(given) != 1 or (given[0] == "bbox" and not allow_bbox):
        raise Problem(422, "aoi_required", f"send exactly one of {allowed} (got {', '.join(given) or 'none'})")
    source = given[0]
    geom = await usecases.aoi_geometry(request.app.state.rt, source, getattr(body, source),
                                       request.headers.get("authorization"))
    return geom, source


# ----------------------------------------------------------------------------------------- search


class SearchRequest(AoiFields):
    include_minitiles: bool = Field(False, validation_alias=_alias("include_minitiles", "IncludeMiniTiles"))


@router.post("/search", **answers(views.SearchBody, "the cells"))
async def search(body: SearchRequest, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    """Tiles (and with include_minitiles, minitiles) overlapping an AOI, each with its share of it."""
    settings = _settings(request)
    geom, source = await aoi_geometry(request, body)
    hint = ("or split the AOI, switch zones off (zones), or search without include_minitiles and list each tile's "
            "minitiles with GET /v1/tiles/{guid}/minitiles")
    tiles = await asyncio.to_thread(_run_grid, cover, geom, Level.TILE, body.zones)
    n_tiles = len(tiles)
    minis = None
    if body.include_minitiles:
        # a cheap upper bound first: never rasterise millions of minitiles only to refuse them
        _check_size(settings, n_tiles, body.footprints, hint)
        if n_tiles * 256 > 4 * settings.max_cells:
            _check_size(settings, n_tiles * 256, False, hint)
        minis = await asyncio.to_thread(_run_grid, cover, geom, Level.MINITILE, body.zones)
    n_minis = len(minis) if minis is not None else 0
    _check_size(settings, n_tiles + n_minis, body.footprints, hint)
    return await asyncio.to_thread(views.search, tiles, minis, source, body.footprints)


# --------------------------------------------------------------------------------------- resolve


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    tile_guids: list[str] = Field(default_factory=list, validation_alias=_alias("tile_guids", "TileGuids"))
    minitile_guids: list[str] = Field(default_factory=list,
                                      validation_alias=_alias("minitile_guids", "MiniTileGuids", "MinitileGuids"))
    footprints: bool = True


@router.post("/resolve", **answers(views.SelectionBody, "the selection"))
async def resolve(body: ResolveRequest, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    """A mixed selection normalised: duplicates removed, minitiles of selected tiles folded in."""
    settings = _settings(request)
    given = [("tile_guids", i, g) for i, g in enumerate(body.tile_guids)]
    given += [("minitile_guids", i, g) for i, g in enumerate(body.minitile_guids)]
    try:
        selection = await asyncio.to_thread(resolve_selection, [g for _, _, g in given])
    except InvalidSelection as exc:
        errors = []
        for p in exc.problems:
            field, i, value = given[p.position]
            errors.append({"field": f"{field}.{i}", "value": value, "code": p.code, "message": p.message})
        raise _errors_problem("invalid_selection", errors) from None
    _check_size(settings, len(selection.cells), body.footprints, "or resolve the selection in parts")
    return await asyncio.to_thread(views.selection, selection, body.footprints)


# -------------------------------------------------------------------------------------- optimise


@router.post("/optimize", **answers(views.OptimisedBody, "the cover"))
async def optimize(body: AoiFields, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    """The cheapest tiles + minitiles cover of a polygon AOI, with its cost relative to polygon pricing."""
    settings = _settings(request)
    geom, source = await aoi_geometry(request, body)
    result = await asyncio.to_thread(_run_grid, optimise, geom, body.zones)
    n = len(result.tiles) + len(result.minitiles)
    _check_size(settings, n, body.footprints, "or split the AOI")
    return await asyncio.to_thread(views.optimised, result, source, body.footprints)


# ------------------------------------------------------------------------------------ single cells
# (declared after the POST routes: "/{guid}" must not shadow them)


@router.get("/{guid}", **answers(views.Cell, "the cell"))
async def get_cell(guid: str, principal: Principal = Depends(current_principal)) -> dict:
    """One tile or minitile (a GUID, or a readable code such as 33N-C0012-R0107-M137)."""
    try:
        cell = parse_cell(guid)
    except GridError as exc:
        raise grid_problem(exc, "guid", guid) from None
    return views.cell_with_tile(cell)


@router.get("/{guid}/minitiles", **answers(views.MinitilesBody, "the minitiles"))
async def get_minitiles(guid: str, principal: Principal = Depends(current_principal)) -> dict:
    """The minitiles of a tile: all 256, or fewer for a tile clipped at its zone band's edge."""
    try:
        tile = parse_cell(guid)
        minis = children(tile)
    except GridError as exc:
        raise grid_problem(exc, "guid", guid) from None
    return await asyncio.to_thread(views.minitiles, tile, minis)


# -------------------------------------------------------------------------------------- coverage


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    model: str = Field(validation_alias=_alias("model", "Model"))
    constellations: list[str] = Field(validation_alias=_alias("constellations", "SatelliteConstellations"))
    cells: list[str]
    dates: list[date]


@coverage_router.post("/preview", **answers(views.PreviewBody, "what is owned"))
async def preview(body: PreviewRequest, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    """Which (cell, date) pairs of a proposed grid item the caller's account already owns
    (committed orders and live reservations of the same model and constellation set)."""
    cells: list[CellId] = []
    given: dict[int, str] = {}
    errors = []
    for i, g in enumerate(body.cells):
        try:
            cell = parse_cell(g)
        except GridError as exc:
            errors.append({"field": f"cells.{i}", "value": g, "code": exc.code.value, "message": exc.message})
            continue
        cells.append(cell)
        given.setdefault(cell.key, g)
    if errors:
        raise _errors_problem("invalid_cells", errors)
    key = LedgerKey.of(principal.account, body.model, body.constellations)
    result = await usecases.preview(request.app.state.rt, key, cells, DateSet.of(body.dates))
    return views.preview(result, given)


@coverage_router.get("", **answers(views.CoverageBody, "the cells"))
async def viewport(
    request: Request,
    bbox: str = Query(..., description="minLon,minLat,maxLon,maxLat"),
    model: str | None = None,
    footprints: bool = True,
    principal: Principal = Depends(current_principal),
) -> dict:
    """The account's owned (committed) and reserved cells whose tile meets a map viewport."""
    settings = _settings(request)
    try:
        geom = viewport_geometry(bbox)
    except InvalidBbox as exc:
        raise Problem(422, exc.code, str(exc)) from None
    approx_tiles = tiles_spanned(geom)
    if approx_tiles > settings.coverage_max_viewport_tiles:
        raise Problem(422, "viewport_too_large",
                      f"the viewport spans about {approx_tiles:,.0f} tiles; zoom in to at most "
                      f"{settings.coverage_max_viewport_tiles:,} tiles (about "
                      f"{settings.coverage_max_viewport_tiles * TILE_KM2:,.0f} km²)")
    tiles = await asyncio.to_thread(_run_grid, cover, geom, Level.TILE)
    families = families_of_keys(k for z in tiles.zones for k in z.keys.tolist())
    if not families:
        return {"cells": [], "count": 0, "truncated": False}
    found = await usecases.coverage_map(request.app.state.rt, principal.account, families, model)
    shown = found[: settings.coverage_max_cells]
    cells = await asyncio.to_thread(views.map_cells, shown, footprints)
    return {"cells": cells, "count": len(found), "truncated": len(found) > settings.coverage_max_cells}
