"""The spend ledger fed by order events, and PriceCheckout -> CheckoutPriced, on the real topics."""
from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import pytest

from shared.contracts.checkout import OrderCanceled, OrderPlaced
from shared.contracts.common import Cell, ItemSnapshot, SpendLine
from shared.contracts.pricing import PriceCheckout
from shared.grid import CellId
from tests.support.kafka import headers, read_topic, replies_on, send_messages

pytestmark = pytest.mark.integration

ALL_THREE = ["Sentinel1", "Sentinel2", "Landsat89"]
FULL_TILE = CellId(33, False, 9, 100).guid  # a whole tile: 2,621.44 km²
APRIL_DATES = [f"2025-04-{d:02d}" for d in (1, 4, 7, 10, 13, 16, 19, 22, 25, 28)]


def worked_tile() -> dict:
    return {"tile_guids": [FULL_TILE], "model": "Stratus2", "constellations": ALL_THREE, "from": "2025-04-01",
            "to": "2025-04-30", "image_frequency": 3, "reference_date": "2025-01-01"}


async def send(bootstrap: str, messages: list, *, ids: list[uuid.UUID] | None = None) -> list[uuid.UUID]:
    """Publish messages (key = aggregate id); ``ids`` reuses event ids (a redelivery)."""
    return await send_messages(bootstrap, messages, ids=ids)

async def wait_consumed(database_url: str, event_ids: list[uuid.UUID], timeout: float = 30.0) -> None:
    """Until the pricing service's inbox holds every one of these event ids."""
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            n = await conn.fetchval(
                "SELECT count(DISTINCT event_id) FROM pricing.inbox WHERE event_id = ANY($1::uuid[])",
                list(set(event_ids)))
            if n == len(set(event_ids)):
                return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"pricing consumed {n} of {len(set(event_ids))} events")
    finally:
        await conn.close()


async def test_duplicated_and_out_of_order_order_events_leave_the_spend_right(pricing, database_url, kafka_bootstrap,
                                                                              unique):
    account = f"ledger-{unique}"
    month = datetime.now(UTC).strftime("%Y-%m")
    placed = OrderPlaced(order_id=f"o1-{unique}", account_id=account, checkout_id=f"c1-{unique}", model="Stratus2",
                         constellations=ALL_THREE, status="Review", amount=Decimal("1000.00"),
                         spend=[SpendLine(month=month, family="Stratus", amount=Decimal("1000.00"))])
    # Order 2 is cancelled in Review; the cancellation arrives before its placement.
    cancel = OrderCanceled(order_id=f"o2-{unique}", account_id=account, refunded=Decimal("500.00"),
                           spend_reversed=[SpendLine(month=month, family="Stratus", amount=Decimal("500.00"))])
    placed2 = OrderPlaced(order_id=f"o2-{unique}", account_id=account, checkout_id=f"c2-{unique}", model="Stratus2",
                          constellations=ALL_THREE, status="Review", amount=Decimal("500.00"),
                          spend=[SpendLine(month=month, family="Stratus", amount=Decimal("500.00"))])
    ids = await send(kafka_bootstrap, [placed, cancel, placed2])
    await send(kafka_bootstrap, [placed], ids=[ids[0]])  # the same event delivered twice
    ids += await send(kafka_bootstrap, [placed])  # the same placement re-emitted under a new event id
    await wait_consumed(database_url, ids)

    # Spend so far €1,000 (Stratus): the worked-example tile is all at tier 2, 26,214.4 × €0.014 = €367.0016 -> €367.00.
    r = await pricing.client.post("/v1/estimates", json=worked_tile(), headers=pricing.auth(account))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["months"][0]["starting_spend"]["Stratus"] == "1000.00"
    assert body["total"] == "367.00"
    assert [t["tier"] for t in body["tiers"]] == [2]


def snapshot(item_id: str, excluded: list[str], **changes) -> ItemSnapshot:
    return ItemSnapshot(item_id=item_id, item={**worked_tile(), **changes}, mode="grid",
                        cells=[Cell(guid=FULL_TILE, level="tile", area_km2=Decimal("2621.44"),
                                    excluded_dates=excluded)])


async def replies_for(bootstrap: str, checkout_id: str, count: int, timeout: float = 30.0) -> list[tuple[str, dict]]:
    return await replies_on(bootstrap, "pricing.quote.events", checkout_id, count, timeout)

async def test_price_checkout_prices_the_pairs_left_and_replies_the_same_figures_twice(pricing, kafka_bootstrap,
                                                                                       unique):
    # 5 of the 10 dates owned (excluded by tiling): 2,621.44 × 5 = 13,107.2 km²·images × €0.04 = €524.288 -> €524.29,
    # at zero spend (a fresh account). Priced twice -> the same reply twice.
    account, checkout_id = f"saga-{unique}", f"chk-{unique}"
    cmd = PriceCheckout(account_id=account, checkout_id=checkout_id, items=[snapshot("item-1", APRIL_DATES[:5])])
    await send(kafka_bootstrap, [cmd])
    await send(kafka_bootstrap, [cmd])
    replies = await replies_for(kafka_bootstrap, checkout_id, 2)
    assert [t for t, _ in replies] == ["pricing.checkout_priced.v1"] * 2
    first, second = replies[0][1], replies[1][1]
    assert first == second
    assert Decimal(first["total"]) == Decimal("524.29") and first["currency"] == "EUR"
    (item,) = first["items"]
    assert Decimal(item["amount_due"]) == Decimal("524.29")
    assert item["image_dates"] == APRIL_DATES
    assert [(s["month"], s["family"], Decimal(s["amount"])) for s in item["spend"]] == [
        (datetime.now(UTC).strftime("%Y-%m"), "Stratus", Decimal("524.29"))]
    assert [ln["image_dates"] for ln in item["lines"]] == [5]


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")  # the untyped item, on purpose
async def test_price_checkout_with_an_item_outside_the_vocabulary_is_dead_lettered_naming_the_field(
        pricing, kafka_bootstrap, unique):
    # No Tessera producer can build it (the item is typed); one on the wire goes to the DLQ, with the field.
    checkout_id = f"bad-{unique}"
    item = ItemSnapshot.model_construct(item_id="item-1", item={**worked_tile(), "image_frequency": 9}, mode="grid",
                                        parts=[], cells=[], footprint=None)
    cmd = PriceCheckout.model_construct(account_id=f"saga-{unique}", checkout_id=checkout_id, renewal=None,
                                        items=[item], quote_id=None, price_date=None)
    await send(kafka_bootstrap, [cmd])
    dlq = [r for r in await read_topic(kafka_bootstrap, "pricing.quote.commands.dlq", timeout=30, settle=2)
           if checkout_id.encode() in r.value]
    assert len(dlq) == 1
    reason = headers(dlq[0])["dlq_reason"]
    assert reason.startswith("schema: items.0.item.image_frequency:") and "7" in reason, reason
    assert await replies_for(kafka_bootstrap, checkout_id, 0, timeout=1) == []  # no reply: nothing was priced
