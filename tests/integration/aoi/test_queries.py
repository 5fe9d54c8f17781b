"""Reading stored AOIs: by id, the account's list (newest first, paginated), the overlap query
(H3 pre-filter + exact check), isolation between accounts, and AoiRegistered on the broker."""
from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.support.kafka import headers as record_headers

from .conftest import box

pytestmark = pytest.mark.integration


async def _create(aoi, account: str, wkt: str, name: str | None = None) -> dict:
    r = await aoi.client.post("/v1/aois", params={"name": name} if name else None, headers=aoi.auth(account),
                              content=wkt)
    assert r.status_code == 201, r.text
    return r.json()


async def test_get_returns_the_geojson_and_the_report(aoi, unique):
    acct = f"acct-{unique}"
    created = await _create(aoi, acct, box(10.0, 50.0, 10.1, 50.1), "field")
    r = await aoi.client.get(f"/v1/aois/{created['id']}", headers=aoi.auth(acct))
    assert r.status_code == 200
    body = r.json()
    assert body == created
    assert body["geometry"] == {"type": "GeometryCollection", "geometries": [
        {"type": "Polygon", "coordinates": [[[10.0, 50.0], [10.1, 50.0], [10.1, 50.1], [10.0, 50.1], [10.0, 50.0]]]}]}
    assert body["report"]["parts"][0]["area_km2"] == pytest.approx(79.66, abs=0.005)


async def test_another_accounts_aoi_is_404_and_absent_from_lists(aoi, unique):
    mine = await _create(aoi, f"a-{unique}", box(10.0, 50.0, 10.1, 50.1))
    theirs = await _create(aoi, f"b-{unique}", box(10.0, 50.0, 10.1, 50.1))
    r = await aoi.client.get(f"/v1/aois/{theirs['id']}", headers=aoi.auth(f"a-{unique}"))
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    listed = (await aoi.client.get("/v1/aois", headers=aoi.auth(f"a-{unique}"))).json()
    assert [i["id"] for i in listed["items"]] == [mine["id"]]
    overlap = (await aoi.client.get("/v1/aois", params={"bbox": "9,49,11,51"}, headers=aoi.auth(f"a-{unique}"))).json()
    assert [i["id"] for i in overlap["items"]] == [mine["id"]]
    r = await aoi.client.get("/v1/aois/does-not-exist", headers=aoi.auth(f"a-{unique}"))
    assert r.status_code == 404


async def test_list_is_newest_first_and_paginates_with_a_cursor(aoi, unique):
    acct = f"acct-{unique}"
    ids = [(await _create(aoi, acct, box(10 + i, 50, 10.1 + i, 50.1), f"n{i}"))["id"] for i in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await aoi.client.get("/v1/aois", params=params, headers=aoi.auth(acct))
        assert r.status_code == 200
        page = r.json()
        seen += [i["id"] for i in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids)) and pages == 3
    item = page["items"][0]
    assert item["name"] == "n0" and item["bbox"] == [10, 50, 10.1, 50.1] and item["parts"] == 1
    assert item["area_km2"] == pytest.approx(79.66, abs=0.005)


async def test_list_refuses_bad_limit_and_cursor(aoi, unique):
    h = aoi.auth(f"acct-{unique}")
    assert (await aoi.client.get("/v1/aois?limit=0", headers=h)).json()["code"] == "invalid_limit"
    assert (await aoi.client.get("/v1/aois?cursor=@@@", headers=h)).json()["code"] == "invalid_cursor"


async def test_overlap_query_finds_intersecting_aois_and_not_disjoint_ones(aoi, unique):
    acct = f"acct-{unique}"
    a = await _create(aoi, acct, box(10.0, 50.0, 10.1, 50.1), "a")
    b = await _create(aoi, acct, box(10.05, 50.05, 10.15, 50.15), "b")  # overlaps a
    c = await _create(aoi, acct, box(10.2, 50.0, 10.3, 50.1), "c")  # 0.1° east of a: disjoint, same H3 area
    far = await _create(aoi, acct, box(20.0, 40.0, 20.1, 40.1), "far")
    h = aoi.auth(acct)

    async def ids(**params) -> list[str]:
        r = await aoi.client.get("/v1/aois", params=params, headers=h)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    # a small query box inside a only
    assert await ids(intersects=box(10.01, 50.01, 10.02, 50.02)) == [a["id"]]
    # inside a and b
    assert await ids(intersects=box(10.06, 50.06, 10.07, 50.07)) == [b["id"], a["id"]]
    # the gap between a/b and c (10.15–10.2 E): nothing, although the H3 cells are shared
    assert await ids(intersects=box(10.16, 50.0, 10.19, 50.02)) == []
    # a viewport over a, b and c, not far
    assert await ids(bbox="10.0,49.9,10.4,50.2") == [c["id"], b["id"], a["id"]]
    # GeoJSON, a point and a line are queries too
    assert await ids(intersects=json.dumps({"type": "Point", "coordinates": [20.05, 40.05]})) == [far["id"]]
    assert await ids(intersects="LINESTRING(10.25 49.9, 10.25 50.2)") == [c["id"]]
    # the same through POST /v1/aois:search
    r = await aoi.client.post("/v1/aois:search", headers=h,
                              json={"intersects": {"type": "Polygon", "coordinates": [[[10.06, 50.06], [10.07, 50.06],
                                                                                      [10.07, 50.07], [10.06, 50.07],
                                                                                      [10.06, 50.06]]]}})
    assert r.status_code == 200 and [i["id"] for i in r.json()["items"]] == [b["id"], a["id"]]
    assert r.json()["prefilter"] == "h3"
    r = await aoi.client.post("/v1/aois:search", headers=h, json={"bbox": [19, 39, 21, 41]})
    assert [i["id"] for i in r.json()["items"]] == [far["id"]]


async def test_overlap_query_pages_through_matches(aoi, unique):
    acct = f"acct-{unique}"
    made = [(await _create(aoi, acct, box(10 + 0.2 * i, 50, 10.1 + 0.2 * i, 50.1)))["id"] for i in range(5)]
    await _create(aoi, acct, box(30, 10, 30.1, 10.1))  # outside the query
    seen, cursor = [], None
    while True:
        params = {"bbox": "9.9,49.9,11.1,50.2", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await aoi.client.get("/v1/aois", params=params, headers=aoi.auth(acct))).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(made))


async def test_a_continent_sized_viewport_uses_the_bbox_columns(aoi, unique):
    acct = f"acct-{unique}"
    a = await _create(aoi, acct, box(10.0, 50.0, 10.1, 50.1))
    r = await aoi.client.get("/v1/aois", params={"bbox": "-30,30,40,70"}, headers=aoi.auth(acct))
    assert r.status_code == 200
    assert r.json()["prefilter"] == "bbox" and [i["id"] for i in r.json()["items"]] == [a["id"]]


async def test_viewport_across_the_antimeridian(aoi, unique):
    acct = f"acct-{unique}"
    fiji = await _create(aoi, acct, "POLYGON((179.9 -17, -179.9 -17, -179.9 -16.9, 179.9 -16.9, 179.9 -17))")
    assert fiji["report"]["parts"][0]["crosses_antimeridian"] is True
    h = aoi.auth(acct)
    r = await aoi.client.get("/v1/aois", params={"bbox": "179.95,-17.5,-179.95,-16.5"}, headers=h)
    assert [i["id"] for i in r.json()["items"]] == [fiji["id"]]
    r = await aoi.client.get("/v1/aois", params={"bbox": "-179.99,-17.5,-179.5,-16.5"}, headers=h)
    assert [i["id"] for i in r.json()["items"]] == [fiji["id"]]
    r = await aoi.client.get("/v1/aois", params={"bbox": "-179.8,-17.5,-179.5,-16.5"}, headers=h)
    assert r.json()["items"] == []


@pytest.mark.parametrize("params,code", [
    ({"bbox": "1,2,3"}, "invalid_bbox"),
    ({"bbox": "10,50,11,49"}, "invalid_bbox"),
    ({"intersects": "POLYGON((10 50"}, "invalid_query_geometry"),
    ({"intersects": "POINT(500000 5000000)"}, "invalid_query_geometry"),
    ({"intersects": "POINT(10 50)", "bbox": "9,49,11,51"}, "invalid_query_geometry"),
])
async def test_overlap_query_refusals(aoi, unique, params, code):
    r = await aoi.client.get("/v1/aois", params=params, headers=aoi.auth(f"acct-{unique}"))
    assert r.status_code == 422 and r.json()["code"] == code


async def test_too_complex_query_geometry_is_refused(aoi, unique):
    from .files import circle_wkt
    r = await aoi.client.post("/v1/aois:search", headers=aoi.auth(f"acct-{unique}"),
                              json={"intersects": circle_wkt(10, 50, 0.1, 10_001)})
    assert r.status_code == 422 and r.json()["code"] == "query_geometry_too_complex"


async def _tail(bootstrap: str, topic: str):
    """A consumer positioned at the current end of every partition of ``topic`` (the topic is shared
    by every run against this broker, so reading it from the beginning grows without bound)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    parts = set()
    for _ in range(100):
        parts = (await consumer._client.fetch_all_metadata()).partitions_for_topic(topic) or set()
        if parts:
            break
        await asyncio.sleep(0.1)
    tps = [TopicPartition(topic, p) for p in sorted(parts)]
    consumer.assign(tps)
    await consumer.seek_to_end(*tps)
    for tp in tps:
        await consumer.position(tp)  # resolve the end offsets now, before anything is produced
    return consumer


async def test_aoi_registered_is_published_with_cloudevents_headers(aoi, db, kafka_bootstrap, unique):
    acct = f"acct-{unique}"
    consumer = await _tail(kafka_bootstrap, "aoi.aoi.events")
    try:
        created = await _create(aoi, acct, "MULTIPOLYGON(((10 50, 10.1 50, 10.1 50.1, 10 50.1, 10 50)))", "ev")
        created2 = await _create(aoi, acct, "GEOMETRYCOLLECTION(POLYGON((10 50, 10.1 50, 10.1 50.1, 10 50.1, 10 50)),"
                                            "POLYGON((12 50, 12.005 50, 12.005 50.005, 12 50.005, 12 50)))")
        mine = {}
        deadline = time.monotonic() + 30
        while len(mine) < 2 and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for r in (r for rs in batch.values() for r in rs):
                if record_headers(r).get("ce_subject") in (created["id"], created2["id"]):
                    mine[record_headers(r)["ce_subject"]] = r
    finally:
        await consumer.stop()
    if len(mine) < 2:  # say where it stuck: never written, or written and not relayed
        rows = await db.fetch("SELECT partition_key, shard, published_at, attempts, last_error FROM outbox"
                              " WHERE partition_key = ANY($1::text[])", [created["id"], created2["id"]])
        pytest.fail(f"AoiRegistered not on the broker after 30 s; outbox rows: {[dict(r) for r in rows]}")
    record = mine[created["id"]]
    h = record_headers(record)
    assert h["ce_type"] == "aoi.registered.v1" and h["ce_source"] == "/services/aoi"
    assert h["ce_specversion"] == "1.0" and h["ce_id"] and h["ce_time"] and h["content-type"] == "application/json"
    assert h["traceparent"].startswith("00-")
    assert record.key.decode() == created["id"]
    payload = json.loads(record.value)
    assert payload["aoi_id"] == created["id"] and payload["account_id"] == acct and payload["name"] == "ev"
    assert [float(a) for a in payload["part_areas_km2"]] == [pytest.approx(79.66, abs=0.005)]
    assert float(payload["total_area_km2"]) == pytest.approx(79.66, abs=0.005)
    assert payload["bbox"] == [10, 50, 10.1, 50.1]
    assert payload["h3_resolution"] == 6 and payload["h3_cells"]
    assert "geometry" not in payload
    # a 0.2 km² part is billed as 0.5 km²: 79.66 + 0.5
    p2 = json.loads(mine[created2["id"]].value)
    assert [float(a) for a in p2["billable_areas_km2"]] == [pytest.approx(79.66, abs=0.005), 0.5]
    assert float(p2["total_billable_km2"]) == pytest.approx(80.16, abs=0.005)
