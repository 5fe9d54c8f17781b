"""Response shapes of the cart service: JSON-ready dicts built from its rows and pricing's estimate."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.cart.domain import CartStatus

Row = Mapping[str, Any]  # an asyncpg.Record of carts / cart_items


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def item_view(row: Row) -> dict[str, Any]:
    facts = row["facts"] or {}
    out: dict[str, Any] = {
        "id": str(row["id"]),
        "position": row["position"],
        "mode": row["mode"],
        "item": row["payload"],
    }
    if row["mode"] == "polygon":
        out["aoi"] = {"aoi_id": facts.get("aoi_id"), "parts": facts.get("parts", []), "totals": facts.get("totals")}
    else:
        out["cells"] = facts.get("cells", [])
    out["warnings"] = facts.get("warnings", [])
    out["footprint"] = facts.get("footprint")
    out["created_at"] = _iso(row["created_at"])
    out["updated_at"] = _iso(row["updated_at"])
    return out


def cart_view(row: Row, items: list[Row] | None = None, item_count: int | None = None) -> dict[str, Any]:
    status = row["status"]
    out: dict[str, Any] = {
        "id": str(row["id"]),
        "account_id": row["account_id"],
        "status": status,
        # the checkout holding the cart (frozen) or that bought it (checked_out)
        "checkout_id": row["checkout_id"] if status != CartStatus.OPEN.value else None,
        "version": row["version"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }
    if items is not None:
        out["items"] = [item_view(i) for i in items]
        out["item_count"] = len(items)
    else:
        out["item_count"] = item_count or 0
    return out


def item_totals(estimate: dict[str, Any], item_ids: list[str]) -> dict[str, dict[str, str]]:
    """Per item: the sum of its estimate lines, and of those charged at checkout."""
    totals = {i: [Decimal(0), Decimal(0)] for i in item_ids}
    for line in estimate.get("lines") or []:
        t = totals.get(str(line.get("item")))
        if t is None:
            continue
        amount = Decimal(str(line.get("amount", "0")))
        t[0] += amount
        if line.get("charged_at_checkout"):
            t[1] += amount
    return {i: {"total": f"{a:.2f}", "due_at_checkout": f"{d:.2f}", "currency": estimate.get("currency", "EUR")}
            for i, (a, d) in totals.items()}


def cart_with_estimate(row: Row, items: list[Row], estimate: dict[str, Any] | None,
                       note: str | None) -> dict[str, Any]:
    """The cart with its items and the live estimate (or ``estimate: null`` and the note saying why);
    with an estimate, each item carries its own share of it."""
    view = cart_view(row, items)
    view["estimate"] = estimate
    view["estimate_note"] = note
    if estimate is not None:
        totals = item_totals(estimate, [i["id"] for i in view["items"]])
        for item in view["items"]:
            item["estimate"] = totals[item["id"]]
    return view


# ------------------------------------------------------------------------------ OpenAPI shapes
# Documentation of the answers above (the routes answer with the dicts, not through these models).

class ItemPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    label: str = Field(description='"Polygon N", as pricing labels its lines')
    index: int
    area_km2: str
    billable_km2: str | None = None


class ItemAoi(BaseModel):
    aoi_id: str | None
    parts: list[ItemPart]
    totals: dict[str, Any] | None


class ItemCell(BaseModel):
    model_config = ConfigDict(extra="allow")
    guid: str
    level: Literal["tile", "minitile"]
    area_km2: str
    code: str | None = None
    zone: str | None = None
    epsg: int | None = None


class ItemEstimate(BaseModel):
    """The item's share of the cart's live estimate."""

    total: str
    due_at_checkout: str
    currency: str


class CartItem(BaseModel):
    """An item: its order-item payload as kept, and the facts read for it (a polygon's parts, a grid
    selection's cells)."""

    id: str
    position: int
    mode: Literal["polygon", "grid"]
    item: dict[str, Any] = Field(description="the order-item payload as kept (StoredOrderItem's fields)")
    aoi: ItemAoi | None = Field(None, description="polygon items")
    cells: list[ItemCell] | None = Field(None, description="grid items")
    warnings: list[Any]
    footprint: dict[str, Any] | None = Field(description="GeoJSON geometry of the item's area")
    created_at: str | None
    updated_at: str | None
    estimate: ItemEstimate | None = Field(None, description="with the cart's live estimate only")


class Cart(BaseModel):
    id: str
    account_id: str
    status: CartStatus
    checkout_id: str | None = Field(description="the checkout holding (frozen) or that bought (checked_out) it")
    version: int
    created_at: str | None
    updated_at: str | None
    item_count: int
    items: list[CartItem] | None = Field(None, description="a single cart only")


class CartList(BaseModel):
    """The caller's carts, newest first, without items."""

    carts: list[Cart]


class LiveEstimate(BaseModel):
    """Pricing's estimate of the cart's items (``POST /v1/estimates``'s answer: lines, image dates, tiers,
    months, totals and the quote's expiry)."""

    model_config = ConfigDict(extra="allow")
    quote_id: str
    expires_at: str
    total: str
    due_at_checkout: str
    currency: str
    lines: list[dict[str, Any]]
    image_dates: list[dict[str, Any]]


class CartWithEstimate(Cart):
    items: list[CartItem]
    estimate: LiveEstimate | None
    estimate_note: str | None = Field(description="why there is no estimate (an empty cart, pricing refused or away)")


class NewCart(BaseModel):
    """Nothing is needed; an empty object (or no body) is accepted."""

    model_config = ConfigDict(extra="allow")


class ItemPatch(BaseModel):
    """A JSON merge patch of the item's payload (RFC 7396): StoredOrderItem's fields (aliases accepted),
    ``null`` removes one."""

    model_config = ConfigDict(extra="allow")
