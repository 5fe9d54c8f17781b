"""Pricing's part in the checkout saga and the spend ledger fed by order events.

``PriceCheckout`` (on ``pricing.quote.commands``): price exactly the frozen items (grid cells
already reduced by deduplication) at the account's current month spend, under the per-account
lock, and reply ``CheckoutPriced`` or ``PricingRejected``. The reply is stored by ``checkout_id``:
the same checkout priced again replies the very same figures. Pricing does *not* add the spend to
the ledger here; checkout emits ``OrderPlaced`` (with the spend lines given here) when it really
charges, and that event feeds the ledger.

Provisional spend: until that event arrives, a freshly priced ``CheckoutPriced`` leaves its spend
lines as provisional rows (per checkout, item, month, family) that count toward the account's month
spend, so the next checkout or renewal of the account priced before the order events arrive starts
from the right spend (tiers are progressive, docs/decisions/0006-provisional-spend.md). A replayed reply adds nothing.
They are settled in the transaction that records the real spend (``OrderPlaced`` by checkout and
item; ``OrderRenewed`` by its renewal, every attempt of that order and month), or dropped by
``CheckoutFailed`` / ``RenewalFailed`` (a renewal's failure drops that attempt and earlier ones). A settling
event that comes first leaves a tombstone, so the checkout priced later adds no provisional spend.

The ledger (``checkout.order.events``): ``OrderPlaced`` / ``OrderRenewed`` record their spend lines,
``OrderCanceled`` records its ``spend_reversed`` lines as reversals. Every line is keyed by (order,
month, family), so a redelivered or re-emitted event changes nothing, and a cancellation that
arrives before its placement simply balances it later (spend = charges − reversals). The same key
reported again with a different amount or account is a bug upstream: dead-lettered with the reason.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

import asyncpg
from pydantic import ValidationError

from services.pricing import store
from services.pricing.domain import LineKind, Month, estimate, estimate_payload
from services.pricing.domain.resolve import item_from_snapshot
from shared.catalog import ModelFamily
from shared.contracts.base import REGISTRY, Message
from shared.contracts.checkout import CheckoutFailed, OrderCanceled, OrderPlaced, OrderRenewed, RenewalFailed
from shared.contracts.common import Renewal, SpendLine
from shared.contracts.pricing import CheckoutPriced, PriceCheckout, PricedItem, PricingRejected
from shared.inbox import Reject
from shared.money import amount_issue
from shared.schedule import utc_today


def _readable(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for e in exc.errors()[:3]:
            loc = ".".join(str(p) for p in e.get("loc", ())) or "item"
            parts.append(f"{loc}: {e.get('msg')}")
        return "; ".join(parts)
    return str(exc)


async def checkout_reply(conn: asyncpg.Connection, cmd: PriceCheckout, *, today=None) -> Message:
    """The reply to a ``PriceCheckout`` (stored and replayed by checkout id). Call under the lock."""
    known = await store.get_checkout_pricing(conn, cmd.checkout_id)
    if known is not None:
        if known["account_id"] != cmd.account_id:
            raise Reject(f"checkout {cmd.checkout_id} was priced for another account")
        return REGISTRY[known["reply_type"]].model_validate(known["reply"])
    reply = await _price(conn, cmd, today or cmd.price_date or utc_today())
    await store.insert_checkout_pricing(conn, checkout_id=cmd.checkout_id, account_id=cmd.account_id,
                                        reply_type=reply.TYPE, reply=reply.model_dump(mode="json"))
    if isinstance(reply, CheckoutPriced):
        await _hold_provisional(conn, reply)
    return reply


async def _hold_provisional(conn: asyncpg.Connection, reply: CheckoutPriced) -> None:
    """The spend lines of a freshly priced checkout, provisional until settled (skipped when settled already)."""
    rows: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for item in reply.items:
        for line in item.spend:
            rows[(item.item_id, line.month, line.family)] += Decimal(line.amount)
    settled_ids = [reply.checkout_id]
    if reply.renewal is not None:
        settled_ids.append(_renewed_key(reply.renewal))
    await store.insert_provisional(
        conn, account_id=reply.account_id, checkout_id=reply.checkout_id, settled_ids=settled_ids,
        rows=[(item_id, month, family, amount) for (item_id, month, family), amount in rows.items() if amount > 0],
    )


def _renewed_key(renewal: Renewal) -> str:
    """The tombstone of a renewed (order, month): it covers every attempt of that renewal."""
    return "renewed:" + renewal.base.removeprefix("renewal:")


def _rejected(cmd: PriceCheckout, code: str, reason: str) -> PricingRejected:
    return PricingRejected(account_id=cmd.account_id, checkout_id=cmd.checkout_id, renewal=cmd.renewal, code=code,
                           reason=reason)


async def _price(conn: asyncpg.Connection, cmd: PriceCheckout, today) -> Message:
    if not cmd.items:
        return _rejected(cmd, "empty_checkout", "the checkout has no items to price")
    ids = [s.item_id for s in cmd.items]
    if len(set(ids)) != len(ids):
        return _rejected(cmd, "invalid_item", "item ids repeat within the checkout")
    items = {}
    for snapshot in cmd.items:
        try:
            items[snapshot.item_id] = item_from_snapshot(snapshot)
        except ValueError as exc:  # pydantic's ValidationError included
            return _rejected(cmd, "invalid_item", f"item {snapshot.item_id} cannot be priced: {_readable(exc)}")

    month = Month.of(today)
    ledger = await store.month_spend(conn, cmd.account_id, (month,))
    priceable = [item for item in items.values() if item is not None]
    try:
        result = estimate(priceable, checkout_day=today, include_next_month=False,
                          spend=lambda m, f: ledger.get((m, f), Decimal(0)))
    except ValueError as exc:
        return _rejected(cmd, "invalid_item", _readable(exc))
    payload_lines = estimate_payload(result)["lines"]
    issue = amount_issue(result.due_at_checkout)
    if issue:
        return _rejected(cmd, "amount_out_of_range", f"the checkout's total cannot be charged: {issue}")

    priced = []
    for item_id in ids:
        lines = [ln for ln in result.lines if ln.item == item_id and ln.at_checkout]
        spend: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for ln in lines:
            if ln.kind is LineKind.IMAGERY:
                spend[(str(ln.month), ln.family.value)] += ln.amount
        dates = sorted({d for x in result.image_dates if x.item == item_id and x.at_checkout for d in x.dates})
        priced.append(PricedItem(
            item_id=item_id,
            amount_due=sum((ln.amount for ln in lines), Decimal("0.00")),
            image_dates=dates,
            lines=[pl for pl in payload_lines if pl["item"] == item_id and pl["charged_at_checkout"]],
            spend=[SpendLine(month=m, family=f, amount=a) for (m, f), a in spend.items()],
        ))
    return CheckoutPriced(account_id=cmd.account_id, checkout_id=cmd.checkout_id, renewal=cmd.renewal,
                          total=result.due_at_checkout,
                          price_book_version=result.price_book_version, items=priced)


# ------------------------------------------------------------------------------ spend ledger


def _merged(lines: list[SpendLine], what: str) -> dict[tuple[str, str], Decimal]:
    """Spend lines summed per (month, family), checked (a bad line can never be applied)."""
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in lines:
        try:
            month = str(Month.parse(line.month))
            family = ModelFamily(line.family).value
            amount = Decimal(line.amount)
        except (ValueError, InvalidOperation) as exc:
            raise Reject(f"{what}: bad spend line {line.model_dump(mode='json')}: {exc}") from None
        if amount < 0 or not amount.is_finite():
            raise Reject(f"{what}: a spend line cannot be negative ({line.model_dump(mode='json')})")
        out[(month, family)] += amount
    return out


async def record_spend(conn: asyncpg.Connection, message: Message, event_id: Any) -> None:
    """Apply one order event to the ledger (idempotent, order-independent). Call in the inbox transaction."""
    if isinstance(message, OrderPlaced | OrderRenewed):
        kind = "placed" if isinstance(message, OrderPlaced) else "renewed"
        lines, record = _merged(message.spend, f"order {message.order_id}"), store.record_charge
        extra = {"kind": kind}
    elif isinstance(message, OrderCanceled):
        lines, record = _merged(message.spend_reversed, f"order {message.order_id}"), store.record_reversal
        extra = {}
    else:
        return
    await store.lock_account(conn, message.account_id)
    for (month, family), amount in lines.items():
        existing = await record(conn, order_id=message.order_id, account_id=message.account_id, month=month,
                                family=family, amount=amount, event_id=event_id, **extra)
        if existing is not None and (Decimal(existing["amount"]) != amount
                                     or existing["account_id"] != message.account_id):
            raise Reject(
                f"order {message.order_id} {month} {family}: already recorded {existing['amount']} EUR for "
                f"{existing['account_id']}, now {amount} EUR for {message.account_id} ({message.TYPE})"
            )
    # The real spend is recorded: the checkout's provisional spend is settled in the same transaction.
    if isinstance(message, OrderPlaced):
        await store.settle_provisional(conn, checkout_ids=[message.checkout_id], tombstone=message.checkout_id,
                                       item_id=message.item_id)  # None (an older producer): the whole checkout
    elif isinstance(message, OrderRenewed):
        try:
            month_key = str(Month.parse(message.month))
        except ValueError:
            month_key = message.month
        renewal = Renewal(order_id=message.order_id, month=month_key)
        await store.settle_provisional(conn, checkout_ids=await store.provisional_checkouts_like(conn, renewal.base),
                                       tombstone=_renewed_key(renewal), item_id=None)


async def drop_provisional(conn: asyncpg.Connection, message: CheckoutFailed | RenewalFailed) -> None:
    """A failed checkout or renewal attempt charges nothing: its provisional spend goes (a renewal's
    earlier attempts too: their late replies were ignored by checkout). In the inbox transaction."""
    await store.lock_account(conn, message.account_id)
    if isinstance(message, CheckoutFailed):
        ids, tombstone = [message.checkout_id], message.checkout_id
    else:
        r = message.renewal
        ids = [c for c in await store.provisional_checkouts_like(conn, r.base)
               if (attempt := Renewal.attempt_of(c, r.base)) is not None and attempt <= r.attempt]
        ids, tombstone = [*ids, r.checkout_id], r.checkout_id
    await store.settle_provisional(conn, checkout_ids=ids, tombstone=tombstone, item_id=None)
