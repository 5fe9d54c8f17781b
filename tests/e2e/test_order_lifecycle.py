"""Cancellation, renewals and the map overlay across the services.

Figures: one interior tile, April 2025 every 3 days (10 dates) = EUR 1,017.00 from zero spend; the
same again on top of that month's spend is at tier 2: 26,214.4 km²·images x EUR 0.014 = EUR 367.00.
A recurring minitile every 7 days from the 1st of this month: each month's price is
10.24 km² x (dates in that month) x EUR 0.20 x 0.50 (minitile factor) at tier 1.
"""
import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from shared.grid import CellId
from tests.e2e.conftest import Dashboard, report_status
from tests.e2e.test_dashboard_flow import APRIL, BOX

pytestmark = pytest.mark.e2e
APRIL_DATES = [f"2025-04-{d:02d}" for d in range(1, 29, 3)]


async def eventually(probe, expected, timeout=30.0):
    value = None
    for _ in range(int(timeout / 0.25)):
        value = await probe()
        if value == expected:
            return value
        await asyncio.sleep(0.25)
    raise AssertionError(f"expected {expected!r}, last saw {value!r}")


async def test_cancel_in_review_refunds_reverses_spend_and_releases_coverage(stack, unique):
    d = Dashboard(stack, f"acct-{unique}")
    await d.top_up("2000.00")
    guid = CellId(32, False, 9, 120).guid
    # with extras: storage 3 months (2 extra) = 2,621.44 x 10 images x 2 x EUR 0.00001 = EUR 0.524288 -> 0.52;
    # 2 API requests (1 extra) = ceil(2,621.44 / 10) = 263 units x 10 images x EUR 5/2,500 = EUR 5.26.
    # Extras are neither tier-discounted nor counted as spend: 1,017.00 + 0.52 + 5.26 = EUR 1,022.78.
    item = {"tile_guids": [guid], **APRIL, "storage_months": 3, "api_requests": 2}
    cart = await d.new_cart()
    await d.add_item(cart, item)
    assert (await d.cart(cart))["estimate"]["total"] == "1022.78"
    co = await d.wait_checkout((await d.checkout(cart, "1022.78"))["id"])
    order_id = co["order_ids"][0]

    async def estimate():
        r = await stack["pricing"].client.post("/v1/estimates", json=item, headers=d.h)
        return r.json()["total"]

    async def owned_pairs():
        r = await stack["tiling"].client.post("/v1/coverage/preview", headers=d.h, json={
            "model": "Stratus2", "constellations": APRIL["constellations"], "cells": [guid], "dates": APRIL_DATES})
        return r.json()["owned_pairs"]

    await eventually(estimate, "372.78")  # the month's spend holds 1,017.00: 367.00 at tier 2 + 5.78 extras
    await eventually(owned_pairs, 10)     # and the tile-dates are owned
    r = await stack["checkout"].client.post(f"/v1/orders/{order_id}:cancel", headers=d.h)
    assert r.status_code == 200, r.text
    assert r.json() == {"order_id": order_id, "result": "canceled", "refunded": "1022.78", "currency": "EUR"}
    assert (await d.credits())["balance"] == "2000.00"
    assert (await d.order(order_id))["status"] == "Canceled"
    await eventually(estimate, "1022.78")  # spend reversed
    await eventually(owned_pairs, 0)       # coverage released
    again = await stack["checkout"].client.post(f"/v1/orders/{order_id}:cancel", headers=d.h)
    assert again.status_code == 409 and again.json()["code"] == "cancel_refused"


async def test_a_fixed_window_order_after_review_cannot_be_canceled(stack, kafka_bootstrap, unique):
    d = Dashboard(stack, f"acct-{unique}")
    await d.top_up("2000.00")
    cart = await d.new_cart()
    await d.add_item(cart, {"tile_guids": [CellId(32, False, 9, 121).guid], **APRIL})
    order_id = (await d.wait_checkout((await d.checkout(cart, "1017.00"))["id"]))["order_ids"][0]
    await report_status(kafka_bootstrap, order_id, "Preparing")

    async def status():
        return (await d.order(order_id))["status"]

    await eventually(status, "Preparing")
    r = await stack["checkout"].client.post(f"/v1/orders/{order_id}:cancel", headers=d.h)
    assert r.status_code == 409
    assert "only orders in Review can be canceled" in r.json()["detail"]
    assert (await d.credits())["balance"] == "983.00"  # 2000.00 - 1017.00, nothing refunded


def weekly_dates(first: date, month_start: date) -> int:
    """Dates of a 7-day cadence from `first` that fall in the month starting at `month_start`."""
    end = (month_start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return sum(1 for k in range(0, 80) if month_start <= first + timedelta(days=7 * k) < end)


def money(x: Decimal) -> str:
    return str(x.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


async def test_renewal_charges_the_next_month_pauses_without_credit_and_stops_when_asked(stack, kafka_bootstrap,
                                                                                         unique):
    today = datetime.now(UTC).date()
    this_month = today.replace(day=1)
    next_month = (this_month.replace(day=28) + timedelta(days=4)).replace(day=1)
    after = (next_month.replace(day=28) + timedelta(days=4)).replace(day=1)
    now_price = money(Decimal("10.24") * weekly_dates(this_month, this_month) * Decimal("0.10"))
    next_price = money(Decimal("10.24") * weekly_dates(this_month, next_month) * Decimal("0.10"))
    item = {**APRIL, "from": this_month.isoformat(), "to": None, "image_frequency": 7, "reference_date": None}

    rich, poor = Dashboard(stack, f"rich-{unique}"), Dashboard(stack, f"poor-{unique}")
    await rich.top_up("100.00")
    await poor.top_up(now_price)  # exactly enough for the checkout month
    orders = {}
    for d, idx in ((rich, 1), (poor, 2)):
        cart = await d.new_cart()
        await d.add_item(cart, {"minitile_guids": [CellId(32, False, 9, 122, minitile=idx).guid], **item})
        co = await d.wait_checkout((await d.checkout(cart, now_price))["id"])
        assert co["status"] == "completed", co
        orders[d.account] = co["order_ids"][0]

    admin = stack["checkout"].auth("ops", admin=True)
    r = await stack["checkout"].client.post(f"/v1/renewals:run?month={next_month:%Y-%m}", headers=admin)
    assert r.status_code == 200 and r.json()["orders_sent_for_pricing"] >= 2

    async def charge(d):
        o = await d.order(orders[d.account])
        return {c["month"]: (c["amount"], c["status"]) for c in o["charges"]}.get(f"{next_month:%Y-%m}")

    await eventually(lambda: charge(rich), (next_price, "charged"))
    expected_rich = money(Decimal("100.00") - Decimal(now_price) - Decimal(next_price))
    assert (await rich.credits())["balance"] == expected_rich
    await eventually(lambda: charge(poor), (next_price, "unpaid"))
    paused = (await poor.order(orders[poor.account]))
    assert "missing" in paused["renewal_paused"] and paused["status"] == "Review"  # paused, not gone
    assert (await poor.credits())["balance"] == "0.00"

    # a second pass for the same month changes nothing (safe to re-run)
    await stack["checkout"].client.post(f"/v1/renewals:run?month={next_month:%Y-%m}", headers=admin)
    await asyncio.sleep(1.0)
    assert (await rich.credits())["balance"] == expected_rich

    # after Review, cancel only stops the next renewal
    await report_status(kafka_bootstrap, orders[rich.account], "Preparing")
    for _ in range(40):
        if (await rich.order(orders[rich.account]))["status"] == "Preparing":
            break
        await asyncio.sleep(0.25)
    r = await stack["checkout"].client.post(f"/v1/orders/{orders[rich.account]}:cancel", headers=rich.h)
    assert r.status_code == 200 and r.json()["result"] == "renewal_stopped"
    r = await stack["checkout"].client.post(f"/v1/renewals:run?month={after:%Y-%m}", headers=admin)
    await asyncio.sleep(1.5)
    o = await rich.order(orders[rich.account])
    assert f"{after:%Y-%m}" not in {c["month"] for c in o["charges"]}
    assert (await rich.credits())["balance"] == expected_rich


async def test_overlay_lists_the_accounts_orders_in_a_viewport(stack, unique):
    import json
    d = Dashboard(stack, f"acct-{unique}")
    await d.top_up("1000.00")
    aoi = await d.upload_aoi("field", json.dumps(BOX).encode(), "field.geojson")
    cart = await d.new_cart()
    await d.add_item(cart, {"aoi_id": aoi["id"], **APRIL})
    order_id = (await d.wait_checkout((await d.checkout(cart, "159.33"))["id"]))["order_ids"][0]

    async def overlay(**params):
        r = await stack["checkout"].client.get("/v1/orders/overlay", params=params, headers=d.h)
        assert r.status_code == 200, r.text
        return [o["id"] for o in r.json()["orders"]]

    assert await overlay(bbox="10.05,50.05,10.5,50.5") == [order_id]           # overlaps the box
    assert await overlay(bbox="10.2,50.2,10.5,50.5") == []                     # disjoint
    assert await overlay(bbox="9,49,11,51", model="Nimbus") == []
    assert await overlay(bbox="9,49,11,51", status="live") == [order_id]       # in Review
    assert await overlay(bbox="9,49,11,51", **{"from": "2025-04-01", "to": "2025-04-30"},
                         date_match="within") == [order_id]
    assert await overlay(bbox="9,49,11,51", **{"from": "2025-04-10", "to": "2025-04-20"}, date_match="within") == []
    assert await overlay(bbox="9,49,11,51", **{"from": "2025-04-10", "to": "2025-04-20"},
                         date_match="overlap") == [order_id]
    other = Dashboard(stack, f"other-{unique}")
    r = await stack["checkout"].client.get("/v1/orders/overlay", params={"bbox": "9,49,11,51"}, headers=other.h)
    assert r.json()["orders"] == []


async def test_a_grid_renewal_is_deduplicated_against_pairs_already_owned(stack, unique):
    """Order 1 buys a minitile for next month's weekly dates; order 2 is the same minitile, recurring from
    this month with deduplication. Order 2's renewal for next month finds every pair owned: EUR 0.00."""
    today = datetime.now(UTC).date()
    this_month = today.replace(day=1)
    next_month = (this_month.replace(day=28) + timedelta(days=4)).replace(day=1)
    month_end = (next_month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    n_next, n_this = weekly_dates(this_month, next_month), weekly_dates(this_month, this_month)
    guid = CellId(32, False, 9, 123, minitile=7).guid
    base = {**APRIL, "image_frequency": 7, "reference_date": this_month.isoformat(), "minitile_guids": [guid]}
    d = Dashboard(stack, f"acct-{unique}")
    await d.top_up("100.00")
    first = await d.new_cart()
    await d.add_item(first, {**base, "from": next_month.isoformat(), "to": month_end.isoformat()})
    p1 = money(Decimal("10.24") * n_next * Decimal("0.10"))
    assert (await d.wait_checkout((await d.checkout(first, p1))["id"]))["status"] == "completed"
    second = await d.new_cart()
    await d.add_item(second, {**base, "from": this_month.isoformat(), "to": None, "tile_deduplication": True})
    p2 = money(Decimal("10.24") * n_this * Decimal("0.10"))
    co = await d.wait_checkout((await d.checkout(second, p2))["id"])
    assert co["status"] == "completed", co
    order_id = co["order_ids"][0]

    admin = stack["checkout"].auth("ops", admin=True)
    await stack["checkout"].client.post(f"/v1/renewals:run?month={next_month:%Y-%m}", headers=admin)

    async def charge():
        o = await d.order(order_id)
        return {c["month"]: (c["amount"], c["status"]) for c in o["charges"]}.get(f"{next_month:%Y-%m}")

    await eventually(charge, ("0.00", "charged"))
    assert (await d.credits())["balance"] == money(Decimal("100.00") - Decimal(p1) - Decimal(p2))
