"""Cart items: the shared order-item payload plus the AOI facts kept with it. Pure.

- The payload is ``shared.vocabulary.StoredOrderItem`` (same validators as pricing). It is stored
  in its canonical JSON form (snake_case names, ``from``/``to``), without the estimate-only fields.
- A PATCH is a JSON merge patch (RFC 7396) over the stored payload; PascalCase aliases in the patch
  are mapped to the canonical names first, so ``{"ImageFrequency": 2}`` replaces ``image_frequency``.
- Facts: for an ``aoi_id`` the AOI service's report (parts labelled ``Polygon N`` as everywhere,
  with their geodesic ``area_km2``) and its geometry; for a grid selection the tiling service's
  resolved cells (guid, level tile|minitile, area_km2) and warnings, and the union of the cell footprints.
- ``snapshot`` builds the self-contained ``ItemSnapshot`` that ``CartFrozen`` carries.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import AliasChoices, ValidationError

from shared.contracts.common import Cell, ItemSnapshot, Part
from shared.problems import Problem
from shared.vocabulary import StoredOrderItem

if TYPE_CHECKING:  # only their types: shared.peers speaks HTTP, and the domain stays without I/O
    from shared.peers import ResolvedSelection, StoredAoi

ESTIMATE_ONLY = ("wkt", "geojson", "simulated_spend")
AOI_KEYS = ("aoi_id", "tile_guids", "minitile_guids")
_KM2_PLACES = Decimal("0.000001")


def _alias_map() -> dict[str, str]:
    """Every accepted key (field name, canonical JSON name, PascalCase alias) -> canonical JSON name."""
    out: dict[str, str] = {}
    for name, info in StoredOrderItem.model_fields.items():
        canonical = info.serialization_alias or name
        out[name] = canonical
        out[canonical] = canonical
        if isinstance(info.validation_alias, AliasChoices):
            for choice in info.validation_alias.choices:
                if isinstance(choice, str):
                    out[choice] = canonical
    return out


ALIASES = _alias_map()


def canonical_keys(raw: dict[str, Any]) -> dict[str, Any]:
    """The same payload with every known key under its canonical name (unknown keys kept as they are).
    When a payload gives a field twice (``from`` and ``From``), the canonical spelling wins."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = ALIASES.get(key, key)
        if name in out and key != name:
            continue
        out[name] = value
    return out


def stored_payload(item: StoredOrderItem) -> dict[str, Any]:
    """The canonical JSON form kept in the cart (and shown, and sent to pricing)."""
    data = item.model_dump(mode="json", by_alias=True)
    for key in ESTIMATE_ONLY:
        data.pop(key, None)
    for key in AOI_KEYS:
        if data.get(key) is None:
            data.pop(key, None)
    return data


def snapshot_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as ``ItemSnapshot.item``: StoredOrderItem's full JSON form in the shared vocabulary
    (``from``, not the Python attribute ``from_``: the checkout service reads ``item["from"]``)."""
    return StoredOrderItem.model_validate(payload).model_dump(mode="json", by_alias=True)


def with_resolved_selection(payload: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """A grid payload whose GUID lists are the tiling service's normalised selection (duplicates
    dropped, minitiles of selected tiles folded in), so the live estimate (which reads the GUIDs)
    prices the same cells as the checkout (which reads the kept cells)."""
    out = {k: v for k, v in payload.items() if k not in ("tile_guids", "minitile_guids")}
    for key, level in (("tile_guids", "tile"), ("minitile_guids", "minitile")):
        guids = [c["guid"] for c in facts.get("cells", []) if c["level"] == level]
        if guids:
            out[key] = guids
    return out


def _validation_problem(exc: ValidationError) -> Problem:
    """A 422 naming every field pydantic refused (by its location, or ``body``)."""
    errors = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e.get("loc", ()))
        errors.append({"field": loc or "body", "message": e.get("msg", "invalid")})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return Problem(422, "validation_error", detail, errors=errors)


def parse_item(body: Any) -> StoredOrderItem:
    """An order-item payload as sent (any accepted spelling), validated; a 422 naming the fields otherwise."""
    if not isinstance(body, dict):
        raise Problem(422, "validation_error", "body: an order item must be a JSON object",
                      errors=[{"field": "body", "message": "an order item must be a JSON object"}])
    try:
        return StoredOrderItem.model_validate(body)
    except ValidationError as exc:
        raise _validation_problem(exc) from None


def kept_payload(payload: StoredOrderItem, facts: dict[str, Any]) -> dict[str, Any]:
    """The canonical payload kept with the item; a grid selection as tiling normalised it."""
    stored = stored_payload(payload)
    if payload.aoi_mode == "grid":
        stored = stored_payload(StoredOrderItem.model_validate(with_resolved_selection(stored, facts)))
    return stored


def merge_patch(stored: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7396 merge patch of the top-level payload: null removes a field (``to: null`` = recurring,
    which is also the default), any other value replaces it whole."""
    merged = dict(stored)
    for key, value in canonical_keys(patch).items():
        if value is None:
            merged.pop(key, None)
            if key == "to":
                merged["to"] = None
        else:
            merged[key] = value
    return merged


def same_aoi(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two canonical payloads name the same AOI (so the kept facts still hold)."""
    def key(p: dict[str, Any]) -> tuple[object, ...]:
        return (p.get("aoi_id"), tuple(sorted(p.get("tile_guids") or ())), tuple(sorted(p.get("minitile_guids") or ())))
    return key(a) == key(b)


def km2(value: Any) -> str:
    """An area (float, int, str, Decimal) as a km² string with at most 6 decimals (1 m²)."""
    if isinstance(value, float):
        value = repr(value)
    d = Decimal(str(value)).quantize(_KM2_PLACES).normalize() + Decimal(0)
    return format(d, "f")


def _plain(geojson: Any) -> Any:
    """GeoJSON with lists only (shapely's mapping gives tuples)."""
    return json.loads(json.dumps(geojson)) if geojson is not None else None


def polygon_facts(aoi: StoredAoi) -> dict[str, Any]:
    """Facts of a stored AOI, as ``shared.peers.AoiClient`` read it: its labelled parts, totals, geometry."""
    parts = []
    for part in aoi.parts:
        entry: dict[str, Any] = {"label": part.label, "index": part.index, "area_km2": km2(part.area_km2)}
        if part.billable_km2 is not None:
            entry["billable_km2"] = km2(part.billable_km2)
        parts.append(entry)
    return {"aoi_id": aoi.aoi_id, "parts": parts, "totals": aoi.totals, "footprint": _plain(aoi.geometry)}


def grid_facts(selection: ResolvedSelection) -> dict[str, Any]:
    """Facts of a grid selection, as ``shared.peers.TilingClient`` resolved it: its cells (guid, level,
    area_km2 and, when tiling named them, code, zone, epsg) and warnings. The footprint is left to
    ``union_footprint`` (shapely; callers run it off the event loop)."""
    cells = []
    for cell in selection.cells:
        entry: dict[str, Any] = {"guid": cell.guid, "level": cell.level, "area_km2": km2(cell.area_km2)}
        for extra in ("code", "zone", "epsg"):
            if getattr(cell, extra) is not None:
                entry[extra] = getattr(cell, extra)
        cells.append(entry)
    return {"cells": cells, "warnings": list(selection.warnings), "footprint": None}


def union_footprint(footprints: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The union of cell footprints (GeoJSON) as one GeoJSON geometry."""
    from shapely.geometry import mapping, shape
    from shapely.ops import unary_union

    shapes = [shape(f) for f in footprints if f]
    if not shapes:
        return None
    union: dict[str, Any] = _plain(mapping(unary_union(shapes)))
    return union


def snapshot(item_id: str, payload: dict[str, Any], mode: str, facts: dict[str, Any]) -> ItemSnapshot:
    """The self-contained snapshot of one item for CartFrozen."""
    if mode == "polygon":
        parts = [Part(label=p["label"], area_km2=Decimal(p["area_km2"])) for p in facts.get("parts", [])]
        return ItemSnapshot(item_id=item_id, item=snapshot_payload(payload), mode="polygon", parts=parts,
                            footprint=facts.get("footprint"))
    cells = [Cell(guid=c["guid"], level=c["level"], area_km2=Decimal(c["area_km2"])) for c in facts.get("cells", [])]
    return ItemSnapshot(item_id=item_id, item=snapshot_payload(payload), mode="grid", cells=cells,
                        footprint=facts.get("footprint"))
