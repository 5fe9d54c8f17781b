"""The order overlay is bounded: a viewport over 400 square degrees is refused naming the limit, pages
hold at most `limit` candidates and follow a cursor, large viewports use the bbox columns rather than
listing every H3 cell, and eight concurrent overlays leave /healthz answering within 1 s.

The checkout service runs as a real process; orders are written straight into its table (completed
checkouts with one order each: 0.1 x 0.1 degree boxes on a 0.5-degree grid around 10 E, 50 N).
"""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import date

import asyncpg
import httpx
import pytest
import shapely

from shared.geo.h3index import aoi_cells
from tests.support.services import running

pytestmark = pytest.mark.integration

ACCOUNT = f"acct-overlay-{uuid.uuid4().hex[:8]}"
GRID = [(10.0 + 0.5 * i, 50.0 + 0.5 * j) for i in range(3) for j in range(3)]  # 9 boxes


@pytest.fixture(scope="module")
async def checkout(database_url, kafka_bootstrap):
    async with running("checkout", database_url, kafka_bootstrap) as svc:
        conn = await asyncpg.connect(database_url, server_settings={"search_path": "checkout"})
        try:
            for k, (w, s) in enumerate(GRID):
                co = uuid.uuid4()
                box = shapely.box(w, s, w + 0.1, s + 0.1)
                await conn.execute(
                    "INSERT INTO checkouts (id, account_id, cart_id, accepted_total, idempotency_key, request_hash,"
                    " step) VALUES ($1, $2, 'cart', 10, $3, 'h', 'completed')", co, ACCOUNT, f"k{k}")
                await conn.execute(
                    "INSERT INTO orders (id, account_id, checkout_id, item_id, item, mode, model, constellations,"
                    " status, recurring, from_date, to_date, amount, price, spend, footprint, bbox, h3_cells,"
                    " created_at) VALUES ($1, $2, $3, 'i', '{}', 'polygon', 'Stratus2', '{Sentinel2}', 'Review',"
                    " false, $4, $5, 10, '{}', '[]', $6::text::jsonb, $7, $8, now() - make_interval(secs => $9))",
                    uuid.uuid4(), ACCOUNT, co, date(2025, 4, 1), date(2025, 4, 30),
                    json.dumps(shapely.geometry.mapping(box)), list(box.bounds), aoi_cells(box), float(k))
        finally:
            await conn.close()
        yield svc


async def _overlay(checkout, **params):
    return await checkout.client.get("/v1/orders/overlay", params=params, headers=checkout.auth(ACCOUNT))


async def test_a_viewport_over_400_square_degrees_is_refused_naming_the_limit(checkout):
    r = await _overlay(checkout, bbox="-180,-80,180,84")  # 360 x 164 = 59,040 square degrees
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "viewport_too_large" and body["limit"] == 400 and body["actual"] == 59_040
    assert "59,040" in body["detail"] and "400" in body["detail"]
    # antimeridian-crossing: 170 E to 170 W is 20 degrees wide, x 21 = 420
    assert (await _overlay(checkout, bbox="170,0,-170,21")).json()["code"] == "viewport_too_large"


async def test_pages_follow_the_cursor_and_hold_each_order_once(checkout):
    seen, cursor, pages = [], None, 0
    while True:
        r = await _overlay(checkout, bbox="0,40,20,60", limit=4, **({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["prefilter"] == "bbox"  # 400 square degrees: no H3 cell list
        assert len(body["orders"]) <= 4
        seen += [o["id"] for o in body["orders"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 9  # 4 + 4 + 1


async def test_small_viewports_use_h3_and_the_exact_test(checkout):
    # 10.05..10.6 x 50.05..50.6 meets the boxes at (10, 50), (10.5, 50), (10, 50.5), (10.5, 50.5)
    body = (await _overlay(checkout, bbox="10.05,50.05,10.6,50.6")).json()
    assert body["prefilter"] == "h3" and len(body["orders"]) == 4
    assert body["orders"][0]["footprint"]["type"] == "Polygon"
    # between the boxes: near all of them by H3 cells, but none meets it exactly
    assert (await _overlay(checkout, bbox="10.2,50.2,10.4,50.4")).json()["orders"] == []
    assert len((await _overlay(checkout, bbox="9,49,12,52", **{"from": "2025-04-10", "to": "2025-04-20",
                                                                 "date_match": "within"})).json()["orders"]) == 0
    assert len((await _overlay(checkout, bbox="9,49,12,52", **{"from": "2025-04-10", "to": "2025-04-20",
                                                                 "date_match": "overlap"})).json()["orders"]) == 9


async def test_concurrent_overlays_do_not_starve_healthz(checkout):
    """Five rounds of eight overlays of 20 x 20 degrees at once (each listed ~166,000 H3 cells before),
    /healthz polled meanwhile on its own connection."""
    latencies: list[float] = []
    done = asyncio.Event()

    async def health():
        async with httpx.AsyncClient(base_url=checkout.base_url, timeout=10.0) as c:
            while not done.is_set():
                t0 = time.perf_counter()
                assert (await c.get("/healthz")).status_code == 200
                latencies.append(time.perf_counter() - t0)
                await asyncio.sleep(0.05)

    poller = asyncio.create_task(health())
    try:
        for _ in range(5):
            rs = await asyncio.gather(*(_overlay(checkout, bbox="0,0,20,20") for _ in range(8)))
            assert [r.status_code for r in rs] == [200] * 8
    finally:
        done.set()
        await poller
    assert len(latencies) >= 3 and max(latencies) < 1.0, f"slowest /healthz {max(latencies):.2f} s"
