"""Provisional spend: checkouts priced before their order events arrive still see each other's spend.

Every figure is worked by hand from docs/domain.md, Pricing (Stratus family: tier 1 up to €1,000 at 0 %,
tier 2 €1,000-3,000 at 65 %). The worked example: Stratus-2 with all three constellations on one full
interior tile (2,621.44 km²), April 2025 every 3 days (10 dates) → 26,214.4 km²·images at
€0.20 × 0.20 = €0.04 (tier 1) / €0.04 × 0.35 = €0.014 (tier 2).
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import pytest

from shared.contracts.checkout import CheckoutFailed, OrderPlaced, OrderRenewed, RenewalFailed
from shared.contracts.common import Renewal, SpendLine
from shared.contracts.pricing import PriceCheckout
from tests.integration.pricing.test_saga import (
    ALL_THREE,
    APRIL_DATES,
    replies_for,
    send,
    snapshot,
    wait_consumed,
    worked_tile,
)

pytestmark = pytest.mark.integration


def this_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


async def estimate_of_the_tile(pricing, account: str) -> dict:
    r = await pricing.client.post("/v1/estimates", json=worked_tile(), headers=pricing.auth(account))
    assert r.status_code == 201, r.text
    return r.json()


async def provisional(database_url: str, checkout_id: str) -> list[tuple[str, str, str, Decimal]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT item_id, month, family, amount FROM pricing.spend_provisional"
                                " WHERE checkout_id = $1 ORDER BY item_id, month, family", checkout_id)
        return [(r["item_id"], r["month"], r["family"], Decimal(r["amount"])) for r in rows]
    finally:
        await conn.close()


async def test_two_checkouts_priced_back_to_back_see_each_others_spend(pricing, database_url, kafka_bootstrap, unique):
    """Two checkouts of one account, each the whole worked-example tile, no OrderPlaced in between.

    First: spend 0 → 25,000 km²·images × €0.04 = €1,000.00 (tier 1) + 1,214.4 × €0.014 = €17.0016 → €17.00
           = €1,017.00.
    Second: spend is already €1,017.00 (provisional) → all tier 2: 26,214.4 × €0.014 = €367.0016 → €367.00
           (without provisional spend it was €1,017.00 again: €2,034.00 charged instead of €1,384.00).
    CheckoutFailed for the second → its €367.00 goes; the spend is €1,017.00 → an estimate is €367.00 again.
    OrderPlaced for the first (item-1, €1,017.00) → confirmed €1,017.00, the provisional €1,017.00 settled
    (not counted twice: €2,034.00 would still be tier 2 = €367.00, so the ledger rows are checked too) → €367.00.
    CheckoutFailed for the first afterwards changes nothing: its spend is confirmed → still €367.00.
    """
    account = f"prov-{unique}"
    first_id, second_id = f"chk1-{unique}", f"chk2-{unique}"
    first = PriceCheckout(account_id=account, checkout_id=first_id, items=[snapshot("item-1", [])])
    second = PriceCheckout(account_id=account, checkout_id=second_id, items=[snapshot("item-1", [])])
    await send(kafka_bootstrap, [first, second])

    ((kind1, reply1),) = await replies_for(kafka_bootstrap, first_id, 1)
    ((kind2, reply2),) = await replies_for(kafka_bootstrap, second_id, 1)
    assert kind1 == kind2 == "pricing.checkout_priced.v1"
    assert Decimal(reply1["total"]) == Decimal("1017.00")
    assert Decimal(reply2["total"]) == Decimal("367.00")
    assert [(s["month"], s["family"], Decimal(s["amount"])) for s in reply2["items"][0]["spend"]] == [
        (this_month(), "Stratus", Decimal("367.00"))]
    assert await provisional(database_url, first_id) == [("item-1", this_month(), "Stratus", Decimal("1017.00"))]
    assert await provisional(database_url, second_id) == [("item-1", this_month(), "Stratus", Decimal("367.00"))]

    # The second checkout fails: only the first's €1,017.00 remains (provisional).
    ids = await send(kafka_bootstrap, [CheckoutFailed(checkout_id=second_id, account_id=account,
                                                      code="insufficient_credit", reason="not enough credit")])
    await wait_consumed(database_url, ids)
    assert await provisional(database_url, second_id) == []
    body = await estimate_of_the_tile(pricing, account)
    assert body["months"][0]["starting_spend"]["Stratus"] == "1017.00"
    assert body["total"] == "367.00"

    # The first is placed: the spend is confirmed, its provisional row settled (counted once: €1,017.00).
    placed = OrderPlaced(order_id=f"o1-{unique}", account_id=account, checkout_id=first_id, model="Stratus2",
                         constellations=ALL_THREE, status="Review", amount=Decimal("1017.00"), item_id="item-1",
                         spend=[SpendLine(month=this_month(), family="Stratus", amount=Decimal("1017.00"))])
    ids = await send(kafka_bootstrap, [placed])
    await wait_consumed(database_url, ids)
    assert await provisional(database_url, first_id) == []
    body = await estimate_of_the_tile(pricing, account)
    assert body["months"][0]["starting_spend"]["Stratus"] == "1017.00"
    assert body["total"] == "367.00"

    # A (contrived) CheckoutFailed for the placed checkout: nothing provisional left to drop.
    ids = await send(kafka_bootstrap, [CheckoutFailed(checkout_id=first_id, account_id=account, code="x", reason="x")])
    await wait_consumed(database_url, ids)
    body = await estimate_of_the_tile(pricing, account)
    assert body["months"][0]["starting_spend"]["Stratus"] == "1017.00"
    assert body["total"] == "367.00"


async def test_a_replayed_price_checkout_adds_its_provisional_spend_once(pricing, database_url, kafka_bootstrap,
                                                                         unique):
    """5 of the 10 dates owned: 13,107.2 km²·images × €0.04 = €524.288 → €524.29 (tier 1), sent twice.

    Counted once, the spend is €524.29 and the whole tile then costs: €1,000 − €524.29 = €475.71 left in
    tier 1 = 11,892.75 km²·images × €0.04 = €475.71, the other 26,214.4 − 11,892.75 = 14,321.65 × €0.014
    = €200.5031 → €200.50; total €676.21. (Counted twice, €1,048.58, it would be all tier 2: €367.00.)
    """
    account, checkout_id = f"replay-{unique}", f"chk-{unique}"
    cmd = PriceCheckout(account_id=account, checkout_id=checkout_id, items=[snapshot("item-1", APRIL_DATES[:5])])
    await send(kafka_bootstrap, [cmd])
    await send(kafka_bootstrap, [cmd])
    replies = await replies_for(kafka_bootstrap, checkout_id, 2)
    assert [Decimal(body["total"]) for _, body in replies] == [Decimal("524.29")] * 2
    assert await provisional(database_url, checkout_id) == [("item-1", this_month(), "Stratus", Decimal("524.29"))]
    body = await estimate_of_the_tile(pricing, account)
    assert body["months"][0]["starting_spend"]["Stratus"] == "524.29"
    assert body["total"] == "676.21"


async def test_a_renewal_is_settled_by_order_renewed_and_a_failure_first_leaves_a_tombstone(
        pricing, database_url, kafka_bootstrap, unique):
    """A renewal (retry attempt 1) priced at spend 0: €1,017.00 provisional; OrderRenewed (€1,017.00) settles it
    → the estimate is €367.00 (spend €1,017.00, confirmed, once). A checkout that failed before it was priced
    (contrived order) adds no provisional spend: the estimate stays €367.00."""
    account, order_id = f"renew-{unique}", str(uuid.uuid4())
    renewal = Renewal(order_id=order_id, month=this_month(), attempt=1)
    renewal_id = renewal.checkout_id
    await send(kafka_bootstrap, [PriceCheckout(account_id=account, checkout_id=renewal_id, renewal=renewal,
                                               items=[snapshot("item-1", [])])])
    ((_, reply),) = await replies_for(kafka_bootstrap, renewal_id, 1)
    assert Decimal(reply["total"]) == Decimal("1017.00")
    assert reply["renewal"] == {"order_id": order_id, "month": this_month(), "attempt": 1}  # echoed
    assert await provisional(database_url, renewal_id) == [("item-1", this_month(), "Stratus", Decimal("1017.00"))]
    ids = await send(kafka_bootstrap, [OrderRenewed(
        order_id=order_id, account_id=account, month=this_month(), amount=Decimal("1017.00"),
        spend=[SpendLine(month=this_month(), family="Stratus", amount=Decimal("1017.00"))])])
    await wait_consumed(database_url, ids)
    assert await provisional(database_url, renewal_id) == []
    assert (await estimate_of_the_tile(pricing, account))["total"] == "367.00"

    late_id = f"late-{unique}"
    ids = await send(kafka_bootstrap, [CheckoutFailed(checkout_id=late_id, account_id=account, code="x", reason="x")])
    await wait_consumed(database_url, ids)
    await send(kafka_bootstrap, [PriceCheckout(account_id=account, checkout_id=late_id,
                                               items=[snapshot("item-1", [])])])
    ((_, reply),) = await replies_for(kafka_bootstrap, late_id, 1)
    assert Decimal(reply["total"]) == Decimal("367.00")
    assert await provisional(database_url, late_id) == []
    assert (await estimate_of_the_tile(pricing, account))["total"] == "367.00"


async def test_a_failed_renewal_attempt_drops_its_spend_and_earlier_attempts_but_not_a_later_one(
        pricing, database_url, kafka_bootstrap, unique):
    """Attempts 0, 1 and 2 of one renewal priced: the first at spend 0 (€1,017.00), the others on top of the
    provisional spend before them (€1,017.00, then €1,384.00: both in the 65 % bracket, 26,214.4 km²·images x
    €0.014 = €367.00). RenewalFailed for attempt 1 drops attempts 0 and 1 and keeps attempt 2."""
    account, order_id = f"renew-fail-{unique}", str(uuid.uuid4())
    attempts = [Renewal(order_id=order_id, month=this_month(), attempt=n) for n in range(3)]
    for r in attempts:
        await send(kafka_bootstrap, [PriceCheckout(account_id=account, checkout_id=r.checkout_id, renewal=r,
                                                   items=[snapshot("item-1", [])])])
        await replies_for(kafka_bootstrap, r.checkout_id, 1)
    ids = await send(kafka_bootstrap, [RenewalFailed(order_id=order_id, account_id=account, renewal=attempts[1],
                                                     code="insufficient_credit", reason="x")])
    await wait_consumed(database_url, ids)
    assert await provisional(database_url, attempts[0].checkout_id) == []
    assert await provisional(database_url, attempts[1].checkout_id) == []
    assert await provisional(database_url, attempts[2].checkout_id) == [("item-1", this_month(), "Stratus",
                                                                        Decimal("367.00"))]
