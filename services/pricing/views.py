"""Response shapes of the pricing service: JSON-ready dicts built from the calculator's results,
stored quotes and the price book."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from services.pricing.domain import Estimate, current_price_book, estimate_payload, model_listing
from services.pricing.domain.resolve import ResolvedItem
from shared.catalog import ModelFamily
from shared.money import CURRENCY, format_amount


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
