"""The estimate use case: parse the request, resolve AOIs, read the spend, price, store the quote.

Request (``POST /v1/estimates``): one order-item payload (docs/domain.md, Shared vocabulary), or a cart
``{"items": [payload, ...], "simulated_spend": "..."}``. Each cart item may carry an ``item_id``
(or ``label``) that names its lines; otherwise items are ``item-1``, ``item-2``, ... (a single
item is ``item``). **Decision**: one estimate has one starting spend, so a cart's simulated spend
is its top-level ``simulated_spend`` / ``SimulatedEuroUsage``, or the value its items give (they
must agree); without it the account's ledger spend of the month is used.
"""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from pydantic import ValidationError

from services.pricing import store
from services.pricing.domain import Month, current_price_book, estimate, estimate_payload, model_listing
from services.pricing.domain.resolve import ResolvedItem, resolve_estimate_item
from shared.catalog import ModelFamily
from shared.money import CURRENCY, amount_issue, format_amount
from shared.problems import Problem
from shared.vocabulary import OrderItem

MAX_CART_ITEMS = 100


@dataclass(frozen=True)
class EstimateRequest:
    items: list[tuple[str, OrderItem]]  # (label, payload)
    simulated_spend: Decimal | None
    cart: bool

    def field_prefix(self, index: int) -> str:
        return f"items.{index}." if self.cart else ""


def _errors_of(exc: ValidationError, prefix: str) -> list[dict[str, str]]:
    out = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e.get("loc", ()))
        out.append({"field": f"{prefix}{loc}" if loc else (prefix.rstrip(".") or "body"),
                    "message": e.get("msg", "invalid")})
    return out


def _invalid(errors: list[dict[str, str]]) -> Problem:
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return Problem(422, "validation_error", detail, errors=errors)


def _spend_value(value: Any, field_name: str) -> Decimal:
    try:
        spend = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _invalid([{"field": field_name, "message": f"not an amount: {value!r}"}]) from None
    if not spend.is_finite() or spend < 0:
        raise _invalid([{"field": field_name, "message": "must be a non-negative amount in EUR"}])
    return spend


def parse_json_body(raw: bytes | str) -> tuple[Any, str]:
    """The body parsed, and its text as sent (stored with the quote). orjson parses it several
    times faster than the standard library on a 100 KiB selection, and its error names the line
    and column. JSON is UTF-8 (RFC 8259); NaN and lone surrogates are refused."""
    if not raw:
        raise Problem(400, "malformed_json", 'the body is empty; send an order item or {"items": [...]}')
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
        return orjson.loads(text), text
    except UnicodeDecodeError as exc:
        raise Problem(400, "malformed_json", f"the body is not UTF-8: {exc}") from None
    except orjson.JSONDecodeError as exc:
        raise Problem(400, "malformed_json", f"the body is not JSON: {exc}") from None


def parse_estimate_request(body: Any) -> EstimateRequest:
    """Validate a single item or a cart; every broken rule is reported with its field."""
    if not isinstance(body, dict):
        raise _invalid([{"field": "body", "message": "send an order item object, or {\"items\": [...]}"}])
    cart = "items" in body
    raw_items = body["items"] if cart else [body]
    if cart and (not isinstance(raw_items, list) or not raw_items):
        raise _invalid([{"field": "items", "message": "give a non-empty list of order items"}])
    if len(raw_items) > MAX_CART_ITEMS:
        raise _invalid([{"field": "items", "message": f"at most {MAX_CART_ITEMS} items per estimate"}])
    errors: list[dict[str, str]] = []
    items: list[tuple[str, OrderItem]] = []
    for i, raw in enumerate(raw_items):
        prefix = f"items.{i}." if cart else ""
        if not isinstance(raw, dict):
            errors.append({"field": prefix.rstrip("."), "message": "an order item must be an object"})
            continue
        try:
            payload = OrderItem.model_validate(raw)
        except ValidationError as exc:
            errors.extend(_errors_of(exc, prefix))
            continue
        label = raw.get("item_id") or raw.get("label") or (f"item-{i + 1}" if cart else "item")
        items.append((str(label), payload))
    if errors:
        raise _invalid(errors)
    labels = [label for label, _ in items]
    if len(set(labels)) != len(labels):
        raise _invalid([{"field": "items", "message": "item_id values must be unique within one estimate"}])

    simulated: Decimal | None = None
    top = body.get("simulated_spend", body.get("SimulatedEuroUsage")) if cart else None
    if top is not None:
        simulated = _spend_value(top, "simulated_spend")
    else:
        given = {(i, p.simulated_spend) for i, (_, p) in enumerate(items) if p.simulated_spend is not None}
        values = {v for _, v in given}
        if len(values) > 1:
            first = min(i for i, _ in given)
            raise _invalid([{"field": f"items.{first}.simulated_spend",
                             "message": "items give different simulated spends; give one top-level simulated_spend"}])
        simulated = values.pop() if values else None
    return EstimateRequest(items, simulated, cart)


async def make_estimate(
    rt: Any, account: str, raw: bytes | str, authorization: str | None, *, now: datetime | None = None
) -> tuple[dict[str, Any], str]:
    """Price a request (the raw JSON body) for ``account`` and store it as a quote; returns the
    response body and its JSON text (serialised once: the same text is stored and sent)."""
    body, request_text = parse_json_body(raw)
    request = parse_estimate_request(body)
    now = now or datetime.now(UTC)
    today: date = now.date()
    settings = rt.settings
    resolved: list[ResolvedItem] = await asyncio.gather(*(
        resolve_estimate_item(payload, label, http=rt.http, settings=settings, authorization=authorization,
                              checkout_day=today, include_next_month=True, field_prefix=request.field_prefix(i))
        for i, (label, payload) in enumerate(request.items)
    ))
    this_month = Month.of(today)
    if request.simulated_spend is None:
        ledger = await store.month_spend(rt.pool, account, (this_month, this_month.next()))
        spend_source = "ledger"

        def spend(month: Month, family: ModelFamily) -> Decimal:
            return ledger.get((month, family), Decimal(0))
    else:
        spend, spend_source = None, "simulated"
    items = [r.item for r in resolved]
    if _is_large(resolved):
        result = await asyncio.to_thread(estimate, items, checkout_day=today, spend=spend,
                                         simulated_spend=request.simulated_spend)
    else:
        result = estimate(items, checkout_day=today, spend=spend, simulated_spend=request.simulated_spend)

    for name, amount in (("total", result.total), ("due_at_checkout", result.due_at_checkout)):
        issue = amount_issue(amount)
        if issue:  # quotes, checkouts and credits hold amounts only within the range of money
            raise Problem(422, "amount_out_of_range", f"the estimate's {name} cannot be quoted or charged: {issue}; "
                          "order a smaller area, fewer dates or fewer items", field=name)

    quote_id = uuid.uuid4()
    expires_at = now + timedelta(seconds=settings.quote_ttl_seconds)
    dedup = {r.deduplication for r in resolved}
    response: dict[str, Any] = {
        "quote_id": str(quote_id),
        "created_at": now.isoformat(),
        "expires_at": expires_at.isoformat(),
        **estimate_payload(result),
        "priced_on": today.isoformat(),
        "spend_source": spend_source,
        "deduplication": ("unavailable" if "unavailable" in dedup
                          else "applied" if "applied" in dedup else "not_requested"),
        "items": [r.summary() for r in resolved],
        "warnings": [f"{r.item.label}: {w}" for r in resolved for w in r.warnings],
    }
    text = orjson.dumps(response).decode()
    await store.insert_quote(
        rt.pool, quote_id=quote_id, account_id=account, request_json=request_text, response_json=text,
        total=result.total, due_at_checkout=result.due_at_checkout,
        price_book_version=result.price_book_version, created_at=now, expires_at=expires_at,
    )
    return response, text


PURGE_BATCH = 5_000


async def purge_expired_quotes(pool: Any, now: datetime, retention_seconds: float) -> int:
    """Delete the quotes that expired more than ``retention_seconds`` before ``now``, in batches
    (short transactions: estimates go on being stored meanwhile); returns how many."""
    before = now - timedelta(seconds=retention_seconds)
    purged = 0
    while True:
        n = await store.purge_quotes(pool, before, PURGE_BATCH)
        purged += n
        if n < PURGE_BATCH:
            return purged


def _is_large(resolved: list[ResolvedItem]) -> bool:
    # Big selections are priced off the event loop so other requests are not held up.
    return sum(len(r.item.cells) + len(r.item.parts) for r in resolved) > 5_000


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
