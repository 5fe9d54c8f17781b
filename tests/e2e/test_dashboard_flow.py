"""The dashboard's flows across all five services, real Kafka and Postgres.

Figures: the AOI is the box 10.0-10.1 E x 50.0-50.1 N, geodesic area 79.6644 km² (the README's
79.66 km²). Stratus-2 with its three required inputs (no add-ons), April 2025, frequency 3 from
reference 2025-01-01 -> Apr 1, 4, ..., 28 = 10 dates (docs/domain.md, Pricing), so the price is
79.6644 x 10 x EUR 0.20 = EUR 159.3289 -> EUR 159.33 at tier 1 (polygon factor 1.00).
A full interior tile on the same dates: 2,621.44 km² x 10 = 26,214.4 km²·images at EUR 0.04;
from zero spend -> EUR 1,000.00 + 1,214.4 x 0.014 = EUR 1,017.00 (docs/domain.md, Pricing).
"""
import json
from decimal import Decimal

import asyncpg
import pytest

from shared.grid import CellId
from tests.e2e.conftest import PARTNER, Dashboard, report_status
from tests.support.kafka import headers, read_topic

pytestmark = pytest.mark.e2e

APRIL = {"model": "Stratus2", "constellations": ["Sentinel1", "Sentinel2", "Landsat89"], "from": "2025-04-01",
         "to": "2025-04-30", "image_frequency": 3, "reference_date": "2025-01-01"}
BOX = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
    "type": "Polygon", "coordinates": [[[10.0, 50.0], [10.1, 50.0], [10.1, 50.1], [10.0, 50.1], [10.0, 50.0]]]}}]}


def tile(col: int, row: int) -> str:
    return CellId(32, False, col, row).guid  # zone 32N, interior: a whole 2,621.44 km² tile


async def ledger_sum(database_url, account):
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval("SELECT coalesce(sum(amount), 0) FROM checkout.credit_ledger WHERE account_id = $1",
                                   account)
    finally:
        await conn.close()


async def test_upload_cart_estimate_checkout_review_production_completed(stack, kafka_bootstrap, database_url, unique):
    d = Dashboard(stack, f"acct-{unique}")
    await d.top_up("1000.00")
    aoi = await d.upload_aoi("field", json.dumps(BOX).encode(), "field.geojson")
    cart_id = await d.new_cart()
    await d.add_item(cart_id, {"aoi_id": aoi["id"], **APRIL})
    cart = await d.cart(cart_id)
    assert cart["estimate"]["total"] == "159.33"
    assert cart["estimate"]["currency"] == "EUR"

    co = await d.wait_checkout((await d.checkout(cart_id, "159.33"))["id"])
    assert co["status"] == "completed", co
    [order_id] = co["order_ids"]
    order = await d.order(order_id)
    assert order["status"] == "Review"
    assert order["price"]["total"] == "159.33"  # the price charged equals the estimate
    assert order["image_dates"] == [f"2025-04-{d:02d}" for d in range(1, 29, 3)]
    assert any("Copernicus" in n for n in order["attribution"])
    assert any("USGS" in n or "Landsat" in n for n in order["attribution"])

    credits = await d.credits()
    assert credits["balance"] == "840.67"  # 1000.00 - 159.33
    assert await ledger_sum(database_url, d.account) == Decimal("840.67")

    for status in ("Preparing", "AwaitingSatelliteProducts", "Processing", "Completed"):
        await report_status(kafka_bootstrap, order_id, status)
    for _ in range(100):
        order = await d.order(order_id)
        if order["status"] == "Completed":
            break
        import asyncio
        await asyncio.sleep(0.2)
    assert order["status"] == "Completed"
    assert [h["to"] for h in order["status_history"]] == ["Review", "Preparing", "AwaitingSatelliteProducts",
                                                           "Processing", "Completed"]
    # the cart is checked out: no more changes
    r = await stack["cart"].client.post(f"/v1/carts/{cart_id}/items", json={"aoi_id": aoi["id"], **APRIL}, headers=d.h)
    assert r.status_code == 409


async def test_grid_order_deduplicates_against_an_earlier_order(stack, unique):
    d = Dashboard(stack, f"acct-{unique}")
    await d.top_up("5000.00")
    first = await d.new_cart()
    await d.add_item(first, {"tile_guids": [tile(10, 100)], **APRIL})
    assert (await d.cart(first))["estimate"]["total"] == "1017.00"
    co = await d.wait_checkout((await d.checkout(first, "1017.00"))["id"])
    assert co["status"] == "completed", co

    # The same tile again plus a new one, deduplicated: only the new tile is bought, now at tier 2
    # (spend so far 1,017.00): 26,214.4 km²·images x 0.20 x 0.20 x (1 - 0.65) = 26,214.4 x 0.014 = EUR 367.00.
    second = await d.new_cart()
    await d.add_item(second, {"tile_guids": [tile(10, 100), tile(11, 100)], "tile_deduplication": True, **APRIL})
    assert (await d.cart(second))["estimate"]["total"] == "367.00"
    co2 = await d.wait_checkout((await d.checkout(second, "367.00"))["id"])
    assert co2["status"] == "completed", co2
    order = await d.order(co2["order_ids"][0])
    assert order["price"]["total"] == "367.00"
    owned = {c["guid"]: c.get("excluded_dates", []) for c in order["cells"]}
    assert len(owned[tile(10, 100)]) == 10 and owned[tile(11, 100)] == []
    assert (await d.credits())["balance"] == "3616.00"  # 5000.00 - 1017.00 - 367.00


async def test_insufficient_credit_is_refused_with_the_amount_missing_and_the_cart_released(stack, database_url,
                                                                                            unique):
    d = Dashboard(stack, f"acct-{unique}")
    await d.top_up("100.00")
    aoi = await d.upload_aoi("field", json.dumps(BOX).encode(), "field.geojson")
    cart_id = await d.new_cart()
    await d.add_item(cart_id, {"aoi_id": aoi["id"], **APRIL})
    co = await d.wait_checkout((await d.checkout(cart_id, "159.33"))["id"])
    assert co["status"] == "failed"
    assert co["failure"]["code"] == "insufficient_credit"
    assert co["failure"]["missing"] == "59.33"  # 159.33 due - 100.00 available
    assert (await d.credits())["balance"] == "100.00"
    assert await ledger_sum(database_url, d.account) == Decimal("100.00")
    import asyncio
    for _ in range(50):  # the compensation (ReleaseCart) reopens the cart
        if (await d.cart(cart_id)).get("status") == "open":
            break
        await asyncio.sleep(0.2)
    await d.add_item(cart_id, {"aoi_id": aoi["id"], **{**APRIL, "image_frequency": 7}})


async def test_a_changed_price_stops_the_checkout_and_names_the_new_total(stack, unique):
    d = Dashboard(stack, f"acct-{unique}")
    await d.top_up("1000.00")
    cart_id = await d.new_cart()
    await d.add_item(cart_id, {"tile_guids": [tile(10, 102)], **APRIL})
    co = await d.wait_checkout((await d.checkout(cart_id, "999.00"))["id"])
    assert co["status"] == "failed" and co["failure"]["code"] == "price_changed"
    assert co["failure"]["new_total"] == "1017.00"
    assert (await d.credits())["balance"] == "1000.00"


async def test_two_checkouts_of_one_cart_at_once_exactly_one_succeeds(stack, database_url, unique):
    import asyncio
    d = Dashboard(stack, f"acct-{unique}")
    await d.top_up("5000.00")
    cart_id = await d.new_cart()
    await d.add_item(cart_id, {"tile_guids": [tile(10, 103)], **APRIL})
    a, b = await asyncio.gather(d.checkout(cart_id, "1017.00"), d.checkout(cart_id, "1017.00"))
    results = await asyncio.gather(d.wait_checkout(a["id"]), d.wait_checkout(b["id"]))
    assert sorted(r["status"] for r in results) == ["completed", "failed"]
    failed = next(r for r in results if r["status"] == "failed")
    assert failed["failure"]["code"] == "cart_frozen"
    assert (await d.credits())["balance"] == "3983.00"  # charged once
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM checkout.orders WHERE account_id = $1", d.account) == 1
    finally:
        await conn.close()


async def test_illegal_partner_transition_goes_to_dlq_and_leaves_the_order_unchanged(stack, kafka_bootstrap, unique):
    import asyncio
    d = Dashboard(stack, f"acct-{unique}")
    await d.top_up("2000.00")
    cart_id = await d.new_cart()
    await d.add_item(cart_id, {"tile_guids": [tile(10, 104)], **APRIL})
    co = await d.wait_checkout((await d.checkout(cart_id, "1017.00"))["id"])
    order_id = co["order_ids"][0]
    illegal = await report_status(kafka_bootstrap, order_id, "Completed")           # Review -> Completed
    # a partner not allowed for this account
    stranger = await report_status(kafka_bootstrap, order_id, "Preparing", PARTNER)
    dlq = []
    for _ in range(60):
        dlq = [r for r in await read_topic(kafka_bootstrap, "partner.order.events.dlq", settle=0.5, timeout=5)
               if headers(r).get("ce_id") in (str(illegal), str(stranger))]
        if len(dlq) == 2:
            break
        await asyncio.sleep(0.5)
    reasons = {headers(r)["ce_id"]: headers(r)["dlq_reason"] for r in dlq}
    assert "Review -> Completed is not allowed" in reasons[str(illegal)]
    assert reasons[str(stranger)] == f"sender {PARTNER} may not act for account {d.account}"
    assert (await d.order(order_id))["status"] == "Review"


async def test_checkout_idempotency_key_replays_and_refuses_a_different_body(stack, unique):
    d = Dashboard(stack, f"acct-{unique}")
    await d.top_up("2000.00")
    cart_id = await d.new_cart()
    await d.add_item(cart_id, {"tile_guids": [tile(10, 105)], **APRIL})
    first = await d.checkout(cart_id, "1017.00", key=f"k-{unique}")
    again = await d.checkout(cart_id, "1017.00", key=f"k-{unique}")
    assert again["id"] == first["id"]
    other = await stack["checkout"].client.post("/v1/checkouts", json={"cart_id": cart_id, "accepted_total": "1.00"},
                                                headers={**d.h, "Idempotency-Key": f"k-{unique}"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    missing = await stack["checkout"].client.post("/v1/checkouts", json={"cart_id": cart_id, "accepted_total": "1.00"},
                                                  headers=d.h)
    assert missing.status_code == 422 and missing.json()["code"] == "idempotency_key_required"
    done = await d.wait_checkout(first["id"])
    assert done["status"] == "completed"
    assert (await d.credits())["balance"] == "983.00"  # charged once: 2000.00 - 1017.00

    async def listed(**params):
        r = await stack["checkout"].client.get("/v1/orders", params=params, headers=d.h)
        return [o["id"] for o in r.json()["orders"]]

    assert await listed(status="live") == done["order_ids"]
    assert await listed(status="completed") == []
    assert await listed(model="Nimbus") == []
    assert await listed(model="Stratus2") == done["order_ids"]
    stranger = await stack["checkout"].client.get(f"/v1/orders/{done['order_ids'][0]}",
                                                  headers=stack["checkout"].auth("x"))
    assert stranger.status_code == 404
