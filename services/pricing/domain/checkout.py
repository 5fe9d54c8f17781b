"""Pricing's part in the checkout saga and the spend ledger fed by order events: the rules, no I/O
(``usecases`` runs them in the transaction with the store's rows).

``PriceCheckout`` (on ``pricing.quote.commands``): price exactly the frozen items (grid cells
already reduced by deduplication) at the account's current month spend, under the per-account
lock, and reply ``CheckoutPriced`` or ``PricingRejected`` (``price_checkout``). The reply is stored by
``checkout_id``: the same checkout priced again replies the very same figures. Pricing does *not*
add the spend to the ledger here; checkout emits ``OrderPlaced`` (with the spend lines given here)
when it really charges, and that event feeds the ledger.

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
reported again with a different amount or account is a bug upstream (``ConflictingSpend``).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from pydantic import ValidationError

from shared.catalog import ModelFamily
from shared.contracts.checkout import OrderRenewed
from shared.contracts.common import Renewal, SpendLine
from shared.contracts.pricing import CheckoutPriced, PriceCheckout, PricedItem, PricingRejected
from shared.money import amount_issue
from shared.schedule import Month

from .estimate import LineKind, PricingItem, estimate, estimate_payload
from .resolve import item_from_snapshot

__all__ = [
    "ConflictingSpend",
    "UnusableSpendLine",
    "attempts_up_to",
    "price_checkout",
    "provisional_rows",
    "renewed_key",
    "renewed_settles",
    "spend_conflict",
    "spend_lines",
]

SpendKey = tuple[Month, ModelFamily]


class UnusableSpendLine(ValueError):
    """A spend line that can never be applied (not a month, family or non-negative amount)."""


class ConflictingSpend(ValueError):
    """The same (order, month, family) reported again with a different amount or account."""


def _readable(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for e in exc.errors()[:3]:
            loc = ".".join(str(p) for p in e.get("loc", ())) or "item"
            parts.append(f"{loc}: {e.get('msg')}")
        return "; ".join(parts)
    return str(exc)


def _rejected(cmd: PriceCheckout, code: str, reason: str) -> PricingRejected:
    return PricingRejected(account_id=cmd.account_id, checkout_id=cmd.checkout_id, renewal=cmd.renewal, code=code,
                           reason=reason)


def price_checkout(
    cmd: PriceCheckout, today: date, ledger: Mapping[SpendKey, Decimal]
) -> CheckoutPriced | PricingRejected:
    """The reply to a first ``PriceCheckout``, at the account's spend of ``today``'s month (``ledger``)."""
    if not cmd.items:
        return _rejected(cmd, "empty_checkout", "the checkout has no items to price")
    ids = [s.item_id for s in cmd.items]
    if len(set(ids)) != len(ids):
        return _rejected(cmd, "invalid_item", "item ids repeat within the checkout")
    items: dict[str, PricingItem | None] = {}
    for snapshot in cmd.items:
        try:
            items[snapshot.item_id] = item_from_snapshot(snapshot)
        except ValueError as exc:  # pydantic's ValidationError included
            return _rejected(cmd, "invalid_item", f"item {snapshot.item_id} cannot be priced: {_readable(exc)}")

    priceable = [item for item in items.values() if item is not None]
    try:
        result = estimate(priceable, checkout_day=today, include_next_month=False,
                          spend=lambda m, f: ledger.get((m, f), Decimal(0)))
    except ValueError as exc:
        return _rejected(cmd, "invalid_item", _readable(exc))
    payload_lines = cast(list[dict[str, Any]], estimate_payload(result)["lines"])
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


def provisional_rows(reply: CheckoutPriced) -> tuple[list[str], list[tuple[str, str, str, Decimal]]]:
    """A freshly priced checkout's provisional spend: the ids whose tombstone means it is settled
    already, and its rows (item_id, month, family, amount), amounts summed and none zero."""
    rows: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for item in reply.items:
        for line in item.spend:
            rows[(item.item_id, line.month, line.family)] += Decimal(line.amount)
    settled_ids = [reply.checkout_id]
    if reply.renewal is not None:
        settled_ids.append(renewed_key(reply.renewal))
    return settled_ids, [(item_id, month, family, amount)
                         for (item_id, month, family), amount in rows.items() if amount > 0]


def renewed_key(renewal: Renewal) -> str:
    """The tombstone of a renewed (order, month): it covers every attempt of that renewal."""
    return "renewed:" + renewal.base.removeprefix("renewal:")


def renewed_settles(message: OrderRenewed) -> Renewal:
    """The renewal whose attempts (every one of that order and month) an ``OrderRenewed`` settles."""
    try:
        month_key = str(Month.parse(message.month))
    except ValueError:
        month_key = message.month
    return Renewal(order_id=message.order_id, month=month_key)


def attempts_up_to(checkout_ids: Iterable[str], renewal: Renewal) -> list[str]:
    """Of these checkout ids, the attempts of ``renewal``'s (order, month) up to its own attempt."""
    return [c for c in checkout_ids
            if (attempt := Renewal.attempt_of(c, renewal.base)) is not None and attempt <= renewal.attempt]


# ------------------------------------------------------------------------------ spend ledger


def spend_lines(lines: list[SpendLine], what: str) -> dict[tuple[str, str], Decimal]:
    """Spend lines summed per (month, family), checked (a bad line can never be applied)."""
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in lines:
        try:
            month = str(Month.parse(line.month))
            family = ModelFamily(line.family).value
            amount = Decimal(line.amount)
        except (ValueError, InvalidOperation) as exc:
            raise UnusableSpendLine(f"{what}: bad spend line {line.model_dump(mode='json')}: {exc}") from None
        if amount < 0 or not amount.is_finite():
            raise UnusableSpendLine(f"{what}: a spend line cannot be negative ({line.model_dump(mode='json')})")
        out[(month, family)] += amount
    return out


def spend_conflict(
    existing: Mapping[str, Any], *, order_id: str, month: str, family: str, amount: Decimal, account_id: str,
    message_type: str,
) -> ConflictingSpend | None:
    """The conflict when the ledger's row for this (order, month, family) differs from what is now reported."""
    if Decimal(existing["amount"]) == amount and existing["account_id"] == account_id:
        return None
    return ConflictingSpend(
        f"order {order_id} {month} {family}: already recorded {existing['amount']} EUR for "
        f"{existing['account_id']}, now {amount} EUR for {account_id} ({message_type})"
    )
