"""Turn order-item payloads into the calculator's neutral ``PricingItem`` (the pure part).

The estimate route receives the shared order-item payload; before pricing, its AOI must become
billable units:

- ``aoi_id``: the AOI service's stored report, one polygon part per ``report.parts[*]`` with its
  ``area_km2`` (read by ``peers.stored_aoi_parts``);
- ``wkt`` / ``geojson``: imported and validated here with ``shared.geo`` (same rules as uploads):
  ``inline_parts``;
- ``tile_guids`` / ``minitile_guids``: decoded with ``shared.grid``, each cell at its own (clipped)
  planar area (``grid_cells``); with ``tile_deduplication`` the cells lose the (cell, date) pairs the
  account already owns (``without_owned``, from ``peers.owned_pairs``).

The checkout saga's ``PriceCheckout`` carries self-contained ``ItemSnapshot``s (parts, or cells with
``excluded_dates`` already applied by tiling): ``item_from_snapshot`` needs no peer at all.

Areas arrive as floats (JSON, shapely); they are taken to 6 decimals (1 m²) as ``Decimal`` so a
float's last bits never show in a price.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from shared.contracts.common import ItemSnapshot
from shared.geo import AoiError, import_aoi
from shared.grid import GridError, GridErrorCode, cell_area_km2, decode_guid
from shared.problems import Problem
from shared.schedule import charge_periods
from shared.vocabulary import OrderItem

from .estimate import PolygonPart, PricedCell, PricingItem
from .payload import pricing_item_from_payload
from .price_book import CellLevel

__all__ = [
    "ResolvedItem",
    "charge_dates",
    "field_problem",
    "grid_cells",
    "inline_parts",
    "item_from_snapshot",
    "km2",
    "without_owned",
]

_KM2_PLACES = Decimal("0.000001")


def km2(value: Any) -> Decimal:
    """An area (float, int, str or Decimal) as km² with 6 decimals."""
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(_KM2_PLACES).normalize() + Decimal(0)


@dataclass
class ResolvedItem:
    """A priced-to-be item plus what the response says about how it was resolved."""

    item: PricingItem
    mode: str  # "polygon" | "grid"
    aoi_source: str  # "aoi_id" | "wkt" | "geojson" | "grid"
    deduplication: str = "not_requested"  # "applied" | "unavailable" | "not_requested"
    owned_pairs: int = 0
    warnings: list[str] = field(default_factory=list)


def field_problem(status: int, code: str, field_name: str, message: str, **extra: Any) -> Problem:
    return Problem(status, code, f"{field_name}: {message}", errors=[{"field": field_name, "message": message}],
                   **extra)


# ------------------------------------------------------------------------------ polygon AOIs


def inline_parts(payload: OrderItem, field_prefix: str) -> tuple[list[PolygonPart], list[str], str]:
    """Import and validate an inline WKT/GeoJSON AOI (``shared.geo``): its parts, warnings and source.
    CPU-bound on big geometries: callers run it off the event loop."""
    if payload.wkt is not None:
        source, text = "wkt", payload.wkt
    else:
        source = "geojson"
        text = payload.geojson if isinstance(payload.geojson, str) else json.dumps(payload.geojson)
    field_name = f"{field_prefix}{source}"
    try:
        imported = import_aoi(text)
    except AoiError as exc:
        raise field_problem(exc.status, exc.code, field_name, exc.message, where=exc.where) from None
    parts = [PolygonPart(f"{p.kind} {p.index}", km2(p.area_km2)) for p in imported.parts]
    warnings = [str(w.get("message", w.get("code"))) for w in imported.warnings]
    return parts, warnings, source


# ------------------------------------------------------------------------------ grid selections


_SELECTIONS_CACHED = 64
_selections: OrderedDict[tuple[tuple[str, ...], tuple[str, ...]], tuple[PricedCell, ...]] = OrderedDict()


def grid_cells(payload: OrderItem, field_prefix: str = "") -> tuple[PricedCell, ...]:
    """Decode the GUIDs into cells with their (possibly clipped) area; 422 naming the bad one.

    Whole selections are cached too (a small LRU keyed by the canonical GUID strings, equal exactly
    when the GUIDs are): a dashboard re-estimates the same cart again and again. A hit returns the
    very same tuple, so the calculator's per-selection facts (``estimate._cell_groups``) are reused
    as well. Only valid selections are cached; a bad GUID is decoded (and reported) every time."""
    key = (tuple(payload.tile_guids or ()), tuple(payload.minitile_guids or ()))
    cached = _selections.get(key)
    if cached is not None:
        _selections.move_to_end(key)
        return cached
    cells = _decode_cells(payload, field_prefix)
    _selections[key] = cells
    if len(_selections) > _SELECTIONS_CACHED:
        _selections.popitem(last=False)
    return cells


def _decode_cells(payload: OrderItem, field_prefix: str) -> tuple[PricedCell, ...]:
    cells = []
    for field_name, level, guids in (
        ("tile_guids", CellLevel.TILE, payload.tile_guids or ()),
        ("minitile_guids", CellLevel.MINITILE, payload.minitile_guids or ()),
    ):
        for i, guid in enumerate(guids):
            try:
                cells.append(_cell(guid, level))
            except GridError as exc:
                raise field_problem(422, f"grid_{exc.code.value}", f"{field_prefix}{field_name}.{i}",
                                    exc.message) from None
    return tuple(cells)


@lru_cache(maxsize=262_144)
def _cell(guid: str, level: CellLevel) -> PricedCell:
    """One cell at its area (cached: grid math is immutable, and dashboards price the same cells
    again and again while a selection is edited; a cold GUID costs ~13 µs, a cached one ~0.3 µs)."""
    cell = decode_guid(guid)
    if cell.is_tile != (level is CellLevel.TILE):
        other = "minitile_guids" if level is CellLevel.TILE else "tile_guids"
        raise GridError(GridErrorCode.WRONG_LEVEL,
                        f"{cell.code} is a {'tile' if cell.is_tile else 'minitile'}; list it in {other}")
    return PricedCell(guid, level, km2(cell_area_km2(cell)))


def charge_dates(payload: OrderItem, checkout_day: date, *, include_next_month: bool) -> list[date]:
    """Every image date the estimate may charge: the dates tiling is asked about for deduplication."""
    periods = charge_periods(payload.schedule, checkout_day, include_next_month=include_next_month)
    return sorted({d for p in periods for d in p.dates})


def without_owned(
    cells: Sequence[PricedCell], owned: Mapping[str, frozenset[date]]
) -> tuple[tuple[PricedCell, ...], int]:
    """The cells with the (cell, date) pairs the account owns excluded, and how many pairs that is."""
    # both in canonical form (the payload's GUIDs are canonicalised on validation)
    out = tuple(PricedCell(c.key, c.level, c.area_km2, owned[c.key]) if c.key in owned else c for c in cells)
    return out, sum(len(c.excluded_dates) for c in out)


# ------------------------------------------------------------------------------ checkout snapshots


def item_from_snapshot(snapshot: ItemSnapshot) -> PricingItem | None:
    """A frozen cart item as the calculator's input; None when nothing is left to buy (every
    grid cell owned). Raises ``ValueError`` (pydantic's included) for an item that cannot be priced."""
    payload = snapshot.item
    if payload.aoi_mode != snapshot.mode:
        raise ValueError(f"item {snapshot.item_id}: snapshot mode {snapshot.mode} "
                         f"but its payload is {payload.aoi_mode}")
    if snapshot.mode == "polygon":
        if not snapshot.parts:
            raise ValueError(f"item {snapshot.item_id}: a polygon item without parts")
        parts = [PolygonPart(p.label, km2(p.area_km2)) for p in snapshot.parts]
        return pricing_item_from_payload(payload, label=snapshot.item_id, parts=parts)
    if not snapshot.cells:
        return None
    cells = [PricedCell(c.guid, CellLevel(c.level), km2(c.area_km2), frozenset(c.excluded_dates))
             for c in snapshot.cells]
    return pricing_item_from_payload(payload, label=snapshot.item_id, cells=cells)
