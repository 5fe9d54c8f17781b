"""Response shapes of the pricing service: JSON-ready dicts built from the calculator's results,
stored quotes and the price book."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, RootModel

from services.pricing.domain import Estimate, current_price_book, estimate_payload, model_listing
from services.pricing.domain.estimate_request import MAX_CART_ITEMS
from services.pricing.domain.resolve import ResolvedItem
from shared.catalog import ModelFamily
from shared.money import CURRENCY, format_amount
from shared.vocabulary import OrderItem


def estimate_view(
    result: Estimate, resolved: list[ResolvedItem], *, quote_id: uuid.UUID, now: datetime, expires_at: datetime,
    spend_source: str,
) -> dict[str, Any]:
    """``POST /v1/estimates``: the estimate as stored with its quote, and how each item was resolved."""
    dedup = {r.deduplication for r in resolved}
    return {
        "quote_id": str(quote_id),
        "created_at": now.isoformat(),
        "expires_at": expires_at.isoformat(),
        **estimate_payload(result),
        "priced_on": now.date().isoformat(),
        "spend_source": spend_source,
        "deduplication": ("unavailable" if "unavailable" in dedup
                          else "applied" if "applied" in dedup else "not_requested"),
        "items": [resolved_item_view(r) for r in resolved],
        "warnings": [f"{r.item.label}: {w}" for r in resolved for w in r.warnings],
    }


def resolved_item_view(r: ResolvedItem) -> dict[str, Any]:
    """One item of an estimate: where its AOI came from and whether deduplication applied."""
    return {
        "item": r.item.label,
        "mode": r.mode,
        "aoi_source": r.aoi_source,
        "deduplication": r.deduplication,
        "owned_pairs": r.owned_pairs,
        "warnings": list(r.warnings),
    }


def quote_view(row: Any, now: datetime | None = None) -> dict[str, Any]:
    """``GET /v1/quotes/{id}``: the stored quote with its request and estimate."""
    now = now or datetime.now(UTC)
    return {
        "quote_id": str(row["quote_id"]),
        "account_id": row["account_id"],
        "created_at": row["created_at"].isoformat(),
        "expires_at": row["expires_at"].isoformat(),
        "expired": now >= row["expires_at"],
        "total": format_amount(row["total"]),
        "due_at_checkout": format_amount(row["due_at_checkout"]),
        "currency": CURRENCY,
        "price_book_version": row["price_book_version"],
        "request": orjson.loads(row["request"]),
        "estimate": orjson.loads(row["response"]),
    }


def models_view() -> dict[str, Any]:
    """``GET /v1/models``: the models with their constellations, and the price book's figures."""
    book = current_price_book()
    return {
        "price_book_version": book.version,
        "currency": CURRENCY,
        "models": model_listing(book),
        "mode_factors": {mode.value: str(f) for mode, f in book.mode_factors.items()},
        "tiers": {
            family.value: [
                {"tier": b.number, "spend_from": format_amount(b.lower),
                 "spend_to": format_amount(b.upper) if b.upper is not None else None, "discount": str(b.discount)}
                for b in book.brackets(family)
            ]
            for family in ModelFamily
        },
        "minimum_billable_km2": str(book.minimum_billable_km2),
        "extras": {
            "storage_rate_per_km2_image_month": str(book.storage_rate),
            "download_block_price": format_amount(book.download_block_price),
            "download_block_units": book.download_block_units,
            "download_unit_km2": str(book.download_unit_km2),
            "included_requests": book.included_requests,
        },
    }


# ------------------------------------------------------------------------------ OpenAPI shapes
# Documentation of the answers above; the estimate is pre-encoded text on its hot path and never passes
# through these models. Amounts are two-decimal strings next to ``currency``; rates and areas exact strings.

class EstimateCartItem(OrderItem):
    """One item of a cart estimate; ``item_id`` (or ``label``) names its lines."""

    item_id: str | None = None
    label: str | None = None


class EstimateCart(BaseModel):
    """Several order items priced together (one starting spend for all)."""

    items: list[EstimateCartItem] = Field(min_length=1, max_length=MAX_CART_ITEMS)
    simulated_spend: str | None = Field(None, description="the month's spend so far (alias SimulatedEuroUsage)")


class EstimateRequestBody(RootModel[OrderItem | EstimateCart]):
    """``POST /v1/estimates``: one order item, or a cart ``{"items": [...]}``."""


class EstimateLine(BaseModel):
    model_config = ConfigDict(extra="allow")
    item: str
    month: str
    charged_at_checkout: bool
    kind: str
    label: str
    family: str
    mode: str | None
    tier: int | None
    discount: str | None
    area_km2: str
    image_dates: list[str]
    quantity: str
    unit: str
    rate: str
    amount: str
    cells: list[str]


class ImageDates(BaseModel):
    item: str
    month: str
    charged_at_checkout: bool
    dates: list[str]


class PricedArea(BaseModel):
    item: str
    label: str
    mode: str
    area_km2: str
    billable_km2: str
    cell_count: int | None


class TierBracket(BaseModel):
    month: str
    family: str
    tier: int
    discount: str
    spend_before: str
    spend_after: str


class MonthTotal(BaseModel):
    month: str
    charged_at_checkout: bool
    total: str
    starting_spend: dict[str, str]
    tier_spend: dict[str, str]


class ItemResolution(BaseModel):
    item: str
    mode: str
    aoi_source: str
    deduplication: str
    owned_pairs: int
    warnings: list[str]


class EstimateBody(BaseModel):
    """An estimate: lines per part or cell group, month and tier bracket, image dates, totals; stored as a
    quote until ``expires_at``."""

    model_config = ConfigDict(extra="allow")
    quote_id: str
    created_at: datetime
    expires_at: datetime
    total: str
    due_at_checkout: str
    currency: str
    price_book_version: str
    image_dates: list[ImageDates]
    lines: list[EstimateLine]
    areas: list[PricedArea]
    tiers: list[TierBracket]
    months: list[MonthTotal]
    priced_on: date
    spend_source: str
    deduplication: Literal["applied", "not_requested", "unavailable"]
    items: list[ItemResolution]
    warnings: list[str]


class QuoteBody(BaseModel):
    quote_id: str
    account_id: str
    created_at: datetime
    expires_at: datetime
    expired: bool
    total: str
    due_at_checkout: str
    currency: str
    price_book_version: str
    request: dict[str, Any]
    estimate: EstimateBody


class OptionalConstellation(BaseModel):
    constellation: str
    display_name: str
    add_on_rate_per_km2: str


class ModelListing(BaseModel):
    model_config = ConfigDict(protected_namespaces=())
    model: str
    display_name: str
    family: str
    base_rate_per_km2: str
    required_constellations: list[str]
    optional_constellations: list[OptionalConstellation]
    currency: str
    price_book_version: str


class TierListing(BaseModel):
    tier: int
    spend_from: str
    spend_to: str | None
    discount: str


class Extras(BaseModel):
    storage_rate_per_km2_image_month: str
    download_block_price: str
    download_block_units: int
    download_unit_km2: str
    included_requests: int


class ModelsBody(BaseModel):
    """The models with their constellations (required, optional with add-on rates) and the price book."""

    price_book_version: str
    currency: str
    models: list[ModelListing]
    mode_factors: dict[str, str]
    tiers: dict[str, list[TierListing]]
    minimum_billable_km2: str
    extras: Extras
