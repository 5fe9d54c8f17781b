"""The pricing service's transactions, called by its routes, consumers and background job:

- the estimate: parse the request, resolve AOIs (peers), read the spend, price, store the quote;
- quotes: read one, purge the expired ones;
- the checkout saga: reply to ``PriceCheckout`` and hold its provisional spend;
- the spend ledger: record order events' spend, drop a failed checkout's provisional spend.

The rules are in ``domain`` (``domain.checkout`` explains the saga's and the ledger's), the SQL in
``store``. The consumers' use cases run in the inbox's transaction, under the per-account lock.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import orjson

from services.pricing import peers, store, views
from services.pricing.domain import Month, estimate, pricing_item_from_payload
from services.pricing.domain.checkout import (
    ConflictingSpend,
    UnusableSpendLine,
    attempts_up_to,
    price_checkout,
    provisional_rows,
    renewed_key,
    renewed_settles,
    spend_conflict,
    spend_lines,
)
from services.pricing.domain.estimate_request import parse_estimate_request, parse_json_body
from services.pricing.domain.resolve import ResolvedItem, charge_dates, grid_cells, inline_parts, without_owned
from services.pricing.settings import PricingSettings
from shared.catalog import ModelFamily
from shared.contracts.base import REGISTRY, Message
from shared.contracts.checkout import CheckoutFailed, OrderCanceled, OrderPlaced, OrderRenewed, RenewalFailed
from shared.contracts.pricing import CheckoutPriced, PriceCheckout
from shared.inbox import Reject
from shared.money import amount_issue
from shared.outbox import Outbox
from shared.problems import Problem
from shared.schedule import utc_today
from shared.service import Runtime
from shared.vocabulary import OrderItem

log = logging.getLogger("tessera.pricing")


# ------------------------------------------------------------------------------ estimates


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
    spend: Callable[[Month, ModelFamily], Decimal] | None
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
    response = views.estimate_view(result, resolved, quote_id=quote_id, now=now, expires_at=expires_at,
                                   spend_source=spend_source)
    text = orjson.dumps(response).decode()
    await store.insert_quote(
        rt.pool, quote_id=quote_id, account_id=account, request_json=request_text, response_json=text,
        total=result.total, due_at_checkout=result.due_at_checkout,
        price_book_version=result.price_book_version, created_at=now, expires_at=expires_at,
    )
    return response, text


def _is_large(resolved: list[ResolvedItem]) -> bool:
    # Big selections are priced off the event loop so other requests are not held up.
    return sum(len(r.item.cells) + len(r.item.parts) for r in resolved) > 5_000


async def resolve_estimate_item(
    payload: OrderItem,
    label: str,
    *,
    http: Any,
    settings: PricingSettings,
    authorization: str | None,
    checkout_day: date,
    include_next_month: bool,
    field_prefix: str = "",
) -> ResolvedItem:
    """Resolve one estimate item's AOI (and deduplication) into a ``PricingItem``."""
    if payload.aoi_mode == "grid":
        cells = grid_cells(payload, field_prefix)
        resolved_dedup, owned_count = "not_requested", 0
        warnings: list[str] = []
        if payload.tile_deduplication:
            dates = charge_dates(payload, checkout_day, include_next_month=include_next_month)
            owned, warnings = await peers.owned_pairs(http, settings, payload, cells, dates, authorization)
            if owned is None:
                resolved_dedup = "unavailable"
                warnings = ["tile deduplication is unavailable (the tiling service did not answer in time); "
                            "this estimate prices every selected cell and date, checkout will deduplicate"]
            else:
                resolved_dedup = "applied"
                cells, owned_count = without_owned(cells, owned)
        item = pricing_item_from_payload(payload, label=label, cells=cells)
        return ResolvedItem(item, "grid", "grid", resolved_dedup, owned_count, list(warnings))
    if payload.aoi_id is not None:
        parts = await peers.stored_aoi_parts(http, settings, payload.aoi_id, authorization, f"{field_prefix}aoi_id")
        return ResolvedItem(pricing_item_from_payload(payload, label=label, parts=parts), "polygon", "aoi_id")
    parts, warnings, source = await asyncio.to_thread(inline_parts, payload, field_prefix)
    return ResolvedItem(pricing_item_from_payload(payload, label=label, parts=parts), "polygon", source,
                        warnings=warnings)


# ------------------------------------------------------------------------------ quotes


async def find_quote(pool: asyncpg.Pool, quote_id: str, account: str) -> asyncpg.Record | None:
    """The account's quote, or None (not a UUID, unknown, or another account's)."""
    try:
        ident = uuid.UUID(quote_id)
    except ValueError:
        return None
    return await store.get_quote(pool, ident, account)


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


async def purge_quotes(rt: Runtime) -> None:
    """Background job: expired quotes are deleted after ``quote_retention_seconds``."""
    settings: Any = rt.settings
    while True:
        try:
            purged = await purge_expired_quotes(rt.pool, datetime.now(UTC), settings.quote_retention_seconds)
            if purged:
                log.info("purged %d expired quotes", purged)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("quote purge failed")
        await asyncio.sleep(settings.quote_purge_seconds)


# ------------------------------------------------------------------------------ checkout saga


async def answer_price_checkout(
    conn: asyncpg.Connection, outbox: Outbox, cmd: PriceCheckout, correlation_id: str | None
) -> None:
    """``PriceCheckout`` -> ``CheckoutPriced`` | ``PricingRejected`` in the outbox, under the account's lock."""
    await store.lock_account(conn, cmd.account_id)
    reply = await checkout_reply(conn, cmd)
    await outbox.add(conn, reply, correlation_id=correlation_id)


async def checkout_reply(conn: asyncpg.Connection, cmd: PriceCheckout, *, today: date | None = None) -> Message:
    """The reply to a ``PriceCheckout`` (stored and replayed by checkout id). Call under the lock."""
    known = await store.get_checkout_pricing(conn, cmd.checkout_id)
    if known is not None:
        if known["account_id"] != cmd.account_id:
            raise Reject(f"checkout {cmd.checkout_id} was priced for another account")
        return REGISTRY[known["reply_type"]].model_validate(known["reply"])
    day = today or cmd.price_date or utc_today()
    ledger = await store.month_spend(conn, cmd.account_id, (Month.of(day),))
    reply = price_checkout(cmd, day, ledger)
    await store.insert_checkout_pricing(conn, checkout_id=cmd.checkout_id, account_id=cmd.account_id,
                                        reply_type=reply.TYPE, reply=reply.model_dump(mode="json"))
    if isinstance(reply, CheckoutPriced):
        settled_ids, rows = provisional_rows(reply)
        await store.insert_provisional(conn, account_id=reply.account_id, checkout_id=reply.checkout_id,
                                       settled_ids=settled_ids, rows=rows)
    return reply


# ------------------------------------------------------------------------------ spend ledger


async def record_spend(conn: asyncpg.Connection, message: Message, event_id: Any) -> None:
    """Apply one order event to the ledger (idempotent, order-independent). Call in the inbox transaction."""
    if not isinstance(message, OrderPlaced | OrderRenewed | OrderCanceled):
        return
    try:
        lines = spend_lines(message.spend_reversed if isinstance(message, OrderCanceled) else message.spend,
                            f"order {message.order_id}")
        await store.lock_account(conn, message.account_id)
        order_id, account_id = message.order_id, message.account_id
        for (month, family), amount in lines.items():
            if isinstance(message, OrderCanceled):
                existing = await store.record_reversal(conn, order_id=order_id, account_id=account_id, month=month,
                                                       family=family, amount=amount, event_id=event_id)
            else:
                kind = "placed" if isinstance(message, OrderPlaced) else "renewed"
                existing = await store.record_charge(conn, order_id=order_id, account_id=account_id, month=month,
                                                     family=family, amount=amount, kind=kind, event_id=event_id)
            if existing is not None and (conflict := spend_conflict(
                    existing, order_id=order_id, month=month, family=family, amount=amount, account_id=account_id,
                    message_type=message.TYPE)):
                raise conflict
    except (UnusableSpendLine, ConflictingSpend) as exc:
        raise Reject(str(exc)) from None
    # The real spend is recorded: the checkout's provisional spend is settled in the same transaction.
    if isinstance(message, OrderPlaced):
        await store.settle_provisional(conn, checkout_ids=[message.checkout_id], tombstone=message.checkout_id,
                                       item_id=message.item_id)  # None (an older producer): the whole checkout
    elif isinstance(message, OrderRenewed):
        renewal = renewed_settles(message)
        await store.settle_provisional(conn, checkout_ids=await store.provisional_checkouts_like(conn, renewal.base),
                                       tombstone=renewed_key(renewal), item_id=None)


async def drop_provisional(conn: asyncpg.Connection, message: CheckoutFailed | RenewalFailed) -> None:
    """A failed checkout or renewal attempt charges nothing: its provisional spend goes (a renewal's
    earlier attempts too: their late replies were ignored by checkout). In the inbox transaction."""
    await store.lock_account(conn, message.account_id)
    if isinstance(message, CheckoutFailed):
        ids, tombstone = [message.checkout_id], message.checkout_id
    else:
        r = message.renewal
        ids = attempts_up_to(await store.provisional_checkouts_like(conn, r.base), r)
        ids, tombstone = [*ids, r.checkout_id], r.checkout_id
    await store.settle_provisional(conn, checkout_ids=ids, tombstone=tombstone, item_id=None)
