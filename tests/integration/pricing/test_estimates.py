"""POST /v1/estimates over HTTP against the running service; figures worked by hand from docs/domain.md."""
from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import asyncpg
import pytest
from pyproj import Geod

from shared.grid import CellId

pytestmark = pytest.mark.integration

ALL_THREE = ["Sentinel1", "Sentinel2", "Landsat89"]
# Zone 33N, column 9 (E 460.8-512 km), row 100 (N 5,120-5,171.2 km): a full interior tile, 2,621.44 km².
FULL_TILE = CellId(33, False, 9, 100).guid
APRIL_DATES = [f"2025-04-{d:02d}" for d in (1, 4, 7, 10, 13, 16, 19, 22, 25, 28)]  # freq 3 from 2025-01-01


def worked_example(**aoi) -> dict:
    """Stratus-2, frequency 3, reference 2025-01-01, April 2025 (docs/domain.md, Pricing)."""
    return {"model": "Stratus2", "constellations": ALL_THREE, "from": "2025-04-01", "to": "2025-04-30",
            "image_frequency": 3, "reference_date": "2025-01-01", **aoi}


async def post(svc, account: str, body: dict):
    return await svc.client.post("/v1/estimates", json=body, headers=svc.auth(account))


async def test_the_same_dates_on_one_full_tile_cost_1017_across_two_brackets(pricing, unique):
    # 2,621.44 km² × 10 dates = 26,214.4 km²·images at €0.20 × 0.20 = €0.04.
    # The first €1,000 = 25,000 km²·images at tier 1; the other 1,214.4 at €0.014 = €17.0016 -> €17.00.
    r = await post(pricing, f"acct-{unique}", worked_example(tile_guids=[FULL_TILE]))
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["total"], body["currency"], body["due_at_checkout"]) == ("1017.00", "EUR", "1017.00")
    assert body["image_dates"][0]["dates"] == APRIL_DATES
    lines = [(ln["tier"], ln["area_km2"], ln["image_dates"], ln["quantity"], ln["rate"], ln["amount"])
             for ln in body["lines"]]
    assert lines == [(1, "2621.44", 10, "25000", "0.04", "1000.00"),
                     (2, "2621.44", 10, "1214.4", "0.014", "17.00")]
    assert [(t["tier"], t["spend_before"], t["spend_after"]) for t in body["tiers"]] == [
        (1, "0.00", "1000.00"), (2, "1000.00", "1017.00")]
    assert [m["total"] for m in body["months"]] == ["1017.00"]
    assert body["quote_id"] and body["expires_at"] and body["price_book_version"]
    assert body["spend_source"] == "ledger" and body["deduplication"] == "not_requested"


async def test_a_12_km2_polygon_by_aoi_id_costs_24(pricing, peers, unique):
    # 12 km² × 10 dates = 120 km²·images × €0.20 = €24.00; the caller's token reaches the AOI service.
    peers.aois[f"aoi-{unique}"] = {"parts": [{"index": 1, "kind": "Polygon", "area_km2": 12.0}]}
    headers = pricing.auth(f"acct-{unique}")
    r = await pricing.client.post("/v1/estimates", json=worked_example(aoi_id=f"aoi-{unique}"), headers=headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["total"] == "24.00"
    assert [(ln["area_km2"], ln["quantity"], Decimal(ln["rate"]), ln["amount"]) for ln in body["lines"]] == [
        ("12", "120", Decimal("0.20"), "24.00")]
    assert (f"/v1/aois/aoi-{unique}", headers["Authorization"], None) in peers.seen


async def test_an_unknown_aoi_id_is_a_422_naming_aoi_id(pricing, unique):
    r = await post(pricing, f"acct-{unique}", worked_example(aoi_id=f"missing-{unique}"))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["aoi_id"]


async def test_an_inline_wkt_polygon_is_priced_at_its_geodesic_area(pricing, unique):
    lons, lats = [10.0, 10.05, 10.05, 10.0], [50.0, 50.0, 50.03, 50.03]
    area_m2, _ = Geod(ellps="WGS84").polygon_area_perimeter(lons, lats)
    area_km2 = abs(Decimal(repr(area_m2))) / 1_000_000  # ~11.9 km², computed independently of shared.geo
    expected = (area_km2 * 10 * Decimal("0.20")).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    wkt = "POLYGON((10 50, 10.05 50, 10.05 50.03, 10 50.03, 10 50))"
    r = await post(pricing, f"acct-{unique}", worked_example(wkt=wkt))
    assert r.status_code == 201, r.text
    assert Decimal(r.json()["total"]) == expected
    assert r.json()["items"][0]["aoi_source"] == "wkt"


async def test_a_polygon_below_half_a_km2_is_billed_as_half_a_km2(pricing, unique):
    # ~0.11 km² (0.005° × 0.003° at 50° N): billed 0.5 km² × 10 dates × €0.20 = €1.00.
    geojson = {"type": "Polygon", "coordinates": [[[10, 50], [10.005, 50], [10.005, 50.003], [10, 50.003], [10, 50]]]}
    r = await post(pricing, f"acct-{unique}", worked_example(geojson=geojson))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["total"] == "1.00"
    assert body["areas"][0]["billable_km2"] == "0.5" and Decimal(body["areas"][0]["area_km2"]) < Decimal("0.5")


async def test_a_cart_runs_through_the_brackets_item_after_item(pricing, peers, unique):
    # Polygon 12 km² first: €24.00 at tier 1, leaving €976 of it = 24,400 km²·images of the tile at €0.04;
    # the other 1,814.4 km²·images at €0.014 = €25.4016 -> €25.40. Total 24 + 976 + 25.40 = €1,025.40.
    peers.aois[f"cart-{unique}"] = {"parts": [{"index": 1, "kind": "Polygon", "area_km2": 12}]}
    cart = {"items": [worked_example(aoi_id=f"cart-{unique}", item_id="poly"),
                      worked_example(tile_guids=[FULL_TILE], item_id="tile")]}
    r = await post(pricing, f"acct-{unique}", cart)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["total"] == "1025.40"
    assert [(ln["item"], ln["tier"], ln["amount"]) for ln in body["lines"]] == [
        ("poly", 1, "24.00"), ("tile", 1, "976.00"), ("tile", 2, "25.40")]


async def test_simulated_spend_starts_the_tiers_there(pricing, unique):
    # From €1,000 spent: 26,214.4 km²·images at €0.014 = €367.0016 -> €367.00.
    r = await post(pricing, f"acct-{unique}", worked_example(tile_guids=[FULL_TILE], SimulatedEuroUsage="1000"))
    assert r.status_code == 201, r.text
    assert r.json()["total"] == "367.00" and r.json()["spend_source"] == "simulated"


@pytest.mark.parametrize("change, field", [
    ({"image_frequency": 9}, "image_frequency"),
    ({"from": "2025-04-02"}, "from"),
    ({"to": "2025-03-31"}, "to"),
    ({"constellations": ["Sentinel1", "Sentinel2"]}, "constellations"),
    ({"storage_months": 0}, "storage_months"),
])
async def test_configuration_errors_are_422s_naming_the_field(pricing, unique, change, field):
    r = await post(pricing, f"acct-{unique}", {**worked_example(tile_guids=[FULL_TILE]), **change})
    assert r.status_code == 422
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_a_bad_cart_item_is_named_by_its_position(pricing, unique):
    cart = {"items": [worked_example(tile_guids=[FULL_TILE]),
                      {**worked_example(tile_guids=[FULL_TILE]), "from": "2025-04-15"}]}
    r = await post(pricing, f"acct-{unique}", cart)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["items.1.from"]


async def test_a_quote_is_stored_and_readable_by_its_account_only(pricing, unique):
    r = await post(pricing, f"acct-{unique}", worked_example(tile_guids=[FULL_TILE]))
    quote_id = r.json()["quote_id"]
    mine = await pricing.client.get(f"/v1/quotes/{quote_id}", headers=pricing.auth(f"acct-{unique}"))
    assert mine.status_code == 200
    assert (mine.json()["total"], mine.json()["expired"]) == ("1017.00", False)
    assert mine.json()["estimate"]["lines"] == r.json()["lines"]
    assert mine.json()["request"]["tile_guids"] == [FULL_TILE]
    other = await pricing.client.get(f"/v1/quotes/{quote_id}", headers=pricing.auth(f"other-{unique}"))
    assert other.status_code == 404 and other.json()["code"] == "not_found"


async def test_quotes_are_purged_an_hour_after_they_expire_and_not_before(pricing, database_url, unique):
    # The service runs with PRICING_QUOTE_RETENTION_SECONDS=3600 (conftest). Three quotes: one
    # expired 61 minutes ago (purged), one expired 59 minutes ago (kept), one fresh (kept).
    account = f"acct-{unique}"
    fresh = (await post(pricing, account, worked_example(tile_guids=[FULL_TILE]))).json()["quote_id"]
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "pricing"})
    try:
        row = await conn.fetchrow("SELECT * FROM quotes WHERE quote_id = $1", uuid.UUID(fresh))
        aged = {}
        for minutes in (61, 59):
            aged[minutes] = uuid.uuid4()
            expired = datetime.now(UTC) - timedelta(minutes=minutes)
            await conn.execute(
                "INSERT INTO quotes (quote_id, account_id, request, response, total, due_at_checkout,"
                " price_book_version, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                aged[minutes], account, row["request"], row["response"], row["total"], row["due_at_checkout"],
                row["price_book_version"], expired - timedelta(minutes=30), expired)
        for _ in range(100):  # the job runs every 0.3 s
            left = {r["quote_id"] for r in await conn.fetch("SELECT quote_id FROM quotes WHERE account_id = $1",
                                                            account)}
            if aged[61] not in left:
                break
            await asyncio.sleep(0.1)
        assert left == {aged[59], uuid.UUID(fresh)}
    finally:
        await conn.close()
    gone = await pricing.client.get(f"/v1/quotes/{aged[61]}", headers=pricing.auth(account))
    kept = await pricing.client.get(f"/v1/quotes/{aged[59]}", headers=pricing.auth(account))
    assert gone.status_code == 404
    assert kept.status_code == 200 and kept.json()["expired"] is True and kept.json()["total"] == "1017.00"


async def test_deduplication_prices_only_the_pairs_not_owned(pricing, peers, unique):
    # Tiling says the tile is owned on 5 of the 10 dates:
    # 2,621.44 × 5 = 13,107.2 km²·images × €0.04 = €524.288 -> €524.29.
    guid = CellId(33, False, 8, 100).guid
    peers.owned[guid] = APRIL_DATES[:5]
    r = await post(pricing, f"acct-{unique}", worked_example(tile_guids=[guid], tile_deduplication=True))
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["total"], body["deduplication"]) == ("524.29", "applied")
    assert body["items"][0]["owned_pairs"] == 5
    sent = [b for path, _, b in peers.seen if path == "/v1/coverage/preview" and b["cells"] == [guid]][-1]
    assert sent == {"model": "Stratus2", "constellations": ALL_THREE, "cells": [guid], "dates": APRIL_DATES}


async def test_deduplication_applies_to_guids_sent_in_upper_case(pricing, peers, unique):
    # Same figures as above (5 of 10 dates owned -> EUR 524.29); the customer typed the GUID in upper
    # case and tiling echoes it as sent.
    guid = CellId(33, False, 6, 100).guid.upper()
    peers.owned[guid] = APRIL_DATES[:5]
    r = await post(pricing, f"acct-{unique}", worked_example(tile_guids=[guid], tile_deduplication=True))
    assert r.status_code == 201, r.text
    assert (r.json()["total"], r.json()["items"][0]["owned_pairs"]) == ("524.29", 5)


async def test_when_tiling_does_not_answer_in_time_the_estimate_prices_everything_and_says_so(pricing, peers, unique):
    guid = CellId(33, False, 7, 100).guid
    peers.owned[guid] = APRIL_DATES
    peers.tiling_delay = 3.0
    try:
        r = await post(pricing, f"acct-{unique}", worked_example(tile_guids=[guid], tile_deduplication=True))
    finally:
        peers.tiling_delay = 0.0
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["total"], body["deduplication"]) == ("1017.00", "unavailable")
    assert any("deduplication" in w for w in body["warnings"])
