"""The cart's part of the checkout saga on the real topics: FreezeCart / ReleaseCart / CloseCart."""
from __future__ import annotations

import asyncio
import uuid
from datetime import date
from decimal import Decimal

import asyncpg
import pytest

from shared.contracts.cart import CartFrozen, CloseCart, FreezeCart, ReleaseCart
from shared.grid import parse_code
from shared.vocabulary import StoredOrderItem
from tests.integration.cart.conftest import ALL_THREE, events_of, send_commands, square_wkt, types, upload_aoi

pytestmark = pytest.mark.integration

FULL_TILE = parse_code("33N-C0012-R0107").guid
MINITILE = parse_code("33N-C0013-R0107-M005").guid
CONFIG = {"model": "Stratus2", "constellations": ALL_THREE, "from": "2025-04-01", "to": "2025-04-30",
          "image_frequency": 3, "reference_date": "2025-01-01"}


async def cart_with_items(services, account: str) -> tuple[str, dict, dict]:
    cart = services["cart"]
    # two parts: 0.03° and 0.005° squares near the equator (about 11.1 km² and 0.31 km²)
    wkt = f"GEOMETRYCOLLECTION({square_wkt(20.0, 0.0, 0.03)},{square_wkt(20.1, 0.0, 0.005)})"
    aoi_id = (await upload_aoi(services, account, wkt))["id"]
    cid = (await cart.client.post("/v1/carts", headers=cart.auth(account))).json()["id"]
    poly = await cart.client.post(f"/v1/carts/{cid}/items", json={"aoi_id": aoi_id, **CONFIG},
                                  headers=cart.auth(account))
    grid = await cart.client.post(f"/v1/carts/{cid}/items",
                                  json={"tile_guids": [FULL_TILE], "minitile_guids": [MINITILE], **CONFIG,
                                        "tile_deduplication": True}, headers=cart.auth(account))
    assert poly.status_code == grid.status_code == 201, (poly.text, grid.text)
    return cid, poly.json(), grid.json()


def of_type(events, ce_type: str) -> list[dict]:
    return [body for t, body in events if t == ce_type]


async def test_freeze_snapshot_then_release_then_close(services, cart, unique):
    me = f"saga-{unique}"
    bootstrap = cart.env["KAFKA_BOOTSTRAP_SERVERS"]
    cid, poly, grid = await cart_with_items(services, me)
    k1, k2 = f"chk1-{unique}", f"chk2-{unique}"

    await send_commands(bootstrap, [FreezeCart(cart_id=cid, account_id=me, checkout_id=k1)])
    events = await events_of(bootstrap, cid, until=lambda evs: "cart.frozen.v1" in types(evs))
    frozen = CartFrozen.model_validate(of_type(events, "cart.frozen.v1")[0])
    assert (frozen.cart_id, frozen.account_id, frozen.checkout_id) == (cid, me, k1)
    by_id = {s.item_id: s for s in frozen.items}
    assert list(by_id) == [poly["id"], grid["id"]]
    p, g = by_id[poly["id"]], by_id[grid["id"]]
    assert p.mode == "polygon" and p.cells == []
    assert [(x.label, x.area_km2) for x in p.parts] == [(q["label"],
                                                         Decimal(q["area_km2"])) for q in poly["aoi"]["parts"]]
    assert [x.label for x in p.parts] == ["Polygon 1", "Polygon 2"]
    assert 11.0 < float(p.parts[0].area_km2) < 11.2 and 0.30 < float(p.parts[1].area_km2) < 0.32
    assert p.footprint["type"] == "GeometryCollection"
    assert g.mode == "grid" and g.parts == []
    assert [(c.guid, c.level, c.area_km2) for c in g.cells] == [
        (FULL_TILE, "tile", Decimal("2621.44")), (MINITILE, "minitile", Decimal("10.24"))]
    assert g.footprint["type"] in ("Polygon", "MultiPolygon")
    # the payload is self-contained: the shared order item, typed as such
    assert isinstance(p.item, StoredOrderItem) and p.item.aoi_id == poly["item"]["aoi_id"]
    assert g.item.tile_deduplication is True
    assert (p.item.from_, p.item.to, p.item.image_frequency) == (date(2025, 4, 1), date(2025, 4, 30), 3)

    # frozen: every change is refused with a 409 naming the checkout
    body = (await cart.client.get(f"/v1/carts/{cid}", headers=cart.auth(me))).json()
    assert (body["status"], body["checkout_id"]) == ("frozen", k1)
    for method, path, json in [("POST", f"/v1/carts/{cid}/items", {"tile_guids": [FULL_TILE], **CONFIG}),
                               ("PATCH", f"/v1/carts/{cid}/items/{poly['id']}", {"image_frequency": 2}),
                               ("DELETE", f"/v1/carts/{cid}/items/{poly['id']}", None)]:
        r = await cart.client.request(method, path, json=json, headers=cart.auth(me))
        assert r.status_code == 409, (method, r.text)
        assert (r.json()["code"], r.json()["checkout_id"]) == ("cart_frozen", k1)
        assert k1 in r.json()["detail"]

    # the same checkout again: CartFrozen again; another checkout: rejected
    await send_commands(bootstrap, [FreezeCart(cart_id=cid, account_id=me, checkout_id=k1),
                                    FreezeCart(cart_id=cid, account_id=me, checkout_id=k2)])
    events = await events_of(bootstrap, cid, until=lambda evs: "cart.freeze_rejected.v1" in types(evs))
    assert len(of_type(events, "cart.frozen.v1")) == 2
    assert of_type(events, "cart.frozen.v1")[1]["items"] == of_type(events, "cart.frozen.v1")[0]["items"]
    rejected = of_type(events, "cart.freeze_rejected.v1")[0]
    assert (rejected["checkout_id"], rejected["code"]) == (k2, "cart_frozen") and k1 in rejected["reason"]

    # release by k1: open again, editable
    await send_commands(bootstrap, [ReleaseCart(cart_id=cid, account_id=me, checkout_id=k1)])
    events = await events_of(bootstrap, cid, until=lambda evs: "cart.released.v1" in types(evs))
    assert of_type(events, "cart.released.v1")[0]["checkout_id"] == k1
    body = (await cart.client.get(f"/v1/carts/{cid}", headers=cart.auth(me))).json()
    assert (body["status"], body["checkout_id"]) == ("open", None)
    r = await cart.client.patch(f"/v1/carts/{cid}/items/{poly['id']}", json={"image_frequency": 2},
                                headers=cart.auth(me))
    assert r.status_code == 200

    # k2 freezes and closes it: checked out, refuses changes for good
    await send_commands(bootstrap, [FreezeCart(cart_id=cid, account_id=me, checkout_id=k2),
                                    CloseCart(cart_id=cid, account_id=me, checkout_id=k2),
                                    CloseCart(cart_id=cid, account_id=me, checkout_id=k2)])
    events = await events_of(bootstrap, cid, until=lambda evs: len(of_type(evs, "cart.checked_out.v1")) >= 2)
    tail = types(events)[-3:]
    assert tail == ["cart.frozen.v1", "cart.checked_out.v1", "cart.checked_out.v1"]
    assert of_type(events, "cart.frozen.v1")[-1]["items"][0]["item"]["image_frequency"] == 2
    body = (await cart.client.get(f"/v1/carts/{cid}", headers=cart.auth(me))).json()
    assert (body["status"], body["checkout_id"]) == ("checked_out", k2)
    r = await cart.client.delete(f"/v1/carts/{cid}/items/{poly['id']}", headers=cart.auth(me))
    assert r.status_code == 409 and r.json()["code"] == "cart_checked_out" and k2 in r.json()["detail"]

    # a checked-out cart cannot be frozen again
    await send_commands(bootstrap, [FreezeCart(cart_id=cid, account_id=me, checkout_id=f"chk3-{unique}")])
    events = await events_of(bootstrap, cid, until=lambda evs: len(of_type(evs, "cart.freeze_rejected.v1")) >= 2)
    assert of_type(events, "cart.freeze_rejected.v1")[-1]["code"] == "cart_closed"


async def test_freeze_refusals_empty_unknown_and_foreign(cart, unique):
    me = f"refuse-{unique}"
    bootstrap = cart.env["KAFKA_BOOTSTRAP_SERVERS"]
    empty = (await cart.client.post("/v1/carts", headers=cart.auth(me))).json()["id"]
    unknown = str(uuid.uuid4())
    await send_commands(bootstrap, [FreezeCart(cart_id=empty, account_id=me, checkout_id=f"e-{unique}"),
                                    FreezeCart(cart_id=empty, account_id=f"thief-{unique}", checkout_id=f"t-{unique}"),
                                    FreezeCart(cart_id=unknown, account_id=me, checkout_id=f"u-{unique}")])
    events = await events_of(bootstrap, empty, until=lambda evs: len(evs) >= 2)
    assert [(t, b["code"]) for t, b in events] == [("cart.freeze_rejected.v1", "cart_empty"),
                                                   ("cart.freeze_rejected.v1", "cart_not_found")]
    events = await events_of(bootstrap, unknown)
    assert [(t, b["code"]) for t, b in events] == [("cart.freeze_rejected.v1", "cart_not_found")]
    body = (await cart.client.get(f"/v1/carts/{empty}", headers=cart.auth(me))).json()
    assert body["status"] == "open"


async def test_a_redelivered_command_is_applied_once(services, cart, unique, database_url):
    me = f"redeliver-{unique}"
    bootstrap = cart.env["KAFKA_BOOTSTRAP_SERVERS"]
    cid, _, _ = await cart_with_items(services, me)
    freeze = FreezeCart(cart_id=cid, account_id=me, checkout_id=f"k-{unique}")
    ids = await send_commands(bootstrap, [freeze])
    await send_commands(bootstrap, [freeze, freeze], ids=[ids[0], ids[0]])
    release = ReleaseCart(cart_id=cid, account_id=me, checkout_id=f"k-{unique}")
    rid = await send_commands(bootstrap, [release])
    events = await events_of(bootstrap, cid, until=lambda evs: "cart.released.v1" in types(evs), settle=2.0)
    assert types(events)[-2:] == ["cart.frozen.v1", "cart.released.v1"]
    assert len(of_type(events, "cart.frozen.v1")) == 1
    conn = await asyncpg.connect(database_url)
    try:
        n = await conn.fetchval("SELECT count(*) FROM cart.inbox WHERE event_id = ANY($1::uuid[])", [ids[0], rid[0]])
    finally:
        await conn.close()
    assert n == 2


async def test_concurrent_adds_and_a_freeze_never_interleave(cart, unique):
    """Every add that succeeded is in the frozen snapshot; every other add was refused with 409."""
    me = f"race-{unique}"
    bootstrap = cart.env["KAFKA_BOOTSTRAP_SERVERS"]
    cid = (await cart.client.post("/v1/carts", headers=cart.auth(me))).json()["id"]
    first = await cart.client.post(f"/v1/carts/{cid}/items", json={"tile_guids": [FULL_TILE], **CONFIG},
                                   headers=cart.auth(me))
    assert first.status_code == 201

    async def add(i: int):
        await asyncio.sleep(i * 0.02)
        return await cart.client.post(f"/v1/carts/{cid}/items", json={"minitile_guids": [MINITILE], **CONFIG},
                                      headers=cart.auth(me))

    adds = asyncio.gather(*(add(i) for i in range(40)))
    await asyncio.sleep(0.2)
    await send_commands(bootstrap, [FreezeCart(cart_id=cid, account_id=me, checkout_id=f"k-{unique}")])
    responses = await adds
    assert {r.status_code for r in responses} <= {201, 409}
    added = {r.json()["id"] for r in responses if r.status_code == 201} | {first.json()["id"]}
    events = await events_of(bootstrap, cid, until=lambda evs: "cart.frozen.v1" in types(evs))
    snapshot = {s["item_id"] for s in of_type(events, "cart.frozen.v1")[0]["items"]}
    # the freeze was consumed while adds ran or after them: either way the snapshot is exactly what was added
    final = await cart.client.get(f"/v1/carts/{cid}", headers=cart.auth(me))
    assert snapshot == added == {i["id"] for i in final.json()["items"]}
    assert all(r.json()["code"] == "cart_frozen" for r in responses if r.status_code == 409)
