"""The cart over HTTP: CRUD, isolation, validation, Idempotency-Key, peers, live estimate."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from shared.grid import parse_code
from tests.integration.cart.conftest import ALL_THREE, events_of, square_wkt, types, upload_aoi

pytestmark = pytest.mark.integration

FULL_TILE = parse_code("33N-C0012-R0107").guid  # a whole tile: 51.2 km square = 2,621.44 km²
MINITILE = parse_code("33N-C0013-R0107-M005").guid  # a whole minitile: 3.2 km square = 10.24 km²


def worked(aoi_or_grid: dict) -> dict:
    """The worked example configuration (docs/domain.md, Pricing), in the public API's PascalCase."""
    return {**aoi_or_grid, "Model": "Stratus2", "SatelliteConstellations": ALL_THREE, "From": "2025-04-01",
            "To": "2025-04-30", "ImageFrequency": 3, "ReferenceDate": "2025-01-01"}


async def new_cart(cart, account: str, **headers) -> dict:
    r = await cart.client.post("/v1/carts", headers={**cart.auth(account), **headers})
    assert r.status_code == 201, r.text
    return r.json()


async def test_create_read_list_and_other_accounts_get_404(cart, unique):
    me, other = f"acct-{unique}", f"other-{unique}"
    created = await new_cart(cart, me)
    assert (created["account_id"], created["status"], created["items"], created["checkout_id"]) \
        == (me, "open", [], None)
    cid = created["id"]

    r = await cart.client.get(f"/v1/carts/{cid}", headers=cart.auth(me))
    assert r.status_code == 200
    body = r.json()
    assert body["items"] == [] and body["estimate"] is None
    assert "empty" in body["estimate_note"]

    listed = (await cart.client.get("/v1/carts", headers=cart.auth(me))).json()["carts"]
    assert [c["id"] for c in listed] == [cid]
    assert (await cart.client.get("/v1/carts", headers=cart.auth(other))).json()["carts"] == []

    for method, path, json in [("GET", f"/v1/carts/{cid}", None),
                               ("POST", f"/v1/carts/{cid}/items", worked({"tile_guids": [FULL_TILE]})),
                               ("PATCH", f"/v1/carts/{cid}/items/{uuid.uuid4()}", {"ImageFrequency": 2}),
                               ("DELETE", f"/v1/carts/{cid}/items/{uuid.uuid4()}", None)]:
        r = await cart.client.request(method, path, json=json, headers=cart.auth(other))
        assert r.status_code == 404, (method, r.text)
        assert r.json()["code"] == "not_found"
    assert (await cart.client.get("/v1/carts/not-a-uuid", headers=cart.auth(me))).status_code == 404
    assert (await cart.client.get(f"/v1/carts/{cid}")).status_code == 401


async def test_polygon_item_keeps_the_aoi_facts_and_the_live_estimate_prices_it(services, cart, unique):
    me = f"poly-{unique}"
    # 0.005° x 0.005° at the equator: about 0.5566 km x 0.5529 km = 0.308 km², under the 0.5 km² minimum
    aoi = await upload_aoi(services, me, square_wkt(10.0, 0.0, 0.005))
    aoi_id = aoi["id"]
    cid = (await new_cart(cart, me))["id"]

    r = await cart.client.post(f"/v1/carts/{cid}/items", json=worked({"aoi_id": aoi_id}), headers=cart.auth(me))
    assert r.status_code == 201, r.text
    item = r.json()
    assert r.headers["location"] == f"/v1/carts/{cid}/items/{item['id']}"
    assert item["mode"] == "polygon"
    assert item["item"] == {"aoi_id": aoi_id, "model": "Stratus2", "constellations": ALL_THREE, "from": "2025-04-01",
                            "to": "2025-04-30", "image_frequency": 3, "reference_date": "2025-01-01",
                            "storage_months": 1, "api_requests": 1, "tile_deduplication": False}
    [part] = item["aoi"]["parts"]
    assert (part["label"], part["index"], part["billable_km2"]) == ("Polygon 1", 1, "0.5")
    assert 0.30 < float(part["area_km2"]) < 0.32
    assert item["footprint"]["type"] == "GeometryCollection"

    # another account cannot add this AOI: the AOI service answers 404 to them
    theirs = (await new_cart(cart, f"other-{unique}"))["id"]
    r = await cart.client.post(f"/v1/carts/{theirs}/items", json=worked({"aoi_id": aoi_id}),
                               headers=cart.auth(f"other-{unique}"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "aoi_id"
    assert "not found" in r.json()["detail"]

    body = (await cart.client.get(f"/v1/carts/{cid}", headers=cart.auth(me))).json()
    assert body["estimate_note"] is None, body["estimate_note"]
    est = body["estimate"]
    # billed at the 0.5 km² minimum × 10 image dates (Apr 1, 4, ..., 28) = 5 km²·images × €0.20 = €1.00
    assert (est["total"], est["currency"]) == ("1.00", "EUR")
    assert est["quote_id"] and est["expires_at"]
    assert [d["dates"] for d in est["image_dates"]] == [[f"2025-04-{d:02d}" for d in range(1, 29, 3)]]
    assert {line["item"] for line in est["lines"]} == {item["id"]}
    assert body["items"][0]["estimate"] == {"total": "1.00", "due_at_checkout": "1.00", "currency": "EUR"}

    events = await events_of(cart.env["KAFKA_BOOTSTRAP_SERVERS"], cid)
    assert types(events) == ["cart.item_added.v1"]
    assert events[0][1]["item_id"] == item["id"] and events[0][1]["item"]["aoi_id"] == aoi_id


async def test_grid_item_is_resolved_by_tiling_and_priced(cart, unique):
    me = f"grid-{unique}"
    cid = (await new_cart(cart, me))["id"]
    r = await cart.client.post(f"/v1/carts/{cid}/items", json=worked({"TileGuids": [FULL_TILE]}),
                               headers=cart.auth(me))
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["mode"] == "grid" and item["item"]["tile_guids"] == [FULL_TILE]
    assert [(c["guid"], c["level"], c["area_km2"], c["code"]) for c in item["cells"]] == [
        (FULL_TILE, "tile", "2621.44", "33N-C0012-R0107")]
    assert item["footprint"]["type"] == "Polygon"

    r = await cart.client.post(f"/v1/carts/{cid}/items", json={**worked({"MiniTileGuids": [MINITILE]}),
                                                                "Model": "Nimbus",
                                                                "SatelliteConstellations": ["Sentinel2"]},
                               headers=cart.auth(me))
    assert r.status_code == 201, r.text
    mini = r.json()
    assert [(c["guid"], c["level"], c["area_km2"]) for c in mini["cells"]] == [(MINITILE, "minitile", "10.24")]

    body = (await cart.client.get(f"/v1/carts/{cid}", headers=cart.auth(me))).json()
    totals = {i["id"]: i["estimate"]["total"] for i in body["items"]}
    # One full tile on the worked dates: 26,214.4 km²·images at €0.20 × 0.20 = €0.04; the first €1,000
    # (25,000 km²·images) at tier 1, the other 1,214.4 at 65 % off = €0.014 -> €17.00; €1,017.00
    # (docs/domain.md, Pricing).
    assert totals[item["id"]] == "1017.00"
    # Nimbus minitile: 10.24 km² × 10 dates = 102.4 km²·images at €0.10 × 0.50 = €0.05 -> €5.12 (own family, tier 1)
    assert totals[mini["id"]] == "5.12"
    assert body["estimate"]["total"] == "1022.12"


async def test_bad_configuration_is_a_422_naming_the_field(services, cart, unique):
    me = f"bad-{unique}"
    aoi_id = (await upload_aoi(services, me, square_wkt(10.0, 1.0, 0.02)))["id"]
    cid = (await new_cart(cart, me))["id"]
    cases = [
        (worked({"aoi_id": aoi_id}) | {"ImageFrequency": 9}, "ImageFrequency", "between 1"),
        (worked({"aoi_id": aoi_id}) | {"SatelliteConstellations": ["Sentinel1", "Sentinel2"]},
         "SatelliteConstellations", "requires Landsat89"),
        (worked({"aoi_id": aoi_id}) | {"To": "2025-03-31"}, "To", "before"),
        (worked({"aoi_id": aoi_id}) | {"From": "2025-04-02"}, "From", "1st of a month"),
        ({k: v for k, v in worked({"aoi_id": aoi_id}).items() if k != "Model"}, "model", "required"),
        (worked({"aoi_id": aoi_id}) | {"storage_months": 0}, "storage_months", "at least 1"),
        (worked({"aoi_id": aoi_id, "tile_guids": [FULL_TILE]}), "body", "not both"),
        (worked({"wkt": "POLYGON((0 0,1 0,1 1,0 0))"}), "body", "estimates only"),
        (worked({"aoi_id": f"missing-{unique}"}), "aoi_id", "not found"),
        (worked({"tile_guids": [str(uuid.uuid4())]}), "tile_guids.0", ""),
    ]
    for payload, field, words in cases:
        r = await cart.client.post(f"/v1/carts/{cid}/items", json=payload, headers=cart.auth(me))
        assert r.status_code == 422, (field, r.text)
        problem = r.json()
        assert r.headers["content-type"].startswith("application/problem+json")
        assert problem["errors"][0]["field"] == field, (field, problem)
        assert words in problem["detail"], (words, problem["detail"])
    body = (await cart.client.get(f"/v1/carts/{cid}", headers=cart.auth(me))).json()
    assert body["items"] == []


async def test_patch_and_delete_items_emit_events(services, cart, unique):
    me = f"edit-{unique}"
    aoi_id = (await upload_aoi(services, me, square_wkt(10.0, 2.0, 0.02)))["id"]
    cid = (await new_cart(cart, me))["id"]
    item = (await cart.client.post(f"/v1/carts/{cid}/items", json=worked({"aoi_id": aoi_id}),
                                   headers=cart.auth(me))).json()

    r = await cart.client.patch(f"/v1/carts/{cid}/items/{item['id']}", json={"ImageFrequency": 1, "To": None},
                                headers=cart.auth(me))
    assert r.status_code == 200, r.text
    patched = r.json()
    assert (patched["item"]["image_frequency"], patched["item"]["to"]) == (1, None)
    assert patched["aoi"] == item["aoi"]
    assert patched["updated_at"] > item["updated_at"]

    r = await cart.client.patch(f"/v1/carts/{cid}/items/{item['id']}", json={"image_frequency": 0},
                                headers=cart.auth(me))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "image_frequency"

    # switching the item to a grid selection reads its cells
    r = await cart.client.patch(f"/v1/carts/{cid}/items/{item['id']}", json={"aoi_id": None, "tile_guids": [FULL_TILE]},
                                headers=cart.auth(me))
    assert r.status_code == 200, r.text
    assert r.json()["mode"] == "grid" and r.json()["cells"][0]["guid"] == FULL_TILE

    assert (await cart.client.delete(f"/v1/carts/{cid}/items/{item['id']}", headers=cart.auth(me))).status_code == 204
    assert (await cart.client.delete(f"/v1/carts/{cid}/items/{item['id']}", headers=cart.auth(me))).status_code == 404
    assert (await cart.client.get(f"/v1/carts/{cid}", headers=cart.auth(me))).json()["items"] == []

    events = await events_of(cart.env["KAFKA_BOOTSTRAP_SERVERS"], cid, until=lambda evs: len(evs) >= 4)
    assert types(events) == ["cart.item_added.v1", "cart.item_updated.v1", "cart.item_updated.v1",
                             "cart.item_removed.v1"]
    assert events[1][1]["item"]["image_frequency"] == 1
    assert events[2][1]["item"]["tile_guids"] == [FULL_TILE]
    assert {e[1]["item_id"] for e in events} == {item["id"]}


async def test_idempotency_key_replays_and_refuses_a_different_body(services, cart, unique):
    me, other = f"idem-{unique}", f"idem2-{unique}"
    aoi_id = (await upload_aoi(services, me, square_wkt(10.0, 3.0, 0.02)))["id"]
    key = f"k-{unique}"

    first = await cart.client.post("/v1/carts", headers={**cart.auth(me), "Idempotency-Key": key})
    again = await cart.client.post("/v1/carts", headers={**cart.auth(me), "Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    cid = first.json()["id"]
    # the same key is another account's own key
    theirs = await cart.client.post("/v1/carts", headers={**cart.auth(other), "Idempotency-Key": key})
    assert theirs.status_code == 201 and theirs.json()["id"] != cid

    item_key = f"item-{unique}"
    payload = worked({"aoi_id": aoi_id})
    responses = await asyncio.gather(*(
        cart.client.post(f"/v1/carts/{cid}/items", json=payload, headers={**cart.auth(me), "Idempotency-Key": item_key})
        for _ in range(5)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    items = (await cart.client.get(f"/v1/carts/{cid}", headers=cart.auth(me))).json()["items"]
    assert len(items) == 1

    r = await cart.client.post(f"/v1/carts/{cid}/items", json=payload | {"ImageFrequency": 2},
                               headers={**cart.auth(me), "Idempotency-Key": item_key})
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"

    item_id = items[0]["id"]
    delete_key = f"del-{unique}"
    d1 = await cart.client.delete(f"/v1/carts/{cid}/items/{item_id}",
                                  headers={**cart.auth(me), "Idempotency-Key": delete_key})
    d2 = await cart.client.delete(f"/v1/carts/{cid}/items/{item_id}",
                                  headers={**cart.auth(me), "Idempotency-Key": delete_key})
    assert (d1.status_code, d2.status_code) == (204, 204)
    # a refused request does not use up its key
    bad_key = f"bad-{unique}"
    r = await cart.client.post(f"/v1/carts/{cid}/items", json=payload | {"ImageFrequency": 0},
                               headers={**cart.auth(me), "Idempotency-Key": bad_key})
    assert r.status_code == 422
    r = await cart.client.post(f"/v1/carts/{cid}/items", json=payload,
                               headers={**cart.auth(me), "Idempotency-Key": bad_key})
    assert r.status_code == 201
    events = await events_of(cart.env["KAFKA_BOOTSTRAP_SERVERS"], cid, until=lambda evs: len(evs) >= 3, settle=1.0)
    assert types(events) == ["cart.item_added.v1", "cart.item_removed.v1", "cart.item_added.v1"]


async def test_an_unavailable_peer_is_a_503_and_nothing_changes(services, cart, unique):
    me = f"down-{unique}"
    aoi_id = (await upload_aoi(services, me, square_wkt(10.0, 4.0, 0.02)))["id"]
    cid = (await new_cart(cart, me))["id"]
    services["aoi"].kill()
    try:
        r = await cart.client.post(f"/v1/carts/{cid}/items", json=worked({"aoi_id": aoi_id}), headers=cart.auth(me))
    finally:
        await services["aoi"].restart()
    assert r.status_code == 503 and r.json()["code"] == "aoi_service_unavailable"
    assert "nothing was changed" in r.json()["detail"]
    services["tiling"].kill()
    try:
        r = await cart.client.post(f"/v1/carts/{cid}/items", json=worked({"tile_guids": [FULL_TILE]}),
                                   headers=cart.auth(me))
    finally:
        await services["tiling"].restart()
    assert r.status_code == 503 and r.json()["code"] == "tiling_service_unavailable"
    assert (await cart.client.get(f"/v1/carts/{cid}", headers=cart.auth(me))).json()["items"] == []
    # back up: the same add works
    r = await cart.client.post(f"/v1/carts/{cid}/items", json=worked({"aoi_id": aoi_id}), headers=cart.auth(me))
    assert r.status_code == 201, r.text


async def test_without_pricing_the_cart_shows_a_note_instead_of_the_estimate(services, unique):
    cart, pricing = services["cart"], services["pricing"]
    me = f"nopricing-{unique}"
    cid = (await new_cart(cart, me))["id"]
    r = await cart.client.post(f"/v1/carts/{cid}/items", json=worked({"tile_guids": [FULL_TILE]}),
                               headers=cart.auth(me))
    assert r.status_code == 201
    pricing.kill()
    try:
        r = await cart.client.get(f"/v1/carts/{cid}", headers=cart.auth(me))
        assert r.status_code == 200
        body = r.json()
        assert body["estimate"] is None
        assert "Pricing is unavailable" in body["estimate_note"]
        assert len(body["items"]) == 1 and "estimate" not in body["items"][0]
    finally:
        await pricing.restart()
    body = (await cart.client.get(f"/v1/carts/{cid}", headers=cart.auth(me))).json()
    assert body["estimate"]["total"] == "1017.00" and body["estimate_note"] is None


async def test_a_grid_item_keeps_the_selection_as_tiling_normalised_it(cart, unique):
    me = f"fold-{unique}"
    cid = (await new_cart(cart, me))["id"]
    inside = parse_code("33N-C0012-R0107-M005").guid  # a minitile of FULL_TILE
    r = await cart.client.post(f"/v1/carts/{cid}/items",
                               json=worked({"tile_guids": [FULL_TILE], "minitile_guids": [inside]}),
                               headers=cart.auth(me))
    assert r.status_code == 201, r.text
    item = r.json()
    # the minitile is part of the selected tile: kept once, as the tile, with tiling's warning
    assert [(c["guid"], c["level"]) for c in item["cells"]] == [(FULL_TILE, "tile")]
    assert item["item"]["tile_guids"] == [FULL_TILE] and "minitile_guids" not in item["item"]
    assert item["warnings"], item
    body = (await cart.client.get(f"/v1/carts/{cid}", headers=cart.auth(me))).json()
    assert body["estimate"]["total"] == "1017.00"  # the tile alone (worked example), not tile + minitile
