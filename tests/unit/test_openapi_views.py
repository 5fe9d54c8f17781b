"""The documented answers match what the views build: each view's output validates against its OpenAPI
model and names no member the model leaves out (the routes never pass answers through the models, so
nothing else would notice a view and its model drifting apart)."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, get_args, get_origin

import orjson
from pydantic import BaseModel

from services.cart import views as cart
from services.checkout import views as checkout
from services.pricing import views as pricing
from services.tiling import views as tiling
from services.tiling.domain import resolve_selection
from shared.grid import Level, cover, parse_cell

NOW = datetime(2025, 4, 1, 12, tzinfo=UTC)


def fits(model: type[BaseModel], body: Any) -> None:
    """Valid by the model, and every member it sends is documented (nested models too)."""
    data = orjson.loads(orjson.dumps(body, default=str))
    model.model_validate(data)
    undocumented = _undocumented(model, data, model.__name__)
    assert not undocumented, undocumented


def _undocumented(model: type[BaseModel], data: Any, where: str) -> list[str]:
    if not isinstance(data, dict):
        return []
    names = {f.alias or n for n, f in model.model_fields.items()}
    out = [f"{where}.{k}" for k in data if k not in names]
    for name, field in model.model_fields.items():
        out += _walk(field.annotation, data.get(field.alias or name), f"{where}.{name}")
    return out


def _walk(annotation: Any, value: Any, where: str) -> list[str]:
    """The members of ``value`` no model of ``annotation`` (through lists, dicts and unions) documents."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _undocumented(annotation, value, where)
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is list and isinstance(value, list):
        return [m for i, v in enumerate(value) for m in _walk(args[0], v, f"{where}[{i}]")]
    if origin is dict and isinstance(value, dict) and len(args) == 2:
        return [m for k, v in value.items() for m in _walk(args[1], v, f"{where}.{k}")]
    if args and origin not in (list, dict):  # a union: the model member, if any, that the value is
        for arg in args:
            if isinstance(arg, type) and issubclass(arg, BaseModel) and isinstance(value, dict):
                return _undocumented(arg, value, where)
            if get_origin(arg) in (list, dict):
                found = _walk(arg, value, where)
                if found:
                    return found
    return []


def test_cart_answers():
    item = {"id": uuid.uuid4(), "position": 1, "mode": "polygon", "payload": {"aoi_id": "a1", "model": "Stratus2"},
            "facts": {"aoi_id": "a1", "parts": [{"label": "Polygon 1", "index": 1, "area_km2": "12.5"}],
                      "totals": {"parts": 1}, "footprint": {"type": "Polygon", "coordinates": []}},
            "created_at": NOW, "updated_at": NOW}
    grid = {**item, "id": uuid.uuid4(), "mode": "grid", "facts": {
        "cells": [{"guid": "g", "level": "tile", "area_km2": "100"}], "warnings": [], "footprint": None}}
    row = {"id": uuid.uuid4(), "account_id": "acme", "status": "open", "checkout_id": None, "version": 3,
           "created_at": NOW, "updated_at": NOW}
    fits(cart.Cart, cart.cart_view(row, [item, grid]))
    fits(cart.CartList, {"carts": [cart.cart_view(row, item_count=2)]})
    fits(cart.CartItem, cart.item_view(grid))
    estimate = {"quote_id": "q", "expires_at": NOW.isoformat(), "total": "10.00", "due_at_checkout": "5.00",
                "currency": "EUR", "lines": [{"item": str(item["id"]), "amount": "10.00", "charged_at_checkout": True}],
                "image_dates": []}
    fits(cart.CartWithEstimate, cart.cart_with_estimate(row, [item], estimate, None))
    fits(cart.CartWithEstimate, cart.cart_with_estimate(row, [], None, "The cart is empty"))


def _order_row(**over: Any) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "status": "Review", "model": "Stratus2", "mode": "polygon",
            "constellations": ["Sentinel2"], "from_date": date(2025, 4, 1), "to_date": None, "recurring": True,
            "amount": Decimal("159.33"), "checkout_id": uuid.uuid4(), "created_at": NOW,
            "renewal_stopped_after": None, "renewal_paused": False, "item": {"aoi_id": "a1"},
            "parts": [{"label": "Polygon 1"}], "cells": None, "footprint": {"type": "Polygon", "coordinates": []},
            "price": {"image_dates": [{"month": "2025-04", "dates": ["2025-04-01"]}], "lines": [{"amount": "1.00"}]},
            **over}


def test_checkout_answers():
    row = {"id": uuid.uuid4(), "cart_id": "c1", "step": "failed", "accepted_total": Decimal("10"),
           "total": Decimal("12.5"), "order_ids": [], "created_at": NOW, "updated_at": NOW,
           "failure_code": "insufficient_credit", "failure_reason": "short by 2.50",
           "failure_detail": {"missing": "2.50"}}
    fits(checkout.Checkout, checkout.checkout_view(row))
    fits(checkout.StartedCheckout, checkout.started_checkout({**row, "failure_code": None})[0])
    ledger = [{"amount": Decimal("100"), "kind": "top_up", "ref": "k1", "created_at": NOW}]
    fits(checkout.Account, checkout.account_view("acme", {"balance": Decimal("100"), "overdraft_limit": Decimal(0),
                                                          "skip_review": False}, ledger))
    fits(checkout.Account, checkout.account_view("new", None, []))
    order = _order_row()
    fits(checkout.OrderList, checkout.order_list([order]))
    history = [{"from_status": None, "to_status": "Review", "at": NOW, "source": "checkout", "detail": None}]
    charges = [{"month": "2025-04", "amount": Decimal("159.33"), "status": "charged"}]
    fits(checkout.OrderDetail, checkout.order_detail(order, history, charges))
    overlay_row = {**order, "footprint": '{"type": "Polygon", "coordinates": []}'}
    fits(checkout.OverlayPage, checkout.overlay_page([overlay_row], [True], None, "bbox"))
    fits(checkout.CancelOutcome, checkout.canceled(str(order["id"]), Decimal("159.33")))
    fits(checkout.CancelOutcome, checkout.renewal_stopped(str(order["id"]), "2025-05"))


def test_pricing_models_answer():
    fits(pricing.ModelsBody, pricing.models_view())


def test_tiling_answers():
    from shapely.geometry import box

    geom = box(10.0, 50.0, 10.05, 50.05)
    tiles = cover(geom, Level.TILE)
    minis = cover(geom, Level.MINITILE)
    fits(tiling.SearchBody, tiling.search(tiles, minis, "wkt", True))
    fits(tiling.SearchBody, tiling.search(tiles, None, "wkt", False))
    some = tiling.search(tiles, minis, "wkt", False)
    selection = resolve_selection([some["tiles"][0]["guid"], some["minitiles"][0]["guid"]])
    fits(tiling.SelectionBody, tiling.selection(selection, True))
    tile = parse_cell(some["tiles"][0]["guid"])
    fits(tiling.Cell, tiling.cell_with_tile(tile))
    from shared.grid import children

    fits(tiling.MinitilesBody, tiling.minitiles(tile, children(tile)))
    fits(tiling.Cell, tiling.cell_with_tile(children(tile)[0]))


def test_aoi_answers():
    from services.aoi import views as aoi
    from shared.geo.aoi import import_aoi

    imported = import_aoi("POLYGON((10 50, 10.1 50, 10.1 50.1, 10 50.1, 10 50))")
    report = imported.report()
    row = {"id": "a1", "account_id": "acme", "name": "field", "created_at": NOW, "source_format": "wkt",
           "geometry": '{"type": "GeometryCollection", "geometries": []}', "report": report,
           "area_km2": 79.6, "billable_km2": 79.6, "min_lon": 10.0, "min_lat": 50.0, "max_lon": 10.1,
           "max_lat": 50.1, "totals": report["totals"]}
    fits(aoi.Aoi, aoi.aoi_body(row))
    fits(aoi.AoiPage, aoi.page_body([row], None))
    fits(aoi.AoiPage, aoi.page_body([row], None, prefilter="h3"))
