"""HTTP routes of the tiling service: thin (parse, call the grid / domain, answer).

Cells are answered as ``{guid, code, zone, epsg, footprint, area_km2}`` (docs/domain.md, Shared vocabulary),
plus ``share`` in a search. Grid errors name the GUID and why: 422 for a malformed GUID, an
unknown grid version or the wrong level, 404 for a well-formed GUID of a cell that does not exist.
"""
from __future__ import annotations

import asyncio
import json
import logging
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
import shapely
from fastapi import APIRouter, Depends, Query, Request
from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from services.tiling import coverage as ledger_ops
from services.tiling import store
from services.tiling.domain import (
    MINITILE_FACTOR,
    POLYGON_FACTOR,
    TILE_FACTOR,
    DateSet,
    InvalidSelection,
    LedgerKey,
    deduplicate,
    optimise,
    resolve_selection,
)
from services.tiling.settings import TilingSettings
from shared.auth import Principal, current_principal
from shared.geo import AoiError, import_aoi
from shared.grid import (
    CellId,
    GridError,
    GridErrorCode,
    Level,
    cell_area_km2,
    cell_from_key,
    children,
    cover,
    describe,
    parse_cell,
)
from shared.grid.cover import geodesic_area_m2
from shared.inputs import Id, Text
from shared.problems import Problem, not_found

log = logging.getLogger("tessera.tiling.http")

router = APIRouter(prefix="/v1/tiles", tags=["tiling"])
coverage_router = APIRouter(prefix="/v1/coverage", tags=["coverage"])


def _alias(*names: str) -> Any:
    return AliasChoices(*names)


# ---------------------------------------------------------------------------------------- helpers


def grid_problem(exc: GridError, field: str, value: object) -> Problem:
    """404 for a cell that does not exist, 422 for everything else; names the value and why."""
    status = 404 if exc.code is GridErrorCode.OUT_OF_GRID else 422
    return Problem(status, f"grid_{exc.code.value}", f"{field} {value!s}: {exc.message}",
                   errors=[{"field": field, "value": str(value), "code": exc.code.value, "message": exc.message}])


def cell_dict(cell: CellId, *, footprint: bool = True) -> dict[str, Any]:
    if footprint:
        out = describe(cell).as_dict()
    else:
        out = {"guid": cell.guid, "code": cell.code, "zone": cell.label, "epsg": cell.epsg,
               "area_km2": cell_area_km2(cell)}
    out["level"] = "tile" if cell.is_tile else "minitile"
    return out


def _settings(request: Request) -> TilingSettings:
    return request.app.state.rt.settings


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


class AoiFields(BaseModel):
    """An AOI given as exactly one of wkt, geojson, aoi_id or bbox."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    wkt: Text | None = Field(None, validation_alias=_alias("wkt", "Wkt"))
    geojson: dict[str, Any] | Text | None = Field(None, validation_alias=_alias("geojson", "GeoJson", "GeoJSON"))
    aoi_id: Id | None = Field(None, validation_alias=_alias("aoi_id", "AoiId"))
    bbox: list[float] | None = Field(None, validation_alias=_alias("bbox", "Bbox"))
    zones: list[str] | None = Field(None, validation_alias=_alias("zones", "Zones"))
    footprints: bool = True


def bbox_geometry(bbox: list[float], field: str = "bbox") -> BaseGeometry:
    if len(bbox) != 4:
        raise Problem(422, "invalid_bbox",
                      f"{field}: expected [minLon, minLat, maxLon, maxLat], got {len(bbox)} numbers")
    w, s, e, n = bbox
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= 90 and -90 <= n <= 90):
        raise Problem(422, "invalid_bbox", f"{field} {bbox}: longitudes must be within -180..180 and latitudes "
                                           "within -90..90 (lon/lat order, EPSG:4326)")
    if s >= n or w == e:
        raise Problem(422, "invalid_bbox", f"{field} {bbox}: the box is empty (minLat must be below maxLat, "
                                           "minLon different from maxLon)")
    if w > e:  # across the antimeridian
        return shapely.MultiPolygon([box(w, s, 180.0, n), box(-180.0, s, e, n)])
    return box(w, s, e, n)


async def aoi_geometry(request: Request, body: AoiFields, *, allow_bbox: bool = True) -> tuple[BaseGeometry, str]:
    given = [n for n in ("wkt", "geojson", "aoi_id", "bbox") if getattr(body, n) is not None]
    allowed = "wkt, geojson, aoi_id" + (" or bbox" if allow_bbox else "")
    if len(given) != 1 or (given[0] == "bbox" and not allow_bbox):
        raise Problem(422, "aoi_required", f"send exactly one of {allowed} (got {', '.join(given) or 'none'})")
    source = given[0]
    if source == "bbox":
        return bbox_geometry(body.bbox), source
    if source == "aoi_id":
        return await stored_aoi(request, body.aoi_id), source
    if source == "wkt":
        text = body.wkt
    else:
        text = body.geojson if isinstance(body.geojson, str) else json.dumps(body.geojson)
    try:
        imported = await asyncio.to_thread(import_aoi, text)
    except AoiError as exc:
        raise Problem(exc.status, exc.code, f"{source}: {exc.message}", where=exc.where) from None
    return imported.geometry, source


async def stored_aoi(request: Request, aoi_id: str) -> BaseGeometry:
    """A stored AOI's geometry from the AOI service, read as the caller (their token)."""
    rt = request.app.state.rt
    url = f"{rt.settings.aoi_url.rstrip('/')}/v1/aois/{quote(aoi_id, safe='')}"
    auth = request.headers.get("authorization")
    try:
        r = await rt.http.get(url, headers={"Authorization": auth} if auth else {},
                              timeout=rt.settings.aoi_timeout_seconds)
    except httpx.HTTPError as exc:
        log.warning("AOI service unreachable for %s: %r", aoi_id, exc)
        raise Problem(503, "aoi_service_unavailable", f"the AOI service did not answer for aoi_id {aoi_id}; "
                                                      "try again shortly") from None
    if r.status_code in (404, 410):
        raise not_found("AOI", aoi_id)
    if r.status_code >= 400:
        raise Problem(503, "aoi_service_unavailable",
                      f"the AOI service answered {r.status_code} for aoi_id {aoi_id}; try again shortly")
    try:
        geom = shape(r.json()["geometry"])
    except (ValueError, KeyError, TypeError, AttributeError, shapely.errors.GEOSException) as exc:
        log.warning("unexpected AOI body for %s: %r", aoi_id, exc)
        raise Problem(502, "aoi_service_bad_response",
                      f"the AOI service's answer for aoi_id {aoi_id} has no usable geometry") from None
    return geom


def _run_grid(fn, *args, **kwargs):
    """Grid calls raise GridError for an unusable AOI or zone filter: a 422 saying why."""
    try:
        return fn(*args, **kwargs)
    except GridError as exc:
        raise Problem(422, f"grid_{exc.code.value}", exc.message) from None


# ----------------------------------------------------------------------------------------- search


class SearchRequest(AoiFields):
    include_minitiles: bool = Field(False, validation_alias=_alias("include_minitiles", "IncludeMiniTiles"))


def _listing(settings: TilingSettings, zone_covers, footprints: bool) -> list[dict[str, Any]]:
    out = []
    for zc in zone_covers:
        for key, share in zip(zc.keys.tolist(), zc.share.tolist(), strict=True):
            d = cell_dict(cell_from_key(key), footprint=footprints)
            d["share"] = share
            out.append(d)
    return out


@router.post("/search")
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

    def build() -> dict[str, Any]:
        return {
            "tiles": _listing(settings, tiles.zones, body.footprints),
            "minitiles": _listing(settings, minis.zones, body.footprints) if minis is not None else [],
            "aoi_km2": tiles.aoi_km2,
            "aoi_source": source,
            "zones": sorted({z.label for z in tiles.zones}),
        }

    return await asyncio.to_thread(build)


# --------------------------------------------------------------------------------------- resolve


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    tile_guids: list[str] = Field(default_factory=list, validation_alias=_alias("tile_guids", "TileGuids"))
    minitile_guids: list[str] = Field(default_factory=list,
                                      validation_alias=_alias("minitile_guids", "MiniTileGuids", "MinitileGuids"))
    footprints: bool = True


@router.post("/resolve")
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
        first = errors[0]
        more = f" (and {len(errors) - 1} more, see errors)" if len(errors) > 1 else ""
        raise Problem(422, "invalid_selection", f"{first['field']} {first['value']}: {first['message']}{more}",
                      errors=errors) from None
    _check_size(settings, len(selection.cells), body.footprints, "or resolve the selection in parts")

    def build() -> dict[str, Any]:
        return {
            "tiles": [cell_dict(c, footprint=body.footprints) for c in selection.tiles],
            "minitiles": [cell_dict(c, footprint=body.footprints) for c in selection.minitiles],
            "warnings": [{"code": w.code, "message": w.message, **({"cell": w.cell} if w.cell else {}),
                          "count": w.count} for w in selection.warnings],
            "tiles_km2": selection.tiles_km2,
            "minitiles_km2": selection.minitiles_km2,
            "total_km2": selection.total_km2,
        }

    return await asyncio.to_thread(build)


# -------------------------------------------------------------------------------------- optimise


@router.post("/optimize")
async def optimize(body: AoiFields, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    """The cheapest tiles + minitiles cover of a polygon AOI, with its cost relative to polygon pricing."""
    settings = _settings(request)
    geom, source = await aoi_geometry(request, body)
    result = await asyncio.to_thread(_run_grid, optimise, geom, body.zones)
    n = len(result.tiles) + len(result.minitiles)
    _check_size(settings, n, body.footprints, "or split the AOI")

    def build() -> dict[str, Any]:
        return {
            "tiles": [cell_dict(c, footprint=body.footprints) for c in result.tiles],
            "minitiles": [cell_dict(c, footprint=body.footprints) for c in result.minitiles],
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

    return await asyncio.to_thread(build)


# ------------------------------------------------------------------------------------ single cells
# (declared after the POST routes: "/{guid}" must not shadow them)


@router.get("/{guid}")
async def get_cell(guid: str, principal: Principal = Depends(current_principal)) -> dict:
    """One tile or minitile (a GUID, or a readable code such as 33N-C0012-R0107-M137)."""
    try:
        cell = parse_cell(guid)
    except GridError as exc:
        raise grid_problem(exc, "guid", guid) from None
    out = cell_dict(cell)
    if not cell.is_tile:
        out["tile"] = cell.parent.guid
    return out


@router.get("/{guid}/minitiles")
async def get_minitiles(guid: str, principal: Principal = Depends(current_principal)) -> dict:
    """The minitiles of a tile: all 256, or fewer for a tile clipped at its zone band's edge."""
    try:
        tile = parse_cell(guid)
        minis = children(tile)
    except GridError as exc:
        raise grid_problem(exc, "guid", guid) from None
    cells = await asyncio.to_thread(lambda: [cell_dict(c) for c in minis])
    return {"tile": tile.guid, "tiles": [], "minitiles": cells}


# -------------------------------------------------------------------------------------- coverage


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    model: str = Field(validation_alias=_alias("model", "Model"))
    constellations: list[str] = Field(validation_alias=_alias("constellations", "SatelliteConstellations"))
    cells: list[str]
    dates: list[date]


@coverage_router.post("/preview")
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
        first = errors[0]
        more = f" (and {len(errors) - 1} more, see errors)" if len(errors) > 1 else ""
        raise Problem(422, "invalid_cells", f"{first['field']} {first['value']}: {first['message']}{more}",
                      errors=errors)
    key = LedgerKey.of(principal.account, body.model, body.constellations)
    dates = DateSet.of(body.dates)
    async with request.app.state.rt.pool.acquire() as conn:
        ledger = await ledger_ops.load_ledger(conn, key, ledger_ops.families_of(cells))
    result = await asyncio.to_thread(deduplicate, cells, dates, ledger)
    return {
        "owned": [{"guid": given[o.cell.key], "dates": [d.isoformat() for d in o.owned]}
                  for o in result.outcomes if o.owned],
        "owned_pairs": result.owned_pairs,
        "requested_pairs": result.requested_pairs,
        "to_buy_pairs": result.to_buy_pairs,
        "warnings": [w.message for w in result.warnings],
    }


@coverage_router.get("")
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
        numbers = [float(x) for x in bbox.split(",")]
    except ValueError:
        raise Problem(422, "invalid_bbox",
                      f"bbox {bbox!r}: expected four numbers minLon,minLat,maxLon,maxLat") from None
    geom = bbox_geometry(numbers)
    approx_tiles = geodesic_area_m2(geom) / 1e6 / 2621.44
    if approx_tiles > settings.coverage_max_viewport_tiles:
        raise Problem(422, "viewport_too_large",
                      f"the viewport spans about {approx_tiles:,.0f} tiles; zoom in to at most "
                      f"{settings.coverage_max_viewport_tiles:,} tiles (about "
                      f"{settings.coverage_max_viewport_tiles * 2621.44:,.0f} km²)")
    tiles = await asyncio.to_thread(_run_grid, cover, geom, Level.TILE)
    families = sorted({int(k) >> 9 for z in tiles.zones for k in z.keys.tolist()})
    if not families:
        return {"cells": [], "count": 0, "truncated": False}
    async with request.app.state.rt.pool.acquire() as conn:
        groups = await store.viewport_groups(conn, principal.account, families, model)
    fam = np.asarray(families, dtype=np.int64)
    merged: dict[tuple[int, str, str, str], dict[str, Any]] = {}
    for g in groups:
        inside = g.cells[np.isin(g.cells >> 9, fam)]
        for k in inside.tolist():
            entry = merged.setdefault((k, g.model, g.constellations, g.status),
                                      {"dates": DateSet(), "orders": set(), "checkouts": set()})
            entry["dates"] = entry["dates"] | g.dates
            if g.order_id:
                entry["orders"].add(g.order_id)
            entry["checkouts"].add(g.checkout_id)
    items = sorted(merged.items(), key=lambda kv: kv[0])
    truncated = len(items) > settings.coverage_max_cells
    items = items[: settings.coverage_max_cells]

    def build() -> list[dict[str, Any]]:
        out = []
        for (k, m, cons, status), e in items:
            d = cell_dict(cell_from_key(k), footprint=footprints)
            d.update(model=m, constellations=cons.split(",") if cons else [], status=status,
                     dates=[x.isoformat() for x in e["dates"]], order_ids=sorted(e["orders"]),
                     checkout_ids=sorted(e["checkouts"]))
            out.append(d)
        return out

    cells = await asyncio.to_thread(build)
    return {"cells": cells, "count": len(merged), "truncated": truncated}

